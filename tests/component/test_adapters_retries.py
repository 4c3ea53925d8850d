"""Retries over HTTP: reads are retried by botocore, mutating calls go out exactly once.

``tests.faultproxy.FaultProxy`` sits between the real adapters and the emulator and loses the answer
to a chosen call after the emulator has acted on it (a 500 ``InternalFailure`` or a connection closed
without an answer, both of which botocore's ``standard`` mode retries). The emulator's call log is the
witness of what reached "SageMaker".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from tests import corekit
from tests.faultproxy import FaultProxy, Mode
from tests.reconcilerkit import IMAGE, World

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.emulator.server import Emulator
from sagemaker_guardrails.metrics import PREFIX, Metrics

pytestmark = pytest.mark.component

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE_1 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:2.1"
ATTEMPTS = 5


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[FaultProxy]:
    with FaultProxy(emulator.url) as running:
        yield running


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def factory(proxy: FaultProxy, metrics: Metrics) -> ClientFactory:
    return ClientFactory(
        rate_per_second=0.001,  # no token comes back during a test: ``available`` counts attempts
        burst=100,
        max_attempts=ATTEMPTS,
        endpoint_url=proxy.url,
        recorder=metrics.record_aws_call,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )


@pytest.fixture
def aws(factory: ClientFactory) -> AwsClients:
    return factory(REGION)


def attempts(metrics: Metrics, operation: str) -> float:
    total = 0.0
    for metric in metrics.registry.collect():
        if metric.name == f"{PREFIX}aws_calls":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total") and s.labels.get("operation") == operation
            )
    return total


def reached(emulator: Emulator, operation: str) -> int:
    return len(emulator.admin.calls(operation=operation, service="sagemaker"))


def _model(name: str) -> dict[str, Any]:
    return {
        "ModelName": name,
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": IMAGE_1, "ModelDataUrl": f"s3://models/{name}.tar.gz"},
    }


def _config(name: str, model: str) -> dict[str, Any]:
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InstanceType": "ml.m5.xlarge",
        "InitialInstanceCount": 2,
    }
    return {"EndpointConfigName": name, "ProductionVariants": [variant]}


def _in_service_endpoint(emulator: Emulator) -> str:
    sm = emulator.client("sagemaker")
    for suffix in ("1", "2"):
        sm.create_model(**_model(f"m{suffix}"))
        sm.create_endpoint_config(**_config(f"c{suffix}", f"m{suffix}"))
    arn = str(sm.create_endpoint(EndpointName="fraud", EndpointConfigName="c1")["EndpointArn"])
    emulator.admin.advance(3600)
    sm.get_waiter("endpoint_in_service").wait(EndpointName="fraud", WaiterConfig={"Delay": 0.05})
    return arn


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_update_endpoint_whose_answer_is_lost_is_sent_once(
    emulator: Emulator, proxy: FaultProxy, factory: ClientFactory, metrics: Metrics, mode: Mode
) -> None:
    aws = factory(REGION)
    _in_service_endpoint(emulator)
    emulator.admin.clear_calls()
    tokens = factory.limiter(REGION).available
    proxy.lose("UpdateEndpoint", mode)
    with pytest.raises(errors.Retryable):
        aws.sagemaker.update_endpoint({"EndpointName": "fraud", "EndpointConfigName": "c2"})
    assert reached(emulator, "UpdateEndpoint") == 1
    assert proxy.seen["UpdateEndpoint"] == 1
    assert (
        emulator.client("sagemaker").describe_endpoint(EndpointName="fraud")["EndpointStatus"] == "Updating"
    )
    assert attempts(metrics, "UpdateEndpoint") == 1
    assert tokens - factory.limiter(REGION).available == pytest.approx(1, abs=0.01)


def test_describe_endpoint_is_retried_and_every_attempt_takes_a_token(
    emulator: Emulator, proxy: FaultProxy, factory: ClientFactory, metrics: Metrics
) -> None:
    aws = factory(REGION)
    _in_service_endpoint(emulator)
    emulator.admin.clear_calls()
    tokens = factory.limiter(REGION).available
    proxy.lose("DescribeEndpoint", "500")
    proxy.lose("DescribeEndpoint", "drop")
    snapshot = aws.sagemaker.describe_endpoint("fraud")
    assert snapshot is not None and snapshot.config_name == "c1"
    assert reached(emulator, "DescribeEndpoint") == 3
    assert proxy.seen["DescribeEndpoint"] == 3
    assert attempts(metrics, "DescribeEndpoint") == 3
    assert tokens - factory.limiter(REGION).available == pytest.approx(3, abs=0.01)


def test_a_retry_without_a_token_fails_as_client_throttled(emulator: Emulator, proxy: FaultProxy) -> None:
    factory = ClientFactory(
        rate_per_second=0.001,
        burst=1,
        max_attempts=ATTEMPTS,
        acquire_timeout=0.05,
        endpoint_url=proxy.url,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )
    proxy.lose("DescribeEndpoint", "500")
    with pytest.raises(errors.Throttled) as info:
        factory(REGION).sagemaker.describe_endpoint("fraud")
    assert info.value.code == "ClientRateLimit"
    assert proxy.seen["DescribeEndpoint"] == 1


MUTATIONS: dict[str, Callable[[AwsClients, str], Any]] = {
    "CreateModel": lambda aws, arn: aws.sagemaker.create_model(_model("m3")),
    "CreateEndpointConfig": lambda aws, arn: aws.sagemaker.create_endpoint_config(_config("c3", "m1")),
    "CreateEndpoint": lambda aws, arn: aws.sagemaker.create_endpoint(
        {"EndpointName": "other", "EndpointConfigName": "c2"}
    ),
    "AddTags": lambda aws, arn: aws.sagemaker.add_tags(arn, {"team": "fraud"}),
    "DeleteTags": lambda aws, arn: aws.sagemaker.delete_tags(arn, ["team"]),
    "DeleteEndpoint": lambda aws, arn: aws.sagemaker.delete_endpoint("fraud"),
    "DeleteEndpointConfig": lambda aws, arn: aws.sagemaker.delete_endpoint_config("c2"),
    "DeleteModel": lambda aws, arn: aws.sagemaker.delete_model("m2"),
}


@pytest.mark.parametrize("operation", sorted(MUTATIONS))
def test_every_mutating_call_is_sent_once(
    emulator: Emulator, proxy: FaultProxy, aws: AwsClients, metrics: Metrics, operation: str
) -> None:
    arn = _in_service_endpoint(emulator)
    emulator.client("sagemaker").add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "x"}])
    emulator.admin.clear_calls()
    proxy.lose(operation, "500")
    with pytest.raises(errors.Retryable):
        MUTATIONS[operation](aws, arn)
    assert reached(emulator, operation) == 1
    assert attempts(metrics, operation) == 1


def test_a_deployment_whose_update_answer_is_lost_is_requested_once(emulator: Emulator) -> None:
    """The reconciler over the proxy: the lost UpdateEndpoint is resolved by the write-ahead record."""
    with FaultProxy(emulator.url) as proxy:
        world = World(emulator, attempts=ATTEMPTS, endpoint_url=proxy.url)
        world.alarm()
        gep = world.resource(corekit.spec(strategy="AllAtOnce", image=IMAGE.format(1)))
        gep.settle()
        new = corekit.spec(strategy="AllAtOnce", image=IMAGE.format(2))
        proxy.lose("UpdateEndpoint", "500")
        gep.apply(new)
        gep.until(lambda o: proxy.lost["UpdateEndpoint"] == 1)
        assert isinstance(gep.outcomes[-1].error, errors.Retryable)
        gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert world.describe()["EndpointConfigName"] == corekit.desired(new).config_name
    assert len(world.calls("UpdateEndpoint", ok=False)) == 1
    assert proxy.seen["UpdateEndpoint"] == 1
