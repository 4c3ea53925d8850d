"""handlers.py with the real reconciler, real adapters and the emulator, without an API server.

kopf's Body and Patch are real, and kopf's Event queue is set up the way kopf sets it up for a
sync handler, so the Events a pass posts can be read back. What these tests pin down is the
handler side of the contract: throttling and 5xx slow a resource down and never fail it; status
is written on every pass, failed or not; the timer finishes what a change handler started.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Iterator
from typing import Any

import boto3
import kopf
import pytest
from kopf._core.engines import posting  # the contextvars kopf sets around every handler

from sagemaker_guardrails import reconciler
from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.emulator.server import Emulator
from sagemaker_guardrails.handlers import Runtime, on_change, on_delete, on_timer
from sagemaker_guardrails.metrics import PREFIX, Metrics
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.component

REGION = "us-east-1"
LOG = logging.getLogger("test")
MANIFEST: dict[str, Any] = {
    "apiVersion": "sagemaker-guardrails.dev/v1alpha1",
    "kind": "GuardedEndpoint",
    "metadata": {"name": "fraud", "namespace": "ml", "uid": "uid-fraud", "generation": 1},
    "spec": {
        "region": REGION,
        "deletionPolicy": "Delete",
        "models": [
            {
                "name": "xgb",
                "executionRoleArn": "arn:aws:iam::123456789012:role/SageMakerExecution",
                "containers": [
                    {
                        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:2.1",
                        "modelDataUrl": "s3://models/fraud/v21.tar.gz",
                    }
                ],
            }
        ],
        "variants": [
            {"name": "AllTraffic", "model": "xgb", "instanceType": "ml.m5.xlarge", "initialInstanceCount": 2}
        ],
        "deployment": {"blueGreen": {"trafficRouting": {"type": "AllAtOnce", "waitIntervalSeconds": 0}}},
    },
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(speed=2000, region=REGION) as emu:
        yield emu


class Events:
    """kopf's Event plumbing, set up the way kopf sets it up around a sync handler."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[posting.K8sEvent] = asyncio.Queue()

    def posted(self) -> list[posting.K8sEvent]:
        self.loop.run_until_complete(asyncio.sleep(0))  # run the cross-thread put_nowait calls
        found = []
        while not self.queue.empty():
            found.append(self.queue.get_nowait())
        return found


@pytest.fixture
def events() -> Iterator[Events]:
    sink = Events()
    tokens = (
        posting.settings_var.set(kopf.OperatorSettings()),
        posting.event_queue_var.set(sink.queue),
        posting.event_queue_loop_var.set(sink.loop),
    )
    yield sink
    posting.event_queue_loop_var.reset(tokens[2])
    posting.event_queue_var.reset(tokens[1])
    posting.settings_var.reset(tokens[0])
    sink.loop.close()


@pytest.fixture
def runtime(emulator: Emulator) -> Runtime:
    emulator.admin.reset()
    emulator.admin.configure(speed=2000)
    settings = Settings(default_region=REGION, active_poll_seconds=15, settled_poll_seconds=300)
    metrics = Metrics()
    clients = ClientFactory(
        rate_per_second=1000,
        burst=100,
        max_attempts=2,
        endpoint_url=emulator.url,
        recorder=metrics.record_aws_call,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )
    return Runtime(
        settings=settings,
        deps=reconciler.Deps(settings=settings, clients=clients),
        metrics=metrics,
        reconcile=reconciler.reconcile,
        finalize=reconciler.finalize,
        clock=Clock(),
        rng=random.Random(1),
    )


class Cluster:
    """The stored object, with kopf's patches applied the way the API server merges them."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.raw = copy.deepcopy(manifest)

    def body(self) -> kopf.Body:
        return kopf.Body(copy.deepcopy(self.raw))

    def apply(self, patch: kopf.Patch) -> None:
        status = self.raw.setdefault("status", {})
        for key, value in dict(patch.get("status") or {}).items():
            merge(status, key, value)


def merge(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    elif isinstance(value, dict) and isinstance(target.get(key), dict):
        for k, v in value.items():
            merge(target[key], k, v)
    else:
        target[key] = copy.deepcopy(value)


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), {})


def tick(runtime: Runtime, cluster: Cluster) -> None:
    """Let the timer run once its object is due."""
    assert isinstance(runtime.clock, Clock)
    runtime.clock.now = runtime.state("uid-fraud").due_at + 0.01
    patch = kopf.Patch()
    on_timer(body=cluster.body(), patch=patch, memo=runtime, logger=LOG)
    cluster.apply(patch)


def test_throttling_slows_a_resource_down_but_never_stalls_it(
    emulator: Emulator, runtime: Runtime, events: Events
) -> None:
    cluster = Cluster(MANIFEST)
    emulator.admin.throttle("*", rate=0, burst=0)
    patch = kopf.Patch()
    with pytest.raises(kopf.TemporaryError) as info:
        on_change(body=cluster.body(), patch=patch, memo=runtime, logger=LOG)
    cluster.apply(patch)
    assert info.value.delay is not None and 0 < info.value.delay <= 15
    status = cluster.raw["status"]
    assert condition(status, "Stalled").get("status") != "True"
    assert condition(status, "Ready").get("status") != "True"
    throttled = runtime.metrics.registry.get_sample_value(
        f"{PREFIX}aws_calls_total",
        {"service": "sagemaker", "operation": "DescribeEndpoint", "error_code": "ThrottlingException"},
    )
    assert throttled == 2  # both attempts botocore made, counted

    for _ in range(3):  # still throttled: the timer keeps retrying, the status never says Stalled
        tick(runtime, cluster)
        assert condition(cluster.raw["status"], "Stalled").get("status") != "True"

    emulator.admin.clear_throttle()
    for _ in range(40):
        tick(runtime, cluster)
        if condition(cluster.raw["status"], "Ready").get("status") == "True":
            break
    assert condition(cluster.raw["status"], "Ready").get("status") == "True", cluster.raw["status"]
    assert cluster.raw["status"]["endpoint"]["status"] == "InService"
    posted = events.posted()
    assert posted, "a created endpoint posts at least one Event"
    assert all(e.ref["name"] == "fraud" and e.type in ("Normal", "Warning") for e in posted)


def test_delete_holds_the_finalizer_until_the_endpoint_is_gone(
    emulator: Emulator, runtime: Runtime, events: Events
) -> None:
    cluster = Cluster(MANIFEST)
    patch = kopf.Patch()
    on_change(body=cluster.body(), patch=patch, memo=runtime, logger=LOG)
    cluster.apply(patch)
    for _ in range(40):
        tick(runtime, cluster)
        if cluster.raw["status"].get("endpoint", {}).get("status") == "InService":
            break
    cluster.raw["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    rounds = 0
    while True:
        patch = kopf.Patch()
        try:
            on_delete(body=cluster.body(), patch=patch, memo=runtime, logger=LOG)
            break
        except kopf.TemporaryError:
            rounds += 1
            assert rounds < 200, cluster.raw["status"]
        finally:
            cluster.apply(patch)
    assert rounds >= 1  # DeleteEndpoint takes a while: the finalizer stayed meanwhile
    sagemaker = emulator.client("sagemaker", region=REGION)
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []
    assert "uid-fraud" not in runtime._objects
