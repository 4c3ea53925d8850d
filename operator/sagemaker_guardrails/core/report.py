"""The whole next ``status`` of a pass, plus the Events and metric transitions it implies.

The status is recomputed in memory from the previous one, the decision and the outcome of the
step, and written once per pass (Argo Rollouts style), also when the pass failed: the error
then lives in the conditions. Events and transitions are emitted only when something changed
compared with the previous status, so a pass that merely polls says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sagemaker_guardrails.api.status import (
    HISTORY_LIMIT,
    DeploymentProgress,
    EndpointInfo,
    GuardedEndpointStatus,
    HistoryEntry,
    PendingCall,
    RevisionInfo,
)
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.conditions import STALLED, Reason, Verdict, conditions, phase
from sagemaker_guardrails.core.decide import Adopt, Collect, Decision, Issue, Memory, Prepare, Wait
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import EndpointSnapshot, Observed
from sagemaker_guardrails.core.progress import Progress, Stage, timeline
from sagemaker_guardrails.core.resolve import CREATE, Fate, Resolution, iso
from sagemaker_guardrails.errors import (
    AccessDenied,
    AlreadyExists,
    Busy,
    InvalidRequest,
    InvalidSpec,
    NotFound,
    OperatorError,
    Retryable,
    Throttled,
)

__all__ = ["EventRecord", "Report", "Transition", "build", "unobserved", "verdict_of_error"]

_OUTCOMES = {
    Fate.SUCCEEDED: "Succeeded",
    Fate.ROLLED_BACK: "RolledBack",
    Fate.FAILED: "Failed",
    Fate.SUPERSEDED: "Failed",
    Fate.LOST: "Failed",
}


@dataclass(frozen=True)
class EventRecord:
    """A Kubernetes Event to post about the resource."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True)
class Transition:
    """A deployment milestone for metrics: ``DeploymentStarted`` or ``DeploymentFinished``."""

    kind: str
    strategy: str
    outcome: str | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True)
class Report:
    status: GuardedEndpointStatus
    verdict: Verdict
    events: tuple[EventRecord, ...] = ()
    transitions: tuple[Transition, ...] = ()


def verdict_of_error(error: BaseException, *, ready: bool | None) -> Verdict:
    """What an error means for the resource. Throttling and 5xx never fail it."""
    operation = getattr(error, "operation", None) or "AWS call"
    if isinstance(error, Throttled):
        return Verdict.progressing(Reason.THROTTLED, f"AWS throttled {operation}; slowing down.", ready=ready)
    if isinstance(error, Retryable):
        return Verdict.progressing(
            Reason.RETRYING, f"{operation} failed transiently ({error}); retrying.", ready=ready
        )
    if isinstance(error, Busy):
        return Verdict.progressing(Reason.BUSY, f"The endpoint is busy ({error}); waiting.", ready=ready)
    if isinstance(error, NotFound):
        return Verdict.progressing(Reason.RETRYING, f"{error}; preparing again.", ready=ready)
    if isinstance(error, AccessDenied):
        return Verdict.stalled(
            Reason.ACCESS_DENIED,
            f"{error}. Grant the operator's IAM role sagemaker:{operation} (see the chart's IAM policy).",
        )
    if isinstance(error, InvalidSpec):
        return Verdict.stalled(Reason.INVALID_SPEC, str(error))
    if isinstance(error, InvalidRequest):
        return Verdict.stalled(Reason.INVALID_REQUEST, f"SageMaker rejected {operation}: {error}")
    if isinstance(error, OperatorError):
        return Verdict.stalled(Reason.ERROR, str(error))
    return Verdict.progressing(Reason.ERROR, f"Unexpected error: {error!r}", ready=ready)


def _endpoint_info(endpoint: EndpointSnapshot | None) -> EndpointInfo | None:
    if endpoint is None:
        return None
    return EndpointInfo(
        name=endpoint.name,
        arn=endpoint.arn,
        status=endpoint.status.value,
        config_name=endpoint.config_name,
        failure_reason=endpoint.failure_reason,
        last_modified=iso(endpoint.last_modified_time),
    )


def _seconds_since(start: str | None, now: datetime) -> float | None:
    if not start:
        return None
    try:
        return max(0.0, (now - datetime.fromisoformat(start)).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass
class _Draft:
    """The mutable working copy of one pass's report, with the pass's context."""

    memory: Memory
    desired: Desired | None
    now: datetime
    status: GuardedEndpointStatus
    events: list[EventRecord] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    def event(self, kind: Literal["Normal", "Warning"], reason: str, message: str) -> None:
        self.events.append(EventRecord(kind, reason, message))

    @property
    def spec(self) -> Desired:
        assert self.desired is not None
        return self.desired

    def started_at(self, pending: PendingCall) -> str | None:
        before = self.memory.status.deployment
        if before is not None and before.config_name == pending.config_name and before.started_at:
            return before.started_at
        return pending.issued_at or pending.recorded_at or None

    def strategy(self) -> str:
        before = self.memory.status.deployment
        return before.strategy if before is not None and before.strategy else self.spec.strategy


def _finish(draft: _Draft, resolution: Resolution, live: str | None) -> None:
    """A deployment ended: history entry, metric transition, Event."""
    pending = resolution.pending
    outcome = _OUTCOMES[resolution.fate]
    reason = resolution.reason
    if resolution.fate is Fate.SUPERSEDED:
        reason = f"the endpoint ended on config {live} instead of {pending.config_name}"
    elif resolution.fate is Fate.LOST:
        reason = "the endpoint disappeared during the deployment"
    started = draft.started_at(pending)
    strategy = draft.strategy()
    entry = HistoryEntry(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=strategy,
        started_at=started,
        finished_at=iso(draft.now),
        outcome=outcome,
        reason=reason,
    )
    draft.status.history = [entry, *draft.status.history][:HISTORY_LIMIT]
    duration = _seconds_since(started, draft.now)
    draft.transitions.append(Transition("DeploymentFinished", strategy, outcome, duration))
    took = f" after {duration:.0f}s" if duration is not None else ""
    what = "Endpoint created" if pending.operation == CREATE else f"Revision {pending.revision} deployed"
    if resolution.fate is Fate.SUCCEEDED:
        draft.event(
            "Normal", "DeploymentSucceeded", f"{what}: InService on config {pending.config_name}{took}."
        )
    elif resolution.fate is Fate.ROLLED_BACK:
        draft.event(
            "Warning",
            "RolledBack",
            f"SageMaker rolled back revision {pending.revision} (config {pending.config_name}){took}: "
            f"{reason or 'no reason given'}. The endpoint serves config {live}.",
        )
    else:
        draft.event(
            "Warning",
            "DeploymentFailed",
            f"Deployment of revision {pending.revision} failed{took}: {reason or 'no reason given'}.",
        )


def _progress_events(draft: _Draft, before: DeploymentProgress | None, prog: Progress) -> None:
    step_before = before.step if before is not None and before.step is not None else 0
    stage_before = before.stage if before is not None else None
    traffic = ""
    if prog.traffic_percent is not None:
        traffic = f" (~{prog.traffic_percent}% of traffic on the new fleet)"
    if prog.step > step_before and prog.stage not in (Stage.CREATING, Stage.ROLLING_BACK):
        draft.event("Normal", "TrafficStep", f"Traffic step {prog.step}/{prog.steps}{traffic}.")
    if prog.stage == stage_before and prog.step == step_before:
        return
    if prog.stage == Stage.BAKING:
        until = f" until {iso(prog.bake_ends_at)}" if prog.bake_ends_at else ""
        draft.event("Normal", "Baking", f"Baking step {prog.step}/{prog.steps}{until}{traffic}.")
    elif prog.stage == Stage.ROLLING_BACK:
        draft.event(
            "Warning",
            "RollingBack",
            f"SageMaker is rolling the deployment back: {prog.message or 'no detail'}.",
        )
    elif prog.stage == Stage.TERMINATING:
        draft.event("Normal", "Terminating", "All traffic is on the new fleet; the old fleet is terminated.")


def _track(draft: _Draft, resolution: Resolution, prog: Progress | None) -> None:
    """A deployment in flight: confirm it as issued, update progress, announce milestones."""
    pending = resolution.pending
    strategy = draft.strategy()
    if pending.issued_at is None or draft.memory.status.pending is None:
        pending = pending.model_copy(update={"issued_at": pending.issued_at or iso(draft.now)})
        draft.transitions.append(Transition("DeploymentStarted", strategy))
        draft.event(
            "Normal",
            "DeploymentStarted",
            f"SageMaker is deploying revision {pending.revision} (config {pending.config_name}).",
        )
    draft.status.pending = pending
    before = draft.memory.status.deployment
    if before is not None and before.config_name != pending.config_name:
        before = None
    if prog is None:
        return
    draft.status.deployment = DeploymentProgress(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=strategy,
        stage=prog.stage,
        step=prog.step,
        steps=prog.steps,
        traffic_percent=prog.traffic_percent,
        started_at=draft.started_at(pending),
        bake_ends_at=iso(prog.bake_ends_at),
        message=prog.message,
    )
    _progress_events(draft, before, prog)


def _issued(draft: _Draft, pending: PendingCall) -> None:
    desired = draft.spec
    draft.status.pending = pending.model_copy(update={"issued_at": iso(draft.now)})
    creating = pending.operation == CREATE
    line = timeline(desired.spec.deployment, desired.spec.variants[0].initial_instance_count)
    draft.status.deployment = DeploymentProgress(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=desired.strategy,
        stage=Stage.CREATING if creating else Stage.PROVISIONING,
        step=0,
        steps=1 if creating else line.steps,
        traffic_percent=0,
        started_at=iso(draft.now),
    )
    draft.transitions.append(Transition("DeploymentStarted", desired.strategy))
    what = (
        f"Creating endpoint {desired.endpoint_name}" if creating else f"Deploying revision {pending.revision}"
    )
    draft.event(
        "Normal", "DeploymentStarted", f"{what} on config {pending.config_name} ({desired.strategy})."
    )


def _keeps_intent(action: object, error: BaseException | None) -> bool:
    """Whether an intent that has not reached SageMaker survives this pass."""
    if isinstance(action, Wait):
        return True
    return (
        isinstance(action, Issue) and error is not None and not isinstance(error, NotFound | InvalidRequest)
    )


def _apply_pending(draft: _Draft, decision: Decision, error: BaseException | None) -> None:
    """The write-ahead record and the in-flight deployment after this pass."""
    action, resolution = decision.action, decision.resolution
    memory, desired = draft.memory, draft.spec
    draft.status.pending = memory.status.pending if resolution is None else None
    draft.status.deployment = memory.status.deployment if resolution is None else None
    if resolution is not None and resolution.fate is Fate.IN_FLIGHT:
        _track(draft, resolution, decision.progress)
    if resolution is not None and resolution.fate is Fate.NOT_ISSUED and _keeps_intent(action, error):
        draft.status.pending = resolution.pending
    issued = error is None or isinstance(error, AlreadyExists)
    if isinstance(action, Issue) and resolution is not None and issued:
        _issued(draft, resolution.pending)
    if isinstance(action, Prepare) and error is None:
        draft.status.pending = PendingCall(
            operation=action.operation,
            revision=desired.revision,
            config_name=desired.config_name,
            recorded_at=iso(draft.now) or "",
            retry_token=memory.retry_token,
        )
        others = (c for c in memory.status.owned_configs if c != desired.config_name)
        draft.status.owned_configs = [desired.config_name, *others]


def _apply_action(draft: _Draft, decision: Decision, error: BaseException | None) -> None:
    action = decision.action
    if error is not None:
        return
    if isinstance(action, Adopt):
        draft.event("Normal", "Adopted", decision.verdict.message.replace("Adopting", "Adopted"))
    if isinstance(action, Prepare) and action.drift:
        draft.event("Warning", "Drift", decision.verdict.message)
    if isinstance(action, Collect):
        kept = action.keep_configs
        draft.status.owned_configs = [c for c in draft.memory.status.owned_configs if c in kept]


def _stall_event(draft: _Draft, verdict: Verdict) -> None:
    if not verdict.is_stalled or any(e.type == "Warning" for e in draft.events):
        return
    before = next((c for c in draft.memory.status.conditions if c.type == STALLED), None)
    if before is not None and before.status == "True" and before.reason == verdict.reason:
        return
    draft.event("Warning", verdict.reason, verdict.message)


def _report(draft: _Draft, verdict: Verdict, generation: int) -> Report:
    _stall_event(draft, verdict)
    status = draft.status
    status.conditions = conditions(verdict, draft.memory.status.conditions, generation, draft.now)
    stage = status.deployment.stage if status.deployment is not None else None
    status.phase = phase(status.conditions, stage)
    status.observed_generation = generation
    if draft.desired is not None:
        status.strategy = draft.desired.strategy
    return Report(status, verdict, tuple(draft.events), tuple(draft.transitions))


def build(
    *,
    memory: Memory,
    desired: Desired,
    observed: Observed,
    decision: Decision,
    error: BaseException | None,
    generation: int,
    now: datetime,
) -> Report:
    """The status after a pass that observed SageMaker and decided (``error``: the step's failure)."""
    endpoint = observed.endpoint
    draft = _Draft(memory, desired, now, memory.status.model_copy(deep=True))
    draft.status.endpoint = _endpoint_info(endpoint)
    live = endpoint.config_name if endpoint is not None else None
    draft.status.revision = RevisionInfo(
        desired=desired.revision,
        current=naming.revision_of_config(desired.endpoint_name, live),
        desired_config=desired.config_name,
    )
    resolution = decision.resolution
    if resolution is not None and resolution.fate.finished:
        _finish(draft, resolution, live)
    if decision.rollback is not None:
        draft.status.last_rollback = decision.rollback
    _apply_pending(draft, decision, error)
    _apply_action(draft, decision, error)
    verdict = decision.verdict if error is None else verdict_of_error(error, ready=decision.verdict.ready)
    return _report(draft, verdict, generation)


def unobserved(
    *, memory: Memory, desired: Desired | None, error: BaseException, generation: int, now: datetime
) -> Report:
    """The status after a pass that could not look at SageMaker (or could not parse the spec).

    Everything SageMaker-related stays as it was; only the conditions say what went wrong.
    """
    draft = _Draft(memory, desired, now, memory.status.model_copy(deep=True))
    return _report(draft, verdict_of_error(error, ready=None), generation)
