"""The traffic-shifting policy a deployment in flight runs under: SageMaker's, not the spec's.

Why not the spec
----------------
``spec.deployment`` is not part of the revision (a policy change alone deploys nothing), so a
user may edit it while a canary bakes. SageMaker keeps running the DeploymentConfig it was given
with UpdateEndpoint; progress computed from the edited spec would jump from "step 1/2" to
"step 1/4" without anything having happened. The timeline of a deployment in flight therefore
comes, best first, from:

1. ``DescribeEndpoint.LastDeploymentConfig``: the DeploymentConfig SageMaker holds; while an
   update runs it is that update's (spec §1.3);
2. the policy recorded with the intent when UpdateEndpoint was called (``status.pending.policy``),
   for the moments SageMaker does not report one;
3. SageMaker's own default, blue/green all at once without bakes (what an update without a
   DeploymentConfig does, spec §1.1).

Only the fields a timeline needs are kept (:class:`Policy`); alarms and timeouts do not shape it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_guardrails.api.spec import CapacitySize, CapacitySizeType, DeploymentSpec
from sagemaker_guardrails.api.status import PendingCall, PolicyRecord
from sagemaker_guardrails.core.observed import EndpointSnapshot

__all__ = ["DEFAULT", "Policy", "in_flight", "of_deployment_config", "of_spec", "recorded"]

_STRATEGIES = {"ALL_AT_ONCE": "AllAtOnce", "CANARY": "Canary", "LINEAR": "Linear"}
_SIZE_TYPES = {
    "CAPACITY_PERCENT": CapacitySizeType.CAPACITY_PERCENT,
    "INSTANCE_COUNT": CapacitySizeType.INSTANCE_COUNT,
}


@dataclass(frozen=True)
class Policy:
    """What shapes a timeline: the mode, its step (canary, linear step or rolling batch), the bakes."""

    strategy: str  # AllAtOnce, Canary, Linear or Rolling
    step: CapacitySize | None
    wait_seconds: int
    final_wait_seconds: int

    def record(self) -> PolicyRecord:
        return PolicyRecord(
            strategy=self.strategy,
            step_type=self.step.type.value if self.step is not None else None,
            step_value=self.step.value if self.step is not None else None,
            wait_seconds=self.wait_seconds,
            final_wait_seconds=self.final_wait_seconds,
        )


DEFAULT = Policy("AllAtOnce", None, 0, 0)


def of_spec(policy: DeploymentSpec) -> Policy:
    """The policy of ``spec.deployment`` (what an UpdateEndpoint made now would send)."""
    if policy.rolling is not None:
        wait = policy.rolling.wait_interval_seconds
        return Policy("Rolling", policy.rolling.maximum_batch_size, wait, wait)
    assert policy.blue_green is not None
    routing = policy.blue_green.traffic_routing
    step = routing.canary_size or routing.linear_step_size
    final = policy.blue_green.termination_wait_seconds
    return Policy(routing.type.value, step, routing.wait_interval_seconds, final)


def _size(raw: Any) -> CapacitySize | None:
    if not isinstance(raw, Mapping):
        return None
    kind = _SIZE_TYPES.get(str(raw.get("Type")))
    value = raw.get("Value")
    if kind is None or not isinstance(value, int) or value < 1:
        return None
    return CapacitySize(type=kind, value=value)


def _seconds(raw: Any) -> int:
    return raw if isinstance(raw, int) and raw >= 0 else 0


def of_deployment_config(raw: Mapping[str, Any] | None) -> Policy | None:
    """The policy of a DeploymentConfig as SageMaker reports it (``None``: none, or not readable)."""
    if not raw:
        return None
    rolling = raw.get("RollingUpdatePolicy")
    if isinstance(rolling, Mapping):
        batch = _size(rolling.get("MaximumBatchSize"))
        wait = _seconds(rolling.get("WaitIntervalInSeconds"))
        return Policy("Rolling", batch, wait, wait) if batch is not None else None
    blue_green = raw.get("BlueGreenUpdatePolicy")
    if not isinstance(blue_green, Mapping):
        return None
    routing = blue_green.get("TrafficRoutingConfiguration")
    if not isinstance(routing, Mapping) or str(routing.get("Type")) not in _STRATEGIES:
        return None
    strategy = _STRATEGIES[str(routing["Type"])]
    step = _size(routing.get("CanarySize") if strategy == "Canary" else routing.get("LinearStepSize"))
    if strategy != "AllAtOnce" and step is None:
        return None
    wait = _seconds(routing.get("WaitIntervalInSeconds"))
    return Policy(strategy, step, wait, _seconds(blue_green.get("TerminationWaitInSeconds")))


def recorded(record: PolicyRecord | None) -> Policy | None:
    """The policy stored with an intent (``status.pending.policy``)."""
    if record is None:
        return None
    step = None
    if record.step_type is not None and record.step_value is not None:
        step = CapacitySize(type=CapacitySizeType(record.step_type), value=record.step_value)
    return Policy(record.strategy, step, record.wait_seconds, record.final_wait_seconds)


def in_flight(endpoint: EndpointSnapshot, pending: PendingCall | None) -> Policy:
    """The policy of the deployment running on ``endpoint`` (see the module docstring for the order)."""
    return (
        of_deployment_config(endpoint.last_deployment_config)
        or recorded(pending.policy if pending is not None else None)
        or DEFAULT
    )
