"""What a resource is pinned to once SageMaker has its resources: the endpoint name and the Region.

Both are immutable at admission (CEL transition rules), but the operator must not rely on that
alone, and the Region of a resource without ``spec.region`` comes from an operator setting that an
administrator may change (the Helm value, or the ``AWS_REGION`` that IRSA injects). Following the
setting would create a second endpoint in the new Region while the first keeps billing, and the
finalizer would look for it in the wrong Region. So:

- ``status.region`` records the Region once the operator has created, or found, something there
  (:func:`pinned_after`); a status written before that field existed is pinned to the Region in
  the recorded endpoint ARN (:func:`recorded_region`).
- A resource without ``spec.region`` keeps its recorded Region (:func:`default_region_for`): the
  operator's default applies to resources when they are created.
- A ``spec.region`` or ``spec.endpointName`` that differs from what the status records is
  :class:`~sagemaker_guardrails.errors.InvalidSpec` (:func:`check`), Stalled with a message that
  says which field and what to do; the finalizer still deletes in the recorded Region.

Endpoint names are compared the way SageMaker compares them, without regard to case.
"""

from __future__ import annotations

from sagemaker_guardrails.api.status import EndpointInfo, GuardedEndpointStatus
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.errors import InvalidSpec

__all__ = ["check", "default_region_for", "pinned_after", "recorded_name", "recorded_region"]


def recorded_region(status: GuardedEndpointStatus) -> str | None:
    """The Region the status pins the resource to: ``status.region``, else its endpoint ARN's."""
    if status.region:
        return status.region
    endpoint = status.endpoint
    return naming.region_of_arn(endpoint.arn) if endpoint is not None else None


def recorded_name(status: GuardedEndpointStatus) -> str | None:
    """The name of the endpoint the status records as created or found (one with an ARN)."""
    endpoint = status.endpoint
    if endpoint is None or not endpoint.arn or not endpoint.name:
        return None
    return endpoint.name


def default_region_for(status: GuardedEndpointStatus, operator_default: str) -> str:
    """The Region of a resource without ``spec.region``: the recorded one, else the operator's."""
    return recorded_region(status) or operator_default


def pinned_after(
    status: GuardedEndpointStatus, desired: Desired, endpoint: EndpointInfo | None, *, created: bool
) -> str | None:
    """``status.region`` after a pass that recorded ``endpoint`` and ``created`` models or a config."""
    return recorded_region(status) or (desired.region if endpoint is not None or created else None)


def check(desired: Desired, status: GuardedEndpointStatus) -> None:
    """Raise :class:`InvalidSpec` when the spec points away from what the status records."""
    name = recorded_name(status)
    if name is not None and not naming.same_name(name, desired.endpoint_name):
        raise InvalidSpec(
            f"spec.endpointName is immutable: this resource manages endpoint {name}; "
            "change it back, or create a new resource for another endpoint.",
            field="spec.endpointName",
        )
    region = recorded_region(status)
    if region is not None and region != desired.region:
        raise InvalidSpec(
            f"spec.region is immutable: the SageMaker endpoint {name or desired.endpoint_name} of this "
            f"resource is in {region} (status.region), not {desired.region}. Set spec.region back to "
            f"{region}, or delete this resource (its finalizer deletes in {region}) and create it "
            f"again for {desired.region}.",
            field="spec.region",
        )
