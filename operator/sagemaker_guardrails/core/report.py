"""The whole next ``status`` of a pass, plus the Events and metric transitions it implies.

The status is recomputed in memory from the previous one, the decision and the outcome of the
step, and written once per pass (Argo Rollouts style), also when the pass failed: the error
then lives in the conditions. Events and transitions are emitted only when something changed
compared with the previous status, so a pass that merely polls says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sagemaker_guardrails.api.status import (
    EndpointInfo,
    GuardedEndpointStatus,
    ObserveError,
    PendingCall,
    RevisionInfo,
)
from sagemaker_guardrails.core import exclusions, naming, notices, pinning, tagging
from sagemaker_guardrails.core import policy as policies
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
from sagemaker_guardrails.core.resolve import UPDATE, Fate, iso
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
    """What SageMaker showed this pass, with the tag memory of :mod:`.tagging` carried along.

    An endpoint whose tags name another owner is not this resource's endpoint and is not recorded
    (the Stalled condition names it): a record of it would pin the resource to it.
    """
    endpoint = observed.endpoint
    if endpoint is None:
        return None
    owner = naming.owner_from_tags(observed.tags) if observed.tags is not None else None
    if owner is not None and owner != desired.identity.owner:
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
            from_config=draft.status.endpoint.config_name if draft.status.endpoint is not None else None,
            policy=policies.of_spec(desired.spec.deployment).record() if action.operation == UPDATE else None,
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


def _report(
    draft: Draft, verdict: Verdict, generation: int, notice: exclusions.Notice | None = None
) -> Report:
    _stall_event(draft, verdict)
    status = draft.status
    previous = draft.memory.status.conditions
    status.conditions = conditions(verdict, previous, generation, draft.now)
    excluded = notices.exclusion_condition(notice, previous, generation, draft.now.isoformat())
    if excluded is not None and notice is not None:
        status.conditions.append(excluded)
        if notices.exclusion_event_due(notice, previous):
            draft.event("Warning", exclusions.REASON, notice.message)
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
    notice: exclusions.Notice | None = None,
) -> Report:
    """The status after a pass that observed SageMaker and decided (``error``: the step's failure).

    ``notice``: guardrails SageMaker will not apply to this spec (:mod:`.exclusions`), if any.
    """
    endpoint = observed.endpoint
    missing = notices.endpoint_missing(memory.status.endpoint, observed, desired.endpoint_name)
    draft = Draft(memory, desired, now, memory.status.model_copy(deep=True))
    draft.status.endpoint = _endpoint_info(memory, desired, observed, decision=decision, error=error, now=now)
    draft.status.region = pinning.pinned_after(
        memory.status, desired, draft.status.endpoint, created=isinstance(decision.action, Prepare)
    )
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
    draft.status.observe_error = None
    verdict = decision.verdict
    if error is not None:
        failed = verdict_of_error(error, ready=decision.verdict.ready)
        # A transient failure of the step (the AddTags that marks a rollback, say) does not lift a
        # stall this pass has just confirmed by observing SageMaker: it is retried next pass.
        verdict = decision.verdict if decision.verdict.is_stalled and not failed.is_stalled else failed
    if missing is not None:
        draft.event("Warning", notices.ENDPOINT_MISSING, missing)
        verdict = replace(verdict, message=f"{missing} {verdict.message}")
    return _report(draft, verdict, generation, notice)


def unobserved(
    *,
    memory: Memory,
    desired: Desired | None,
    error: BaseException,
    generation: int,
    now: datetime,
    notice: exclusions.Notice | None = None,
) -> Report:
    """The status after a pass that could not look at SageMaker (or could not parse the spec).

    Everything SageMaker-related stays as it was. A spec that does not parse is Stalled, and so is
    an error that needs a human (access denied); anything transient (throttling, 5xx, network) is
    no news about the endpoint, so the last verdict stands: conditions, phase and
    ``observedGeneration`` stay, no Event is posted, and ``status.observeError`` says what failed.
    Otherwise one throttled pass would flip ``Stalled`` (or ``Ready``) and the next flip it back,
    with a second Warning, and Flux or Argo CD would see Failed -> InProgress -> Failed.

    A generation no pass has observed yet whose revision SageMaker does not serve (a spec change
    to deploy) has no verdict to keep: the conditions are stamped with it and Ready is False,
    since a kept Ready would tell ``kubectl wait`` and GitOps tools that SageMaker serves a
    revision it has not even been asked for.
    """
    draft = Draft(memory, desired, now, memory.status.model_copy(deep=True))
    verdict = verdict_of_error(error, ready=None)
    if desired is None or verdict.is_stalled:
        draft.status.observe_error = None
        return _report(draft, verdict, generation, notice)
    before = memory.status.observe_error
    since = before.since if before is not None and before.reason == verdict.reason else iso(now)
    draft.status.observe_error = ObserveError(reason=verdict.reason, message=verdict.message, since=since)
    revision = memory.status.revision
    serves = revision is not None and revision.current == desired.revision
    if memory.status.observed_generation != generation and not serves:
        return _report(draft, verdict_of_error(error, ready=False), generation, notice)
    if not memory.status.conditions:  # no verdict yet to keep
        return _report(draft, verdict, generation, notice)
    return Report(draft.status, verdict)
