"""Ownership, adoption, drift and invalid resources, against the emulator."""

from __future__ import annotations

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, IMAGE, World

from sagemaker_guardrails.core import naming

pytestmark = pytest.mark.component

HAND_MADE = "legacy-fraud-config"


def hand_made_config(world: World, name: str = HAND_MADE) -> str:
    world.sagemaker.create_model(
        ModelName=f"{name}-model", PrimaryContainer={"Image": IMAGE.format(0)}, ExecutionRoleArn=corekit.ROLE
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
    )
    return name


def existing_endpoint(world: World, tags: dict[str, str] | None = None) -> None:
    config = hand_made_config(world)
    world.sagemaker.create_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=config,
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    world.wait_settled()
    world.admin.clear_calls()


def test_an_untagged_endpoint_is_not_taken_over_without_adopt_existing(world: World) -> None:
    existing_endpoint(world)
    gep = world.resource()
    assert gep.settle().result == "stalled"
    assert gep.condition("Stalled") == ("True", "NotAdopted")
    assert "adoptExisting: true" in gep.message("Stalled")
    assert [(e.type, e.reason) for e in gep.events] == [("Warning", "NotAdopted")]
    for _ in range(3):
        gep.step()
    assert world.mutations() == []
    assert world.describe()["EndpointConfigName"] == HAND_MADE


def test_an_untagged_endpoint_is_adopted_with_adopt_existing(world: World) -> None:
    existing_endpoint(world)
    gep = world.resource(corekit.spec(adoptExisting=True))
    gep.settle()
    assert "Adopted" in gep.reasons()
    assert gep.condition("Ready") == ("True", "InService")
    described = world.describe()
    assert described["EndpointConfigName"] == corekit.desired(gep.spec).config_name
    owner = naming.Owner("test-cluster", "ml", "fraud").tags()
    assert owner.items() <= world.tags(described["EndpointArn"]).items()
    assert world.mutations()[0] == "AddTags"
    assert world.mutations().count("UpdateEndpoint") == 1
    assert "Drift" not in gep.reasons()
    assert HAND_MADE in world.config_names(HAND_MADE), "a config the operator did not create is never deleted"


@pytest.mark.parametrize(
    "owner",
    [naming.Owner("test-cluster", "ml", "payments"), naming.Owner("other-cluster", "ml", "fraud")],
    ids=["other-resource", "other-cluster"],
)
def test_an_endpoint_owned_by_another_resource_is_never_touched(world: World, owner: naming.Owner) -> None:
    existing_endpoint(world, owner.tags())
    gep = world.resource(corekit.spec(adoptExisting=True))
    assert gep.settle().result == "stalled"
    assert gep.condition("Stalled") == ("True", "OwnedByOther")
    assert str(owner) in gep.message("Stalled")
    for _ in range(3):
        gep.step()
    assert world.mutations() == []
    assert world.tags(world.describe()["EndpointArn"]) == owner.tags()


def test_drift_is_reported_and_brought_back(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    desired = corekit.desired(gep.spec).config_name
    hand_made_config(world)
    slow_bake = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 3600,
        }
    }
    world.sagemaker.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=HAND_MADE, DeploymentConfig=slow_bake
    )
    world.admin.advance(5)  # past the seconds in which SageMaker shows no deployment yet (spec 13)
    waiting = gep.step()
    assert gep.condition("Reconciling") == ("True", "Busy")
    assert HAND_MADE in gep.message("Reconciling")
    assert waiting.result == "requeued"
    world.admin.advance(3600)
    world.wait_settled()
    assert world.describe()["EndpointConfigName"] == HAND_MADE
    drifted = gep.step()
    assert [(e.type, e.reason) for e in drifted.events] == [("Warning", "Drift")]
    assert gep.condition("Reconciling") == ("True", "Drift")
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == desired
    assert gep.reasons().count("Drift") == 1
    assert len(world.calls("UpdateEndpoint")) == 2


def test_an_invalid_resource_is_stalled_and_the_others_are_served(world: World) -> None:
    bad_spec = corekit.spec(endpoint_name="broken")
    bad_spec["deployment"]["blueGreen"]["trafficRouting"].pop("canarySize")
    bad = world.resource(bad_spec, name="broken")
    good = world.resource(corekit.spec(), name="fraud")
    for _ in range(3):
        bad.step()
        good.step()
    assert bad.condition("Stalled") == ("True", "InvalidSpec")
    assert "canarySize" in bad.message("Stalled")
    assert bad.status["phase"] == "Stalled"
    assert [(e.type, e.reason) for e in bad.events] == [("Warning", "InvalidSpec")]
    good.settle()
    assert good.condition("Ready") == ("True", "InService")
    assert world.config_names("broken") == set()
    bad_spec["deployment"]["blueGreen"]["trafficRouting"]["canarySize"] = {
        "type": "CapacityPercent",
        "value": 25,
    }
    bad.apply(bad_spec)
    bad.settle()
    assert bad.condition("Ready") == ("True", "InService")
