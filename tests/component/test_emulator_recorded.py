"""Conformance: what real recorded SageMaker responses show (spec 13), through boto3 only.

Spec 13 overrides the earlier sections where they differ: the exact FailureReason of an alarm
rollback, the seconds right after UpdateEndpoint in which the endpoint is ``Updating`` without a
deployment, the old fleet at ``CurrentInstanceCount: 0`` during the final bake, the pending
``InstanceType`` without ``ml.``, and the shape of a serverless variant in service. Serverless
variants with a canary or linear policy (spec 5, Q8) belong here too: they used to crash
CreateEndpoint.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import FROZEN

pytestmark = pytest.mark.component

REASON = "One or more configured alarm for automatic rollback deployment is in ALARM state: [{}]."
FAST = {
    "speed": 400,
    "provisioning_base_seconds": 60,
    "provisioning_seconds_per_instance": 20,
    "activation_seconds": 30,
    "termination_seconds": 30,
    "rollback_seconds": 30,
    "alarm_poll_seconds": 10,
}
SERVERLESS = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}


def canary(alarms: tuple[str, ...] = (), wait: int = 120, termination: int = 120) -> dict[str, Any]:
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": wait,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            },
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": 3600,
        }
    }
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def test_an_alarm_rollback_reads_as_recorded(endpoints: Any) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(**FAST)
    endpoints.alarm("recorded-5xx")
    admin.hold_alarm("recorded-5xx", "ALARM")
    endpoint, old = endpoints.endpoint("recorded")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="recorded-v2", DeploymentConfig=canary(("recorded-5xx",))
    )
    final = endpoints.watch(endpoint)[-1]
    assert final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == old
    assert final["FailureReason"] == REASON.format("recorded-5xx")


@pytest.mark.parametrize(("named", "expected"), [("all", "zeta-5xx, alpha-latency"), ("first", "zeta-5xx")])
def test_several_alarms_in_alarm_are_named_in_the_configured_order(
    named: str, expected: str, endpoints: Any
) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(**FAST, alarm_failure_alarms=named)
    alarms = ("zeta-5xx", "calm", "alpha-latency")  # not alphabetical: the configured order counts
    for name in alarms:
        endpoints.alarm(name)
    admin.hold_alarm("zeta-5xx", "ALARM")
    admin.hold_alarm("alpha-latency", "ALARM")
    endpoint, _ = endpoints.endpoint(f"several-{named}")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=canary(alarms)
    )
    final = endpoints.watch(endpoint)[-1]
    assert final["FailureReason"] == REASON.format(expected)
    started = next(e for e in admin.timeline(endpoint) if e["name"] == "RollbackStarted")
    assert started["extra"]["alarms"] == ["zeta-5xx", "alpha-latency"], (
        "the timeline names every tripped alarm"
    )


def test_right_after_update_endpoint_there_is_no_deployment_yet(endpoints: Any) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(speed=FROZEN)
    endpoint, old = endpoints.endpoint("window")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="window-v2", DeploymentConfig=canary()
    )
    called = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert called["EndpointStatus"] == "Updating" and called["EndpointConfigName"] == old
    assert "PendingDeploymentSummary" not in called
    assert all("VariantStatus" not in v for v in called["ProductionVariants"])
    assert called["LastDeploymentConfig"] == canary(), "the config is stored at once"
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="window-v2")
    admin.advance(2.5)
    assert "PendingDeploymentSummary" not in sagemaker.describe_endpoint(EndpointName=endpoint)
    admin.advance(1)
    shown = sagemaker.describe_endpoint(EndpointName=endpoint)
    pending = shown["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "window-v2"
    assert pending["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Creating"
    started = pending["StartTime"].timestamp() - called["LastModifiedTime"].timestamp()
    assert started == pytest.approx(3.0, abs=0.01), "the deployment starts about 3 s after the call"


@pytest.mark.parametrize("delay", [0.0, 30.0])
def test_the_window_is_a_setting(delay: float, endpoints: Any) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(speed=FROZEN, update_summary_delay_seconds=delay)
    endpoint, _ = endpoints.endpoint(f"window-{int(delay)}")
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2")
    admin.advance(delay / 2)
    assert ("PendingDeploymentSummary" in sagemaker.describe_endpoint(EndpointName=endpoint)) is (delay == 0)
    admin.advance(delay / 2 + 0.5)
    assert "PendingDeploymentSummary" in sagemaker.describe_endpoint(EndpointName=endpoint)


def test_the_old_fleet_shows_no_instances_during_the_final_bake(endpoints: Any) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(**{**FAST, "speed": FROZEN})
    endpoint, _ = endpoints.endpoint("final-bake")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="final-bake-v2", DeploymentConfig=canary()
    )
    seen = endpoints.step(endpoint, 5)
    baking = [
        d
        for d in seen
        if "TerminationWaitInSeconds"
        in ((d.get("PendingDeploymentSummary") or {}).get("ProductionVariants") or [{}])[0]
        .get("VariantStatus", [{}])[0]
        .get("StatusMessage", "")
    ]
    assert baking, "the final bake was seen"
    for described in baking:
        blue = described["ProductionVariants"][0]
        assert (blue["CurrentInstanceCount"], blue["DesiredInstanceCount"]) == (0, 4)
        green = described["PendingDeploymentSummary"]["ProductionVariants"][0]
        assert green["CurrentInstanceCount"] == 4 and green["InstanceType"] == "m5.xlarge"
    canary_bake = [
        d
        for d in seen
        if "canary capacity"
        in ((d.get("PendingDeploymentSummary") or {}).get("ProductionVariants") or [{}])[0]
        .get("VariantStatus", [{}])[0]
        .get("StatusMessage", "")
    ]
    assert canary_bake and all(d["ProductionVariants"][0]["CurrentInstanceCount"] == 4 for d in canary_bake)
    assert seen[-1]["ProductionVariants"][0]["CurrentInstanceCount"] == 4, "the new fleet, in service"


def serverless_endpoint(endpoints: Any, name: str, deployment: dict[str, Any] | None) -> str:
    sagemaker = endpoints.sagemaker
    for version in (1, 2):
        endpoints.model(f"{name}-m{version}", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/model:{version}")
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{name}-v{version}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-m{version}",
                    "ServerlessConfig": SERVERLESS,
                }
            ],
        )
    request: dict[str, Any] = {"EndpointName": name, "EndpointConfigName": f"{name}-v1"}
    if deployment is not None:
        request["DeploymentConfig"] = deployment
    sagemaker.create_endpoint(**request)
    return name


def test_a_serverless_variant_in_service_has_no_instances_and_no_desired_fields(endpoints: Any) -> None:
    endpoints.admin.configure(**FAST)
    name = serverless_endpoint(endpoints, "serverless", None)
    endpoints.admin.advance(3600)
    variant = endpoints.wait(name, lambda d: d["EndpointStatus"] == "InService")["ProductionVariants"][0]
    assert variant["CurrentInstanceCount"] == 0
    assert variant["CurrentServerlessConfig"] == SERVERLESS
    assert not [key for key in variant if key.startswith("Desired")], variant
    assert variant["CurrentWeight"] == 1.0


@pytest.mark.parametrize("kind", ["CANARY", "LINEAR"])
def test_a_serverless_variant_with_a_canary_or_linear_policy_falls_back_to_all_at_once(
    kind: str, endpoints: Any
) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(**FAST)
    deployment = canary()
    if kind == "LINEAR":
        routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
        routing.pop("CanarySize")
        routing.update(Type="LINEAR", LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": 25})
    name = serverless_endpoint(endpoints, f"serverless-{kind.lower()}", deployment)
    admin.advance(3600)
    created = endpoints.wait(name, lambda d: d["EndpointStatus"] == "InService")
    assert created["LastDeploymentConfig"] == deployment, "CreateEndpoint stores the config (spec 1.2)"
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v2", RetainDeploymentConfig=True)
    final = endpoints.watch(name)[-1]
    assert final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == f"{name}-v2"
    phases = [
        e["name"]
        for e in admin.timeline(name)
        if e["event"] == "phase" and e["target_config"] == f"{name}-v2"
    ]
    assert "Baking" not in phases and phases[-1] == "Terminating", "plain all-at-once, no bake (spec 5, Q8)"


def test_a_serverless_variant_with_a_canary_policy_can_be_rejected(endpoints: Any) -> None:
    endpoints.admin.configure(**FAST, serverless_blue_green="reject")
    with pytest.raises(ClientError) as error:
        serverless_endpoint(endpoints, "serverless-rejected", canary())
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "serverless" in error.value.response["Error"]["Message"]
