"""The orphan sweep of the real operator process: a GuardedEndpoint whose finalizer was removed by
hand leaves its SageMaker resources behind; the sweep reports them (log, metric) with the default
settings, and deletes exactly those when opted in, leaving an untagged endpoint and another
cluster's endpoint (tagged with the same namespace and name) untouched."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.conftest import OPERATOR_SETTINGS
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import Geps

from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess

pytestmark = pytest.mark.e2e

CLUSTER = f"e2e-sweep-{secrets.token_hex(3)}"
SWEEP = {
    **OPERATOR_SETTINGS,
    "cluster_id": CLUSTER,
    "orphan_sweep_seconds": "2",
    # The emulator's accelerated clock stamps CreationTime ahead of the wall clock; the age guard is
    # covered by the unit and component tests, the listing order by this one.
    "orphan_min_age_seconds": "0",
}


@pytest.fixture(scope="module")
def operator_process(
    operator_identity: Path, emulator: EmulatorProcess, stack_dir: Path
) -> Iterator[OperatorProcess]:
    """This module's operator: its own cluster id, a sweep every 2 s, report only (the default)."""
    process = OperatorProcess(
        stack_dir, operator_identity, emulator.aws_environment(), SWEEP, name="operator-sweep"
    )
    try:
        yield process
    finally:
        process.stop()


def metric(operator: OperatorProcess, name: str, labels: str) -> float | None:
    with urllib.request.urlopen(operator.metrics_url, timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.rsplit(" ", 1)[1])
    return None


def _endpoint(geps: Geps, name: str, tags: dict[str, str]) -> None:
    sm = geps.sagemaker()
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecution",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
        Tags=tag_list,
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        Tags=tag_list,
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", Tags=tag_list)


def _exists(geps: Geps, endpoint: str) -> bool:
    return any(
        e["EndpointName"] == endpoint
        for e in geps.sagemaker().list_endpoints(NameContains=endpoint)["Endpoints"]
    )


def _names(geps: Geps, prefix: str) -> tuple[set[str], set[str]]:
    sm = geps.sagemaker()
    configs = {
        c["EndpointConfigName"]
        for c in sm.list_endpoint_configs(NameContains=prefix, MaxResults=100)["EndpointConfigs"]
    }
    models = {m["ModelName"] for m in sm.list_models(NameContains=prefix, MaxResults=100)["Models"]}
    return configs, models


def test_orphans_are_reported_by_default_and_deleted_only_when_opted_in(
    geps: Geps, operator: OperatorProcess, operator_identity: Path, emulator: EmulatorProcess, stack_dir: Path
) -> None:
    manifest = geps.manifest("canary")
    manifest["spec"]["deletionPolicy"] = "Delete"
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1)
    configs, models = _names(geps, endpoint)
    assert configs and models
    suffix = secrets.token_hex(3)
    untagged, foreign = f"untagged-{suffix}", f"other-cluster-{suffix}"
    _endpoint(geps, untagged, {"team": "fraud"})
    _endpoint(
        geps,
        foreign,
        {
            "sagemaker-guardrails.dev/cluster": f"{CLUSTER}-other",
            "sagemaker-guardrails.dev/namespace": geps.namespace,
            "sagemaker-guardrails.dev/name": name,
        },
    )

    # The operator is gone; someone removes the finalizer by hand and the resource goes at once.
    operator.stop()
    geps.delete(name)
    geps.patch(name, {"metadata": {"finalizers": None}})
    geps.wait_gone(name, timeout=30)
    assert _exists(geps, endpoint)
    seen = max(c["seq"] for c in geps.admin.calls())

    operator.start()  # report only: the default
    wait_for(
        lambda: metric(operator, "sagemaker_guardrails_orphans", 'kind="endpoint"') == 1.0 or None,
        60,
        "the orphan metric",
    )
    assert metric(operator, "sagemaker_guardrails_orphans", 'kind="endpoint-config"') == len(configs)
    assert metric(operator, "sagemaker_guardrails_orphans", 'kind="model"') == len(models)
    log = operator.log_path.read_text(errors="replace")
    assert (
        f"SageMaker endpoint {endpoint} (us-east-1) belongs to GuardedEndpoint {geps.namespace}/{name}" in log
    )
    assert "not deleted (orphan_sweep_delete is off)" in log
    assert untagged not in log and foreign not in log
    deletes = ("DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel")
    assert [c for c in geps.admin.calls(since=seen) if c["operation"] in deletes] == []
    operator.stop()

    deleting = OperatorProcess(
        stack_dir,
        operator_identity,
        emulator.aws_environment(),
        {**SWEEP, "orphan_sweep_delete": "true"},
        name="operator-sweep-delete",
    )
    try:
        deleting.start()
        wait_for(
            lambda: (not _exists(geps, endpoint) and _names(geps, endpoint) == (set(), set())) or None,
            90,
            "the orphans to be deleted",
        )
        wait_for(
            lambda: (
                metric(deleting, "sagemaker_guardrails_orphans_deleted_total", 'kind="model"') == len(models)
                or None
            ),
            30,
            "the deletion counter",
        )
        assert metric(deleting, "sagemaker_guardrails_orphans_deleted_total", 'kind="endpoint"') == 1.0
    finally:
        deleting.stop()

    calls = [c for c in geps.admin.calls(since=seen, service="sagemaker") if c["operation"] in deletes]
    assert [c["endpoint"] for c in calls if c["operation"] == "DeleteEndpoint"] == [endpoint]
    assert sum(c["operation"] == "DeleteEndpointConfig" for c in calls) == len(configs)
    assert sum(c["operation"] == "DeleteModel" for c in calls) == len(models)
    assert all(not c["error_code"] for c in calls), calls
    for kept in (untagged, foreign):
        assert geps.sagemaker().describe_endpoint(EndpointName=kept)["EndpointStatus"] in (
            "Creating",
            "InService",
        )
        assert _names(geps, kept) == ({f"{kept}-config"}, {f"{kept}-model"})
