"""The CRD schema and its CEL rules, checked by a real kube-apiserver: every example and every case
of tests/fixtures/valid_resources.yaml is accepted, and every case of
tests/fixtures/invalid_resources.yaml is rejected with the field named (at create, or at update for
transition rules such as the immutable endpointName or the variant names), so that ``kubectl apply``
of a bad resource fails before the operator ever sees it. The patterns are RE2 here, the same
strings pydantic (Rust's regex) checks in the unit tests."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.e2e.e2e_support import (
    EXAMPLES,
    INVALID_RESOURCES,
    VALID_RESOURCES,
    field_token,
    load_example,
    merge_patch,
)

from sagemaker_guardrails.devenv.kube import Kubectl, KubectlError

pytestmark = pytest.mark.e2e


def _invalid_cases() -> list[Any]:
    cases = yaml.safe_load(INVALID_RESOURCES.read_text()) if INVALID_RESOURCES.is_file() else []
    return [pytest.param(case, id=case["id"]) for case in cases if case.get("apiserver", True)]


def _valid_cases() -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in yaml.safe_load(VALID_RESOURCES.read_text())]


def _named(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    manifest = merge_patch(manifest, {"metadata": {"namespace": namespace}})
    manifest["metadata"]["name"] = f"{manifest['metadata']['name']}-{secrets.token_hex(3)}"[:63]
    return manifest


def _includes(stored: Any, sent: Any) -> bool:
    """Whether the stored object keeps everything that was sent (the server may add defaults)."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(
            k in stored and _includes(stored[k], v) for k, v in sent.items()
        )
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(_includes(a, b) for a, b in zip(stored, sent, strict=True))
        )
    return bool(stored == sent)


def _create(kubectl: Kubectl, manifest: dict[str, Any]) -> dict[str, Any]:
    out = kubectl.run("create", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest)).stdout
    created: dict[str, Any] = yaml.safe_load(out)
    return created


def test_crd_is_established(kubectl: Kubectl, crd: Path) -> None:
    status = kubectl.json("get", "crd", yaml.safe_load(crd.read_text())["metadata"]["name"])["status"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Established"] == "True"
    assert conditions.get("NamesAccepted") == "True"


def test_examples_and_invalid_cases_exist() -> None:
    """The parametrised tests below must not pass vacuously."""
    assert {"all-at-once", "canary", "linear", "rolling", "async"} <= {
        p.stem for p in EXAMPLES.glob("*.yaml")
    }
    cases = [param.values[0] for param in _invalid_cases()]
    assert len(cases) >= 10
    assert any(case.get("update") and field_token(case["field"]) == "endpointName" for case in cases)
    assert any(case.get("update") and field_token(case["field"]) == "variants" for case in cases)
    assert len(_valid_cases()) >= 5


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_example_is_accepted(kubectl: Kubectl, crd: Path, namespace: str, example: str) -> None:
    manifest = _named(load_example(example), namespace)
    created = _create(kubectl, manifest)
    assert _includes(created["spec"], manifest["spec"]), created["spec"]
    assert created["metadata"]["generation"] == 1
    kubectl.run("delete", "gep", created["metadata"]["name"], "-n", namespace, "--wait=false")


@pytest.mark.parametrize("case", _valid_cases())
def test_valid_resource_is_accepted(
    kubectl: Kubectl, crd: Path, namespace: str, case: dict[str, Any]
) -> None:
    base = _named(load_example(case["base"]), namespace)
    manifest = merge_patch(base, case["patch"])
    if case.get("update"):
        _create(kubectl, base)
        out = kubectl.run("replace", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest)).stdout
        stored: dict[str, Any] = yaml.safe_load(out)
        assert stored["metadata"]["generation"] == 2
    else:
        stored = _create(kubectl, manifest)
    assert _includes(stored["spec"], manifest["spec"]), stored["spec"]
    kubectl.run("delete", "gep", stored["metadata"]["name"], "-n", namespace, "--wait=false")


@pytest.mark.parametrize("case", _invalid_cases())
def test_invalid_resource_is_rejected_with_the_field_named(
    kubectl: Kubectl, crd: Path, namespace: str, case: dict[str, Any]
) -> None:
    base = _named(load_example(case["base"]), namespace)
    manifest = merge_patch(base, case["patch"])
    name = manifest["metadata"]["name"]
    if case.get("update"):
        _create(kubectl, base)
        verb = "replace"
    else:
        verb = "create"
    with pytest.raises(KubectlError) as rejected:
        kubectl.run(verb, "-f", "-", input=yaml.safe_dump(manifest))
    message = rejected.value.stderr
    assert "Error from server" in message or " is invalid: " in message, message
    assert field_token(case["field"]) in message, message

    stored = kubectl.run("get", "gep", name, "-n", namespace, "-o", "yaml", check=False)
    if case.get("update"):
        kept = yaml.safe_load(stored.stdout)
        assert kept["metadata"]["generation"] == 1
        assert _includes(kept["spec"], base["spec"])
        kubectl.run("delete", "gep", name, "-n", namespace, "--wait=false")
    else:
        assert stored.returncode != 0, f"{name} was stored"
