"""Conformance: how deployments end when something goes wrong (spec 2, 4).

A rollback must end ``InService`` on the **old** config with ``FailureReason`` set and no pending
deployment; that is the state real clients fail to notice. Alarms are tripped through the CloudWatch API
(SetAlarmState) or with an admin hold; failures are injected through the admin API.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import FROZEN

pytestmark = pytest.mark.component

FAST = {
    "speed": 400,
    "provisioning_base_seconds": 60,
    "provisioning_seconds_per_instance": 20,
    "activation_seconds": 30,
    "termination_seconds": 30,
    "rollback_seconds": 80,
    "alarm_poll_seconds": 10,
}
ALARM = "endpoint-5xx"
# A bake the tests act in: 4.5 s of real time at FAST's speed, long enough that an alarm set after the
# bake was seen still lands in it; bakes before that one are skipped with admin.advance().
HELD_BAKE = 1800
# Recorded from real SageMaker (spec 13): the alarm name in square brackets, a full stop at the end.
ALARM_REASON = f"One or more configured alarm for automatic rollback deployment is in ALARM state: [{ALARM}]."


def policy(
    kind: str,
    wait: int = 120,
    termination: int = 120,
    timeout: int = 3600,
    alarms: tuple[str, ...] = (ALARM,),
) -> dict[str, Any]:
    rollback = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms]}} if alarms else {}
    if kind == "ROLLING":
        return {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
                "WaitIntervalInSeconds": wait,
                "MaximumExecutionTimeoutInSeconds": timeout,
            },
            **rollback,
        }
    sizes = {
        "CANARY": {"CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
        "LINEAR": {"LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}},
    }.get(kind, {})
    routing = {"Type": kind, "WaitIntervalInSeconds": wait, **sizes}
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        **rollback,
    }


def create_alarm(cloudwatch: Any, name: str = ALARM) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Average",
        Dimensions=[{"Name": "EndpointName", "Value": "x"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.01,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def bake_status(described: dict[str, Any]) -> str | None:
    pending = described.get("PendingDeploymentSummary") or {"ProductionVariants": [{}]}
    statuses = pending["ProductionVariants"][0].get("VariantStatus") or [{}]
    return statuses[0].get("Status")


def bake_start(described: dict[str, Any]) -> float:
    return float(
        described["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
            "StartTime"
        ].timestamp()
    )


def wait_for_bake(endpoints: Any, endpoint: str, number: int) -> float:
    """Waits until the endpoint is in its ``number``-th bake (bakes of HELD_BAKE seconds), jumping over
    the earlier ones; returns the simulated start of that bake."""
    starts: list[float] = []
    while len(starts) < number:
        if starts:
            endpoints.admin.advance(HELD_BAKE)
        described = endpoints.wait(
            endpoint, lambda d: bake_status(d) == "Baking" and bake_start(d) not in starts
        )
        starts.append(bake_start(described))
    return starts[-1]


def assert_rolled_back(described: dict[str, Any], old: str, reason: str, deployment: dict[str, Any]) -> None:
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == old
    assert described["FailureReason"] == reason
    assert "PendingDeploymentSummary" not in described
    assert described["LastDeploymentConfig"] == deployment
    variant = described["ProductionVariants"][0]
    assert variant["CurrentInstanceCount"] == 4 and variant["DeployedImages"][0]["SpecifiedImage"].endswith(
        ":1"
    )


@pytest.mark.parametrize(
    ("kind", "bakes_before_trip"), [("ALL_AT_ONCE", 1), ("CANARY", 1), ("LINEAR", 2), ("ROLLING", 2)]
)
def test_an_alarm_during_a_bake_rolls_back_to_the_old_config(
    kind: str, bakes_before_trip: int, endpoints: Any
) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST)
    create_alarm(cloudwatch)
    endpoint, old = endpoints.endpoint(kind.lower().replace("_", "-"))
    deployment = policy(kind, wait=HELD_BAKE, termination=HELD_BAKE, timeout=4 * HELD_BAKE + 3600)
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    tripped_bake = wait_for_bake(endpoints, endpoint, bakes_before_trip)
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5xx above 1%")
    observed = endpoints.watch(endpoint)
    assert_rolled_back(observed[-1], old, ALARM_REASON, deployment)
    assert {d["EndpointStatus"] for d in observed[:-1]} == {"Updating"}, (
        "guardrail rollbacks show Updating (Q5)"
    )
    events = admin.timeline(endpoint)
    started = next(e for e in events if e["name"] == "RollbackStarted")
    assert started["extra"] == {"alarms": [ALARM], "from_phase": "Baking"}
    assert [e["name"] for e in events if e["event"] == "outcome"] == ["Created", "RolledBack"]
    bake_started = [e for e in events if e["name"] == "Baking"][bakes_before_trip - 1]["sim_time"]
    assert bake_started == pytest.approx(tripped_bake, abs=0.01)
    assert 0 <= started["sim_time"] - bake_started <= HELD_BAKE, "rolled back in the bake the alarm fired in"
    if kind != "ROLLING":
        torn_down = {
            d["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0]["StatusMessage"]
            for d in observed
            if bake_status(d) == "Deleting"
        }
        assert torn_down == {"Terminating 4 instance(s)."}, "the whole new fleet is torn down"
    if kind == "ROLLING":
        relaunch = [
            d
            for d in observed
            if (d["ProductionVariants"][0].get("VariantStatus") or [{}])[0].get("Status") == "Creating"
        ]
        assert (
            relaunch
            and relaunch[0]["ProductionVariants"][0]["VariantStatus"][0]["StatusMessage"]
            == "Launching 2 instance(s)."
        )


def test_an_alarm_already_in_alarm_rolls_back_when_the_first_bake_starts(endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST)
    create_alarm(cloudwatch)
    admin.hold_alarm(ALARM, "ALARM")
    endpoint, old = endpoints.endpoint("early")
    deployment = policy("CANARY")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="early-v2", DeploymentConfig=deployment
    )
    assert_rolled_back(endpoints.watch(endpoint)[-1], old, ALARM_REASON, deployment)
    events = admin.timeline(endpoint)
    bake = next(e for e in events if e["name"] == "Baking")
    started = next(e for e in events if e["name"] == "RollbackStarted")
    assert started["sim_time"] == pytest.approx(bake["sim_time"], abs=0.01), "checked when the bake starts"
    assert [e["name"] for e in events if e["event"] == "phase"][-1] == "RollingBack"


@pytest.mark.parametrize(("monitoring", "rolled_back"), [("bakes", False), ("deployment", True)])
def test_alarms_outside_bakes_count_only_when_the_whole_deployment_is_monitored(
    monitoring: str, rolled_back: bool, endpoints: Any
) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(
        **{
            **FAST,
            "speed": FROZEN,  # the clock moves only with advance(): the alarm is in ALARM exactly until the bake
            "alarm_monitoring": monitoring,
            "provisioning_base_seconds": 400,
            "activation_seconds": 200,
        }
    )
    create_alarm(cloudwatch)
    endpoint, _ = endpoints.endpoint(f"monitor-{monitoring}")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=policy("CANARY")
    )
    admin.hold_alarm(ALARM, "ALARM")
    admin.advance(400 + 4 * 20 + 100)  # through provisioning, halfway through the canary's activation
    assert bake_status(sagemaker.describe_endpoint(EndpointName=endpoint)) != "Baking"
    admin.release_alarm(ALARM)
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="recovered")
    final = endpoints.step(endpoint)[-1]
    assert (final["EndpointConfigName"] == f"{endpoint}-v1") is rolled_back
    assert ("FailureReason" in final) is rolled_back


@pytest.mark.parametrize(
    ("trip_states", "rolled_back"), [(["ALARM"], False), (["ALARM", "INSUFFICIENT_DATA"], True)]
)
def test_insufficient_data_trips_only_when_configured(
    trip_states: list[str], rolled_back: bool, endpoints: Any
) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST, alarm_trip_states=trip_states)
    create_alarm(cloudwatch)
    assert (
        cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    )
    endpoint, _ = endpoints.endpoint("insufficient")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="insufficient-v2", DeploymentConfig=policy("ALL_AT_ONCE")
    )
    final = endpoints.watch(endpoint)[-1]
    assert (final["EndpointConfigName"] == "insufficient-v1") is rolled_back


@pytest.mark.parametrize("missing_alarm", ["rollback", "ignore", "reject"])
def test_a_missing_alarm(missing_alarm: str, endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    admin.configure(**FAST, missing_alarm=missing_alarm)
    endpoint, old = endpoints.endpoint("missing")
    deployment = policy("ALL_AT_ONCE", alarms=("no-such-alarm",))
    if missing_alarm == "reject":
        with pytest.raises(ClientError) as error:
            sagemaker.update_endpoint(
                EndpointName=endpoint, EndpointConfigName="missing-v2", DeploymentConfig=deployment
            )
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert "no-such-alarm" in error.value.response["Error"]["Message"]
        return
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="missing-v2", DeploymentConfig=deployment
    )
    final = endpoints.watch(endpoint)[-1]
    if missing_alarm == "rollback":
        assert_rolled_back(
            final, old, "Deployment rolled back: alarm(s) no-such-alarm could not be found", deployment
        )
    else:
        assert final["EndpointConfigName"] == "missing-v2"


def test_no_alarms_means_no_rollback(endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST)
    create_alarm(cloudwatch)
    admin.hold_alarm(ALARM, "ALARM")
    endpoint, _ = endpoints.endpoint("unwatched")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="unwatched-v2", DeploymentConfig=policy("CANARY", alarms=())
    )
    assert endpoints.watch(endpoint)[-1]["EndpointConfigName"] == "unwatched-v2"
    assert not admin.calls(operation="DescribeAlarms", include_internal=True)


@pytest.mark.parametrize("kind", ["CANARY", "ROLLING"])
def test_a_failed_provisioning_rolls_back(kind: str, endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    admin.configure(**FAST)
    endpoint, old = endpoints.endpoint(f"provision-{kind.lower()}")
    admin.fail_next_provisioning(endpoint)
    deployment = policy(kind, alarms=())
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    observed = endpoints.watch(endpoint)
    reason = (
        f'Failed to download model data for container "container_1" from URL: "s3://models/{endpoint}-m2.tar.gz". '
        "Please ensure that there is an object located at the URL and that the role passed to CreateModel has "
        "permissions to download the object."
    )
    assert_rolled_back(observed[-1], old, reason, deployment)
    assert not any(bake_status(d) == "Baking" for d in observed), "the first provisioning failed"
    assert admin.faults()["provisioning"] == []


def test_a_failed_create_ends_failed_and_only_delete_is_left(endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    admin.configure(**FAST)
    endpoints.model("doomed-m")
    endpoints.config("doomed-v1", "doomed-m")
    endpoints.config("doomed-v2", "doomed-m", 2)
    admin.fail_next_provisioning("doomed", kind="capacity")
    sagemaker.create_endpoint(EndpointName="doomed", EndpointConfigName="doomed-v1")
    final = endpoints.watch("doomed")[-1]
    assert final["EndpointStatus"] == "Failed"
    assert final["FailureReason"].startswith("Unable to provision requested ML compute capacity")
    with pytest.raises(ClientError, match="Failed"):
        sagemaker.update_endpoint(EndpointName="doomed", EndpointConfigName="doomed-v2")
    sagemaker.delete_endpoint(EndpointName="doomed")
    admin.advance(600)
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.describe_endpoint(EndpointName="doomed")


@pytest.mark.parametrize(("action", "status"), [("rollback", "InService"), ("fail", "Failed")])
def test_the_execution_timeout(action: str, status: str, endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    admin.configure(**{**FAST, "speed": 1000, "timeout_action": action})
    endpoint, old = endpoints.endpoint(f"slow-{action}")
    admin.configure(provisioning_base_seconds=900)
    deployment = policy("CANARY", wait=60, termination=60, timeout=600, alarms=())
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    final = endpoints.watch(endpoint)[-1]
    outcome = "rolled back" if action == "rollback" else "failed"
    reason = f"Deployment {outcome}: the deployment did not finish within MaximumExecutionTimeoutInSeconds (600 seconds)"
    assert final["EndpointStatus"] == status and final["FailureReason"] == reason
    events = admin.timeline(endpoint)
    update = next(e for e in events if e["target_config"] == f"{endpoint}-v2" and e["name"] == "Provisioning")
    timed_out = next(e for e in events if e["name"] in ("RollbackStarted", "Failed"))
    assert timed_out["sim_time"] - update["sim_time"] == pytest.approx(600, abs=1)
    if action == "rollback":
        assert_rolled_back(final, old, reason, deployment)


def test_a_failed_rolling_rollback_ends_in_update_rollback_failed_and_a_new_update_recovers(
    endpoints: Any,
) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST)
    create_alarm(cloudwatch)
    endpoint, _ = endpoints.endpoint("stuck")
    admin.fail_next_rollback(endpoint)
    sagemaker.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName="stuck-v2",
        DeploymentConfig=policy("ROLLING", wait=HELD_BAKE, timeout=2 * HELD_BAKE + 3600),
    )
    wait_for_bake(endpoints, endpoint, 2)
    admin.hold_alarm(ALARM, "ALARM")
    final = endpoints.watch(endpoint)[-1]
    assert final["EndpointStatus"] == "UpdateRollbackFailed"
    assert final["FailureReason"].startswith(ALARM_REASON)
    assert final["ProductionVariants"][0]["CurrentInstanceCount"] == 6, (
        "a mixed fleet keeps serving: 2 old + 4 new"
    )
    admin.release_alarm(ALARM)
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fixed")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="stuck-v2", DeploymentConfig=policy("ROLLING")
    )
    recovered = endpoints.watch(endpoint)[-1]
    assert recovered["EndpointStatus"] == "InService" and recovered["EndpointConfigName"] == "stuck-v2"
    assert "FailureReason" not in recovered


def test_a_successful_update_after_a_rollback_clears_the_failure_reason(endpoints: Any) -> None:
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    cloudwatch = endpoints.cloudwatch
    admin.configure(**FAST)
    create_alarm(cloudwatch)
    admin.hold_alarm(ALARM, "ALARM")
    endpoint, _ = endpoints.endpoint("retry")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="retry-v2", DeploymentConfig=policy("ALL_AT_ONCE")
    )
    assert endpoints.watch(endpoint)[-1]["FailureReason"] == ALARM_REASON
    admin.release_alarm(ALARM)
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fixed")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="retry-v2", RetainDeploymentConfig=True
    )
    final = endpoints.watch(endpoint)[-1]
    assert final["EndpointConfigName"] == "retry-v2" and "FailureReason" not in final
    assert final["LastDeploymentConfig"] == policy("ALL_AT_ONCE")


@pytest.mark.parametrize("held", [True, False])
def test_alarms_without_an_update_policy_are_checked_once_the_traffic_has_moved(
    held: bool, endpoints: Any
) -> None:
    admin, sagemaker = endpoints.admin, endpoints.sagemaker
    admin.configure(**FAST)
    create_alarm(endpoints.cloudwatch)
    if held:
        admin.hold_alarm(ALARM, "ALARM")
    endpoint, old = endpoints.endpoint(f"no-policy-{held}".lower())
    deployment = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]}}
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    final = endpoints.watch(endpoint)[-1]
    if held:
        assert_rolled_back(final, old, ALARM_REASON, deployment)
    else:
        assert final["EndpointConfigName"] == f"{endpoint}-v2"
    names = [e["name"] for e in admin.timeline(endpoint) if e["event"] == "phase"]
    assert names[1:5] == ["Accepted", "Provisioning", "ActivatingTraffic", "Baking"], (
        "blue/green all-at-once, zero-length bake"
    )


@pytest.mark.parametrize("kind", ["capacity", "health-check"])
def test_a_rollback_can_leave_no_failure_reason_of_its_own(kind: str, endpoints: Any) -> None:
    """``rollback_failure_reason=empty``: InService on the old config, no reason (spec 13); a reason an
    earlier rollback left stays, and a successful update clears it."""
    admin = endpoints.admin
    sagemaker = endpoints.sagemaker
    admin.configure(**FAST)
    endpoint, old = endpoints.endpoint(f"quiet-{kind}")
    admin.configure(rollback_failure_reason="empty")
    admin.fail_next_provisioning(endpoint, kind=kind)
    deployment = policy("CANARY", alarms=())
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    final = endpoints.watch(endpoint)[-1]
    assert (final["EndpointStatus"], final["EndpointConfigName"]) == ("InService", old)
    assert "FailureReason" not in final
    assert [e["name"] for e in admin.timeline(endpoint=endpoint) if e["event"] == "outcome"][
        -1
    ] == "RolledBack"

    admin.configure(rollback_failure_reason="text")
    admin.fail_next_provisioning(endpoint, kind=kind, reason="the first reason")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    assert endpoints.watch(endpoint)[-1]["FailureReason"] == "the first reason"
    admin.configure(rollback_failure_reason="empty")
    admin.fail_next_provisioning(endpoint, kind=kind, reason="not shown")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    again = endpoints.watch(endpoint)[-1]
    assert (again["EndpointConfigName"], again["FailureReason"]) == (old, "the first reason")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2", DeploymentConfig=deployment
    )
    done = endpoints.watch(endpoint)[-1]
    assert done["EndpointConfigName"] == f"{endpoint}-v2" and "FailureReason" not in done
