"""The orphan sweep against the emulator, through the real boto3 adapters: it reports the resources of
a GuardedEndpoint that vanished without its finalizer, deletes exactly those when asked (endpoint
first, configs and models on the next sweep), and never touches an untagged endpoint, another
cluster's endpoint, or the resources of a GuardedEndpoint that exists, however late it shows up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, World

from sagemaker_guardrails.core import orphans
from sagemaker_guardrails.reconciler.sweep import SweepReport, sweep
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.component

ALIVE = ("ml", "alive")
UNTAGGED = "untagged-ep"
OTHER = "other-cluster-ep"


@pytest.fixture
def scene(world: World, emulator: Any) -> World:
    """GuardedEndpoint ml/fraud (to be orphaned), ml/alive (kept), an untagged endpoint and one of
    another cluster, all InService."""
    world.resource(corekit.spec(strategy="Canary")).settle()
    world.resource(corekit.spec(strategy="Canary", endpoint_name="alive-ep"), name="alive").settle()
    other = World(emulator, cluster="other-cluster")
    other.resource(corekit.spec(strategy="Canary", endpoint_name=OTHER), name="fraud").settle()
    sm = world.sagemaker
    sm.create_model(
        ModelName="untagged-model",
        ExecutionRoleArn=corekit.ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
    )
    variant = {"VariantName": "AllTraffic", "ModelName": "untagged-model", "InstanceType": "ml.m5.large"}
    sm.create_endpoint_config(
        EndpointConfigName="untagged-config", ProductionVariants=[{**variant, "InitialInstanceCount": 1}]
    )
    sm.create_endpoint(EndpointName=UNTAGGED, EndpointConfigName="untagged-config")
    world.wait_settled(UNTAGGED)
    world.wait_settled(OTHER)
    return world


def settings(world: World, **overrides: Any) -> Settings:
    return world.deps.settings.model_copy(update={"orphan_min_age_seconds": 0.0, **overrides})


def sim_now(world: World) -> datetime:
    return datetime.fromtimestamp(world.admin.clock()["sim_time"], tz=UTC)


def run(world: World, keys: list[frozenset[tuple[str, str]]] | None = None, **overrides: Any) -> SweepReport:
    listings = list(keys or [])

    def existing() -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
        current = listings.pop(0) if len(listings) > 1 else (listings[0] if listings else frozenset({ALIVE}))
        return current, frozenset()

    return sweep(world.deps.clients, existing, settings(world, **overrides), lambda: sim_now(world))


def names(items: list[orphans.Orphan]) -> set[tuple[str, str]]:
    return {(o.kind, o.name) for o in items}


def deletes(world: World, since: int) -> list[tuple[str, str | None]]:
    """The delete calls since ``since``: (operation, endpoint name; None for configs and models)."""
    wanted = ("DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel")
    return [
        (c["operation"], c["endpoint"])
        for c in world.admin.calls(since=since, service="sagemaker")
        if c["operation"] in wanted
    ]


def everything(world: World) -> tuple[set[str], set[str], set[str]]:
    sm = world.sagemaker
    return (
        {e["EndpointName"] for e in sm.list_endpoints(MaxResults=100)["Endpoints"]},
        {c["EndpointConfigName"] for c in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]},
        {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]},
    )


def test_report_only_by_default_finds_exactly_the_orphaned_resources(scene: World) -> None:
    world = scene
    configs, models = world.config_names(ENDPOINT), world.model_names(ENDPOINT)
    seen = max(c["seq"] for c in world.admin.calls())
    report = run(world)
    expected = (
        {("endpoint", ENDPOINT)} | {("endpoint-config", c) for c in configs} | {("model", m) for m in models}
    )
    assert names(report.found) == expected
    assert all(o.owner.namespace == "ml" and o.owner.name == "fraud" for o in report.found)
    assert report.deleted == []
    assert deletes(world, seen) == []
    assert report.counts(report.found) == {
        "endpoint": 1,
        "endpoint-config": len(configs),
        "model": len(models),
    }


def test_opted_in_deletes_endpoint_first_then_configs_and_models_and_nothing_else(scene: World) -> None:
    world = scene
    configs, models = world.config_names(ENDPOINT), world.model_names(ENDPOINT)
    endpoints_before, configs_before, models_before = everything(world)
    seen = max(c["seq"] for c in world.admin.calls())
    first = run(world, orphan_sweep_delete=True)
    assert names(first.deleted) == {("endpoint", ENDPOINT)}
    assert {o.kind for o in first.waiting} == {"endpoint-config", "model"}
    world.admin.advance(10)  # SageMaker finishes deleting the endpoint
    second = run(world, orphan_sweep_delete=True)
    assert names(second.deleted) == {("endpoint-config", c) for c in configs} | {("model", m) for m in models}
    third = run(world, orphan_sweep_delete=True)
    assert third.found == [] and third.deleted == []

    done = deletes(world, seen)
    assert [name for op, name in done if op == "DeleteEndpoint"] == [ENDPOINT]
    assert sum(op == "DeleteEndpointConfig" for op, _ in done) == len(configs)
    assert sum(op == "DeleteModel" for op, _ in done) == len(models)
    endpoints_after, configs_after, models_after = everything(world)
    assert (
        endpoints_before - endpoints_after,
        configs_before - configs_after,
        models_before - models_after,
    ) == (
        {ENDPOINT},
        configs,
        models,
    )
    assert endpoints_after == {"alive-ep", UNTAGGED, OTHER}


def test_minimum_age_by_sagemaker_creation_time(scene: World) -> None:
    world = scene
    assert run(world, orphan_min_age_seconds=3600).found == []
    world.admin.advance(3601)
    assert names(run(world, orphan_min_age_seconds=3600).found) >= {("endpoint", ENDPOINT)}


def test_a_guardedendpoint_seen_only_by_the_fresh_list_after_the_survey_keeps_its_resources(
    scene: World,
) -> None:
    world = scene
    seen = max(c["seq"] for c in world.admin.calls())
    # The first LIST (for the regions) predates ml/fraud; the fresh one made after listing SageMaker has it.
    late = frozenset({ALIVE, ("ml", "fraud")})
    report = run(world, [frozenset({ALIVE}), late, late], orphan_sweep_delete=True)
    assert report.found == [] and report.deleted == []
    assert deletes(world, seen) == []


def test_namespaces_not_watched_are_never_swept(scene: World) -> None:
    report = run(scene, watch_namespaces=["team-*"], orphan_sweep_delete=True)
    assert report.found == [] and report.deleted == []


def list_tags_of(world: World, since: int) -> list[str | None]:
    """The ListTags calls since ``since``, each by the endpoint it names (None for configs and models)."""
    return [c["endpoint"] for c in world.admin.calls(since=since, service="sagemaker", operation="ListTags")]


def inventory(world: World) -> tuple[set[str], int]:
    """The endpoints' names, and how many endpoints, endpoint configs and models there are."""
    endpoints, configs, models = everything(world)
    return endpoints, len(endpoints) + len(configs) + len(models)


def test_resources_too_young_to_be_orphans_cost_no_listtags(scene: World) -> None:
    world = scene
    seen = max(c["seq"] for c in world.admin.calls())
    assert run(world, orphan_min_age_seconds=3600).found == []
    assert list_tags_of(world, seen) == [], "every resource is younger than orphan_min_age_seconds"

    old_endpoints, old_count = inventory(world)
    world.admin.advance(3601)
    world.resource(corekit.spec(strategy="Canary", endpoint_name="young-ep"), name="young").settle()
    endpoints, count = inventory(world)
    assert endpoints - old_endpoints == {"young-ep"} and count == old_count + 3
    seen = max(c["seq"] for c in world.admin.calls())
    report = run(world, orphan_min_age_seconds=3600)
    asked = list_tags_of(world, seen)
    assert len(asked) == old_count, "each old resource once, none of the young endpoint, config, model"
    assert {name for name in asked if name is not None} == old_endpoints
    assert {("endpoint", ENDPOINT)} <= names(report.found)
    assert not any(o.owner.name == "young" for o in report.found)


def test_a_young_endpoint_of_an_orphan_still_holds_back_its_configs_and_models(scene: World) -> None:
    world = scene
    configs, models = world.config_names(ENDPOINT), world.model_names(ENDPOINT)
    world.admin.advance(3601)
    first = run(world, orphan_min_age_seconds=3600, orphan_sweep_delete=True)
    assert names(first.deleted) == {("endpoint", ENDPOINT)}
    world.admin.advance(10)  # SageMaker finishes deleting the endpoint
    # An endpoint with the owner's tags, too young to be swept, appears before the next sweep.
    sm = world.sagemaker
    config = sorted(configs)[0]
    owner_tags = {
        k: v
        for k, v in world.tags(
            sm.describe_endpoint_config(EndpointConfigName=config)["EndpointConfigArn"]
        ).items()
    }
    sm.create_endpoint(
        EndpointName="fraud-again",
        EndpointConfigName=config,
        Tags=[{"Key": k, "Value": v} for k, v in owner_tags.items()],
    )
    seen = max(c["seq"] for c in world.admin.calls())
    second = run(world, orphan_min_age_seconds=3600, orphan_sweep_delete=True)
    assert second.deleted == [] and deletes(world, seen) == []
    assert names(second.waiting) == {("endpoint-config", c) for c in configs} | {("model", m) for m in models}
