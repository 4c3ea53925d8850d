"""The operator process under API-server faults: refused status writes and an API-server outage.

Both used to end an object's polling for good (the per-object kopf timer died with its refused
patch and nothing noticed). Now every failed write is logged, counted and retried, the object
stays in the work queue, and status catches up with SageMaker once the API server takes writes
again, without any SageMaker call being repeated.
"""

from __future__ import annotations

import secrets
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config as kube_config
from tests.e2e.conftest import OPERATOR_SETTINGS
from tests.e2e.e2e_support import CRD_FILE, wait_for
from tests.e2e.geps import Geps

from sagemaker_guardrails.devenv.controlplane import ControlPlane
from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess

pytestmark = pytest.mark.e2e

LONG_BAKE = 3600
ACTIVE_POLL = float(OPERATOR_SETTINGS["active_poll_seconds"])


def _deny_status_writes(namespace: str) -> list[dict[str, object]]:
    name = f"deny-gep-status-{namespace}"[:63]
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["sagemaker-guardrails.dev"],
                            "apiVersions": ["*"],
                            "operations": ["UPDATE"],
                            "resources": ["guardedendpoints/status"],
                        }
                    ]
                },
                "validations": [{"expression": "false", "message": "status writes are denied by the test"}],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                },
            },
        },
    ]


def _status_writes_denied(kubectl: Kubectl, namespace: str, name: str) -> bool:
    result = kubectl.run(
        "patch", "guardedendpoint", name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", '{"status":{"observedGeneration":0}}', "--dry-run=server", check=False,
    )  # fmt: skip
    return result.returncode != 0 and "denied by the test" in result.stderr


def _metric(operator: OperatorProcess, name: str, labels: str = "") -> float:
    with urllib.request.urlopen(operator.metrics_url, timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and labels in line and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _describes(geps: Geps, endpoint: str) -> int:
    return len(geps.calls(endpoint, "DescribeEndpoint"))


def _caught_up(geps: Geps, name: str, endpoint: str) -> bool:
    obj = geps.get(name) or {}
    status = obj.get("status") or {}
    config = geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
    return (
        ready
        and status.get("observedGeneration") == 2
        and (status.get("endpoint") or {}).get("configName") == config
    )


def _canary_in_its_first_bake(geps: Geps) -> tuple[dict[str, Any], str, str]:
    """A canary created, Ready on v1, then updated to v2 and held in its first (hour-long) bake."""
    manifest = geps.manifest("canary", bake_seconds=LONG_BAKE)
    manifest["spec"]["deployment"]["blueGreen"]["maximumExecutionTimeoutSeconds"] = 4 * LONG_BAKE
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1)
    geps.patch(name, geps.new_model_version(manifest, "v2"))
    geps.wait(name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "a bake")
    return manifest, name, endpoint


def test_status_writes_denied_for_20s_mid_canary_then_status_catches_up(
    geps: Geps, operator: OperatorProcess, kubectl: Kubectl
) -> None:
    _, name, endpoint = _canary_in_its_first_bake(geps)

    policy = _deny_status_writes(geps.namespace)
    kubectl.apply(policy)
    try:
        wait_for(lambda: _status_writes_denied(kubectl, geps.namespace, name), 30, "the policy to deny")
        denied_at = time.monotonic()
        frozen = geps.get(name)["status"]  # type: ignore[index]
        refused_before = _metric(operator, "sagemaker_guardrails_status_write_failures_total")
        # SageMaker finishes the deployment while the operator cannot say so.
        for number in (1, 2):
            wait_for(lambda n=number: geps.finish_bake(endpoint, n), 30, f"bake {number} to be ended")
        wait_for(
            lambda: (
                geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
            ),
            30,
            "SageMaker to finish",
        )
        described = _describes(geps, endpoint)
        time.sleep(max(0.0, 20 - (time.monotonic() - denied_at)))
        assert geps.get(name)["status"] == frozen  # type: ignore[index]  # nothing got through
        assert _describes(geps, endpoint) > described  # the object was still being polled
        refused = _metric(operator, "sagemaker_guardrails_status_write_failures_total") - refused_before
        assert refused >= 3  # refused writes are counted (and retried)
    finally:
        kubectl.run("delete", "-f", "-", "--ignore-not-found", input=yaml.safe_dump_all(policy))
    wait_for(lambda: not _status_writes_denied(kubectl, geps.namespace, name), 30, "the policy to go")
    lifted_at = time.monotonic()
    wait_for(lambda: _caught_up(geps, name, endpoint), 30, "status to catch up", interval=0.1)
    lag = time.monotonic() - lifted_at
    print(f"status caught up {lag:.2f} s after the policy was lifted (active poll {ACTIVE_POLL} s)")
    # One active poll, plus a pass and a watch round trip on a loaded two-core machine.
    assert lag <= ACTIVE_POLL + 3
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
    log = operator.process.log_path.read_text()
    assert "write refused or failed" in log and "denied by the test" in log


@pytest.fixture
def own_plane(tmp_path: Path) -> Iterator[ControlPlane]:
    """A control plane of this test's own, so stopping its API server touches nothing else."""
    plane = ControlPlane(workdir=tmp_path / "plane")
    with plane:
        yield plane


def test_the_api_server_gone_for_90s_mid_rollout(
    own_plane: ControlPlane, emulator: EmulatorProcess, stack_dir: Path
) -> None:
    cluster = own_plane.cluster
    assert cluster is not None
    kubectl = Kubectl(cluster.kubeconfig)
    kubectl.install_crd(CRD_FILE)
    namespace = f"e2e-outage-{secrets.token_hex(3)}"
    kubectl.ensure_namespace(namespace)
    operator = OperatorProcess(
        stack_dir, cluster.kubeconfig, emulator.aws_environment(), OPERATOR_SETTINGS, name="operator-outage"
    ).start()
    try:
        geps = Geps(kubectl, kube_config.new_client_from_config(str(cluster.kubeconfig)), namespace, emulator)
        manifest, name, endpoint = _canary_in_its_first_bake(geps)

        own_plane.stop_apiserver()
        stopped_at = time.monotonic()
        for number in (1, 2):
            wait_for(lambda n=number: geps.finish_bake(endpoint, n), 30, f"bake {number} to be ended")
        while time.monotonic() - stopped_at < 90:
            assert operator.alive()
            time.sleep(2)
        with urllib.request.urlopen(f"http://127.0.0.1:{operator.health_port}/healthz", timeout=5) as r:
            assert r.status == 200  # passes keep finishing (with errors): the loop is not wedged
        own_plane.restart_apiserver()
        restarted_at = time.monotonic()

        wait_for(lambda: _caught_up(geps, name, endpoint), 90, "status to converge", interval=0.2)
        print(f"converged {time.monotonic() - restarted_at:.1f} s after the API server came back")
        assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
        # The watch came back too: a spec change is acted on.
        geps.patch(name, geps.new_model_version(manifest, "v3"))
        wait_for(lambda: geps.mutations(endpoint).count("UpdateEndpoint") == 2, 60, "the v3 UpdateEndpoint")
        assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint", "UpdateEndpoint"]
    finally:
        operator.stop()


def test_an_operator_started_before_the_crd_serves_the_first_resource(
    own_plane: ControlPlane, emulator: EmulatorProcess, stack_dir: Path
) -> None:
    """A fresh machine: the operator starts while the API server has no GuardedEndpoint CRD yet
    (or is still initialising its storage); the first resource created afterwards is deployed."""
    cluster = own_plane.cluster
    assert cluster is not None
    kubectl = Kubectl(cluster.kubeconfig)
    operator = OperatorProcess(
        stack_dir, cluster.kubeconfig, emulator.aws_environment(), OPERATOR_SETTINGS, name="operator-early"
    ).start()
    try:
        time.sleep(3)  # its first LIST fails (no such resource) and is retried
        assert operator.alive()
        kubectl.install_crd(CRD_FILE)
        namespace = f"e2e-early-{secrets.token_hex(3)}"
        kubectl.ensure_namespace(namespace)
        geps = Geps(kubectl, kube_config.new_client_from_config(str(cluster.kubeconfig)), namespace, emulator)
        manifest = geps.manifest("all-at-once")
        name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
        geps.create(manifest)
        geps.wait_ready(name, 1, timeout=90)
        assert geps.mutations(endpoint) == ["CreateEndpoint"]
        with urllib.request.urlopen(f"http://127.0.0.1:{operator.health_port}/readyz", timeout=5) as r:
            assert r.status == 200
        log = operator.process.log_path.read_text()
        assert "listing GuardedEndpoints failed" in log  # said so, and retried
    finally:
        operator.stop()
