"""The operator reads what real recorded SageMaker responses show (spec 13), end to end.

DescribeEndpoint goes through boto3 and the SageMaker adapter into ``core.observed`` snapshots, and
``core.progress`` turns them into the stage the status shows. The recorded quirks must not confuse
either: the seconds after UpdateEndpoint without a deployment summary, the old fleet at
``CurrentInstanceCount: 0`` in the final bake, the pending ``InstanceType`` without ``ml.``, and a
serverless variant without ``Desired*`` fields.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import FROZEN
from tests import corekit
from tests.reconcilerkit import World

from sagemaker_guardrails.core.observed import EndpointSnapshot, EndpointStatus
from sagemaker_guardrails.core.progress import Stage, progress

pytestmark = pytest.mark.component

SPEC = corekit.desired(corekit.spec(strategy="Canary", count=4))  # canary 25 %, W = 60, T = 30
TIMINGS = {
    "speed": FROZEN,
    "provisioning_base_seconds": 60,
    "provisioning_seconds_per_instance": 10,
    "activation_seconds": 20,
    "termination_seconds": 20,
}


def describe(world: World, name: str) -> EndpointSnapshot:
    snapshot = world.factory("us-east-1").sagemaker.describe_endpoint(name)
    assert snapshot is not None
    return snapshot


def where(snapshot: EndpointSnapshot) -> Any:
    return progress(SPEC.spec.deployment, snapshot, creating=False, instances=4)


def test_a_canary_as_the_operator_reads_it(emulator: Any, endpoints: Any) -> None:
    world = World(emulator)
    world.alarm()  # the spec's rollback alarm, in INSUFFICIENT_DATA: it does not trip
    admin = endpoints.admin
    admin.configure(**TIMINGS)
    endpoint, old = endpoints.endpoint("read")
    endpoints.sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName="read-v2", DeploymentConfig=SPEC.deployment_config
    )
    window = describe(world, endpoint)
    assert window.status is EndpointStatus.UPDATING and window.busy and window.pending is None
    assert window.target_config == old and window.variants[0].statuses == ()
    assert (where(window).stage, where(window).step) == (Stage.PROVISIONING, 0)

    admin.advance(3 + 100 + 20 + 1)  # window, provisioning 4 instances, canary activation
    canary = describe(world, endpoint)
    assert canary.pending is not None and canary.pending.config_name == "read-v2"
    green = canary.pending.variants[0]
    assert green.instance_type == "m5.xlarge" and green.current_instance_count == 1
    assert (where(canary).stage, where(canary).step, where(canary).traffic_percent) == (Stage.BAKING, 1, 25)
    assert canary.variants[0].current_instance_count == 4

    admin.advance(60 + 20)  # canary bake, full activation
    final = describe(world, endpoint)
    blue = final.variants[0]
    assert (blue.current_instance_count, blue.desired_instance_count) == (0, 4), "spec 13: drained"
    state = where(final)
    assert (state.stage, state.step, state.steps, state.traffic_percent) == (Stage.BAKING, 2, 2, 100)
    assert final.pending is not None and final.pending.variants[0].statuses[0].start_time is not None
    started = final.pending.variants[0].statuses[0].start_time
    assert state.bake_ends_at == started + timedelta(seconds=30)

    admin.advance(3600)
    done = describe(world, endpoint)
    assert done.status is EndpointStatus.IN_SERVICE and done.config_name == "read-v2"
    assert done.variants[0].current_instance_count == 4 and done.pending is None


def test_a_serverless_variant_as_the_operator_reads_it(emulator: Any, endpoints: Any) -> None:
    world = World(emulator)
    endpoints.model("read-serverless-m")
    endpoints.sagemaker.create_endpoint_config(
        EndpointConfigName="read-serverless-c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "read-serverless-m",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    endpoints.sagemaker.create_endpoint(
        EndpointName="read-serverless", EndpointConfigName="read-serverless-c"
    )
    endpoints.admin.advance(3600)
    variant = describe(world, "read-serverless").variants[0]
    assert variant.current_instance_count == 0
    assert variant.desired_instance_count is None and variant.desired_weight is None
    assert variant.current_weight == 1.0
