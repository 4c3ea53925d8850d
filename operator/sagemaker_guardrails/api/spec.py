"""The desired state of a GuardedEndpoint (``spec``), as pydantic v2 models.

These models are the single source of the CRD schema (see ``crd.py``). Every bound that the
SageMaker API enforces server-side is enforced here too, because botocore only checks minimums
and required fields: a wait of 3601 s or eleven alarms pass the client and fail much later.
Cross-field rules are :class:`~sagemaker_guardrails.api.base.Rule` objects: CEL in the CRD and
Python here, with one message that names the field, so a bad resource is rejected at
``kubectl apply`` and again inside the operator.

The parts live in ``workload.py`` (models, variants, async, capture) and ``deployment.py`` (the
guardrail); this module assembles them and re-exports every name, so callers import from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from sagemaker_guardrails.api.base import (
    ALARM_NAME_PATTERN,
    CANARY_MAX_PERCENT,
    ENV_KEY_PATTERN,
    ENVIRONMENT_MAX,
    EXECUTION_ROLE_PATTERN,
    IMAGE_PATTERN,
    INSTANCE_TYPE_MAX,
    INSTANCE_TYPE_PATTERN,
    KMS_KEY_PATTERN,
    LINEAR_MAX_PERCENT,
    LINEAR_MIN_PERCENT,
    MAX_ALARMS,
    MAX_CONTAINERS,
    MAX_MODELS,
    MAX_USER_TAGS,
    MAX_VARIANTS,
    MODEL_ENVIRONMENT_MAX,
    OBJECT_BUDGET_BYTES,
    REGION_PATTERN,
    ROLLING_MAX_PERCENT,
    ROLLING_MIN_PERCENT,
    S3_OR_HTTPS_PATTERN,
    S3_URI_PATTERN,
    SAGEMAKER_NAME_MAX,
    SAGEMAKER_NAME_PATTERN,
    TAG_KEY_MAX,
    TAG_PATTERN,
    TAG_VALUE_MAX,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    WAIT_MAX_SECONDS,
    CamelModel,
    Rule,
    SageMakerName,
)
from sagemaker_guardrails.api.deployment import (
    AutoRollbackSpec,
    BlueGreenSpec,
    CapacitySize,
    CapacitySizeType,
    DeploymentSpec,
    RollingSpec,
    TrafficRoutingSpec,
    TrafficRoutingType,
)
from sagemaker_guardrails.api.workload import (
    ENVIRONMENT_SIZE_CEL,
    AsyncClientSpec,
    AsyncInferenceSpec,
    AsyncNotificationSpec,
    AsyncOutputSpec,
    CaptureMode,
    ContainerSpec,
    DataCaptureSpec,
    ModelSpec,
    ServerlessSpec,
    VariantSpec,
    VpcConfig,
    environment_size,
)

RESERVED_TAG_PREFIXES = ("sagemaker-guardrails.dev/", "aws:")


class DeletionPolicy(StrEnum):
    DELETE = "Delete"
    RETAIN = "Retain"


def _lower_ascii(text: str) -> str:
    """CEL's ``lowerAscii``: Python's ``lower`` would also fold a few non-ASCII letters."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def _fits_instances(size: CapacitySize | None, variants: list[VariantSpec], low: int, high: int) -> bool:
    """An InstanceCount size must be ``low..high`` percent of every instance-based variant's count.

    SageMaker states the canary/linear/rolling limits against "the variant's total instance
    count" and shifts every variant together, so an instance count is checked per variant.
    Serverless variants have no instance count and are skipped; percentages are bounded on the
    policy itself (``deployment.py``).
    """
    if size is None or size.type is not CapacitySizeType.INSTANCE_COUNT:
        return True
    counts = [v.initial_instance_count for v in variants if v.initial_instance_count is not None]
    return all(100 * size.value >= low * n and 100 * size.value <= high * n for n in counts)


def _instances_cel(guard: str, size: str, low: int, high: int) -> str:
    bounds = f"100 * {size}.value <= {high} * v.initialInstanceCount"
    if low > 0:
        bounds = f"100 * {size}.value >= {low} * v.initialInstanceCount && {bounds}"
    return (
        f"!({guard}) || {size}.type != 'InstanceCount' || "
        f"self.variants.all(v, !has(v.initialInstanceCount) || ({bounds}))"
    )


_CANARY = "self.deployment.blueGreen.trafficRouting.canarySize"
_LINEAR = "self.deployment.blueGreen.trafficRouting.linearStepSize"
_BATCH = "self.deployment.rolling.maximumBatchSize"


def _canary(spec: GuardedEndpointSpec) -> CapacitySize | None:
    blue_green = spec.deployment.blue_green
    return blue_green.traffic_routing.canary_size if blue_green else None


def _linear(spec: GuardedEndpointSpec) -> CapacitySize | None:
    blue_green = spec.deployment.blue_green
    return blue_green.traffic_routing.linear_step_size if blue_green else None


def _batch(spec: GuardedEndpointSpec) -> CapacitySize | None:
    rolling = spec.deployment.rolling
    return rolling.maximum_batch_size if rolling else None


class GuardedEndpointSpec(CamelModel):
    """A SageMaker endpoint and the deployment guardrail every update of it must follow."""

    endpoint_name: SageMakerName | None = Field(
        default=None, description="SageMaker endpoint name (default: metadata.name). Immutable."
    )
    region: str | None = Field(
        default=None,
        max_length=32,
        pattern=REGION_PATTERN,
        description="AWS Region (default: the operator's). Immutable.",
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE,
        description="Delete removes the endpoint, configs and models with the resource; Retain keeps them.",
    )
    adopt_existing: bool = Field(
        default=False,
        description="Take over an existing endpoint of the same name that no resource owns.",
    )
    models: list[ModelSpec] = Field(
        min_length=1, max_length=MAX_MODELS, description="The models the variants run (names unique)."
    )
    variants: list[VariantSpec] = Field(
        min_length=1,
        max_length=MAX_VARIANTS,
        description="Production variants of the endpoint (names unique).",
    )
    async_inference: AsyncInferenceSpec | None = Field(
        default=None, description="Makes this an asynchronous endpoint. Cannot be removed once set."
    )
    data_capture: DataCaptureSpec | None = Field(default=None, description="Request/response capture.")
    deployment: DeploymentSpec = Field(description="The guardrail every update follows.")
    tags: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=TAG_KEY_MAX, pattern=TAG_PATTERN)],
        Annotated[str, StringConstraints(max_length=TAG_VALUE_MAX, pattern=TAG_PATTERN)],
    ] = Field(
        default_factory=dict,
        max_length=MAX_USER_TAGS,
        description=(
            "Tags added to every SageMaker resource (at most 45; the operator adds its own, so keys "
            "starting with sagemaker-guardrails.dev/ or aws: are reserved). Keys and values take "
            "letters, digits, spaces and _ . : / = + - @ only (SageMaker's tag pattern)."
        ),
    )

    rules: ClassVar[tuple[Rule[GuardedEndpointSpec], ...]] = (
        Rule(
            cel=f"self.models.map(m, size(m.containers)).sum() <= {MAX_CONTAINERS}",
            check=lambda s: sum(len(m.containers) for m in s.models) <= MAX_CONTAINERS,
            message=f"models[].containers must list at most {MAX_CONTAINERS} containers across all models",
            field_path=".models",
        ),
        Rule(
            cel=(
                f"self.models.map(m, m.containers.map(c, {ENVIRONMENT_SIZE_CEL}).sum()).sum() "
                f"<= {ENVIRONMENT_MAX}"
            ),
            check=lambda s: sum(environment_size(m.containers) for m in s.models) <= ENVIRONMENT_MAX,
            message=(
                f"models[].containers[].environment keys and values must be at most {ENVIRONMENT_MAX} "
                "characters across all models"
            ),
            field_path=".models",
        ),
        Rule(
            cel="self.models.all(m, self.models.exists_one(n, n.name == m.name))",
            check=lambda s: len({m.name for m in s.models}) == len(s.models),
            message="models[].name must be unique",
            field_path=".models",
            reason="FieldValueDuplicate",
        ),
        Rule(
            cel="self.variants.all(v, self.variants.exists_one(w, w.name == v.name))",
            check=lambda s: len({v.name for v in s.variants}) == len(s.variants),
            message="variants[].name must be unique",
            field_path=".variants",
            reason="FieldValueDuplicate",
        ),
        Rule(
            cel="self.variants.all(v, self.models.exists(m, m.name == v.model))",
            check=lambda s: {v.model for v in s.variants} <= {m.name for m in s.models},
            message="every variants[].model must name a model declared in models",
            field_path=".variants",
        ),
        Rule(
            cel="!has(self.deployment.rolling) || size(self.variants) == 1",
            check=lambda s: s.deployment.rolling is None or len(s.variants) == 1,
            message="deployment.rolling is not available for endpoints with more than one variant",
            field_path=".deployment.rolling",
            reason="FieldValueForbidden",
        ),
        Rule(
            cel="!has(self.deployment.rolling) || self.variants.all(v, !has(v.serverless))",
            check=lambda s: s.deployment.rolling is None or all(v.serverless is None for v in s.variants),
            message="deployment.rolling is not available for serverless variants",
            field_path=".deployment.rolling",
            reason="FieldValueForbidden",
        ),
        Rule(
            cel=_instances_cel(
                f"has(self.deployment.blueGreen) && has({_CANARY})", _CANARY, 0, CANARY_MAX_PERCENT
            ),
            check=lambda s: _fits_instances(_canary(s), s.variants, 0, CANARY_MAX_PERCENT),
            message=(
                "canarySize in instances must be at most 50 percent of every variant's initialInstanceCount"
            ),
            field_path=".deployment.blueGreen.trafficRouting.canarySize",
        ),
        Rule(
            cel=_instances_cel(
                f"has(self.deployment.blueGreen) && has({_LINEAR})",
                _LINEAR,
                LINEAR_MIN_PERCENT,
                LINEAR_MAX_PERCENT,
            ),
            check=lambda s: _fits_instances(_linear(s), s.variants, LINEAR_MIN_PERCENT, LINEAR_MAX_PERCENT),
            message=(
                "linearStepSize in instances must be 10 to 50 percent of every variant's initialInstanceCount"
            ),
            field_path=".deployment.blueGreen.trafficRouting.linearStepSize",
        ),
        Rule(
            cel=_instances_cel(
                "has(self.deployment.rolling)", _BATCH, ROLLING_MIN_PERCENT, ROLLING_MAX_PERCENT
            ),
            check=lambda s: _fits_instances(_batch(s), s.variants, ROLLING_MIN_PERCENT, ROLLING_MAX_PERCENT),
            message="maximumBatchSize in instances must be 5 to 50 percent of the variant's initialInstanceCount",
            field_path=".deployment.rolling.maximumBatchSize",
        ),
        Rule(
            cel="!has(self.tags) || self.tags.all(k, "
            + " && ".join(f"!k.lowerAscii().startsWith('{prefix}')" for prefix in RESERVED_TAG_PREFIXES)
            + ")",
            check=lambda s: not any(_lower_ascii(k).startswith(RESERVED_TAG_PREFIXES) for k in s.tags),
            message="tags must not use the reserved key prefixes sagemaker-guardrails.dev/ and aws:",
            field_path=".tags",
        ),
    )


__all__ = [
    "ALARM_NAME_PATTERN",
    "CANARY_MAX_PERCENT",
    "ENVIRONMENT_MAX",
    "ENV_KEY_PATTERN",
    "EXECUTION_ROLE_PATTERN",
    "IMAGE_PATTERN",
    "INSTANCE_TYPE_MAX",
    "INSTANCE_TYPE_PATTERN",
    "KMS_KEY_PATTERN",
    "LINEAR_MAX_PERCENT",
    "LINEAR_MIN_PERCENT",
    "MAX_ALARMS",
    "MAX_CONTAINERS",
    "MAX_MODELS",
    "MAX_USER_TAGS",
    "MAX_VARIANTS",
    "MODEL_ENVIRONMENT_MAX",
    "OBJECT_BUDGET_BYTES",
    "REGION_PATTERN",
    "RESERVED_TAG_PREFIXES",
    "ROLLING_MAX_PERCENT",
    "ROLLING_MIN_PERCENT",
    "S3_OR_HTTPS_PATTERN",
    "S3_URI_PATTERN",
    "SAGEMAKER_NAME_MAX",
    "SAGEMAKER_NAME_PATTERN",
    "TAG_KEY_MAX",
    "TAG_PATTERN",
    "TAG_VALUE_MAX",
    "TIMEOUT_MAX_SECONDS",
    "TIMEOUT_MIN_SECONDS",
    "WAIT_MAX_SECONDS",
    "AsyncClientSpec",
    "AsyncInferenceSpec",
    "AsyncNotificationSpec",
    "AsyncOutputSpec",
    "AutoRollbackSpec",
    "BlueGreenSpec",
    "CamelModel",
    "CapacitySize",
    "CapacitySizeType",
    "CaptureMode",
    "ContainerSpec",
    "DataCaptureSpec",
    "DeletionPolicy",
    "DeploymentSpec",
    "GuardedEndpointSpec",
    "ModelSpec",
    "RollingSpec",
    "SageMakerName",
    "ServerlessSpec",
    "TrafficRoutingSpec",
    "TrafficRoutingType",
    "VariantSpec",
    "VpcConfig",
]
