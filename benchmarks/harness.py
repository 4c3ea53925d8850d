"""What every benchmark stands on: the real stack as processes, and GuardedEndpoints to put on it.

The stack is the one the e2e tier and the demo use, built from the same :mod:`sagemaker_guardrails.devenv`
pieces: a real etcd + kube-apiserver (:class:`~sagemaker_guardrails.devenv.controlplane.ControlPlane`)
with the generated CRD, ``sagemaker-guardrails emulator`` and ``sagemaker-guardrails run`` as separate
processes. The operator talks to the emulator only over the AWS wire protocol and to the API server only
through a kubeconfig, so what is measured is the shipped operator, not a harness around it. It runs
with the admin kubeconfig: RBAC is the e2e tier's business, not a benchmark's.

Times are compared across processes with ``time.time()`` (one machine, one clock): the emulator stamps
every endpoint transition with the wall time at which it became visible through the API, and
:class:`benchmarks.watch.StatusWatch` stamps every version of a resource with the time it arrived.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from benchmarks.watch import NAMESPACE, is_ready
from sagemaker_guardrails.api import GROUP, PLURAL, VERSION
from sagemaker_guardrails.devenv.controlplane import (
    AssetsNotFoundError,
    Cluster,
    ControlPlane,
    find_assets,
    repo_root,
)
from sagemaker_guardrails.devenv.kube import Kubectl, KubectlError
from sagemaker_guardrails.devenv.processes import ProcessError, log_tail
from sagemaker_guardrails.devenv.stack import REGION, EmulatorProcess, OperatorProcess
from sagemaker_guardrails.emulator.client import AdminClient, AdminError

REPO = repo_root() or Path(__file__).resolve().parents[1]
CRD_FILE = REPO / "crds" / "sagemaker-guardrails.dev_guardedendpoints.yaml"
EXAMPLE = REPO / "examples" / "canary.yaml"


class MeasurementError(RuntimeError):
    """The benchmark could not measure what it set out to (not: the target was missed)."""


# --- the stack ----------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Control plane + CRD + emulator + operator, each a real process; a context manager.

    ``operator_settings`` become ``SAGEMAKER_GUARDRAILS_<NAME>`` variables, ``emulator_settings``
    become ``sagemaker-guardrails emulator --<name>`` flags.
    """

    operator_settings: Mapping[str, str]
    emulator_settings: Mapping[str, str] = field(default_factory=dict)
    emulator_speed: float = 1.0
    alarms: Sequence[str] = ()
    keep: bool = False
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="sagemaker-guardrails-bench-"))
    )

    def __post_init__(self) -> None:
        self._exit = contextlib.ExitStack()
        self.cluster: Cluster | None = None
        self.emulator: EmulatorProcess | None = None
        self.operator: OperatorProcess | None = None
        self.kubectl: Kubectl | None = None
        self._api: Any = None

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self._report_logs()
            self._exit.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self._report_logs()
        self._exit.close()
        if self.keep or exc is not None:
            print(f"logs kept in {self.workdir / 'logs'}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _start(self) -> None:
        began = time.monotonic()
        plane = ControlPlane(assets=find_assets(build=True), workdir=self.workdir / "control-plane")
        plane.keep = False
        self.cluster = self._exit.enter_context(plane)
        self.kubectl = Kubectl(self.cluster.kubeconfig)
        self.kubectl.install_crd(CRD_FILE)
        self.kubectl.ensure_namespace(NAMESPACE)
        self.emulator = EmulatorProcess(
            self.workdir, speed=self.emulator_speed, settings=self.emulator_settings
        )
        self.emulator.start()
        self._exit.callback(self.emulator.stop)
        if self.alarms:
            self.create_alarms(self.alarms)
        self.operator = OperatorProcess(
            self.workdir, self.cluster.kubeconfig, self.emulator.aws_environment(), self.operator_settings
        )
        self.operator.start()
        self._exit.callback(self.operator.stop)
        print(f"stack up in {time.monotonic() - began:.1f}s (workdir {self.workdir})", flush=True)

    def _report_logs(self) -> None:
        for name in ("operator", f"emulator-{self.emulator.port}" if self.emulator else "emulator"):
            path = self.workdir / "logs" / f"{name}.log"
            if path.is_file():
                print(f"--- last lines of {path} ---\n{log_tail(path, 20)}", file=sys.stderr)

    # --- handles ----------------------------------------------------------------------------------------
    @property
    def admin(self) -> AdminClient:
        assert self.emulator is not None
        return self.emulator.admin()

    @property
    def operator_pid(self) -> int:
        assert self.operator is not None
        self.operator.process.ensure_alive()
        return self.operator.process.pid

    @property
    def custom_objects(self) -> Any:
        if self._api is None:
            from kubernetes import client as k8s
            from kubernetes import config

            assert self.cluster is not None
            kube_config: Any = config
            api_client = kube_config.new_client_from_config(config_file=str(self.cluster.kubeconfig))
            self._api = k8s.CustomObjectsApi(api_client)
        return self._api

    def boto3_client(self, service: str) -> Any:
        import boto3

        assert self.emulator is not None
        session: Any = boto3.session.Session()
        return session.client(
            service,
            region_name=REGION,
            endpoint_url=self.emulator.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_alarms(self, names: Iterable[str]) -> None:
        """Rollback alarms in the emulator's CloudWatch (INSUFFICIENT_DATA: they never trip)."""
        cloudwatch = self.boto3_client("cloudwatch")
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

    # --- GuardedEndpoints -------------------------------------------------------------------------------
    def create(self, manifests: Sequence[Mapping[str, Any]], timeout: float = 600.0) -> None:
        """``kubectl create`` of all manifests in one call (one POST each, as a user or Argo CD would)."""
        assert self.kubectl is not None
        text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(manifests)})
        self.kubectl.run("create", "-f", "-", input=text, timeout=timeout)

    def patch(self, name: str, patch: Mapping[str, Any]) -> None:
        assert self.kubectl is not None
        self.kubectl.run("patch", "gep", name, "-n", NAMESPACE, "--type=merge", "-p", json.dumps(patch))

    def list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.custom_objects.list_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL
        )["items"]
        return items

    def wait_ready(
        self, names: Iterable[str], timeout: float, generation: int | None = None, interval: float = 1.0
    ) -> float:
        """Waits until every named resource is Ready at its (or the given) generation; returns the
        wall time at which the last one was seen Ready."""
        waiting = set(names)
        deadline = time.monotonic() + timeout
        while waiting:
            self.check_alive()
            for obj in self.list():
                if obj["metadata"]["name"] in waiting and is_ready(obj, generation):
                    waiting.discard(obj["metadata"]["name"])
            if not waiting:
                break
            if time.monotonic() > deadline:
                sample = ", ".join(sorted(waiting)[:5])
                raise MeasurementError(
                    f"{len(waiting)} resource(s) not Ready after {timeout:g}s: {sample} ..."
                )
            time.sleep(interval)
        return time.time()

    def check_alive(self) -> None:
        for process in (self.operator, self.emulator):
            if process is not None:
                process.process.ensure_alive()


# --- manifests ------------------------------------------------------------------------------------------


def example_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return manifest


def canary_manifest(name: str, *, bake_seconds: int | None = None) -> dict[str, Any]:
    """examples/canary.yaml as ``name`` in the benchmark namespace (endpoint named after it); with
    ``bake_seconds``, both bakes (canary and final) last that long."""
    manifest = copy.deepcopy(example_manifest())
    manifest["metadata"] = {"name": name, "namespace": NAMESPACE}
    spec = manifest["spec"]
    spec["endpointName"] = name
    if bake_seconds is not None:
        blue_green = spec["deployment"]["blueGreen"]
        blue_green["trafficRouting"]["waitIntervalSeconds"] = bake_seconds
        blue_green["terminationWaitSeconds"] = bake_seconds
    return manifest


def example_alarms() -> list[str]:
    alarms: list[str] = example_manifest()["spec"]["deployment"]["autoRollback"]["alarms"]
    return alarms


def new_model_version(manifest: Mapping[str, Any], version: str) -> dict[str, Any]:
    """A merge patch that points the first model at a new artifact: a new revision to deploy."""
    models = copy.deepcopy(list(manifest["spec"]["models"]))
    container = models[0]["containers"][0]
    container["modelDataUrl"] = container["modelDataUrl"].replace(".tar.gz", f"-{version}.tar.gz")
    return {"spec": {"models": models}}


def run_benchmark(main: Callable[[], int]) -> int:
    """Runs ``main``; anything that stops the measurement becomes a message and exit status 1."""
    try:
        return main()
    except (
        MeasurementError,
        ProcessError,
        TimeoutError,
        KubectlError,
        AssetsNotFoundError,
        AdminError,
        OSError,
    ) as error:
        print(f"could not measure: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
