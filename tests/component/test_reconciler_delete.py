"""Deletion behind the finalizer: wait for a busy endpoint, delete what is ours, keep what is retained."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests import corekit
from tests.reconcilerkit import ENDPOINT, IMAGE, World

from sagemaker_guardrails.core import naming
from sagemaker_guardrails.reconciler import reconcile

pytestmark = pytest.mark.component


def endpoint_exists(world: World) -> bool:
    return bool(world.sagemaker.list_endpoints(NameContains=ENDPOINT)["Endpoints"])


def test_delete_waits_for_a_busy_endpoint_then_removes_everything_it_owns(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary"))
    gep.settle()
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=corekit.policy("Canary", wait=3600)))
    gep.until(lambda o: world.deploying())
    world.sagemaker.create_endpoint_config(
        EndpointConfigName="fraud-detector-keep-me",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": corekit.desired(gep.spec).models[0].name,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    waiting = gep.finalize()
    assert not waiting.finished
    assert gep.condition("Reconciling") == ("True", "Deleting")
    assert "cannot cancel" in gep.message("Reconciling")
    assert gep.status["phase"] == "Deleting"
    for _ in range(3):
        assert not gep.finalize().finished
    assert world.calls("DeleteEndpoint", ok=False) == []
    world.admin.advance(3600)
    done = gep.until(lambda o: o.finished, deleting=True)
    assert not endpoint_exists(world)
    assert world.config_names() == {"fraud-detector-keep-me"}
    assert world.model_names() == set()
    assert [e.reason for e in done.events] == ["Deleted"]
    deletes = world.calls("DeleteEndpoint", ok=False)
    assert [c["http_status"] for c in deletes] == [200], "DeleteEndpoint must not hit a busy endpoint"
    assert len(world.calls("DeleteEndpointConfig")) == 2
    assert len(world.calls("DeleteModel")) == 2


def test_retain_leaves_every_sagemaker_resource(world: World) -> None:
    gep = world.resource(corekit.spec(deletionPolicy="Retain"))
    gep.settle()
    done = gep.finalize()
    assert done.finished
    assert "Retain" in done.events[0].message
    assert world.describe()["EndpointStatus"] == "InService"
    assert len(world.config_names()) == 1
    assert len(world.model_names()) == 1
    assert [c for c in world.mutations() if c.startswith("Delete")] == []


def test_delete_never_touches_an_endpoint_owned_by_another_resource(world: World) -> None:
    other = world.resource(corekit.spec(), name="payments")
    other.settle()
    gep = world.resource(corekit.spec(), name="fraud")
    gep.settle()
    assert gep.condition("Stalled") == ("True", "OwnedByOther")
    done = gep.until(lambda o: o.finished, deleting=True)
    assert done.finished
    assert world.describe()["EndpointStatus"] == "InService"
    owner = naming.owner_from_tags(world.tags(world.describe()["EndpointArn"]))
    assert owner == naming.Owner("test-cluster", "ml", "payments")
    assert len(world.config_names()) == 1
    assert world.calls("DeleteEndpoint", ok=False) == []


def test_delete_of_an_invalid_resource_still_cleans_up(world: World) -> None:
    gep = world.resource(corekit.spec())
    gep.settle()
    broken = dict(gep.spec)
    broken["variants"] = [{"name": "AllTraffic", "model": "missing"}]
    gep.apply(broken)
    gep.step()
    assert gep.condition("Stalled") == ("True", "InvalidSpec")
    gep.until(lambda o: o.finished, deleting=True)
    assert not endpoint_exists(world)
    assert world.config_names() == set()


def test_a_reconcile_pass_that_races_the_deletion_creates_nothing(world: World) -> None:
    gep = world.resource(corekit.spec())
    gep.settle()
    gep.until(lambda o: o.finished, deleting=True)
    assert not endpoint_exists(world)
    world.admin.clear_calls()
    outcome = reconcile(gep.resource(deleting=True), world.deps, datetime.now(UTC))
    assert outcome.finished
    assert [c for c in world.mutations() if c.startswith("Create")] == []
    assert not endpoint_exists(world)
