"""spec.tags on the endpoint, and ownership verified once per endpoint instead of once per poll.

Against the emulator through the real adapters. The emulator's call log is the witness of what the
operator called; the tests make their own boto3 calls only outside the windows they count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, IMAGE, Crash, Gep, World

from sagemaker_guardrails.core import naming

pytestmark = pytest.mark.component

OWNER = naming.Owner("test-cluster", "ml", "fraud").tags()


def endpoint_tags(world: World) -> dict[str, str]:
    return world.tags(world.describe()["EndpointArn"])


def endpoint_calls(world: World, operation: str) -> int:
    return len(world.calls(operation, ok=False, endpoint=ENDPOINT))


def age_tag_check(gep: Gep, seconds: float) -> None:
    """Pretend the last ListTags of the endpoint happened ``seconds`` ago (the periodic re-check)."""
    then = datetime.now(UTC) - timedelta(seconds=seconds)
    gep.status["endpoint"]["tagsCheckedAt"] = then.isoformat()


def steps(gep: Gep, count: int) -> None:
    for _ in range(count):
        gep.step()


def test_a_settled_endpoint_costs_one_describe_per_poll_until_the_recheck(world: World) -> None:
    gep = world.resource()
    gep.settle()
    assert gep.status["endpoint"]["tagsCheckedAt"]
    assert gep.status["endpoint"]["tags"] == {"team": "fraud"}
    world.admin.clear_calls()
    steps(gep, 5)
    assert endpoint_calls(world, "DescribeEndpoint") == 5
    assert endpoint_calls(world, "ListTags") == 0
    recheck = 12 * world.deps.settings.settled_poll_seconds
    age_tag_check(gep, recheck + 1)
    steps(gep, 3)
    assert endpoint_calls(world, "ListTags") == 1, "the periodic re-check reads the tags once"
    assert world.mutations() == []
    assert gep.condition("Ready") == ("True", "InService")


def test_a_deployment_is_polled_without_reading_the_tags(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    world.admin.clear_calls()
    gep.apply(corekit.spec(strategy="Canary", image=IMAGE.format(2)))
    gep.until(lambda o: world.calls("UpdateEndpoint") != [])
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert gep.status["history"][0]["outcome"] == "Succeeded"
    assert endpoint_calls(world, "DescribeEndpoint") > 3
    assert endpoint_calls(world, "ListTags") == 0
    assert world.calls("UpdateEndpoint", ok=False) != []


def test_spec_tags_are_synced_to_the_endpoint_without_a_redeploy(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce", tags={"team": "fraud", "cost-center": "1"}))
    gep.settle()
    arn = world.describe()["EndpointArn"]
    world.sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "bob"}])
    revision = gep.status["revision"]["desired"]
    config_arn = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=gep.status["endpoint"]["configName"]
    )["EndpointConfigArn"]
    world.admin.clear_calls()
    gep.apply(corekit.spec(strategy="AllAtOnce", tags={"team": "risk", "env": "prod"}))
    first = gep.step()
    assert [e.reason for e in first.events] == ["TagsUpdated"]
    assert gep.condition("Ready") == ("True", "InService")
    assert gep.condition("Reconciling") == ("True", "UpdatingTags")
    assert gep.status["phase"] == "InService"
    assert world.mutations() == ["AddTags"], "one mutating call per pass"
    gep.settle()
    assert world.mutations() == ["AddTags", "DeleteTags"]
    assert gep.reasons()[-2:] == ["TagsUpdated", "TagsUpdated"]
    tags = endpoint_tags(world)
    assert tags == {**OWNER, "team": "risk", "env": "prod", "owner": "bob"}, "a tag someone else set stays"
    assert gep.status["endpoint"]["tags"] == {"team": "risk", "env": "prod"}
    assert gep.status["revision"]["desired"] == revision
    assert world.calls("UpdateEndpoint", ok=False) == []
    assert world.calls("CreateEndpointConfig", ok=False) == []
    config_tags = world.tags(config_arn)
    assert (config_tags["team"], config_tags["cost-center"]) == ("fraud", "1"), (
        "configs keep their revision's tags"
    )
    world.admin.clear_calls()
    steps(gep, 3)
    assert world.mutations() == []
    assert endpoint_calls(world, "ListTags") == 0


def test_a_tag_change_during_a_deployment_is_applied_once_the_endpoint_is_in_service(world: World) -> None:
    slow = corekit.policy("Canary", wait=3600)
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=slow, tags={"team": "risk"}))
    gep.until(lambda o: world.deploying())
    steps(gep, 3)
    assert "AddTags" not in world.mutations()
    world.admin.advance(3600)
    gep.settle()
    assert endpoint_tags(world)["team"] == "risk"
    assert world.describe()["EndpointConfigName"] == corekit.desired(gep.spec).config_name
    assert gep.condition("Ready") == ("True", "InService")


def test_user_tags_changed_outside_the_operator_are_put_back_on_the_recheck(world: World) -> None:
    gep = world.resource()
    gep.settle()
    arn = world.describe()["EndpointArn"]
    world.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
    steps(gep, 3)
    assert "team" not in endpoint_tags(world), "no ListTags, so nothing noticed before the re-check"
    age_tag_check(gep, 12 * world.deps.settings.settled_poll_seconds + 1)
    gep.settle()
    steps(gep, 2)
    assert endpoint_tags(world) == {**OWNER, "team": "fraud"}
    assert [e.reason for e in gep.events].count("TagsUpdated") == 1


def test_an_adopted_endpoint_keeps_the_tags_it_had_and_loses_only_the_ones_the_operator_set(
    world: World,
) -> None:
    world.sagemaker.create_model(
        ModelName="legacy-model", PrimaryContainer={"Image": IMAGE.format(0)}, ExecutionRoleArn=corekit.ROLE
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName="legacy-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "legacy-model",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
    )
    world.sagemaker.create_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName="legacy-config", Tags=[{"Key": "owner", "Value": "bob"}]
    )
    world.wait_settled()
    gep = world.resource(corekit.spec(strategy="AllAtOnce", adoptExisting=True))
    gep.settle()
    assert endpoint_tags(world) == {**OWNER, "team": "fraud", "owner": "bob"}
    gep.apply(corekit.spec(strategy="AllAtOnce", adoptExisting=True, tags={}))
    gep.settle()
    assert endpoint_tags(world) == {**OWNER, "owner": "bob"}


def test_an_endpoint_re_created_under_the_same_name_by_another_owner_is_never_touched(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    remembered_arn = gep.status["endpoint"]["arn"]
    config = gep.status["endpoint"]["configName"]
    world.sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    world.admin.advance(60)
    while world.sagemaker.list_endpoints(NameContains=ENDPOINT)["Endpoints"]:
        world.admin.advance(60)
    other = naming.Owner("other-cluster", "ml", "fraud").tags()
    world.sagemaker.create_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=config,
        Tags=[{"Key": k, "Value": v} for k, v in other.items()],
    )
    world.admin.advance(3600)
    described = world.wait_settled()
    assert described["EndpointArn"] == remembered_arn, "SageMaker derives the ARN from the name"
    world.admin.clear_calls()
    outcome = gep.step()
    assert outcome.result == "stalled"
    assert gep.condition("Stalled") == ("True", "OwnedByOther")
    steps(gep, 3)
    assert world.mutations() == []
    assert "endpoint" not in gep.status, "another owner's endpoint (and its verification) is not recorded"
    assert endpoint_tags(world) == other


def test_deletion_reads_the_tags_right_before_deleting(world: World) -> None:
    gep = world.resource()
    gep.settle()
    arn = world.describe()["EndpointArn"]
    world.sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": naming.TAG_NAME, "Value": "payments"}])
    done = gep.until(lambda o: o.finished, deleting=True)
    assert "not owned by this resource" in done.events[0].message
    assert world.describe()["EndpointStatus"] == "InService"
    assert world.calls("DeleteEndpoint", ok=False) == []
    assert world.config_names() == set(), "the resource's own configs still go"


def test_a_crash_right_after_add_tags_converges_without_repeating_it(world: World, emulator: Any) -> None:
    gep = world.resource(corekit.spec(tags={"team": "fraud"}))
    gep.settle()
    world.admin.clear_calls()
    gep.apply(corekit.spec(tags={"team": "risk"}))
    with gep.world.crashing_after("add_tags"), pytest.raises(Crash):
        gep.step()
    gep.world = World(emulator)
    gep.settle()
    steps(gep, 2)
    assert world.mutations() == ["AddTags"]
    assert endpoint_tags(world)["team"] == "risk"
    assert gep.status["endpoint"]["tags"] == {"team": "risk"}
