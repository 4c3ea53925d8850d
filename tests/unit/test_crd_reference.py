"""docs/reference.md is generated from the CRD schema and must not drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sagemaker_guardrails.api.crd import openapi_schema
from sagemaker_guardrails.api.reference import render_reference

pytestmark = pytest.mark.unit

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_committed_reference_matches_the_models() -> None:
    assert REFERENCE.read_text() == render_reference(), (
        f"{REFERENCE} is stale; regenerate with `sagemaker-guardrails crd --reference docs/reference.md`"
    )


def test_every_spec_field_and_rule_is_documented() -> None:
    text = render_reference()
    spec = openapi_schema()["properties"]["spec"]
    for name, node in spec["properties"].items():
        assert f"| `{name}` |" in text
        assert node["description"] in text
    for rule in spec["x-kubernetes-validations"]:
        assert rule["message"] in text
    assert "## spec.deployment.blueGreen.trafficRouting" in text
    assert "## status.conditions[]" in text


def test_links_point_at_existing_sections() -> None:
    text = render_reference()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^## (.+)$", text, re.M)
    }
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links
    assert links <= anchors, links - anchors


def test_table_cells_escape_pipes() -> None:
    row = next(line for line in render_reference().splitlines() if line.startswith("| `modelDataUrl`"))
    assert r"(https\|s3)" in row
    assert row.count(" | ") == 5
