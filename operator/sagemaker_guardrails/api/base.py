"""Building blocks of the API models: the camelCase base model, SageMaker bounds, and rules.

A cross-field rule is written once, as a :class:`Rule`: a CEL expression for the API server
(it lands in the CRD as ``x-kubernetes-validations``), a Python predicate that pydantic runs
inside the operator, and one message for both. Keeping the two side by side is what makes
"pydantic enforces the same rules again" true by construction rather than by discipline, and a
shared message means ``kubectl apply`` and the operator's own ``InvalidSpec`` say the same thing.

Regular expressions here must mean the same in Python's ``re``, in the API server's OpenAPI
``pattern`` and in CEL's ``matches`` (RE2): no lookarounds, no backreferences, no ``\\p{...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

# SageMaker resource names (EndpointName, VariantName, ModelName, EndpointConfigName).
SAGEMAKER_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
SAGEMAKER_NAME_MAX = 63
EXECUTION_ROLE_PATTERN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
IMAGE_PATTERN = r"^[\S]+$"
S3_OR_HTTPS_PATTERN = r"^(https|s3)://([^/]+)/?(.*)$"
# botocore's DestinationS3Uri pattern, verbatim (it only insists on one character of bucket).
S3_URI_PATTERN = r"^(https|s3)://([^/])/?(.*)$"
SNS_TOPIC_PATTERN = r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+$"
INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"
ENV_KEY_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
ALARM_NAME_PATTERN = r"^.*\S.*$"
KMS_KEY_PATTERN = r"^[a-zA-Z0-9:/_-]*$"

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
    )

    rules: ClassVar[tuple[Rule[Any], ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        failed = failed_messages(type(self).rules, self)
        if failed:
            raise ValueError("; ".join(failed))
        return self
