"""Request validation against botocore's service model, the way the SageMaker front end does it.

botocore (client side) checks required members, types and minimums only. The service also enforces
maximums, enums and patterns: a ``WaitIntervalInSeconds`` of 3601 or eleven alarms pass the client and
are rejected by the server. Both layers are applied here, so a client with ``parameter_validation``
turned off, or another SDK, gets the same answer. Messages follow the AWS format
``1 validation error detected: Value '3601' at 'deploymentConfig....' failed to satisfy constraint: ...``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

from sagemaker_guardrails.emulator.wire import validation_error

# Java regex classes that Python's ``re`` lacks (the Tag key/value patterns use them inside [...]).
_JAVA_CLASSES = {
    r"\p{L}": "a-zA-Z\u00aa-\uffff",
    r"\p{N}": "0-9",
    r"\p{Z}": " \u00a0\u2000-\u200a\u2028\u2029\u3000",
}


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    translated = pattern
    for java, python in _JAVA_CLASSES.items():
        translated = translated.replace(java, python)
    try:
        return re.compile(translated, re.DOTALL)
    except re.error:
        return None


def _member_path(parent: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{parent}.{camel}" if parent else camel


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    prefix = f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
    if kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {meta['max']}")
        if "enum" in meta and value not in meta["enum"]:
            errors.append(prefix + f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and compiled.fullmatch(value) is None:
            errors.append(prefix + f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        if "max" in meta and value > meta["max"]:
            errors.append(prefix + f"Member must have value less than or equal to {meta['max']}")
    elif (
        kind in ("list", "map")
        and isinstance(value, list | dict)
        and "max" in meta
        and len(value) > meta["max"]
    ):
        errors.append(prefix + f"Member must have length less than or equal to {meta['max']}")

    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            if value.get(name) is not None:
                _check(member, value[name], _member_path(path, name), errors)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", errors)  # type: ignore[attr-defined]
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", errors)  # type: ignore[attr-defined]
            _check(shape.value, item, f"{path}.{key}.value", errors)  # type: ignore[attr-defined]


def validate_request(operation: OperationModel, params: dict[str, Any]) -> None:
    """Raise ``ValidationException`` if ``params`` (decoded input) break the operation's model."""
    shape = operation.input_shape
    if shape is None:
        return
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise validation_error(report.generate_report())
    errors: list[str] = []
    _check(shape, params, "", errors)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise validation_error(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
