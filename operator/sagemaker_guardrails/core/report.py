"""The whole next ``status`` of a pass, plus the Events and metric transitions it implies.

The status is recomputed in memory from the previous one, the decision and the outcome of the
step, and written once per pass (Argo Rollouts style), also when the pass failed: the error
then lives in the conditions. Events and transitions are emitted only when something changed
compared with the previous status, so a pass that merely polls says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sagemaker_guardrails.api.status import EndpointInfo, GuardedEndpointStatus, PendingCall, RevisionInfo
from sagemaker_guardrails.core import naming, tagging
from sagemaker_guardrails.core.actions import (
    Adopt,
    Collect,
    Decision,
    Issue,
    MarkRolledBack,
    Memory,
    Prepare,
    SyncTags,
    Wait,
)
from sagemaker_guardrails.core.conditions import STALLED, Reason, Verdict, conditions, phase
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import Observed
from sagemaker_guardrails.core.resolve import Fate, iso
from sagemaker_guardrails.core.tracking import Draft, EventRecord, Transition, finish, issued, track
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


@dataclass(frozen=True)
class Report:
    """The next status of a pass, the verdict it shows, and what to announce."""

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


def _endpoint_info(
    memory: Memory,
    desired: Desired,
    observed: Observed,
    *,
    decision: Decision,
    error: BaseException | None,
    now: datetime,
) -> EndpointInfo | None:
    """What SageMaker showed this pass, with the tag memory of :mod:`.tagging` carried along."""
    endpoint = observed.endpoint
    if endpoint is None:
        return None
    info = EndpointInfo(
        name=endpoint.name,
        arn=endpoint.arn,
        status=endpoint.status.value,
        config_name=endpoint.config_name,
        failure_reason=endpoint.failure_reason,
        last_modified=iso(endpoint.last_modified_time),
        creation_time=iso(endpoint.creation_time),
    )
    synced = decision.action if isinstance(decision.action, SyncTags) and error is None else None
    return tagging.remembered(
        info,
        before=memory.status.endpoint,
        endpoint=endpoint,
        tags=observed.tags,
        desired=desired,
        synced=synced,
        now=now,
    )


def _keeps_intent(action: object, error: BaseException | None) -> bool:
    """Whether an intent that has not reached SageMaker survives this pass."""
    if isinstance(action, Wait):
        return True
    return (
        isinstance(action, Issue) and error is not None and not isinstance(error, NotFound | InvalidRequest)
    )


def _apply_pending(draft: Draft, decision: Decision, error: BaseException | None) -> None:
    """The write-ahead record and the in-flight deployment after this pass."""
    action, resolution = decision.action, decision.resolution
    memory, desired = draft.memory, draft.spec
    draft.status.pending = memory.status.pending if resolution is None else None
    draft.status.deployment = memory.status.deployment if resolution is None else None
    if resolution is not None and resolution.fate is Fate.IN_FLIGHT:
        track(draft, resolution, decision.progress)
    if resolution is not None and resolution.fate is Fate.NOT_ISSUED and _keeps_intent(action, error):
        draft.status.pending = resolution.pending
    accepted = error is None or isinstance(error, AlreadyExists)
    if isinstance(action, Issue) and resolution is not None and accepted:
        issued(draft, resolution.pending)
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


def _apply_action(draft: Draft, decision: Decision, error: BaseException | None) -> None:
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
    last = draft.status.last_rollback
    if isinstance(action, MarkRolledBack) and last is not None and last.config_name == action.config_name:
        draft.status.last_rollback = last.model_copy(update={"tagged_at": iso(draft.now)})
    if isinstance(action, SyncTags):
        draft.event(
            "Normal",
            "TagsUpdated",
            f"Tags of SageMaker endpoint {draft.spec.endpoint_name} updated from spec.tags: "
            f"{tagging.describe(action)}.",
        )


def _stall_event(draft: Draft, verdict: Verdict) -> None:
    if not verdict.is_stalled or any(e.type == "Warning" for e in draft.events):
        return
    before = next((c for c in draft.memory.status.conditions if c.type == STALLED), None)
    if before is not None and before.status == "True" and before.reason == verdict.reason:
        return
    draft.event("Warning", verdict.reason, verdict.message)


def _report(draft: Draft, verdict: Verdict, generation: int) -> Report:
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
    draft = Draft(memory, desired, now, memory.status.model_copy(deep=True))
    draft.status.endpoint = _endpoint_info(memory, desired, observed, decision=decision, error=error, now=now)
    live = endpoint.config_name if endpoint is not None else None
    draft.status.revision = RevisionInfo(
        desired=desired.revision,
        current=naming.revision_of_config(desired.endpoint_name, live),
        desired_config=desired.config_name,
    )
    resolution = decision.resolution
    if resolution is not None and resolution.fate.finished:
        finish(draft, resolution, live)
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

    Everything SageMaker-related stays as it was; only the conditions say what went wrong. Ready
    is kept only while it still vouches for the desired revision: after a spec change the pass
    stamps the new generation, and a kept Ready would tell ``kubectl wait`` and GitOps tools that
    SageMaker serves a revision it has not even been asked for.
    """
    draft = Draft(memory, desired, now, memory.status.model_copy(deep=True))
    revision = memory.status.revision
    changed = desired is not None and (revision is None or revision.current != desired.revision)
    return _report(draft, verdict_of_error(error, ready=False if changed else None), generation)
