"""`sagemaker-guardrails run` as a real process against a real API server.

These tests prove the kopf wiring of handlers.py and __main__.py end to end: the operator starts
with a kubeconfig under the chart's RBAC, answers /healthz, serves /metrics, puts its own
finalizer and annotation prefix on a GuardedEndpoint, writes status, and keeps going when AWS
cannot be reached (errors slow a resource down but never crash the operator).
"""

from __future__ import annotations

import re
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.e2e_support import load_example, wait_for
from tests.e2e.rbac import operator_kubeconfig

from sagemaker_guardrails.devenv.controlplane import Cluster
from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.processes import free_port
from sagemaker_guardrails.devenv.stack import OperatorProcess

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


@pytest.fixture
def operator(cluster: Cluster, kubectl: Kubectl, crd: Path, tmp_path: Path) -> Iterator[OperatorProcess]:
    release = f"guardrails-{secrets.token_hex(3)}"
    kubeconfig, _ = operator_kubeconfig(kubectl, f"ns-{release}", release, tmp_path / "operator.kubeconfig")
    process = OperatorProcess(
        tmp_path,
        kubeconfig,
        unreachable_aws(),
        settings={"active_poll_seconds": "2", "settled_poll_seconds": "10", "aws_max_attempts": "1"},
    )
    process.start(timeout=60)
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
    assert any(key.startswith("sagemaker-guardrails.dev/") for key in annotations), annotations
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
        "the timer to poll DescribeEndpoint again after the connection error",
    )
    assert metric(operator.metrics_url, "sagemaker_guardrails_reconciles_total") >= 2
    assert operator.alive()
