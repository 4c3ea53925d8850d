"""Every spec field's bounds equal those of the SageMaker member it is sent as, in botocore's model.

``sagemaker_guardrails.api.sagemaker_fields`` maps each field of the generated CRD's ``spec`` to a
member of a SageMaker request (or says why it has none); this test resolves each member's shape in
the installed botocore's SageMaker service model and compares the bounds, so that neither a field
added without its bounds nor a bound SageMaker changes in a botocore release can drift silently.
A failure after a botocore upgrade means SageMaker changed a bound: follow it in ``api/`` (then
``make crd``) or declare the difference in ``DEVIATIONS`` with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from tests import crdkit

from sagemaker_guardrails.api.base import ALARM_NAME_PATTERN, INSTANCE_TYPE_PATTERN
from sagemaker_guardrails.api.crd import openapi_schema
from sagemaker_guardrails.api.patterns import java_pattern
from sagemaker_guardrails.api.sagemaker_fields import DEVIATIONS, OWN_FIELDS, SAGEMAKER_FIELDS
from sagemaker_guardrails.core.desired import _CAPACITY_TYPES, _TRAFFIC_TYPES

pytestmark = pytest.mark.unit

Schema = dict[str, Any]
LOWER = ("minLength", "minItems", "minProperties", "minimum")
UPPER = ("maxLength", "maxItems", "maxProperties", "maximum")
_SPELLING = {**_TRAFFIC_TYPES, **_CAPACITY_TYPES}


@cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


def _walk(node: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    """Every field of the schema that can carry bounds (not the objects that only group fields)."""
    if "properties" in node:
        for name, child in node["properties"].items():
            yield from _walk(child, f"{path}.{name}")
        return
    yield path, node
    if "items" in node:
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield f"{path}{{key}}", _key_schema(node)
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _key_schema(node: Schema) -> Schema:
    """A map's key constraints, read back from the CEL rules the generator wrote for them."""
    key: Schema = {"type": "string"}
    for rule in node.get("x-kubernetes-validations", []):
        if found := re.search(r"size\(k\) >= (\d+)", rule["rule"]):
            key["minLength"] = int(found.group(1))
        if found := re.search(r"size\(k\) <= (\d+)", rule["rule"]):
            key["maxLength"] = int(found.group(1))
        if found := re.search(r"k\.matches\(r'(.*)'\)\)$", rule["rule"]):
            key["pattern"] = found.group(1)
    return key


FIELDS = dict(_walk(openapi_schema()["properties"]["spec"], "spec"))


def _shape(member: str) -> Shape:
    operation, path = member.split(":")
    shape: Shape = _model().operation_model(operation).input_shape
    for part in path.split("."):
        name, _, rest = part.partition("[")
        name, _, key = name.partition("{")
        shape = shape.members[name]  # type: ignore[attr-defined]
        if rest:
            shape = shape.member  # type: ignore[attr-defined]
        if key:
            shape = shape.key if key == "key}" else shape.value  # type: ignore[attr-defined]
    return shape


def _needs_a_character(pattern: str | None) -> bool:
    return pattern is not None and not crdkit.matches(pattern, "")


def _botocore_bounds(shape: Shape, node: Schema) -> Schema:
    """botocore's bounds in the CRD's terms (a SageMaker tag list is a map in the spec)."""
    meta, kind = shape.metadata, shape.type_name
    if kind == "list" and node.get("type") == "object":
        kind = "map"
    out: Schema = {}
    low, high = {"string": ("minLength", "maxLength"), "list": ("minItems", "maxItems")}.get(
        kind, ("minProperties", "maxProperties") if kind == "map" else ("minimum", "maximum")
    )
    if kind in {"boolean", "structure"}:
        return out
    if kind in ("string", "list", "map"):
        if meta.get("min"):
            out[low] = meta["min"]
    elif "min" in meta:
        out[low] = meta["min"]
    if "max" in meta:
        out[high] = meta["max"]
    if getattr(shape, "enum", None):
        out["enum"] = list(shape.enum)  # type: ignore[attr-defined]
    if "pattern" in meta:
        try:
            out["pattern"] = java_pattern(meta["pattern"])
        except ValueError:
            out["pattern"] = f"(no RE2 equivalent of {meta['pattern']})"
        if _needs_a_character(out["pattern"] if out["pattern"].startswith("^") else None):
            out.setdefault("minLength", 1)
    return out


def _crd_bounds(node: Schema) -> Schema:
    out = {key: node[key] for key in (*LOWER, *UPPER, "enum", "pattern") if key in node}
    if node.get("type") == "string" and _needs_a_character(node.get("pattern")):
        out["minLength"] = max(out.get("minLength", 0), 1)
    return out


def _stricter(key: str, bounds: Schema, theirs: Any) -> bool:
    ours = bounds.get(key)
    if ours is None and key in {"minimum", "maximum"} and bounds.get("enum"):
        ours = (min if key == "minimum" else max)(bounds["enum"])
    if theirs is None:
        return True  # botocore has no such bound: any bound of ours is stricter
    if ours is None:
        return key in {"enum", "pattern"}
    if key in LOWER:
        return bool(ours >= theirs)
    if key in UPPER:
        return bool(ours <= theirs)
    if key == "enum":
        return {_SPELLING.get(v, v) for v in ours} <= set(theirs)
    return True  # patterns: checked one by one below


def test_every_spec_field_is_mapped_exactly_once() -> None:
    unmapped = sorted(set(FIELDS) - set(SAGEMAKER_FIELDS) - set(OWN_FIELDS))
    assert not unmapped, f"map these spec fields in api/sagemaker_fields.py: {unmapped}"
    assert not set(SAGEMAKER_FIELDS) & set(OWN_FIELDS)
    stale = sorted((set(SAGEMAKER_FIELDS) | set(OWN_FIELDS)) - set(FIELDS))
    assert not stale, f"no longer in the CRD: {stale}"
    assert set(DEVIATIONS) <= set(SAGEMAKER_FIELDS)
    assert len(SAGEMAKER_FIELDS) >= 50


@pytest.mark.parametrize("path", sorted(SAGEMAKER_FIELDS))
def test_bounds_equal_botocores_unless_declared(path: str) -> None:
    shape = _shape(SAGEMAKER_FIELDS[path])
    theirs, ours = _botocore_bounds(shape, FIELDS[path]), _crd_bounds(FIELDS[path])
    declared = DEVIATIONS.get(path, {})
    for key in sorted(set(theirs) | set(ours) | set(declared)):
        if key in declared:
            assert ours.get(key) != theirs.get(key), (
                f"{path}.{key} is declared a deviation but equals botocore's"
            )
            assert _stricter(key, ours, theirs.get(key)), (
                f"{path}.{key}: {ours.get(key)!r} is looser than botocore's {theirs.get(key)!r}"
            )
        else:
            assert ours.get(key) == theirs.get(key), (
                f"{path}: {key} is {ours.get(key)!r} in the CRD but {theirs.get(key)!r} in botocore's "
                f"{shape.name}; follow botocore in api/ or declare it in DEVIATIONS"
            )


def test_every_instance_type_of_botocore_matches_the_pattern() -> None:
    node = FIELDS["spec.variants[].instanceType"]
    assert node["pattern"] == INSTANCE_TYPE_PATTERN
    types = _shape(SAGEMAKER_FIELDS["spec.variants[].instanceType"]).enum  # type: ignore[attr-defined]
    assert len(types) > 100
    assert {"ml.p6-b200.48xlarge", "ml.p6e-gb200.36xlarge", "ml.m5.xlarge"} <= set(types)
    misfits = [t for t in types if not crdkit.matches(INSTANCE_TYPE_PATTERN, t) or len(t) > node["maxLength"]]
    assert not misfits, f"botocore's instance types the CRD would refuse: {misfits}"
    for bad in ("m5.xlarge", "ml.m5", "ml..xlarge", "ml.M5.xlarge", "ml.p6-.48xlarge", "ml.m5.xlarge "):
        assert not crdkit.matches(INSTANCE_TYPE_PATTERN, bad), bad


def test_enums_spelt_differently_are_botocores_values() -> None:
    for path in (p for p, keys in DEVIATIONS.items() if "enum" in keys and "spelt" in keys["enum"]):
        ours = {_SPELLING[v] for v in FIELDS[path]["enum"]}
        assert ours == set(_shape(SAGEMAKER_FIELDS[path]).enum), path  # type: ignore[attr-defined]


def test_serverless_memory_steps_span_botocores_range() -> None:
    shape = _shape(SAGEMAKER_FIELDS["spec.variants[].serverless.memorySizeInMB"])
    steps = FIELDS["spec.variants[].serverless.memorySizeInMB"]["enum"]
    assert (min(steps), max(steps)) == (shape.metadata["min"], shape.metadata["max"])
    assert steps == list(range(shape.metadata["min"], shape.metadata["max"] + 1, 1024))
    assert "1 GB increments" in shape.documentation


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("fraud-5xx", True),
        (" fraud 5xx ", True),
        ("é", True),
        ("", False),
        ("   ", False),
        ("\t\x0b\f", False),
        ("fraud\n5xx", False),
        ("fraud\r5xx", False),
        ("fraud\u20285xx", False),
        ("\u00a0", True),  # not whitespace to Java's \s
    ],
)
def test_the_alarm_name_pattern_means_botocores_lookahead(value: str, accepted: bool) -> None:
    botocore_pattern = _shape(SAGEMAKER_FIELDS["spec.deployment.autoRollback.alarms[]"]).metadata["pattern"]
    assert botocore_pattern == r"(?!\s*$).+", "botocore changed AlarmName: revisit ALARM_NAME_PATTERN"
    java = re.fullmatch(r"(?!\s*$)[^\n\r\x85\u2028\u2029]+", value, re.ASCII) is not None
    assert java is accepted
    assert crdkit.matches(ALARM_NAME_PATTERN, value) is accepted


def _patterns(node: Schema) -> Iterator[str]:
    if "pattern" in node:
        yield node["pattern"]
    for rule in node.get("x-kubernetes-validations", []):
        yield from re.findall(r"matches\(r'(.*?)'\)", rule["rule"])
    for child in (*node.get("properties", {}).values(), node.get("items"), node.get("additionalProperties")):
        if isinstance(child, dict):
            yield from _patterns(child)


def test_patterns_mean_the_same_to_re2_and_to_pydantic() -> None:
    """Shorthand classes are ASCII in RE2 and Java but Unicode in Rust's regex (pydantic); every
    pattern spells its classes out, compiles in pydantic's engine and is anchored."""
    patterns = set(_patterns(openapi_schema()))
    assert len(patterns) >= 12
    for pattern in patterns:
        assert not re.search(r"\\[dDsSwWbB]", pattern), pattern
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        crdkit.matches(pattern, "x")  # compiles
    assert not crdkit.matches(java_pattern(r"\d+"), "\u0661")
    assert not crdkit.matches(java_pattern(r"[\S]+"), "a\x0bb")
    assert crdkit.matches(java_pattern(r"[\S]+"), "a\u00a0b")
