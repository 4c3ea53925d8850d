"""The reconciler through the emulator's own faults: 5xx, lost responses, latency, and the seconds
right after UpdateEndpoint in which SageMaker shows no deployment yet (spec 13).

The faults are armed through the emulator's admin API, so the real boto3 client, botocore's retries,
the adapters and the error translation all run for real. Whatever happens on the way, the deployment
finishes and SageMaker *performs* exactly one UpdateEndpoint: a refused call (5xx before acting) is
issued again, a call whose response was lost (5xx after acting) is recognised from what SageMaker shows
and never issued twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EMULATOR_SPEED, FROZEN
from test_reconciler_errors import never_stalled
from tests import corekit
from tests.reconcilerkit import ALARM, IMAGE, World

pytestmark = pytest.mark.component


def performed_updates(world: World) -> list[dict[str, Any]]:
    """UpdateEndpoint calls SageMaker acted on: answered 200, or acted on with the response lost."""
    calls = world.calls("UpdateEndpoint", ok=False)
    return [c for c in calls if c["http_status"] == 200 or c["fault"] == "lost-response"]


def deployments_started(world: World) -> int:
    return len([e for e in world.admin.timeline() if e["name"] == "Accepted"])


def updated(world: World, gep: Any) -> None:
    """``gep`` is Ready on its image-2 revision, reached with exactly one UpdateEndpoint."""
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(gep.spec).config_name
    assert len(performed_updates(world)) == 1, world.calls("UpdateEndpoint", ok=False)
    assert deployments_started(world) == 1
    assert [h["outcome"] for h in gep.status["history"]][:2] == ["Succeeded", "Succeeded"]
    never_stalled(gep)


def new_image(gep: Any, strategy: str = "AllAtOnce") -> None:
    gep.settle()
    gep.apply(corekit.spec(strategy=strategy, image=IMAGE.format(2)))


def test_the_pass_after_update_endpoint_knows_the_deployment_is_its_own(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    new_image(gep)
    world.admin.configure(speed=FROZEN)
    gep.until(lambda o: world.calls("UpdateEndpoint") != [])
    window = gep.step()
    described = world.describe()
    assert described["EndpointStatus"] == "Updating" and "PendingDeploymentSummary" not in described
    assert gep.condition("Reconciling") == ("True", "Deploying"), gep.message("Reconciling")
    assert gep.status["deployment"]["revision"] == gep.status["revision"]["desired"]
    assert window.result == "requeued"
    world.admin.configure(speed=EMULATOR_SPEED)
    gep.settle()
    updated(world, gep)


@pytest.mark.parametrize("attempts", [1, 2])
def test_a_lost_update_response_is_never_issued_again(emulator: Any, attempts: int) -> None:
    """``attempts=1`` is a client that sends mutating calls once: the 500 reaches the reconciler."""
    world = World(emulator, attempts=attempts)
    world.alarm(ALARM)
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    new_image(gep)
    world.admin.configure(speed=FROZEN)
    world.admin.server_error("UpdateEndpoint", mode="after", count=1)
    gep.until(lambda o: world.calls("UpdateEndpoint", ok=False) != [])
    assert "issuedAt" not in gep.status["pending"], "the call failed as far as the operator knows"
    window = gep.step()
    described = world.describe()
    assert described["EndpointStatus"] == "Updating" and "PendingDeploymentSummary" not in described
    status, reason = gep.condition("Reconciling")
    assert (status, reason) == ("True", "Deploying"), gep.message("Reconciling")
    assert "will be deployed then" not in gep.message("Reconciling"), "not 'nothing happened'"
    assert window.error is None and gep.status["pending"]["revision"] == gep.status["revision"]["desired"]
    world.admin.configure(speed=EMULATOR_SPEED)
    gep.settle()
    updated(world, gep)


def test_server_errors_on_describe_and_update_for_a_while(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    new_image(gep)
    world.admin.server_error("DescribeEndpoint", count=5)
    world.admin.server_error("UpdateEndpoint", status=503, count=3)
    gep.settle()
    updated(world, gep)
    refused = [c for c in world.calls("UpdateEndpoint", ok=False) if c["fault"] == "server-error"]
    assert len(refused) == 3
    failed = [c for c in world.calls("DescribeEndpoint", ok=False) if c["fault"] == "server-error"]
    assert len(failed) == 5
    assert any(o.error is not None for o in gep.outcomes), "the faults reached the reconciler"


def test_flaky_sagemaker_by_rate(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Canary"))
    new_image(gep, "Canary")
    world.admin.server_error("*", rate=0.3, seed=11)
    world.admin.server_error("UpdateEndpoint", mode="after", rate=0.5, seed=5)
    gep.settle(timeout=60)
    world.admin.clear_server_error()
    gep.settle()
    updated(world, gep)


def test_slow_describe_endpoint(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    new_image(gep)
    world.admin.latency("DescribeEndpoint", 2.0, count=3)
    gep.settle(timeout=60)
    updated(world, gep)
    slow = [c for c in world.calls("DescribeEndpoint") if c["fault"] == "latency"]
    assert len(slow) == 3 and all(c["duration_ms"] >= 2000 for c in slow)


def serverless(image: str) -> dict[str, Any]:
    raw = corekit.spec(strategy="Canary", image=image)
    variant = raw["variants"][0]
    del variant["instanceType"], variant["initialInstanceCount"]
    variant["serverless"] = {"memorySizeInMB": 2048, "maxConcurrency": 5}
    return raw


def test_a_serverless_canary_is_created_and_updated_without_guardrails(world: World) -> None:
    """It used to be an emulator crash (HTTP 500) on CreateEndpoint, retried forever."""
    gep = world.resource(serverless(IMAGE.format(1)))
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert [c["http_status"] for c in world.calls("CreateEndpoint", ok=False)] == [200]
    gep.apply(serverless(IMAGE.format(2)))
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(gep.spec).config_name
    phases = [e["name"] for e in world.admin.timeline() if e["event"] == "phase"]
    assert "Baking" not in phases, "serverless: all-at-once without guardrails (spec 5, Q8)"
    never_stalled(gep)


def test_a_spec_change_seen_through_a_failing_describe_is_not_ready_yet(emulator: Any) -> None:
    """``kubectl wait --for=condition=Ready`` after an apply must not end before the deployment."""
    world = World(emulator, attempts=1)
    world.alarm(ALARM)
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    new_image(gep)
    world.admin.server_error("DescribeEndpoint", count=1)
    failed = gep.step()
    assert failed.error is not None and gep.status["observedGeneration"] == 2
    assert gep.condition("Ready") == ("False", "Retrying"), "Ready would vouch for generation 2"
    gep.settle()
    updated(world, gep)
