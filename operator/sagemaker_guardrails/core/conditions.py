"""kstatus conditions (``Ready``, ``Reconciling``, ``Stalled``) and the phase derived from them.

Every pass ends in one :class:`Verdict`: the resource is ready, still progressing, or stalled
(nothing will change until a human does something). The three conditions are always written,
each with the resource's generation, so ``kubectl wait --for=condition=Ready``, Flux and Argo CD
read them without plugins. ``Reconciling`` and ``Stalled`` are never both true.

``phase`` is a one-word summary for people and printer columns, derived from the conditions
(and the deployment stage); the operator never reads it back.

Two choices worth knowing:

- A rolled-back revision is ``Stalled`` (reason ``RolledBack``): by kstatus rules a terminal
  failure that needs a human is Stalled, and a retry needs a spec change or a new value of the
  retry annotation.
- Throttling and 5xx leave ``Ready`` as it was (``ready=None``): an endpoint does not stop
  serving because the operator could not look at it. A pass that could not observe SageMaker at
  all keeps every condition as it was (``core/report.py``: ``unobserved``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sagemaker_guardrails.api.status import Condition, Phase

__all__ = ["READY", "RECONCILING", "STALLED", "Reason", "Verdict", "conditions", "phase"]

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"


class Reason:
    """Every condition reason the operator writes."""

    IN_SERVICE = "InService"
    CREATING = "Creating"
    DEPLOYING = "Deploying"
    BAKING = "Baking"
    ROLLING_BACK = "RollingBack"
    BUSY = "Busy"
    ADOPTING = "Adopting"
    DRIFT = "Drift"
    UPDATING_TAGS = "UpdatingTags"
    THROTTLED = "Throttled"
    RETRYING = "Retrying"
    DELETING = "Deleting"
    ROLLED_BACK = "RolledBack"
    INVALID_SPEC = "InvalidSpec"
    INVALID_REQUEST = "InvalidRequest"
    OWNED_BY_OTHER = "OwnedByOther"
    NOT_ADOPTED = "NotAdopted"
    ENDPOINT_FAILED = "EndpointFailed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"
    ACCESS_DENIED = "AccessDenied"
    ERROR = "Error"


_FAILED_REASONS = frozenset({Reason.ENDPOINT_FAILED, Reason.UPDATE_ROLLBACK_FAILED})
_DEPLOYING_REASONS = frozenset({Reason.DEPLOYING, Reason.DRIFT, Reason.ADOPTING, Reason.ROLLING_BACK})
_WAITING_REASONS = frozenset({Reason.BUSY})


@dataclass(frozen=True)
class Verdict:
    """The headline of a pass: ``state`` is ``ready``, ``progressing`` or ``stalled``.

    ``ready`` overrides the Ready condition: ``None`` keeps the previous one (used when the pass
    could not observe SageMaker), ``True``/``False`` set it.
    """

    state: str
    reason: str
    message: str
    ready: bool | None = False

    @staticmethod
    def in_service(message: str) -> Verdict:
        return Verdict("ready", Reason.IN_SERVICE, message, ready=True)

    @staticmethod
    def progressing(reason: str, message: str, *, ready: bool | None = False) -> Verdict:
        return Verdict("progressing", reason, message, ready=ready)

    @staticmethod
    def stalled(reason: str, message: str) -> Verdict:
        return Verdict("stalled", reason, message, ready=False)

    @property
    def is_stalled(self) -> bool:
        return self.state == "stalled"


def _stamped(condition: Condition, previous: Sequence[Condition], now: str) -> Condition:
    """``condition`` with the previous transition time if its status did not change."""
    before = _get(previous, condition.type)
    when = before.last_transition_time if before is not None and before.status == condition.status else None
    return condition.model_copy(update={"last_transition_time": when or now})


def conditions(
    verdict: Verdict, previous: Sequence[Condition], generation: int, now: datetime
) -> list[Condition]:
    """Ready, Reconciling and Stalled for ``verdict``; transition times survive unchanged statuses."""

    def make(kind: str, on: bool, *, explain: bool = False) -> Condition:
        return Condition(
            type=kind,
            status="True" if on else "False",
            reason=verdict.reason if on or explain else "",
            message=verdict.message if on or explain else "",
            observed_generation=generation,
        )

    before = _get(previous, READY)
    keep = verdict.ready is None or (
        verdict.ready and verdict.state != "ready" and before and before.status == "True"
    )
    if keep and before is not None:
        ready = before.model_copy(update={"observed_generation": generation})
    elif verdict.ready and verdict.state != "ready":
        ready = make(READY, True).model_copy(update={"reason": Reason.IN_SERVICE, "message": ""})
    else:
        ready = make(READY, verdict.ready is True, explain=True)
    made = [
        ready,
        make(RECONCILING, verdict.state == "progressing"),
        make(STALLED, verdict.state == "stalled"),
    ]
    return [_stamped(c, previous, now.isoformat()) for c in made]


def _get(items: Sequence[Condition], kind: str) -> Condition | None:
    return next((c for c in items if c.type == kind), None)


def phase(items: Sequence[Condition], stage: str | None = None) -> Phase:
    """The phase shown to people, from the conditions and the deployment stage."""
    stalled = _get(items, STALLED)
    if stalled is not None and stalled.status == "True":
        if stalled.reason == Reason.ROLLED_BACK:
            return Phase.ROLLED_BACK
        return Phase.FAILED if stalled.reason in _FAILED_REASONS else Phase.STALLED
    ready = _get(items, READY)
    is_ready = ready is not None and ready.status == "True"
    reconciling = _get(items, RECONCILING)
    if reconciling is None or reconciling.status != "True":
        return Phase.IN_SERVICE if is_ready else Phase.PENDING
    reason = reconciling.reason
    if reason == Reason.DELETING:
        return Phase.DELETING
    if reason == Reason.CREATING:
        return Phase.CREATING
    if reason == Reason.BAKING or (reason in _DEPLOYING_REASONS and stage == "Baking"):
        return Phase.BAKING
    if reason in _DEPLOYING_REASONS:
        return Phase.DEPLOYING
    if reason in _WAITING_REASONS:
        return Phase.WAITING
    return Phase.IN_SERVICE if is_ready else Phase.PENDING
