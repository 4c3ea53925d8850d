"""core.naming: revision hashes, SageMaker-valid names of at most 63 characters, ownership tags."""

from __future__ import annotations

import re

import pytest

from sagemaker_guardrails.api.spec import SAGEMAKER_NAME_PATTERN
from sagemaker_guardrails.core import naming

pytestmark = pytest.mark.unit

LONG = "a" * 63
HYPHENATED = "ab-" * 21  # 63 characters that end in a hyphen when cut almost anywhere


def valid(name: str) -> bool:
    return re.fullmatch(SAGEMAKER_NAME_PATTERN, name) is not None


@pytest.mark.parametrize(
    ("endpoint", "revision", "expected"),
    [
        ("fraud", "3f9a1c2e", "fraud-3f9a1c2e"),
        ("fraud-detector", "7b1e0d44", "fraud-detector-7b1e0d44"),
        (LONG, "7b1e0d44", "a" * 54 + "-7b1e0d44"),
        (HYPHENATED, "7b1e0d44", ("ab-" * 18).rstrip("-") + "-7b1e0d44"),
    ],
)
def test_config_name(endpoint: str, revision: str, expected: str) -> None:
    name = naming.config_name(endpoint, revision)
    assert name == expected
    assert len(name) <= 63
    assert valid(name)
    assert naming.revision_of_config(endpoint, name) == revision


@pytest.mark.parametrize(
    ("endpoint", "model"),
    [
        ("fraud", "xgb"),
        ("fraud-detector", "a-model-with-a-rather-long-logical-name"),
        (LONG, "xgb"),
        (LONG, "m" * 63),
        ("short", "m" * 63),
        (HYPHENATED, HYPHENATED),
    ],
)
def test_model_name_is_valid_and_starts_with_the_list_prefix(endpoint: str, model: str) -> None:
    name = naming.model_name(endpoint, model, "7b1e0d44")
    assert len(name) <= 63
    assert valid(name)
    assert name.startswith(naming.model_list_prefix(endpoint))
    assert name == naming.model_name(endpoint, model, "7b1e0d44")


def test_model_name_keeps_short_names_whole() -> None:
    name = naming.model_name("fraud-detector", "xgb", "7b1e0d44")
    assert name.startswith("fraud-detector-xgb-")
    assert len(name) == len("fraud-detector-xgb-") + 8


def test_truncated_model_names_stay_distinct() -> None:
    first = naming.model_name(LONG, "model-" + "x" * 30 + "-a", "7b1e0d44")
    second = naming.model_name(LONG, "model-" + "x" * 30 + "-b", "7b1e0d44")
    assert first != second
    assert naming.model_name(LONG, "xgb", "7b1e0d44") != naming.model_name(LONG, "xgb", "00000000")


@pytest.mark.parametrize(
    ("endpoint", "name", "expected"),
    [
        ("fraud", "fraud-3f9a1c2e", "3f9a1c2e"),
        ("fraud", "fraud-3F9A1C2E", None),
        ("fraud", "fraud-detector-3f9a1c2e", None),
        ("fraud", "legacy-config", None),
        ("fraud", "fraud-3f9a1c2", None),
        ("fraud", None, None),
    ],
)
def test_revision_of_config(endpoint: str, name: str | None, expected: str | None) -> None:
    assert naming.revision_of_config(endpoint, name) == expected


def test_revision_is_deterministic_and_order_insensitive_for_mappings() -> None:
    a = naming.revision_of(
        {"models": {"x": {"Image": "i", "Env": {"A": "1", "B": "2"}}}}, "fraud", "us-east-1"
    )
    b = naming.revision_of(
        {"models": {"x": {"Env": {"B": "2", "A": "1"}, "Image": "i"}}}, "fraud", "us-east-1"
    )
    c = naming.revision_of(
        {"models": {"x": {"Env": {"B": "2", "A": "1"}, "Image": "j"}}}, "fraud", "us-east-1"
    )
    assert a == b != c
    assert re.fullmatch(r"[0-9a-f]{8}", a)


CONTENT = {"models": {"x": {"Image": "i"}}}
BLUE = "fraud-detector-production-eu-west-blue"
GREEN = "fraud-detector-production-eu-west-green"


def test_the_revision_covers_the_untruncated_endpoint_name_and_the_region() -> None:
    blue = naming.revision_of(CONTENT, BLUE, "eu-west-1")
    assert blue != naming.revision_of(CONTENT, GREEN, "eu-west-1")
    assert blue != naming.revision_of(CONTENT, BLUE, "eu-central-1")
    assert blue != naming.revision_of(CONTENT, BLUE.upper(), "eu-west-1")
    assert blue == naming.revision_of(dict(CONTENT), BLUE, "eu-west-1")


def test_endpoints_that_agree_up_to_the_truncation_get_distinct_model_and_config_names() -> None:
    model = "gradient-boosted-trees-v2"
    blue_rev = naming.revision_of(CONTENT, BLUE, "eu-west-1")
    green_rev = naming.revision_of(CONTENT, GREEN, "eu-west-1")
    assert naming.model_list_prefix(BLUE) == naming.model_list_prefix(GREEN)
    assert naming.model_name(BLUE, model, blue_rev) != naming.model_name(GREEN, model, green_rev)
    long_blue, long_green = "x" * 54 + "-blue", "x" * 54 + "-green"
    assert naming.config_name(long_blue, naming.revision_of(CONTENT, long_blue, "r")) != naming.config_name(
        long_green, naming.revision_of(CONTENT, long_green, "r")
    )


def test_the_legacy_revision_reproduces_the_first_naming_scheme() -> None:
    """Values computed by the first scheme: an endpoint serving them must be recognised."""
    legacy = naming.legacy_revision_of(CONTENT)
    assert legacy == "07d5faeb"
    assert naming.model_name("fraud-detector", "xgb", legacy) == "fraud-detector-xgb-ab93cee9"
    assert naming.config_name("fraud-detector", legacy) == "fraud-detector-07d5faeb"
    assert legacy != naming.revision_of(CONTENT, "fraud-detector", "us-east-1")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Case-Clash", "case-clash", True),
        ("case-clash", "case-clash", True),
        ("case-clash", "case-clash-2", False),
        (None, None, True),
        ("case-clash", None, False),
    ],
)
def test_names_compare_without_regard_to_case_like_sagemaker(
    a: str | None, b: str | None, expected: bool
) -> None:
    assert naming.same_name(a, b) is expected


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud", "eu-west-1"),
        ("arn:aws-cn:sagemaker:cn-north-1:123456789012:endpoint/fraud", "cn-north-1"),
        ("arn:x", None),
        ("", None),
        (None, None),
    ],
)
def test_region_of_arn(arn: str | None, expected: str | None) -> None:
    assert naming.region_of_arn(arn) == expected


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, None),
        ({"team": "fraud"}, None),
        (
            {naming.TAG_CLUSTER: "c", naming.TAG_NAMESPACE: "ml", naming.TAG_NAME: "fraud"},
            naming.Owner("c", "ml", "fraud"),
        ),
        ({naming.TAG_NAME: "fraud"}, naming.Owner("", "", "fraud")),
    ],
)
def test_owner_from_tags(tags: dict[str, str], expected: naming.Owner | None) -> None:
    assert naming.owner_from_tags(tags) == expected


def test_owner_round_trips_through_tags_and_reads_well() -> None:
    owner = naming.Owner("prod-eu", "ml", "fraud")
    assert naming.owner_from_tags(owner.tags()) == owner
    assert str(owner) == "ml/fraud (cluster prod-eu)"
    assert naming.tag_list({"b": "2", "a": "1"}) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
