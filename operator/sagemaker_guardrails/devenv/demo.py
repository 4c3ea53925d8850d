"""``sagemaker-guardrails demo`` (``make demo``): the whole product on one laptop in about a minute.

It starts a real kube-apiserver + etcd, the SageMaker + CloudWatch emulator with an accelerated
clock, and the operator as a process, then does what a user does with ``kubectl``: applies
``examples/canary.yaml``, rolls out a new model version (canary, bakes, full shift, old fleet
terminated), then a bad version whose CloudWatch alarm fires during the canary bake, so SageMaker
rolls it back and the operator reports the rollback and does not try that revision again. Progress
is read from the resource's status and Events only, as any user would see it. Everything stops at the
end, or stays up with ``--keep`` for kubectl and boto3 to poke at.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import boto3
import yaml
from kubernetes import client as k8s
from kubernetes import config as kube_config

from sagemaker_guardrails.api.crd import render_crd
from sagemaker_guardrails.devenv.controlplane import ControlPlane, add_kept_processes, find_assets, repo_root
from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.live import Frame, Screen, Watcher
from sagemaker_guardrails.devenv.processes import log_tail, stop_children_on_termination
from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess
from sagemaker_guardrails.emulator.client import AdminClient

NAMESPACE, NAME = "ml-prod", "fraud-detector"
GROUP, VERSION, PLURAL = "sagemaker-guardrails.dev", "v1alpha1", "guardedendpoints"
MODEL_URL = "/spec/models/0/containers/0/modelDataUrl"
OPERATOR_SETTINGS = {"active_poll_seconds": "1", "settled_poll_seconds": "5", "cluster_id": "demo"}


class DemoError(RuntimeError):
    pass


def _examples() -> Path:
    root = repo_root()
    if root is None or not (root / "examples" / "canary.yaml").is_file():
        raise DemoError("the demo runs from a source checkout (it applies examples/canary.yaml)")
    return root / "examples"


class Demo:
    def __init__(self, workdir: Path, speed: float, out: Screen) -> None:
        self.workdir = workdir
        self.speed = speed
        self.screen = out
        self.started = time.monotonic()

    # --- output -------------------------------------------------------------------------------------
    def step(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.screen.say(
            self.screen.color(f"==> {text}", "1") + self.screen.color(f"  [{elapsed:4.0f}s]", "2")
        )

    def shell(self, kubectl: Kubectl, *args: str) -> str:
        self.screen.say(self.screen.color(f"$ kubectl {shlex.join(args)}", "32"))
        out = kubectl.run(*args).stdout.rstrip()
        if out:
            self.screen.say(out)
        return out

    # --- the story -----------------------------------------------------------------------------------
    def run(self, keep: bool) -> int:
        examples = _examples()
        plane = ControlPlane(
            assets=find_assets(build=True), workdir=self.workdir / "control-plane", keep=keep
        )
        started: list[EmulatorProcess | OperatorProcess] = []
        kept = False
        try:
            kubectl, emulator, operator = self._start(plane, started)
            self._story(kubectl, emulator, examples)
            if keep:
                add_kept_processes(plane.workdir, [operator.process, emulator.process])
                self._print_keep(plane.workdir, kubectl, emulator)
                kept = True
        except BaseException:
            log = self.workdir / "logs" / "operator.log"
            if log.is_file():
                with contextlib.suppress(OSError):  # the terminal may be gone (closed pipe)
                    self.screen.say(f"\noperator log (last lines):\n{log_tail(log, 20)}")
            raise
        finally:
            if not kept:
                with contextlib.suppress(OSError):
                    self.step("Stopping the operator, the emulator and the control plane")
                for process in reversed(started):
                    process.stop()
                plane.keep = False
                plane.stop()
        self.step(f"Done in {time.monotonic() - self.started:.0f}s")
        return 0

    def _start(
        self, plane: ControlPlane, started: list[EmulatorProcess | OperatorProcess]
    ) -> tuple[Kubectl, EmulatorProcess, OperatorProcess]:
        self.step("Starting a local control plane: etcd + kube-apiserver (no nodes, no Docker)")
        cluster = plane.start()
        self.screen.say(f"    API server {cluster.server}, ready in {plane.startup_seconds:.1f}s")
        kubectl = Kubectl(cluster.kubeconfig)
        crd = self.workdir / "crd.yaml"
        crd.write_text(render_crd())
        kubectl.install_crd(crd)

        self.step(f"Starting the SageMaker + CloudWatch emulator (clock x{self.speed:g})")
        emulator = EmulatorProcess(self.workdir, speed=self.speed)
        started.append(emulator)
        emulator.start()
        self.screen.say(f"    {emulator.url}")

        self.step("Starting the operator: sagemaker-guardrails run")
        operator = OperatorProcess(
            self.workdir, cluster.kubeconfig, emulator.aws_environment(), OPERATOR_SETTINGS
        )
        started.append(operator)
        operator.start()
        self.screen.say(f"    log: {operator.log_path}")
        return kubectl, emulator, operator

    def _story(self, kubectl: Kubectl, emulator: EmulatorProcess, examples: Path) -> None:
        manifest = examples / "canary.yaml"
        admin = emulator.admin()
        spec = yaml.safe_load(manifest.read_text())["spec"]
        alarms: list[str] = spec["deployment"]["autoRollback"]["alarms"]
        url: str = spec["models"][0]["containers"][0]["modelDataUrl"]

        self.step("Creating the CloudWatch alarms the canary is guarded by")
        env = emulator.aws_environment()
        cloudwatch = boto3.client(
            "cloudwatch",
            region_name=spec["region"],
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        for alarm in alarms:
            cloudwatch.put_metric_alarm(
                AlarmName=alarm,
                Namespace="AWS/SageMaker",
                MetricName="Invocation5XXErrors",
                Dimensions=[{"Name": "EndpointName", "Value": spec["endpointName"]}],
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=0.01,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
            )
            self.screen.say(f"    {alarm}")

        watcher = _watcher(kubectl.kubeconfig, admin, self.screen)
        self.step("Creating the endpoint from examples/canary.yaml")
        self.shell(kubectl, "create", "namespace", NAMESPACE)
        self.shell(kubectl, "apply", "-f", str(manifest))
        watcher.until(lambda o: _ready_at(o, 1), timeout=120)

        good = url.replace("/v21/", "/v22/")
        self.step("Rolling out model v22: canary 25 %, bake, 100 %, final bake, old fleet terminated")
        self._set_model(kubectl, good)
        watcher.until(lambda o: _ready_at(o, 2), timeout=180)

        bad = url.replace("/v21/", "/v23/")
        self.step("Rolling out model v23, which is broken: its 5xx alarm fires during the canary bake")
        self._set_model(kubectl, bad)
        tripped: dict[str, float] = {}

        def trip(obj: dict[str, Any], frame: Frame) -> None:
            if frame.stage == "Baking" and "first" not in tripped:
                tripped["first"] = time.monotonic()
            if "first" in tripped and "at" not in tripped and time.monotonic() - tripped["first"] > 3:
                admin.hold_alarm(alarms[0], "ALARM", reason="5xx rate 12 % on the canary fleet")
                tripped["at"] = time.monotonic()
                self.screen.say(self.screen.color(f"    CloudWatch: {alarms[0]} -> ALARM", "31"))

        rolled_back = watcher.until(lambda o: (o.get("status") or {}).get("phase") == "RolledBack", 180, trip)
        admin.hold_alarm(alarms[0], "OK", reason="back to normal")
        last = rolled_back["status"]["lastRollback"]
        self.screen.say(
            f"    rolled back revision {last['revision']}; still serving {rolled_back['status']['revision']['current']};"
            " it is not retried until the spec changes or the sagemaker-guardrails.dev/retry annotation does"
        )
        self.screen.say(f"    SageMaker's FailureReason: {last.get('reason') or '(empty)'}")

        self.step("What kubectl shows")
        self.shell(kubectl, "get", "gep", "-n", NAMESPACE)
        self.shell(kubectl, "get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp")

    def _set_model(self, kubectl: Kubectl, url: str) -> None:
        patch = json.dumps([{"op": "replace", "path": MODEL_URL, "value": url}])
        self.shell(kubectl, "patch", "gep", NAME, "-n", NAMESPACE, "--type=json", "-p", patch)

    def _print_keep(self, workdir: Path, kubectl: Kubectl, emulator: EmulatorProcess) -> None:
        env = emulator.aws_environment()
        self.step("Everything keeps running. To look around:")
        lines = [
            f"export KUBECONFIG={kubectl.kubeconfig}",
            f"alias kubectl={kubectl.binary}",
            "kubectl get gep -A; kubectl describe gep -n ml-prod fraud-detector",
            "export " + " ".join(f"{k}={v}" for k, v in env.items() if k != "AWS_EC2_METADATA_DISABLED"),
            "python -c \"import boto3; print(boto3.client('sagemaker').describe_endpoint("
            "EndpointName='fraud-detector')['EndpointStatus'])\"",
            f"curl {emulator.url}/_emulator/endpoints   # the emulator's admin API (docs/emulator.md)",
            f"sagemaker-guardrails control-plane down --workdir {workdir}   # stops it all",
        ]
        for line in lines:
            self.screen.say(f"    {line}")


def _ready_at(obj: dict[str, Any], generation: int) -> bool:
    status = obj.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return status.get("observedGeneration") == generation and bool(ready) and ready[0].get("status") == "True"


def _watcher(kubeconfig: Path, admin: AdminClient, screen: Screen) -> Watcher:
    api = kube_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    custom, core = k8s.CustomObjectsApi(api), k8s.CoreV1Api(api)

    def get() -> dict[str, Any] | None:
        try:
            obj = cast(
                dict[str, Any], custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, NAME)
            )
        except k8s.ApiException as error:
            if error.status == 404:
                return None
            raise
        return obj

    def events() -> list[dict[str, Any]]:
        listed = core.list_namespaced_event(NAMESPACE, field_selector=f"involvedObject.name={NAME}")
        items = api.sanitize_for_serialization(listed.items)
        return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    def now() -> datetime:
        return datetime.fromtimestamp(admin.clock()["sim_time"], tz=UTC)

    return Watcher(get, events, now, screen)


def cli_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sagemaker-guardrails demo",
        description="Roll out a model version and watch a bad one roll back, all locally.",
    )
    parser.add_argument("--keep", action="store_true", help="leave everything running at the end")
    parser.add_argument("--speed", type=float, default=60.0, help="emulator clock speed (default 60x)")
    parser.add_argument("--workdir", type=Path, help="folder for logs, data and kubeconfig")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sagemaker-guardrails-demo-"))
    demo = Demo(workdir, args.speed, Screen())
    stop_children_on_termination()
    try:
        code = demo.run(args.keep)
    except (DemoError, TimeoutError) as error:
        print(f"demo failed: {error} (logs in {workdir / 'logs'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; everything was stopped", file=sys.stderr)
        return 130
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return code
