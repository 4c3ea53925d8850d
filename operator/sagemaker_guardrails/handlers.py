"""kopf wiring: every handler and the timer run the one reconcile path, nothing else.

Handlers are synchronous, so kopf runs them in its thread pool and a blocking boto3 call never
runs on the event loop. Each one builds a :class:`~sagemaker_guardrails.reconciler.Resource` from
the body, calls ``reconcile`` (or ``finalize`` on deletion), writes ``Outcome.status`` as the
complete new status, posts ``Outcome.events``, records metrics, and maps ``Outcome.error`` onto
kopf's retry semantics in :func:`_retry_for` (the only place that does).

Why the bookkeeping in :class:`Runtime`:

- **One pass at a time per object.** kopf runs a timer and the change handlers of one object
  concurrently; a per-object lock serialises passes (a timer tick that finds a pass running just
  skips).
- **Adaptive polling.** The kopf timer only ticks (a few seconds apart) and costs no AWS call
  unless the object is due. The due time is ``Outcome.requeue_after`` (the reconciler asks for
  about ``active_poll_seconds`` while SageMaker is busy and about ``settled_poll_seconds`` when
  settled, already jittered); retries after errors are scheduled here (:func:`next_delay`).
- **Fresh status memory.** kopf applies a handler's patch after it returns, and the next handler
  (or timer tick) can see a body from before that patch arrived on the watch. The reconciler's
  write-ahead record of a mutating call lives in status, so a stale body could repeat the call;
  the last status this process wrote is therefore used in place of the body's until the object
  is forgotten.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf

from sagemaker_guardrails import errors
from sagemaker_guardrails.api import GROUP, PLURAL, VERSION
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.reconciler import Deps, Outcome, Resource
from sagemaker_guardrails.settings import Settings

__all__ = [
    "FINALIZER",
    "PassFn",
    "ProgressStorage",
    "Runtime",
    "build_registry",
    "kopf_settings",
    "merge_patch",
    "next_delay",
    "timer_tick",
]

PassFn = Callable[[Resource, Deps, datetime], Outcome]
RETRY_ANNOTATION = f"{GROUP}/retry"
FINALIZER = f"{GROUP}/finalizer"
_KOPF_STATUS_KEY = "kopf"


@dataclass
class _ObjectState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    due_at: float = 0.0
    last_status: dict[str, Any] | None = None
    forgotten: bool = False


@dataclass
class Runtime:
    """Everything handlers need, built by the composition root and passed as kopf's ``memo``."""

    settings: Settings
    deps: Deps
    metrics: Metrics
    reconcile: PassFn
    finalize: PassFn
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    _objects: dict[str, _ObjectState] = field(default_factory=dict)
    _objects_lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, uid: str) -> _ObjectState:
        with self._objects_lock:
            return self._objects.setdefault(uid, _ObjectState())

    def forget(self, uid: str) -> None:
        """Drops a deleted object; a pass still in flight for it publishes no phase afterwards."""
        with self._objects_lock:
            state = self._objects.pop(uid, None)
        if state is not None:
            with state.lock:
                state.forgotten = True
        self.metrics.set_phase(uid, None)


def timer_tick(settings: Settings) -> float:
    """How often the timer looks at an object: a fraction of the active poll, 0.5..5 s."""
    return max(0.5, min(5.0, settings.active_poll_seconds / 5))


def next_delay(
    requeue_after: float | None, retry: float | None, settings: Settings, rng: random.Random
) -> float:
    """Seconds until the next pass.

    ``requeue_after`` comes from the reconciler, already jittered. A busy poll (at most one active
    interval) is asked for half a timer tick early, because the timer runs a due pass up to half a
    tick late: so a busy endpoint is looked at again within one active interval, and the status
    lags SageMaker by at most that interval plus one pass. A retry after an error and the settled
    fallback (no ``requeue_after``) are jittered here: retries *downwards* (never later than
    asked), settled polls both ways (the mean stays at ``settled_poll_seconds``).
    """
    if retry is None and requeue_after is not None:
        if requeue_after <= settings.active_poll_seconds:
            return max(0.0, requeue_after - timer_tick(settings) / 2)
        return max(0.0, requeue_after)
    delay = retry if retry is not None else settings.settled_poll_seconds
    jitter = settings.poll_jitter
    if delay <= settings.active_poll_seconds:
        return delay * (1 - jitter * rng.random())
    return delay * (1 + jitter * (2 * rng.random() - 1))


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


def _resource(body: kopf.Body, status: Mapping[str, Any]) -> Resource:
    meta = body.get("metadata") or {}
    return Resource(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        generation=int(meta.get("generation") or 0),
        spec=dict(body.get("spec") or {}),
        status=dict(status),
        annotations=dict(meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
    )


def _retry_for(error: BaseException | None, settings: Settings) -> float | None:
    """The one mapping from the error taxonomy onto kopf retries: a delay, or None for no retry.

    Throttling, 5xx and a busy endpoint slow the resource down and never fail it. Missing
    permissions are retried slowly (IAM is fixed outside Kubernetes). Everything else
    (InvalidSpec, InvalidRequest, Terminal, ...) is already Stalled in status and waits for the
    user to change the resource.
    """
    if isinstance(error, errors.Retryable):
        return error.retry_after or settings.active_poll_seconds
    if isinstance(error, errors.Busy):
        return settings.active_poll_seconds
    if isinstance(error, errors.AccessDenied):
        return settings.settled_poll_seconds
    return None


def _uid(body: kopf.Body) -> str:
    return str((body.get("metadata") or {}).get("uid") or "")


def _locked_pass(
    runtime: Runtime, state: _ObjectState, body: kopf.Body, patch: kopf.Patch, run: PassFn
) -> Outcome:
    """One reconcile or finalize pass; the caller holds ``state.lock``."""
    stored = {k: v for k, v in (body.get("status") or {}).items() if k != _KOPF_STATUS_KEY}
    believed = state.last_status if state.last_status is not None else stored
    started = time.monotonic()
    try:
        outcome = run(_resource(body, believed), runtime.deps, datetime.now(UTC))
    except Exception:
        runtime.metrics.record_reconcile("error", time.monotonic() - started)
        raise
    runtime.metrics.record_reconcile(outcome.result, time.monotonic() - started)
    changes = merge_patch(believed, outcome.status)
    changes.update({key: None for key in stored if key not in outcome.status})
    for key, value in changes.items():
        patch.status[key] = value
    state.last_status = dict(outcome.status)
    if not state.forgotten:
        phase = outcome.status.get("phase")
        runtime.metrics.set_phase(_uid(body), str(phase) if phase else None)
    retry = _retry_for(outcome.error, runtime.settings)
    state.due_at = runtime.clock() + next_delay(outcome.requeue_after, retry, runtime.settings, runtime.rng)
    return outcome


def _publish(runtime: Runtime, body: kopf.Body, outcome: Outcome, logger: kopf.Logger) -> None:
    """Events, metrics and a log line for a finished pass (outside the object lock)."""
    for event in outcome.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    for transition in outcome.transitions:
        if transition.kind == "DeploymentStarted":
            runtime.metrics.deployment_started(transition.strategy)
        elif transition.kind == "DeploymentFinished" and transition.outcome:
            runtime.metrics.deployment_finished(
                transition.strategy, transition.outcome, transition.duration_seconds
            )
    if outcome.error is not None:
        logger.warning("Pass ended with %s: %s", type(outcome.error).__name__, outcome.error)


def _run_pass(
    runtime: Runtime, body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, *, finalizing: bool = False
) -> Outcome:
    state = runtime.state(_uid(body))
    with state.lock:
        outcome = _locked_pass(
            runtime, state, body, patch, runtime.finalize if finalizing else runtime.reconcile
        )
    _publish(runtime, body, outcome, logger)
    return outcome


# -- handlers ---------------------------------------------------------------------------------------


def on_change(body: kopf.Body, patch: kopf.Patch, memo: Runtime, logger: kopf.Logger, **_: Any) -> None:
    """Create, resume, spec change or retry annotation: run a pass now."""
    outcome = _run_pass(memo, body, patch, logger)
    delay = _retry_for(outcome.error, memo.settings)
    if delay is not None:
        raise kopf.TemporaryError(str(outcome.error), delay=delay)


def on_timer(body: kopf.Body, patch: kopf.Patch, memo: Runtime, logger: kopf.Logger, **_: Any) -> None:
    """A tick: run a pass only when the object is due and no other pass is running."""
    state = memo.state(_uid(body))
    if memo.clock() < state.due_at - timer_tick(memo.settings) / 2:
        return
    if not state.lock.acquire(blocking=False):
        return
    try:
        outcome = _locked_pass(memo, state, body, patch, memo.reconcile)
    finally:
        state.lock.release()
    _publish(memo, body, outcome, logger)


def on_delete(body: kopf.Body, patch: kopf.Patch, memo: Runtime, logger: kopf.Logger, **_: Any) -> None:
    """Finalize until done; the finalizer stays (TemporaryError) while cleanup is in progress."""
    outcome = _run_pass(memo, body, patch, logger, finalizing=True)
    delay = _retry_for(outcome.error, memo.settings)
    if delay is None and outcome.error is not None:
        delay = memo.settings.settled_poll_seconds
    if delay is None and not outcome.finished:
        delay = outcome.requeue_after or memo.settings.active_poll_seconds
    if delay is not None:
        raise kopf.TemporaryError(str(outcome.error or "cleanup in progress"), delay=delay)
    memo.forget(_uid(body))


def build_registry(settings: Settings) -> kopf.OperatorRegistry:
    """A fresh kopf registry with the GuardedEndpoint handlers (nothing registers at import).

    A registry of our own has none of the login handlers kopf adds to its global one, so the
    kubernetes client's login is registered explicitly: in-cluster service account first, then
    ``KUBECONFIG`` / ``~/.kube/config`` (exec plugins such as ``aws eks get-token`` included).
    """
    registry = kopf.OperatorRegistry()
    kopf.on.login(id="login", registry=registry)(kopf.login_via_client)
    resource = (GROUP, VERSION, PLURAL)
    kopf.on.resume(*resource, id="on-resume", registry=registry)(on_change)
    kopf.on.create(*resource, id="on-create", registry=registry)(on_change)
    kopf.on.update(*resource, id="on-update", field="spec", registry=registry)(on_change)
    kopf.on.update(
        *resource,
        id="on-retry-annotation",
        field=("metadata", "annotations", RETRY_ANNOTATION),
        registry=registry,
    )(on_change)
    kopf.on.delete(*resource, id="on-delete", registry=registry)(on_delete)
    tick = timer_tick(settings)
    kopf.timer(*resource, id="poll", interval=tick, initial_delay=tick, registry=registry)(on_timer)
    return registry


class ProgressStorage(kopf.AnnotationsProgressStorage):
    """kopf's annotation progress storage under our prefix, minus one surprise.

    kopf hides every ``<prefix>/...`` annotation from change detection, which would hide the
    user's ``sagemaker-guardrails.dev/retry`` annotation too; this storage keeps it visible so
    bumping it triggers a pass at once.
    """

    def clear(self, *, essence: Any) -> Any:
        retry = ((essence.get("metadata") or {}).get("annotations") or {}).get(RETRY_ANNOTATION)
        cleared = super().clear(essence=essence)
        if retry is not None:
            cleared.setdefault("metadata", {}).setdefault("annotations", {})[RETRY_ANNOTATION] = retry
        return cleared


def kopf_settings(settings: Settings) -> kopf.OperatorSettings:
    """kopf's configuration: our finalizer and annotation prefix, Events, worker threads."""
    config = kopf.OperatorSettings()
    config.persistence.finalizer = FINALIZER
    config.persistence.progress_storage = ProgressStorage(prefix=GROUP)
    config.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    config.posting.level = logging.INFO
    config.execution.max_workers = settings.max_workers
    return config
