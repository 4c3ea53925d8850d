"""A lost status does not redeploy a rolled-back revision: the rollback is also on the config's tags.

Against the emulator through the real adapters: a rollback is recorded in status, the next pass tags
the rolled-back endpoint config, and a pass that starts from an empty status (a backup restored
without status, a resource re-created after ``deletionPolicy: Retain``) reads the tag back instead of
calling UpdateEndpoint. The emulator's call log is the witness.
"""

from __future__ import annotations

import pytest
from tests import corekit
from tests.reconcilerkit import ALARM, IMAGE, Crash, Gep, World

from sagemaker_guardrails.core.decide import RETRY_ANNOTATION
from sagemaker_guardrails.core.naming import TAG_ROLLED_BACK

pytestmark = pytest.mark.component

GOOD, BAD, WORSE = (corekit.spec(image=IMAGE.format(i)) for i in (1, 2, 3))


def config_tags(world: World, config: str) -> dict[str, str]:
    arn = world.sagemaker.describe_endpoint_config(EndpointConfigName=config)["EndpointConfigArn"]
    return world.tags(arn)


def roll_back(gep: Gep, spec: dict[str, object]) -> None:
    """Deploy ``spec`` with the alarm held in ALARM until it is rolled back, then let the mark pass run."""
    gep.world.admin.hold_alarm(ALARM, "ALARM")
    gep.apply(spec)
    detected = gep.settle()
    assert detected.result == "stalled" and gep.condition("Stalled") == ("True", "RolledBack")
    assert "taggedAt" not in gep.status["lastRollback"], "the detecting pass only writes status"
    assert detected.requeue_after is not None and detected.requeue_after <= 1.0, "the mark follows soon"
    gep.step()
    assert gep.status["lastRollback"]["taggedAt"]


def restore(gep: Gep) -> None:
    """The resource comes back without status."""
    gep.status = {}


def test_a_lost_status_does_not_redeploy_a_rolled_back_revision(world: World) -> None:
    gep = world.resource(GOOD)
    gep.settle()
    roll_back(gep, BAD)
    bad = corekit.desired(BAD)
    assert config_tags(world, bad.config_name)[TAG_ROLLED_BACK] == ""
    assert world.mutations().count("AddTags") == 1
    assert len(world.calls("UpdateEndpoint")) == 1

    restore(gep)
    looked = len(world.calls("DescribeEndpointConfig"))
    outcome = gep.step()
    assert outcome.result == "stalled"
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.status["phase"] == "RolledBack"
    assert len(world.calls("UpdateEndpoint")) == 1, "no UpdateEndpoint after the restore"
    last = gep.status["lastRollback"]
    assert (last["revision"], last["configName"]) == (bad.revision, bad.config_name)
    assert ALARM in last["reason"], "SageMaker's FailureReason is still on the endpoint"
    assert "RolledBack" in [e.reason for e in outcome.events]
    assert len(world.calls("DescribeEndpointConfig")) == looked + 1, "the config is read once"
    for _ in range(3):
        assert gep.step().result == "stalled"
    assert len(world.calls("DescribeEndpointConfig")) == looked + 1, "not on every pass"
    assert world.mutations().count("AddTags") == 1, "a recalled rollback is not tagged again"
    assert len(world.calls("UpdateEndpoint")) == 1

    world.admin.release_alarm(ALARM)
    world.admin.hold_alarm(ALARM, "OK")
    gep.annotate(RETRY_ANNOTATION, "1")
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert len(world.calls("UpdateEndpoint")) == 2, "the new annotation value deploys it exactly once"
    assert world.describe()["EndpointConfigName"] == bad.config_name

    restore(gep)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService"), "the old mark does not block what serves"
    assert len(world.calls("UpdateEndpoint")) == 2


def test_a_lost_mark_call_is_made_again_from_status(world: World) -> None:
    gep = world.resource(GOOD)
    gep.settle()
    world.admin.hold_alarm(ALARM, "ALARM")
    gep.apply(BAD)
    gep.settle()
    before = dict(gep.status)
    with world.crashing_after("add_tags"), pytest.raises(Crash):
        gep.step()
    assert gep.status == before
    gep.step()
    assert gep.status["lastRollback"]["taggedAt"]
    assert world.mutations().count("AddTags") == 2, "tagging twice changes nothing"
    assert config_tags(world, corekit.desired(BAD).config_name)[TAG_ROLLED_BACK] == ""


def test_a_revision_rolled_back_before_another_is_still_blocked_when_the_spec_goes_back(
    world: World,
) -> None:
    """``lastRollback`` holds only the latest rollback; the tag remembers the earlier one."""
    gep = world.resource(GOOD)
    gep.settle()
    roll_back(gep, BAD)
    roll_back(gep, WORSE)
    assert gep.status["lastRollback"]["revision"] == corekit.desired(WORSE).revision
    assert len(world.calls("UpdateEndpoint")) == 2
    gep.apply(BAD)
    assert gep.step().result == "stalled"
    assert gep.condition("Stalled") == ("True", "RolledBack")
    assert gep.status["lastRollback"]["revision"] == corekit.desired(BAD).revision
    assert len(world.calls("UpdateEndpoint")) == 2
