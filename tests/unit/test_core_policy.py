"""core.policy: the policy a deployment in flight runs under, read from what SageMaker reports."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit

from sagemaker_guardrails.api.spec import CapacitySize, CapacitySizeType
from sagemaker_guardrails.api.status import PendingCall
from sagemaker_guardrails.core import policy
from sagemaker_guardrails.core.policy import DEFAULT, Policy

pytestmark = pytest.mark.unit

PERCENT = CapacitySizeType.CAPACITY_PERCENT


def size(value: int, kind: CapacitySizeType = PERCENT) -> CapacitySize:
    return CapacitySize(type=kind, value=value)


CASES: list[tuple[str, Any, Policy | None]] = [
    ("none", None, None),
    ("empty", {}, None),
    ("only-alarms", {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]}}, None),
    (
        "canary",
        {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "WaitIntervalInSeconds": 600,
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                },
                "TerminationWaitInSeconds": 300,
                "MaximumExecutionTimeoutInSeconds": 3600,
            }
        },
        Policy("Canary", size(25), 600, 300),
    ),
    (
        "linear-in-instances",
        {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "LINEAR",
                    "WaitIntervalInSeconds": 60,
                    "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2},
                }
            }
        },
        Policy("Linear", size(2, CapacitySizeType.INSTANCE_COUNT), 60, 0),
    ),
    (
        "all-at-once",
        {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": 120,
            }
        },
        Policy("AllAtOnce", None, 0, 120),
    ),
    (
        "rolling",
        {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                "WaitIntervalInSeconds": 90,
            }
        },
        Policy("Rolling", size(50), 90, 90),
    ),
    ("unknown-routing", {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "SHADOW"}}}, None),
    (
        "canary-without-size",
        {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 1}
            }
        },
        None,
    ),
    ("rolling-without-batch", {"RollingUpdatePolicy": {"WaitIntervalInSeconds": 1}}, None),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_of_deployment_config(raw: Any, expected: Policy | None) -> None:
    assert policy.of_deployment_config(raw) == expected


@pytest.mark.parametrize("strategy", ["AllAtOnce", "Canary", "Linear", "Rolling"])
def test_the_spec_and_what_sagemaker_reports_of_it_agree(strategy: str) -> None:
    desired = corekit.desired(corekit.spec(strategy=strategy))
    sent = policy.of_spec(desired.spec.deployment)
    assert policy.of_deployment_config(desired.deployment_config) == sent
    assert policy.recorded(sent.record()) == sent


def test_in_flight_prefers_sagemaker_then_the_record_then_the_default() -> None:
    canary = corekit.desired(corekit.spec(strategy="Canary"))
    linear = policy.of_spec(corekit.desired(corekit.spec(strategy="Linear")).spec.deployment)
    reported = corekit.endpoint("Updating", "old", target="new", deployment=canary.deployment_config)
    silent = corekit.endpoint("Updating", "old", target="new")
    record = PendingCall(operation="UpdateEndpoint", recorded_at="t", policy=linear.record())
    assert policy.in_flight(reported, record).strategy == "Canary"
    assert policy.in_flight(silent, record) == linear
    assert policy.in_flight(silent, None) == DEFAULT
