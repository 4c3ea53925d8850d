"""Pydantic JSON Schema -> structural schema conversion, on small models made for the purpose."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints

from sagemaker_guardrails.api.base import CamelModel, Rule
from sagemaker_guardrails.api.schema import SchemaError, cel_string, structural_schema

pytestmark = pytest.mark.unit


class Color(StrEnum):
    RED = "Red"
    BLUE = "Blue"


class Inner(CamelModel):
    """An inner object."""

    size_in_mb: Literal[1, 2] = Field(description="A literal.")

    rules: ClassVar[tuple[Rule[Inner], ...]] = (
        Rule(cel="self.sizeInMb == 1", check=lambda i: i.size_in_mb == 1, message="sizeInMb must be 1"),
    )


class Outer(CamelModel):
    """The outer object."""

    color: Color = Field(default=Color.RED, description="An enum with a default.")
    inner: Inner | None = Field(default=None, description="Optional nested model.")
    count: int | None = Field(default=None, ge=1, description="Optional int.")
    labels: dict[Annotated[str, StringConstraints(max_length=8, pattern=r"^[a-z]+$")], str] = Field(
        default_factory=dict, max_length=3, description="A map with constrained keys."
    )
    plain: dict[str, int] = Field(default_factory=dict, max_length=2, description="A plain map.")
    items: list[Inner] = Field(default_factory=list, max_length=2, description="A list of objects.")


def test_refs_and_optionals_are_inlined_with_the_fields_description() -> None:
    schema = structural_schema(Outer)
    inner = schema["properties"]["inner"]
    assert inner["type"] == "object"
    assert inner["description"] == "Optional nested model."
    assert "default" not in inner
    assert inner["properties"]["sizeInMb"] == {"description": "A literal.", "type": "integer", "enum": [1, 2]}
    assert schema["properties"]["count"] == {"description": "Optional int.", "type": "integer", "minimum": 1}
    assert schema["properties"]["items"]["items"]["description"] == "An inner object."


def test_enum_keeps_default_and_description() -> None:
    color = structural_schema(Outer)["properties"]["color"]
    assert color == {
        "description": "An enum with a default.",
        "type": "string",
        "enum": ["Red", "Blue"],
        "default": "Red",
    }


def test_model_rules_become_cel_validations() -> None:
    inner = structural_schema(Outer)["properties"]["inner"]
    assert inner["x-kubernetes-validations"] == [
        {"rule": "self.sizeInMb == 1", "message": "sizeInMb must be 1"}
    ]
    with pytest.raises(ValueError, match="sizeInMb must be 1"):
        Inner(size_in_mb=2)


def test_constrained_map_keys_become_cel_rules_naming_the_field() -> None:
    labels = structural_schema(Outer)["properties"]["labels"]
    assert labels["additionalProperties"] == {"type": "string"}
    assert labels["maxProperties"] == 3
    rules = labels["x-kubernetes-validations"]
    assert rules[0] == {
        "rule": "self.all(k, size(k) <= 8)",
        "message": "labels keys must be 0 to 8 characters long",
    }
    assert rules[1] == {
        "rule": "self.all(k, k.matches(r'^[a-z]+$'))",
        "message": "labels keys must match ^[a-z]+$",
    }
    assert structural_schema(Outer)["properties"]["plain"]["additionalProperties"] == {"type": "integer"}


def test_extra_forbid_does_not_leak_additional_properties_false() -> None:
    assert "additionalProperties" not in structural_schema(Outer)


def test_unions_that_a_crd_cannot_express_fail_loudly() -> None:
    class Either(BaseModel):
        value: int | str = Field(description="Two types.")

    with pytest.raises(SchemaError, match="anyOf with 2 non-null options"):
        structural_schema(Either)


def test_untyped_fields_fail_loudly() -> None:
    class Loose(BaseModel):
        anything: object = Field(description="No type.")

    with pytest.raises(SchemaError, match="needs a type"):
        structural_schema(Loose)


def test_cel_string_is_raw_and_refuses_quotes() -> None:
    assert cel_string(r"^\d+$") == r"r'^\d+$'"
    with pytest.raises(SchemaError):
        cel_string("it's")
