"""A crash mid-deployment: the operator process is SIGKILLed right after SageMaker accepted the
UpdateEndpoint (before or after its status write, whichever the kill hits) and started again. The
write-ahead record in status must keep it from sending the same deployment twice, and the status
must converge to what SageMaker did.

The bakes last a minute of real time, so SageMaker is still deploying when the operator comes back
however long its start takes on a loaded machine; once the new process has looked at the endpoint,
the test ends the bakes with the emulator's clock."""

from __future__ import annotations

import time

import pytest
from tests.e2e.e2e_support import wait_for
from tests.e2e.geps import Geps

from sagemaker_guardrails.devenv.stack import OperatorProcess

pytestmark = pytest.mark.e2e

LONG_BAKE = 3600


@pytest.mark.parametrize("kill_at", ["call-accepted", "baking"])
def test_operator_killed_mid_deployment_does_not_deploy_twice(
    geps: Geps, operator: OperatorProcess, kill_at: str
) -> None:
    manifest = geps.manifest("canary", bake_seconds=LONG_BAKE)
    manifest["spec"]["deployment"]["blueGreen"]["maximumExecutionTimeoutSeconds"] = 4 * LONG_BAKE
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    first = geps.wait_ready(name, 1)["status"]

    geps.patch(name, geps.new_model_version(manifest, "v2"))
    if kill_at == "call-accepted":
        wait_for(lambda: "UpdateEndpoint" in geps.mutations(endpoint), 60, "UpdateEndpoint", interval=0.02)
    else:
        geps.wait(name, lambda o: (o["status"].get("deployment") or {}).get("stage") == "Baking", "a bake")
    operator.kill()
    assert not operator.alive()
    time.sleep(1)
    busy = geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    seen = max(c["seq"] for c in geps.admin.calls())
    operator.start()
    wait_for(
        lambda: geps.admin.calls(since=seen, endpoint=endpoint, operation="DescribeEndpoint"),
        60,
        "the restarted operator to describe the endpoint",
    )
    for number in (1, 2):
        wait_for(lambda n=number: geps.finish_bake(endpoint, n), 60, f"bake {number} to be ended")
    final = geps.wait_ready(name, 2, timeout=90)["status"]

    assert busy == "Updating", "the restart should happen while SageMaker is still deploying"
    described = geps.sagemaker().describe_endpoint(EndpointName=endpoint)
    assert geps.mutations(endpoint) == ["CreateEndpoint", "UpdateEndpoint"]
    assert final["revision"]["current"] == final["revision"]["desired"] != first["revision"]["current"]
    assert final["endpoint"]["configName"] == described["EndpointConfigName"]
    assert final["history"][0]["outcome"] == "Succeeded"
    assert final.get("pending") is None
    assert final["phase"] == "InService"
