"""The largest GuardedEndpoint the CRD accepts, and the largest status, built from the CRD's bounds.

A GuardedEndpoint lives in etcd as one JSON document, and etcd refuses a write over 1.5 MiB, so
every object the API server accepts must leave room for its status. This module builds the worst
case from the generated schema itself (``maxItems``, ``maxLength``, ``maxProperties``, ``pattern``,
``enum``, ``maximum`` and the key rules of maps), not from a hand-written example, so removing or
raising a bound makes the worst case grow and the budget test fail:

- every list has ``maxItems`` items, every map ``maxProperties`` entries with the longest keys,
  every string ``maxLength`` characters, every number its longest spelling;
- every character is the costliest one the field's pattern allows: a control character such as
  U+0001 takes six bytes in JSON (``\\u0001``), so free-form text can weigh six times its length;
- the choices the cross-field rules force are made towards size: blue/green (rolling allows one
  variant only), linear steps, instance-based variants;
- the spec-wide rules (containers and environment across all models) are then met in the way that
  costs the most JSON: every container gets all one-character keys, and the rest of the
  environment budget goes into values, up to the per-model limit.

:func:`json_size` counts what the API server writes: Go's ``encoding/json`` compact form, which
also escapes ``<``, ``>``, ``&``, U+2028 and U+2029 as six bytes each.
"""

from __future__ import annotations

import copy
import json
import re
import string
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from tests import crdkit

from sagemaker_guardrails.api.base import (
    ENVIRONMENT_MAX,
    MAX_CONTAINERS,
    MODEL_ENVIRONMENT_MAX,
)
from sagemaker_guardrails.api.crd import openapi_schema

Schema = dict[str, Any]

# Candidate characters: six bytes in JSON (escaped), multi-byte UTF-8, two bytes (escaped), ASCII.
FILLERS = ("\x01", "<", "\u2028", "\U0001f600", '"', "é", "a", "0", "A", "-", "_", ".")
# Plain text, for the typical rather than the adversarial case.
ASCII_FILLERS = ("a", "0", "A", "-", "_", ".")
# Fixed parts that patterns demand (scheme, ARN prefix, ...), tried around the filler.
AFFIXES = [
    ("", ""),
    ("s3://b/", ""),
    ("arn:aws:iam::123456789012:role/", ""),
    ("arn:aws:sns:us-east-1:123456789012:", ""),
    ("ml.a.", ""),
    ("us-", "-1"),
]
INT64 = (-(2**63), 2**63 - 1)
# The longest spelling of a float64 (Go writes it as 2.2250738585072014e-308 too).
LONGEST_FLOAT = 2.2250738585072014e-308


class UnboundedError(AssertionError):
    """The schema does not bound a string, list or map, so no worst case exists."""


def json_text(value: Any) -> str:
    """``value`` as Go's ``encoding/json`` writes it (compact, HTML characters escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def json_size(value: Any) -> int:
    """Bytes of ``value`` in JSON, as the API server stores it in etcd."""
    return len(json_text(value).encode())


@lru_cache(maxsize=4096)
def costliest_string(
    length: int, pattern: str | None, tag: str = "", fillers: tuple[str, ...] = FILLERS
) -> str:
    """The ``length``-character string matching ``pattern`` (and ending in ``tag``) that costs most."""
    found = []
    for prefix, suffix in AFFIXES:
        room = length - len(prefix) - len(suffix) - len(tag)
        if room < 0:
            continue
        for filler in fillers:
            text = prefix + filler * room + tag + suffix
            if pattern is None or crdkit.matches(pattern, text):
                found.append(text)
    if not found:
        raise AssertionError(f"no affix and filler make a {length}-character string match {pattern}")
    return max(found, key=json_size)


def _tag(index: int | None) -> str:
    """A suffix that keeps list items and map keys distinct (digits fit every pattern here)."""
    return "" if index is None else str(index)


def _map_key_bounds(node: Schema, path: str) -> tuple[int, str | None]:
    """Longest key and key pattern of a map, read back from the CEL key rules the generator wrote."""
    high, pattern = None, None
    for rule in node.get("x-kubernetes-validations", []):
        if found := re.search(r"size\(k\) <= (\d+)", rule["rule"]):
            high = int(found.group(1))
        if found := re.search(r"k\.matches\(r'(.*)'\)", rule["rule"]):
            pattern = found.group(1)
    if high is None:
        raise UnboundedError(f"{path}: map keys have no maximum length")
    return high, pattern


def _longest_number(node: Schema, integer: bool) -> int | float:
    low, high = node.get("minimum"), node.get("maximum")
    if integer:
        candidates = [INT64[1] if high is None else high, INT64[0] if low is None else low]
        return max(candidates, key=lambda n: len(str(n)))
    if (low is None or low <= LONGEST_FLOAT) and (high is None or high >= LONGEST_FLOAT):
        return LONGEST_FLOAT
    return float(high if high is not None else low)


def largest(
    node: Schema,
    path: str,
    omit: frozenset[str] = frozenset(),
    index: int | None = None,
    fillers: tuple[str, ...] = FILLERS,
) -> Any:
    """The costliest value ``node`` admits, every optional field present unless its path is in ``omit``.

    ``index`` is the position in the nearest enclosing list; strings end in it, so that names that
    must be unique (models, variants, alarms, condition types) are.
    """
    kind = node["type"]
    if "enum" in node:
        return max(node["enum"], key=json_size)
    if kind == "object" and "properties" in node:
        return {
            name: largest(child, f"{path}.{name}", omit, index, fillers)
            for name, child in node["properties"].items()
            if f"{path}.{name}" not in omit
        }
    if kind == "object":
        if "maxProperties" not in node:
            raise UnboundedError(f"{path}: map without maxProperties")
        key_max, key_pattern = _map_key_bounds(node, path)
        values = node["additionalProperties"]
        return {
            costliest_string(key_max, key_pattern, _tag(i), fillers): largest(
                values, f"{path}{{}}", omit, fillers=fillers
            )
            for i in range(node["maxProperties"])
        }
    if kind == "array":
        if "maxItems" not in node:
            raise UnboundedError(f"{path}: list without maxItems")
        items = node["items"]
        if "enum" in items:
            return sorted(items["enum"], key=json_size, reverse=True)[: node["maxItems"]]
        return [largest(items, f"{path}[]", omit, i, fillers) for i in range(node["maxItems"])]
    if kind == "string":
        if "maxLength" not in node:
            raise UnboundedError(f"{path}: string without maxLength")
        return costliest_string(node["maxLength"], node.get("pattern"), _tag(index), fillers)
    if kind in ("integer", "number"):
        return _longest_number(node, integer=kind == "integer")
    if kind == "boolean":
        return False
    raise AssertionError(f"{path}: unexpected type {kind}")


def walk(node: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    """Every node of a schema with its path (``[]`` for list items, ``{}`` for map values)."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


# --- the spec ------------------------------------------------------------------------------------

# Alternatives the cross-field rules force, each decided towards the larger object.
SPEC_OMIT = frozenset(
    {
        "spec.deployment.rolling",  # rolling allows one variant; blue/green allows ten
        "spec.deployment.blueGreen.trafficRouting.canarySize",  # linear: "linearStepSize" is longer
        "spec.variants[].serverless",  # instanceType + initialInstanceCount are longer
        "spec.models[].containers[].environment",  # filled within the spec-wide limits below
    }
)


def _spec_schema() -> Schema:
    schema: Schema = openapi_schema()["properties"]["spec"]
    return schema


def _environment_keys(schema: Schema) -> list[str]:
    """The one-character environment variable names the key pattern allows."""
    env = schema["properties"]["models"]["items"]["properties"]["containers"]["items"]["properties"]
    _, pattern = _map_key_bounds(env["environment"], "environment")
    return [
        c for c in string.ascii_letters + string.digits + "_" if pattern is None or crdkit.matches(pattern, c)
    ]


def _value_filler(schema: Schema, fillers: tuple[str, ...]) -> str:
    env = schema["properties"]["models"]["items"]["properties"]["containers"]["items"]["properties"]
    value = env["environment"]["additionalProperties"]
    return costliest_string(1, value.get("pattern"), fillers=fillers)


def _value_max(schema: Schema) -> int:
    env = schema["properties"]["models"]["items"]["properties"]["containers"]["items"]["properties"]
    length: int = env["environment"]["additionalProperties"]["maxLength"]
    return length


def _fit_containers(spec: dict[str, Any]) -> None:
    """At most MAX_CONTAINERS across the models, at least one each, the first models fullest."""
    left = MAX_CONTAINERS - len(spec["models"])
    for model in spec["models"]:
        keep = 1 + min(left, len(model["containers"]) - 1)
        left -= keep - 1
        model["containers"] = model["containers"][:keep]


def _fill_environments(spec: dict[str, Any], schema: Schema, fillers: tuple[str, ...]) -> None:
    """The costliest environments within MODEL_ENVIRONMENT_MAX per model and ENVIRONMENT_MAX in all.

    Both limits count characters of keys and values. A new entry with a one-character key costs
    one character and adds seven bytes (``"A":"",``); a value character adds six; a longer key
    adds one byte per character. So: every one-character key in every container first, then the
    rest of the budget as values, each up to its maximum length, model by model.
    """
    keys, filler, value_max = _environment_keys(schema), _value_filler(schema, fillers), _value_max(schema)
    total_left = ENVIRONMENT_MAX
    for model in spec["models"]:
        model_left = min(MODEL_ENVIRONMENT_MAX, total_left)
        for container in model["containers"]:
            count = min(len(keys), model_left)
            container["environment"] = dict.fromkeys(keys[:count], "")
            model_left -= count
            total_left -= count
    for model in spec["models"]:
        model_left = MODEL_ENVIRONMENT_MAX - sum(
            len(k) for c in model["containers"] for k in c["environment"]
        )
        for container in model["containers"]:
            for key in container["environment"]:
                length = min(value_max, model_left, total_left)
                container["environment"][key] = filler * length
                model_left -= length
                total_left -= length


def largest_spec(fillers: tuple[str, ...] = FILLERS) -> dict[str, Any]:
    """The costliest spec the CRD accepts (made of ``fillers`` where the patterns leave a choice)."""
    schema = _spec_schema()
    spec: dict[str, Any] = largest(schema, "spec", SPEC_OMIT, fillers=fillers)
    routing = spec["deployment"]["blueGreen"]["trafficRouting"]
    routing["type"] = "Linear"
    # The CEL rule bounds a percentage at 50 (10-50 % for linear steps); the schema says only >= 1.
    routing["linearStepSize"] = {"type": "CapacityPercent", "value": 50}
    for variant, model in zip(spec["variants"], spec["models"], strict=False):
        variant["model"] = model["name"]
    _fit_containers(spec)
    _fill_environments(spec, schema, fillers)
    return spec


# --- one step over a bound: each must be refused, naming the field -------------------------------


def longer_value(spec: dict[str, Any]) -> None:
    """One character over ENVIRONMENT_MAX, in a model far from SageMaker's per-model limit."""
    environment = spec["models"][-1]["containers"][-1]["environment"]
    environment["A"] += "x"


def longer_value_in_full_model(spec: dict[str, Any]) -> None:
    """Model 0 holds SageMaker's 32 KB; the spec-wide budget gets the character back elsewhere."""
    first = next(
        e
        for c in spec["models"][0]["containers"]
        if (e := c["environment"]) and min(map(len, e.values())) < 1024
    )
    key = min(first, key=lambda k: len(first[k]))
    first[key] += "x"
    second = next(
        e for c in spec["models"][1]["containers"] if (e := c["environment"]) and max(map(len, e.values()))
    )
    key = max(second, key=lambda k: len(second[k]))
    second[key] = second[key][:-1]


def one_more_container(spec: dict[str, Any]) -> None:
    """MAX_CONTAINERS + 1 across the models (the model itself stays under SageMaker's 15)."""
    spec["models"][-1]["containers"].append({"image": "i"})


def one_more_tag(spec: dict[str, Any]) -> None:
    """46 tags."""
    spec["tags"]["one-more"] = ""


def longer_image(spec: dict[str, Any]) -> None:
    """A 256-character image."""
    spec["models"][0]["containers"][0]["image"] += "x"


def variable_101(spec: dict[str, Any]) -> None:
    """A container with 101 environment variables."""
    environment = spec["models"][-1]["containers"][-1]["environment"]
    environment.update({f"V{i}": "" for i in range(101 - len(environment))})


# (change, what the refusal says: the field, or the rule's message)
STEPS_OVER: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (longer_value, "environment keys and values must be at most"),
    (longer_value_in_full_model, "environment keys and values of one model"),
    (one_more_container, "containers"),
    (one_more_tag, "tags"),
    (longer_image, "image"),
    (variable_101, "environment"),
]


# --- the status ----------------------------------------------------------------------------------


def largest_status(fillers: tuple[str, ...] = FILLERS) -> dict[str, Any]:
    """The costliest status the CRD accepts (which bounds whatever the operator writes)."""
    schema: Schema = openapi_schema()["properties"]["status"]
    status: dict[str, Any] = largest(schema, "status", fillers=fillers)
    return status


def unbounded(node: Schema, path: str) -> list[str]:
    """Strings, lists and maps without a maximum, anywhere under ``node``."""
    found = []
    for where, child in walk(node, path):
        kind = child["type"]
        if kind == "string" and "enum" not in child and "maxLength" not in child:
            found.append(where)
        if kind == "array" and "maxItems" not in child:
            found.append(where)
        if kind == "object" and "properties" not in child and "maxProperties" not in child:
            found.append(where)
    return found


def edited(spec: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A deep copy of ``spec`` with ``change`` applied."""
    copied = copy.deepcopy(spec)
    change(copied)
    return copied
