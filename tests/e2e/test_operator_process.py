"""`sagemaker-guardrails run` as a real process against a real API server.

These tests prove the kopf wiring of handlers.py and __main__.py end to end: the operator starts
with a kubeconfig under the chart's RBAC, answers /healthz, serves /metrics, puts its own
finalizer and annotation prefix on a GuardedEndpoint, writes status, and keeps going when AWS
cannot be reached (errors slow a resource down but never crash the operator).
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.e2e.e2e_support import load_example, wait_for
from tests.e2e.rbac import operator_kubeconfig

from sagemaker_guardrails.devenv.controlplane import Cluster
from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.processes import free_port
from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess

pytestmark = pytest.mark.e2e

FINALIZER = "sagemaker-guardrails.dev/finalizer"


def unreachable_aws() -> dict[str, str]:
    """Credentials for an AWS endpoint where nothing listens: every call is a connection error."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def start_operator(
    kubectl: Kubectl, tmp_path: Path, aws_environment: Mapping[str, str], settings: Mapping[str, str]
) -> OperatorProcess:
    release = f"guardrails-{secrets.token_hex(3)}"
    kubeconfig, _ = operator_kubeconfig(kubectl, f"ns-{release}", release, tmp_path / "operator.kubeconfig")
    return OperatorProcess(tmp_path, kubeconfig, aws_environment, settings=settings).start(timeout=60)


@pytest.fixture
def operator(cluster: Cluster, kubectl: Kubectl, crd: Path, tmp_path: Path) -> Iterator[OperatorProcess]:
    settings = {"active_poll_seconds": "2", "settled_poll_seconds": "10", "aws_max_attempts": "1"}
    process = start_operator(kubectl, tmp_path, unreachable_aws(), settings)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(tmp_path, speed=300).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def operator_on_emulator(
    cluster: Cluster, kubectl: Kubectl, crd: Path, tmp_path: Path, emulator: EmulatorProcess
) -> Iterator[OperatorProcess]:
    settings = {"active_poll_seconds": "1", "settled_poll_seconds": "5"}
    process = start_operator(kubectl, tmp_path, emulator.aws_environment(), settings)
    try:
        yield process
    finally:
        process.stop()


def get(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = kubectl.json("get", "guardedendpoint", name, "-n", namespace, "-o", "json")
    return result


def metric(url: str, name: str, **labels: str) -> float:
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_operator_takes_a_resource_under_its_finalizer_and_reports_aws_trouble_in_status(
    operator: OperatorProcess, kubectl: Kubectl, namespace: str
) -> None:
    manifest = load_example("canary")
    manifest["metadata"]["namespace"] = namespace
    name = manifest["metadata"]["name"]
    kubectl.apply([manifest])

    def conditions_written() -> dict[str, Any] | None:
        obj = get(kubectl, namespace, name)
        return obj if (obj.get("status") or {}).get("conditions") else None

    obj = wait_for(conditions_written, 60, "status.conditions written by the operator")
    assert FINALIZER in obj["metadata"].get("finalizers", [])
    annotations = obj["metadata"].get("annotations") or {}
    assert not any(key.startswith("kopf.zalando.org/") for key in annotations), annotations
    # No copy of the spec in an annotation (what was handled is generation vs observedGeneration).
    assert not any(key.startswith("sagemaker-guardrails.dev/") for key in annotations), annotations
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    ready = [c for c in obj["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] != "True"

    wait_for(
        lambda: (
            metric(
                operator.metrics_url,
                "sagemaker_guardrails_aws_calls_total",
                operation="DescribeEndpoint",
                error_code="EndpointConnectionError",
            )
            >= 2
        ),
        60,
        "the loop to poll DescribeEndpoint again after the connection error",
    )
    assert metric(operator.metrics_url, "sagemaker_guardrails_reconciles_total") >= 2
    assert operator.alive()

    # The example says deletionPolicy: Retain, so the finalizer goes without a single AWS call.
    assert manifest["spec"]["deletionPolicy"] == "Retain"
    kubectl.run("delete", "guardedendpoint", name, "-n", namespace, "--wait=false")
    wait_for(lambda: not exists(kubectl, namespace, name), 60, "the finalizer to be released (Retain)")


def exists(kubectl: Kubectl, namespace: str, name: str) -> bool:
    found = kubectl.run("get", "guardedendpoint", name, "-n", namespace, "--ignore-not-found", "-o", "name")
    return bool(found.stdout.strip())


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    found = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind]
    return found[0] if found else {}


def test_create_update_and_delete_through_the_real_operator(
    operator_on_emulator: OperatorProcess, emulator: EmulatorProcess, kubectl: Kubectl, namespace: str
) -> None:
    manifest = load_example("all-at-once")
    manifest["metadata"].update(namespace=namespace, name="sentiment")
    manifest["spec"]["deletionPolicy"] = "Delete"
    del manifest["spec"]["deployment"]["autoRollback"]
    kubectl.apply([manifest])

    def ready(generation: int) -> dict[str, Any] | None:
        obj = get(kubectl, namespace, "sentiment")
        ok = condition(obj, "Ready").get("status") == "True"
        return obj if ok and obj["status"].get("observedGeneration") == generation else None

    created = wait_for(lambda: ready(1), 90, "the endpoint to be created and Ready")
    first_config = created["status"]["endpoint"]["configName"]
    assert created["status"]["phase"] == "InService"

    env = manifest["spec"]["models"][0]["containers"][0]["environment"]
    patch = {
        "spec": {
            "models": [
                {
                    **manifest["spec"]["models"][0],
                    "containers": [
                        {
                            **manifest["spec"]["models"][0]["containers"][0],
                            "environment": {**env, "HF_TASK": "sentiment-analysis"},
                        }
                    ],
                }
            ]
        }
    }
    kubectl.run(
        "patch", "guardedendpoint", "sentiment", "-n", namespace, "--type=merge", "-p", json.dumps(patch)
    )
    updated = wait_for(lambda: ready(2), 120, "the update to be deployed and Ready again")
    assert updated["status"]["endpoint"]["configName"] != first_config
    wait_for(
        lambda: (
            metric(
                operator_on_emulator.metrics_url,
                "sagemaker_guardrails_deployments_total",
                outcome="Succeeded",
            )
            >= 1
        ),
        30,
        "a succeeded deployment in the metrics",
    )
    events = kubectl.json(
        "get", "events", "-n", namespace, "--field-selector", "involvedObject.name=sentiment", "-o", "json"
    )["items"]
    reasons = {e["reason"] for e in events if e["type"] == "Normal"}
    assert len(reasons) >= 2, reasons  # the reconciler's transition Events, posted by the handlers

    in_service = metric(operator_on_emulator.metrics_url, "sagemaker_guardrails_resources", phase="InService")
    assert in_service >= 1

    kubectl.run("delete", "guardedendpoint", "sentiment", "-n", namespace, "--wait=false")

    wait_for(
        lambda: not exists(kubectl, namespace, "sentiment"), 120, "the finalizer to be released after cleanup"
    )
    after = metric(operator_on_emulator.metrics_url, "sagemaker_guardrails_resources", phase="InService")
    assert after == in_service - 1  # the deleted object no longer counts (others may share the cluster)
    sagemaker = boto3.client(
        "sagemaker",
        region_name="eu-west-1",
        endpoint_url=emulator.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(sagemaker.exceptions.ClientError, match="Could not find endpoint"):
        sagemaker.describe_endpoint(EndpointName="sentiment")
