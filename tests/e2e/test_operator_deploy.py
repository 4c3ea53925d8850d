"""Create and update through the real operator process: each traffic-shifting policy of the
examples goes through its stages and traffic steps, visible in status and Events, and ends Ready on
the new revision with exactly one UpdateEndpoint sent to SageMaker.

Every bake is long (10 s of real time) and ended with the emulator's clock once the operator has
reported it, so a loaded machine whose operator polls late still sees every step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from tests.e2e.geps import HELD_BAKE_SECONDS, Geps, condition

pytestmark = pytest.mark.e2e


def test_create_becomes_ready_and_kubectl_wait_sees_it(geps: Geps) -> None:
    manifest = geps.manifest("canary")
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)

    geps.kubectl.run(
        "wait", "--for=condition=Ready", f"gep/{name}", "-n", geps.namespace, "--timeout=90s", timeout=100
    )
    obj = geps.get(name)
    assert obj is not None
    status = obj["status"]
    assert status["observedGeneration"] == obj["metadata"]["generation"] == 1
    assert status["phase"] == "InService"
    assert condition(obj, "Reconciling")["status"] == "False"  # type: ignore[index]
    assert condition(obj, "Stalled")["status"] == "False"  # type: ignore[index]
    assert "sagemaker-guardrails.dev/finalizer" in obj["metadata"]["finalizers"]

    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == status["endpoint"]["configName"]
    tags = {
        t["Key"]: t["Value"] for t in geps.sagemaker().list_tags(ResourceArn=described["EndpointArn"])["Tags"]
    }
    assert tags["sagemaker-guardrails.dev/cluster"] == "e2e"
    assert tags["sagemaker-guardrails.dev/namespace"] == geps.namespace
    assert tags["sagemaker-guardrails.dev/name"] == name
    assert tags["team"] == "fraud"

    assert geps.mutations(endpoint) == ["CreateEndpoint"]
    reasons = geps.reasons(name)
    assert ("Normal", "DeploymentStarted") in reasons
    assert ("Normal", "DeploymentSucceeded") in reasons


@dataclass(frozen=True)
class Policy:
    example: str
    strategy: str
    traffic_steps: tuple[int, ...]  # estimated traffic on the new fleet at each baked step
    wire: tuple[str, str]  # (policy key in DeploymentConfig, its mode)


POLICIES = [
    Policy("canary", "Canary", (25, 100), ("BlueGreenUpdatePolicy", "CANARY")),
    Policy("linear", "Linear", (20, 40, 60, 80, 100), ("BlueGreenUpdatePolicy", "LINEAR")),
    Policy("all-at-once", "AllAtOnce", (100,), ("BlueGreenUpdatePolicy", "ALL_AT_ONCE")),
    Policy("rolling", "Rolling", (25, 50, 75, 100), ("RollingUpdatePolicy", "")),
]


@pytest.mark.parametrize("policy", POLICIES, ids=[p.example for p in POLICIES])
def test_update_goes_through_the_policy_steps_and_ends_ready_on_the_new_revision(
    geps: Geps, policy: Policy
) -> None:
    manifest = geps.manifest(policy.example, bake_seconds=HELD_BAKE_SECONDS)
    for guardrail in manifest["spec"]["deployment"].values():
        if "maximumExecutionTimeoutSeconds" in guardrail:
            guardrail["maximumExecutionTimeoutSeconds"] = 4 * HELD_BAKE_SECONDS * len(policy.traffic_steps)
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    region = manifest["spec"].get("region", "us-east-1")
    geps.create(manifest)
    first = geps.wait_ready(name, 1, timeout=120)["status"]

    def in_bake(number: int) -> Any:
        def check(obj: dict[str, Any]) -> bool:
            deployment = obj["status"].get("deployment") or {}
            return deployment.get("stage") == "Baking" and deployment.get("step") == number

        return check

    with geps.recording(name) as recorder:
        updated = geps.patch(name, geps.new_model_version(manifest, "v2"))
        assert updated["metadata"]["generation"] == 2
        for number in range(1, len(policy.traffic_steps) + 1):
            geps.wait(name, in_bake(number), f"the operator to report bake {number}", timeout=60)
            geps.finish_bake(endpoint, number)
        final = geps.wait_ready(name, 2, timeout=150)
    status = final["status"]

    assert status["revision"]["current"] == status["revision"]["desired"] != first["revision"]["current"]
    assert status["endpoint"]["configName"] != first["endpoint"]["configName"]
    assert status["history"][0]["outcome"] == "Succeeded"
    assert status["history"][0]["revision"] == status["revision"]["current"]
    assert status.get("deployment") is None

    seen = recorder.deployments()
    assert seen, "no deployment progress was ever written to status"
    assert {d["strategy"] for d in seen} == {policy.strategy}
    assert {d["revision"] for d in seen} == {status["revision"]["current"]}
    baked = [(d["step"], d["trafficPercent"]) for d in seen if d.get("stage") == "Baking"]
    assert [t for _, t in dict.fromkeys(baked)] == list(policy.traffic_steps), seen
    assert all(d["steps"] == len(policy.traffic_steps) for d in seen if d.get("stage") == "Baking")
    assert all(d.get("bakeEndsAt") for d in seen if d.get("stage") == "Baking")
    phases = [s.get("phase") for s in recorder.statuses()]
    assert "Baking" in phases and phases[-1] == "InService"

    reasons = [r for t, r in geps.reasons(name) if t == "Normal"]
    assert reasons.count("DeploymentStarted") == 2  # create, then the update
    assert reasons.count("DeploymentSucceeded") == 2
    assert reasons.count("Baking") >= len(policy.traffic_steps)

    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
    described = geps.sagemaker(region).describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == status["endpoint"]["configName"]
    key, mode = policy.wire
    sent = described["LastDeploymentConfig"][key]
    if mode:
        assert sent["TrafficRoutingConfiguration"]["Type"] == mode
