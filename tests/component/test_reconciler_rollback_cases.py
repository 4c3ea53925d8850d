"""Rollback edge cases against the emulator: no FailureReason, a stale one, a retry token bumped
during the deployment, throttled passes after a rollback, UpdateRollbackFailed recovery by
reverting the spec, and a policy edited during a bake."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ALARM, ENDPOINT, HELD_BAKE, IMAGE, World

from sagemaker_guardrails.core.decide import RETRY_ANNOTATION

pytestmark = pytest.mark.component


def warnings(gep: Any, reason: str) -> int:
    return sum(1 for e in gep.events if (e.type, e.reason) == ("Warning", reason))


def test_a_rollback_without_a_failure_reason_is_recorded_and_not_deployed_again(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="Linear"))
    gep.settle()
    world.admin.configure(rollback_failure_reason="empty")
    world.admin.fail_next_provisioning(ENDPOINT, kind="capacity")
    bad = corekit.spec(strategy="Linear", image=IMAGE.format(2))
    gep.apply(bad)
    gep.settle()
    described = world.describe()
    assert described["EndpointConfigName"] == corekit.desired(corekit.spec()).config_name
    assert "FailureReason" not in described
    assert gep.status["phase"] == "RolledBack"
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.status["lastRollback"]["revision"] == corekit.desired(bad).revision
    assert gep.status["history"][0]["outcome"] == "RolledBack"
    assert warnings(gep, "RolledBack") == 1
    assert "no reason given" in gep.message("Stalled")
    for _ in range(5):
        assert gep.step().result == "stalled"
    assert len(world.calls("UpdateEndpoint")) == 1
    assert warnings(gep, "RolledBack") == 1


def test_a_reasonless_rollback_after_one_with_a_reason_is_a_rollback_too(world: World) -> None:
    """The first rollback's FailureReason stays on the endpoint (spec 13) through the next update."""
    gep = world.resource(corekit.spec(strategy="Linear"))
    gep.settle()
    world.admin.fail_next_provisioning(ENDPOINT, kind="health-check", reason="The first rollback.")
    gep.apply(corekit.spec(strategy="Linear", image=IMAGE.format(2)))
    gep.settle()
    assert gep.status["lastRollback"]["reason"] == "The first rollback."
    world.admin.configure(rollback_failure_reason="empty")
    world.admin.fail_next_provisioning(ENDPOINT, kind="capacity")
    third = corekit.spec(strategy="Linear", image=IMAGE.format(3))
    gep.apply(third)
    gep.settle()
    assert world.describe()["FailureReason"] == "The first rollback."
    assert gep.status["lastRollback"]["revision"] == corekit.desired(third).revision
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert [h["outcome"] for h in gep.status["history"][:2]] == ["RolledBack", "RolledBack"]
    for _ in range(3):
        gep.step()
    assert len(world.calls("UpdateEndpoint")) == 2


def test_a_retry_token_bumped_during_the_bake_does_not_redeploy_after_the_rollback(world: World) -> None:
    gep = world.resource()
    gep.settle()
    held = corekit.policy("Canary", wait=HELD_BAKE)
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=held))
    gep.until(lambda o: gep.status.get("deployment", {}).get("stage") == "Baking")
    gep.annotate(RETRY_ANNOTATION, "bumped-while-baking")
    gep.step()
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.settle()
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.status["lastRollback"]["retryToken"] == "bumped-while-baking"
    world.admin.hold_alarm(ALARM, "OK")
    for _ in range(5):
        assert gep.step().result == "stalled"
    assert len(world.calls("UpdateEndpoint")) == 1
    gep.annotate(RETRY_ANNOTATION, "after-the-rollback")
    gep.until(lambda o: world.deploying())
    assert len(world.calls("UpdateEndpoint")) == 2


def test_throttled_passes_after_a_rollback_keep_it_stalled_and_warn_once(world: World) -> None:
    gep = world.resource()
    gep.settle()
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.apply(corekit.spec(image=IMAGE.format(2)))
    gep.settle()
    gep.step()  # the rollback goes onto the config's tags
    stalled = [c for c in gep.status["conditions"]]
    assert gep.condition("Stalled") == ("True", "RolledBack")
    world.admin.throttle("DescribeEndpoint", rate=0.0, count=6)
    for _ in range(3):
        outcome = gep.step()
        assert outcome.error is not None
        assert gep.status["conditions"] == stalled
        assert gep.status["phase"] == "RolledBack"
        assert gep.status["observeError"]["reason"] == "Throttled"
    for _ in range(3):
        assert gep.step().result == "stalled"
    assert gep.status["conditions"] == stalled
    assert "observeError" not in gep.status
    assert warnings(gep, "RolledBack") == 1
    assert len(world.calls("UpdateEndpoint")) == 1


def test_update_rollback_failed_recovers_when_the_spec_is_reverted_to_the_served_revision(
    world: World,
) -> None:
    good = corekit.spec(strategy="Rolling")
    gep = world.resource(good)
    gep.settle()
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=corekit.policy("Rolling", wait=HELD_BAKE)))
    gep.until(lambda o: gep.status.get("deployment", {}).get("step", 0) >= 2)
    world.admin.fail_next_rollback(ENDPOINT)
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.settle()
    served = corekit.desired(good).config_name
    assert world.describe()["EndpointStatus"] == "UpdateRollbackFailed"
    assert world.describe()["EndpointConfigName"] == served
    assert gep.condition("Stalled") == ("True", "UpdateRollbackFailed")
    assert "change the spec" in gep.message("Stalled")
    world.admin.hold_alarm(ALARM, "OK")
    gep.apply(good)  # back to the config the endpoint reports
    gep.until(lambda o: world.deploying())
    world.admin.advance(5)  # past the seconds after UpdateEndpoint that show no deployment yet
    assert world.describe()["PendingDeploymentSummary"]["EndpointConfigName"] == served
    world.admin.advance(HELD_BAKE * 5)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointStatus"] == "InService"
    assert len(world.calls("UpdateEndpoint")) == 2
    assert gep.status["history"][0]["outcome"] == "Succeeded"


def test_editing_the_policy_during_a_bake_does_not_change_the_reported_timeline(world: World) -> None:
    gep = world.resource()
    gep.settle()
    canary = corekit.policy("Canary", wait=HELD_BAKE)
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=canary))
    gep.until(lambda o: gep.status.get("deployment", {}).get("stage") == "Baking")
    assert (gep.status["deployment"]["step"], gep.status["deployment"]["steps"]) == (1, 2)
    gep.apply(corekit.spec(image=IMAGE.format(2), deployment=corekit.policy("Linear", wait=HELD_BAKE)))
    for _ in range(3):
        gep.step()
        deployment = gep.status["deployment"]
        assert (deployment["stage"], deployment["step"], deployment["steps"]) == ("Baking", 1, 2)
        assert deployment["strategy"] == "Canary"
    assert "step 1/2" in gep.message("Reconciling")
