"""The reconcile loop the operator owns: a cache, a work queue, worker threads, confirmed writes.

Shape (controller-runtime's): watch events only *enqueue* keys; workers take due keys from the
:class:`~sagemaker_guardrails.loop.queue.WorkQueue` and run one pass per key at a time; every
pass ends by giving its key back with the time it is due next. Nothing can take a key out of
the queue except the object's disappearance from the API server: an API error, a timeout, a
refused write or an exception in our own code all requeue the key with capped exponential
backoff, log it and count it.

One pass (:meth:`Controller.process`):

1. **read** the object: the watch cache, which also holds the object as returned by this
   process's own last confirmed write (a watch event older than that is ignored), or a GET.
2. **finalizer**: a live object without our finalizer gets it (and loses annotations an earlier
   version of the operator kept) before anything is created in SageMaker.
3. **pass**: ``reconcile`` (or ``finalize`` when deleting) runs with the *stored* status as its
   memory, never a status this process only meant to write.
4. **write** the complete new status as a merge patch computed from the stored status and
   fenced by ``metadata.resourceVersion``. Only when the API server has accepted it do Events,
   metric transitions and the phase gauge follow. A write-ahead record of a mutating SageMaker
   call is therefore acted on only by a pass that read it back from the API server.
5. **requeue** after the pass's own delay (a poll), or the key's backoff after a failure.

Liveness (:meth:`Controller.health`) is progress: unhealthy when, while leading, keys have been
overdue for ``liveness_stall_factor`` active polls and no pass finished in that time, when a
single pass runs longer than ``pass_timeout_seconds``, or when a worker thread died.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any

from sagemaker_guardrails.api import GROUP
from sagemaker_guardrails.api.status import stored_retry_token
from sagemaker_guardrails.loop.kube import Kube, KubeError
from sagemaker_guardrails.loop.queue import ACTIVE, ROUTINE, URGENT, WorkQueue
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.reconciler import Deps, Outcome, Resource
from sagemaker_guardrails.settings import Settings

__all__ = ["FINALIZER", "LEGACY_ANNOTATIONS", "RETRY_ANNOTATION", "Controller", "PassFn", "merge_patch"]

log = logging.getLogger(__name__)

PassFn = Callable[[Resource, Deps, datetime], Outcome]
RETRY_ANNOTATION = f"{GROUP}/retry"
FINALIZER = f"{GROUP}/finalizer"
# Annotations and the status key that kopf's change handlers kept on every object up to 0.1.0;
# the first pass removes them (the spec copy alone could outgrow the annotation limit).
LEGACY_ANNOTATIONS = tuple(
    f"{GROUP}/{name}"
    for name in (
        "last-handled-configuration",
        "on-resume",
        "on-create",
        "on-update",
        "on-retry-annotation",
        "on-delete",
        "poll",
    )
)
LEGACY_STATUS_KEY = "kopf"
_CONFLICT_RETRY_SECONDS = 0.2


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The RFC 7386 merge patch that turns ``old`` into ``new`` (``{}`` when they are equal)."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = value
    return patch


def key_of(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def _rv(body: Mapping[str, Any] | None) -> int | None:
    value: Any = ((body or {}).get("metadata") or {}).get("resourceVersion")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _older(candidate: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """Whether ``candidate`` is an older version of the same object than ``current``.

    resourceVersions are compared as numbers (etcd's revisions, what every API server in use
    hands out); an unparseable one is never considered older.
    """
    if current is None:
        return False
    same = (candidate.get("metadata") or {}).get("uid") == (current.get("metadata") or {}).get("uid")
    a, b = _rv(candidate), _rv(current)
    return same and a is not None and b is not None and a < b


def _trigger(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether a watch event asks for a pass now (a status-only change, our own write, does not)."""
    if old is None:
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    return (
        om.get("uid") != nm.get("uid")
        or om.get("generation") != nm.get("generation")
        or (om.get("annotations") or {}).get(RETRY_ANNOTATION)
        != (nm.get("annotations") or {}).get(RETRY_ANNOTATION)
        or bool(om.get("deletionTimestamp")) != bool(nm.get("deletionTimestamp"))
        or (FINALIZER in (om.get("finalizers") or [])) != (FINALIZER in (nm.get("finalizers") or []))
    )


# Phases in which SageMaker is working on something the status follows (the active poll).
_ACTIVE_PHASES = frozenset({"Pending", "Creating", "Deploying", "Baking", "Waiting", "Deleting"})


def priority_of(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> int:
    """How urgently the pass a watch or list event asks for is due (see the queue's priorities).

    URGENT is work someone asked for and this process has not done yet: a change the watch saw,
    or, for an object seen for the first time (a list after a restart), what its stored status
    says is still to do: a generation it has not observed, a deletion, a recorded intent, a retry
    value newer than the last rollback. ACTIVE is a deployment in flight; everything else is a
    routine poll that may wait behind them.
    """
    if old is not None and _trigger(old, new):
        return URGENT
    meta = new.get("metadata") or {}
    status = new.get("status") or {}
    rollback = status.get("lastRollback") or {}
    retry = (meta.get("annotations") or {}).get(RETRY_ANNOTATION)
    if (
        meta.get("deletionTimestamp")
        or FINALIZER not in (meta.get("finalizers") or [])
        or status.get("observedGeneration") != meta.get("generation")
        or status.get("pending")
        or (rollback and retry is not None and stored_retry_token(retry) != rollback.get("retryToken"))
    ):
        return URGENT
    if status.get("phase") in _ACTIVE_PHASES:
        return ACTIVE
    return ROUTINE


def resource_of(body: Mapping[str, Any]) -> Resource:
    meta = body.get("metadata") or {}
    status = {k: v for k, v in (body.get("status") or {}).items() if k != LEGACY_STATUS_KEY}
    return Resource(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        generation=int(meta.get("generation") or 0),
        spec=dict(body.get("spec") or {}),
        status=status,
        annotations=dict(meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
    )


def _message(outcome: Outcome) -> str:
    """The Reconciling (else Ready) message of a pass's status: what it is waiting for."""
    items = outcome.status.get("conditions") or []
    for kind in ("Reconciling", "Ready"):
        for item in items:
            if item.get("type") == kind and item.get("message"):
                return str(item["message"])
    return "in progress."


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str


class Controller:
    """See the module docstring. Thread-safe; :meth:`observe` is what the watch calls."""

    def __init__(
        self,
        *,
        kube: Kube,
        settings: Settings,
        deps: Deps,
        metrics: Metrics,
        reconcile: PassFn,
        finalize: PassFn,
        leading: threading.Event | None = None,
        elector_alive: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.deps = deps
        self.metrics = metrics
        self.reconcile = reconcile
        self.finalize = finalize
        self.clock = clock
        self.wall = wall
        self.queue = WorkQueue(clock=clock)
        if leading is None:
            leading = threading.Event()
            leading.set()
        self.leading = leading
        self._elector_alive = elector_alive
        self.synced = threading.Event()
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()
        self._passed: dict[str, tuple[str, float]] = {}  # key -> (phase, when its status was last confirmed)
        self._running: dict[str, float] = {}  # key -> when its pass started
        self._stats_lock = threading.Lock()
        self._last_finished = clock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        metrics.watch_loop(self)

    # -- the watch side -------------------------------------------------------------------------

    def observe(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """A watch event (or a listed object): cache it; enqueue the key when it asks for a pass."""
        key = key_of(body)
        if event_type == "DELETED":
            self._drop(key, str((body.get("metadata") or {}).get("uid") or ""))
            return
        with self._cache_lock:
            old = self._cache.get(key)
            if _older(body, old):
                return
            self._cache[key] = dict(body)
        if _trigger(old, body) or key not in self.queue:
            self.queue.add(key, priority=priority_of(old, body))

    def _remember(self, body: Mapping[str, Any]) -> None:
        """Cache an object the API server returned to one of our writes (unless the watch is ahead)."""
        key = key_of(body)
        with self._cache_lock:
            if not _older(body, self._cache.get(key)):
                self._cache[key] = dict(body)

    def _drop(self, key: str, uid: str = "") -> None:
        with self._cache_lock:
            body = self._cache.pop(key, None)
        uid = uid or str(((body or {}).get("metadata") or {}).get("uid") or "")
        self.queue.forget(key)
        with self._stats_lock:
            self._passed.pop(key, None)
        if uid:
            self.metrics.set_phase(uid, None)

    def cached(self, key: str) -> dict[str, Any] | None:
        with self._cache_lock:
            return self._cache.get(key)

    def resync(self) -> int:
        """List every object: cache and enqueue the unknown ones, check the ones the list lacks."""
        items = self.kube.list(self._list_namespaces())
        items = [item for item in items if self._watched((item.get("metadata") or {}).get("namespace"))]
        listed = {key_of(item) for item in items}
        for item in items:
            self.observe(None, item)
        with self._cache_lock:
            missing = [key for key in self._cache if key not in listed]
        for key in missing:
            self.queue.add(key, priority=URGENT)  # its pass finds it gone (or back) and says so
        self.synced.set()
        return len(items)

    def _list_namespaces(self) -> list[str]:
        names = list(self.settings.watch_namespaces)
        if any(any(c in name for c in "*?[!") for name in names):
            return []
        return names

    def _watched(self, namespace: Any) -> bool:
        patterns = self.settings.watch_namespaces
        return not patterns or any(fnmatch(str(namespace), p) for p in patterns)

    # -- one pass -------------------------------------------------------------------------------

    def process(self, key: str) -> float | None:
        """One pass over ``key``; the seconds until it is due again, or None when it is gone."""
        body = self.cached(key)
        if body is None:
            namespace, _, name = key.partition("/")
            try:
                body = self.kube.get(namespace, name)
            except KubeError as exc:
                self._count_failure("get", exc)
                raise
            if body is None:
                return None
            self._remember(body)
        meta = body.get("metadata") or {}
        finalizers = list(meta.get("finalizers") or [])
        if meta.get("deletionTimestamp"):
            if FINALIZER not in finalizers:
                return None
            return self._finalize(key, body, finalizers)
        body = self._prepare(key, body, finalizers)
        return self._delay(key, self._run(key, body, self.reconcile))

    def _prepare(self, key: str, body: dict[str, Any], finalizers: list[str]) -> dict[str, Any]:
        """Our finalizer on, legacy annotations off: one metadata patch, fenced, when needed."""
        meta = body.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        stale = [name for name in LEGACY_ANNOTATIONS if name in annotations]
        if FINALIZER in finalizers and not stale:
            return body
        patch: dict[str, Any] = {"resourceVersion": meta.get("resourceVersion")}
        if FINALIZER not in finalizers:
            patch["finalizers"] = [*finalizers, FINALIZER]
        if stale:
            patch["annotations"] = dict.fromkeys(stale)
        namespace, _, name = key.partition("/")
        stored = self._write(key, "metadata", lambda: self.kube.patch(namespace, name, {"metadata": patch}))
        return stored

    def _finalize(self, key: str, body: dict[str, Any], finalizers: list[str]) -> float | None:
        outcome = self._run(key, body, self.finalize)
        if outcome.finished and outcome.error is None:  # the finalizer may go
            current = self.cached(key) or body
            meta = current.get("metadata") or {}
            remaining = [f for f in (meta.get("finalizers") or finalizers) if f != FINALIZER]
            namespace, _, name = key.partition("/")
            patch = {"metadata": {"finalizers": remaining, "resourceVersion": meta.get("resourceVersion")}}
            self._write(key, "finalizer", lambda: self.kube.patch(namespace, name, patch))
            log.info("%s: finalized; finalizer removed", key)
            return None
        if not outcome.finished:
            delay = outcome.requeue_after or self.settings.active_poll_seconds
            if outcome.error is None:  # ordinary progress (a busy or deleting endpoint), not an error
                log.info("%s: deletion waiting: %s Looking again in %.0f s.", key, _message(outcome), delay)
            else:
                self._log_error(key, outcome)
            return delay
        return self._delay(key, outcome)

    def _run(self, key: str, body: dict[str, Any], run: PassFn) -> Outcome:
        """Run one pass and write its status; returns the outcome once the write is confirmed."""
        resource = resource_of(body)
        started = self.clock()
        try:
            outcome = run(resource, self.deps, self.wall())
        except Exception:
            self.metrics.record_reconcile("error", self.clock() - started)
            raise
        self.metrics.record_reconcile(outcome.result, self.clock() - started)
        stored = body.get("status") or {}
        changes = merge_patch(stored, outcome.status)
        if changes:
            namespace, _, name = key.partition("/")
            patch = {"metadata": {"resourceVersion": (body.get("metadata") or {}).get("resourceVersion")}}
            patch["status"] = changes
            self._write(key, "status", lambda: self.kube.patch_status(namespace, name, patch))
        self._confirmed(key, body, outcome)
        return outcome

    def _delay(self, key: str, outcome: Outcome) -> float:
        """Seconds until the next pass: the pass's own requeue time, else a settled poll."""
        self._log_error(key, outcome)
        if outcome.requeue_after is not None:
            return outcome.requeue_after
        return self.deps.jittered(self.settings.settled_poll_seconds)

    @staticmethod
    def _log_error(key: str, outcome: Outcome) -> None:
        if outcome.error is not None:
            log.warning("%s: pass ended with %s: %s", key, type(outcome.error).__name__, outcome.error)

    def _write(self, key: str, what: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """One write; the stored object it returns goes into the cache. Failures are counted here
        and raised for :meth:`_work` to requeue."""
        try:
            stored = call()
        except KubeError as exc:
            self._count_failure(what, exc)
            # Whether it landed is unknown (a lost response) or the object moved on (a conflict):
            # the next pass reads the stored object instead of the cache.
            with self._cache_lock:
                self._cache.pop(key, None)
            raise
        self._remember(stored)
        return stored

    def _count_failure(self, request: str, exc: KubeError) -> None:
        if request == "status":
            self.metrics.status_write_failed(exc.reason)
        else:
            self.metrics.kube_request_failed(request, exc.reason)

    def _confirmed(self, key: str, body: Mapping[str, Any], outcome: Outcome) -> None:
        """What follows a status the API server holds: Events, metrics, the phase gauge."""
        uid = str((body.get("metadata") or {}).get("uid") or "")
        where = str((body.get("metadata") or {}).get("namespace") or "")
        phase = str(outcome.status.get("phase") or "")
        if self.cached(key) is not None:  # not dropped by a DELETED event meanwhile
            with self._stats_lock:
                self._passed[key] = (phase, self.clock())
            self.metrics.set_phase(uid, phase or None, namespace=where)
        for event in outcome.events:
            try:
                self.kube.post_event(body, event.type, event.reason, event.message)
            except KubeError as exc:
                self.metrics.kube_request_failed("event", exc.reason)
                log.warning("%s: Event %s not posted (%s): %s", key, event.reason, exc.reason, exc)
        for transition in outcome.transitions:
            if transition.kind == "DeploymentStarted":
                self.metrics.deployment_started(transition.strategy, namespace=where)
            elif transition.kind == "DeploymentFinished" and transition.outcome:
                self.metrics.deployment_finished(
                    transition.strategy, transition.outcome, transition.duration_seconds, namespace=where
                )

    # -- workers --------------------------------------------------------------------------------

    def work_once(self, key: str) -> float | None:
        """Run one pass over a key already taken from the queue and give it back (workers and
        tests call this); returns the delay it was requeued with, None when forgotten."""
        with self._stats_lock:
            self._running[key] = self.clock()
        delay: float | None
        priority = ACTIVE  # a retry after a failure
        try:
            delay = self.process(key)
            body = self.cached(key)
            if body is not None:
                priority = priority_of(None, body)
        except KubeError as exc:
            delay = self._failed(key, exc, f"Kubernetes API {exc.reason}")
        except Exception as exc:
            log.exception("%s: pass failed with an unexpected error; retrying", key, exc_info=exc)
            self.metrics.pass_failed(type(exc).__name__)
            delay = self.queue.backoff(
                key, self.settings.error_backoff_base_seconds, self.settings.error_backoff_max_seconds
            )
        else:
            self.queue.succeeded(key)
        finally:
            with self._stats_lock:
                self._running.pop(key, None)
            self._last_finished = self.clock()
        if delay is None:
            self._drop(key)
        self.queue.done(key, 0.0 if delay is None else delay, priority)
        return delay

    def _failed(self, key: str, exc: KubeError, what: str) -> float | None:
        if exc.status == 404:
            return None
        if exc.reason == "Conflict" or exc.status == 409:
            # The object changed since it was read: read it again and redo the pass from there.
            namespace, _, name = key.partition("/")
            try:
                fresh = self.kube.get(namespace, name)
            except KubeError:
                fresh = None
            if fresh is not None:
                self._remember(fresh)
        # Never longer apart than one active poll: once the API server takes writes again, status
        # catches up with SageMaker within one poll.
        cap = min(self.settings.error_backoff_max_seconds, self.settings.active_poll_seconds)
        delay = self.queue.backoff(key, self.settings.error_backoff_base_seconds, cap)
        if exc.reason == "Conflict":
            delay = min(delay, _CONFLICT_RETRY_SECONDS * self.queue.failures(key))
        # A conflict is optimistic concurrency doing its job (the object moved on): not a warning.
        level = logging.INFO if exc.reason == "Conflict" else logging.WARNING
        log.log(level, "%s: write refused or failed (%s): %s; retrying in %.1f s", key, what, exc, delay)
        return delay

    def _worker(self) -> None:
        # A leader's idle worker sleeps in the queue until a key is due (or the queue shuts down):
        # nothing wakes it between polls. A standby looks for leadership once a second.
        while not self._stop.is_set():
            if not self.leading.wait(timeout=1.0):
                continue
            key = self.queue.get()
            if key is None:
                continue
            if not self.leading.is_set():
                self.queue.done(key, 0.0)
                continue
            self.work_once(key)

    def start(self, workers: int | None = None) -> None:
        count = workers or self.settings.max_workers
        for index in range(count):
            thread = threading.Thread(target=self._worker, name=f"reconcile-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        resync = threading.Thread(target=self._resync_loop, name="resync", daemon=True)
        resync.start()
        self._threads.append(resync)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.queue.shutdown()
        deadline = self.clock() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - self.clock()))

    def _resync_loop(self) -> None:
        """The first list (retried until it works: the CRD may still be initialising), then one
        every ``resync_seconds`` as a safety net under the watch."""
        failures = 0
        while not self._stop.is_set():
            try:
                count = self.resync()
            except Exception as exc:
                failures += 1
                delay = min(self.settings.error_backoff_max_seconds, 2.0 ** min(failures - 1, 5))
                log.warning("listing GuardedEndpoints failed (%s); retrying in %.0f s", exc, delay)
                self.metrics.kube_request_failed("list", getattr(exc, "reason", type(exc).__name__))
                self._stop.wait(delay)
                continue
            if failures or not self.synced.is_set():
                log.info("listed %d GuardedEndpoints", count)
            failures = 0
            self._stop.wait(self.settings.resync_seconds)

    # -- health and figures ---------------------------------------------------------------------

    def health(self) -> Health:
        dead = [t.name for t in self._threads if not t.is_alive()]
        if dead and not self._stop.is_set():
            return Health(False, f"threads died: {', '.join(dead)}")
        if self._elector_alive is not None and not self._elector_alive() and not self._stop.is_set():
            return Health(False, "the leader election thread died")
        if not self.leading.is_set():
            return Health(True, "standing by (not the leader)")
        now = self.clock()
        limit = self.settings.liveness_stall_factor * self.settings.active_poll_seconds
        stats = self.queue.stats()
        idle = now - self._last_finished
        if stats.oldest_overdue_seconds > limit and idle > limit:
            return Health(
                False,
                f"no pass finished for {idle:.0f} s while {stats.due} keys are overdue "
                f"(the oldest by {stats.oldest_overdue_seconds:.0f} s)",
            )
        with self._stats_lock:
            running = sorted(self._running.items(), key=lambda item: item[1])
        if running and now - running[0][1] > self.settings.pass_timeout_seconds:
            key, since = running[0]
            return Health(False, f"the pass of {key} has run for {now - since:.0f} s")
        return Health(True, f"{stats.keys} keys, {stats.due} due, {stats.processing} in progress")

    def ready(self) -> Health:
        if not self.synced.is_set():
            return Health(False, "GuardedEndpoints not listed yet")
        return self.health()

    def phase_ages(self) -> dict[str, float]:
        """Per phase: seconds since the least recently confirmed resource of that phase."""
        now = self.clock()
        ages: dict[str, float] = {}
        with self._stats_lock:
            for phase, when in self._passed.values():
                ages[phase or "Unknown"] = max(ages.get(phase or "Unknown", 0.0), now - when)
        return ages
