"""Surprises made visible by the real operator process: an endpoint deleted behind its back is
recreated with a Warning Event; an Inf1 spec is flagged (SageMaker deploys it without guardrails);
and a deletion that waits for SageMaker is logged as INFO progress, never as a warning or error."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import Geps, condition

from sagemaker_guardrails.devenv.stack import OperatorProcess

pytestmark = pytest.mark.e2e

LEVEL = re.compile(r"\[(WARNING|ERROR|CRITICAL)\s*\]")


def _warned(geps: Geps, name: str, reason: str) -> list[dict[str, object]]:
    return [e for e in geps.events(name) if e["type"] == "Warning" and e["reason"] == reason]


def test_endpoint_deleted_behind_the_operators_back_is_recreated_with_a_warning(geps: Geps) -> None:
    manifest = geps.manifest("canary")
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    arn = geps.wait_ready(name, 1)["status"]["endpoint"]["arn"]
    geps.sagemaker().delete_endpoint(EndpointName=endpoint)

    events = wait_for(lambda: _warned(geps, name, "EndpointMissing") or None, 60, "a Warning EndpointMissing")
    assert endpoint in str(events[0]["message"]) and arn in str(events[0]["message"])
    wait_for(
        lambda: geps.mutations(endpoint).count("CreateEndpoint") == 2 or None, 60, "CreateEndpoint again"
    )
    geps.wait(name, lambda o: o["status"].get("phase") == "InService", "InService again", timeout=90)
    assert geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    assert len(_warned(geps, name, "EndpointMissing")) == 1
    assert geps.mutations(endpoint) == ["CreateEndpoint", "DeleteEndpoint", "CreateEndpoint"]


def test_inf1_spec_is_flagged_guardrails_not_applied(geps: Geps) -> None:
    manifest = geps.manifest("canary")
    manifest["spec"]["variants"][0]["instanceType"] = "ml.inf1.xlarge"
    name = manifest["metadata"]["name"]
    geps.create(manifest)
    ready = geps.wait_ready(name, 1)
    flagged = condition(ready, "GuardrailsNotApplied")
    assert flagged is not None and flagged["status"] == "True" and flagged["reason"] == "InstanceTypeExcluded"
    assert "ml.inf1.xlarge" in flagged["message"]
    wait_for(
        lambda: _warned(geps, name, "GuardrailsNotApplied") or None, 30, "a Warning GuardrailsNotApplied"
    )


@pytest.fixture
def slow_endpoint_deletion(geps: Geps) -> Iterator[float]:
    before = geps.admin.settings()["deletion_seconds"]
    geps.admin.configure(deletion_seconds=3600)
    try:
        yield 3600.0
    finally:
        geps.admin.configure(deletion_seconds=before)


def test_a_deletion_that_waits_is_logged_as_progress_not_as_an_error(
    geps: Geps, operator: OperatorProcess, slow_endpoint_deletion: float
) -> None:
    manifest = geps.manifest("canary")
    manifest["spec"]["deletionPolicy"] = "Delete"
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.wait_ready(name, 1)
    key = f"{geps.namespace}/{name}"
    start = len(operator.log_path.read_text(errors="replace"))

    geps.delete(name)
    geps.wait(name, lambda o: o["status"].get("phase") == "Deleting", "phase Deleting")
    seen = max(c["seq"] for c in geps.admin.calls())
    wait_for(
        lambda: (
            len(geps.admin.calls(since=seen, endpoint=endpoint, operation="DescribeEndpoint")) >= 3 or None
        ),
        30,
        "three more passes over the deleting endpoint",
    )
    geps.admin.advance(slow_endpoint_deletion)
    geps.wait_gone(name, timeout=60)

    lines = [
        line for line in operator.log_path.read_text(errors="replace")[start:].splitlines() if key in line
    ]
    waiting = [line for line in lines if "deletion waiting" in line]
    assert waiting, f"no INFO 'deletion waiting' line for {key}:\n" + "\n".join(lines)
    assert all("[INFO" in line for line in waiting), waiting
    assert f"SageMaker is deleting endpoint {endpoint}" in waiting[-1]
    noisy = [line for line in lines if LEVEL.search(line)]
    assert not noisy, "ordinary deletion logged as a warning or error:\n" + "\n".join(noisy)
    assert any("finalized; finalizer removed" in line for line in lines)
