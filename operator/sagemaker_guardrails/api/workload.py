"""What the endpoint runs: models, containers, production variants, async and capture settings.

Everything in here feeds the desired *revision* (a content hash): changing any of it creates new
SageMaker Models and a new EndpointConfig and starts a guarded deployment. The bounds are the
botocore service model's; botocore itself only checks minimums, so a container list of 16 or a
key like ``1BAD`` would otherwise fail late, inside SageMaker, with a less helpful message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from sagemaker_guardrails.api.base import (
    ENV_KEY_PATTERN,
    EXECUTION_ROLE_PATTERN,
    IMAGE_PATTERN,
    INSTANCE_TYPE_MAX,
    INSTANCE_TYPE_PATTERN,
    KMS_KEY_PATTERN,
    MODEL_ENVIRONMENT_MAX,
    S3_OR_HTTPS_PATTERN,
    S3_URI_PATTERN,
    SNS_TOPIC_PATTERN,
    CamelModel,
    Rule,
    SageMakerName,
)

AwsId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[-0-9a-zA-Z]+$")]
KmsKeyId = Annotated[str, StringConstraints(max_length=2048, pattern=KMS_KEY_PATTERN)]

# CEL for "characters of keys and values in the environment of container ``c``" (an absent map is 0).
ENVIRONMENT_SIZE_CEL = (
    "(has(c.environment) ? c.environment.map(k, size(k) + size(c.environment[k])).sum() : 0)"
)


class CaptureMode(StrEnum):
    INPUT = "Input"
    OUTPUT = "Output"


class VpcConfig(CamelModel):
    """The VPC the model containers run in."""

    security_group_ids: list[AwsId] = Field(
        min_length=1, max_length=5, description="1 to 5 security group IDs."
    )
    subnets: list[AwsId] = Field(min_length=1, max_length=16, description="1 to 16 subnet IDs.")


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
        description="Environment variables of the container (at most 100; names like THRESHOLD or _X1).",
    )


def environment_size(containers: list[ContainerSpec]) -> int:
    """Characters of every key and value in the containers' environments (what CEL's ``size`` counts)."""
    return sum(len(k) + len(v) for c in containers for k, v in c.environment.items())


class ModelSpec(CamelModel):
    """A SageMaker Model. Its SageMaker name is derived from a hash of its content."""

    name: SageMakerName = Field(description="Logical name of the model, referenced by variants[].model.")
    execution_role_arn: str = Field(
        min_length=20,
        max_length=2048,
        pattern=EXECUTION_ROLE_PATTERN,
        description=(
            "IAM role SageMaker assumes to pull the image and model data. With auto-rollback it also "
            "needs cloudwatch:DescribeAlarms."
        ),
    )
    containers: list[ContainerSpec] = Field(
        min_length=1, max_length=15, description="One container, or an inference pipeline of up to 15."
    )
    enable_network_isolation: bool = Field(
        default=False, description="Run the containers without network access."
    )
    vpc_config: VpcConfig | None = Field(default=None, description="VPC to run the containers in.")

    rules: ClassVar[tuple[Rule[ModelSpec], ...]] = (
        Rule(
            cel=f"self.containers.map(c, {ENVIRONMENT_SIZE_CEL}).sum() <= {MODEL_ENVIRONMENT_MAX}",
            check=lambda m: environment_size(m.containers) <= MODEL_ENVIRONMENT_MAX,
            message=(
                f"containers[].environment keys and values of one model must be at most "
                f"{MODEL_ENVIRONMENT_MAX} characters combined (SageMaker's limit)"
            ),
            field_path=".containers",
        ),
    )


class ServerlessSpec(CamelModel):
    """Serverless capacity for a variant (instead of instances)."""

    memory_size_in_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(
        alias="memorySizeInMB",
        description=(
            "Memory per concurrent invocation, in MB: 1024 to 6144 in steps of 1024 (SageMaker's "
            "MemorySizeInMB; spelt memorySizeInMb up to 0.1.0, see docs/operations.md#upgrades)."
        ),
    )
    max_concurrency: int = Field(ge=1, le=200, description="Maximum concurrent invocations (1-200).")
    provisioned_concurrency: int | None = Field(
        default=None, ge=1, le=200, description="Provisioned concurrency (1-200, at most maxConcurrency)."
    )

    rules: ClassVar[tuple[Rule[ServerlessSpec], ...]] = (
        Rule(
            cel="!has(self.provisionedConcurrency) || self.provisionedConcurrency <= self.maxConcurrency",
            check=lambda s: (
                s.provisioned_concurrency is None or s.provisioned_concurrency <= s.max_concurrency
            ),
            message="provisionedConcurrency must not exceed maxConcurrency",
            field_path=".provisionedConcurrency",
        ),
    )


class VariantSpec(CamelModel):
    """A production variant: a model on instances (or serverless capacity) behind the endpoint."""

    name: SageMakerName = Field(
        description="Variant name. Blue/green and rolling updates require it to stay the same."
    )
    model: SageMakerName = Field(description="Name of a model declared in spec.models.")
    instance_type: str | None = Field(
        default=None,
        max_length=INSTANCE_TYPE_MAX,
        pattern=INSTANCE_TYPE_PATTERN,
        description=(
            "Instance type, for example ml.m5.xlarge or ml.p6-b200.48xlarge. Required unless serverless "
            "is set. Checked by pattern, not against a list, so a new SageMaker type needs no operator "
            "release; SageMaker rejects a type it does not offer."
        ),
    )
    initial_instance_count: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description=(
            "Number of instances. Required with instanceType. InstanceCount capacity sizes of the "
            "deployment are checked against it."
        ),
    )
    initial_variant_weight: float = Field(
        default=1.0, ge=0, le=1000000, description="Relative traffic weight of the variant."
    )
    serverless: ServerlessSpec | None = Field(
        default=None, description="Serverless capacity instead of instances."
    )

    rules: ClassVar[tuple[Rule[VariantSpec], ...]] = (
        Rule(
            cel="has(self.serverless) || has(self.instanceType)",
            check=lambda v: v.serverless is not None or v.instance_type is not None,
            message="instanceType is required unless serverless is set",
            field_path=".instanceType",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="has(self.serverless) || has(self.initialInstanceCount)",
            check=lambda v: v.serverless is not None or v.initial_instance_count is not None,
            message="initialInstanceCount is required unless serverless is set",
            field_path=".initialInstanceCount",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="!has(self.serverless) || (!has(self.instanceType) && !has(self.initialInstanceCount))",
            check=lambda v: (
                v.serverless is None or (v.instance_type is None and v.initial_instance_count is None)
            ),
            message="serverless cannot be combined with instanceType or initialInstanceCount",
            field_path=".serverless",
            reason="FieldValueForbidden",
        ),
    )


class AsyncNotificationSpec(CamelModel):
    """SNS topics notified when an asynchronous invocation finishes."""

    success_topic: str | None = Field(
        default=None, max_length=2048, pattern=SNS_TOPIC_PATTERN, description="SNS topic ARN for successes."
    )
    error_topic: str | None = Field(
        default=None, max_length=2048, pattern=SNS_TOPIC_PATTERN, description="SNS topic ARN for errors."
    )


class AsyncOutputSpec(CamelModel):
    """Where asynchronous results go."""

    s3_output_path: str = Field(
        max_length=512, pattern=S3_URI_PATTERN, description="S3 location for the results."
    )
    s3_failure_path: str | None = Field(
        default=None, max_length=512, pattern=S3_URI_PATTERN, description="S3 location for failures."
    )
    kms_key_id: KmsKeyId | None = Field(default=None, description="KMS key for the results.")
    notification_config: AsyncNotificationSpec | None = Field(default=None, description="SNS notifications.")


class AsyncClientSpec(CamelModel):
    """How the endpoint queues asynchronous requests."""

    max_concurrent_invocations_per_instance: int | None = Field(
        default=None, ge=1, le=1000, description="Concurrent requests per instance (1-1000)."
    )


class AsyncInferenceSpec(CamelModel):
    """Makes the endpoint asynchronous. SageMaker cannot remove it from an endpoint by an update."""

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
    kms_key_id: KmsKeyId | None = Field(default=None, description="KMS key for the data.")

    rules: ClassVar[tuple[Rule[DataCaptureSpec], ...]] = (
        Rule(
            cel="self.captureModes.all(m, self.captureModes.exists_one(n, n == m))",
            check=lambda d: len(set(d.capture_modes)) == len(d.capture_modes),
            message="captureModes must not list a mode twice",
            field_path=".captureModes",
            reason="FieldValueDuplicate",
        ),
    )
