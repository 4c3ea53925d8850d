"""GuardedEndpoints judged by kstatus and Flux, with their own code.

``kstatus-check`` (``hack/gitops-check/kstatus``) runs ``status.Compute`` of
``sigs.k8s.io/cli-utils`` and of Flux's fork ``github.com/fluxcd/cli-utils``, and Flux's CEL
status reader (``github.com/fluxcd/pkg/runtime/cel`` on cel-go) with the ``healthCheckExprs`` of
``gitops/flux/kustomizations.yaml``. The statuses come from the operator's own code
(:mod:`tests.gitopssamples`) and from a live run (the ``testdata`` of the Argo CD folder).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests import gitopskit, gitopssamples

pytestmark = pytest.mark.component

JUDGES = ("kstatus", "fluxKstatus", "fluxCEL")


def statuses(verdict: dict[str, Any]) -> dict[str, str]:
    for judge in JUDGES:
        assert verdict[judge].get("error") is None, (judge, verdict[judge])
    return {judge: verdict[judge]["status"] for judge in JUDGES}


def test_operator_statuses_mean_the_same_to_kstatus_flux_and_flux_cel() -> None:
    samples = gitopssamples.samples()
    verdicts = gitopskit.kstatus([s.obj for s in samples])
    for sample, verdict in zip(samples, verdicts, strict=True):
        assert statuses(verdict) == dict.fromkeys(JUDGES, sample.kstatus), (
            sample.label,
            sample.obj["status"],
        )


def test_a_new_resource_is_in_progress_with_the_status_the_crd_defaults() -> None:
    new = next(s for s in gitopssamples.samples() if s.label == "new-defaulted-status")
    (verdict,) = gitopskit.kstatus([new.obj])
    assert statuses(verdict) == dict.fromkeys(JUDGES, "InProgress")
    assert "generation is 1, but latest observed generation is 0" in verdict["kstatus"]["message"]


def test_without_any_status_kstatus_says_current_and_only_the_crd_default_prevents_it() -> None:
    """Why the CRD defaults ``status.observedGeneration``: kstatus reads a custom resource without
    status (and without conditions) as Current. The CEL health check never says Current for it."""
    (verdict,) = gitopskit.kstatus([gitopssamples.no_status()])
    assert verdict["kstatus"]["status"] == "Current"
    assert verdict["fluxKstatus"]["status"] == "Current"
    assert verdict["fluxCEL"].get("status") != "Current", verdict["fluxCEL"]


def captured() -> list[tuple[str, dict[str, Any]]]:
    folder = gitopskit.CUSTOMIZATION / "testdata"
    return [(path.stem, yaml.safe_load(path.read_text())) for path in sorted(folder.glob("*.yaml"))]


# What each phase captured from a live run (tests/e2e/test_gitops_live.py) means.
CAPTURED = {
    "new": "InProgress",
    "creating": "InProgress",
    "in-service": "Current",
    "baking": "InProgress",
    "rolled-back": "Failed",
    "retrying": "InProgress",
    "retried-in-service": "Current",
    "spec-change-not-observed": "InProgress",
}


def test_objects_captured_from_a_live_run() -> None:
    objects = captured()
    assert {label for label, _ in objects} >= set(CAPTURED) - {"spec-change-not-observed"}
    verdicts = gitopskit.kstatus([obj for _, obj in objects])
    for (label, obj), verdict in zip(objects, verdicts, strict=True):
        assert statuses(verdict) == dict.fromkeys(JUDGES, CAPTURED[label]), (label, obj.get("status"))
