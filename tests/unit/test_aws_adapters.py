"""The boto3 adapters' mapping of responses and errors, with botocore's Stubber.

The Stubber validates every request against the real service model, so these tests also prove
the adapters send well-formed parameters. Over-the-wire behaviour (retries, metrics hooks) is in
tests/component/test_adapters_*.py against the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.cloudwatch import CloudWatchAdapter
from sagemaker_guardrails.aws.ports import ALARM_MISSING, ResourceSummary
from sagemaker_guardrails.aws.ratelimit import TokenBucket
from sagemaker_guardrails.aws.sagemaker import SageMakerAdapter
from sagemaker_guardrails.core.observed import EndpointStatus

pytestmark = pytest.mark.unit

REGION = "us-east-1"
ARN = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/fraud"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:model/m"
CONFIG_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/c"


def cfg_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{name}"


@pytest.fixture
def sm() -> Iterator[tuple[SageMakerAdapter, Stubber]]:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        yield SageMakerAdapter(client, TokenBucket(1000, 100)), stub
        stub.assert_no_pending_responses()


@pytest.fixture
def cw() -> Iterator[tuple[CloudWatchAdapter, Stubber]]:
    client = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        yield CloudWatchAdapter(client, TokenBucket(1000, 100)), stub
        stub.assert_no_pending_responses()


def test_describe_endpoint_maps_to_a_snapshot(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_response(
        "describe_endpoint",
        {
            "EndpointName": "fraud",
            "EndpointArn": ARN,
            "EndpointConfigName": "fraud-old",
            "EndpointStatus": "Updating",
            "CreationTime": T0,
            "LastModifiedTime": T0,
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 4}],
            "PendingDeploymentSummary": {
                "EndpointConfigName": "fraud-new",
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "VariantStatus": [{"Status": "Baking", "StatusMessage": "Baking for 600 seconds"}],
                    }
                ],
            },
        },
        {"EndpointName": "fraud"},
    )
    snap = adapter.describe_endpoint("fraud")
    assert snap is not None
    assert snap.status is EndpointStatus.UPDATING and snap.busy
    assert snap.target_config == "fraud-new"
    assert snap.pending is not None and snap.pending.variants[0].statuses[0].status == "Baking"


def test_missing_resources_describe_as_none(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_client_error("describe_endpoint", "ValidationException", f'Could not find endpoint "{ARN}".')
    stub.add_client_error(
        "describe_endpoint_config", "ValidationException", 'Could not find endpoint configuration "c".'
    )
    stub.add_client_error("describe_model", "ValidationException", 'Could not find model "m".')
    assert adapter.describe_endpoint("fraud") is None
    assert adapter.describe_endpoint_config("c") is None
    assert adapter.describe_model("m") is None


def test_describe_raises_other_errors(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_client_error(
        "describe_endpoint", "AccessDeniedException", "not authorized", http_status_code=400
    )
    with pytest.raises(errors.AccessDenied):
        adapter.describe_endpoint("fraud")


def test_mutations_translate_errors(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_client_error(
        "update_endpoint", "ValidationException", f'Cannot update in-progress endpoint "{ARN}".'
    )
    stub.add_client_error("delete_model", "ValidationException", 'Could not find model "m".')
    stub.add_client_error("create_model", "ValidationException", 'Cannot create already existing model "m".')
    with pytest.raises(errors.Busy):
        adapter.update_endpoint({"EndpointName": "fraud", "EndpointConfigName": "c"})
    with pytest.raises(errors.NotFound):
        adapter.delete_model("m")
    with pytest.raises(errors.AlreadyExists):
        adapter.create_model({"ModelName": "m", "ExecutionRoleArn": "arn:aws:iam::1:role/r"})


def test_create_calls_return_arns(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    model = {
        "ModelName": "m",
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
        "PrimaryContainer": {"Image": "img"},
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    config = {
        "EndpointConfigName": "c",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    }
    stub.add_response("create_model", {"ModelArn": MODEL_ARN}, model)
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": CONFIG_ARN}, config)
    stub.add_response(
        "create_endpoint", {"EndpointArn": ARN}, {"EndpointName": "fraud", "EndpointConfigName": "c"}
    )
    stub.add_response(
        "update_endpoint", {"EndpointArn": ARN}, {"EndpointName": "fraud", "EndpointConfigName": "c"}
    )
    assert adapter.create_model(model) == MODEL_ARN
    assert adapter.create_endpoint_config(config) == CONFIG_ARN
    assert adapter.create_endpoint({"EndpointName": "fraud", "EndpointConfigName": "c"}) == ARN
    assert adapter.update_endpoint({"EndpointName": "fraud", "EndpointConfigName": "c"}) == ARN


def test_describe_config_and_model(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": "c",
            "EndpointConfigArn": CONFIG_ARN,
            "CreationTime": T0,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
            "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://out"}},
        },
        {"EndpointConfigName": "c"},
    )
    stub.add_response(
        "describe_model",
        {
            "ModelName": "m",
            "ModelArn": MODEL_ARN,
            "CreationTime": T0,
            "ExecutionRoleArn": "arn:aws:iam::1:role/r",
            "PrimaryContainer": {"Image": "img:1"},
        },
        {"ModelName": "m"},
    )
    config = adapter.describe_endpoint_config("c")
    model = adapter.describe_model("m")
    assert config is not None and config.variant_names == ("AllTraffic",) and config.model_names == ("m",)
    assert config.asynchronous
    assert (
        model is not None
        and model.images == ("img:1",)
        and model.execution_role_arn == "arn:aws:iam::1:role/r"
    )


def test_lists_filter_by_prefix_over_every_page(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_response(
        "list_endpoint_configs",
        {
            "EndpointConfigs": [
                {
                    "EndpointConfigName": "fraud-1",
                    "EndpointConfigArn": cfg_arn("fraud-1"),
                    "CreationTime": T0,
                },
                {
                    "EndpointConfigName": "xfraud-2",
                    "EndpointConfigArn": cfg_arn("xfraud-2"),
                    "CreationTime": T0,
                },
            ],
            "NextToken": "t",
        },
        {"NameContains": "fraud", "MaxResults": 100},
    )
    stub.add_response(
        "list_endpoint_configs",
        {
            "EndpointConfigs": [
                {"EndpointConfigName": "fraud-3", "EndpointConfigArn": cfg_arn("fraud-3"), "CreationTime": T0}
            ]
        },
        {"NameContains": "fraud", "MaxResults": 100, "NextToken": "t"},
    )
    assert adapter.list_endpoint_configs("fraud") == [
        ResourceSummary("fraud-1", cfg_arn("fraud-1"), T0),
        ResourceSummary("fraud-3", cfg_arn("fraud-3"), T0),
    ]


def test_tags_round_trip_shapes(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_response("add_tags", {}, {"ResourceArn": ARN, "Tags": [{"Key": "a", "Value": "1"}]})
    stub.add_response(
        "list_tags",
        {"Tags": [{"Key": "a", "Value": "1"}], "NextToken": "n"},
        {"ResourceArn": ARN, "MaxResults": 100},
    )
    stub.add_response(
        "list_tags",
        {"Tags": [{"Key": "b", "Value": ""}]},
        {"ResourceArn": ARN, "MaxResults": 100, "NextToken": "n"},
    )
    adapter.add_tags(ARN, {"a": "1"})
    assert adapter.list_tags(ARN) == {"a": "1", "b": ""}


def test_alarm_states_and_missing(cw: tuple[CloudWatchAdapter, Stubber]) -> None:
    adapter, stub = cw
    stub.add_response(
        "describe_alarms",
        {
            "MetricAlarms": [{"AlarmName": "5xx", "StateValue": "ALARM"}],
            "CompositeAlarms": [{"AlarmName": "combo", "StateValue": "OK"}],
        },
        {
            "AlarmNames": ["5xx", "combo", "gone"],
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
            "MaxRecords": 100,
        },
    )
    assert adapter.describe_alarms(["5xx", "combo", "gone", "5xx"]) == {
        "5xx": "ALARM",
        "combo": "OK",
        "gone": ALARM_MISSING,
    }


def test_no_alarms_no_call(cw: tuple[CloudWatchAdapter, Stubber]) -> None:
    adapter, _ = cw
    assert adapter.describe_alarms([]) == {}
