"""Pydantic JSON Schema -> Kubernetes structural OpenAPI v3 schema.

A CRD schema is a restricted dialect of OpenAPI v3 ("structural"): no ``$ref``, no ``anyOf``
with ``null`` for optional fields, no ``additionalProperties`` next to ``properties``, no
``propertyNames``, no ``title``. This module rewrites what pydantic emits into that dialect:

- ``$ref`` is inlined; the field's own ``description`` and ``default`` win over the model's.
- ``X | None`` (``anyOf [X, null]``) becomes plain optional ``X``; a ``null`` default is dropped.
- Maps with constrained keys (``patternProperties`` / ``propertyNames``) become
  ``additionalProperties`` plus CEL rules on the keys, with messages naming the field.
- Only scalar defaults are kept, so the API server fills in the same values pydantic would.

Anything it does not know raises :class:`SchemaError` rather than passing through, so a model
change that the CRD cannot express fails generation instead of producing a non-structural CRD.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# Keys copied as they are (their values are scalars or lists of scalars).
_PASSTHROUGH = (
    "type",
    "format",
    "description",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
)
_DROPPED = ("title",)
# Output key order: what a reader looks for first, nested structure last.
_ORDER = [
    "description",
    "type",
    "format",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
    "items",
    "properties",
    "additionalProperties",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
]
Schema = dict[str, Any]


class SchemaError(ValueError):
    """The pydantic schema uses a construct a structural CRD schema cannot express."""


def structural_schema(model: type[BaseModel]) -> Schema:
    """The structural schema of ``model`` (serialised by alias, i.e. camelCase)."""
    source = model.model_json_schema(by_alias=True)
    return _convert(source, source.get("$defs", {}), name=model.__name__)


def _resolve(node: Schema, defs: Schema) -> Schema:
    """Inline a ``$ref`` (or a one-element ``allOf``/``anyOf``-with-null) into one node."""
    node = dict(node)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [option for option in node.pop(key) if option != {"type": "null"}]
            if len(options) != 1:
                raise SchemaError(f"{key} with {len(options)} non-null options cannot be structural")
            node = {**options[0], **node}
            if node.get("default", ...) is None:
                del node["default"]
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        node = {**_resolve(target, defs), **node}
    return node


def _convert(node: Schema, defs: Schema, name: str) -> Schema:
    node = _resolve(node, defs)
    out: Schema = {key: node[key] for key in _PASSTHROUGH if key in node}
    rules: list[dict[str, str]] = list(node.get("x-kubernetes-validations", []))
    if "const" in node:
        out["enum"] = [node["const"]]
    if "default" in node and isinstance(node["default"], bool | int | float | str):
        out["default"] = node["default"]
    if "properties" in node:
        out["type"] = "object"
        out["properties"] = {
            prop: _convert(value, defs, name=prop) for prop, value in node["properties"].items()
        }
    elif node.get("type") == "object":
        values, key_rules = _map_values(node, defs, name)
        out["additionalProperties"] = values
        rules = key_rules + rules
    if "items" in node:
        out["items"] = _convert(node["items"], defs, name=name)
    for key, value in node.items():
        if key.startswith("x-kubernetes-") and key in _ORDER and key != "x-kubernetes-validations":
            out[key] = value
    if rules:
        out["x-kubernetes-validations"] = rules
    unknown = set(node) - set(_PASSTHROUGH) - set(_DROPPED) - set(out) - _HANDLED
    if unknown:
        raise SchemaError(f"{name}: cannot express {sorted(unknown)} in a structural schema")
    if "type" not in out:
        raise SchemaError(f"{name}: every node of a structural schema needs a type")
    return {key: out[key] for key in sorted(out, key=_ORDER.index)}


_HANDLED = {
    "properties",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "items",
    "default",
    "const",
    "$defs",
    "x-kubernetes-validations",
}


def _map_values(node: Schema, defs: Schema, name: str) -> tuple[Schema, list[dict[str, str]]]:
    """The value schema of a map, and CEL rules standing in for its key constraints."""
    patterns = node.get("patternProperties", {})
    if len(patterns) > 1:
        raise SchemaError(f"{name}: at most one key pattern is supported")
    values = node.get("additionalProperties")
    key_schema = dict(node.get("propertyNames", {}))
    if patterns:
        ((pattern, values),) = patterns.items()
        key_schema["pattern"] = pattern
    if values is False:
        raise SchemaError(f"{name}: an object without properties must allow additional properties")
    value_schema = _convert(values if isinstance(values, dict) else {"type": "string"}, defs, name=name)
    return value_schema, _key_rules(key_schema, name)


def cel_string(text: str) -> str:
    """``text`` as a CEL raw string literal (no escape processing, so regexes stay as written)."""
    if "'" in text:
        raise SchemaError(f"cannot quote {text!r} as a CEL raw string")
    return f"r'{text}'"


def _key_rules(key_schema: Schema, name: str) -> list[dict[str, str]]:
    rules = []
    low, high = key_schema.get("minLength"), key_schema.get("maxLength")
    if low is not None or high is not None:
        checks = [f"size(k) >= {low}"] if low is not None else []
        checks += [f"size(k) <= {high}"] if high is not None else []
        bounds = f"{low or 0} to {high}" if high is not None else f"at least {low}"
        rules.append(
            {
                "rule": f"self.all(k, {' && '.join(checks)})",
                "message": f"{name} keys must be {bounds} characters long",
            }
        )
    if "pattern" in key_schema:
        pattern = key_schema["pattern"]
        rules.append(
            {
                "rule": f"self.all(k, k.matches({cel_string(pattern)}))",
                "message": f"{name} keys must match {pattern}",
            }
        )
    return rules
