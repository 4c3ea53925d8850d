"""Crash safety: the operator dies (or loses a status write) at every step, and no deployment happens twice.

``Crash`` is raised by the port *after* the real call reached the emulator and before the pass could
return its status, which is the worst moment: SageMaker acted, the status does not know. The next
pass runs in a fresh "process" (new clients, same emulator) with the status from before the crash.
The emulator's call log is the witness.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.reconcilerkit import ALARM, IMAGE, Crash, Gep, World

from sagemaker_guardrails.core.decide import RETRY_ANNOTATION

pytestmark = pytest.mark.component

V1, V2, V3 = (corekit.spec(strategy="AllAtOnce", image=IMAGE.format(i)) for i in (1, 2, 3))
# V2 under a canary bake that outlasts any machine's slowness; the tests jump over it with advance().
V2_SLOW = corekit.spec(image=IMAGE.format(2), deployment=corekit.policy("Canary", wait=3600))


def restart(gep: Gep, emulator: Any) -> None:
    """A new operator process: new boto3 clients and settings, the status as last written."""
    gep.world = World(emulator)


def crash_on_next(gep: Gep, operation: str) -> None:
    """Run passes until one dies right after ``operation`` reached SageMaker."""
    before = gep.status
    with gep.world.crashing_after(operation), pytest.raises(Crash):
        for _ in range(200):
            before = gep.status
            gep.step()
    assert gep.status == before, "a crashed pass must not have written its status"


def test_crash_between_update_endpoint_and_the_status_write(world: World, emulator: Any) -> None:
    gep = world.resource(V1)
    gep.settle()
    gep.apply(V2_SLOW)
    gep.step()
    assert gep.status["pending"]["operation"] == "UpdateEndpoint"
    assert "issuedAt" not in gep.status["pending"], "the intent is recorded before the call"
    assert world.calls("UpdateEndpoint") == []
    crash_on_next(gep, "update_endpoint")
    assert len(world.calls("UpdateEndpoint")) == 1
    assert "issuedAt" not in gep.status["pending"]
    restart(gep, emulator)
    resumed = gep.step()
    assert [e.reason for e in resumed.events][:1] == ["DeploymentStarted"]
    assert gep.status["pending"]["issuedAt"]
    assert gep.status["deployment"]["configName"] == corekit.desired(V2).config_name
    world.admin.advance(3600)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(V2).config_name
    assert len(world.calls("UpdateEndpoint", ok=False)) == 1
    assert [t.kind for t in gep.transitions].count("DeploymentStarted") == 2


@pytest.mark.parametrize("outcome", ["Succeeded", "RolledBack", "RolledBackAgainWithTheSameReason"])
def test_crash_after_update_endpoint_and_sagemaker_finishes_before_the_restart(
    world: World, emulator: Any, outcome: str
) -> None:
    gep = world.resource(V1)
    gep.settle()
    if outcome != "Succeeded":
        world.admin.hold_alarm(ALARM, "ALARM")
    gep.apply(V2)
    if outcome == "RolledBackAgainWithTheSameReason":
        gep.settle()
        assert gep.status["phase"] == "RolledBack"
        gep.annotate(RETRY_ANNOTATION, "1")
    gep.step()
    crash_on_next(gep, "update_endpoint")
    described = world.wait_settled()
    restart(gep, emulator)
    gep.settle()
    updates = 2 if outcome == "RolledBackAgainWithTheSameReason" else 1
    assert len(world.calls("UpdateEndpoint", ok=False)) == updates
    if outcome == "Succeeded":
        assert described["EndpointConfigName"] == corekit.desired(V2).config_name
        assert gep.condition("Ready") == ("True", "InService")
        assert gep.status["history"][0]["outcome"] == "Succeeded"
    else:
        assert described["EndpointConfigName"] == corekit.desired(V1).config_name
        assert gep.status["phase"] == "RolledBack"
        assert gep.status["lastRollback"]["revision"] == corekit.desired(V2).revision
        assert gep.status["history"][0]["outcome"] == "RolledBack"
    for _ in range(3):
        gep.step()
    assert len(world.calls("UpdateEndpoint", ok=False)) == updates


def test_crash_between_create_endpoint_and_the_status_write(world: World, emulator: Any) -> None:
    gep = world.resource(V1)
    gep.step()
    crash_on_next(gep, "create_endpoint")
    restart(gep, emulator)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert len(world.calls("CreateEndpoint", ok=False)) == 1


@pytest.mark.parametrize(
    "operation",
    [
        "create_model",
        "create_endpoint_config",
        "create_endpoint",
        "update_endpoint",
        "delete_endpoint_config",
        "delete_model",
    ],
)
def test_a_crash_at_any_mutating_call_converges_without_repeating_a_deployment(
    world: World, emulator: Any, operation: str
) -> None:
    gep = world.resource(V1)
    crashed = False
    for spec in (V1, V2, V3):
        gep.apply(spec)
        if not crashed and (operation != "create_endpoint" or spec is V1):
            try:
                with gep.world.crashing_after(operation):
                    gep.settle()
            except Crash:
                crashed = True
                restart(gep, emulator)
        gep.settle()
    assert crashed, f"the scenario never called {operation}"
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(V3).config_name
    assert len(world.calls("CreateEndpoint", ok=False)) == 1
    assert len(world.calls("UpdateEndpoint", ok=False)) == 2
    assert world.config_names() == {corekit.desired(V2).config_name, corekit.desired(V3).config_name}
    assert [h["outcome"] for h in gep.status["history"]] == ["Succeeded"] * 3


def test_a_lost_status_during_a_deployment_resumes_tracking(world: World, emulator: Any) -> None:
    gep = world.resource(V1)
    gep.settle()
    gep.apply(V2_SLOW)
    gep.until(lambda o: world.deploying())
    kept = {k: v for k, v in gep.status.items() if k not in ("pending", "deployment")}
    gep.status = kept
    restart(gep, emulator)
    resumed = gep.step()
    assert gep.status["deployment"]["configName"] == corekit.desired(V2).config_name
    assert "DeploymentStarted" in [e.reason for e in resumed.events]
    world.admin.advance(3600)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert len(world.calls("UpdateEndpoint", ok=False)) == 1
