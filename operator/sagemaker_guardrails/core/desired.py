"""A GuardedEndpoint spec turned into the SageMaker requests that realise it.

Everything here is a pure function of the spec and the resource's identity. The requests are
SageMaker wire-shape mappings (PascalCase), the shape the ``aws`` ports send unchanged.

Two SageMaker details shape the output:

- ``TrafficRoutingConfiguration.WaitIntervalInSeconds`` is required even for ``ALL_AT_ONCE``
  (AWS's own all-at-once example leaves it out and fails validation), so it is always sent.
- ``CreateEndpoint`` only *stores* a DeploymentConfig; it is sent anyway so that
  ``LastDeploymentConfig`` shows the policy from the first day.

Parsing the raw spec also lives here: a resource that the model rejects (because it got past
admission, e.g. the CRD was installed without its CEL rules) becomes
:class:`~sagemaker_guardrails.errors.InvalidSpec` naming the field, never an exception that
stops the operator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sagemaker_guardrails.api.spec import (
    SAGEMAKER_NAME_PATTERN,
    CapacitySize,
    ContainerSpec,
    DeletionPolicy,
    DeploymentSpec,
    GuardedEndpointSpec,
    ModelSpec,
    VariantSpec,
)
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.errors import InvalidSpec

__all__ = [
    "Desired",
    "Identity",
    "ModelRequest",
    "build_desired",
    "deployment_config",
    "parse_spec",
]

_TRAFFIC_TYPES = {"AllAtOnce": "ALL_AT_ONCE", "Canary": "CANARY", "Linear": "LINEAR"}
_CAPACITY_TYPES = {"CapacityPercent": "CAPACITY_PERCENT", "InstanceCount": "INSTANCE_COUNT"}


@dataclass(frozen=True)
class Identity:
    """Who the SageMaker resources belong to: the cluster and the resource."""

    cluster_id: str
    namespace: str
    name: str

    @property
    def owner(self) -> naming.Owner:
        return naming.Owner(cluster=self.cluster_id, namespace=self.namespace, name=self.name)


@dataclass(frozen=True)
class ModelRequest:
    """One CreateModel request and the logical model name it comes from."""

    logical_name: str
    name: str
    request: Mapping[str, Any]


@dataclass(frozen=True)
class Desired:
    """Everything the reconciler needs to know about the spec, in SageMaker terms."""

    spec: GuardedEndpointSpec
    identity: Identity
    endpoint_name: str
    region: str
    revision: str
    config_name: str
    models: tuple[ModelRequest, ...]
    config_request: Mapping[str, Any]
    deployment_config: Mapping[str, Any]
    endpoint_tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def strategy(self) -> str:
        return self.spec.deployment.strategy

    @property
    def deletion_policy(self) -> DeletionPolicy:
        return self.spec.deletion_policy

    def create_endpoint_request(self) -> dict[str, Any]:
        return {
            "EndpointName": self.endpoint_name,
            "EndpointConfigName": self.config_name,
            "DeploymentConfig": dict(self.deployment_config),
            "Tags": naming.tag_list(self.endpoint_tags),
        }

    def update_endpoint_request(self) -> dict[str, Any]:
        return {
            "EndpointName": self.endpoint_name,
            "EndpointConfigName": self.config_name,
            "DeploymentConfig": dict(self.deployment_config),
        }


def _field_of(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = ["spec"]
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]"
        else:
            parts.append(item)
    return ".".join(parts)


def parse_spec(raw: Mapping[str, Any]) -> GuardedEndpointSpec:
    """Validate a raw spec; raise :class:`InvalidSpec` naming the first offending field."""
    try:
        return GuardedEndpointSpec.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        path = _field_of(tuple(first["loc"]))
        raise InvalidSpec(f"{path}: {first['msg']}", field=path) from exc


def _capacity(size: CapacitySize) -> dict[str, Any]:
    return {"Type": _CAPACITY_TYPES[size.type.value], "Value": size.value}


def deployment_config(policy: DeploymentSpec) -> dict[str, Any]:
    """The ``DeploymentConfig`` of CreateEndpoint/UpdateEndpoint for a deployment policy."""
    config: dict[str, Any] = {}
    if policy.blue_green is not None:
        bg = policy.blue_green
        routing: dict[str, Any] = {
            "Type": _TRAFFIC_TYPES[bg.traffic_routing.type.value],
            "WaitIntervalInSeconds": bg.traffic_routing.wait_interval_seconds,
        }
        if bg.traffic_routing.canary_size is not None:
            routing["CanarySize"] = _capacity(bg.traffic_routing.canary_size)
        if bg.traffic_routing.linear_step_size is not None:
            routing["LinearStepSize"] = _capacity(bg.traffic_routing.linear_step_size)
        blue_green: dict[str, Any] = {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": bg.termination_wait_seconds,
        }
        if bg.maximum_execution_timeout_seconds is not None:
            blue_green["MaximumExecutionTimeoutInSeconds"] = bg.maximum_execution_timeout_seconds
        config["BlueGreenUpdatePolicy"] = blue_green
    if policy.rolling is not None:
        rl = policy.rolling
        rolling: dict[str, Any] = {
            "MaximumBatchSize": _capacity(rl.maximum_batch_size),
            "WaitIntervalInSeconds": rl.wait_interval_seconds,
        }
        if rl.maximum_execution_timeout_seconds is not None:
            rolling["MaximumExecutionTimeoutInSeconds"] = rl.maximum_execution_timeout_seconds
        if rl.rollback_maximum_batch_size is not None:
            rolling["RollbackMaximumBatchSize"] = _capacity(rl.rollback_maximum_batch_size)
        config["RollingUpdatePolicy"] = rolling
    if policy.auto_rollback is not None:
        config["AutoRollbackConfiguration"] = {
            "Alarms": [{"AlarmName": name} for name in policy.auto_rollback.alarms]
        }
    return config


def _container(container: ContainerSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"Image": container.image}
    if container.model_data_url is not None:
        out["ModelDataUrl"] = container.model_data_url
    if container.environment:
        out["Environment"] = dict(sorted(container.environment.items()))
    return out


def _model_content(model: ModelSpec) -> dict[str, Any]:
    """A CreateModel request without ModelName and Tags (the part that is hashed)."""
    content: dict[str, Any] = {"ExecutionRoleArn": model.execution_role_arn}
    containers = [_container(c) for c in model.containers]
    if len(containers) == 1:
        content["PrimaryContainer"] = containers[0]
    else:
        content["Containers"] = containers
    if model.enable_network_isolation:
        content["EnableNetworkIsolation"] = True
    if model.vpc_config is not None:
        content["VpcConfig"] = {
            "SecurityGroupIds": list(model.vpc_config.security_group_ids),
            "Subnets": list(model.vpc_config.subnets),
        }
    return content


def _variant(variant: VariantSpec, model_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VariantName": variant.name,
        "ModelName": model_name,
        "InitialVariantWeight": variant.initial_variant_weight,
    }
    if variant.serverless is not None:
        serverless: dict[str, Any] = {
            "MemorySizeInMB": variant.serverless.memory_size_in_mb,
            "MaxConcurrency": variant.serverless.max_concurrency,
        }
        if variant.serverless.provisioned_concurrency is not None:
            serverless["ProvisionedConcurrency"] = variant.serverless.provisioned_concurrency
        out["ServerlessConfig"] = serverless
    else:
        out["InstanceType"] = variant.instance_type
        out["InitialInstanceCount"] = variant.initial_instance_count
    return out


def _config_extras(spec: GuardedEndpointSpec) -> dict[str, Any]:
    """AsyncInferenceConfig and DataCaptureConfig of CreateEndpointConfig."""
    extras: dict[str, Any] = {}
    if spec.async_inference is not None:
        output = spec.async_inference.output_config
        out_cfg: dict[str, Any] = {"S3OutputPath": output.s3_output_path}
        if output.s3_failure_path is not None:
            out_cfg["S3FailurePath"] = output.s3_failure_path
        if output.kms_key_id is not None:
            out_cfg["KmsKeyId"] = output.kms_key_id
        if output.notification_config is not None:
            note = output.notification_config
            out_cfg["NotificationConfig"] = {
                key: value
                for key, value in (("SuccessTopic", note.success_topic), ("ErrorTopic", note.error_topic))
                if value is not None
            }
        async_cfg: dict[str, Any] = {"OutputConfig": out_cfg}
        client = spec.async_inference.client_config
        if client is not None and client.max_concurrent_invocations_per_instance is not None:
            async_cfg["ClientConfig"] = {
                "MaxConcurrentInvocationsPerInstance": client.max_concurrent_invocations_per_instance
            }
        extras["AsyncInferenceConfig"] = async_cfg
    if spec.data_capture is not None:
        capture = spec.data_capture
        dc: dict[str, Any] = {
            "EnableCapture": capture.enable_capture,
            "InitialSamplingPercentage": capture.initial_sampling_percentage,
            "DestinationS3Uri": capture.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": mode.value} for mode in capture.capture_modes],
        }
        if capture.kms_key_id is not None:
            dc["KmsKeyId"] = capture.kms_key_id
        extras["DataCaptureConfig"] = dc
    return extras


def endpoint_name_of(spec: GuardedEndpointSpec, metadata_name: str) -> str:
    """``spec.endpointName``, or the resource name when that is a valid SageMaker name."""
    if spec.endpoint_name is not None:
        return spec.endpoint_name
    if re.fullmatch(SAGEMAKER_NAME_PATTERN, metadata_name) is None:
        raise InvalidSpec(
            f"spec.endpointName: metadata.name {metadata_name!r} is not a valid SageMaker endpoint name "
            "(at most 63 letters, digits and hyphens); set spec.endpointName",
            field="spec.endpointName",
        )
    return metadata_name


def build_desired(
    spec: GuardedEndpointSpec, identity: Identity, default_region: str, *, legacy: bool = False
) -> Desired:
    """All SageMaker requests of a spec, named by its revision.

    ``default_region`` is the Region of a spec without ``spec.region``. ``legacy`` names them
    after the first naming scheme's revision (:func:`~.naming.legacy_revision_of`), for an
    endpoint that still serves such names (:mod:`.migration`).
    """
    endpoint = endpoint_name_of(spec, identity.name)
    region = spec.region or default_region
    model_contents = {m.name: _model_content(m) for m in spec.models}
    variants_by_logical = [_variant(v, v.model) for v in spec.variants]
    extras = _config_extras(spec)
    content = {"models": model_contents, "variants": variants_by_logical, "config": extras}
    revision = naming.legacy_revision_of(content) if legacy else naming.revision_of(content, endpoint, region)
    owner_tags = identity.owner.tags()
    user_tags = dict(spec.tags)
    resource_tags = {**user_tags, **owner_tags, naming.TAG_REVISION: revision}
    names = {m.name: naming.model_name(endpoint, m.name, revision) for m in spec.models}
    models = tuple(
        ModelRequest(
            logical_name=logical,
            name=names[logical],
            request={"ModelName": names[logical], **content, "Tags": naming.tag_list(resource_tags)},
        )
        for logical, content in model_contents.items()
    )
    config = naming.config_name(endpoint, revision)
    config_request = {
        "EndpointConfigName": config,
        "ProductionVariants": [_variant(v, names[v.model]) for v in spec.variants],
        **extras,
        "Tags": naming.tag_list(resource_tags),
    }
    return Desired(
        spec=spec,
        identity=identity,
        endpoint_name=endpoint,
        region=region,
        revision=revision,
        config_name=config,
        models=models,
        config_request=config_request,
        deployment_config=deployment_config(spec.deployment),
        endpoint_tags={**user_tags, **owner_tags},
    )
