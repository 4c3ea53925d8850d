"""The orphan sweeper's supervision: a failing sweep is logged, counted and run again next period; a
standby never sweeps; a sweeper thread that died makes /healthz fail like a dead worker."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from kubernetes import client as k8s

from sagemaker_guardrails.aws.cloudwatch import CloudWatchAdapter
from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.aws.ratelimit import TokenBucket
from sagemaker_guardrails.aws.sagemaker import SageMakerAdapter
from sagemaker_guardrails.loop import KubeApi
from sagemaker_guardrails.loop.sweep import AllChecks, Sweeper, SweepStoppedError
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit


def unreachable_kube() -> KubeApi:
    """The real Kubernetes client, pointed at a port nobody listens on."""
    configuration = k8s.Configuration()
    configuration.host = "http://127.0.0.1:9"
    return KubeApi(k8s.ApiClient(configuration), timeout=1.0)


def no_aws(region: str) -> AwsClients:
    raise AssertionError("the sweep must not reach AWS without a list of GuardedEndpoints")


def sweeps(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "sagemaker_guardrails_orphan_sweeps_total", {"outcome": outcome}
    )
    return value or 0.0


def wait(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class _Ok:
    ok, message = True, "loop fine"


class _Loop:
    def health(self) -> _Ok:
        return _Ok()

    def ready(self) -> _Ok:
        return _Ok()


def test_a_failing_sweep_is_logged_counted_and_run_again(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    settings = Settings(orphan_sweep_seconds=0.05)
    sweeper = Sweeper(kube=unreachable_kube(), settings=settings, clients=no_aws, metrics=metrics)
    with caplog.at_level(logging.ERROR, logger="sagemaker_guardrails.loop.sweep"):
        sweeper.start()
        try:
            wait(lambda: sweeps(metrics, "error") >= 3)
            assert sweeper.health().ok
            assert AllChecks(_Loop(), sweeper).health().ok
        finally:
            sweeper.stop()
    failures = [r for r in caplog.records if "orphan sweep failed" in r.getMessage()]
    assert failures and failures[0].exc_info is not None, "the traceback must be logged"


def test_a_standby_never_sweeps() -> None:
    metrics = Metrics()
    standby = threading.Event()
    sweeper = Sweeper(
        kube=unreachable_kube(),
        settings=Settings(orphan_sweep_seconds=0.05),
        clients=no_aws,
        metrics=metrics,
        leading=standby,
    )
    assert sweeper.run_once() is None
    sweeper.start()
    try:
        time.sleep(0.4)
        assert sweeps(metrics, "error") == 0 and sweeps(metrics, "ok") == 0
        standby.set()
        wait(lambda: sweeps(metrics, "error") >= 1)
    finally:
        sweeper.stop()


class _Dies(KubeApi):
    """A list that ends the thread the way only a bug could (not an ``Exception``)."""

    def list(self, namespaces: list[str]) -> list[dict[str, Any]]:
        raise SystemExit("bug")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_sweeper_thread_fails_health_and_readiness() -> None:
    configuration = k8s.Configuration()
    kube = _Dies(k8s.ApiClient(configuration))
    sweeper = Sweeper(
        kube=kube, settings=Settings(orphan_sweep_seconds=0.05), clients=no_aws, metrics=Metrics()
    )
    sweeper.start()
    assert sweeper._thread is not None
    sweeper._thread.join(timeout=5)
    checks = AllChecks(_Loop(), sweeper)
    assert not checks.health().ok and "orphan-sweep" in checks.health().message
    assert not checks.ready().ok
    sweeper.stop()
    assert checks.health().ok  # a stopped sweeper is not a dead one


def test_interval_zero_turns_the_sweep_off() -> None:
    sweeper = Sweeper(
        kube=unreachable_kube(), settings=Settings(orphan_sweep_seconds=0), clients=no_aws, metrics=Metrics()
    )
    sweeper.start()
    assert sweeper._thread is None and sweeper.health().ok


REGION = "us-east-1"


def stubbed_region(bucket: TokenBucket) -> tuple[AwsClients, Stubber]:
    """The real boto3 adapters of one region, SageMaker answered by botocore's Stubber."""
    keys = {"region_name": REGION, "aws_access_key_id": "x", "aws_secret_access_key": "y"}
    sagemaker = boto3.client("sagemaker", **keys)
    clients = AwsClients(
        region=REGION,
        sagemaker=SageMakerAdapter(sagemaker, bucket),
        cloudwatch=CloudWatchAdapter(boto3.client("cloudwatch", **keys), bucket),
    )
    return clients, Stubber(sagemaker)


class FakeTime:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_sweeps_calls_are_paced_and_still_take_the_shared_buckets_tokens() -> None:
    time_ = FakeTime()
    bucket = TokenBucket(20, 40, clock=lambda: 0.0)  # never refills: every token taken shows
    clients, stub = stubbed_region(bucket)
    sweeper = Sweeper(
        kube=unreachable_kube(),
        settings=Settings(orphan_sweep_calls_per_second=2),
        clients=lambda region: clients,
        metrics=Metrics(),
        clock=time_.clock,
        sleep=time_.sleep,
    )
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/e"
    row = {"EndpointName": "e", "EndpointArn": arn, "CreationTime": 0, "LastModifiedTime": 0}
    stub.add_response(
        "list_endpoints", {"Endpoints": [{**row, "EndpointStatus": "InService"}], "NextToken": "2"}
    )
    stub.add_response("list_endpoints", {"Endpoints": []})
    tags = 8
    for _ in range(tags):
        stub.add_response("list_tags", {"Tags": []})
    port = sweeper.paced(REGION).sagemaker
    with stub:
        assert [e.name for e in port.list_endpoints("")] == ["e"]
        for _ in range(tags):
            port.list_tags(arn)
        stub.assert_no_pending_responses()
    calls = 2 + tags  # two list pages, each ListTags
    assert sweeper.pacer.calls == calls
    assert time_.now >= (calls - 1) / 2.0
    assert bucket.available == 40 - calls, "each paced call took a token of the shared bucket too"
    assert clients.sagemaker.list_tags is not port.list_tags  # the reconcile passes' port is unpaced


def test_a_stopped_sweeper_ends_its_paced_wait_at_once() -> None:
    bucket = TokenBucket(20, 40)
    clients, stub = stubbed_region(bucket)
    sweeper = Sweeper(
        kube=unreachable_kube(),
        settings=Settings(orphan_sweep_calls_per_second=0.01),  # one call per 100 s
        clients=lambda region: clients,
        metrics=Metrics(),
    )
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/e"
    stub.add_response("list_tags", {"Tags": []})
    port = sweeper.paced(REGION).sagemaker
    outcome: list[BaseException] = []

    def calls() -> None:
        try:
            port.list_tags(arn)
            port.list_tags(arn)  # waits 100 s for its pace
        except BaseException as exc:
            outcome.append(exc)

    with stub:
        worker = threading.Thread(target=calls)
        worker.start()
        wait(lambda: sweeper.pacer.calls == 1)
        started = time.monotonic()
        sweeper.stop()
        worker.join(timeout=5)
    assert not worker.is_alive() and time.monotonic() - started < 2
    assert len(outcome) == 1 and isinstance(outcome[0], SweepStoppedError)
    assert sweeper.pacer.calls == 1


class _NoGuardedEndpoints(KubeApi):
    def list(self, namespaces: list[str]) -> list[dict[str, Any]]:
        return []


def test_stopping_during_a_sweep_abandons_it_without_counting_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clients, stub = stubbed_region(TokenBucket(20, 40))
    metrics = Metrics()
    sweeper = Sweeper(
        kube=_NoGuardedEndpoints(k8s.ApiClient(k8s.Configuration())),
        settings=Settings(
            orphan_sweep_seconds=0.05, orphan_sweep_calls_per_second=0.01, default_region=REGION
        ),
        clients=lambda region: clients,
        metrics=metrics,
    )
    stub.add_response("list_endpoints", {"Endpoints": []})  # ListEndpointConfigs then waits 100 s
    with stub, caplog.at_level(logging.INFO, logger="sagemaker_guardrails.loop.sweep"):
        sweeper.start()
        wait(lambda: sweeper.pacer.calls == 1)
        started = time.monotonic()
        sweeper.stop()
        assert sweeper._thread is not None and not sweeper._thread.is_alive()
    assert time.monotonic() - started < 2
    assert sweeps(metrics, "error") == 0 and sweeps(metrics, "ok") == 0
    assert any("orphan sweep abandoned" in r.getMessage() for r in caplog.records)
    assert sweeper.health().ok


def test_a_sweep_longer_than_its_interval_is_followed_by_the_next_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time_ = FakeTime()
    clients, stub = stubbed_region(TokenBucket(20, 40))
    metrics = Metrics()
    sweeper = Sweeper(
        kube=_NoGuardedEndpoints(k8s.ApiClient(k8s.Configuration())),
        # Three list calls at 1/s take 2 s of the fake clock: more than the 0.5 s interval.
        settings=Settings(orphan_sweep_seconds=0.5, orphan_sweep_calls_per_second=1, default_region=REGION),
        clients=lambda region: clients,
        metrics=metrics,
        clock=time_.clock,
        sleep=time_.sleep,
    )
    for _ in range(2):
        stub.add_response("list_endpoints", {"Endpoints": []})
        stub.add_response("list_endpoint_configs", {"EndpointConfigs": []})
        stub.add_response("list_models", {"Models": []})
    with stub, caplog.at_level(logging.INFO, logger="sagemaker_guardrails.loop.sweep"):
        sweeper.start()
        try:
            wait(lambda: sweeps(metrics, "ok") >= 1)
            first_done = time.monotonic()
            wait(lambda: sweeps(metrics, "ok") >= 2)
            assert time.monotonic() - first_done < 0.4, "the next sweep waited another interval"
        finally:
            sweeper.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any("done in 2.0 s with 3 AWS calls" in m for m in messages), messages
    assert any("more than orphan_sweep_seconds" in m and "the next starts now" in m for m in messages), (
        messages
    )
