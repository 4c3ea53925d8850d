"""The generated CRD: no drift from the models, structural, bounded, and carrying every SageMaker limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sagemaker_guardrails.api import crd
from sagemaker_guardrails.api.crd import cli_main, crd_manifest, render_crd
from sagemaker_guardrails.cli import main as cli

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "crds" / crd.CRD_FILE
REGENERATE = "regenerate with `make crd` (sagemaker-guardrails crd --output ...)"

# Keys a structural schema may not contain anywhere (apiextensions.k8s.io/v1 rules).
FORBIDDEN_KEYS = {
    "$ref",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "title",
    "propertyNames",
    "patternProperties",
    "$defs",
}


def _version() -> dict[str, Any]:
    version: dict[str, Any] = crd_manifest()["spec"]["versions"][0]
    return version


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = _version()["schema"]["openAPIV3Schema"]
    return schema


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if "items" in node:
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _at(path: str) -> dict[str, Any]:
    node = _schema()
    for part in path.split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


def test_committed_crd_matches_the_models() -> None:
    assert CRD_PATH.read_text() == render_crd(), f"{CRD_PATH} is stale; {REGENERATE}"


def test_generation_is_deterministic() -> None:
    assert render_crd() == render_crd()
    assert "&id" not in render_crd(), "YAML anchors make the CRD hard to read and diff"


def test_identity_names_and_subresources() -> None:
    manifest = crd_manifest()
    assert manifest["apiVersion"] == "apiextensions.k8s.io/v1"
    assert manifest["metadata"]["name"] == "guardedendpoints.sagemaker-guardrails.dev"
    names = manifest["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "GuardedEndpoint",
        "guardedendpoints",
        ["gep"],
    )
    assert manifest["spec"]["scope"] == "Namespaced"
    version = _version()
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_printer_columns() -> None:
    columns = {c["name"]: c for c in _version()["additionalPrinterColumns"]}
    default = [c["name"] for c in _version()["additionalPrinterColumns"] if not c.get("priority")]
    assert default == ["Endpoint", "Phase", "Strategy", "Traffic", "Ready", "Age"]
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Age"]["type"] == "date"
    for column in columns.values():
        if column["jsonPath"].startswith(".status."):
            first = column["jsonPath"].split(".")[2].split("[")[0]
            assert first in _schema()["properties"]["status"]["properties"], column


def test_schema_is_structural() -> None:
    for path, node in _walk(_schema()):
        assert not FORBIDDEN_KEYS & set(node), f"{path}: {sorted(FORBIDDEN_KEYS & set(node))}"
        assert "type" in node, f"{path} has no type"
        assert not ("properties" in node and "additionalProperties" in node), path
        assert node.get("additionalProperties", True) is not False, path
        assert "default" not in node or node["default"] is not None, path


@pytest.mark.parametrize("part", ["spec", "status"])
def test_every_field_has_a_description(part: str) -> None:
    for path, node in _walk(_schema()["properties"][part], part):
        if not path.endswith(("[]", "{}")):
            assert node.get("description"), f"{path} has no description"


def test_every_spec_list_and_map_is_bounded_for_cel_cost() -> None:
    """Without maxItems / maxProperties / maxLength the API server prices CEL rules as unbounded."""
    for path, node in _walk(_schema()["properties"]["spec"], "spec"):
        if node["type"] == "array":
            assert "maxItems" in node, path
        if node["type"] == "object" and "additionalProperties" in node:
            assert "maxProperties" in node, path
        if node["type"] == "string" and "enum" not in node:
            assert "maxLength" in node, path


@pytest.mark.parametrize(
    ("path", "bounds"),
    [
        ("spec.deployment.blueGreen.trafficRouting.waitIntervalSeconds", {"minimum": 0, "maximum": 3600}),
        ("spec.deployment.blueGreen.terminationWaitSeconds", {"minimum": 0, "maximum": 3600}),
        ("spec.deployment.blueGreen.maximumExecutionTimeoutSeconds", {"minimum": 600, "maximum": 28800}),
        ("spec.deployment.rolling.waitIntervalSeconds", {"minimum": 0, "maximum": 3600}),
        ("spec.deployment.rolling.maximumExecutionTimeoutSeconds", {"minimum": 600, "maximum": 28800}),
        ("spec.deployment.autoRollback.alarms", {"minItems": 1, "maxItems": 10}),
        ("spec.deployment.autoRollback.alarms.[]", {"minLength": 1, "maxLength": 255}),
        ("spec.deployment.blueGreen.trafficRouting.canarySize.value", {"minimum": 1}),
        ("spec.endpointName", {"maxLength": 63, "pattern": r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"}),
        ("spec.variants.[].name", {"maxLength": 63}),
        ("spec.models.[].name", {"maxLength": 63}),
        ("spec.models.[].containers", {"minItems": 1, "maxItems": 15}),
        ("spec.models.[].containers.[].image", {"maxLength": 255}),
        ("spec.models.[].containers.[].modelDataUrl", {"maxLength": 1024}),
        ("spec.models.[].containers.[].environment", {"maxProperties": 100}),
        ("spec.models.[].executionRoleArn", {"maxLength": 2048}),
        ("spec.dataCapture.kmsKeyId", {"maxLength": 2048, "pattern": "^[a-zA-Z0-9:/_-]*$"}),
        ("spec.asyncInference.outputConfig.kmsKeyId", {"maxLength": 2048, "pattern": "^[a-zA-Z0-9:/_-]*$"}),
        ("spec.variants.[].initialInstanceCount", {"minimum": 1}),
        ("spec.tags", {"maxProperties": 45}),
        ("spec.deletionPolicy", {"enum": ["Delete", "Retain"]}),
        ("spec.deployment.blueGreen.trafficRouting.type", {"enum": ["AllAtOnce", "Canary", "Linear"]}),
        (
            "spec.deployment.blueGreen.trafficRouting.canarySize.type",
            {"enum": ["CapacityPercent", "InstanceCount"]},
        ),
        ("spec.variants.[].serverless.memorySizeInMB", {"enum": [1024, 2048, 3072, 4096, 5120, 6144]}),
        ("spec.dataCapture.captureModes.[]", {"enum": ["Input", "Output"]}),
    ],
)
def test_sagemaker_bounds_are_in_the_schema(path: str, bounds: dict[str, Any]) -> None:
    node = _at(path)
    assert {key: node.get(key) for key in bounds} == bounds


def _rules_at(path: str) -> list[dict[str, str]]:
    rules: list[dict[str, str]] = (_at(path) if path else _schema()).get("x-kubernetes-validations", [])
    return rules


@pytest.mark.parametrize(
    ("path", "fragment", "field"),
    [
        ("spec.deployment", "has(self.blueGreen) != has(self.rolling)", "blueGreen"),
        (
            "spec.deployment.blueGreen.trafficRouting",
            "self.type != 'Canary' || has(self.canarySize)",
            "canarySize",
        ),
        (
            "spec.deployment.blueGreen.trafficRouting",
            "self.type == 'Canary' || !has(self.canarySize)",
            "canarySize",
        ),
        (
            "spec.deployment.blueGreen.trafficRouting",
            "self.type != 'Linear' || has(self.linearStepSize)",
            "linearStepSize",
        ),
        (
            "spec.deployment.blueGreen.trafficRouting",
            "self.type == 'Linear' || !has(self.linearStepSize)",
            "linearStepSize",
        ),
        ("spec.deployment.blueGreen.trafficRouting", "self.canarySize.value <= 50", "canarySize"),
        ("spec.deployment.blueGreen.trafficRouting", "self.linearStepSize.value >= 10", "linearStepSize"),
        ("spec.deployment.rolling", "self.maximumBatchSize.value >= 5", "maximumBatchSize"),
        ("spec.deployment.rolling", "self.maximumBatchSize.value <= 50", "maximumBatchSize"),
        (
            "spec.deployment.blueGreen",
            "self.maximumExecutionTimeoutSeconds >",
            "maximumExecutionTimeoutSeconds",
        ),
        (
            "spec.deployment.rolling",
            "self.maximumExecutionTimeoutSeconds >",
            "maximumExecutionTimeoutSeconds",
        ),
        ("spec", "self.models.exists(m, m.name == v.model)", "model"),
        ("spec", "self.models.map(m, size(m.containers)).sum() <= 20", "containers"),
        ("spec", "size(k) + size(c.environment[k])).sum() : 0)).sum()).sum() <= 49152", "environment"),
        ("spec.models.[]", "size(k) + size(c.environment[k])).sum() : 0)).sum() <= 32768", "environment"),
        ("spec", "self.models.exists_one(n, n.name == m.name)", "models"),
        ("spec", "self.variants.exists_one(w, w.name == v.name)", "variants"),
        ("spec", "size(self.variants) == 1", "rolling"),
        ("spec", "!has(v.serverless)", "rolling"),
        ("", "oldSelf.spec.endpointName", "endpointName"),
        ("", "oldSelf.spec.variants.exists(o, o.name == v.name)", "variants"),
    ],
)
def test_cross_field_rules_are_cel_with_messages_naming_the_field(
    path: str, fragment: str, field: str
) -> None:
    matching = [rule for rule in _rules_at(path) if fragment in rule["rule"]]
    assert matching, f"no rule at {path or 'the root'} contains {fragment!r}"
    for rule in matching:
        assert field in rule["message"], rule


def test_every_rule_names_its_field_path_in_the_message() -> None:
    rules = [rule for _, node in _walk(_schema()) for rule in node.get("x-kubernetes-validations", [])]
    assert len(rules) >= 25
    for rule in rules:
        if "fieldPath" in rule:
            last = re.sub(r"\[.*?\]", "", rule["fieldPath"]).split(".")[-1]
            if last == "value":
                last = rule["fieldPath"].split(".")[-2]
            assert last in rule["message"], rule
        assert rule.get("reason", "FieldValueInvalid") in {
            "FieldValueInvalid",
            "FieldValueRequired",
            "FieldValueForbidden",
            "FieldValueDuplicate",
        }


def test_transition_rules_sit_at_the_root_only() -> None:
    """oldSelf rules inside optional objects are skipped when the object is added; the root always has one."""
    for path, node in _walk(_schema()):
        for rule in node.get("x-kubernetes-validations", []):
            assert "oldSelf" not in rule["rule"] or path == "", (path, rule)


def test_status_schema() -> None:
    status = _schema()["properties"]["status"]
    conditions = status["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert "type" in conditions["items"]["required"]
    assert status["properties"]["observedGeneration"]["type"] == "integer"
    assert status["properties"]["history"]["maxItems"] == 10
    assert "InService" in status["properties"]["phase"]["enum"]


def test_cli_writes_the_crd_and_the_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, ref = tmp_path / "crds" / "crd.yaml", tmp_path / "docs" / "reference.md"
    assert cli(["crd", "--output", str(out), "--reference", str(ref)]) == 0
    assert out.read_text() == render_crd()
    assert ref.read_text().startswith("# GuardedEndpoint API reference")
    assert cli_main([]) == 0
    printed = capsys.readouterr().out
    assert yaml.safe_load(printed)["kind"] == "CustomResourceDefinition"
