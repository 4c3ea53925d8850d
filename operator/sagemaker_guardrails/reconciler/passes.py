"""One reconcile pass: observe, decide, act (at most one mutating step), report.

Every handler and timer calls :func:`reconcile`; it never raises for anything SageMaker or the
resource can do (``Exception`` subclasses end up in the status conditions and in
``Outcome.error``), so one bad resource can never stop the operator from serving the others.
The pass reads only the resource and SageMaker, writes nothing itself, and returns the complete
next status, which the caller writes once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sagemaker_guardrails.aws.ports import SageMakerPort
from sagemaker_guardrails.core import exclusions, marks, migration, naming, pinning
from sagemaker_guardrails.core.actions import Memory
from sagemaker_guardrails.core.conditions import Verdict
from sagemaker_guardrails.core.decide import (
    Adopt,
    Collect,
    Decision,
    Nothing,
    Prepare,
    Stall,
    decide,
)
from sagemaker_guardrails.core.desired import Desired, build_desired, parse_spec
from sagemaker_guardrails.core.observed import Observed
from sagemaker_guardrails.core.report import Report, build, unobserved
from sagemaker_guardrails.errors import Busy, InvalidSpec, OperatorError, Retryable
from sagemaker_guardrails.reconciler.common import dump, identity_of, memory_of, observe_for
from sagemaker_guardrails.reconciler.deletion import finalize
from sagemaker_guardrails.reconciler.steps import config_tags, execute
from sagemaker_guardrails.reconciler.types import Deps, Outcome, Resource

__all__ = ["INTENT_REQUEUE_SECONDS", "reconcile"]

log = logging.getLogger(__name__)

# After an intent is recorded the next pass issues the call; it only has to wait for the write.
INTENT_REQUEUE_SECONDS = 0.5
# After adoption the next pass starts deploying the spec.
ADOPT_REQUEUE_SECONDS = 1.0
# After a rollback is recorded in status, the next pass puts it on the config's tags.
MARK_REQUEUE_SECONDS = 1.0


def _requeue(decision: Decision | None, verdict: Verdict, error: Exception | None, deps: Deps) -> float:
    settings = deps.settings
    if isinstance(error, Retryable) and error.retry_after is not None:
        return error.retry_after
    if isinstance(error, Retryable | Busy) or (error is not None and not isinstance(error, OperatorError)):
        return deps.jittered(settings.active_poll_seconds)
    action = decision.action if decision is not None and error is None else None
    if isinstance(action, Prepare):
        return INTENT_REQUEUE_SECONDS
    if isinstance(action, Adopt):
        return ADOPT_REQUEUE_SECONDS
    if isinstance(action, Stall) and decision is not None and decision.rollback is not None:
        return MARK_REQUEUE_SECONDS
    if verdict.is_stalled or isinstance(action, Nothing | Collect):
        return deps.jittered(settings.settled_poll_seconds)
    return deps.jittered(settings.active_poll_seconds)


def _result(verdict: Verdict, error: Exception | None) -> str:
    if error is not None and not isinstance(error, OperatorError):
        return "error"
    if verdict.is_stalled:
        return "stalled"
    if verdict.state == "ready" and error is None:
        return "ok"
    return "requeued"


def outcome_of(report: Report, decision: Decision | None, error: Exception | None, deps: Deps) -> Outcome:
    return Outcome(
        status=dump(report.status),
        events=report.events,
        transitions=report.transitions,
        requeue_after=_requeue(decision, report.verdict, error, deps),
        error=error,
        result=_result(report.verdict, error),
    )


def _desired(resource: Resource, deps: Deps, memory: Memory) -> Desired:
    """The spec in SageMaker terms, in the Region and under the names the status pins it to.

    Raises :class:`InvalidSpec` for a spec that points away from the recorded endpoint or Region
    (:mod:`sagemaker_guardrails.core.pinning`); that pass does not look at SageMaker at all.
    """
    region = pinning.default_region_for(memory.status, deps.settings.default_region)

    def build() -> tuple[Desired, Desired]:
        desired = build_desired(parse_spec(resource.spec), identity_of(resource, deps), region)
        return desired, migration.in_use(desired, memory.status)

    key = (resource.uid, resource.generation, resource.namespace, resource.name, region)
    desired, named = deps.desired.get((*key, migration.recorded_configs(memory.status)), build)
    pinning.check(desired, memory.status)
    return named


def _served_names(desired: Desired, memory: Memory, observed: Observed) -> Desired:
    """``desired`` under first-scheme names if the endpoint serves them (a status that lost them)."""
    served = observed.endpoint.config_name if observed.endpoint is not None else None
    if served is None or naming.same_name(served, desired.config_name):
        return desired
    return migration.in_use(desired, memory.status, served)


def _notice(desired: Desired, deps: Deps) -> exclusions.Notice | None:
    """Guardrails SageMaker will not apply to the desired revision; InvalidSpec when refused."""
    settings = deps.settings
    notice = exclusions.notice(
        desired.spec,
        desired.revision,
        instance_prefixes=settings.guardrails_excluded_instance_prefixes,
        image_prefixes=settings.guardrails_excluded_image_prefixes,
    )
    if notice is not None and settings.guardrail_exclusions == "refuse":
        raise InvalidSpec(
            f"{notice.message} The operator is set to refuse such deployments "
            "(guardrail_exclusions=refuse): choose an instance type and images SageMaker guards."
        )
    return notice


def reconcile(resource: Resource, deps: Deps, now: datetime) -> Outcome:
    """One level-triggered pass over ``resource``; see the module docstring.

    A resource being deleted never gets anything created: a timer tick that races the deletion
    runs the deletion pass instead.
    """
    if resource.deleting:
        return finalize(resource, deps, now)
    memory = memory_of(resource)
    generation = resource.generation
    try:
        desired = _desired(resource, deps, memory)
    except InvalidSpec as exc:
        report = unobserved(memory=memory, desired=None, error=exc, generation=generation, now=now)
        return outcome_of(report, None, exc, deps)
    try:
        notice = _notice(desired, deps)
    except InvalidSpec as exc:
        report = unobserved(memory=memory, desired=desired, error=exc, generation=generation, now=now)
        return outcome_of(report, None, exc, deps)
    port = deps.clients(desired.region).sagemaker
    try:
        observed = observe_for(port, desired, memory, now, deps)
        desired = _served_names(desired, memory, observed)
        memory, decision = _decide(port, desired, observed, memory, now)
    except Exception as exc:
        _log_unexpected(resource, exc)
        report = unobserved(
            memory=memory, desired=desired, error=exc, generation=generation, now=now, notice=notice
        )
        return outcome_of(report, None, exc, deps)
    error: Exception | None = None
    try:
        execute(decision.action, port, desired, observed)
    except Exception as exc:
        _log_unexpected(resource, exc)
        error = exc
    report = build(
        memory=memory,
        desired=desired,
        observed=observed,
        decision=decision,
        error=error,
        generation=generation,
        now=now,
        notice=notice,
    )
    return outcome_of(report, decision, error, deps)


def _decide(
    port: SageMakerPort, desired: Desired, observed: Observed, memory: Memory, now: datetime
) -> tuple[Memory, Decision]:
    """Decide; before deploying a revision the status knows no rollback of, ask its config's tags.

    A rollback recalled from the tags (:mod:`sagemaker_guardrails.core.marks`) goes back into the
    memory, so the decision is made, and the status written, as if it had never been lost.
    """
    decision = decide(desired, observed, memory, now)
    if not marks.recall_due(decision, desired, memory):
        return memory, decision
    tags = config_tags(port, desired.config_name)
    record = marks.recalled(desired, memory, observed.endpoint, tags, now)
    if record is None:
        return memory, decision
    memory = marks.remembering(memory, record)
    return memory, decide(desired, observed, memory, now)


def _log_unexpected(resource: Resource, exc: Exception) -> None:
    if not isinstance(exc, OperatorError):
        log.exception("unexpected error reconciling %s/%s", resource.namespace, resource.name, exc_info=exc)
