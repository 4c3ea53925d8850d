"""Rollbacks and failures against the emulator: detected, recorded, announced, and never retried blindly."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ALARM, ENDPOINT, HELD_BAKE, IMAGE, World

from sagemaker_guardrails.core.decide import RETRY_ANNOTATION

pytestmark = pytest.mark.component


def rolled_back_world(world: World, strategy: str = "Canary") -> Any:
    gep = world.resource(corekit.spec(strategy=strategy))
    gep.settle()
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.apply(corekit.spec(strategy=strategy, image=IMAGE.format(2)))
    gep.settle()
    return gep


def test_an_alarm_rollback_is_recorded_and_not_deployed_again(world: World) -> None:
    gep = rolled_back_world(world)
    old = corekit.desired(corekit.spec()).config_name
    new = corekit.desired(corekit.spec(image=IMAGE.format(2)))
    assert gep.status["phase"] == "RolledBack"
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.condition("Ready") == ("False", "RolledBack")
    assert RETRY_ANNOTATION in gep.message("Stalled")
    last = gep.status["lastRollback"]
    assert (last["revision"], last["configName"]) == (new.revision, new.config_name)
    assert ALARM in last["reason"]
    assert gep.status["history"][0]["outcome"] == "RolledBack"
    assert [(e.type, e.reason) for e in gep.events if e.type == "Warning"][-1] == ("Warning", "RolledBack")
    assert gep.transitions[-1].kind == "DeploymentFinished"
    assert (gep.transitions[-1].outcome, gep.transitions[-1].strategy) == ("RolledBack", "Canary")
    described = world.describe()
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", old)
    events_before = len(gep.events)
    for _ in range(5):
        assert gep.step().result == "stalled"
    assert len(gep.events) == events_before
    assert len(world.calls("UpdateEndpoint")) == 1
    assert new.config_name in world.config_names(), "the rolled-back config must stay for a retry"


def test_the_retry_annotation_deploys_the_rolled_back_revision_once_more(world: World) -> None:
    gep = rolled_back_world(world)
    world.admin.release_alarm(ALARM)
    world.admin.hold_alarm(ALARM, "OK")
    gep.annotate(RETRY_ANNOTATION, "1")
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert (
        world.describe()["EndpointConfigName"]
        == corekit.desired(corekit.spec(image=IMAGE.format(2))).config_name
    )
    assert len(world.calls("UpdateEndpoint")) == 2
    assert gep.status["lastRollback"]["revision"] == gep.status["revision"]["current"]
    assert gep.status["history"][0]["outcome"] == "Succeeded"


def test_a_retry_that_rolls_back_again_waits_for_the_next_token(world: World) -> None:
    gep = rolled_back_world(world)
    gep.annotate(RETRY_ANNOTATION, "1")
    gep.settle()
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.status["lastRollback"]["retryToken"] == "1"
    for _ in range(3):
        gep.step()
    assert len(world.calls("UpdateEndpoint")) == 2


def test_a_spec_change_after_a_rollback_is_deployed(world: World) -> None:
    gep = rolled_back_world(world)
    world.admin.hold_alarm(ALARM, "OK")
    third = corekit.spec(image=IMAGE.format(3))
    gep.apply(third)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(third).config_name
    assert gep.condition("Stalled") == ("False", "")


def test_a_provisioning_failure_rolls_back_and_is_recorded(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Linear"))
    gep.settle()
    world.admin.fail_next_provisioning(ENDPOINT, kind="model-download")
    gep.apply(corekit.spec(strategy="Linear", data="s3://models/fraud/broken.tar.gz"))
    gep.settle()
    assert gep.status["phase"] == "RolledBack"
    reason = gep.status["lastRollback"]["reason"]
    assert reason and reason == world.describe()["FailureReason"]
    assert gep.status["history"][0]["reason"] == reason
    assert [t.outcome for t in gep.transitions if t.kind == "DeploymentFinished"] == [
        "Succeeded",
        "RolledBack",
    ]
    assert len(world.calls("UpdateEndpoint")) == 1


def test_update_rollback_failed_is_stalled_and_recovers_on_retry(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Rolling"))
    gep.settle()
    held = corekit.policy("Rolling", wait=HELD_BAKE)
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=held))
    # The rollback has something to relaunch (and can fail) only once old instances are gone; the
    # batches bake long enough that the alarm lands in the deployment however slow the machine is.
    gep.until(lambda o: gep.status.get("deployment", {}).get("step", 0) >= 2)
    world.admin.fail_next_rollback(ENDPOINT)
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.settle()
    assert world.describe()["EndpointStatus"] == "UpdateRollbackFailed"
    assert gep.condition("Stalled") == ("True", "UpdateRollbackFailed")
    assert gep.status["phase"] == "Failed"
    assert RETRY_ANNOTATION in gep.message("Stalled")
    assert "DeploymentFailed" in gep.reasons()
    for _ in range(3):
        gep.step()
    assert len(world.calls("UpdateEndpoint")) == 1
    world.admin.hold_alarm(ALARM, "OK")
    gep.annotate(RETRY_ANNOTATION, "after-fixing-it")
    gep.until(lambda o: world.deploying())
    world.admin.advance(HELD_BAKE * 5)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointStatus"] == "InService"
    assert len(world.calls("UpdateEndpoint")) == 2


def test_a_failed_endpoint_is_stalled_with_what_to_do(world: World) -> None:
    world.admin.fail_next_provisioning(ENDPOINT, kind="health-check")
    gep = world.resource()
    gep.settle()
    assert world.describe()["EndpointStatus"] == "Failed"
    assert gep.condition("Stalled") == ("True", "EndpointFailed")
    assert gep.status["phase"] == "Failed"
    assert "delete-endpoint" in gep.message("Stalled")
    assert gep.status["history"][0]["outcome"] == "Failed"
    assert "DeploymentFailed" in gep.reasons()
    for _ in range(3):
        assert gep.step().result == "stalled"
    assert world.mutations().count("CreateEndpoint") == 1
    world.sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.mutations().count("CreateEndpoint") == 2
