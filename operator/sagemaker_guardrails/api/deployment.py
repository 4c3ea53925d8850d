"""The deployment guardrail: blue/green (all-at-once, canary, linear) or rolling, plus alarms.

This is SageMaker's ``DeploymentConfig`` in Kubernetes clothes, with every bound the service
enforces (botocore checks none of the maximums, so a wait of 3601 s or eleven alarms would pass
the client and fail inside ``UpdateEndpoint``). Surprises worth knowing:

- ``WaitIntervalInSeconds`` is required by SageMaker even for all-at-once; here it defaults to 0.
- ``MaximumExecutionTimeoutInSeconds`` must exceed the configured waits (the model's doc string:
  "larger than the total waiting time specified in TerminationWaitInSeconds and
  WaitIntervalInSeconds").
- Percent sizes are bounded here; sizes in instances depend on the variants' instance counts and
  are checked on the whole spec (``spec.py``).
- The deployment policy is *not* part of the desired revision: changing only the policy deploys
  nothing, it shapes the next deployment.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from sagemaker_guardrails.api.base import (
    ALARM_NAME_PATTERN,
    CANARY_MAX_PERCENT,
    LINEAR_MAX_PERCENT,
    LINEAR_MIN_PERCENT,
    MAX_ALARMS,
    ROLLING_MAX_PERCENT,
    ROLLING_MIN_PERCENT,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    WAIT_MAX_SECONDS,
    CamelModel,
    Rule,
)


class TrafficRoutingType(StrEnum):
    ALL_AT_ONCE = "AllAtOnce"
    CANARY = "Canary"
    LINEAR = "Linear"


class CapacitySizeType(StrEnum):
    CAPACITY_PERCENT = "CapacityPercent"
    INSTANCE_COUNT = "InstanceCount"


class CapacitySize(CamelModel):
    """A share of a variant's fleet, as a percentage or as a number of instances."""

    type: CapacitySizeType = Field(
        description="CapacityPercent (a share of the variant's instance count) or InstanceCount."
    )
    value: int = Field(ge=1, description="The percentage or the number of instances (at least 1).")

    rules: ClassVar[tuple[Rule[CapacitySize], ...]] = (
        Rule(
            cel="self.type != 'CapacityPercent' || self.value <= 100",
            check=lambda c: c.type is not CapacitySizeType.CAPACITY_PERCENT or c.value <= 100,
            message="value must be at most 100 when type is CapacityPercent",
            field_path=".value",
        ),
    )

    def percent_within(self, low: int, high: int) -> bool:
        """True unless this is a percentage outside ``low..high``."""
        return self.type is not CapacitySizeType.CAPACITY_PERCENT or low <= self.value <= high


class TrafficRoutingSpec(CamelModel):
    """How blue/green shifts traffic from the old fleet to the new one."""

    type: TrafficRoutingType = Field(
        description=(
            "AllAtOnce (shift everything, bake terminationWaitSeconds), Canary (a canary share first, "
            "bake waitIntervalSeconds, then the rest) or Linear (equal steps, each baked)."
        )
    )
    wait_interval_seconds: int = Field(
        default=0,
        ge=0,
        le=WAIT_MAX_SECONDS,
        description="Bake time after each traffic step, in seconds (0-3600).",
    )
    canary_size: CapacitySize | None = Field(
        default=None, description="Canary capacity (Canary only; at most 50 % of each variant's instances)."
    )
    linear_step_size: CapacitySize | None = Field(
        default=None, description="Capacity of each step (Linear only; 10-50 % of each variant's instances)."
    )

    rules: ClassVar[tuple[Rule[TrafficRoutingSpec], ...]] = (
        Rule(
            cel="self.type != 'Canary' || has(self.canarySize)",
            check=lambda t: t.type is not TrafficRoutingType.CANARY or t.canary_size is not None,
            message="canarySize is required when type is Canary",
            field_path=".canarySize",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.type == 'Canary' || !has(self.canarySize)",
            check=lambda t: t.type is TrafficRoutingType.CANARY or t.canary_size is None,
            message="canarySize is only allowed when type is Canary",
            field_path=".canarySize",
            reason="FieldValueForbidden",
        ),
        Rule(
            cel="self.type != 'Linear' || has(self.linearStepSize)",
            check=lambda t: t.type is not TrafficRoutingType.LINEAR or t.linear_step_size is not None,
            message="linearStepSize is required when type is Linear",
            field_path=".linearStepSize",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.type == 'Linear' || !has(self.linearStepSize)",
            check=lambda t: t.type is TrafficRoutingType.LINEAR or t.linear_step_size is None,
            message="linearStepSize is only allowed when type is Linear",
            field_path=".linearStepSize",
            reason="FieldValueForbidden",
        ),
        Rule(
            cel=(
                "!has(self.canarySize) || self.canarySize.type != 'CapacityPercent' "
                f"|| self.canarySize.value <= {CANARY_MAX_PERCENT}"
            ),
            check=lambda t: t.canary_size is None or t.canary_size.percent_within(1, CANARY_MAX_PERCENT),
            message=f"canarySize must be at most {CANARY_MAX_PERCENT} percent",
            field_path=".canarySize.value",
        ),
        Rule(
            cel=(
                "!has(self.linearStepSize) || self.linearStepSize.type != 'CapacityPercent' "
                f"|| (self.linearStepSize.value >= {LINEAR_MIN_PERCENT} "
                f"&& self.linearStepSize.value <= {LINEAR_MAX_PERCENT})"
            ),
            check=lambda t: (
                t.linear_step_size is None
                or t.linear_step_size.percent_within(LINEAR_MIN_PERCENT, LINEAR_MAX_PERCENT)
            ),
            message=f"linearStepSize must be between {LINEAR_MIN_PERCENT} and {LINEAR_MAX_PERCENT} percent",
            field_path=".linearStepSize.value",
        ),
    )


class BlueGreenSpec(CamelModel):
    """Blue/green: provision the new fleet, shift traffic in steps, bake, then remove the old fleet."""

    traffic_routing: TrafficRoutingSpec = Field(description="How traffic moves to the new fleet.")
    termination_wait_seconds: int = Field(
        default=0,
        ge=0,
        le=WAIT_MAX_SECONDS,
        description="Final bake with all traffic on the new fleet before the old one is terminated (0-3600).",
    )
    maximum_execution_timeout_seconds: int | None = Field(
        default=None,
        ge=TIMEOUT_MIN_SECONDS,
        le=TIMEOUT_MAX_SECONDS,
        description=(
            "Deployment time limit (600-28800); must be larger than "
            "trafficRouting.waitIntervalSeconds + terminationWaitSeconds."
        ),
    )

    rules: ClassVar[tuple[Rule[BlueGreenSpec], ...]] = (
        Rule(
            cel=(
                "!has(self.maximumExecutionTimeoutSeconds) || self.maximumExecutionTimeoutSeconds > "
                "(has(self.trafficRouting.waitIntervalSeconds) ? self.trafficRouting.waitIntervalSeconds : 0)"
                " + (has(self.terminationWaitSeconds) ? self.terminationWaitSeconds : 0)"
            ),
            check=lambda b: (
                b.maximum_execution_timeout_seconds is None
                or b.maximum_execution_timeout_seconds
                > b.traffic_routing.wait_interval_seconds + b.termination_wait_seconds
            ),
            message=(
                "maximumExecutionTimeoutSeconds must be larger than "
                "trafficRouting.waitIntervalSeconds + terminationWaitSeconds"
            ),
            field_path=".maximumExecutionTimeoutSeconds",
        ),
    )


class RollingSpec(CamelModel):
    """Rolling: replace the fleet batch by batch, baking after each batch."""

    maximum_batch_size: CapacitySize = Field(
        description="Instances per batch (5-50 % of the variant's instances)."
    )
    wait_interval_seconds: int = Field(
        ge=0, le=WAIT_MAX_SECONDS, description="Bake time after each batch, in seconds (0-3600)."
    )
    maximum_execution_timeout_seconds: int | None = Field(
        default=None,
        ge=TIMEOUT_MIN_SECONDS,
        le=TIMEOUT_MAX_SECONDS,
        description="Deployment time limit (600-28800); must be larger than waitIntervalSeconds.",
    )
    rollback_maximum_batch_size: CapacitySize | None = Field(
        default=None, description="Batch size when rolling back (default: the whole fleet at once)."
    )

    rules: ClassVar[tuple[Rule[RollingSpec], ...]] = (
        Rule(
            cel=(
                "self.maximumBatchSize.type != 'CapacityPercent' || "
                f"(self.maximumBatchSize.value >= {ROLLING_MIN_PERCENT} "
                f"&& self.maximumBatchSize.value <= {ROLLING_MAX_PERCENT})"
            ),
            check=lambda r: r.maximum_batch_size.percent_within(ROLLING_MIN_PERCENT, ROLLING_MAX_PERCENT),
            message=(
                f"maximumBatchSize must be between {ROLLING_MIN_PERCENT} and {ROLLING_MAX_PERCENT} percent"
            ),
            field_path=".maximumBatchSize.value",
        ),
        Rule(
            cel=(
                "!has(self.maximumExecutionTimeoutSeconds) || "
                "self.maximumExecutionTimeoutSeconds > self.waitIntervalSeconds"
            ),
            check=lambda r: (
                r.maximum_execution_timeout_seconds is None
                or r.maximum_execution_timeout_seconds > r.wait_interval_seconds
            ),
            message="maximumExecutionTimeoutSeconds must be larger than waitIntervalSeconds",
            field_path=".maximumExecutionTimeoutSeconds",
        ),
    )


AlarmName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=ALARM_NAME_PATTERN)]


class AutoRollbackSpec(CamelModel):
    """CloudWatch alarms that roll a deployment back when they go to ALARM during a bake."""

    alarms: list[AlarmName] = Field(
        min_length=1,
        max_length=MAX_ALARMS,
        description=(
            "1 to 10 CloudWatch alarm names (names, not ARNs: the alarms must live in the endpoint's "
            "account and Region)."
        ),
    )

    rules: ClassVar[tuple[Rule[AutoRollbackSpec], ...]] = (
        Rule(
            cel="self.alarms.all(a, !a.startsWith('arn:'))",
            check=lambda a: not any(name.startswith("arn:") for name in a.alarms),
            message="alarms must be CloudWatch alarm names, not ARNs",
            field_path=".alarms",
        ),
        Rule(
            cel="self.alarms.all(a, self.alarms.exists_one(b, b == a))",
            check=lambda a: len(set(a.alarms)) == len(a.alarms),
            message="alarms must not list an alarm twice",
            field_path=".alarms",
            reason="FieldValueDuplicate",
        ),
    )


class DeploymentSpec(CamelModel):
    """The guardrail every update must follow: exactly one of blueGreen or rolling."""

    blue_green: BlueGreenSpec | None = Field(default=None, description="Blue/green traffic shifting.")
    rolling: RollingSpec | None = Field(
        default=None, description="Rolling batches (one instance-based variant only; not serverless)."
    )
    auto_rollback: AutoRollbackSpec | None = Field(
        default=None,
        description="Alarms that trigger an automatic rollback. Without them, bakes are plain waits.",
    )

    rules: ClassVar[tuple[Rule[DeploymentSpec], ...]] = (
        Rule(
            cel="has(self.blueGreen) != has(self.rolling)",
            check=lambda d: (d.blue_green is None) != (d.rolling is None),
            message="exactly one of blueGreen or rolling must be set",
        ),
    )

    @property
    def strategy(self) -> str:
        """Canary, Linear, AllAtOnce or Rolling."""
        if self.blue_green is not None:
            return self.blue_green.traffic_routing.type.value
        return "Rolling"
