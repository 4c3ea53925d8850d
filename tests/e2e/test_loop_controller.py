"""The reconcile loop in this process against the real API server and the emulator over HTTP.

The controller, the reconciler, the boto3 adapters and the API server are all real; the seams are
the ones a fault needs: a wrapper around the Kubernetes client that refuses a status write or
loses its response, and a wrapper around the pass that raises or blocks. Passes are stepped one
by one (``step``) where a test checks what each one did, and run by worker threads where a test
checks the loop as a whole.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import boto3
import pytest
from kubernetes import client as k8s

from sagemaker_guardrails import reconciler
from sagemaker_guardrails.api import GROUP, PLURAL, VERSION, GuardedEndpointStatus
from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.emulator.server import Emulator
from sagemaker_guardrails.loop import FINALIZER, Controller, KubeApi, KubeError, serve_health
from sagemaker_guardrails.metrics import PREFIX, Metrics
from sagemaker_guardrails.reconciler import Deps, Outcome, Resource
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
MUTATING = {"CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"}


def manifest(name: str, image_tag: str = "2.1") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "GuardedEndpoint",
        "metadata": {"name": name},
        "spec": {
            "region": REGION,
            "deletionPolicy": "Delete",
            "models": [
                {
                    "name": "xgb",
                    "executionRoleArn": "arn:aws:iam::123456789012:role/SageMakerExecution",
                    "containers": [
                        {
                            "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:{image_tag}",
                            "modelDataUrl": "s3://models/fraud/v21.tar.gz",
                        }
                    ],
                }
            ],
            "variants": [
                {
                    "name": "AllTraffic",
                    "model": "xgb",
                    "instanceType": "ml.m5.xlarge",
                    "initialInstanceCount": 2,
                }
            ],
            "deployment": {"blueGreen": {"trafficRouting": {"type": "AllAtOnce", "waitIntervalSeconds": 0}}},
        },
    }


SPEED = 2000
# A clock that all but stands still (speed must be positive), moved on by TICK_SECONDS between
# passes where the number of status writes must not depend on the machine's speed.
FROZEN = 0.001
TICK_SECONDS = 20.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(speed=SPEED, region=REGION) as emu:
        yield emu


@pytest.fixture
def custom(api_client: k8s.ApiClient, crd: object, namespace: str) -> Iterator[k8s.CustomObjectsApi]:
    """The test's objects, all removed afterwards (finalizers too: no loop runs any more), so that
    an operator process of a later test never inherits them."""
    api = k8s.CustomObjectsApi(api_client)
    yield api
    for item in api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]:
        name = item["metadata"]["name"]
        api.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"finalizers": None}}
        )
        try:
            api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except k8s.ApiException as error:
            if error.status != 404:
                raise
    assert api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"] == []


class FaultyKube:
    """The real :class:`KubeApi`, except for the status writes the test plans to refuse or lose."""

    def __init__(self, inner: KubeApi) -> None:
        self.inner = inner
        self.plan: dict[int, str] = {}  # index of the status write -> "refuse" | "lose"
        self.writes = 0
        self.fired: list[int] = []

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.inner.get(namespace, name)

    def list(self, namespaces: list[str]) -> list[dict[str, Any]]:
        return self.inner.list(namespaces)

    def patch(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return self.inner.patch(namespace, name, patch)

    def patch_status(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        index, self.writes = self.writes, self.writes + 1
        fault = self.plan.get(index)
        if fault is not None:
            self.fired.append(index)
        if fault == "refuse":
            raise KubeError("Forbidden", "status writes are denied by the test", 403)
        stored = self.inner.patch_status(namespace, name, patch)
        if fault == "lose":
            raise KubeError("Unavailable", "the response to a write that landed was lost")
        return stored

    def post_event(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.inner.post_event(body, type_, reason, message)


def make_controller(
    api_client: k8s.ApiClient,
    emulator: Emulator,
    *,
    kube: Any = None,
    reconcile: Any = reconciler.reconcile,
    **settings: Any,
) -> Controller:
    values: dict[str, Any] = {
        "default_region": REGION,
        "active_poll_seconds": 0.5,
        "settled_poll_seconds": 30,
        "poll_jitter": 0.1,
        "error_backoff_base_seconds": 0.1,
        "error_backoff_max_seconds": 0.5,
        "cluster_id": "e2e-loop",
    }
    values.update(settings)
    s = Settings(**values)
    metrics = Metrics()
    clients = ClientFactory(
        rate_per_second=1000,
        burst=100,
        max_attempts=2,
        endpoint_url=emulator.url,
        recorder=metrics.record_aws_call,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )
    return Controller(
        kube=kube or KubeApi(api_client),
        settings=s,
        deps=Deps(settings=s, clients=clients),
        metrics=metrics,
        reconcile=reconcile,
        finalize=reconciler.finalize,
    )


def step(controller: Controller, key: str) -> float | None:
    """One pass over ``key`` now, the way a worker runs it."""
    controller.queue.add(key)
    assert controller.queue.get(timeout=5) == key
    return controller.work_once(key)


def stored(custom: k8s.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    return body


def condition(body: Mapping[str, Any], kind: str) -> str | None:
    for c in (body.get("status") or {}).get("conditions") or []:
        if c["type"] == kind:
            return str(c["status"])
    return None


def ready(body: Mapping[str, Any]) -> bool:
    status = body.get("status") or {}
    return condition(body, "Ready") == "True" and status.get("observedGeneration") == (
        body.get("metadata") or {}
    ).get("generation")


def assert_valid_status(body: Mapping[str, Any]) -> None:
    """Stored status parses and round-trips: nothing partial, nothing a restarted operator drops."""
    status = dict(body.get("status") or {})
    dumped = GuardedEndpointStatus.model_validate(status).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    assert {k: v for k, v in dumped.items() if v != [] or k in status} == status


def mutations(emulator: Emulator, endpoint: str) -> list[str]:
    return [
        c["operation"]
        for c in emulator.admin.calls(endpoint=endpoint)
        if c["operation"] in MUTATING and not c["error_code"]
    ]


class Guard:
    """Wraps the pass: records whether each pass's memory was the status stored at that moment."""

    def __init__(self, custom: k8s.CustomObjectsApi, namespace: str, name: str) -> None:
        self.custom, self.namespace, self.name = custom, namespace, name
        self.unconfirmed: list[dict[str, Any]] = []
        self.passes = 0

    def __call__(self, resource: Resource, deps: Deps, now: datetime) -> Outcome:
        self.passes += 1
        status = dict(stored(self.custom, self.namespace, self.name).get("status") or {})
        if dict(resource.status) != status:
            self.unconfirmed.append({"memory": dict(resource.status), "stored": status})
        return reconciler.reconcile(resource, deps, now)


def run_until(
    controller: Controller,
    key: str,
    custom: k8s.CustomObjectsApi,
    done: Any,
    *,
    limit: int = 200,
    tick: Any = None,
) -> None:
    """Passes until ``done``; ``tick`` (if given) moves a frozen emulator clock on after each pass,
    so that what the passes see, and so the status writes they make, does not depend on how fast
    the machine is."""
    namespace, _, name = key.partition("/")
    for _ in range(limit):
        step(controller, key)
        if tick is not None:
            tick()
        body = stored(custom, namespace, name)
        assert_valid_status(body)
        if done(body):
            return
        time.sleep(0.05)
    pytest.fail(f"{key} never got there: {stored(custom, namespace, name).get('status')}")


# A create takes 3 status writes (intent, CreateEndpoint issued, InService) and an update 4.
STEPS = [(f, "create", i) for f in ("refuse", "lose") for i in range(3)] + [
    (f, "update", i) for f in ("refuse", "lose") for i in range(4)
]


@pytest.mark.parametrize("case", STEPS, ids=["-".join(map(str, c)) for c in STEPS])
def test_a_call_is_made_only_on_a_record_the_api_server_holds(
    api_client: k8s.ApiClient,
    custom: k8s.CustomObjectsApi,
    emulator: Emulator,
    namespace: str,
    case: tuple[str, str, int],
) -> None:
    """The ``index``-th status write of a create or an update is refused, or lands with its response
    lost; every pass still reasons from the stored status, and each call is made exactly once."""
    fault, phase, index = case
    name = f"wal-{fault}-{phase}-{index}"
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest(name))
    kube = FaultyKube(KubeApi(api_client))
    guard = Guard(custom, namespace, name)
    controller = make_controller(api_client, emulator, kube=kube, reconcile=guard)
    key = f"{namespace}/{name}"
    emulator.admin.configure(speed=FROZEN)  # SageMaker moves on only between two passes

    def tick() -> None:
        emulator.admin.advance(TICK_SECONDS)

    try:
        if phase == "create":
            kube.plan = {index: fault}
        run_until(controller, key, custom, ready, tick=tick)
        changed = custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"spec": manifest(name, "2.2")["spec"]}
        )
        controller.observe("MODIFIED", changed)  # what the watch hands over
        if phase == "update":
            kube.plan = {kube.writes + index: fault}
        run_until(controller, key, custom, ready, tick=tick)
    finally:
        emulator.admin.configure(speed=SPEED)

    assert kube.fired == list(kube.plan)  # the planned write did fail
    assert guard.unconfirmed == []
    assert mutations(emulator, name) == ["CreateEndpoint", "UpdateEndpoint"]
    failures = controller.metrics.registry.get_sample_value(
        f"{PREFIX}status_write_failures_total",
        {"reason": "Forbidden" if fault == "refuse" else "Unavailable"},
    )
    assert failures == 1  # counted, and retried


def test_an_exception_in_one_pass_is_logged_counted_and_retried_while_others_are_served(
    api_client: k8s.ApiClient,
    custom: k8s.CustomObjectsApi,
    emulator: Emulator,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = {"left": 3}

    def flaky(resource: Resource, deps: Deps, now: datetime) -> Outcome:
        if resource.name == "broken" and failing["left"] > 0:
            failing["left"] -= 1
            raise RuntimeError("injected into the pass")
        return reconciler.reconcile(resource, deps, now)

    controller = make_controller(api_client, emulator, reconcile=flaky)
    for name in ("broken", "healthy"):
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest(name))
    controller.start(workers=2)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(ready(stored(custom, namespace, n)) for n in ("broken", "healthy")):
                break
            time.sleep(0.2)
    finally:
        controller.stop()
    assert ready(stored(custom, namespace, "healthy"))
    assert ready(stored(custom, namespace, "broken"))  # retried after the exceptions, then served
    assert failing["left"] == 0
    raised = controller.metrics.registry.get_sample_value(
        f"{PREFIX}reconcile_exceptions_total", {"exception": "RuntimeError"}
    )
    assert raised == 3
    logged = [r for r in caplog.records if "unexpected error" in r.getMessage() and r.exc_info]
    assert len(logged) == 3
    assert all(f"{namespace}/broken" in r.getMessage() for r in logged)


def _probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_fails_while_the_loop_is_wedged_and_recovers(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    release = threading.Event()
    stuck = threading.Event()

    def wedging(resource: Resource, deps: Deps, now: datetime) -> Outcome:
        if resource.name == "wedge" and not release.is_set():
            stuck.set()
            release.wait(60)
        return reconciler.reconcile(resource, deps, now)

    controller = make_controller(
        api_client, emulator, reconcile=wedging, liveness_stall_factor=2, pass_timeout_seconds=120
    )
    server = serve_health(controller, 0)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("wedge"))
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("waiting"))
    try:
        controller.queue.add(f"{namespace}/wedge")
        controller.start(workers=1)  # one worker: the wedged pass holds the whole loop
        assert stuck.wait(30)
        controller.queue.add(f"{namespace}/waiting")
        deadline = time.monotonic() + 20
        code, body = _probe(server.port, "/healthz")
        while code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            code, body = _probe(server.port, "/healthz")
        assert code == 503, body
        assert "overdue" in body["message"]
        release.set()
        deadline = time.monotonic() + 20
        while code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            code, body = _probe(server.port, "/healthz")
        assert code == 200, body
        assert _probe(server.port, "/readyz")[0] == 200
    finally:
        release.set()
        controller.stop()
        server.stop()


def test_a_pass_that_runs_too_long_fails_healthz(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    release = threading.Event()

    def hanging(resource: Resource, deps: Deps, now: datetime) -> Outcome:
        release.wait(60)
        return reconciler.reconcile(resource, deps, now)

    controller = make_controller(api_client, emulator, reconcile=hanging, pass_timeout_seconds=1)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("hang"))
    controller.queue.add(f"{namespace}/hang")
    controller.start(workers=2)
    try:
        deadline = time.monotonic() + 20
        while controller.health().ok and time.monotonic() < deadline:
            time.sleep(0.2)
        verdict = controller.health()
        assert not verdict.ok
        assert f"{namespace}/hang" in verdict.message
    finally:
        release.set()
        controller.stop()
    assert controller.health().ok or "threads" not in controller.health().message


def test_annotations_of_the_kopf_handlers_are_removed_and_the_finalizer_added(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    body = manifest("legacy")
    body["metadata"]["annotations"] = {
        f"{GROUP}/last-handled-configuration": json.dumps({"spec": body["spec"]}),
        f"{GROUP}/on-create": "{}",
        f"{GROUP}/retry": "7",
        "team": "fraud",
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    controller = make_controller(api_client, emulator)
    step(controller, f"{namespace}/legacy")
    meta = stored(custom, namespace, "legacy")["metadata"]
    assert meta["annotations"] == {f"{GROUP}/retry": "7", "team": "fraud"}
    assert FINALIZER in meta["finalizers"]


def test_delete_holds_the_finalizer_until_the_endpoint_is_gone(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("doomed"))
    controller = make_controller(api_client, emulator)
    key = f"{namespace}/doomed"
    run_until(controller, key, custom, ready)
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "doomed")
    controller.observe("MODIFIED", stored(custom, namespace, "doomed"))  # what the watch hands over
    emulator.admin.configure(speed=50)  # DeleteEndpoint lasts a while
    rounds = 0
    try:
        while True:
            delay = step(controller, key)
            if delay is None:
                break
            rounds += 1
            assert rounds < 400
            assert FINALIZER in stored(custom, namespace, "doomed")["metadata"]["finalizers"]
            time.sleep(0.05)
    finally:
        emulator.admin.configure(speed=2000)
    assert rounds >= 1  # the finalizer stayed while SageMaker deleted
    with pytest.raises(k8s.ApiException) as gone:
        stored(custom, namespace, "doomed")
    assert gone.value.status == 404
    assert "DeleteEndpoint" in mutations(emulator, "doomed")
    assert "doomed" not in str(emulator.client("sagemaker", region=REGION).list_endpoints())
    assert key not in controller.queue


def test_throttling_slows_a_resource_down_but_never_stalls_it(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("throttled"))
    controller = make_controller(api_client, emulator)
    key = f"{namespace}/throttled"
    emulator.admin.throttle("*", rate=0, burst=0)
    try:
        for _ in range(3):
            delay = step(controller, key)
            assert delay is not None and 0 < delay <= 0.5
            body = stored(custom, namespace, "throttled")
            assert condition(body, "Stalled") != "True"
            assert condition(body, "Ready") != "True"
    finally:
        emulator.admin.clear_throttle()
    run_until(controller, key, custom, ready)


def test_a_status_changed_by_someone_else_is_read_again_not_overwritten(
    api_client: k8s.ApiClient, custom: k8s.CustomObjectsApi, emulator: Emulator, namespace: str
) -> None:
    """A write computed from an older object is refused (resourceVersion) and the pass redone."""
    passes = {"n": 0}

    def noting(resource: Resource, deps: Deps, now: datetime) -> Outcome:
        outcome = reconciler.reconcile(resource, deps, now)
        passes["n"] += 1
        for c in outcome.status.get("conditions") or []:
            c["message"] = f"{c.get('message', '')} (pass {passes['n']})"  # every pass writes
        return outcome

    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest("shared"))
    controller = make_controller(api_client, emulator, reconcile=noting)
    key = f"{namespace}/shared"
    run_until(controller, key, custom, ready)
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "shared", {"status": {"observedGeneration": 0}}
    )
    # No watch runs here, so the cache still holds the older object: its write is refused.
    step(controller, key)
    conflicts = controller.metrics.registry.get_sample_value(
        f"{PREFIX}status_write_failures_total", {"reason": "Conflict"}
    )
    assert conflicts == 1
    assert stored(custom, namespace, "shared")["status"]["observedGeneration"] == 0
    step(controller, key)  # read again, reconciled from what is stored
    assert stored(custom, namespace, "shared")["status"]["observedGeneration"] == 1


logging.getLogger("sagemaker_guardrails").setLevel(logging.INFO)
