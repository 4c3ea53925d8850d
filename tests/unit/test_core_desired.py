"""core.desired: spec -> CreateModel / CreateEndpointConfig / DeploymentConfig requests and revision."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit

from sagemaker_guardrails.api.spec import GuardedEndpointSpec
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.desired import Identity, build_desired, deployment_config, parse_spec
from sagemaker_guardrails.errors import InvalidSpec

pytestmark = pytest.mark.unit


def revision(**knobs: Any) -> str:
    return corekit.desired(corekit.spec(**knobs)).revision


@pytest.mark.parametrize(
    "change",
    [
        {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:2"},
        {"data": "s3://models/fraud/v2.tar.gz"},
        {"env": {"THRESHOLD": "0.8"}},
        {"instance_type": "ml.m5.2xlarge"},
        {"count": 5},
        {
            "dataCapture": {
                "initialSamplingPercentage": 5,
                "destinationS3Uri": "s3://c/x",
                "captureModes": ["Input"],
            }
        },
        {"asyncInference": {"outputConfig": {"s3OutputPath": "s3://out/x"}}},
    ],
    ids=["image", "model-data", "env", "instance-type", "count", "data-capture", "async"],
)
def test_what_changes_sagemaker_resources_changes_the_revision(change: dict[str, Any]) -> None:
    assert revision(**change) != revision()


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "Linear"},
        {"strategy": "AllAtOnce"},
        {"strategy": "Rolling"},
        {"tags": {"team": "payments"}},
        {"deletionPolicy": "Retain"},
        {"adoptExisting": True},
    ],
    ids=["policy-linear", "policy-all-at-once", "policy-rolling", "tags", "deletion-policy", "adopt"],
)
def test_policy_and_bookkeeping_changes_keep_the_revision(change: dict[str, Any]) -> None:
    assert revision(**change) == revision()


def test_requests_are_named_by_revision_and_tagged_for_the_owner() -> None:
    d = corekit.desired()
    assert d.config_name == f"fraud-detector-{d.revision}"
    [model] = d.models
    assert model.name == naming.model_name("fraud-detector", "xgb", d.revision)
    assert model.request["ModelName"] == model.name
    assert model.request["PrimaryContainer"] == {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
        "ModelDataUrl": "s3://models/fraud/v1.tar.gz",
    }
    assert model.request["ExecutionRoleArn"] == corekit.ROLE
    tags = {t["Key"]: t["Value"] for t in model.request["Tags"]}
    assert tags == {
        "team": "fraud",
        naming.TAG_CLUSTER: "test-cluster",
        naming.TAG_NAMESPACE: "ml",
        naming.TAG_NAME: "fraud",
        naming.TAG_REVISION: d.revision,
    }
    assert d.config_request["EndpointConfigName"] == d.config_name
    assert d.config_request["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": model.name,
            "InitialVariantWeight": 1.0,
            "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 4,
        }
    ]
    assert {t["Key"] for t in d.config_request["Tags"]} == set(tags)
    assert naming.TAG_REVISION not in d.endpoint_tags
    assert d.create_endpoint_request()["EndpointConfigName"] == d.config_name
    assert d.update_endpoint_request() == {
        "EndpointName": "fraud-detector",
        "EndpointConfigName": d.config_name,
        "DeploymentConfig": d.deployment_config,
    }


def test_the_identity_changes_names_only_through_the_endpoint_name() -> None:
    other = Identity("other-cluster", "ml", "fraud")
    assert corekit.desired(identity=other).config_name == corekit.desired().config_name


def _policy(raw: dict[str, Any]) -> dict[str, Any]:
    return deployment_config(GuardedEndpointSpec.model_validate(corekit.spec(deployment=raw)).deployment)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"blueGreen": {"trafficRouting": {"type": "AllAtOnce"}}},
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                    "TerminationWaitInSeconds": 0,
                }
            },
        ),
        (
            {
                "blueGreen": {
                    "trafficRouting": {
                        "type": "Canary",
                        "waitIntervalSeconds": 600,
                        "canarySize": {"type": "CapacityPercent", "value": 25},
                    },
                    "terminationWaitSeconds": 300,
                    "maximumExecutionTimeoutSeconds": 3600,
                },
                "autoRollback": {"alarms": ["a", "b"]},
            },
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY",
                        "WaitIntervalInSeconds": 600,
                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    },
                    "TerminationWaitInSeconds": 300,
                    "MaximumExecutionTimeoutInSeconds": 3600,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]},
            },
        ),
        (
            {
                "blueGreen": {
                    "trafficRouting": {
                        "type": "Linear",
                        "waitIntervalSeconds": 300,
                        "linearStepSize": {"type": "InstanceCount", "value": 1},
                    }
                }
            },
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "LINEAR",
                        "WaitIntervalInSeconds": 300,
                        "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    },
                    "TerminationWaitInSeconds": 0,
                }
            },
        ),
        (
            {
                "rolling": {
                    "maximumBatchSize": {"type": "CapacityPercent", "value": 25},
                    "waitIntervalSeconds": 120,
                    "maximumExecutionTimeoutSeconds": 1800,
                    "rollbackMaximumBatchSize": {"type": "InstanceCount", "value": 2},
                }
            },
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    "WaitIntervalInSeconds": 120,
                    "MaximumExecutionTimeoutInSeconds": 1800,
                    "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
                }
            },
        ),
    ],
    ids=["all-at-once", "canary", "linear", "rolling"],
)
def test_deployment_config(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _policy(raw) == expected


def test_async_serverless_pipeline_and_capture_requests() -> None:
    raw = corekit.spec(
        models=[
            {
                "name": "pipe",
                "executionRoleArn": corekit.ROLE,
                "containers": [
                    {"image": "img/a:1"},
                    {"image": "img/b:1", "environment": {"B": "2", "A": "1"}},
                ],
                "enableNetworkIsolation": True,
                "vpcConfig": {"securityGroupIds": ["sg-1"], "subnets": ["subnet-1"]},
            }
        ],
        variants=[
            {
                "name": "AllTraffic",
                "model": "pipe",
                "serverless": {"memorySizeInMB": 2048, "maxConcurrency": 5},
            }
        ],
        asyncInference={
            "outputConfig": {
                "s3OutputPath": "s3://out/x",
                "notificationConfig": {"errorTopic": "arn:aws:sns:us-east-1:123456789012:err"},
            },
            "clientConfig": {"maxConcurrentInvocationsPerInstance": 4},
        },
        dataCapture={
            "initialSamplingPercentage": 5,
            "destinationS3Uri": "s3://c/x",
            "captureModes": ["Input"],
        },
    )
    d = corekit.desired(raw)
    [model] = d.models
    assert model.request["Containers"] == [
        {"Image": "img/a:1"},
        {"Image": "img/b:1", "Environment": {"A": "1", "B": "2"}},
    ]
    assert "PrimaryContainer" not in model.request
    assert model.request["EnableNetworkIsolation"] is True
    assert model.request["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    [variant] = d.config_request["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert "InstanceType" not in variant
    assert d.config_request["AsyncInferenceConfig"] == {
        "OutputConfig": {
            "S3OutputPath": "s3://out/x",
            "NotificationConfig": {"ErrorTopic": "arn:aws:sns:us-east-1:123456789012:err"},
        },
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
    }
    assert d.config_request["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 5,
        "DestinationS3Uri": "s3://c/x",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }


def test_region_and_endpoint_name_defaults() -> None:
    raw = corekit.spec(endpoint_name=None)
    del raw["region"]
    d = build_desired(parse_spec(raw), Identity("c", "ml", "fraud-detector"), "eu-west-1")
    assert (d.endpoint_name, d.region) == ("fraud-detector", "eu-west-1")


def test_a_resource_name_that_sagemaker_refuses_needs_spec_endpoint_name() -> None:
    raw = corekit.spec(endpoint_name=None)
    with pytest.raises(InvalidSpec) as caught:
        build_desired(parse_spec(raw), Identity("c", "ml", "fraud.detector"), "us-east-1")
    assert caught.value.field == "spec.endpointName"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (
            {
                "variants": [
                    {"name": "AllTraffic", "model": "xgb", "instanceType": "m5", "initialInstanceCount": 1}
                ]
            },
            "spec.variants[0].instanceType",
        ),
        (
            {"deployment": {"blueGreen": {"trafficRouting": {"type": "Canary"}}}},
            "spec.deployment.blueGreen.trafficRouting",
        ),
        ({"models": []}, "spec.models"),
        ({"surprise": 1}, "spec.surprise"),
    ],
    ids=["instance-type", "canary-size", "no-models", "unknown-field"],
)
def test_parse_spec_names_the_field(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(corekit.spec(**patch))
    assert caught.value.field == field
    assert field in str(caught.value)


def _twin(endpoint: str, region: str = "eu-west-1") -> Any:
    """The same model served by another endpoint (a blue/green pair of resources)."""
    raw = corekit.spec(endpoint_name=endpoint, region=region)
    raw["models"][0]["name"] = raw["variants"][0]["model"] = "xgboost-fraud-scorer"
    return build_desired(parse_spec(raw), Identity("c", "ml", endpoint), "us-east-1")


def test_two_endpoints_serving_the_same_model_get_distinct_model_and_config_names() -> None:
    blue = _twin("fraud-detector-production-eu-west-blue")
    green = _twin("fraud-detector-production-eu-west-green")
    assert blue.models[0].name != green.models[0].name
    assert blue.config_name != green.config_name
    assert blue.revision != green.revision
    assert blue.revision != _twin("fraud-detector-production-eu-west-blue", "eu-central-1").revision


def test_the_legacy_names_are_those_of_the_first_scheme() -> None:
    spec = parse_spec(corekit.spec())
    current = build_desired(spec, corekit.IDENTITY, "us-east-1")
    legacy = build_desired(spec, corekit.IDENTITY, "us-east-1", legacy=True)
    assert legacy.revision != current.revision
    # What the first scheme named this spec (computed by the operator before the change).
    assert (legacy.revision, legacy.config_name) == ("6d5a3b74", "fraud-detector-6d5a3b74")
    assert [m.name for m in legacy.models] == ["fraud-detector-xgb-1a994e50"]
    assert legacy.config_request["EndpointConfigName"] == legacy.config_name
    assert {"Key": "sagemaker-guardrails.dev/revision", "Value": legacy.revision} in legacy.config_request[
        "Tags"
    ]
    assert (legacy.endpoint_tags, legacy.deployment_config) == (
        current.endpoint_tags,
        current.deployment_config,
    )
