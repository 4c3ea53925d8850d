"""The valid-resource table (tests/fixtures/valid_resources.yaml), checked without an API server.

Each case is an example plus a JSON merge patch that the operator's models and the CRD's OpenAPI
schema (with the CRD's regex engine) must both accept; an ``update`` case must also pass every
transition rule as an update of its example. The e2e suite creates the same cases on a real
kube-apiserver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests import crdkit
from tests.unit.test_examples_invalid import example, merge_patch

from sagemaker_guardrails.api.resource import validate_manifest

pytestmark = pytest.mark.unit

TABLE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "valid_resources.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text())


def test_table_shape() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)) >= 5
    for case in CASES:
        assert set(case) <= {"id", "base", "patch", "update"}, case["id"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_valid_case_is_accepted(case: dict[str, Any]) -> None:
    base = example(case["base"])
    manifest = merge_patch(base, case["patch"])
    validate_manifest(manifest, old=base if case.get("update") else None)
    errors = [e.message for e in crdkit.validator().iter_errors(manifest)]
    assert errors == []
