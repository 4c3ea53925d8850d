"""Surprises a pass must say out loud, beyond the three kstatus conditions.

- **An endpoint deleted behind the operator's back** (``aws sagemaker delete-endpoint``, a
  console click, a cleanup script). The reconciler is level-triggered: it finds no endpoint and
  creates it again from the spec, which is right, but a recreated endpoint is a new fleet with a
  new ARN, cold instances and lost autoscaling state, so it must never happen silently. The pass
  that first finds the endpoint gone (the status still remembers its ARN) posts a Warning Event
  ``EndpointMissing`` and says so in the Reconciling message; the status then forgets the
  endpoint, so the notice is made once per disappearance.
- **Guardrails SageMaker will not apply** (:mod:`.exclusions`): the informational condition
  ``GuardrailsNotApplied`` and a Warning Event of the same reason, once per revision.
"""

from __future__ import annotations

from collections.abc import Sequence

from sagemaker_guardrails.api.status import Condition, EndpointInfo
from sagemaker_guardrails.core import exclusions
from sagemaker_guardrails.core.observed import Observed

__all__ = ["ENDPOINT_MISSING", "endpoint_missing", "exclusion_condition", "exclusion_event_due"]

ENDPOINT_MISSING = "EndpointMissing"


def endpoint_missing(before: EndpointInfo | None, observed: Observed, endpoint_name: str) -> str | None:
    """The notice when an endpoint the status knew is gone, or None."""
    if observed.endpoint is not None or before is None or not before.arn:
        return None
    if before.name and before.name != endpoint_name:
        return None
    last = f", last seen {before.status}" if before.status else ""
    config = f" on config {before.config_name}" if before.config_name else ""
    return (
        f"SageMaker endpoint {endpoint_name} ({before.arn}{last}{config}) no longer exists: it was deleted "
        "outside the operator. The operator creates it again from the spec (a new endpoint: new ARN, "
        "new instances)."
    )


def exclusion_condition(
    notice: exclusions.Notice | None, previous: Sequence[Condition], generation: int, now: str
) -> Condition | None:
    """The ``GuardrailsNotApplied`` condition for ``notice`` (None: the condition is dropped)."""
    if notice is None:
        return None
    before = next((c for c in previous if c.type == exclusions.CONDITION), None)
    kept = before.last_transition_time if before is not None and before.status == "True" else None
    return Condition(
        type=exclusions.CONDITION,
        status="True",
        reason=notice.reason,
        message=notice.message,
        observed_generation=generation,
        last_transition_time=kept or now,
    )


def exclusion_event_due(notice: exclusions.Notice | None, previous: Sequence[Condition]) -> bool:
    """Whether this pass posts the Warning: the notice is new, or names another revision."""
    if notice is None:
        return False
    before = next((c for c in previous if c.type == exclusions.CONDITION), None)
    return before is None or before.status != "True" or before.message != notice.message
