"""The real operator process through a flaky, slow SageMaker (the emulator's 5xx and latency faults).

DescribeEndpoint answers HTTP 500 for a while and takes seconds to answer, and the UpdateEndpoint that
starts the deployment is performed but its answer is lost (HTTP 500): the operator cannot tell from the
answer whether the update happened. It must find out from what SageMaker shows (including the seconds in
which SageMaker shows ``Updating`` without a deployment, spec 13), finish the deployment, and have
SageMaker perform exactly one UpdateEndpoint.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.e2e.geps import Geps, condition

pytestmark = pytest.mark.e2e


@pytest.fixture
def faulty(geps: Geps) -> Iterator[Geps]:
    yield geps
    geps.admin.clear_faults()


def test_a_deployment_finishes_through_5xx_lost_responses_and_latency(faulty: Geps) -> None:
    geps = faulty
    manifest = geps.manifest("canary")
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    first = geps.wait_ready(name, 1, timeout=120)["status"]

    geps.admin.server_error("UpdateEndpoint", mode="after", count=1)
    geps.admin.server_error("DescribeEndpoint", count=8)
    geps.admin.latency("DescribeEndpoint", 3.0, count=4)
    geps.patch(name, geps.new_model_version(manifest, "v2"))
    final = geps.wait_ready(name, 2, timeout=240)
    status = final["status"]

    assert status["revision"]["current"] == status["revision"]["desired"] != first["revision"]["current"]
    assert status["history"][0]["outcome"] == "Succeeded"
    assert condition(final, "Stalled")["status"] == "False"  # type: ignore[index]
    faults = geps.admin.faults()
    assert faults["server_errors"] == [] and faults["latency"] == [], "every fault was hit"
    updates = geps.calls(endpoint, "UpdateEndpoint")
    performed = [c for c in updates if c["http_status"] == 200 or c["fault"] == "lost-response"]
    assert len(performed) == 1, updates
    assert performed[0]["fault"] == "lost-response"
    started = [e for e in geps.admin.timeline(endpoint) if e["name"] == "Accepted"]
    assert len(started) == 1, "SageMaker ran one deployment"
    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == status["endpoint"]["configName"]
    assert ("Warning", "RolledBack") not in geps.reasons(name)
