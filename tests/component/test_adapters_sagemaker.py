"""The boto3 adapters over HTTP against the emulator: round trips, error mapping, retries, metrics.

The emulator answers with SageMaker's real error codes and messages (spec §8), so these tests
check that ``translate()`` sorts what SageMaker actually says, not what we think it says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from conftest import FROZEN

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.core.observed import EndpointSnapshot, EndpointStatus
from sagemaker_guardrails.emulator.server import Emulator
from sagemaker_guardrails.metrics import PREFIX, Metrics

pytestmark = pytest.mark.component

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:2.1"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(speed=2000, region=REGION) as emu:
        yield emu


@pytest.fixture
def metrics(emulator: Emulator) -> Metrics:
    emulator.admin.reset()
    emulator.admin.configure(speed=2000)
    return Metrics()


def factory(emulator: Emulator, metrics: Metrics, **kwargs: Any) -> ClientFactory:
    options: dict[str, Any] = {"rate_per_second": 1000, "burst": 100, "max_attempts": 5, **kwargs}
    return ClientFactory(
        endpoint_url=emulator.url,
        recorder=metrics.record_aws_call,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        **options,
    )


@pytest.fixture
def aws(emulator: Emulator, metrics: Metrics) -> AwsClients:
    return factory(emulator, metrics)(REGION)


def calls(metrics: Metrics, operation: str, error_code: str = "", service: str = "sagemaker") -> float:
    value = metrics.registry.get_sample_value(
        f"{PREFIX}aws_calls_total", {"service": service, "operation": operation, "error_code": error_code}
    )
    return value or 0.0


def model_request(name: str, **tags: str) -> dict[str, Any]:
    return {
        "ModelName": name,
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://models/fraud/v21.tar.gz"},
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }


def config_request(name: str, model: str, count: int = 2) -> dict[str, Any]:
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": count,
                "InitialVariantWeight": 1.0,
            }
        ],
    }


def wait_until(
    probe: Callable[[], EndpointSnapshot | None],
    done: Callable[[EndpointSnapshot | None], bool],
    timeout: float = 20,
) -> EndpointSnapshot | None:
    deadline = time.monotonic() + timeout
    while True:
        seen = probe()
        if done(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last seen {seen}")
        time.sleep(0.05)


def in_service(aws: AwsClients, endpoint: str, model: str = "fraud-m1", config: str = "fraud-c1") -> None:
    aws.sagemaker.create_model(model_request(model))
    aws.sagemaker.create_endpoint_config(config_request(config, model))
    aws.sagemaker.create_endpoint({"EndpointName": endpoint, "EndpointConfigName": config})
    wait_until(
        lambda: aws.sagemaker.describe_endpoint(endpoint),
        lambda s: s is not None and s.status is EndpointStatus.IN_SERVICE,
    )


def test_create_describe_update_delete_round_trip(
    aws: AwsClients, metrics: Metrics, emulator: Emulator
) -> None:
    """The clock stands still and is moved with advance(): Creating and Updating last as long as the
    test needs them to, however slow the machine."""
    emulator.admin.configure(speed=FROZEN)
    sm = aws.sagemaker
    model_arn = sm.create_model(model_request("fraud-m1", team="fraud"))
    config_arn = sm.create_endpoint_config(config_request("fraud-c1", "fraud-m1"))
    endpoint_arn = sm.create_endpoint({"EndpointName": "fraud", "EndpointConfigName": "fraud-c1"})
    assert model_arn.endswith(":model/fraud-m1")
    assert config_arn.endswith(":endpoint-config/fraud-c1")
    assert endpoint_arn.endswith(":endpoint/fraud")

    model = sm.describe_model("fraud-m1")
    config = sm.describe_endpoint_config("fraud-c1")
    assert model is not None and model.arn == model_arn and model.images == (IMAGE,)
    assert model.execution_role_arn == ROLE
    assert (
        config is not None and config.variant_names == ("AllTraffic",) and config.model_names == ("fraud-m1",)
    )
    assert not config.asynchronous
    assert sm.list_tags(model_arn) == {"team": "fraud"}

    first = sm.describe_endpoint("fraud")
    assert first is not None and first.arn == endpoint_arn and first.status is EndpointStatus.CREATING
    emulator.admin.advance(3600)
    live = wait_until(
        lambda: sm.describe_endpoint("fraud"),
        lambda s: s is not None and s.status is EndpointStatus.IN_SERVICE,
    )
    assert live is not None and live.config_name == "fraud-c1" and live.variants[0].name == "AllTraffic"

    sm.create_model(model_request("fraud-m2"))
    sm.create_endpoint_config(config_request("fraud-c2", "fraud-m2"))
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 600,
        }
    }
    assert (
        sm.update_endpoint(
            {"EndpointName": "fraud", "EndpointConfigName": "fraud-c2", "DeploymentConfig": deployment}
        )
        == endpoint_arn
    )
    accepted = sm.describe_endpoint("fraud")
    assert accepted is not None and accepted.busy and accepted.pending is None, "no summary yet (spec 13)"
    assert accepted.config_name == "fraud-c1" and accepted.target_config == "fraud-c1"
    emulator.admin.advance(5)
    updating = sm.describe_endpoint("fraud")
    assert updating is not None and updating.busy
    assert updating.config_name == "fraud-c1" and updating.target_config == "fraud-c2"

    with pytest.raises(errors.Busy) as busy:
        sm.update_endpoint({"EndpointName": "fraud", "EndpointConfigName": "fraud-c1"})
    assert busy.value.code == "ValidationException" and busy.value.operation == "UpdateEndpoint"

    emulator.admin.advance(3600)
    done = wait_until(
        lambda: sm.describe_endpoint("fraud"),
        lambda s: s is not None and s.status is EndpointStatus.IN_SERVICE,
    )
    assert done is not None and done.config_name == "fraud-c2" and done.pending is None

    sm.delete_endpoint("fraud")
    emulator.admin.advance(3600)
    wait_until(lambda: sm.describe_endpoint("fraud"), lambda s: s is None)
    for config_name in ("fraud-c1", "fraud-c2"):
        sm.delete_endpoint_config(config_name)
    for model_name in ("fraud-m1", "fraud-m2"):
        sm.delete_model(model_name)
    assert sm.describe_endpoint_config("fraud-c1") is None
    assert sm.describe_model("fraud-m2") is None
    assert calls(metrics, "UpdateEndpoint", "ValidationException") == 1
    assert calls(metrics, "CreateEndpoint") == 1


def test_missing_resources(aws: AwsClients, metrics: Metrics) -> None:
    sm = aws.sagemaker
    assert sm.describe_endpoint("nope") is None
    assert sm.describe_endpoint_config("nope") is None
    assert sm.describe_model("nope") is None
    with pytest.raises(errors.NotFound):
        sm.delete_model("nope")
    with pytest.raises(errors.NotFound):
        sm.delete_endpoint_config("nope")
    with pytest.raises(errors.NotFound):
        sm.update_endpoint({"EndpointName": "nope", "EndpointConfigName": "nope"})
    assert calls(metrics, "DescribeEndpoint", "ValidationException") == 1


def test_names_already_taken(aws: AwsClients) -> None:
    sm = aws.sagemaker
    in_service(aws, "fraud")
    with pytest.raises(errors.AlreadyExists):
        sm.create_model(model_request("fraud-m1"))
    with pytest.raises(errors.AlreadyExists):
        sm.create_endpoint_config(config_request("fraud-c1", "fraud-m1"))
    with pytest.raises(errors.AlreadyExists):
        sm.create_endpoint({"EndpointName": "fraud", "EndpointConfigName": "fraud-c1"})


def test_an_invalid_request_is_not_retryable(aws: AwsClients) -> None:
    in_service(aws, "fraud")
    too_long = {  # botocore checks no maximum; SageMaker rejects 3601 s (spec 1.4)
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 3601},
        }
    }
    aws.sagemaker.create_endpoint_config(config_request("fraud-c2", "fraud-m1"))
    with pytest.raises(errors.InvalidRequest) as info:
        aws.sagemaker.update_endpoint(
            {"EndpointName": "fraud", "EndpointConfigName": "fraud-c2", "DeploymentConfig": too_long}
        )
    assert info.value.code == "ValidationException"
    assert not isinstance(info.value, errors.Retryable)


def test_client_side_validation_is_an_invalid_request(aws: AwsClients, metrics: Metrics) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        aws.sagemaker.create_endpoint_config(config_request("fraud-c1", "fraud-m1", count=0))
    assert info.value.code == "ParamValidationError"
    assert calls(metrics, "CreateEndpointConfig") == 0  # never sent


def test_tags_and_prefix_lists(aws: AwsClients) -> None:
    sm = aws.sagemaker
    for name in ("fraud-a", "fraud-b", "other-fraud-c"):
        arn = sm.create_model(model_request(name))
        sm.create_endpoint_config(config_request(f"{name}-cfg", name))
    sm.add_tags(arn, {"sagemaker-guardrails.dev/cluster": "c1", "team": "x"})
    assert sm.list_tags(arn) == {"sagemaker-guardrails.dev/cluster": "c1", "team": "x"}
    assert sorted(m.name for m in sm.list_models("fraud-")) == ["fraud-a", "fraud-b"]
    configs = sm.list_endpoint_configs("fraud-")
    assert sorted(c.name for c in configs) == ["fraud-a-cfg", "fraud-b-cfg"]
    assert all(c.arn.endswith(f"endpoint-config/{c.name}") and c.creation_time is not None for c in configs)


def test_throttling_is_retried_by_botocore_and_every_attempt_counted(
    emulator: Emulator, aws: AwsClients, metrics: Metrics
) -> None:
    emulator.admin.throttle("DescribeEndpoint", rate=0, burst=0, count=2)
    assert aws.sagemaker.describe_endpoint("nope") is None
    assert calls(metrics, "DescribeEndpoint", "ThrottlingException") == 2
    assert calls(metrics, "DescribeEndpoint", "ValidationException") == 1


def test_persistent_throttling_becomes_throttled(emulator: Emulator, metrics: Metrics) -> None:
    aws = factory(emulator, metrics, max_attempts=2)(REGION)
    emulator.admin.throttle("ListModels", rate=0, burst=0)
    with pytest.raises(errors.Throttled) as info:
        aws.sagemaker.list_models("fraud")
    assert info.value.code == "ThrottlingException"
    assert calls(metrics, "ListModels", "ThrottlingException") == 2
    emulator.admin.clear_throttle("ListModels")
    assert aws.sagemaker.list_models("fraud") == []


def test_the_region_bucket_is_shared_and_empty_means_no_http_call(
    emulator: Emulator, metrics: Metrics
) -> None:
    clients = factory(emulator, metrics, rate_per_second=0.01, burst=2, acquire_timeout=0.1)
    east = clients(REGION)
    assert clients(REGION) is east
    east.sagemaker.describe_endpoint("a")
    east.cloudwatch.describe_alarms(["x"])
    before = len(emulator.admin.calls())
    with pytest.raises(errors.Throttled) as info:
        east.sagemaker.describe_endpoint("a")
    assert info.value.code == "ClientRateLimit"
    assert len(emulator.admin.calls()) == before
    assert clients("eu-west-1").sagemaker.describe_endpoint("a") is None  # its own bucket


def test_alarm_states(emulator: Emulator, aws: AwsClients, metrics: Metrics) -> None:
    cloudwatch = emulator.client("cloudwatch", region=REGION)
    for name in ("fraud-5xx", "fraud-latency"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/SageMaker",
            MetricName="Invocation5XXErrors",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0.01,
            ComparisonOperator="GreaterThanThreshold",
        )
    emulator.admin.hold_alarm("fraud-5xx", "ALARM")
    states = aws.cloudwatch.describe_alarms(["fraud-5xx", "fraud-latency", "fraud-gone"])
    assert states["fraud-5xx"] == "ALARM"
    assert states["fraud-latency"] in ("OK", "INSUFFICIENT_DATA")
    assert states["fraud-gone"] == "missing"
    assert calls(metrics, "DescribeAlarms", service="cloudwatch") == 1
