"""Building blocks of the API models: the camelCase base model, SageMaker bounds, and rules.

A cross-field rule is written once, as a :class:`Rule`: a CEL expression for the API server
(it lands in the CRD as ``x-kubernetes-validations``), a Python predicate that pydantic runs
inside the operator, and one message for both. Keeping the two side by side is what makes
"pydantic enforces the same rules again" true by construction rather than by discipline, and a
shared message means ``kubectl apply`` and the operator's own ``InvalidSpec`` say the same thing.

Regular expressions here must mean the same to the API server (OpenAPI ``pattern`` and CEL's
``matches``: Go's RE2), to pydantic (Rust's ``regex`` crate, pinned below) and to SageMaker (Java):
``patterns.java_pattern`` rewrites SageMaker's patterns accordingly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from sagemaker_guardrails.api.patterns import (
    JAVA_DOT,
    JAVA_OTHER_TERMINATORS,
    JAVA_SPACE_MEMBERS,
    java_pattern,
)

# SageMaker's patterns, verbatim from botocore's service model (Java syntax), rewritten by
# ``java_pattern`` (see ``patterns.py``); tests/unit/test_crd_botocore.py compares each field's
# pattern with botocore's. SageMaker resource names (EndpointName, VariantName, EndpointConfigName):
SAGEMAKER_NAME_PATTERN = java_pattern(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
SAGEMAKER_NAME_MAX = 63
EXECUTION_ROLE_PATTERN = java_pattern(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
IMAGE_PATTERN = java_pattern(r"[\S]+")
S3_OR_HTTPS_PATTERN = java_pattern(r"(https|s3)://([^/]+)/?(.*)")
# botocore's DestinationS3Uri pattern (it only insists on one character of bucket).
S3_URI_PATTERN = java_pattern(r"(https|s3)://([^/])/?(.*)")
SNS_TOPIC_PATTERN = java_pattern(r"arn:aws[a-z\-]*:sns:[a-z0-9\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+")
ENV_KEY_PATTERN = java_pattern(r"[a-zA-Z_][a-zA-Z0-9_]*")
KMS_KEY_PATTERN = java_pattern(r"[a-zA-Z0-9:/_-]*")
# TagKey and TagValue: Unicode letters, separators and numbers, and _ . : / = + - @ (so no &, no
# comma, no emoji). RE2 and Rust understand \p{...}; Python's re does not.
TAG_PATTERN = java_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
# botocore's AlarmName is "(?!\s*$).+" (not only whitespace, no line terminator); RE2 and Rust
# have no lookahead, so: line-terminator-free, with at least one character that is not a space.
ALARM_NAME_PATTERN = f"^{JAVA_DOT}*[^{JAVA_SPACE_MEMBERS}{JAVA_OTHER_TERMINATORS}]{JAVA_DOT}*$"
# botocore's ProductionVariantInstanceType is an enum of some 280 types. A pattern instead, so that
# a type SageMaker adds works without an operator release (SageMaker itself rejects an unknown
# type at CreateEndpointConfig); every type of botocore's enum must match it and fit its length
# (tests/unit/test_crd_botocore.py). Families may carry a hyphenated part: ml.p6-b200.48xlarge,
# ml.p6e-gb200.36xlarge.
INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$"
INSTANCE_TYPE_MAX = 64
# Not SageMaker's: a Region name as the SDKs know them (us-east-1, us-gov-west-1, eu-central-2).
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"

WAIT_MAX_SECONDS = 3600
TIMEOUT_MIN_SECONDS = 600
TIMEOUT_MAX_SECONDS = 28800
MAX_ALARMS = 10
CANARY_MAX_PERCENT = 50
LINEAR_MIN_PERCENT = 10
LINEAR_MAX_PERCENT = 50
ROLLING_MIN_PERCENT = 5
ROLLING_MAX_PERCENT = 50
# SageMaker allows 50 tags per resource; the operator adds its ownership tags to every resource.
MAX_USER_TAGS = 45
MAX_MODELS = 10
MAX_VARIANTS = 10
# SageMaker's CreateModel: "The maximum length of all keys and values in the Environment map,
# combined, is 32 KB. If you pass multiple containers [...] the maximum length of all of their maps,
# combined, is also 32 KB." Counted here in characters (CEL's ``size``), which never exceed bytes.
MODEL_ENVIRONMENT_MAX = 32768

# Spec-wide bounds that SageMaker does not have. SageMaker's own limits multiply out to more than
# 30 MB of spec (10 models x 15 containers x 100 variables of 2 KB), while etcd refuses any
# write over 1.5 MiB, and the status needs room next to the spec. With these two (and every field
# bounded), the largest spec plus the largest status stays under OBJECT_BUDGET_BYTES of JSON even
# when every free-form character is one JSON escapes to six bytes (tests/unit/test_size_budget.py
# builds that object from the schema's bounds; tests/e2e/test_spec_size.py stores it).
MAX_CONTAINERS = 20
ENVIRONMENT_MAX = 49152
OBJECT_BUDGET_BYTES = 1024 * 1024

SageMakerName = Annotated[
    str, StringConstraints(min_length=1, max_length=SAGEMAKER_NAME_MAX, pattern=SAGEMAKER_NAME_PATTERN)
]

M = TypeVar("M")


@dataclass(frozen=True)
class Rule(Generic[M]):
    """A cross-field rule: CEL for the API server, ``check`` for pydantic, one message for both.

    ``field_path`` (relative to the object the rule sits on, e.g. ``.canarySize``) and
    ``reason`` (``FieldValueInvalid``, ``FieldValueRequired``, ``FieldValueForbidden`` or
    ``FieldValueDuplicate``) make the API server report the offending field rather than the
    enclosing object. The message always names the field too, because older servers ignore both.
    """

    cel: str
    check: Callable[[M], bool]
    message: str
    field_path: str | None = None
    reason: str | None = None

    def to_crd(self) -> dict[str, str]:
        """The ``x-kubernetes-validations`` entry."""
        return _crd_entry(self.cel, self.message, self.field_path, self.reason)


@dataclass(frozen=True)
class TransitionRule(Generic[M]):
    """A rule on an update (CEL ``oldSelf``); ``check(old, new)`` is the Python side."""

    cel: str
    check: Callable[[M, M], bool]
    message: str
    field_path: str | None = None
    reason: str | None = None

    def to_crd(self) -> dict[str, str]:
        """The ``x-kubernetes-validations`` entry."""
        return _crd_entry(self.cel, self.message, self.field_path, self.reason)


def _crd_entry(cel: str, message: str, field_path: str | None, reason: str | None) -> dict[str, str]:
    entry = {"rule": cel, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    if reason:
        entry["reason"] = reason
    return entry


def failed_messages(rules: tuple[Rule[M], ...], subject: M) -> list[str]:
    """Messages of the rules that ``subject`` breaks, in declaration order."""
    return [rule.message for rule in rules if not rule.check(subject)]


def _add_rules_to_schema(schema: dict[str, Any], cls: type[Any]) -> None:
    rules: tuple[Rule[Any], ...] = getattr(cls, "rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [rule.to_crd() for rule in rules]


class CamelModel(BaseModel):
    """Base of every spec model: camelCase in YAML, snake_case in Python, unknown fields rejected.

    Subclasses list their cross-field :class:`Rule` objects in ``rules``; pydantic runs the Python
    side after field validation and the CRD generator copies the CEL side into the schema.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
        json_schema_extra=_add_rules_to_schema,
        # The CRD's patterns are RE2 (the API server); Rust's regex agrees with it on every
        # construct patterns.java_pattern emits (\p{...}, \x{...}), Python's re does not.
        regex_engine="rust-regex",
    )

    rules: ClassVar[tuple[Rule[Any], ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        failed = failed_messages(type(self).rules, self)
        if failed:
            raise ValueError("; ".join(failed))
        return self
