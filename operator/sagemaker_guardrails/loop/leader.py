"""Leader election over a ``coordination.k8s.io/v1`` Lease, the way client-go does it.

With several replicas, exactly one reconciles; the others keep their watch caches warm and take
over when the leader's Lease is not renewed for ``lease_duration`` seconds. Expiry is judged by
this process's own clock from the moment it last saw the Lease *change* (never by comparing the
holder's timestamps with ours), so clock skew between nodes cannot shorten a Lease.

A leader that cannot renew within ``renew_deadline`` (shorter than the Lease) has lost it; the
callback it was given then stops the process, like controller-runtime does: a pass in flight is
cut short as by a crash, which the write-ahead record in status makes safe, and a restarted
replica comes back as a standby. On a clean stop the leader releases the Lease at once.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["LeaderElector"]

log = logging.getLogger(__name__)


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Acquires and renews one Lease in a daemon thread; :attr:`leading` tells who leads."""

    def __init__(
        self,
        api_client: Any,
        *,
        namespace: str,
        name: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_lost: Callable[[], None],
        identity: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from kubernetes import client

        if not retry_period < renew_deadline < lease_duration:
            raise ValueError("leader election needs retry_period < renew_deadline < lease_duration")
        self._api: Any = client.CoordinationV1Api(api_client)
        self.namespace = namespace
        self.name = name
        self.identity = identity or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
        self._duration = lease_duration
        self._renew_deadline = renew_deadline
        self._retry = retry_period
        self._on_lost = on_lost
        self._clock = clock
        self.leading = threading.Event()
        self._stop = threading.Event()
        self._observed: tuple[str, str] | None = None  # (holder, renewTime) last seen
        self._observed_at = 0.0
        self._renewed_at = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops renewing and, when leading, releases the Lease so a standby takes over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._retry + 5)
        if self.leading.is_set():
            self.leading.clear()
            try:
                self._release()
            except Exception as exc:
                log.warning("could not release the Lease %s/%s: %s", self.namespace, self.name, exc)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the loop -------------------------------------------------------------------------------

    def _run(self) -> None:
        log.info("leader election: %s wants Lease %s/%s", self.identity, self.namespace, self.name)
        while not self._stop.is_set():
            try:
                acquired = self._try_acquire_or_renew()
            except Exception as exc:
                acquired = False
                log.warning("leader election: Lease %s/%s not renewed: %s", self.namespace, self.name, exc)
            now = self._clock()
            if acquired:
                self._renewed_at = now
                if not self.leading.is_set():
                    log.info("leader election: %s leads", self.identity)
                    self.leading.set()
            elif self.leading.is_set() and now - self._renewed_at > self._renew_deadline:
                log.error("leader election: %s lost the Lease; stopping", self.identity)
                self.leading.clear()
                self._on_lost()
                return
            self._stop.wait(self._retry)

    def _try_acquire_or_renew(self) -> bool:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        now = self._clock()
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace, _request_timeout=(5, 10))
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=self._spec(transitions=0, acquired=True),
            )
            try:
                self._api.create_namespaced_lease(self.namespace, body, _request_timeout=(5, 10))
            except ApiException as create_exc:
                if create_exc.status == 409:
                    return False  # someone else created it first
                raise
            return True
        spec = lease.spec
        holder = spec.holder_identity or ""
        renew = str(spec.renew_time or "")
        if self._observed != (holder, renew):
            self._observed = (holder, renew)
            self._observed_at = now
        duration = float(spec.lease_duration_seconds or self._duration)
        if holder and holder != self.identity and now - self._observed_at < duration:
            return False
        transitions = int(spec.lease_transitions or 0) + (0 if holder == self.identity else 1)
        lease.spec = self._spec(transitions=transitions, acquired=holder != self.identity, previous=spec)
        self._api.replace_namespaced_lease(self.name, self.namespace, lease, _request_timeout=(5, 10))
        return True

    def _spec(self, *, transitions: int, acquired: bool, previous: Any = None) -> Any:
        from kubernetes import client

        now = _now_micro()
        return client.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=round(self._duration),
            acquire_time=now if acquired or previous is None else previous.acquire_time,
            renew_time=now,
            lease_transitions=transitions,
        )

    def _release(self) -> None:
        lease = self._api.read_namespaced_lease(self.name, self.namespace, _request_timeout=(5, 10))
        if lease.spec.holder_identity != self.identity:
            return
        lease.spec.holder_identity = ""
        lease.spec.lease_duration_seconds = 1
        lease.spec.renew_time = _now_micro()
        self._api.replace_namespaced_lease(self.name, self.namespace, lease, _request_timeout=(5, 10))
        log.info("leader election: %s released the Lease", self.identity)
