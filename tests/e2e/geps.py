"""A test driver for GuardedEndpoints in one namespace: manifests from the examples made safe to
run side by side, kubectl to change them, the kubernetes client to watch every status the operator
writes, and the emulator's admin API to see what SageMaker was asked to do."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import yaml
from kubernetes import client as k8s
from kubernetes import watch
from tests.e2e.e2e_support import load_example, wait_for

from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.stack import EmulatorProcess

GROUP, VERSION, PLURAL = "sagemaker-guardrails.dev", "v1alpha1", "guardedendpoints"
RETRY_ANNOTATION = "sagemaker-guardrails.dev/retry"
# Simulated seconds of every bake in the tests: the emulator runs at 60x, so 2 s of real time,
# longer than the operator's 1 s active poll. A test that must see a bake, or act in one, asks for
# HELD_BAKE_SECONDS (10 s of real time) and ends each bake with ``finish_bake`` once it has seen it.
BAKE_SECONDS = 120
HELD_BAKE_SECONDS = 600


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            found: dict[str, Any] = item
            return found
    return None


def is_ready(obj: dict[str, Any], generation: int | None = None) -> bool:
    status = obj.get("status") or {}
    wanted = generation if generation is not None else obj["metadata"]["generation"]
    ready = condition(obj, "Ready")
    return bool(
        status.get("observedGeneration") == wanted
        and ready is not None
        and ready.get("status") == "True"
        and ready.get("observedGeneration") == wanted
    )


@dataclass
class Recorder:
    """Every version of one GuardedEndpoint seen on a watch, in order."""

    versions: list[dict[str, Any]] = field(default_factory=list)

    def statuses(self) -> list[dict[str, Any]]:
        return [v.get("status") or {} for v in self.versions]

    def deployments(self) -> list[dict[str, Any]]:
        return [s["deployment"] for s in self.statuses() if s.get("deployment")]


class Geps:
    """GuardedEndpoints of one test namespace, backed by one emulator."""

    def __init__(
        self, kubectl: Kubectl, api: k8s.ApiClient, namespace: str, emulator: EmulatorProcess
    ) -> None:
        self.kubectl = kubectl
        self.api = k8s.CustomObjectsApi(api)
        self.namespace = namespace
        self.emulator = emulator
        self.admin = emulator.admin()

    # --- manifests ------------------------------------------------------------------------------
    def manifest(self, example: str, bake_seconds: int = BAKE_SECONDS) -> dict[str, Any]:
        """The example in this namespace, with a unique endpoint name, short bakes and its own
        alarms (created in the emulator's CloudWatch, state INSUFFICIENT_DATA)."""
        manifest = load_example(example)
        manifest["metadata"]["namespace"] = self.namespace
        spec = manifest["spec"]
        spec["endpointName"] = f"{manifest['metadata']['name']}-{secrets.token_hex(3)}"
        deployment = spec.get("deployment") or {}
        if "blueGreen" in deployment:
            blue_green = deployment["blueGreen"]
            routing = blue_green["trafficRouting"]
            if routing["type"] != "AllAtOnce":
                routing["waitIntervalSeconds"] = bake_seconds
            blue_green["terminationWaitSeconds"] = bake_seconds
        if "rolling" in deployment:
            deployment["rolling"]["waitIntervalSeconds"] = bake_seconds
        alarms = (deployment.get("autoRollback") or {}).get("alarms") or []
        if alarms:
            deployment["autoRollback"]["alarms"] = [f"{spec['endpointName']}-{a}"[:255] for a in alarms]
            self.create_alarms(spec.get("region") or "us-east-1", deployment["autoRollback"]["alarms"])
        return manifest

    def create_alarms(self, region: str, names: list[str]) -> None:
        cloudwatch = boto3.client("cloudwatch", region_name=region, **self._boto_args())
        for name in names:
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/SageMaker",
                MetricName="Invocation5XXErrors",
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=0.01,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
            )

    def sagemaker(self, region: str = "us-east-1") -> Any:
        return boto3.client("sagemaker", region_name=region, **self._boto_args())

    def _boto_args(self) -> dict[str, str]:
        return {
            "endpoint_url": self.emulator.url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }

    @staticmethod
    def new_model_version(manifest: dict[str, Any], version: str) -> dict[str, Any]:
        """A merge patch that changes the first model's artifact: a new revision."""
        models = [dict(m) for m in manifest["spec"]["models"]]
        containers = [dict(c) for c in models[0]["containers"]]
        containers[0]["modelDataUrl"] = f"{containers[0]['modelDataUrl'].rstrip('/')}-{version}"
        models[0]["containers"] = containers
        return {"spec": {"models": models}}

    # --- kubectl ------------------------------------------------------------------------------------
    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        out = self.kubectl.run("create", "-o", "yaml", "-f", "-", input=yaml.safe_dump(manifest)).stdout
        created: dict[str, Any] = yaml.safe_load(out)
        return created

    def patch(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        args = ("patch", "gep", name, "-n", self.namespace, "--type=merge", "-p", yaml.safe_dump(patch))
        patched: dict[str, Any] = yaml.safe_load(self.kubectl.run(*args, "-o", "yaml").stdout)
        return patched

    def annotate(self, name: str, key: str, value: str) -> None:
        self.kubectl.run("annotate", "gep", name, "-n", self.namespace, "--overwrite", f"{key}={value}")

    def delete(self, name: str) -> None:
        self.kubectl.run("delete", "gep", name, "-n", self.namespace, "--wait=false")

    def events(self, name: str) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={name},involvedObject.kind=GuardedEndpoint"
        items: list[dict[str, Any]] = self.kubectl.json(
            "get", "events", "-n", self.namespace, "--field-selector", selector
        )["items"]
        return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    def reasons(self, name: str) -> list[tuple[str, str]]:
        return [(e["type"], e["reason"]) for e in self.events(name)]

    # --- reading and waiting ---------------------------------------------------------------------
    def get(self, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name
            )
        except k8s.ApiException as error:
            if error.status == 404:
                return None
            raise
        return obj

    def wait(
        self, name: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 90.0
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            obj = self.get(name)
            return obj if obj is not None and check(obj) else None

        return wait_for(probe, timeout, f"{self.namespace}/{name}: {what}", interval=0.25)

    def wait_ready(self, name: str, generation: int | None = None, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait(
            name, lambda o: is_ready(o, generation), f"Ready at generation {generation}", timeout
        )

    def wait_gone(self, name: str, timeout: float = 60.0) -> None:
        wait_for(lambda: self.get(name) is None, timeout, f"{self.namespace}/{name} to be deleted")

    @contextmanager
    def recording(self, name: str) -> Iterator[Recorder]:
        """Watches ``name`` in a thread for the duration of the block."""
        recorder, stop = Recorder(), threading.Event()

        def run() -> None:
            version = None
            while not stop.is_set():
                try:
                    version = self._watch_once(name, version, recorder, stop)
                except (k8s.ApiException, OSError, ValueError):
                    version = None

        thread = threading.Thread(target=run, name=f"watch-{name}", daemon=True)
        thread.start()
        try:
            yield recorder
        finally:
            stop.set()
            thread.join(timeout=10)

    def _watch_once(
        self, name: str, version: str | None, recorder: Recorder, stop: threading.Event
    ) -> str | None:
        stream = watch.Watch().stream(
            self.api.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            field_selector=f"metadata.name={name}",
            resource_version=version,
            timeout_seconds=1,
        )
        for event in stream:
            obj = event["object"]
            if event["type"] == "ERROR":
                return None
            version = obj["metadata"]["resourceVersion"]
            recorder.versions.append(obj)
            if stop.is_set():
                break
        return version

    # --- emulator ------------------------------------------------------------------------------------
    def bakes(self, endpoint: str) -> list[dict[str, Any]]:
        """The bakes SageMaker has started on the endpoint so far (timeline events, oldest first)."""
        return [e for e in self.admin.timeline(endpoint) if e["event"] == "phase" and e["name"] == "Baking"]

    def finish_bake(self, endpoint: str, number: int) -> bool:
        """Ends the ``number``-th bake of the endpoint's deployments at once (``admin.advance``) if
        SageMaker is still in that bake; False if it is not (or no longer) running."""
        engine = next((r for r in self.admin.endpoints() if r["name"] == endpoint), {})
        bakes = self.bakes(endpoint)
        if engine.get("phase") != "Baking" or len(bakes) < number:
            return False
        if abs(bakes[number - 1]["sim_time"] - engine["phase_started"]) > 0.001:
            return False
        self.admin.advance(max(0.0, engine["phase_ends"] - self.admin.clock()["sim_time"]) + 1)
        return True

    def calls(self, endpoint: str, operation: str | None = None) -> list[dict[str, Any]]:
        return self.admin.calls(endpoint=endpoint, operation=operation)

    def mutations(self, endpoint: str) -> list[str]:
        """The successful mutating SageMaker calls on ``endpoint``, in order."""
        mutating = {"CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"}
        return [
            c["operation"]
            for c in self.admin.calls(endpoint=endpoint)
            if c["operation"] in mutating and not c["error_code"]
        ]
