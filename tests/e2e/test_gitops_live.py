"""The real operator's GuardedEndpoints, fetched from the real API server in each phase of a
deployment, judged by kstatus, Flux (its kstatus fork and its CEL health checks) and Argo CD's own
code; and Argo CD's ``retry`` action, run by Argo CD's Lua VM on the rolled-back resource, applied
as the merge patch Argo CD's API server sends, makes the operator deploy the revision once more.

With ``GITOPS_CAPTURE_DIR`` set, every object judged here is also written there as YAML (that is
how the ``testdata`` of ``gitops/argocd/resource_customizations`` were captured).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests import gitopskit
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import HELD_BAKE_SECONDS, RETRY_ANNOTATION, Geps, condition

pytestmark = pytest.mark.e2e

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def capture(label: str, obj: dict[str, Any]) -> None:
    folder = os.environ.get("GITOPS_CAPTURE_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{label}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))


def judge(label: str, obj: dict[str, Any], kstatus: str, health: str, retry: bool = False) -> dict[str, Any]:
    """Asserts what every tool makes of ``obj``; returns Argo CD's verdict."""
    capture(label, obj)
    (verdict,) = gitopskit.kstatus([obj])
    for tool in ("kstatus", "fluxKstatus", "fluxCEL"):
        assert verdict[tool].get("error") is None, (label, tool, verdict[tool])
        assert verdict[tool]["status"] == kstatus, (label, tool, verdict[tool], obj.get("status"))
    (argocd,) = gitopskit.argocd([obj])
    assert argocd.get("healthError") is None and argocd.get("actionsError") is None, (label, argocd)
    assert argocd["health"]["status"] == health, (label, argocd["health"], obj.get("status"))
    assert argocd["actions"] == [{"name": "retry", "disabled": not retry}], (label, argocd["actions"])
    assert argocd["runs"]["retry"].get("error") is None, (label, argocd["runs"]["retry"])
    return argocd


def test_every_phase_of_a_guarded_deployment_as_gitops_tools_see_it(geps: Geps) -> None:
    manifest = geps.manifest("canary", bake_seconds=HELD_BAKE_SECONDS)
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    alarm = manifest["spec"]["deployment"]["autoRollback"]["alarms"][0]

    created = geps.create(manifest)
    if created["status"] == {"observedGeneration": 0}:  # the operator may have written already
        judge("new", created, "InProgress", "Progressing")
    creating = geps.wait(name, lambda o: o["status"].get("phase") == "Creating", "Creating")
    judge("creating", creating, "InProgress", "Progressing")
    ready = geps.wait_ready(name, 1)
    judge("in-service", ready, "Current", "Healthy")

    changed = geps.patch(name, geps.new_model_version(manifest, "bad"))
    if changed["status"]["observedGeneration"] == 1:  # the operator may have written already
        judge("spec-change-not-observed", changed, "InProgress", "Progressing")
    baking = geps.wait(
        name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "a bake"
    )
    judge("baking", baking, "InProgress", "Progressing")
    geps.admin.hold_alarm(alarm, "ALARM", reason="e2e: 5xx during the canary bake")
    try:
        rolled_back = geps.wait(name, lambda o: o["status"].get("phase") == "RolledBack", "the rollback")
    finally:
        geps.admin.hold_alarm(alarm, "OK", reason="e2e: the 5xx are gone")
    stalled = condition(rolled_back, "Stalled")
    assert stalled is not None and stalled["reason"] == "RolledBack"
    argocd = judge("rolled-back", rolled_back, "Failed", "Degraded", retry=True)
    assert argocd["health"]["message"].startswith("RolledBack: ")

    # Argo CD's retry, as its API server applies it: the merge patch of the action's output.
    patch = argocd["runs"]["retry"]["patch"]
    assert list(patch) == ["metadata"] and list(patch["metadata"]) == ["annotations"], patch
    stamp = patch["metadata"]["annotations"][RETRY_ANNOTATION]
    assert STAMP.match(stamp), stamp
    assert set(patch["metadata"]["annotations"]) == {RETRY_ANNOTATION}, "only the retry annotation changes"
    baked = len(geps.bakes(endpoint))
    geps.kubectl.run("patch", "gep", name, "-n", geps.namespace, "--type=merge", "-p", json.dumps(patch))
    wait_for(
        lambda: geps.mutations(endpoint).count("UpdateEndpoint") == 2,
        60,
        "the operator to deploy the rolled-back revision once more",
    )
    retrying = geps.wait(name, lambda o: o["status"].get("phase") in ("Deploying", "Baking"), "the retry")
    assert retrying["metadata"]["annotations"][RETRY_ANNOTATION] == stamp
    judge("retrying", retrying, "InProgress", "Progressing")
    for number in (baked + 1, baked + 2):
        wait_for(lambda n=number: geps.finish_bake(endpoint, n), 60, f"bake {number} to be ended")
    judge("retried-in-service", geps.wait_ready(name, 2), "Current", "Healthy")
    geps.admin.release_alarm(alarm)
