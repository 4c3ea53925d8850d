"""The reconciler against the emulator: create, update under each mode, policy-only changes, busy waits, GC.

Every pass goes through the real boto3 adapters over HTTP; ``tests.reconcilerkit`` stands in for kopf.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, HELD_BAKE, IMAGE, World

from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.desired import Identity

pytestmark = pytest.mark.component

IDENTITY = Identity("test-cluster", "ml", "fraud")


def desired_config(raw: dict[str, Any]) -> str:
    return corekit.desired(raw, IDENTITY).config_name


def test_create_follows_creating_to_in_service(world: World) -> None:
    gep = world.resource()
    first = gep.step()
    assert gep.condition("Reconciling") == ("True", "Creating")
    assert first.requeue_after is not None and first.requeue_after < 1
    gep.until(lambda o: world.calls("CreateEndpoint") != [])
    assert gep.status["phase"] == "Creating"
    gep.settle()
    config = desired_config(gep.spec)
    assert gep.status["phase"] == "InService"
    assert gep.condition("Ready") == ("True", "InService")
    assert gep.status["observedGeneration"] == 1
    assert gep.status["endpoint"]["configName"] == config
    assert gep.status["revision"]["desired"] == gep.status["revision"]["current"]
    assert gep.reasons() == ["DeploymentStarted", "DeploymentSucceeded"]
    assert [(t.kind, t.outcome) for t in gep.transitions] == [
        ("DeploymentStarted", None),
        ("DeploymentFinished", "Succeeded"),
    ]
    assert "Creating" in {h.get("phase") for h in gep.history}
    described = world.describe()
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", config)
    assert described["LastDeploymentConfig"] == corekit.desired(gep.spec).deployment_config
    owner = IDENTITY.owner.tags()
    endpoint_tags = world.tags(described["EndpointArn"])
    assert owner.items() <= endpoint_tags.items()
    assert endpoint_tags["team"] == "fraud"
    [config_arn] = [
        c["EndpointConfigArn"] for c in world.sagemaker.list_endpoint_configs()["EndpointConfigs"]
    ]
    assert world.tags(config_arn)[naming.TAG_REVISION] == gep.status["revision"]["desired"]
    assert sorted(world.mutations()) == ["CreateEndpoint", "CreateEndpointConfig", "CreateModel"]


def _deployments(gep: Any) -> list[dict[str, Any]]:
    return [h["deployment"] for h in gep.history if h.get("deployment", {}).get("stage")]


@pytest.mark.parametrize(
    ("strategy", "steps", "partial_traffic"),
    [("AllAtOnce", 1, None), ("Canary", 2, 25), ("Linear", 4, 25), ("Rolling", 4, 25)],
)
def test_update_deploys_under_the_resources_policy(
    world: World, strategy: str, steps: int, partial_traffic: int | None
) -> None:
    raw = corekit.spec(deployment=corekit.policy(strategy, wait=120, termination=80))
    gep = world.resource(raw)
    gep.settle()
    # Bakes of 6 s of real time, so that a pass on a loaded machine sees the first one; the rest of the
    # deployment is then skipped with the emulator's clock.
    held = corekit.policy(strategy, wait=HELD_BAKE, termination=HELD_BAKE)
    new = corekit.spec(image=IMAGE.format(2), deployment=held)
    gep.apply(new)
    gep.until(lambda o: world.deploying())
    assert world.describe()["LastDeploymentConfig"] == corekit.desired(new).deployment_config
    gep.until(lambda o: (gep.status.get("deployment") or {}).get("stage") == "Baking")
    world.admin.advance(HELD_BAKE * (steps + 1))
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == desired_config(new)
    seen = _deployments(gep)
    assert {d["strategy"] for d in seen} == {strategy}
    assert {d["steps"] for d in seen if d["stage"] != "Creating"} == {steps}
    bakes = [d for d in seen if d["stage"] == "Baking"]
    assert bakes, f"no bake observed in {seen}"
    assert all(d.get("bakeEndsAt") for d in bakes)
    assert all(1 <= d["step"] <= steps for d in bakes)
    if partial_traffic is not None:
        assert any(d["trafficPercent"] == partial_traffic for d in bakes), bakes
    assert {"Baking", "Deploying"} <= {h.get("phase") for h in gep.history}
    assert [e for e in gep.reasons() if e in ("DeploymentStarted", "DeploymentSucceeded")] == [
        "DeploymentStarted",
        "DeploymentSucceeded",
    ] * 2
    assert "Baking" in gep.reasons()
    assert gep.status["history"][0]["outcome"] == "Succeeded"
    assert "deployment" not in gep.status and "pending" not in gep.status
    assert len(world.calls("UpdateEndpoint")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"data": "s3://models/fraud/v2.tar.gz"},
        {"env": {"THRESHOLD": "0.9"}},
        {"instance_type": "ml.m5.2xlarge"},
        {"count": 5},
    ],
    ids=["model-data", "env", "instance-type", "instance-count"],
)
def test_every_sagemaker_change_redeploys(world: World, change: dict[str, Any]) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    new = corekit.spec(strategy="AllAtOnce", **change)
    gep.apply(new)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == desired_config(new)
    assert len(world.calls("UpdateEndpoint")) == 1
    variant = world.describe()["ProductionVariants"][0]
    if "count" in change:
        assert variant["CurrentInstanceCount"] == 5


def test_a_policy_only_change_does_not_redeploy(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    before = world.describe()["EndpointConfigName"]
    gep.apply(corekit.spec(strategy="Linear"))
    outcome = gep.settle()
    for _ in range(3):
        outcome = gep.step()
    assert outcome.result == "ok"
    assert gep.status["strategy"] == "Linear"
    assert gep.status["observedGeneration"] == 2
    assert world.describe()["EndpointConfigName"] == before
    assert world.calls("UpdateEndpoint") == []
    assert world.mutations().count("CreateEndpointConfig") == 1


def test_a_spec_change_while_sagemaker_is_busy_waits_and_is_deployed_afterwards(world: World) -> None:
    slow = corekit.policy("Canary", wait=3600)  # a canary bake that outlasts any machine's slowness
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    second = corekit.spec(image=IMAGE.format(2), deployment=slow)
    third = corekit.spec(image=IMAGE.format(3), deployment=slow)
    gep.apply(second)
    gep.until(lambda o: world.deploying())
    gep.apply(third)
    for _ in range(3):
        waiting = gep.step()
        assert gep.condition("Reconciling")[0] == "True"
        assert "waits until this deployment ends" in gep.message("Reconciling")
        assert waiting.result == "requeued"
    gep.apply(corekit.spec(image=IMAGE.format(3), strategy="Canary"))  # same revision, quicker policy
    world.admin.advance(3600)
    gep.until(lambda o: world.describe()["EndpointConfigName"] == desired_config(second))
    gep.settle()
    assert world.describe()["EndpointConfigName"] == desired_config(third)
    assert gep.condition("Ready") == ("True", "InService")
    updates = world.calls("UpdateEndpoint", ok=False)
    assert [c["http_status"] for c in updates] == [200, 200], "an UpdateEndpoint hit a busy endpoint"
    outcomes = [h["outcome"] for h in gep.status["history"]]
    assert outcomes[:3] == ["Succeeded", "Succeeded", "Succeeded"]


def test_old_configs_and_models_are_collected_after_in_service_keeping_the_previous(world: World) -> None:
    specs = [corekit.spec(strategy="AllAtOnce", image=IMAGE.format(i)) for i in range(1, 4)]
    foreign = "fraud-detector-hand-made"
    world.sagemaker.create_model(
        ModelName="fraud-detector-xgb-handmade",
        PrimaryContainer={"Image": IMAGE.format(9)},
        ExecutionRoleArn=corekit.ROLE,
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=foreign,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "fraud-detector-xgb-handmade",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
        Tags=[{"Key": naming.TAG_NAME, "Value": "someone-else"}],
    )
    gep = world.resource(specs[0])
    gep.settle()
    gep.apply(specs[1])
    gep.settle()
    first, second = desired_config(specs[0]), desired_config(specs[1])
    assert {first, second} <= world.config_names()
    gep.apply(specs[2])
    gep.until(lambda o: world.deploying())
    assert {first, second} <= world.config_names(), "a config was deleted while a deployment ran"
    gep.settle()
    third = desired_config(specs[2])
    assert world.config_names() == {second, third, foreign}
    revisions = {corekit.desired(s).revision for s in specs[1:]}
    ours = {m for m in world.model_names() if m != "fraud-detector-xgb-handmade"}
    assert {m.rsplit("-", 1)[0] for m in ours} == {"fraud-detector-xgb"}
    assert len(ours) == 2
    for model in ours:
        arn = world.sagemaker.describe_model(ModelName=model)["ModelArn"]
        assert world.tags(arn)[naming.TAG_REVISION] in revisions
    assert "fraud-detector-xgb-handmade" in world.model_names()
    assert gep.status["ownedConfigs"] == [third, second]
    assert world.describe()["EndpointConfigName"] == third
    assert ENDPOINT in world.describe()["EndpointName"]
