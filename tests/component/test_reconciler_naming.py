"""Names and Regions against the emulator: twin endpoints, the first naming scheme, a pinned Region, case.

- Two resources whose endpoint names agree up to the truncation serve the same model side by side.
- An endpoint an earlier operator version named by the first scheme is neither renamed nor redeployed;
  the next revision uses the current scheme and garbage collection keeps the previous config.
- A resource without ``spec.region`` stays in the Region it was created in when the operator's default
  Region changes, and its finalizer deletes it there.
- Endpoint names that differ only in case are one SageMaker endpoint: the second resource stays
  ``OwnedByOther`` and never shows or touches the first one's endpoint.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, IMAGE, Gep, World

from sagemaker_guardrails.core.desired import Desired, Identity, build_desired, parse_spec
from sagemaker_guardrails.core.resolve import iso

pytestmark = pytest.mark.component

BLUE = "fraud-detector-production-eu-west-blue"
GREEN = "fraud-detector-production-eu-west-green"
SHARED_PREFIX = "fraud-detector-production-eu-west"
OTHER_REGION = "eu-west-1"


def twin(endpoint: str) -> dict[str, Any]:
    raw = corekit.spec(endpoint_name=endpoint)
    raw["models"][0]["name"] = raw["variants"][0]["model"] = "xgboost-fraud-scorer"
    return raw


def test_two_resources_serving_the_same_model_do_not_share_names(world: World) -> None:
    blue = world.resource(twin(BLUE), name="fraud-blue")
    green = world.resource(twin(GREEN), name="fraud-green")
    blue.settle()
    green.settle()
    assert blue.condition("Ready") == ("True", "InService")
    assert green.condition("Ready") == ("True", "InService"), green.message("Stalled")
    assert world.describe(BLUE)["EndpointStatus"] == world.describe(GREEN)["EndpointStatus"] == "InService"
    assert len(world.model_names(SHARED_PREFIX)) == 2
    assert world.describe(BLUE)["EndpointConfigName"] != world.describe(GREEN)["EndpointConfigName"]


def first_scheme(world: World, raw: dict[str, Any]) -> tuple[Desired, dict[str, Any]]:
    """SageMaker and the status as an operator of the first naming scheme left them."""
    legacy = build_desired(parse_spec(raw), Identity("test-cluster", "ml", "fraud"), "us-east-1", legacy=True)
    for model in legacy.models:
        world.sagemaker.create_model(**model.request)
    world.sagemaker.create_endpoint_config(**legacy.config_request)
    world.sagemaker.create_endpoint(**legacy.create_endpoint_request())
    world.admin.advance(3600)
    described = world.wait_settled()
    world.admin.clear_calls()
    status = {
        "endpoint": {
            "name": ENDPOINT,
            "arn": described["EndpointArn"],
            "status": "InService",
            "configName": legacy.config_name,
            "creationTime": iso(described["CreationTime"]),
            "lastModified": iso(described["LastModifiedTime"]),
        },
        "revision": {
            "desired": legacy.revision,
            "current": legacy.revision,
            "desiredConfig": legacy.config_name,
        },
        "history": [
            {
                "revision": legacy.revision,
                "configName": legacy.config_name,
                "outcome": "Succeeded",
                "finishedAt": iso(described["LastModifiedTime"]),
            }
        ],
        "ownedConfigs": [legacy.config_name],
    }
    return legacy, status


def test_an_endpoint_on_first_scheme_names_is_not_redeployed_and_moves_on_with_the_next_revision(
    world: World,
) -> None:
    legacy, status = first_scheme(world, corekit.spec())
    assert legacy.config_name != corekit.desired().config_name
    gep = world.resource()
    gep.status = status
    gep.settle()
    for _ in range(3):
        gep.step()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.mutations() == [], "the naming scheme alone must not redeploy"
    assert gep.status["revision"]["desired"] == legacy.revision
    assert gep.status["region"] == "us-east-1"

    second = corekit.spec(image=IMAGE.format(2))
    gep.apply(second)
    gep.settle()
    assert world.describe()["EndpointConfigName"] == corekit.desired(second).config_name
    assert legacy.config_name in world.config_names(), "the previous config is kept for a rollback"
    assert legacy.models[0].name in world.model_names()

    third = corekit.spec(image=IMAGE.format(3))
    gep.apply(third)
    gep.settle()
    for _ in range(2):
        gep.step()
    assert world.config_names() == {corekit.desired(second).config_name, corekit.desired(third).config_name}
    assert legacy.models[0].name not in world.model_names()


def test_a_lost_status_does_not_redeploy_an_endpoint_on_first_scheme_names(world: World) -> None:
    legacy, _ = first_scheme(world, corekit.spec())
    gep = world.resource()
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.mutations() == []
    assert gep.status["endpoint"]["configName"] == legacy.config_name


def unpinned_spec() -> dict[str, Any]:
    raw = corekit.spec()
    del raw["region"]
    return raw


def move_default_region(world: World) -> None:
    world.deps.settings = world.deps.settings.model_copy(update={"default_region": OTHER_REGION})
    world.admin.clear_calls()


def calls_in(world: World, region: str) -> list[str]:
    return [c["operation"] for c in world.calls(ok=False) if c["region"] == region]


def deleted_where_it_is(world: World, gep: Gep) -> None:
    gep.until(lambda o: o.finished, deleting=True)
    assert world.sagemaker.list_endpoints(NameContains=ENDPOINT)["Endpoints"] == []
    assert world.config_names() == set()


@pytest.mark.parametrize("recorded", ["status.region", "endpoint-arn"])
def test_a_resource_without_spec_region_stays_where_it_was_created(world: World, recorded: str) -> None:
    gep = world.resource(unpinned_spec())
    gep.settle()
    if recorded == "endpoint-arn":
        gep.status.pop("region", None)  # a status written before the Region was recorded
    move_default_region(world)
    for _ in range(3):
        gep.step()
    assert calls_in(world, OTHER_REGION) == []
    assert gep.condition("Ready") == ("True", "InService")
    assert gep.status.get("region") == "us-east-1"
    deleted_where_it_is(world, gep)
    assert calls_in(world, OTHER_REGION) == []
    elsewhere = world.emulator.client("sagemaker", region=OTHER_REGION)
    assert elsewhere.list_endpoints()["Endpoints"] == []


def test_a_spec_region_that_leaves_the_recorded_one_is_stalled_and_deleted_where_it_is(world: World) -> None:
    gep = world.resource()
    gep.settle()
    world.admin.clear_calls()
    gep.apply(corekit.spec(region=OTHER_REGION))  # past admission, which refuses it
    gep.step()
    assert gep.condition("Stalled") == ("True", "InvalidSpec")
    assert "spec.region" in gep.message("Stalled") and "us-east-1" in gep.message("Stalled")
    gep.step()
    assert [(e.type, e.reason) for e in gep.events][-1:] == [("Warning", "InvalidSpec")]
    assert world.calls(ok=False) == [], "a pass that points away from the recorded Region does not look"
    deleted_where_it_is(world, gep)
    assert calls_in(world, OTHER_REGION) == []


def test_endpoint_names_that_differ_only_in_case_are_one_endpoint(world: World) -> None:
    first = world.resource(corekit.spec(endpoint_name="Case-Clash"), name="case-clash", namespace="ml")
    first.settle()
    served = world.describe("Case-Clash")
    world.admin.clear_calls()
    second = world.resource(corekit.spec(endpoint_name="case-clash"), name="case-clash", namespace="ml-2")
    assert second.settle().result == "stalled"
    for _ in range(3):
        second.step()
    assert second.condition("Stalled") == ("True", "OwnedByOther")
    assert "ml/case-clash" in second.message("Stalled")
    assert [(e.type, e.reason) for e in second.events] == [("Warning", "OwnedByOther")]
    assert "endpoint" not in second.status, "the other resource's endpoint is not this resource's"
    assert world.mutations() == []
    second.until(lambda o: o.finished, deleting=True)
    assert world.mutations() == []
    assert world.describe("Case-Clash")["EndpointConfigName"] == served["EndpointConfigName"]
    first.step()
    assert first.condition("Ready") == ("True", "InService")
