"""Names and Regions with the real operator process, kube-apiserver and etcd.

- Endpoint names that differ only in case (``Case-Clash-…`` in one namespace, ``case-clash-…`` in
  another) are one SageMaker endpoint: the second resource stays Stalled ``OwnedByOther`` poll after
  poll, with one Warning, without showing or touching the first one's endpoint.
- A resource without ``spec.region`` stays in the Region it was created in when the operator is
  restarted with another default Region, and its finalizer deletes it there.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import Geps, condition

from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess

pytestmark = pytest.mark.e2e

OTHER_REGION = "eu-west-1"
DEFAULT_REGION_ENV = "SAGEMAKER_GUARDRAILS_DEFAULT_REGION"


def describe_calls(geps: Geps, endpoint: str, since: int) -> int:
    return len(geps.admin.calls(since=since, operation="DescribeEndpoint", endpoint=endpoint))


def test_endpoint_names_that_differ_only_in_case_stay_owned_by_the_first_resource(
    geps: Geps, kubectl: Kubectl, api_client: k8s.ApiClient, emulator: EmulatorProcess
) -> None:
    suffix = secrets.token_hex(3)
    first = geps.manifest("canary")
    first["metadata"]["name"] = "case-clash"
    first["spec"]["endpointName"] = f"Case-Clash-{suffix}"
    first["spec"]["deletionPolicy"] = "Delete"  # the second resource's finalizer must look, and leave it
    geps.create(first)
    geps.wait_ready("case-clash", 1, timeout=120)
    served = geps.sagemaker().describe_endpoint(EndpointName=f"Case-Clash-{suffix}")

    namespace = f"{geps.namespace}-b"
    kubectl.ensure_namespace(namespace)
    others = Geps(kubectl, api_client, namespace, emulator)
    second = copy.deepcopy(first)
    second["metadata"]["namespace"] = namespace
    second["spec"]["endpointName"] = lower = f"case-clash-{suffix}"
    seen = max((c["seq"] for c in geps.admin.calls()), default=0)
    others.create(second)
    try:
        others.wait(
            "case-clash",
            lambda o: (condition(o, "Stalled") or {}).get("reason") == "OwnedByOther",
            "Stalled OwnedByOther",
        )
        wait_for(lambda: describe_calls(geps, lower, seen) >= 4 or None, 60, "three more settled polls")
        stalled = others.get("case-clash")
        assert stalled is not None
        assert (condition(stalled, "Stalled") or {}).get("reason") == "OwnedByOther", stalled["status"]
        assert f"{geps.namespace}/case-clash" in (condition(stalled, "Stalled") or {})["message"]
        assert "endpoint" not in stalled["status"], "the first resource's endpoint is not the second's"
        assert [r for r in others.reasons("case-clash") if r[0] == "Warning"] == [("Warning", "OwnedByOther")]
        mutations = [
            c["operation"]
            for c in geps.admin.calls(since=seen)
            if c["operation"] not in ("DescribeEndpoint", "ListTags", "DescribeEndpointConfig")
        ]
        assert mutations == [], "the second resource must not touch the first one's endpoint"
    finally:
        others.delete("case-clash")
        others.wait_gone("case-clash")
    after = geps.sagemaker().describe_endpoint(EndpointName=f"Case-Clash-{suffix}")
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == (
        "InService",
        served["EndpointConfigName"],
    )
    geps.wait_ready("case-clash", 1)


@pytest.fixture
def restart_with_region(operator: OperatorProcess) -> Iterator[OperatorProcess]:
    """The module's operator; the test may restart it with another default Region, undone afterwards."""
    before = operator.env.get(DEFAULT_REGION_ENV)
    yield operator
    operator.stop()
    if before is None:
        operator.env.pop(DEFAULT_REGION_ENV, None)
    else:
        operator.env[DEFAULT_REGION_ENV] = before
    operator.start()


def test_a_resource_without_spec_region_stays_where_it_was_created(
    geps: Geps, restart_with_region: OperatorProcess
) -> None:
    manifest = geps.manifest("canary")
    del manifest["spec"]["region"]
    manifest["spec"]["deletionPolicy"] = "Delete"
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1, timeout=120)

    restart_with_region.stop()
    restart_with_region.env[DEFAULT_REGION_ENV] = OTHER_REGION
    seen = max((c["seq"] for c in geps.admin.calls()), default=0)
    restart_with_region.start()
    wait_for(lambda: describe_calls(geps, endpoint, seen) >= 3 or None, 60, "the restarted operator's polls")
    assert [c["operation"] for c in geps.admin.calls(since=seen) if c["region"] == OTHER_REGION] == []
    assert geps.sagemaker(OTHER_REGION).list_endpoints(NameContains=endpoint)["Endpoints"] == []
    assert geps.wait_ready(name, 1)["status"]["region"] == "us-east-1"

    geps.delete(name)
    geps.wait_gone(name, timeout=90)
    assert geps.sagemaker().list_endpoints(NameContains=endpoint)["Endpoints"] == []
    assert geps.sagemaker().list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"] == []
    assert [
        c
        for c in geps.admin.calls(since=seen)
        if c["region"] == OTHER_REGION and c["operation"] != "ListEndpoints"
    ] == []
