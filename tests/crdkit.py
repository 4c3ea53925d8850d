"""JSON Schema validation of manifests against the generated CRD schema, with the CRD's regex engine.

jsonschema evaluates ``pattern`` with Python's ``re``, which understands neither ``\\p{L}`` nor
``\\x{2028}`` (both in the CRD: see ``sagemaker_guardrails.api.patterns``). The API server uses RE2;
pydantic uses Rust's regex, which agrees with RE2 on those constructs, so :func:`validator` checks
``pattern`` with pydantic's engine (a search, as in JSON Schema and in the API server).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Annotated, Any

import jsonschema
from pydantic import StringConstraints, TypeAdapter, ValidationError

from sagemaker_guardrails.api.crd import openapi_schema


@functools.cache
def _matcher(pattern: str) -> TypeAdapter[str]:
    return TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])


def matches(pattern: str, value: str) -> bool:
    """Whether ``pattern`` finds a match in ``value`` (pydantic's engine, Rust's regex crate)."""
    try:
        _matcher(pattern).validate_python(value)
    except ValidationError:
        return False
    return True


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and not matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


CrdValidator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})


def validator(schema: dict[str, Any] | None = None) -> Any:
    """A Draft 7 validator of ``schema`` (default: the CRD's ``openAPIV3Schema``)."""
    return CrdValidator(openapi_schema() if schema is None else schema)
