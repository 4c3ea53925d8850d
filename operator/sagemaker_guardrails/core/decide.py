"""The pure decision of one reconcile pass: given spec, SageMaker and memory, the one next action.

``decide(desired, observed, memory, now)`` returns a :class:`Decision`: at most one mutating
SageMaker step (:data:`Action`), the verdict the status will show if that step succeeds, what
became of the last recorded call (:mod:`.resolve`), and the progress of a deployment in flight.

The actions form a closed set:

- :class:`Prepare`: create the models and the endpoint config of the desired revision (one
  idempotent step: they are immutable and named by content, so ``AlreadyExists`` of our own
  resource is success), then record the intent to create/update the endpoint in status. The
  call itself waits for the next pass (write-ahead, see :mod:`.resolve`).
- :class:`Issue`: call CreateEndpoint/UpdateEndpoint for the recorded intent.
- :class:`Adopt`: tag an existing, untagged endpoint as ours (only with ``adoptExisting``).
- :class:`Collect`: delete configs and models of ours that neither serve nor are the previous
  revision (only once the endpoint is InService on the desired config; SageMaker needs the old
  config during a deployment to roll back, and deleting it early breaks that rollback).
- :class:`SyncTags`: bring the endpoint's user tags to ``spec.tags`` (one AddTags or DeleteTags
  call, only once the endpoint is InService on the desired config; :mod:`.tagging`).
- :class:`MarkRolledBack`: tag the rolled-back config with the rollback (one AddTags call on the
  pass after the one that recorded the rollback in status), so that the memory survives a lost
  status (:mod:`.marks`).
- :class:`Wait`, :class:`Stall`, :class:`Nothing`: no SageMaker call.

Rules that shape it (spec §9):

- An endpoint that is ``Creating``/``Updating``/``SystemUpdating``/``RollingBack``/``Deleting``
  accepts no change: a spec change made meanwhile waits and is deployed once it is settled.
- A rollback ends ``InService`` on the *old* config, usually with ``FailureReason`` set but not
  always (spec §13): an issued update that ends on the config that served before the call is a
  rollback either way (:mod:`.resolve`), and the reason's text is never parsed. The rolled-back
  revision is remembered with the retry annotation's value *when the rollback was detected*, and
  it is deployed again only when the spec yields another revision, the annotation gets a value set
  after that, or another revision has since been deployed successfully. A ``FailureReason`` that
  starts with "Request to service failed" is an internal SageMaker error and is retried. The
  memory is ``status.lastRollback``, backed by a tag on the rolled-back config that the
  reconciler reads back before deploying a revision the status knows no rollback of
  (:mod:`.marks`).
- ``spec.endpointName`` and ``spec.region`` must match what the status records (:mod:`.pinning`;
  names compared without regard to case, as SageMaker does).
- An endpoint tagged for another resource is never touched; an untagged one is adopted only
  with ``adoptExisting: true``. A pass that did not read the tags (``Observed.tags`` is ``None``)
  relies on the status's memory of having verified this very endpoint; without it, it waits.
- ``Failed`` allows only deletion: Stalled with a message that says what to do.
  ``UpdateRollbackFailed`` needs a new UpdateEndpoint with the desired config (spec §4): Stalled
  only while the desired revision is the one whose rollback failed and the retry annotation is
  unchanged; a spec change (also back to the config the endpoint reports) or a new annotation
  value deploys.
- Progress of a deployment in flight follows the policy SageMaker runs (``LastDeploymentConfig``,
  else the policy recorded with the intent), never the current ``spec.deployment`` (:mod:`.policy`).
- Drift: an endpoint moved out of band to a config the operator did not deploy is reported and
  brought back (the desired config is deployed again under the resource's policy).
"""

from __future__ import annotations

from datetime import datetime

from sagemaker_guardrails.api.status import GuardedEndpointStatus, RollbackRecord
from sagemaker_guardrails.core import marks, naming, pinning, policy, tagging
from sagemaker_guardrails.core.actions import (
    RETRY_ANNOTATION,
    RETRYABLE_PREFIX,
    SUCCEEDED,
    Action,
    Adopt,
    Collect,
    Decision,
    Issue,
    MarkRolledBack,
    Memory,
    Nothing,
    Prepare,
    Stall,
    SyncTags,
    Wait,
)
from sagemaker_guardrails.core.conditions import Reason, Verdict
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import EndpointSnapshot, EndpointStatus, Observed
from sagemaker_guardrails.core.progress import Progress, Stage, progress
from sagemaker_guardrails.core.resolve import CREATE, UPDATE, Fate, Resolution, iso, resolve
from sagemaker_guardrails.errors import InvalidSpec

__all__ = [
    "RETRY_ANNOTATION",
    "Action",
    "Adopt",
    "Collect",
    "Decision",
    "Issue",
    "MarkRolledBack",
    "Memory",
    "Nothing",
    "Prepare",
    "Stall",
    "SyncTags",
    "Wait",
    "decide",
    "is_blocked",
    "retryable_reason",
]


_REJECTED = frozenset({Reason.INVALID_REQUEST, Reason.ACCESS_DENIED})


def retryable_reason(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(RETRYABLE_PREFIX)


def is_blocked(
    revision: str, record: RollbackRecord | None, token: str | None, status: GuardedEndpointStatus
) -> bool:
    """Whether ``revision`` was rolled back and nothing since says "try again"."""
    if record is None or record.revision != revision or retryable_reason(record.reason):
        return False
    if record.retry_token != token:
        return False
    since = record.at or ""
    return not any(h.outcome == SUCCEEDED and (h.finished_at or "") > since for h in status.history)


def _rollback_record(resolution: Resolution | None, memory: Memory, now: datetime) -> RollbackRecord | None:
    """The record of a rollback (or failed rollback) this pass detected.

    It keeps the retry annotation's value of *now*, not the one the intent was recorded under: a
    value set while the deployment ran was no decision about a rollback that had not happened yet,
    so only a value set after this record retries.
    """
    if resolution is None or resolution.fate not in (Fate.ROLLED_BACK, Fate.FAILED):
        return None
    return RollbackRecord(
        revision=resolution.pending.revision,
        config_name=resolution.pending.config_name,
        at=iso(now),
        reason=resolution.reason,
        retry_token=memory.retry_token,
    )


def _stall_or_mark(record: RollbackRecord, detected: RollbackRecord | None) -> Stall | MarkRolledBack:
    """Stall on a blocking rollback; once it is in status, first put it on the config's tags."""
    if detected is not None or record.tagged_at is not None or not record.config_name:
        return Stall()
    return MarkRolledBack(record.config_name, marks.mark_value(record.retry_token))


def _expected_live(status: GuardedEndpointStatus, resolution: Resolution | None) -> str | None:
    """The config the operator last deployed successfully (where the endpoint should be)."""
    if resolution is not None and resolution.fate is Fate.SUCCEEDED:
        return resolution.pending.config_name
    return next((h.config_name for h in status.history if h.outcome == SUCCEEDED), None)


def _ownership(desired: Desired, observed: Observed, memory: Memory) -> Decision | None:
    endpoint = observed.endpoint
    assert endpoint is not None
    if observed.tags is None:
        if tagging.verified(memory.status.endpoint, endpoint):
            return None
        message = (
            f"The tags of SageMaker endpoint {endpoint.name} were not read; reading them on the next pass."
        )
        return Decision(Wait(), Verdict.progressing(Reason.RETRYING, message, ready=None))
    owner = naming.owner_from_tags(observed.tags)
    if owner == desired.identity.owner:
        return None
    if owner is not None:
        message = (
            f"SageMaker endpoint {endpoint.name} belongs to {owner}; "
            "this resource will not touch it. Choose another spec.endpointName."
        )
        return Decision(Stall(), Verdict.stalled(Reason.OWNED_BY_OTHER, message))
    if desired.spec.adopt_existing:
        message = f"Adopting the existing SageMaker endpoint {endpoint.name}."
        return Decision(Adopt(), Verdict.progressing(Reason.ADOPTING, message))
    message = (
        f"SageMaker endpoint {endpoint.name} already exists and is not managed by sagemaker-guardrails; "
        "set spec.adoptExisting: true to take it over, or choose another spec.endpointName."
    )
    return Decision(Stall(), Verdict.stalled(Reason.NOT_ADOPTED, message))


def _instances(desired: Desired) -> int | None:
    return desired.spec.variants[0].initial_instance_count


def _in_flight(desired: Desired, endpoint: EndpointSnapshot, resolution: Resolution) -> Decision:
    pending = resolution.pending
    creating = pending.operation == CREATE
    # The timeline SageMaker runs (LastDeploymentConfig, else the policy sent), never the current spec's.
    running = policy.in_flight(endpoint, pending)
    instances = _instances(desired) if pending.revision == desired.revision else None
    prog = progress(running, endpoint, creating=creating, instances=instances)
    if creating:
        reason, message = (
            Reason.CREATING,
            f"Creating endpoint {endpoint.name} on config {pending.config_name}.",
        )
    else:
        reason = {Stage.BAKING: Reason.BAKING, Stage.ROLLING_BACK: Reason.ROLLING_BACK}.get(
            prog.stage, Reason.DEPLOYING
        )
        message = f"Deploying revision {pending.revision}: {_describe(prog)}."
    if pending.config_name != desired.config_name:
        message += (
            f" Revision {desired.revision} waits until this deployment ends"
            " (SageMaker accepts no change while an endpoint is updating)."
        )
    return Decision(Wait(), Verdict.progressing(reason, message), resolution, prog)


def _describe(prog: Progress) -> str:
    text = f"{prog.stage}, step {prog.step}/{prog.steps}"
    if prog.traffic_percent is not None:
        text += f", ~{prog.traffic_percent}% of traffic on the new fleet"
    if prog.bake_ends_at is not None:
        text += f", baking until {iso(prog.bake_ends_at)}"
    return text


def _maybe_ours(endpoint: EndpointSnapshot, resolution: Resolution | None) -> bool:
    """An update is recorded but not known issued, and SageMaker shows ``Updating`` with no summary.

    Right after UpdateEndpoint SageMaker answers exactly that for a few seconds (spec §13), so the
    window alone says neither "not our deployment" nor "nothing happened": the intent is kept
    (the next pass sees the summary, or the settled endpoint, and resolves it) and never re-issued.
    """
    return (
        resolution is not None
        and resolution.fate is Fate.NOT_ISSUED
        and resolution.pending.operation == UPDATE
        and endpoint.status is EndpointStatus.UPDATING
        and endpoint.pending is None
    )


def _busy(desired: Desired, endpoint: EndpointSnapshot, resolution: Resolution | None) -> Decision:
    if resolution is not None and resolution.fate is Fate.IN_FLIGHT:
        return _in_flight(desired, endpoint, resolution)
    if _maybe_ours(endpoint, resolution):
        assert resolution is not None
        message = (
            f"Waiting for SageMaker to show the deployment of revision {resolution.pending.revision}: "
            f"endpoint {endpoint.name} is Updating without a deployment summary yet, and whether the "
            "UpdateEndpoint call went through is not known yet; it is not issued again meanwhile."
        )
        return Decision(Wait(), Verdict.progressing(Reason.DEPLOYING, message), resolution)
    target = endpoint.pending.config_name if endpoint.pending is not None else None
    outside = f" (being updated outside the operator to config {target})" if target else ""
    message = (
        f"SageMaker endpoint {endpoint.name} is {endpoint.status.value}{outside}; it accepts no change "
        f"until it is InService. Revision {desired.revision} will be deployed then."
    )
    return Decision(Wait(), Verdict.progressing(Reason.BUSY, message), resolution)


def _ready_to_issue(resolution: Resolution | None, operation: str, desired: Desired) -> bool:
    """Whether the desired revision was prepared and ``operation`` recorded, but not yet called."""
    return (
        resolution is not None
        and resolution.fate is Fate.NOT_ISSUED
        and resolution.pending.operation == operation
        and resolution.pending.config_name == desired.config_name
    )


def _absent(desired: Desired, resolution: Resolution | None) -> Decision:
    if _ready_to_issue(resolution, CREATE, desired):
        message = f"Creating endpoint {desired.endpoint_name} on config {desired.config_name}."
        return Decision(Issue(CREATE), Verdict.progressing(Reason.CREATING, message), resolution)
    message = f"Creating the models and endpoint config {desired.config_name} (revision {desired.revision})."
    return Decision(Prepare(CREATE), Verdict.progressing(Reason.CREATING, message), resolution)


def _failed(endpoint: EndpointSnapshot, resolution: Resolution | None) -> Decision:
    message = (
        f"SageMaker endpoint {endpoint.name} is Failed ({endpoint.failure_reason or 'no reason given'}). "
        "SageMaker allows only deleting it: delete the endpoint in SageMaker "
        f"(aws sagemaker delete-endpoint --endpoint-name {endpoint.name}) and the operator creates it "
        "again, or delete this resource."
    )
    return Decision(Stall(), Verdict.stalled(Reason.ENDPOINT_FAILED, message), resolution)


def _rolled_back_message(desired: Desired, record: RollbackRecord, live: str | None) -> str:
    return (
        f"SageMaker rolled back revision {record.revision} (config {record.config_name}): "
        f"{record.reason or 'no reason given'}. The endpoint serves config {live}. To deploy it again, "
        f"change the spec or set a new value on the annotation {RETRY_ANNOTATION}."
    )


def _collect(desired: Desired, memory: Memory, resolution: Resolution | None) -> Collect | None:
    previous = next(
        (
            h.config_name
            for h in memory.status.history
            if h.outcome == SUCCEEDED and h.config_name and h.config_name != desired.config_name
        ),
        None,
    )
    if resolution is not None and resolution.fate is Fate.SUCCEEDED and memory.status.endpoint is not None:
        before = memory.status.endpoint.config_name
        if before and before != desired.config_name:
            previous = before
    keep = tuple(c for c in (desired.config_name, previous) if c)
    if not set(memory.status.owned_configs) - set(keep):
        return None
    revisions = tuple(r for c in keep if (r := naming.revision_of_config(desired.endpoint_name, c)))
    return Collect(keep_configs=keep, keep_revisions=revisions)


def _tag_sync(desired: Desired, observed: Observed, memory: Memory) -> SyncTags | None:
    if observed.tags is None or observed.endpoint is None:
        return None
    applied = tagging.applied_tags(memory.status.endpoint, observed.endpoint)
    return tagging.tag_sync(desired.spec.tags, observed.tags, applied)


def _synced(desired: Desired, observed: Observed, memory: Memory, resolution: Resolution | None) -> Decision:
    endpoint = observed.endpoint
    assert endpoint is not None
    message = (
        f"SageMaker endpoint {endpoint.name} is InService on config {desired.config_name} "
        f"(revision {desired.revision})."
    )
    if endpoint.status is not EndpointStatus.IN_SERVICE:
        busy = f"SageMaker endpoint {endpoint.name} is {endpoint.status.value}."
        return Decision(Wait(), Verdict.progressing(Reason.BUSY, busy), resolution)
    collect = _collect(desired, memory, resolution)
    if collect is not None:
        return Decision(collect, Verdict.in_service(message), resolution)
    sync = _tag_sync(desired, observed, memory)
    if sync is not None:
        tagging_message = f"{message} Updating its tags from spec.tags: {tagging.describe(sync)}."
        verdict = Verdict.progressing(Reason.UPDATING_TAGS, tagging_message, ready=True)
        return Decision(sync, verdict, resolution)
    return Decision(Nothing(), Verdict.in_service(message), resolution)


def _update_rollback_failed(
    desired: Desired, endpoint: EndpointSnapshot, memory: Memory, resolution: Resolution | None, now: datetime
) -> Decision | None:
    """Stalled while the revision whose rollback failed is still the one asked for; else ``None``.

    The recovery is a new UpdateEndpoint with the desired config (spec §4 "Rolling recovery"),
    also when that is the config the endpoint reports: it serves a mix of old and new instances,
    so "the same config" does not mean synced. A spec change (back to the revision that served
    before, say) or a new retry annotation value lets the normal path prepare and issue it.
    """
    detected = _rollback_record(resolution, memory, now)
    record = detected or memory.status.last_rollback
    if record is None or not is_blocked(desired.revision, record, memory.retry_token, memory.status):
        return None
    message = (
        f"SageMaker endpoint {endpoint.name} is UpdateRollbackFailed: a rolling deployment and its rollback "
        f"both failed ({endpoint.failure_reason or 'no reason given'}); it serves a mix of old and new "
        f"instances. To recover, change the spec (for example back to the revision that served before) or "
        f"set a new value on the annotation {RETRY_ANNOTATION}; the operator then calls UpdateEndpoint "
        "with the desired config."
    )
    return Decision(
        _stall_or_mark(record, detected),
        Verdict.stalled(Reason.UPDATE_ROLLBACK_FAILED, message),
        resolution,
        rollback=detected,
    )


def _settled(
    desired: Desired, observed: Observed, memory: Memory, resolution: Resolution | None, now: datetime
) -> Decision:
    endpoint = observed.endpoint
    assert endpoint is not None
    detected = _rollback_record(resolution, memory, now)
    recovering = endpoint.status is EndpointStatus.UPDATE_ROLLBACK_FAILED
    if recovering:
        stalled = _update_rollback_failed(desired, endpoint, memory, resolution, now)
        if stalled is not None:
            return stalled
    elif endpoint.config_name == desired.config_name:
        decision = _synced(desired, observed, memory, resolution)
        return Decision(decision.action, decision.verdict, resolution, rollback=detected)
    record = detected or memory.status.last_rollback
    if record is not None and is_blocked(desired.revision, record, memory.retry_token, memory.status):
        verdict = Verdict.stalled(
            Reason.ROLLED_BACK, _rolled_back_message(desired, record, endpoint.config_name)
        )
        return Decision(_stall_or_mark(record, detected), verdict, resolution, rollback=detected)
    if detected is not None and retryable_reason(detected.reason):
        message = f"SageMaker reported an internal error ({detected.reason}); revision {desired.revision} is retried."
        return Decision(Wait(), Verdict.progressing(Reason.RETRYING, message), resolution, rollback=detected)
    if _ready_to_issue(resolution, UPDATE, desired):
        message = f"Starting the deployment of revision {desired.revision} ({desired.strategy})."
        return Decision(
            Issue(UPDATE), Verdict.progressing(Reason.DEPLOYING, message), resolution, rollback=detected
        )
    expected = _expected_live(memory.status, resolution)
    drift = not recovering and expected is not None and endpoint.config_name != expected
    if recovering:
        reason = Reason.DEPLOYING
        message = (
            f"Recovering SageMaker endpoint {endpoint.name} from UpdateRollbackFailed: deploying revision "
            f"{desired.revision} ({desired.strategy})."
        )
    elif drift:
        reason = Reason.DRIFT
        message = (
            f"SageMaker endpoint {endpoint.name} was moved to config {endpoint.config_name} outside the "
            f"operator (expected {expected}); deploying revision {desired.revision} again."
        )
    else:
        reason = Reason.DEPLOYING
        message = f"Starting the deployment of revision {desired.revision} ({desired.strategy})."
    return Decision(
        Prepare(UPDATE, drift=drift), Verdict.progressing(reason, message), resolution, rollback=detected
    )


def _sticky(decision: Decision, desired: Desired, status: GuardedEndpointStatus) -> Decision:
    """A retry of a request SageMaker rejected keeps the stall until the retry gets through.

    A rejected request (a quota, a permission, a config SageMaker refuses) is retried every settled
    poll, because the fix may lie outside the spec. Without this, each retry would flip Stalled to
    False for one pass and back, with a fresh Warning every time. Only the pass that prepares the
    retry keeps the stall; the pass that issues it reports what the call did.
    """
    if not isinstance(decision.action, Prepare):
        return decision
    stalled = next((c for c in status.conditions if c.type == "Stalled" and c.status == "True"), None)
    same_revision = status.revision is not None and status.revision.desired == desired.revision
    if stalled is None or stalled.reason not in _REJECTED or not same_revision:
        return decision
    verdict = Verdict.stalled(stalled.reason, stalled.message)
    return Decision(decision.action, verdict, decision.resolution, decision.progress, decision.rollback)


def decide(desired: Desired, observed: Observed, memory: Memory, now: datetime) -> Decision:
    """The next step for one GuardedEndpoint; see the module docstring for the rules."""
    status = memory.status
    before = status.endpoint
    try:
        pinning.check(desired, status)
    except InvalidSpec as exc:
        return Decision(Stall(), Verdict.stalled(Reason.INVALID_SPEC, str(exc)))
    endpoint = observed.endpoint
    if endpoint is not None and (ownership := _ownership(desired, observed, memory)) is not None:
        return ownership
    resolution = resolve(status.pending, endpoint, before, desired.config_name, desired.revision)
    if endpoint is None:
        return _sticky(_absent(desired, resolution), desired, status)
    if endpoint.status is EndpointStatus.FAILED:
        return _failed(endpoint, resolution)
    if endpoint.busy or (resolution is not None and resolution.fate is Fate.IN_FLIGHT):
        # In flight also covers an issued update SageMaker does not show yet (resolve.py).
        return _busy(desired, endpoint, resolution)
    return _sticky(_settled(desired, observed, memory, resolution, now), desired, status)
