"""Deletion with both policies. ``Delete``: the finalizer keeps the GuardedEndpoint (phase Deleting)
until SageMaker has deleted the endpoint, and the operator's models and configs go with it.
``Retain``: the resource goes, the endpoint stays untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import Geps

pytestmark = pytest.mark.e2e

FINALIZER = "sagemaker-guardrails.dev/finalizer"


@pytest.fixture
def slow_endpoint_deletion(geps: Geps) -> Iterator[float]:
    """SageMaker takes an hour (a minute of real time) to delete an endpoint unless the test moves the
    emulator's clock, so the finalizer's hold is visible however slow the machine; yields the
    simulated seconds."""
    before = geps.admin.settings()["deletion_seconds"]
    geps.admin.configure(deletion_seconds=3600)
    try:
        yield 3600.0
    finally:
        geps.admin.configure(deletion_seconds=before)


def _gone(geps: Geps, endpoint: str) -> bool:
    try:
        geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    except geps.sagemaker().exceptions.ClientError as error:
        return "Could not find endpoint" in str(error)
    return False


def test_delete_policy_deletes_the_endpoint_before_the_finalizer_is_removed(
    geps: Geps, slow_endpoint_deletion: float
) -> None:
    manifest = geps.manifest("canary")
    manifest["spec"]["deletionPolicy"] = "Delete"
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1)
    models = [m["ModelName"] for m in geps.sagemaker().list_models(NameContains=endpoint)["Models"]]
    configs = geps.sagemaker().list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"]
    assert models and configs

    geps.delete(name)
    deleting = geps.wait(name, lambda o: o["status"].get("phase") == "Deleting", "phase Deleting")
    assert deleting["metadata"].get("deletionTimestamp")
    assert FINALIZER in deleting["metadata"]["finalizers"]
    assert geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Deleting"
    seen = max(c["seq"] for c in geps.admin.calls())
    wait_for(
        lambda: len(geps.admin.calls(since=seen, endpoint=endpoint, operation="DescribeEndpoint")) >= 2,
        30,
        "the operator to look at the deleting endpoint twice more",
    )
    held = geps.get(name)
    assert held is not None and FINALIZER in held["metadata"]["finalizers"], (
        "released before SageMaker finished"
    )

    geps.admin.advance(slow_endpoint_deletion)
    geps.wait_gone(name, timeout=60)
    assert _gone(geps, endpoint)
    assert geps.mutations(endpoint)[-1] == "DeleteEndpoint"
    assert geps.sagemaker().list_models(NameContains=endpoint)["Models"] == []
    assert geps.sagemaker().list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"] == []


def test_retain_policy_leaves_the_endpoint_running(geps: Geps) -> None:
    manifest = geps.manifest("canary")
    manifest["spec"]["deletionPolicy"] = "Retain"
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    config = geps.wait_ready(name, 1)["status"]["endpoint"]["configName"]

    geps.delete(name)
    geps.wait_gone(name, timeout=30)
    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == config
    assert geps.mutations(endpoint) == ["CreateEndpoint"]
