"""Conformance: the documented timeline of every deployment mode, observed through boto3 only.

Each test runs a real UpdateEndpoint against the emulator and calls DescribeEndpoint until the endpoint
settles, moving the (otherwise frozen) clock ten simulated seconds between two calls, so that every phase
is seen however loaded the machine is. From what boto3 returns it checks the phase order (VariantStatus of the new fleet, then the
termination of the old one), each phase's simulated duration (differences between VariantStatus
StartTimes, within a tolerance) and the fields DescribeEndpoint must show in that phase (spec 3.0-3.4),
including what real recorded responses show (spec 13): a few seconds of ``Updating`` without a
deployment right after the call, the pending ``InstanceType`` without ``ml.``, and the old fleet at
``CurrentInstanceCount: 0`` once all traffic is on the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import FROZEN

pytestmark = pytest.mark.component

TOLERANCE = 1.5  # simulated seconds
WINDOW = 3.0  # update_summary_delay_seconds: Updating before the deployment shows (spec 13)
TIMINGS = {
    "speed": FROZEN,
    "provisioning_base_seconds": 60,
    "provisioning_seconds_per_instance": 20,
    "activation_seconds": 40,
    "termination_seconds": 40,
}
W, T = 80, 60


@dataclass(frozen=True)
class Step:
    label: str  # "<Status>: <StatusMessage>" of the new fleet, "old <Status>: ..." of the old one
    duration: float
    new_count: int | None = None  # CurrentInstanceCount of the new fleet during the phase (None: ramps)
    old_count: int = 4
    window: bool = False  # the seconds right after UpdateEndpoint: no deployment shown yet


ACCEPTED = Step("Updating", WINDOW, window=True)


def phase_label(described: dict[str, Any]) -> str:
    pending = described.get("PendingDeploymentSummary")
    if pending:
        statuses = pending["ProductionVariants"][0].get("VariantStatus")
        if statuses:
            return f"{statuses[0]['Status']}: {statuses[0]['StatusMessage']}"
    for variant in described.get("ProductionVariants", []):
        if variant.get("VariantStatus"):
            status = variant["VariantStatus"][0]
            return f"old {status['Status']}: {status['StatusMessage']}"
    return str(described["EndpointStatus"])


def phase_start(described: dict[str, Any]) -> float:
    pending = described.get("PendingDeploymentSummary")
    for variant in (pending or {}).get("ProductionVariants", []) + described.get("ProductionVariants", []):
        if variant.get("VariantStatus"):
            return float(variant["VariantStatus"][0]["StartTime"].timestamp())
    return float(described["LastModifiedTime"].timestamp())


def group(observed: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    phases: list[tuple[str, list[dict[str, Any]]]] = []
    for described in observed:
        label = phase_label(described)
        if phases and phases[-1][0] == label and phase_start(phases[-1][1][0]) == phase_start(described):
            phases[-1][1].append(described)
        else:
            phases.append((label, [described]))
    return phases


def assert_timeline(
    observed: list[dict[str, Any]], steps: list[Step], old: str, new: str, deployment: dict[str, Any] | None
) -> None:
    phases = group(observed)
    labels = [label for label, _ in phases]
    assert labels == [s.label for s in steps] + ["InService"], labels
    starts = [phase_start(snapshots[0]) for _, snapshots in phases]
    for step, begin, end in zip(steps, starts, starts[1:], strict=False):
        assert end - begin == pytest.approx(step.duration, abs=TOLERANCE), f"{step.label}: {end - begin:.1f}s"
    first = next(d for d in observed if "PendingDeploymentSummary" in d)
    called = observed[0]["LastModifiedTime"].timestamp()
    assert first["PendingDeploymentSummary"]["StartTime"].timestamp() - called == pytest.approx(WINDOW), (
        "the deployment starts about 3 s after the call (spec 13)"
    )
    for step, (_, snapshots) in zip(steps, phases, strict=False):
        for described in snapshots:
            assert described["EndpointStatus"] == "Updating"
            assert described["EndpointConfigName"] == old
            assert described.get("LastDeploymentConfig") == deployment
            blue = described["ProductionVariants"][0]
            assert (blue["CurrentInstanceCount"], blue["DesiredInstanceCount"]) == (step.old_count, 4)
            assert blue["DeployedImages"][0]["SpecifiedImage"].endswith(":1")
            if step.window:
                assert "PendingDeploymentSummary" not in described and "VariantStatus" not in blue
                continue
            pending = described["PendingDeploymentSummary"]
            assert pending["EndpointConfigName"] == new
            assert pending["StartTime"] == first["PendingDeploymentSummary"]["StartTime"]
            green = pending["ProductionVariants"][0]
            assert green["VariantName"] == "AllTraffic" and green["InstanceType"] == "m5.xlarge", (
                "the pending type has no ml. prefix (spec 13)"
            )
            assert green["DeployedImages"][0]["SpecifiedImage"].endswith(":2")
            assert green["DesiredInstanceCount"] == 4 and green["DesiredWeight"] == 1.0
            if step.new_count is None:
                assert 0 <= green["CurrentInstanceCount"] <= 4
            else:
                assert green["CurrentInstanceCount"] == step.new_count
                assert green["CurrentWeight"] == 1.0
    final = observed[-1]
    assert final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == new
    assert "PendingDeploymentSummary" not in final and "FailureReason" not in final
    variant = final["ProductionVariants"][0]
    assert (variant["CurrentInstanceCount"], variant["CurrentWeight"]) == (4, 1.0)
    assert variant["DeployedImages"][0]["SpecifiedImage"].endswith(":2")
    assert "VariantStatus" not in variant
    assert final["LastModifiedTime"].timestamp() - starts[-1] == pytest.approx(0, abs=TOLERANCE)


def blue_green(kind: str, **routing: Any) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": kind, "WaitIntervalInSeconds": W, **routing},
            "TerminationWaitInSeconds": T,
            "MaximumExecutionTimeoutInSeconds": 3600,
        }
    }


def launching(n: int) -> str:
    return f"Creating: Launching {n} instance(s)."


def activating(kind: str, n: int) -> str:
    return f"ActivatingTraffic: Activating traffic on {kind} capacity of {n} instance(s)."


def baking(seconds: int, source: str, kind: str, n: int) -> str:
    return f"Baking: Baking for {seconds} seconds ({source}) with traffic enabled on {kind} capacity of {n} instance(s)."


def deploy(
    endpoints: Any, admin: Any, name: str, deployment: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], str, str]:
    admin.configure(**TIMINGS)
    endpoint, old = endpoints.endpoint(name)
    new = f"{name}-v2"
    request = {"EndpointName": endpoint, "EndpointConfigName": new}
    if deployment is not None:
        request["DeploymentConfig"] = deployment
    endpoints.sagemaker.update_endpoint(**request)
    return endpoints.step(endpoint), old, new


def test_all_at_once_bakes_for_the_termination_wait(endpoints: Any, admin: Any) -> None:
    deployment = blue_green("ALL_AT_ONCE")
    observed, old, new = deploy(endpoints, admin, "all-at-once", deployment)
    steps = [
        ACCEPTED,
        Step(launching(4), 140),
        Step(activating("full", 4), 40, new_count=4),
        Step(baking(T, "TerminationWaitInSeconds", "full", 4), T, new_count=4, old_count=0),
        Step("old Deleting: Terminating 4 instance(s).", 40, new_count=4, old_count=0),
    ]
    assert_timeline(observed, steps, old, new, deployment)


def test_canary_bakes_the_canary_for_w_then_everything_for_t(endpoints: Any, admin: Any) -> None:
    deployment = blue_green("CANARY", CanarySize={"Type": "CAPACITY_PERCENT", "Value": 25})
    observed, old, new = deploy(endpoints, admin, "canary", deployment)
    steps = [
        ACCEPTED,
        Step(launching(4), 140),
        Step(activating("canary", 1), 40, new_count=1),
        Step(baking(W, "WaitIntervalInSeconds", "canary", 1), W, new_count=1),
        Step(activating("full", 4), 40, new_count=4),
        Step(baking(T, "TerminationWaitInSeconds", "full", 4), T, new_count=4, old_count=0),
        Step("old Deleting: Terminating 4 instance(s).", 40, new_count=4, old_count=0),
    ]
    assert_timeline(observed, steps, old, new, deployment)


def test_linear_shifts_step_by_step_and_bakes_the_last_step_for_t(endpoints: Any, admin: Any) -> None:
    deployment = blue_green("LINEAR", LinearStepSize={"Type": "INSTANCE_COUNT", "Value": 1})
    observed, old, new = deploy(endpoints, admin, "linear", deployment)
    steps = [ACCEPTED, Step(launching(4), 140)]
    for k in (1, 2, 3):
        steps += [
            Step(activating("linear", k), 40, new_count=k),
            Step(baking(W, "WaitIntervalInSeconds", "linear", k), W, new_count=k),
        ]
    steps += [
        Step(activating("full", 4), 40, new_count=4),
        Step(baking(T, "TerminationWaitInSeconds", "full", 4), T, new_count=4, old_count=0),
        Step("old Deleting: Terminating 4 instance(s).", 40, new_count=4, old_count=0),
    ]
    assert_timeline(observed, steps, old, new, deployment)


def test_rolling_goes_batch_by_batch(endpoints: Any, admin: Any) -> None:
    deployment = {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
            "WaitIntervalInSeconds": W,
            "MaximumExecutionTimeoutInSeconds": 3600,
        }
    }
    observed, old, new = deploy(endpoints, admin, "rolling", deployment)
    steps = [
        ACCEPTED,
        Step(launching(2), 100),
        Step("ActivatingTraffic: Activating traffic on batch capacity of 2 instance(s).", 40, new_count=2),
        Step(baking(W, "WaitIntervalInSeconds", "batch", 2), W, new_count=2),
        Step("old Deleting: Terminating 2 instance(s).", 40, new_count=2),
        Step(launching(2), 100, old_count=2),
        Step(
            "ActivatingTraffic: Activating traffic on batch capacity of 2 instance(s).",
            40,
            new_count=4,
            old_count=2,
        ),
        Step(baking(W, "WaitIntervalInSeconds", "batch", 4), W, new_count=4, old_count=2),
        Step("old Deleting: Terminating 2 instance(s).", 40, new_count=4, old_count=2),
    ]
    assert_timeline(observed, steps, old, new, deployment)
    launches = [s for label, s in group(observed) if label == launching(2)]
    counts = [
        d["PendingDeploymentSummary"]["ProductionVariants"][0]["CurrentInstanceCount"] for d in launches[1]
    ]
    assert min(counts) >= 2, "the second batch starts from the two instances of the first"


def test_no_deployment_config_is_blue_green_all_at_once_without_bake(endpoints: Any, admin: Any) -> None:
    observed, old, new = deploy(endpoints, admin, "plain", None)
    steps = [
        ACCEPTED,
        Step(launching(4), 140),
        Step(activating("full", 4), 40, new_count=4),
        Step("old Deleting: Terminating 4 instance(s).", 40, new_count=4, old_count=0),
    ]
    assert_timeline(observed, steps, old, new, None)


def test_create_launches_the_fleet_then_is_in_service(endpoints: Any, admin: Any, sagemaker: Any) -> None:
    admin.configure(**TIMINGS)
    endpoints.model("create-m")
    endpoints.config("create-c", "create-m", 3)
    sagemaker.create_endpoint(EndpointName="create", EndpointConfigName="create-c")
    observed = endpoints.step("create")
    creating, final = observed[:-1], observed[-1]
    assert creating and all(d["EndpointStatus"] == "Creating" for d in creating)
    for described in creating:
        assert "ProductionVariants" not in described
        green = described["PendingDeploymentSummary"]["ProductionVariants"][0]
        assert green["VariantStatus"][0]["StatusMessage"] == "Launching 3 instance(s)."
        assert green["CurrentWeight"] == 0.0 and 0 <= green["CurrentInstanceCount"] < 3
    counts = [
        d["PendingDeploymentSummary"]["ProductionVariants"][0]["CurrentInstanceCount"] for d in creating
    ]
    assert counts == sorted(counts) and counts[-1] >= 1, "instances come up one by one"
    assert (
        final["EndpointStatus"] == "InService" and final["ProductionVariants"][0]["CurrentInstanceCount"] == 3
    )
    duration = final["LastModifiedTime"].timestamp() - final["CreationTime"].timestamp()
    assert duration == pytest.approx(60 + 3 * 20, abs=TOLERANCE)


def test_final_bake_reading_w_then_t_is_a_setting(endpoints: Any, admin: Any, sagemaker: Any) -> None:
    admin.configure(speed=2000, final_bake="wait-interval-then-termination-wait")
    endpoint, _ = endpoints.endpoint("reading")
    sagemaker.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName="reading-v2",
        DeploymentConfig=blue_green("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 1}),
    )
    endpoints.wait(endpoint, lambda d: d["EndpointStatus"] == "InService")
    phases = [
        (e["name"], e["duration"])
        for e in admin.timeline(endpoint)
        if e["event"] == "phase" and e["target_config"] == "reading-v2"
    ]
    assert [name for name, _ in phases] == [
        "Accepted",
        "Provisioning",
        "ActivatingTraffic",
        "Baking",
        "ActivatingTraffic",
        "Baking",
        "Baking",
        "Terminating",
    ]
    assert [d for name, d in phases if name == "Baking"] == [W, W, T]
