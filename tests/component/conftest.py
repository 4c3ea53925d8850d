"""Shared fixtures for component tests: an in-process emulator and boto3 clients pointed at it.

Fixtures (all usable from any module under tests/component):

- ``emulator_session`` (session): one running ``Emulator`` on a free port, ``EMULATOR_SPEED`` x faster.
- ``emulator`` (function): the same emulator, reset first (no resources, faults, holds, calls, timeline
  events or alarms; settings back to the session's). Has ``.url``, ``.admin`` (``AdminClient``),
  ``.settings`` and ``.client(service)``.
- ``admin``: ``emulator.admin``.
- ``sagemaker`` / ``cloudwatch``: boto3 clients on the emulator with dummy credentials (standard retries).
  Every successful SageMaker response is checked against botocore's output shape
  (``StrictOutputChecker``), so any test that uses this client also tests the wire format.
- ``raw_sagemaker``: no client-side validation and no retries, to test what the server itself rejects.
- ``endpoints``: ``EndpointKit`` (``.sagemaker``, ``.cloudwatch``, ``.admin``) to create models, configs and
  endpoints and to watch a deployment, on the running clock (``.watch``) or stepping it (``.step``).
- ``world``: ``tests.reconcilerkit.World`` (the real reconciler on this emulator) with the alarm ``ALARM``.

The emulator never talks to AWS; the AWS_* variables of the machine are not read.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator
from tests.reconcilerkit import ALARM, World

from sagemaker_guardrails.emulator import AdminClient, Emulator, EmulatorSettings

EMULATOR_SPEED = 100.0
# A clock that all but stands still (speed must be positive): tests that must see every phase drive it
# with ``admin.advance`` (``EndpointKit.step``) instead of racing it.
FROZEN = 0.001
SETTLING = ("Creating", "Updating", "RollingBack", "Deleting")
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution"


class StrictOutputChecker:
    """Validates raw SageMaker JSON responses against botocore's output shapes.

    botocore's parser silently drops members it does not know, so the raw body is checked instead:
    required members, types, unknown members (ParamValidator), then enums and maximums.
    """

    def __init__(self) -> None:
        self.checked: list[str] = []

    def __call__(self, http_response: Any, parsed: Any, model: OperationModel, **_: Any) -> None:
        if http_response.status_code != 200:
            return
        raw = json.loads(http_response.content or b"{}")
        if model.output_shape is None:
            assert raw == {}, f"{model.name} has no output shape but returned {raw}"
            self.checked.append(model.name)
            return
        value = _timestamps(model.output_shape, raw)
        report = ParamValidator().validate(value, model.output_shape)
        assert not report.has_errors(), (
            f"{model.name} response breaks its output shape:\n{report.generate_report()}"
        )
        problems: list[str] = []
        _constraints(model.output_shape, value, model.name, problems)
        assert not problems, f"{model.name} response breaks its output shape: {problems}"
        self.checked.append(model.name)


def _timestamps(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {k: (_timestamps(members[k], v) if k in members else v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_timestamps(shape.member, v) for v in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {k: _timestamps(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp" and isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return value


def _recorded_deviation(path: str, value: Any, enum: list[str]) -> bool:
    """Where real SageMaker answers outside its own model (spec 13), so the emulator does too: the
    pending variant's ``InstanceType`` comes without the ``ml.`` prefix (``m5.xlarge``)."""
    pending_type = re.fullmatch(
        r".*\.PendingDeploymentSummary\.ProductionVariants\[\d+\]\.InstanceType", path
    )
    return pending_type is not None and f"ml.{value}" in enum


def _constraints(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    meta, kind = shape.metadata, shape.type_name
    if "enum" in meta and value not in meta["enum"] and not _recorded_deviation(path, value, meta["enum"]):
        problems.append(f"{path}={value!r} not in enum")
    if "max" in meta and isinstance(value, str | list | dict) and len(value) > meta["max"]:
        problems.append(f"{path} longer than {meta['max']}")
    if (
        "max" in meta
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > meta["max"]
    ):
        problems.append(f"{path}={value} above {meta['max']}")
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            if name in value:
                _constraints(member, value[name], f"{path}.{name}", problems)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            _constraints(shape.member, item, f"{path}[{index}]", problems)  # type: ignore[attr-defined]


@functools.cache
def _boto_session() -> Any:
    """One session for every test client: botocore caches the (large) service models per session."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


def make_client(
    emulator: Emulator,
    service: str,
    *,
    attempts: int = 3,
    checker: StrictOutputChecker | None = None,
    validate: bool = True,
    region: str = REGION,
) -> Any:
    """A boto3 client on ``emulator``; ``validate=False`` turns botocore's client-side checks off."""
    session = _boto_session()
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts}, parameter_validation=validate
    )
    client = session.client(service, region_name=region, endpoint_url=emulator.url, config=config)
    if checker is not None:
        client.meta.events.register(f"after-call.{service}", checker)
    return client


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Emulator]:
    with Emulator(EmulatorSettings(port=0, speed=EMULATOR_SPEED)) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_session: Emulator) -> Emulator:
    emulator_session.admin.reset()
    return emulator_session


@pytest.fixture
def admin(emulator: Emulator) -> AdminClient:
    return emulator.admin


@pytest.fixture
def output_checker() -> StrictOutputChecker:
    return StrictOutputChecker()


@pytest.fixture
def sagemaker(emulator: Emulator, output_checker: StrictOutputChecker) -> Any:
    return make_client(emulator, "sagemaker", checker=output_checker)


@pytest.fixture
def raw_sagemaker(emulator: Emulator, output_checker: StrictOutputChecker) -> Any:
    """A SageMaker client without client-side validation or retries: what the server says is what you get."""
    return make_client(emulator, "sagemaker", attempts=1, checker=output_checker, validate=False)


@pytest.fixture
def cloudwatch(emulator: Emulator) -> Any:
    return make_client(emulator, "cloudwatch")


class EndpointKit:
    """Small helpers to set up endpoints and observe deployments through boto3 only."""

    def __init__(self, sagemaker: Any, admin: AdminClient, cloudwatch: Any) -> None:
        self.sagemaker = sagemaker
        self.admin = admin
        self.cloudwatch = cloudwatch

    def alarm(self, name: str) -> None:
        """A 5XX alarm of the kind a deployment's AutoRollbackConfiguration names."""
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/SageMaker",
            MetricName="Invocation5XXErrors",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0.01,
            ComparisonOperator="GreaterThanThreshold",
        )

    def model(self, name: str, image: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1") -> str:
        self.sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={"Image": image, "ModelDataUrl": f"s3://models/{name}.tar.gz"},
            ExecutionRoleArn=ROLE,
        )
        return name

    def config(
        self,
        name: str,
        model: str,
        instances: int = 4,
        *,
        variant: str = "AllTraffic",
        instance_type: str = "ml.m5.xlarge",
        weight: float = 1.0,
        **extra: Any,
    ) -> str:
        self.sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": model,
                    "InstanceType": instance_type,
                    "InitialInstanceCount": instances,
                    "InitialVariantWeight": weight,
                }
            ],
            **extra,
        )
        return name

    def endpoint(
        self, name: str, instances: int = 4, *, skip_creation: bool = True, **config: Any
    ) -> tuple[str, str]:
        """Endpoint ``name`` InService on config ``<name>-v1``; returns (endpoint, config). A second config
        ``<name>-v2`` with a different image is created too, ready for an update."""
        for version in (1, 2):
            self.model(f"{name}-m{version}", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/model:{version}")
            self.config(f"{name}-v{version}", f"{name}-m{version}", instances, **config)
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v1")
        if skip_creation:
            self.admin.advance(3600)
        self.wait(name, lambda d: d["EndpointStatus"] == "InService")
        return name, f"{name}-v1"

    def wait(
        self, name: str, done: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            described = self.sagemaker.describe_endpoint(EndpointName=name)
            if done(described):
                return dict(described)
            assert time.monotonic() < deadline, f"timed out waiting on {name}: {described['EndpointStatus']}"
            time.sleep(0.02)

    def watch(self, name: str, timeout: float = 30.0, interval: float = 0.01) -> list[dict[str, Any]]:
        """Poll DescribeEndpoint until the endpoint settles; every response, in order."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            described = dict(self.sagemaker.describe_endpoint(EndpointName=name))
            seen.append(described)
            if described["EndpointStatus"] not in SETTLING:
                return seen
            assert time.monotonic() < deadline, f"{name} did not settle: {described['EndpointStatus']}"
            time.sleep(interval)

    def step(self, name: str, seconds: float = 10.0, limit: int = 2000) -> list[dict[str, Any]]:
        """Like ``watch``, but simulated time moves only by ``admin.advance(seconds)`` between two
        DescribeEndpoint calls (configure a tiny ``speed`` first, see ``FROZEN``): every phase longer
        than ``seconds`` is seen at least once however slow the machine is."""
        seen: list[dict[str, Any]] = []
        for _ in range(limit):
            described = dict(self.sagemaker.describe_endpoint(EndpointName=name))
            seen.append(described)
            if described["EndpointStatus"] not in SETTLING:
                return seen
            self.admin.advance(seconds)
        raise AssertionError(f"{name} did not settle within {limit} steps of {seconds}s")


@pytest.fixture
def endpoints(sagemaker: Any, admin: AdminClient, cloudwatch: Any) -> EndpointKit:
    return EndpointKit(sagemaker, admin, cloudwatch)


@pytest.fixture
def world(emulator: Emulator) -> World:
    world = World(emulator)
    world.alarm(ALARM)
    return world
