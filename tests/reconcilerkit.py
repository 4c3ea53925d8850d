"""A stand-in for kopf around the real reconciler, for the component tests.

``World`` wires :func:`sagemaker_guardrails.reconciler.reconcile` to the in-process emulator through
the real boto3 adapters (``aws.clients.ClientFactory``). ``Gep`` plays the part of the API server
and kopf for one GuardedEndpoint: it keeps spec, annotations, generation and the status the last
pass returned (JSON round-tripped, as the API server would store it), collects Events and metric
transitions, and runs passes until a condition holds.

``Crash`` simulates the operator process dying: it is a ``BaseException`` so the reconciler, which
turns every ``Exception`` into status, cannot catch it, and the status of that pass is never written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
from tests import corekit

from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.aws.ports import AwsClients, SageMakerPort
from sagemaker_guardrails.reconciler import (
    Deps,
    EventRecord,
    Outcome,
    Resource,
    Transition,
    finalize,
    reconcile,
)
from sagemaker_guardrails.settings import Settings

# Simulated seconds; at the conftest's speed a canary update takes about a second of real time.
FAST_TIMINGS = {
    "provisioning_base_seconds": 20,
    "provisioning_seconds_per_instance": 5,
    "activation_seconds": 5,
    "termination_seconds": 5,
    "rollback_seconds": 5,
    "deletion_seconds": 5,
    "alarm_poll_seconds": 5,
}
ENDPOINT = "fraud-detector"
ALARM = "fraud-5xx"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:{}"
# A bake of 6 s of real time at the component emulator's speed: long enough that a pass on a loaded
# machine sees it; tests skip the rest of a deployment with the emulator clock (admin.advance).
HELD_BAKE = 600
MUTATING = (
    "CreateModel",
    "CreateEndpointConfig",
    "CreateEndpoint",
    "UpdateEndpoint",
    "DeleteEndpoint",
    "DeleteEndpointConfig",
    "DeleteModel",
    "AddTags",
    "DeleteTags",
)


class Crash(BaseException):
    """The operator process dies here."""


class CrashingPort:
    """A SageMaker port that lets ``operation`` through to SageMaker, then dies before returning."""

    def __init__(self, port: SageMakerPort, operation: str) -> None:
        self._port = port
        self._operation = operation

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._port, name)
        if name != self._operation:
            return attr

        def crash(*args: Any, **kwargs: Any) -> Any:
            attr(*args, **kwargs)
            raise Crash(f"operator died right after {name}")

        return crash


class World:
    """The emulator, the real adapters and operator settings tuned for tests."""

    def __init__(
        self,
        emulator: Any,
        *,
        cluster: str = "test-cluster",
        attempts: int = 2,
        endpoint_url: str | None = None,
    ) -> None:
        self.emulator = emulator
        self.admin = emulator.admin
        self.admin.configure(**FAST_TIMINGS)
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.factory = ClientFactory(
            rate_per_second=1000,
            burst=1000,
            max_attempts=attempts,
            endpoint_url=endpoint_url or emulator.url,
            session=self.session,
        )
        self.crash_after: str | None = None
        settings = Settings(
            cluster_id=cluster,
            default_region="us-east-1",
            active_poll_seconds=0.05,
            settled_poll_seconds=0.5,
            poll_jitter=0.0,
        )
        self.deps = Deps(settings=settings, clients=self._clients)
        self.sagemaker = emulator.client("sagemaker")
        self.cloudwatch = emulator.client("cloudwatch")

    def _clients(self, region: str) -> AwsClients:
        clients = self.factory(region)
        if self.crash_after is None:
            return clients
        return AwsClients(region, CrashingPort(clients.sagemaker, self.crash_after), clients.cloudwatch)

    @contextmanager
    def crashing_after(self, operation: str) -> Iterator[None]:
        self.crash_after = operation
        try:
            yield
        finally:
            self.crash_after = None

    def resource(
        self, spec: dict[str, Any] | None = None, *, name: str = "fraud", namespace: str = "ml"
    ) -> Gep:
        return Gep(self, namespace, name, spec if spec is not None else corekit.spec())

    def alarm(self, name: str = ALARM) -> None:
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="Invocation5XXErrors",
            Namespace="AWS/SageMaker",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0.01,
            ComparisonOperator="GreaterThanThreshold",
        )

    def calls(
        self, operation: str | None = None, *, ok: bool = True, endpoint: str | None = None
    ) -> list[dict[str, Any]]:
        """SageMaker calls the operator made (successful ones unless ``ok`` is False), optionally only
        those about ``endpoint`` (by name, or by ARN for ListTags/AddTags/DeleteTags)."""
        calls = self.admin.calls(operation=operation, service="sagemaker", endpoint=endpoint)
        return [c for c in calls if not ok or c["http_status"] == 200]

    def mutations(self) -> list[str]:
        return [c["operation"] for c in self.calls(ok=False) if c["operation"] in MUTATING]

    def describe(self, endpoint: str = ENDPOINT) -> dict[str, Any]:
        return dict(self.sagemaker.describe_endpoint(EndpointName=endpoint))

    def tags(self, arn: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.sagemaker.list_tags(ResourceArn=arn)["Tags"]}

    def config_names(self, prefix: str = ENDPOINT) -> set[str]:
        found = self.sagemaker.list_endpoint_configs(NameContains=prefix, MaxResults=100)["EndpointConfigs"]
        return {c["EndpointConfigName"] for c in found}

    def model_names(self, prefix: str = ENDPOINT) -> set[str]:
        return {
            m["ModelName"] for m in self.sagemaker.list_models(NameContains=prefix, MaxResults=100)["Models"]
        }

    def deploying(self, endpoint: str = ENDPOINT) -> bool:
        return self.describe(endpoint)["EndpointStatus"] in ("Creating", "Updating", "RollingBack")

    def wait_settled(self, endpoint: str = ENDPOINT, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self.deploying(endpoint):
            assert time.monotonic() < deadline, "SageMaker did not settle"
            time.sleep(0.02)
        return self.describe(endpoint)


class Gep:
    """One GuardedEndpoint as the API server and kopf would hold it."""

    def __init__(self, world: World, namespace: str, name: str, spec: dict[str, Any]) -> None:
        self.world = world
        self.namespace, self.name = namespace, name
        self.spec = spec
        self.status: dict[str, Any] = {}
        self.annotations: dict[str, str] = {}
        self.generation = 1
        self.events: list[EventRecord] = []
        self.transitions: list[Transition] = []
        self.history: list[dict[str, Any]] = []
        self.outcomes: list[Outcome] = []

    def apply(self, spec: dict[str, Any]) -> None:
        if spec != self.spec:
            self.generation += 1
        self.spec = spec

    def annotate(self, key: str, value: str) -> None:
        self.annotations = {**self.annotations, key: value}

    def resource(self, *, deleting: bool = False) -> Resource:
        return Resource(
            namespace=self.namespace,
            name=self.name,
            uid=f"uid-{self.namespace}-{self.name}",
            generation=self.generation,
            spec=self.spec,
            status=self.status,
            annotations=self.annotations,
            deleting=deleting,
        )

    def _record(self, outcome: Outcome) -> Outcome:
        self.status = json.loads(json.dumps(outcome.status))
        self.events.extend(outcome.events)
        self.transitions.extend(outcome.transitions)
        self.history.append(self.status)
        self.outcomes.append(outcome)
        return outcome

    def step(self) -> Outcome:
        return self._record(reconcile(self.resource(), self.world.deps, datetime.now(UTC)))

    def finalize(self) -> Outcome:
        return self._record(finalize(self.resource(deleting=True), self.world.deps, datetime.now(UTC)))

    def until(
        self, done: Callable[[Outcome], bool], *, timeout: float = 30.0, deleting: bool = False
    ) -> Outcome:
        deadline = time.monotonic() + timeout
        while True:
            outcome = self.finalize() if deleting else self.step()
            if done(outcome):
                return outcome
            assert time.monotonic() < deadline, f"gave up; last status: {json.dumps(self.status, indent=1)}"
            time.sleep(min(outcome.requeue_after or 0.05, 0.05))

    def settle(self, timeout: float = 30.0) -> Outcome:
        """Passes until the resource is Ready or Stalled."""
        return self.until(lambda o: o.result in ("ok", "stalled"), timeout=timeout)

    def condition(self, kind: str) -> tuple[str, str]:
        found = next(c for c in self.status.get("conditions", []) if c["type"] == kind)
        return found["status"], found["reason"]

    def message(self, kind: str) -> str:
        return str(next(c for c in self.status["conditions"] if c["type"] == kind)["message"])

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]
