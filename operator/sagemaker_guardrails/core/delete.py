"""The pure decision of one deletion pass (the finalizer of a GuardedEndpoint).

- ``deletionPolicy: Retain`` leaves every SageMaker resource where it is; the finalizer goes
  at once.
- ``Delete`` deletes the endpoint first, then the endpoint configs and models. SageMaker
  refuses ``DeleteEndpoint`` while the endpoint is ``Creating``/``Updating``/... ("Cannot update
  in-progress endpoint"), and there is no call to cancel a deployment, so the pass waits for
  a busy endpoint (possibly for the rest of a guarded deployment). Configs and models go only
  once the endpoint is gone: a config still referenced by a deleting endpoint must stay.
- Only what carries this resource's ownership tags is deleted. An endpoint owned by another
  resource, or never adopted, is left alone; the resource's own configs and models still go.
  The endpoint's tags must have been read in this very pass: the status's memory of having
  verified the endpoint (``core/tagging.py``) saves polls, but never stands in for a read
  before a deletion.

The finalizer is removed only when the pass reports ``finished``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker_guardrails.api.spec import DeletionPolicy
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.observed import EndpointStatus, Observed

__all__ = ["DeleteDecision", "DeleteEndpoint", "DeleteLeftovers", "Done", "WaitForEndpoint", "decide_delete"]


@dataclass(frozen=True)
class DeleteEndpoint:
    pass


@dataclass(frozen=True)
class DeleteLeftovers:
    """Delete every config and model of ours (all revisions)."""


@dataclass(frozen=True)
class WaitForEndpoint:
    pass


@dataclass(frozen=True)
class Done:
    pass


DeleteAction = DeleteEndpoint | DeleteLeftovers | WaitForEndpoint | Done


@dataclass(frozen=True)
class DeleteDecision:
    action: DeleteAction
    message: str


def decide_delete(
    policy: DeletionPolicy, endpoint_name: str, owner: naming.Owner, observed: Observed | None
) -> DeleteDecision:
    """The next deletion step; ``observed`` is ``None`` when the endpoint name is unusable."""
    if policy is DeletionPolicy.RETAIN:
        return DeleteDecision(
            Done(),
            f"SageMaker endpoint {endpoint_name}, its configs and models are retained (deletionPolicy: Retain).",
        )
    endpoint = observed.endpoint if observed is not None else None
    if endpoint is None:
        return DeleteDecision(
            DeleteLeftovers(), f"Deleting the endpoint configs and models of {endpoint_name}."
        )
    assert observed is not None
    if observed.tags is None or naming.owner_from_tags(observed.tags) != owner:
        return DeleteDecision(
            DeleteLeftovers(),
            f"SageMaker endpoint {endpoint_name} is not owned by this resource and is left alone; "
            "deleting this resource's endpoint configs and models.",
        )
    if endpoint.status is EndpointStatus.DELETING:
        return DeleteDecision(WaitForEndpoint(), f"SageMaker is deleting endpoint {endpoint_name}.")
    if endpoint.busy:
        return DeleteDecision(
            WaitForEndpoint(),
            f"SageMaker endpoint {endpoint_name} is {endpoint.status.value}; it can be deleted once it is not "
            "in progress (SageMaker cannot cancel a deployment).",
        )
    return DeleteDecision(DeleteEndpoint(), f"Deleting SageMaker endpoint {endpoint_name}.")
