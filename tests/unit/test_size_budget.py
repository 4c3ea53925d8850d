"""Every GuardedEndpoint the API server accepts can also carry its status within etcd's limit.

etcd refuses a write over 1.5 MiB, and an object is stored as one JSON document: metadata, spec
and status together. These tests build the largest spec and the largest status the CRD allows
from the CRD's own bounds (tests/sizekit.py) and hold them to OBJECT_BUDGET_BYTES (1 MiB), which
leaves half a MiB for metadata (annotations alone may take 256 KiB, plus managedFields). The e2e
twin (tests/e2e/test_spec_size.py) stores that object in a real etcd.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from tests import crdkit, sizekit

from sagemaker_guardrails.api.base import (
    ENVIRONMENT_MAX,
    MAX_CONTAINERS,
    MODEL_ENVIRONMENT_MAX,
    OBJECT_BUDGET_BYTES,
)
from sagemaker_guardrails.api.crd import openapi_schema
from sagemaker_guardrails.api.resource import validate_manifest
from sagemaker_guardrails.api.spec import GuardedEndpointSpec
from sagemaker_guardrails.api.status import GuardedEndpointStatus

pytestmark = pytest.mark.unit

ETCD_REQUEST_LIMIT = 1536 * 1024  # etcd's --max-request-bytes default
METADATA_ROOM = 512 * 1024
DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return sizekit.largest_spec()


@pytest.fixture(scope="module")
def status() -> dict[str, Any]:
    return sizekit.largest_status()


def manifest(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "sagemaker-guardrails.dev/v1alpha1",
        "kind": "GuardedEndpoint",
        "metadata": {"name": "largest"},
        "spec": spec,
    }


def rejection(spec: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as rejected:
        GuardedEndpointSpec.model_validate(spec)
    return str(rejected.value)


def kib(size: int) -> int:
    return -(-size // 1024)


@pytest.mark.parametrize("part", ["spec", "status"])
def test_every_string_list_and_map_is_bounded(part: str) -> None:
    assert sizekit.unbounded(openapi_schema()["properties"][part], part) == []


def test_the_largest_spec_is_accepted_by_the_models_and_the_schema(spec: dict[str, Any]) -> None:
    validate_manifest(manifest(spec))
    errors = [e.message for e in crdkit.validator().iter_errors(manifest(spec))]
    assert errors == []


def test_the_largest_spec_is_at_every_bound(spec: dict[str, Any]) -> None:
    models, alarms = spec["models"], spec["deployment"]["autoRollback"]["alarms"]
    containers = [c for m in models for c in m["containers"]]
    assert (len(models), len(spec["variants"]), len(containers)) == (10, 10, MAX_CONTAINERS)
    assert (len(alarms), len(spec["tags"])) == (10, 45)
    assert {len(a) for a in alarms} == {255}
    assert {len(c["image"]) for c in containers} == {255}
    assert {len(c["modelDataUrl"]) for c in containers} == {1024}
    assert {len(m["executionRoleArn"]) for m in models} == {2048}
    assert {(len(k), len(v)) for k, v in spec["tags"].items()} == {(128, 256)}
    sizes = [
        sum(len(k) + len(v) for c in m["containers"] for k, v in c["environment"].items()) for m in models
    ]
    assert sum(sizes) == ENVIRONMENT_MAX
    assert max(sizes) == MODEL_ENVIRONMENT_MAX


@pytest.mark.parametrize(("change", "field"), sizekit.STEPS_OVER)
def test_one_step_further_is_rejected_naming_the_field(
    spec: dict[str, Any], change: Callable[[dict[str, Any]], None], field: str
) -> None:
    assert field in rejection(sizekit.edited(spec, change))


def test_the_largest_status_is_one_the_status_model_reads(status: dict[str, Any]) -> None:
    read = GuardedEndpointStatus.model_validate(status)
    dumped = read.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert sizekit.json_size(dumped) == sizekit.json_size(status), "nothing was cut or dropped"


def test_the_largest_spec_and_status_fit_the_budget(spec: dict[str, Any], status: dict[str, Any]) -> None:
    spec_size, status_size = sizekit.json_size(spec), sizekit.json_size(status)
    figures = f"spec {spec_size} B ({kib(spec_size)} KiB), status {status_size} B ({kib(status_size)} KiB)"
    assert spec_size + status_size <= OBJECT_BUDGET_BYTES, figures
    assert ETCD_REQUEST_LIMIT - OBJECT_BUDGET_BYTES >= METADATA_ROOM


def test_plain_text_specs_are_far_smaller() -> None:
    """Without characters JSON escapes, the largest spec fits in an annotation (client-side apply)."""
    spec = sizekit.largest_spec(sizekit.ASCII_FILLERS)
    GuardedEndpointSpec.model_validate(spec)
    assert sizekit.json_size(spec) < 256 * 1024


def test_the_docs_state_the_measured_figures(spec: dict[str, Any], status: dict[str, Any]) -> None:
    spec_size, status_size = sizekit.json_size(spec), sizekit.json_size(status)
    plain = sizekit.json_size(sizekit.largest_spec(sizekit.ASCII_FILLERS))
    text = re.sub(r"\s+", " ", DOC.read_text())
    for figure in (spec_size, status_size, spec_size + status_size, plain):
        assert f"{kib(figure)} KiB" in text, f"docs/troubleshooting.md should state {kib(figure)} KiB"
    for bound in (MAX_CONTAINERS, f"{ENVIRONMENT_MAX // 1024} KiB", f"{MODEL_ENVIRONMENT_MAX // 1024} KiB"):
        assert str(bound) in text


# --- the budget test must be able to fail ---------------------------------------------------------


def test_a_removed_bound_leaves_no_worst_case(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = openapi_schema()
    container = schema["properties"]["spec"]["properties"]["models"]["items"]["properties"]["containers"]
    del container["items"]["properties"]["image"]["maxLength"]
    monkeypatch.setattr(sizekit, "openapi_schema", lambda: schema)
    with pytest.raises(sizekit.UnboundedError, match=r"image: string without maxLength"):
        sizekit.largest_spec()
    assert sizekit.unbounded(schema["properties"]["spec"], "spec") == ["spec.models[].containers[].image"]


def test_a_looser_spec_wide_bound_breaks_the_budget(
    monkeypatch: pytest.MonkeyPatch, status: dict[str, Any]
) -> None:
    monkeypatch.setattr(sizekit, "ENVIRONMENT_MAX", 10 * MODEL_ENVIRONMENT_MAX)
    spec = sizekit.largest_spec()
    assert sizekit.json_size(spec) + sizekit.json_size(status) > OBJECT_BUDGET_BYTES


def test_the_costliest_character_is_the_one_json_escapes() -> None:
    assert sizekit.json_size("\x01") == 2 + 6
    assert sizekit.json_size("<") == 2 + 6
    assert sizekit.costliest_string(3, None) == "\x01\x01\x01"
    assert sizekit.costliest_string(9, r"^ml\.[a-z0-9]+\.[a-z0-9]+$") == "ml.a.aaaa"
