"""Guardrails at work: an alarm during a bake rolls the deployment back, the operator reports it and
does not redeploy that revision until the retry annotation changes; a spec change made while
SageMaker is busy is deployed once the running deployment has finished.

The bakes last 10 s of real time, so what the test does "during a bake" lands in it however late a
loaded machine lets the operator report it; bakes the test has no business in are ended at once with
the emulator's clock."""

from __future__ import annotations

import time

import pytest
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import HELD_BAKE_SECONDS, RETRY_ANNOTATION, Geps, condition

pytestmark = pytest.mark.e2e


def finish_bakes(geps: Geps, endpoint: str, *numbers: int) -> None:
    for number in numbers:
        wait_for(
            lambda n=number: geps.finish_bake(endpoint, n), 60, f"bake {number} of {endpoint} to be ended"
        )


def test_alarm_during_bake_rolls_back_and_the_revision_waits_for_the_retry_annotation(geps: Geps) -> None:
    manifest = geps.manifest("canary", bake_seconds=HELD_BAKE_SECONDS)
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    alarm = manifest["spec"]["deployment"]["autoRollback"]["alarms"][0]
    geps.create(manifest)
    good = geps.wait_ready(name, 1)["status"]

    geps.patch(name, geps.new_model_version(manifest, "bad"))
    baking = geps.wait(
        name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "a bake"
    )
    bad_revision = baking["status"]["deployment"]["revision"]
    geps.admin.hold_alarm(alarm, "ALARM", reason="e2e: 5xx during the canary bake")
    try:
        rolled_back = geps.wait(name, lambda o: o["status"].get("phase") == "RolledBack", "the rollback")
    finally:
        geps.admin.hold_alarm(alarm, "OK", reason="e2e: the 5xx are gone")
    status = rolled_back["status"]
    assert status["lastRollback"]["revision"] == bad_revision
    assert alarm in status["lastRollback"]["reason"]
    assert status["revision"]["current"] == good["revision"]["current"]
    assert status["revision"]["desired"] == bad_revision
    assert status["endpoint"]["configName"] == good["endpoint"]["configName"]
    assert status["observedGeneration"] == 2
    stalled = condition(rolled_back, "Stalled")
    assert stalled is not None and stalled["status"] == "True" and stalled["reason"] == "RolledBack"
    assert ("Warning", "RolledBack") in geps.reasons(name)
    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == good["endpoint"]["configName"]

    # The alarm is quiet again, but the same revision is not retried on its own: several settled
    # polls (3 s each) pass without another UpdateEndpoint.
    describes_before = len(geps.calls(endpoint, "DescribeEndpoint"))
    time.sleep(10)
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
    assert len(geps.calls(endpoint, "DescribeEndpoint")) > describes_before + 1, (
        "the operator stopped polling"
    )
    assert geps.get(name)["status"]["phase"] == "RolledBack"  # type: ignore[index]

    baked = len(geps.bakes(endpoint))
    geps.annotate(name, RETRY_ANNOTATION, "1")
    finish_bakes(geps, endpoint, baked + 1, baked + 2)  # the retried deployment's canary and final bakes
    retried = geps.wait(
        name,
        lambda o: o["status"]["revision"].get("current") == bad_revision,
        "the retried revision",
        timeout=90,
    )
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint", "UpdateEndpoint"]
    assert geps.wait_ready(name, 2)["status"]["endpoint"]["configName"] != good["endpoint"]["configName"]
    assert retried["metadata"]["annotations"][RETRY_ANNOTATION] == "1"
    geps.admin.release_alarm(alarm)


def test_spec_change_during_a_deployment_is_deployed_after_it(geps: Geps) -> None:
    manifest = geps.manifest("canary", bake_seconds=HELD_BAKE_SECONDS)
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1)

    geps.patch(name, geps.new_model_version(manifest, "v2"))
    second = geps.wait(
        name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "v2's bake"
    )
    v2 = second["status"]["deployment"]["revision"]
    with geps.recording(name) as recorder:
        geps.patch(name, geps.new_model_version(manifest, "v3"))
        geps.wait(
            name,
            lambda o: (
                "waits until this deployment ends" in (condition(o, "Reconciling") or {}).get("message", "")
            ),
            "v3 to wait for v2's deployment",
        )
        finish_bakes(geps, endpoint, 1, 2, 3, 4)  # v2's canary and final bakes, then v3's
        final = geps.wait_ready(name, 3, timeout=120)
    status = final["status"]
    v3 = status["revision"]["current"]
    assert v3 not in (v2, None)
    assert status["revision"]["desired"] == v3

    outcomes = [(h["revision"], h["outcome"]) for h in status["history"][:2]]
    assert outcomes == [(v3, "Succeeded"), (v2, "Succeeded")]
    # While v2 was still running, the status said v3 was waiting rather than starting it.
    revisions = [d["revision"] for d in recorder.deployments()]
    assert revisions.index(v3) > max(i for i, r in enumerate(revisions) if r == v2)
    # One UpdateEndpoint per revision, and none refused as "Cannot update in-progress endpoint".
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint", "UpdateEndpoint"]
    assert not [c for c in geps.calls(endpoint, "UpdateEndpoint") if c["error_code"]]


def rolled_back_warnings(geps: Geps, name: str) -> int:
    return geps.reasons(name).count(("Warning", "RolledBack"))


def test_a_rollback_without_a_failure_reason_is_not_redeployed_and_throttling_does_not_flap_it(
    geps: Geps,
) -> None:
    """SageMaker may leave no FailureReason after a capacity rollback (spec 13): the operator sees
    the endpoint back on the config that served before its update and records a rollback. Passes
    that cannot observe SageMaker afterwards keep the verdict: Stalled never drops, one Warning."""
    manifest = geps.manifest("canary")
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    good = geps.wait_ready(name, 1)["status"]

    geps.admin.configure(rollback_failure_reason="empty")
    try:
        geps.admin.fail_next_provisioning(endpoint, kind="capacity")
        geps.patch(name, geps.new_model_version(manifest, "no-capacity"))
        rolled_back = geps.wait(name, lambda o: o["status"].get("phase") == "RolledBack", "the rollback")
    finally:
        geps.admin.configure(rollback_failure_reason="text")
    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        good["endpoint"]["configName"],
    )
    assert "FailureReason" not in described
    status = rolled_back["status"]
    assert status["lastRollback"]["revision"] == status["revision"]["desired"]
    assert status["history"][0]["outcome"] == "RolledBack"
    stalled = condition(rolled_back, "Stalled")
    assert stalled is not None and (stalled["status"], stalled["reason"]) == ("True", "RolledBack")
    wait_for(lambda: rolled_back_warnings(geps, name) == 1, 30, "the RolledBack Warning")

    with geps.recording(name) as recorder:
        geps.admin.throttle("DescribeEndpoint", rate=0.0, count=15)
        wait_for(
            lambda: len([c for c in geps.calls(endpoint, "DescribeEndpoint") if c["error_code"]]) >= 15,
            60,
            "throttled DescribeEndpoint calls",
        )
        wait_for(
            lambda: "observeError" not in ((geps.get(name) or {}).get("status") or {}),
            60,
            "a pass that observes again",
        )
        time.sleep(4)  # another settled poll
    statuses = [s for s in recorder.statuses() if s]
    assert any("observeError" in s for s in statuses), "the failure to observe is reported"
    for seen in statuses:
        flags = {c["type"]: (c["status"], c["reason"]) for c in seen["conditions"]}
        assert flags["Stalled"] == ("True", "RolledBack"), seen
        assert flags["Ready"][0] == "False" and flags["Reconciling"][0] == "False", seen
        assert seen["phase"] == "RolledBack"
    assert rolled_back_warnings(geps, name) == 1
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]


def test_a_retry_annotation_bumped_during_the_bake_does_not_redeploy_after_the_rollback(geps: Geps) -> None:
    manifest = geps.manifest("canary", bake_seconds=HELD_BAKE_SECONDS)
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    alarm = manifest["spec"]["deployment"]["autoRollback"]["alarms"][0]
    geps.create(manifest)
    geps.wait_ready(name, 1)

    geps.patch(name, geps.new_model_version(manifest, "bad"))
    geps.wait(name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "a bake")
    geps.annotate(name, RETRY_ANNOTATION, "during-the-bake")
    geps.admin.hold_alarm(alarm, "ALARM", reason="e2e: 5xx during the canary bake")
    try:
        rolled_back = geps.wait(name, lambda o: o["status"].get("phase") == "RolledBack", "the rollback")
    finally:
        geps.admin.hold_alarm(alarm, "OK", reason="e2e: the 5xx are gone")
    assert rolled_back["status"]["lastRollback"]["retryToken"] == "during-the-bake"
    time.sleep(8)  # settled polls
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
    assert geps.get(name)["status"]["phase"] == "RolledBack"  # type: ignore[index]

    baked = len(geps.bakes(endpoint))
    geps.annotate(name, RETRY_ANNOTATION, "after-the-rollback")
    finish_bakes(geps, endpoint, baked + 1, baked + 2)
    geps.wait_ready(name, 2, timeout=90)
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint", "UpdateEndpoint"]
    geps.admin.release_alarm(alarm)
