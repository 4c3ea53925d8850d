"""What every benchmark needs: the real stack as processes, GuardedEndpoints, a status watch, /proc.

The stack is the one the e2e tier and the demo use, built from the same :mod:`sagemaker_guardrails.devenv`
pieces: a real etcd + kube-apiserver (:class:`~sagemaker_guardrails.devenv.controlplane.ControlPlane`)
with the generated CRD, ``sagemaker-guardrails emulator`` and ``sagemaker-guardrails run`` as separate
processes. The operator talks to the emulator only over the AWS wire protocol and to the API server only
through a kubeconfig, so what is measured is the shipped operator, not a harness around it. It runs
with the admin kubeconfig: RBAC is the e2e tier's business, not a benchmark's.

Times are compared across processes with ``time.time()`` (one machine, one clock): the emulator stamps
every endpoint transition with the wall time at which it became visible through the API, and the
:class:`StatusWatch` stamps every version of a resource with the wall time it arrived on a watch.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

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

GROUP, VERSION, PLURAL = "sagemaker-guardrails.dev", "v1alpha1", "guardedendpoints"
NAMESPACE = "bench"
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


# --- status -----------------------------------------------------------------------------------------------


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            found: Mapping[str, Any] = item
            return found
    return None


def is_ready(obj: Mapping[str, Any], generation: int | None = None) -> bool:
    wanted = generation if generation is not None else obj["metadata"]["generation"]
    ready = condition(obj, "Ready")
    return bool(
        (obj.get("status") or {}).get("observedGeneration") == wanted
        and ready is not None
        and ready.get("status") == "True"
        and ready.get("observedGeneration") == wanted
    )


@dataclass(frozen=True)
class Seen:
    """One version of one resource as it arrived on the watch."""

    at: float
    name: str
    status: Mapping[str, Any]


class StatusWatch:
    """Watches every GuardedEndpoint of the benchmark namespace in a thread, stamping each version
    with the wall time it arrived (resumes from the last resourceVersion; relists after a 410)."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._thread = threading.Thread(target=self._run, name="status-watch", daemon=True)

    def __enter__(self) -> StatusWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def seen(self, name: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self._seen if name is None or s.name == name]

    def _run(self) -> None:
        from kubernetes import client as k8s
        from kubernetes import watch as watch_module

        watch: Any = watch_module
        api = self._stack.custom_objects
        version: str | None = None
        while not self._stop.is_set():
            try:
                stream = watch.Watch().stream(
                    api.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    PLURAL,
                    resource_version=version,
                    timeout_seconds=5,
                )
                for event in stream:
                    arrived = time.time()
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        version = None
                        break
                    version = obj["metadata"]["resourceVersion"]
                    seen = Seen(arrived, obj["metadata"]["name"], copy.deepcopy(obj.get("status") or {}))
                    with self._lock:
                        self._seen.append(seen)
                    if self._stop.is_set():
                        break
            except (k8s.ApiException, OSError, ValueError):
                version = None
                time.sleep(0.2)


# --- the operator process, from /proc -----------------------------------------------------------------


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS), VmSize of ``pid`` in kB, from /proc/<pid>/status."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "VmSize", "Threads"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Samples the RSS of a process every ``interval`` seconds in a thread (max and timeline)."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.samples.append((time.time(), proc_memory(self.pid)["VmRSS"]))
            self._stop.wait(self.interval)


# --- figures ----------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mib(kib: int) -> float:
    return kib / 1024


def write_json(path: Path | None, data: Mapping[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        print(f"results written to {path}")


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep-logs", action="store_true", help="print where the process logs are kept")


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


@contextlib.contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    began = time.monotonic()
    yield lambda: time.monotonic() - began
