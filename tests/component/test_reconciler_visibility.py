"""Surprises made visible, against the emulator: an endpoint deleted behind the operator's back is
recreated with a Warning Event, and a spec SageMaker deploys without guardrails (Inf1) is flagged in
status and by a Warning Event once per revision (or refused, when the operator is set to)."""

from __future__ import annotations

import dataclasses

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, IMAGE, World

pytestmark = pytest.mark.component


def test_endpoint_deleted_outside_the_operator_is_recreated_with_a_warning(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    arn = gep.status["endpoint"]["arn"]
    world.sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    world.admin.advance(10)
    assert world.sagemaker.list_endpoints(NameContains=ENDPOINT)["Endpoints"] == []

    noticed = gep.step()
    assert [(e.type, e.reason) for e in noticed.events] == [("Warning", "EndpointMissing")]
    message = noticed.events[0].message
    assert ENDPOINT in message and arn in message and "deleted outside the operator" in message
    assert "deleted outside the operator" in gep.message("Reconciling")

    gep.settle()
    assert world.describe()["EndpointStatus"] == "InService"
    assert world.mutations().count("CreateEndpoint") == 2
    assert gep.reasons().count("EndpointMissing") == 1, gep.reasons()
    for _ in range(3):
        gep.step()
    assert gep.reasons().count("EndpointMissing") == 1


def test_inf1_deployment_is_flagged_once_per_revision(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary", instance_type="ml.inf1.xlarge"))
    gep.settle()
    condition = next(c for c in gep.status["conditions"] if c["type"] == "GuardrailsNotApplied")
    assert condition["status"] == "True"
    assert condition["reason"] == "InstanceTypeExcluded"
    assert "ml.inf1.xlarge" in condition["message"]
    revision = gep.status["revision"]["desired"]
    assert f"revision {revision}" in condition["message"]
    warnings = [e for e in gep.events if e.reason == "GuardrailsNotApplied"]
    assert [e.type for e in warnings] == ["Warning"]
    assert gep.condition("Ready") == ("True", "InService")  # a warning, not a failure
    for _ in range(3):
        gep.step()
    assert [e.reason for e in gep.events].count("GuardrailsNotApplied") == 1

    gep.apply(corekit.spec(strategy="Canary", instance_type="ml.inf1.xlarge", image=IMAGE.format(2)))
    gep.settle()
    warnings = [e for e in gep.events if e.reason == "GuardrailsNotApplied"]
    assert len(warnings) == 2
    assert gep.status["revision"]["desired"] in warnings[1].message

    gep.apply(corekit.spec(strategy="Canary", image=IMAGE.format(2)))  # back on guarded instances
    gep.settle()
    assert all(c["type"] != "GuardrailsNotApplied" for c in gep.status["conditions"])


def test_refuse_setting_stalls_an_excluded_spec_and_deploys_nothing(world: World) -> None:
    world.deps = dataclasses.replace(
        world.deps, settings=world.deps.settings.model_copy(update={"guardrail_exclusions": "refuse"})
    )
    gep = world.resource(corekit.spec(strategy="Canary", instance_type="ml.inf1.xlarge"))
    outcome = gep.step()
    assert outcome.result == "stalled"
    assert gep.condition("Stalled") == ("True", "InvalidSpec")
    assert "guardrail_exclusions=refuse" in gep.message("Stalled")
    assert world.mutations() == []
