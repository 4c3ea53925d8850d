"""A GuardedEndpoint nobody has looked at yet, as the real API server serves it, judged by kstatus,
Flux and Argo CD's own code: it must never be Current (or Healthy) before the operator has
observed its generation.

No operator runs in this module: the resource stays exactly as the API server made it. The CRD
defaults ``status`` to ``{observedGeneration: 0}``, which the API server applies whenever it
serves a resource without status; kstatus alone reads a resource without status as Current.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from tests import gitopskit
from tests.e2e.e2e_support import load_example
from tests.e2e.geps import Geps

from sagemaker_guardrails.devenv.kube import Kubectl

pytestmark = pytest.mark.e2e


def served(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = kubectl.json("get", "guardedendpoint", name, "-n", namespace, "-o", "json")
    return obj


def assert_not_observed(obj: dict[str, Any]) -> None:
    generation = obj["metadata"]["generation"]
    (verdict,) = gitopskit.kstatus([obj])
    for judge in ("kstatus", "fluxKstatus", "fluxCEL"):
        assert verdict[judge].get("error") is None, verdict
        assert verdict[judge]["status"] == "InProgress", (judge, verdict[judge], obj.get("status"))
    (argocd,) = gitopskit.argocd([obj])
    assert argocd["health"] == {
        "status": "Progressing",
        "message": f"Waiting for the operator to observe generation {generation}",
    }
    assert argocd["actions"] == [{"name": "retry", "disabled": True}]


def test_a_new_guarded_endpoint_is_in_progress_until_the_operator_writes_its_status(
    kubectl: Kubectl, crd: object, namespace: str
) -> None:
    manifest = load_example("canary")
    manifest["metadata"]["namespace"] = namespace
    name = manifest["metadata"]["name"]
    created = yaml.safe_load(
        kubectl.run("create", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest)).stdout
    )

    fetched = served(kubectl, namespace, name)
    assert fetched["metadata"]["generation"] == 1
    assert_not_observed(fetched)
    assert fetched["status"] == {"observedGeneration": 0}
    assert created["status"] == {"observedGeneration": 0}, "the create response carries the default too"
    listed = kubectl.json("get", "guardedendpoints", "-n", namespace, "-o", "json")["items"]
    assert [item["status"] for item in listed] == [{"observedGeneration": 0}]

    # A spec change before the operator ever ran: generation 2, still nothing observed.
    patch = json.dumps(Geps.new_model_version(manifest, "v2"))
    kubectl.run("patch", "guardedendpoint", name, "-n", namespace, "--type=merge", "-p", patch)
    changed = served(kubectl, namespace, name)
    assert changed["metadata"]["generation"] == 2
    assert_not_observed(changed)
    kubectl.run("delete", "guardedendpoint", name, "-n", namespace, "--wait=true", "--timeout=30s")
