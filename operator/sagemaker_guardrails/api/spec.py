"""The desired state of a GuardedEndpoint (``spec``), as pydantic v2 models.

These models are the single source of the CRD schema (see ``crd.py``). Every bound that the
SageMaker API enforces server-side is enforced here too, because botocore only checks minimums
and required fields: a wait of 3601 s or eleven alarms pass the client and fail much later.
Cross-field rules are model validators here and CEL rules in the CRD, with messages that name
the field, so a bad resource is rejected at ``kubectl apply`` and again inside the operator.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

# SageMaker resource name rules (EndpointName, VariantName, ModelName, EndpointConfigName).
SAGEMAKER_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
SAGEMAKER_NAME_MAX = 63
EXECUTION_ROLE_PATTERN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
IMAGE_PATTERN = r"^[\S]+$"
S3_OR_HTTPS_PATTERN = r"^(https|s3)://([^/]+)/?(.*)$"
S3_URI_PATTERN = r"^(https|s3)://([^/])/?(.*)$"
INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"
ENV_KEY_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
ALARM_NAME_PATTERN = r"^.*\S.*$"

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

SageMakerName = Annotated[
    str, StringConstraints(min_length=1, max_length=SAGEMAKER_NAME_MAX, pattern=SAGEMAKER_NAME_PATTERN)
]


class CamelModel(BaseModel):
    """Base of every spec model: camelCase in YAML, snake_case in Python, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
    )


class DeletionPolicy(StrEnum):
    DELETE = "Delete"
    RETAIN = "Retain"


class TrafficRoutingType(StrEnum):
    ALL_AT_ONCE = "AllAtOnce"
    CANARY = "Canary"
    LINEAR = "Linear"


class CapacitySizeType(StrEnum):
    CAPACITY_PERCENT = "CapacityPercent"
    INSTANCE_COUNT = "InstanceCount"


class CaptureMode(StrEnum):
    INPUT = "Input"
    OUTPUT = "Output"


class CapacitySize(CamelModel):
    """A share of a variant's fleet, as a percentage or as a number of instances."""

    type: CapacitySizeType = Field(
        description="CapacityPercent (a share of the variant's instance count) or InstanceCount."
    )
    value: int = Field(ge=1, description="The percentage or the number of instances (at least 1).")


class VpcConfig(CamelModel):
    """The VPC the model containers run in."""

    security_group_ids: list[Annotated[str, StringConstraints(max_length=32, pattern=r"^[-0-9a-zA-Z]+$")]] = (
        Field(min_length=1, max_length=5, description="1 to 5 security group IDs.")
    )
    subnets: list[Annotated[str, StringConstraints(max_length=32, pattern=r"^[-0-9a-zA-Z]+$")]] = Field(
        min_length=1, max_length=16, description="1 to 16 subnet IDs."
    )


class ContainerSpec(CamelModel):
    """One inference container of a model."""

    image: str = Field(
        min_length=1,
        max_length=255,
        pattern=IMAGE_PATTERN,
        description="The inference image (ECR path with tag or digest).",
    )
    model_data_url: str | None = Field(
        default=None,
        max_length=1024,
        pattern=S3_OR_HTTPS_PATTERN,
        description="S3 (or HTTPS) location of the model artifacts, for example s3://bucket/model.tar.gz.",
    )
    environment: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=ENV_KEY_PATTERN)],
        Annotated[str, StringConstraints(max_length=1024)],
    ] = Field(
        default_factory=dict,
        max_length=100,
        description="Environment variables of the container (at most 100).",
    )


class ModelSpec(CamelModel):
    """A SageMaker Model. Its SageMaker name is derived from a hash of its content."""

    name: SageMakerName = Field(description="Logical name of the model, referenced by variants[].model.")
    execution_role_arn: str = Field(
        min_length=20,
        max_length=2048,
        pattern=EXECUTION_ROLE_PATTERN,
        description="IAM role SageMaker assumes to pull the image and model data.",
    )
    containers: list[ContainerSpec] = Field(
        min_length=1, max_length=15, description="One container, or an inference pipeline of up to 15."
    )
    enable_network_isolation: bool = Field(
        default=False, description="Run the containers without network access."
    )
    vpc_config: VpcConfig | None = Field(default=None, description="VPC to run the containers in.")


class ServerlessSpec(CamelModel):
    """Serverless capacity for a variant (instead of instances)."""

    memory_size_in_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(
        description="Memory per concurrent invocation: 1024 to 6144 in steps of 1024."
    )
    max_concurrency: int = Field(ge=1, le=200, description="Maximum concurrent invocations (1-200).")
    provisioned_concurrency: int | None = Field(
        default=None, ge=1, le=200, description="Provisioned concurrency (1-200, at most maxConcurrency)."
    )


class VariantSpec(CamelModel):
    """A production variant: a model on instances (or serverless capacity) behind the endpoint."""

    name: SageMakerName = Field(
        description="Variant name. Blue/green and rolling updates require it to stay the same."
    )
    model: SageMakerName = Field(description="Name of a model declared in spec.models.")
    instance_type: str | None = Field(
        default=None,
        max_length=64,
        pattern=INSTANCE_TYPE_PATTERN,
        description="Instance type, for example ml.m5.xlarge. Required unless serverless is set.",
    )
    initial_instance_count: int | None = Field(
        default=None, ge=1, le=1000, description="Number of instances. Required with instanceType."
    )
    initial_variant_weight: float = Field(
        default=1.0, ge=0, le=1000000, description="Relative traffic weight of the variant."
    )
    serverless: ServerlessSpec | None = Field(
        default=None, description="Serverless capacity instead of instances."
    )

    @model_validator(mode="after")
    def _capacity(self) -> VariantSpec:
        if self.serverless is not None:
            if self.instance_type is not None or self.initial_instance_count is not None:
                raise ValueError(
                    "variants[].serverless cannot be combined with instanceType or initialInstanceCount"
                )
            sv = self.serverless
            if sv.provisioned_concurrency is not None and sv.provisioned_concurrency > sv.max_concurrency:
                raise ValueError(
                    "variants[].serverless.provisionedConcurrency must not exceed maxConcurrency"
                )
        elif self.instance_type is None or self.initial_instance_count is None:
            raise ValueError(
                "variants[].instanceType and variants[].initialInstanceCount are required "
                "unless variants[].serverless is set"
            )
        return self


class AsyncNotificationSpec(CamelModel):
    """SNS topics notified when an asynchronous invocation finishes."""

    success_topic: str | None = Field(
        default=None, max_length=2048, description="SNS topic ARN for successes."
    )
    error_topic: str | None = Field(default=None, max_length=2048, description="SNS topic ARN for errors.")


class AsyncOutputSpec(CamelModel):
    """Where asynchronous results go."""

    s3_output_path: str = Field(
        max_length=512, pattern=S3_URI_PATTERN, description="S3 location for the results."
    )
    s3_failure_path: str | None = Field(
        default=None, max_length=512, pattern=S3_URI_PATTERN, description="S3 location for failures."
    )
    kms_key_id: str | None = Field(default=None, max_length=2048, description="KMS key for the results.")
    notification_config: AsyncNotificationSpec | None = Field(default=None, description="SNS notifications.")


class AsyncClientSpec(CamelModel):
    """How the endpoint queues asynchronous requests."""

    max_concurrent_invocations_per_instance: int | None = Field(
        default=None, ge=1, le=1000, description="Concurrent requests per instance (1-1000)."
    )


class AsyncInferenceSpec(CamelModel):
    """Makes the endpoint asynchronous. Once set it cannot be removed by an update."""

    output_config: AsyncOutputSpec = Field(description="Where results and failures are written.")
    client_config: AsyncClientSpec | None = Field(default=None, description="Request queueing.")


class DataCaptureSpec(CamelModel):
    """Captures requests and responses to S3 (for Model Monitor)."""

    enable_capture: bool = Field(default=True, description="Whether capture is on.")
    initial_sampling_percentage: int = Field(ge=0, le=100, description="Share of requests captured (0-100).")
    destination_s3_uri: str = Field(
        max_length=512, pattern=S3_URI_PATTERN, description="S3 location of the captured data."
    )
    capture_modes: list[CaptureMode] = Field(min_length=1, max_length=2, description="Input, Output or both.")
    kms_key_id: str | None = Field(default=None, max_length=2048, description="KMS key for the data.")


class TrafficRoutingSpec(CamelModel):
    """How blue/green shifts traffic from the old fleet to the new one."""

    type: TrafficRoutingType = Field(description="AllAtOnce, Canary or Linear.")
    wait_interval_seconds: int = Field(
        default=0,
        ge=0,
        le=WAIT_MAX_SECONDS,
        description="Bake time after each traffic step, in seconds (0-3600).",
    )
    canary_size: CapacitySize | None = Field(
        default=None, description="Canary capacity (Canary only; 1-50 % or instances)."
    )
    linear_step_size: CapacitySize | None = Field(
        default=None, description="Capacity of each linear step (Linear only; 10-50 % or instances)."
    )

    @model_validator(mode="after")
    def _sizes(self) -> TrafficRoutingSpec:
        path = "deployment.blueGreen.trafficRouting"
        if self.type is TrafficRoutingType.CANARY:
            if self.canary_size is None:
                raise ValueError(f"{path}.canarySize is required when type is Canary")
            if (
                self.canary_size.type is CapacitySizeType.CAPACITY_PERCENT
                and self.canary_size.value > CANARY_MAX_PERCENT
            ):
                raise ValueError(f"{path}.canarySize.value must be at most 50 percent")
        elif self.canary_size is not None:
            raise ValueError(f"{path}.canarySize is only allowed when type is Canary")
        if self.type is TrafficRoutingType.LINEAR:
            if self.linear_step_size is None:
                raise ValueError(f"{path}.linearStepSize is required when type is Linear")
            if self.linear_step_size.type is CapacitySizeType.CAPACITY_PERCENT and not (
                LINEAR_MIN_PERCENT <= self.linear_step_size.value <= LINEAR_MAX_PERCENT
            ):
                raise ValueError(f"{path}.linearStepSize.value must be between 10 and 50 percent")
        elif self.linear_step_size is not None:
            raise ValueError(f"{path}.linearStepSize is only allowed when type is Linear")
        return self


class BlueGreenSpec(CamelModel):
    """Blue/green: provision the new fleet, shift traffic in steps, bake, then remove the old fleet."""

    traffic_routing: TrafficRoutingSpec = Field(description="How traffic moves to the new fleet.")
    termination_wait_seconds: int = Field(
        default=0,
        ge=0,
        le=WAIT_MAX_SECONDS,
        description="Final bake with all traffic on the new fleet before the old one is terminated (0-3600).",
    )
    maximum_execution_timeout_seconds: int | None = Field(
        default=None,
        ge=TIMEOUT_MIN_SECONDS,
        le=TIMEOUT_MAX_SECONDS,
        description="Deployment time limit (600-28800); must exceed the configured waits.",
    )

    @model_validator(mode="after")
    def _timeout(self) -> BlueGreenSpec:
        waits = self.traffic_routing.wait_interval_seconds + self.termination_wait_seconds
        limit = self.maximum_execution_timeout_seconds
        if limit is not None and limit <= waits:
            raise ValueError(
                "deployment.blueGreen.maximumExecutionTimeoutSeconds must be larger than "
                "waitIntervalSeconds + terminationWaitSeconds"
            )
        return self


class RollingSpec(CamelModel):
    """Rolling: replace the fleet batch by batch, baking after each batch."""

    maximum_batch_size: CapacitySize = Field(description="Instances per batch (5-50 % or instances).")
    wait_interval_seconds: int = Field(
        ge=0, le=WAIT_MAX_SECONDS, description="Bake time after each batch, in seconds (0-3600)."
    )
    maximum_execution_timeout_seconds: int | None = Field(
        default=None,
        ge=TIMEOUT_MIN_SECONDS,
        le=TIMEOUT_MAX_SECONDS,
        description="Deployment time limit (600-28800); must exceed waitIntervalSeconds.",
    )
    rollback_maximum_batch_size: CapacitySize | None = Field(
        default=None, description="Batch size when rolling back (default: everything at once)."
    )

    @model_validator(mode="after")
    def _bounds(self) -> RollingSpec:
        size = self.maximum_batch_size
        if size.type is CapacitySizeType.CAPACITY_PERCENT and not (
            ROLLING_MIN_PERCENT <= size.value <= ROLLING_MAX_PERCENT
        ):
            raise ValueError("deployment.rolling.maximumBatchSize.value must be between 5 and 50 percent")
        limit = self.maximum_execution_timeout_seconds
        if limit is not None and limit <= self.wait_interval_seconds:
            raise ValueError(
                "deployment.rolling.maximumExecutionTimeoutSeconds must be larger than waitIntervalSeconds"
            )
        return self


class AutoRollbackSpec(CamelModel):
    """CloudWatch alarms that roll a deployment back when they go to ALARM during a bake."""

    alarms: list[
        Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=ALARM_NAME_PATTERN)]
    ] = Field(min_length=1, max_length=MAX_ALARMS, description="1 to 10 alarm names (names, not ARNs).")


class DeploymentSpec(CamelModel):
    """The guardrail every update must follow: exactly one of blueGreen or rolling."""

    blue_green: BlueGreenSpec | None = Field(default=None, description="Blue/green traffic shifting.")
    rolling: RollingSpec | None = Field(default=None, description="Rolling batches.")
    auto_rollback: AutoRollbackSpec | None = Field(
        default=None, description="Alarms that trigger an automatic rollback."
    )

    @model_validator(mode="after")
    def _one_strategy(self) -> DeploymentSpec:
        if (self.blue_green is None) == (self.rolling is None):
            raise ValueError("deployment: exactly one of blueGreen or rolling must be set")
        return self

    @property
    def strategy(self) -> str:
        """Canary, Linear, AllAtOnce or Rolling."""
        if self.blue_green is not None:
            return self.blue_green.traffic_routing.type.value
        return "Rolling"


class GuardedEndpointSpec(CamelModel):
    """A SageMaker endpoint and the deployment guardrail every update of it must follow."""

    endpoint_name: SageMakerName | None = Field(
        default=None, description="SageMaker endpoint name (default: metadata.name). Immutable."
    )
    region: str | None = Field(
        default=None, pattern=REGION_PATTERN, description="AWS Region (default: the operator's)."
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE,
        description="Delete removes the endpoint, configs and models with the resource; Retain keeps them.",
    )
    adopt_existing: bool = Field(
        default=False,
        description="Take over an existing endpoint of the same name that no resource owns.",
    )
    models: list[ModelSpec] = Field(min_length=1, max_length=10, description="The models the variants run.")
    variants: list[VariantSpec] = Field(
        min_length=1, max_length=10, description="Production variants of the endpoint."
    )
    async_inference: AsyncInferenceSpec | None = Field(
        default=None, description="Makes this an asynchronous endpoint."
    )
    data_capture: DataCaptureSpec | None = Field(default=None, description="Request/response capture.")
    deployment: DeploymentSpec = Field(description="The guardrail every update follows.")
    tags: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128)],
        Annotated[str, StringConstraints(max_length=256)],
    ] = Field(
        default_factory=dict,
        max_length=MAX_USER_TAGS,
        description="Tags added to every SageMaker resource (at most 45; the operator adds its own).",
    )

    @model_validator(mode="after")
    def _references(self) -> GuardedEndpointSpec:
        model_names = [m.name for m in self.models]
        if len(set(model_names)) != len(model_names):
            raise ValueError("models[].name must be unique")
        variant_names = [v.name for v in self.variants]
        if len(set(variant_names)) != len(variant_names):
            raise ValueError("variants[].name must be unique")
        for variant in self.variants:
            if variant.model not in model_names:
                raise ValueError(f"variants[].model {variant.model!r} does not name a model in spec.models")
        if self.deployment.rolling is not None:
            if len(self.variants) > 1:
                raise ValueError("deployment.rolling is not available for more than one variant")
            if self.variants[0].serverless is not None:
                raise ValueError("deployment.rolling is not available for serverless variants")
        for key in self.tags:
            if key.startswith("sagemaker-guardrails.dev/") or key.lower().startswith("aws:"):
                raise ValueError(f"tags: key {key!r} uses a reserved prefix")
        return self
