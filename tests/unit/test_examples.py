"""Every example under examples/ is a valid GuardedEndpoint, for pydantic and for the CRD schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests import crdkit

from sagemaker_guardrails.api import GROUP, KIND, VERSION
from sagemaker_guardrails.api.resource import validate_manifest
from sagemaker_guardrails.api.spec import CapacitySizeType, TrafficRoutingType

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(path.stem for path in EXAMPLES.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return manifest


def test_the_documented_examples_exist() -> None:
    assert {"all-at-once", "canary", "linear", "rolling", "async"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_validates_with_pydantic(name: str) -> None:
    manifest = load(name)
    assert manifest["apiVersion"] == f"{GROUP}/{VERSION}"
    assert manifest["kind"] == KIND
    assert manifest["metadata"]["name"] and manifest["metadata"]["namespace"]
    resource = validate_manifest(manifest)
    assert resource.spec.deployment.auto_rollback is not None, "examples show guardrails with alarms"


@pytest.mark.parametrize("name", NAMES)
def test_example_validates_against_the_crd_schema(name: str) -> None:
    crdkit.validator().validate(load(name))


@pytest.mark.parametrize("name", NAMES)
def test_example_explains_itself(name: str) -> None:
    text = (EXAMPLES / f"{name}.yaml").read_text()
    assert text.startswith("#"), "each example opens with a comment explaining the choice of mode"
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 4


@pytest.mark.parametrize(
    ("name", "strategy"),
    [
        ("all-at-once", "AllAtOnce"),
        ("canary", "Canary"),
        ("linear", "Linear"),
        ("rolling", "Rolling"),
    ],
)
def test_each_mode_has_its_example(name: str, strategy: str) -> None:
    assert validate_manifest(load(name)).spec.deployment.strategy == strategy


def test_async_example_is_asynchronous_with_an_instance_count_canary() -> None:
    spec = validate_manifest(load("async")).spec
    assert spec.async_inference is not None
    assert spec.deployment.blue_green is not None
    routing = spec.deployment.blue_green.traffic_routing
    assert routing.type is TrafficRoutingType.CANARY
    assert routing.canary_size is not None and routing.canary_size.type is CapacitySizeType.INSTANCE_COUNT


def test_spec_round_trips_through_camel_case() -> None:
    for name in NAMES:
        spec = validate_manifest(load(name)).spec
        dumped = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
        assert type(spec).model_validate(dumped) == spec
        assert set(load(name)["spec"]) <= set(dumped)
