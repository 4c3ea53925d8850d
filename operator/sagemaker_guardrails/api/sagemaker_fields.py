"""Which SageMaker request member each spec field becomes, and where the CRD deliberately differs.

This is what makes "every SageMaker bound is in the schema" checkable. tests/unit/test_crd_botocore.py
walks every field of the generated CRD's ``spec`` and requires it to be listed here, either in
:data:`SAGEMAKER_FIELDS` (the member of a SageMaker request it is sent as) or in :data:`OWN_FIELDS`
(no SageMaker counterpart, with the reason). For each SageMaker field it resolves the member's shape
in botocore's service model (``botocore/data/sagemaker/2017-07-24/service-2.json``) and checks that
the CRD's bounds equal botocore's: ``minLength``/``maxLength``, ``minItems``/``maxItems``,
``minProperties``/``maxProperties``, ``minimum``/``maximum``, ``enum`` and ``pattern`` (through
:func:`~sagemaker_guardrails.api.patterns.java_pattern`; a string whose pattern needs a character
counts as ``minLength`` 1 on both sides). A difference fails the test unless it is
declared in :data:`DEVIATIONS` with its reason, and a declared deviation must still be one (and
stricter than botocore, never looser). So a botocore release that changes a SageMaker bound fails
the test until the model here follows it.

The module is data only: the API package may not import botocore (``pyproject.toml``'s import
contracts); the test does.

Paths: ``spec.a.b`` for a field, ``[]`` for the items of a list, ``{}`` for the values of a map and
``{key}`` for its keys. Members: ``Operation:Member.Member[].Member{}`` in the operation's input.
"""

from __future__ import annotations

__all__ = ["DEVIATIONS", "OWN_FIELDS", "SAGEMAKER_FIELDS"]

_VARIANT = "CreateEndpointConfig:ProductionVariants[]"
_CONTAINER = "CreateModel:Containers[]"
_ASYNC = "CreateEndpointConfig:AsyncInferenceConfig"
_CAPTURE = "CreateEndpointConfig:DataCaptureConfig"
_BLUE_GREEN = "UpdateEndpoint:DeploymentConfig.BlueGreenUpdatePolicy"
_ROUTING = f"{_BLUE_GREEN}.TrafficRoutingConfiguration"
_ROLLING = "UpdateEndpoint:DeploymentConfig.RollingUpdatePolicy"


def _capacity(path: str, member: str) -> dict[str, str]:
    return {f"{path}.type": f"{member}.Type", f"{path}.value": f"{member}.Value"}


SAGEMAKER_FIELDS: dict[str, str] = {
    "spec.endpointName": "CreateEndpoint:EndpointName",
    "spec.models[].executionRoleArn": "CreateModel:ExecutionRoleArn",
    "spec.models[].containers": "CreateModel:Containers",
    "spec.models[].containers[].image": f"{_CONTAINER}.Image",
    "spec.models[].containers[].modelDataUrl": f"{_CONTAINER}.ModelDataUrl",
    "spec.models[].containers[].environment": f"{_CONTAINER}.Environment",
    "spec.models[].containers[].environment{key}": f"{_CONTAINER}.Environment{{key}}",
    "spec.models[].containers[].environment{}": f"{_CONTAINER}.Environment{{}}",
    "spec.models[].enableNetworkIsolation": "CreateModel:EnableNetworkIsolation",
    "spec.models[].vpcConfig.securityGroupIds": "CreateModel:VpcConfig.SecurityGroupIds",
    "spec.models[].vpcConfig.securityGroupIds[]": "CreateModel:VpcConfig.SecurityGroupIds[]",
    "spec.models[].vpcConfig.subnets": "CreateModel:VpcConfig.Subnets",
    "spec.models[].vpcConfig.subnets[]": "CreateModel:VpcConfig.Subnets[]",
    "spec.variants": "CreateEndpointConfig:ProductionVariants",
    "spec.variants[].name": f"{_VARIANT}.VariantName",
    "spec.variants[].instanceType": f"{_VARIANT}.InstanceType",
    "spec.variants[].initialInstanceCount": f"{_VARIANT}.InitialInstanceCount",
    "spec.variants[].initialVariantWeight": f"{_VARIANT}.InitialVariantWeight",
    "spec.variants[].serverless.memorySizeInMB": f"{_VARIANT}.ServerlessConfig.MemorySizeInMB",
    "spec.variants[].serverless.maxConcurrency": f"{_VARIANT}.ServerlessConfig.MaxConcurrency",
    "spec.variants[].serverless.provisionedConcurrency": f"{_VARIANT}.ServerlessConfig.ProvisionedConcurrency",
    "spec.asyncInference.outputConfig.s3OutputPath": f"{_ASYNC}.OutputConfig.S3OutputPath",
    "spec.asyncInference.outputConfig.s3FailurePath": f"{_ASYNC}.OutputConfig.S3FailurePath",
    "spec.asyncInference.outputConfig.kmsKeyId": f"{_ASYNC}.OutputConfig.KmsKeyId",
    "spec.asyncInference.outputConfig.notificationConfig.successTopic": (
        f"{_ASYNC}.OutputConfig.NotificationConfig.SuccessTopic"
    ),
    "spec.asyncInference.outputConfig.notificationConfig.errorTopic": (
        f"{_ASYNC}.OutputConfig.NotificationConfig.ErrorTopic"
    ),
    "spec.asyncInference.clientConfig.maxConcurrentInvocationsPerInstance": (
        f"{_ASYNC}.ClientConfig.MaxConcurrentInvocationsPerInstance"
    ),
    "spec.dataCapture.enableCapture": f"{_CAPTURE}.EnableCapture",
    "spec.dataCapture.initialSamplingPercentage": f"{_CAPTURE}.InitialSamplingPercentage",
    "spec.dataCapture.destinationS3Uri": f"{_CAPTURE}.DestinationS3Uri",
    "spec.dataCapture.captureModes": f"{_CAPTURE}.CaptureOptions",
    "spec.dataCapture.captureModes[]": f"{_CAPTURE}.CaptureOptions[].CaptureMode",
    "spec.dataCapture.kmsKeyId": f"{_CAPTURE}.KmsKeyId",
    "spec.deployment.blueGreen.trafficRouting.type": f"{_ROUTING}.Type",
    "spec.deployment.blueGreen.trafficRouting.waitIntervalSeconds": f"{_ROUTING}.WaitIntervalInSeconds",
    **_capacity("spec.deployment.blueGreen.trafficRouting.canarySize", f"{_ROUTING}.CanarySize"),
    **_capacity("spec.deployment.blueGreen.trafficRouting.linearStepSize", f"{_ROUTING}.LinearStepSize"),
    "spec.deployment.blueGreen.terminationWaitSeconds": f"{_BLUE_GREEN}.TerminationWaitInSeconds",
    "spec.deployment.blueGreen.maximumExecutionTimeoutSeconds": (
        f"{_BLUE_GREEN}.MaximumExecutionTimeoutInSeconds"
    ),
    **_capacity("spec.deployment.rolling.maximumBatchSize", f"{_ROLLING}.MaximumBatchSize"),
    "spec.deployment.rolling.waitIntervalSeconds": f"{_ROLLING}.WaitIntervalInSeconds",
    "spec.deployment.rolling.maximumExecutionTimeoutSeconds": f"{_ROLLING}.MaximumExecutionTimeoutInSeconds",
    **_capacity("spec.deployment.rolling.rollbackMaximumBatchSize", f"{_ROLLING}.RollbackMaximumBatchSize"),
    "spec.deployment.autoRollback.alarms": "UpdateEndpoint:DeploymentConfig.AutoRollbackConfiguration.Alarms",
    "spec.deployment.autoRollback.alarms[]": (
        "UpdateEndpoint:DeploymentConfig.AutoRollbackConfiguration.Alarms[].AlarmName"
    ),
    "spec.tags": "CreateEndpoint:Tags",
    "spec.tags{key}": "CreateEndpoint:Tags[].Key",
    "spec.tags{}": "CreateEndpoint:Tags[].Value",
}

OWN_FIELDS: dict[str, str] = {
    "spec.region": "the AWS Region the operator calls, not a request member",
    "spec.deletionPolicy": "the operator's choice on deletion",
    "spec.adoptExisting": "the operator's choice on creation",
    "spec.models": (
        "logical models; each becomes one CreateModel (at most 10, to bound the object and CEL cost)"
    ),
    "spec.models[].name": (
        "a logical name; the SageMaker ModelName is derived from the endpoint name and the revision"
    ),
    "spec.variants[].model": "names a spec.models[] entry; the derived ModelName is sent",
}

# Declared differences from botocore, by path and constraint key, with the reason. The CRD is
# always at least as strict as botocore where botocore has the bound.
DEVIATIONS: dict[str, dict[str, str]] = {
    "spec.models[].containers": {
        "minItems": "a model needs at least one container (one goes as PrimaryContainer)",
    },
    "spec.models[].containers[].environment{}": {
        "pattern": "botocore's [\\S\\s]* matches every string, so no pattern is needed",
    },
    "spec.variants[].instanceType": {
        "enum": (
            "a pattern instead of botocore's enum, so that a new instance type needs no operator "
            "release; every type of the enum must match the pattern and fit maxLength"
        ),
        "pattern": "see enum",
        "minLength": "see enum (the pattern needs characters)",
        "maxLength": "botocore's enum has no length; 64 is well above its longest type",
    },
    "spec.variants[].initialInstanceCount": {
        "maximum": "botocore has none; the operator's own cap (every number in the spec is bounded)",
    },
    "spec.variants[].initialVariantWeight": {
        "maximum": "botocore has none; the operator's own cap (every number in the spec is bounded)",
    },
    "spec.variants[].serverless.memorySizeInMB": {
        "enum": "SageMaker documents 1 GB steps (1024 to 6144); botocore only has the range",
        "minimum": "the enum spans exactly botocore's range",
        "maximum": "the enum spans exactly botocore's range",
    },
    "spec.dataCapture.captureModes": {
        "maxItems": "each of the two modes at most once; botocore allows a list of 32",
    },
    "spec.dataCapture.captureModes[]": {
        "enum": "InputAndOutput is the same as listing Input and Output, which is how it is written here",
    },
    "spec.deployment.blueGreen.trafficRouting.type": {
        "enum": "spelt AllAtOnce, Canary, Linear; translated to botocore's ALL_AT_ONCE, CANARY, LINEAR",
    },
    "spec.deployment.blueGreen.trafficRouting.canarySize.type": {
        "enum": "spelt CapacityPercent, InstanceCount; translated to CAPACITY_PERCENT, INSTANCE_COUNT",
    },
    "spec.deployment.blueGreen.trafficRouting.linearStepSize.type": {
        "enum": "spelt CapacityPercent, InstanceCount; translated to CAPACITY_PERCENT, INSTANCE_COUNT",
    },
    "spec.deployment.rolling.maximumBatchSize.type": {
        "enum": "spelt CapacityPercent, InstanceCount; translated to CAPACITY_PERCENT, INSTANCE_COUNT",
    },
    "spec.deployment.rolling.rollbackMaximumBatchSize.type": {
        "enum": "spelt CapacityPercent, InstanceCount; translated to CAPACITY_PERCENT, INSTANCE_COUNT",
    },
    "spec.deployment.autoRollback.alarms[]": {
        "pattern": "botocore's (?!\\s*$).+ has a lookahead; an equivalent without one",
    },
    "spec.tags": {
        "maxProperties": "SageMaker allows 50 tags; the operator adds its own ownership tags",
    },
}
