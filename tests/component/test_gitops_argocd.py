"""The Argo CD health check and ``retry`` action, run by Argo CD itself.

``argocd-check`` (``hack/gitops-check/argocd``) loads ``gitops/argocd/argocd-cm.yaml`` with Argo
CD's settings manager and runs the scripts through ``util/lua`` (gopher-lua with Argo CD's
libraries: no ``os`` global, ``require("os")`` for the safe subset), exactly as the application
controller (health) and the API server (action discovery and runs) do. The statuses come from the
operator's own code (:mod:`tests.gitopssamples`); the objects captured from a live run are judged
by the Argo CD-format tests of the ``resource_customizations`` folder.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from tests import gitopskit, gitopssamples

pytestmark = pytest.mark.component

RETRY = "sagemaker-guardrails.dev/retry"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_argocd_cm_is_generated_from_the_resource_customizations() -> None:
    assert gitopskit.ARGOCD_CM.read_text() == gitopskit.render_argocd_cm(), (
        "gitops/argocd/argocd-cm.yaml drifted from resource_customizations/: run `make argocd-cm`"
    )
    data = yaml.safe_load(gitopskit.ARGOCD_CM.read_text())["data"]
    folder = gitopskit.CUSTOMIZATION
    assert data[gitopskit.HEALTH_KEY] == (folder / "health.lua").read_text()
    actions = yaml.safe_load(data[gitopskit.ACTIONS_KEY])
    assert actions["discovery.lua"] == (folder / "actions" / "discovery.lua").read_text()
    assert actions["definitions"] == [
        {"name": "retry", "action.lua": (folder / "actions" / "retry" / "action.lua").read_text()}
    ]


def test_resource_customizations_pass_argo_cds_own_test_format() -> None:
    """health_test.yaml and actions/action_test.yaml, run as Argo CD's util/lua tests run them,
    both as built-in scripts (with the Lua standard library) and as argocd-cm scripts (without)."""
    report = gitopskit.argocd_tests()
    tests = yaml.safe_load((gitopskit.CUSTOMIZATION / "health_test.yaml").read_text())["tests"]
    actions = yaml.safe_load((gitopskit.CUSTOMIZATION / "actions" / "action_test.yaml").read_text())
    expected = 2 * len(tests) + 2 * len(actions["discoveryTests"]) + len(actions["actionTests"])
    assert f"{expected} passed, 0 failed" in report.splitlines(), report
    assert len(tests) >= 7 and actions["actionTests"], "the captured phases are all tested"


def test_operator_statuses_get_the_argo_cd_health_they_mean() -> None:
    samples = gitopssamples.samples()
    verdicts = gitopskit.argocd([s.obj for s in samples])
    for sample, verdict in zip(samples, verdicts, strict=True):
        assert verdict.get("healthError") is None, (sample.label, verdict)
        assert verdict["health"] == {"status": sample.argocd, "message": sample.argocd_message}, sample.label


def test_a_resource_without_status_is_progressing() -> None:
    (verdict,) = gitopskit.argocd([gitopssamples.no_status()])
    assert verdict["health"] == {
        "status": "Progressing",
        "message": "Waiting for the sagemaker-guardrails operator",
    }
    assert verdict["actions"] == [{"name": "retry", "disabled": True}]


def test_retry_is_offered_only_after_a_rollback() -> None:
    samples = gitopssamples.samples()
    verdicts = gitopskit.argocd([s.obj for s in samples])
    for sample, verdict in zip(samples, verdicts, strict=True):
        assert verdict.get("actionsError") is None, (sample.label, verdict)
        assert verdict["actions"] == [{"name": "retry", "disabled": not sample.retry_enabled}], sample.label
    assert sum(s.retry_enabled for s in samples) == 2  # stalled-RolledBack and rolled-back


def test_the_retry_action_runs_in_argo_cd_and_patches_only_the_retry_annotation() -> None:
    """Argo CD runs actions without the ``os`` global: ``os.date`` must come from ``require("os")``.
    The patch is what Argo CD's API server would send: nothing but the new annotation."""
    rolled_back = next(s for s in gitopssamples.samples() if s.label == "rolled-back")
    before = datetime.now(UTC).replace(microsecond=0)
    (verdict,) = gitopskit.argocd([rolled_back.obj])
    after = datetime.now(UTC)
    run = verdict["runs"]["retry"]
    assert run.get("error") is None, run
    stamp = run["patch"]["metadata"]["annotations"][RETRY]
    assert run["patch"] == {"metadata": {"annotations": {RETRY: stamp}}}
    assert STAMP.match(stamp), stamp
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(stamp) <= after
    (impacted,) = run["impacted"]
    assert impacted["operation"] == "patch"
    assert impacted["object"]["metadata"]["annotations"] == {"team": "fraud", RETRY: stamp}
    assert impacted["object"]["status"] == rolled_back.obj["status"]


def test_the_retry_action_also_works_on_a_resource_without_annotations() -> None:
    obj = gitopssamples.no_status()
    del obj["metadata"]["annotations"]
    (verdict,) = gitopskit.argocd([obj])
    run = verdict["runs"]["retry"]
    assert run.get("error") is None, run
    assert set(run["patch"]["metadata"]["annotations"]) == {RETRY}
