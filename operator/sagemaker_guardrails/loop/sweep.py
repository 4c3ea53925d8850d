"""The orphan sweeper: a supervised thread that runs :func:`~sagemaker_guardrails.reconciler.sweep.sweep`
every ``orphan_sweep_seconds`` on the leader.

- **Leader only.** A standby never sweeps: its period passes without a call to AWS.
- **Supervised.** A sweep that raises is logged with its traceback, counted
  (``sagemaker_guardrails_orphan_sweeps_total{outcome="error"}``) and run again next period; the
  thread itself never ends but by :meth:`Sweeper.stop`. Should it die anyway, :meth:`Sweeper.health`
  says so and ``/healthz`` fails, exactly as for a dead worker thread.
- **Reported.** Every sweep sets ``sagemaker_guardrails_orphans{kind}`` and logs each orphan at
  WARNING; what it deleted (only with ``orphan_sweep_delete``) goes into
  ``sagemaker_guardrails_orphans_deleted_total{kind}``.
- **Paced.** It calls AWS through the same per-region clients, hence the same token buckets, as
  the reconcile passes, and besides at most ``orphan_sweep_calls_per_second`` (every request:
  list pages, ListTags, Describe and Delete calls), by sleeping in its own thread before each
  one. A housekeeping job therefore never takes more than that share of a bucket the reconcile
  passes poll through, however many resources a region holds. The sleep ends at once when the
  sweeper is stopped: the sweep is abandoned (logged at INFO, not counted as a failure).

The first sweep runs ``min(orphan_sweep_seconds, 60)`` seconds after the start, so an operator that
restarts more often than the period still sweeps. Sweeps start every ``orphan_sweep_seconds``; one
that took longer than that is followed by the next as soon as it ends. Each sweep logs at INFO how
long it took and how many AWS calls it made.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.aws.ratelimit import Pacer
from sagemaker_guardrails.core.orphans import watched
from sagemaker_guardrails.loop.kube import Kube
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.reconciler.sweep import SweepReport, sweep
from sagemaker_guardrails.settings import Settings

__all__ = ["AllChecks", "SweepStoppedError", "Sweeper"]

log = logging.getLogger(__name__)

_FIRST_SWEEP_MAX_SECONDS = 60.0


class SweepStoppedError(Exception):
    """Raised in the sweeper's thread, while it waits for its pace, once it is asked to stop."""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


class Sweeper:
    """See the module docstring."""

    def __init__(
        self,
        *,
        kube: Kube,
        settings: Settings,
        clients: Callable[[str], AwsClients],
        metrics: Metrics,
        leading: threading.Event | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.clients = clients
        self.metrics = metrics
        if leading is None:
            leading = threading.Event()
            leading.set()
        self.leading = leading
        self.wall = wall
        self.last: SweepReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock = clock
        self._sleep: Callable[[float], object] = sleep if sleep is not None else self._stop.wait
        self.pacer = Pacer(settings.orphan_sweep_calls_per_second, clock=clock, sleep=self._pause)

    def _pause(self, seconds: float) -> None:
        """The pacer's sleep: ends the sweep (:class:`SweepStoppedError`) once the sweeper is stopped."""
        if not self._stop.is_set():
            self._sleep(seconds)
        if self._stop.is_set():
            raise SweepStoppedError("orphan sweep stopped")

    def paced(self, region: str) -> AwsClients:
        """The region's clients, SageMaker paced by :attr:`pacer` (CloudWatch is never swept)."""
        clients = self.clients(region)
        return AwsClients(
            region=region, sagemaker=clients.sagemaker.paced(self.pacer), cloudwatch=clients.cloudwatch
        )

    @property
    def enabled(self) -> bool:
        return self.settings.orphan_sweep_seconds > 0

    def existing(self) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
        """A fresh LIST of GuardedEndpoints (never the watch cache): keys and regions in use."""
        patterns = list(self.settings.watch_namespaces)
        literal = [] if any(any(c in p for c in "*?[!") for p in patterns) else patterns
        keys: set[tuple[str, str]] = set()
        regions: set[str] = set()
        for item in self.kube.list(literal):
            meta: dict[str, Any] = item.get("metadata") or {}
            namespace = str(meta.get("namespace") or "")
            if not watched(namespace, patterns):
                continue
            keys.add((namespace, str(meta.get("name") or "")))
            region = (item.get("spec") or {}).get("region")
            if isinstance(region, str) and region:
                regions.add(region)
        return frozenset(keys), frozenset(regions)

    def run_once(self) -> SweepReport | None:
        """One sweep if this replica leads (None on a standby); failures propagate."""
        if not self.leading.is_set():
            return None
        started, calls = self._clock(), self.pacer.calls
        report = sweep(self.paced, self.existing, self.settings, self.wall)
        self.metrics.orphan_sweep(report.counts(report.found), report.counts(report.deleted))
        self.last = report
        log.info(
            "orphan sweep of %s done in %.1f s with %d AWS calls: %d orphans, %d deleted, %d waiting for their endpoint",
            ", ".join(report.regions),
            self._clock() - started,
            self.pacer.calls - calls,
            len(report.found),
            len(report.deleted),
            len(report.waiting),
        )
        return report

    def _loop(self) -> None:
        period = self.settings.orphan_sweep_seconds
        delay = min(period, _FIRST_SWEEP_MAX_SECONDS)
        while not self._stop.wait(delay):
            started = self._clock()
            try:
                self.run_once()
            except SweepStoppedError:
                log.info("orphan sweep abandoned: the operator is stopping")
                return
            except Exception as exc:
                self.metrics.orphan_sweep_failed()
                log.exception("orphan sweep failed; running it again in %.0f s", period, exc_info=exc)
            took = self._clock() - started
            delay = max(0.0, period - took)
            if not delay:
                log.info(
                    "orphan sweep took %.1f s, more than orphan_sweep_seconds (%g): the next starts now",
                    took,
                    period,
                )

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="orphan-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def health(self) -> Verdict:
        if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            return Verdict(False, "threads died: orphan-sweep")
        return Verdict(True, "orphan sweep running" if self._thread is not None else "orphan sweep off")


class _Check(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def message(self) -> str: ...


class _Checks(Protocol):
    def health(self) -> _Check: ...

    def ready(self) -> _Check: ...


class AllChecks:
    """``/healthz`` and ``/readyz`` of the loop, failing also when the sweeper thread died."""

    def __init__(self, loop: _Checks, sweeper: Sweeper) -> None:
        self.loop = loop
        self.sweeper = sweeper

    def health(self) -> _Check:
        mine = self.sweeper.health()
        return mine if not mine.ok else self.loop.health()

    def ready(self) -> _Check:
        mine = self.sweeper.health()
        return mine if not mine.ok else self.loop.ready()
