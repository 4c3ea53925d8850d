"""The CRD schema and its CEL rules, checked by a real kube-apiserver: every example is accepted and
every case of tests/fixtures/invalid_resources.yaml is rejected at create with the field named, so
that ``kubectl apply`` of a bad resource fails before the operator ever sees it."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.e2e.e2e_support import EXAMPLES, INVALID_RESOURCES, field_token, load_example, merge_patch

from sagemaker_guardrails.devenv.kube import Kubectl, KubectlError

pytestmark = pytest.mark.e2e


def _invalid_cases() -> list[Any]:
    cases = yaml.safe_load(INVALID_RESOURCES.read_text()) if INVALID_RESOURCES.is_file() else []
    return [pytest.param(case, id=case["id"]) for case in cases if case.get("apiserver", True)]


def _named(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    manifest = merge_patch(manifest, {"metadata": {"namespace": namespace}})
    manifest["metadata"]["name"] = f"{manifest['metadata']['name']}-{secrets.token_hex(3)}"[:63]
    return manifest


def test_crd_is_established(kubectl: Kubectl, crd: Path) -> None:
    status = kubectl.json("get", "crd", yaml.safe_load(crd.read_text())["metadata"]["name"])["status"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Established"] == "True"
    assert conditions.get("NamesAccepted") == "True"


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_example_is_accepted(kubectl: Kubectl, crd: Path, namespace: str, example: str) -> None:
    manifest = _named(load_example(example), namespace)
    created = yaml.safe_load(
        kubectl.run("create", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest)).stdout
    )
    assert created["spec"]["models"] == manifest["spec"]["models"]
    assert created["metadata"]["generation"] == 1
    kubectl.run("delete", "gep", created["metadata"]["name"], "-n", namespace, "--wait=false")


def test_examples_and_invalid_cases_exist() -> None:
    """The parametrised tests below must not pass vacuously."""
    assert {"all-at-once", "canary", "linear", "rolling", "async"} <= {
        p.stem for p in EXAMPLES.glob("*.yaml")
    }
    assert len(_invalid_cases()) >= 10


@pytest.mark.parametrize("case", _invalid_cases())
def test_invalid_resource_is_rejected_with_the_field_named(
    kubectl: Kubectl, crd: Path, namespace: str, case: dict[str, Any]
) -> None:
    manifest = _named(merge_patch(load_example(case["base"]), case["patch"]), namespace)
    with pytest.raises(KubectlError) as rejected:
        kubectl.run("create", "-f", "-", input=yaml.safe_dump(manifest))
    message = rejected.value.stderr
    assert "is invalid" in message or "Invalid value" in message or "Unsupported value" in message, message
    assert field_token(case["field"]) in message, message
    assert (
        kubectl.run("get", "gep", manifest["metadata"]["name"], "-n", namespace, check=False).returncode != 0
    )


def test_endpoint_name_is_immutable(kubectl: Kubectl, crd: Path, namespace: str) -> None:
    manifest = _named(load_example("canary"), namespace)
    manifest["spec"]["endpointName"] = manifest["metadata"]["name"]
    kubectl.run("create", "-f", "-", input=yaml.safe_dump(manifest))
    name = manifest["metadata"]["name"]
    with pytest.raises(KubectlError) as rejected:
        kubectl.run(
            "patch",
            "gep",
            name,
            "-n",
            namespace,
            "--type=merge",
            "-p",
            '{"spec": {"endpointName": "renamed"}}',
        )
    assert "endpointName" in rejected.value.stderr
    current = kubectl.json("get", "gep", name, "-n", namespace)
    assert current["spec"]["endpointName"] == name
    assert current["metadata"]["generation"] == 1
    kubectl.run("delete", "gep", name, "-n", namespace, "--wait=false")
