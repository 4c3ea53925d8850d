"""Conformance: every server-side rule rejects bad input with a ValidationException and changes nothing.

botocore only checks required members, types and minimums; the rules below are the ones SageMaker enforces
itself (spec 1.4). The client used here has client-side validation turned off, so each case is decided
by the emulator. After each rejection the endpoint must look exactly as before and no timeline event
may have been recorded.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.component

GOOD_CANARY = {
    "Type": "CANARY",
    "WaitIntervalInSeconds": 60,
    "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
}


def blue_green(routing: dict[str, Any] | None = None, **policy: Any) -> dict[str, Any]:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing or GOOD_CANARY, **policy}}


def rolling(size: dict[str, Any], **policy: Any) -> dict[str, Any]:
    return {"RollingUpdatePolicy": {"MaximumBatchSize": size, "WaitIntervalInSeconds": 60, **policy}}


def percent(value: int) -> dict[str, Any]:
    return {"Type": "CAPACITY_PERCENT", "Value": value}


def count(value: int) -> dict[str, Any]:
    return {"Type": "INSTANCE_COUNT", "Value": value}


def alarms(*names: str) -> dict[str, Any]:
    return {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": n} for n in names]}}


UPDATE_CASES = [
    pytest.param(
        {"DeploymentConfig": blue_green({**GOOD_CANARY, "WaitIntervalInSeconds": 3601})},
        "'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 3600",
        id="wait-over-3600",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(TerminationWaitInSeconds=3601)},
        "terminationWaitInSeconds",
        id="termination-wait-over-3600",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(MaximumExecutionTimeoutInSeconds=28801)},
        "maximumExecutionTimeoutInSeconds",
        id="timeout-over-8h",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(MaximumExecutionTimeoutInSeconds=599)},
        "MaximumExecutionTimeoutInSeconds",
        id="timeout-under-600",
    ),
    pytest.param(
        {"DeploymentConfig": {**blue_green(), **alarms(*[f"a{i}" for i in range(11)])}},
        "'deploymentConfig.autoRollbackConfiguration.alarms' failed to satisfy constraint: Member must have length less than or equal to 10",
        id="eleven-alarms",
    ),
    pytest.param({"DeploymentConfig": {**blue_green(), **alarms("   ")}}, "alarmName", id="blank-alarm-name"),
    pytest.param(
        {"DeploymentConfig": {**blue_green(), **rolling(count(1))}},
        "only one of BlueGreenUpdatePolicy and RollingUpdatePolicy",
        id="both-policies",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green({**GOOD_CANARY, "CanarySize": count(3)})},
        "Invalid CanarySize",
        id="canary-over-half",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green({**GOOD_CANARY, "CanarySize": percent(51)})},
        "Invalid CanarySize",
        id="canary-percent-51",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green({"Type": "CANARY", "WaitIntervalInSeconds": 60})},
        "CanarySize is required",
        id="canary-without-size",
    ),
    pytest.param(
        {
            "DeploymentConfig": blue_green(
                {"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": percent(5)}
            )
        },
        "Invalid LinearStepSize",
        id="linear-under-10-percent",
    ),
    pytest.param(
        {
            "DeploymentConfig": blue_green(
                {"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": count(3)}
            )
        },
        "Invalid LinearStepSize",
        id="linear-over-half",
    ),
    pytest.param(
        {
            "DeploymentConfig": blue_green(
                {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0, "LinearStepSize": count(1)}
            )
        },
        "LinearStepSize is not allowed",
        id="size-for-the-wrong-type",
    ),
    pytest.param(
        {
            "DeploymentConfig": blue_green(
                {**GOOD_CANARY, "CanarySize": {"Type": "CAPACITY_PERCENTAGE", "Value": 25}}
            )
        },
        "Member must satisfy enum value set: [INSTANCE_COUNT, CAPACITY_PERCENT]",
        id="documented-typo-capacity-percentage",
    ),
    pytest.param(
        {"DeploymentConfig": rolling(percent(60))}, "Invalid MaximumBatchSize", id="rolling-batch-over-half"
    ),
    pytest.param(
        {"DeploymentConfig": rolling(percent(4))},
        "Invalid MaximumBatchSize",
        id="rolling-batch-under-5-percent",
    ),
    pytest.param(
        {"DeploymentConfig": rolling(count(3))}, "Invalid MaximumBatchSize", id="rolling-batch-3-of-4"
    ),
    pytest.param(
        {"DeploymentConfig": rolling(count(1)), "EndpointConfigName": "valid-multi"},
        "more than one production variant",
        id="rolling-multi-variant",
    ),
    pytest.param(
        {"DeploymentConfig": rolling(count(1)), "EndpointConfigName": "valid-serverless"},
        "serverless",
        id="rolling-serverless",
    ),
    pytest.param(
        {
            "DeploymentConfig": blue_green(
                {**GOOD_CANARY, "WaitIntervalInSeconds": 3600},
                TerminationWaitInSeconds=3600,
                MaximumExecutionTimeoutInSeconds=3600,
            )
        },
        "must be larger than the total waiting time of 7200 seconds",
        id="timeout-not-above-waits",
    ),
    pytest.param(
        {
            "DeploymentConfig": rolling(
                count(1), MaximumExecutionTimeoutInSeconds=600, WaitIntervalInSeconds=200
            )
        },
        "must be larger than the total waiting time of 800 seconds",
        id="rolling-timeout-not-above-waits",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(), "EndpointConfigName": "valid-renamed"},
        "variant names",
        id="variant-names-differ",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(), "EndpointConfigName": "valid-single"},
        "too few for CanarySize",
        id="canary-on-one-instance",
    ),
    pytest.param(
        {"DeploymentConfig": blue_green(), "RetainDeploymentConfig": True},
        "RetainDeploymentConfig",
        id="retain-and-new-config",
    ),
    pytest.param(
        {"ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DesiredWeight"}]},
        "requires RetainAllVariantProperties",
        id="exclude-without-retain",
    ),
    pytest.param({"EndpointConfigName": "valid-v1"}, "already uses", id="same-config"),
    pytest.param(
        {"EndpointConfigName": "no-such-config"},
        'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/no-such-config"',
        id="missing-config",
    ),
    pytest.param(
        {"EndpointName": "no-such-endpoint"},
        'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/no-such-endpoint"',
        id="missing-endpoint",
    ),
    pytest.param(
        {"EndpointConfigName": "bad_name"},
        "Member must satisfy regular expression pattern",
        id="config-name-pattern",
    ),
]


@pytest.fixture
def valid(endpoints: Any) -> str:
    """Endpoint 'valid' InService on valid-v1 (4 instances, created with a canary DeploymentConfig)."""
    sagemaker = endpoints.sagemaker
    for version in (1, 2):
        endpoints.model(f"valid-m{version}", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/model:{version}")
        endpoints.config(f"valid-v{version}", f"valid-m{version}")
    endpoints.config("valid-renamed", "valid-m2", variant="Renamed")
    endpoints.config("valid-single", "valid-m2", 1)
    sagemaker.create_endpoint_config(
        EndpointConfigName="valid-multi",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "valid-m2",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            },
            {
                "VariantName": "Second",
                "ModelName": "valid-m2",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            },
        ],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="valid-serverless",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "valid-m2",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName="valid", EndpointConfigName="valid-v1", DeploymentConfig=blue_green()
    )
    endpoints.admin.advance(3600)
    endpoints.wait("valid", lambda d: d["EndpointStatus"] == "InService")
    return "valid"


@pytest.mark.parametrize(("request_fields", "message"), UPDATE_CASES)
def test_a_bad_update_is_rejected_and_changes_nothing(
    request_fields: dict[str, Any], message: str, valid: str, raw_sagemaker: Any, endpoints: Any
) -> None:
    before = endpoints.sagemaker.describe_endpoint(EndpointName=valid)
    events = len(endpoints.admin.timeline())
    with pytest.raises(ClientError) as error:
        raw_sagemaker.update_endpoint(
            **{"EndpointName": valid, "EndpointConfigName": "valid-v2", **request_fields}
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert message in error.value.response["Error"]["Message"]
    after = endpoints.sagemaker.describe_endpoint(EndpointName=valid)
    before.pop("ResponseMetadata")
    after.pop("ResponseMetadata")
    assert after == before
    assert len(endpoints.admin.timeline()) == events


@pytest.mark.parametrize(
    ("deployment", "message"),
    [
        pytest.param(
            blue_green({**GOOD_CANARY, "CanarySize": count(3)}), "Invalid CanarySize", id="canary-over-half"
        ),
        pytest.param({**blue_green(), **rolling(count(1))}, "only one of", id="both-policies"),
        pytest.param(
            blue_green({**GOOD_CANARY, "WaitIntervalInSeconds": 4000}),
            "less than or equal to 3600",
            id="wait-over-3600",
        ),
    ],
)
def test_a_bad_create_is_rejected_and_creates_nothing(
    deployment: dict[str, Any], message: str, valid: str, raw_sagemaker: Any
) -> None:
    with pytest.raises(ClientError, match=message):
        raw_sagemaker.create_endpoint(
            EndpointName="never", EndpointConfigName="valid-v1", DeploymentConfig=deployment
        )
    with pytest.raises(ClientError, match="Could not find endpoint"):
        raw_sagemaker.describe_endpoint(EndpointName="never")


@pytest.mark.parametrize(
    ("operation", "fields", "message"),
    [
        pytest.param(
            "create_model",
            {
                "ModelName": "m",
                "PrimaryContainer": {"Image": "i"},
                "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
            },
            "'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
            id="51-tags",
        ),
        pytest.param(
            "create_model",
            {"ModelName": "x" * 64, "PrimaryContainer": {"Image": "i"}},
            "length less than or equal to 63",
            id="long-name",
        ),
        pytest.param(
            "create_model", {"ModelName": "m"}, "PrimaryContainer or Containers", id="model-without-container"
        ),
        pytest.param(
            "create_endpoint_config",
            {
                "EndpointConfigName": "c",
                "ProductionVariants": [
                    {
                        "VariantName": "v",
                        "ModelName": "nope",
                        "InstanceType": "ml.m5.xlarge",
                        "InitialInstanceCount": 1,
                    }
                ],
            },
            'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nope"',
            id="config-for-missing-model",
        ),
        pytest.param(
            "create_endpoint_config",
            {
                "EndpointConfigName": "c",
                "ProductionVariants": [
                    {
                        "VariantName": "v",
                        "ModelName": "valid-m1",
                        "InstanceType": "ml.m5.xlarge",
                        "InitialInstanceCount": 0,
                    }
                ],
            },
            "InitialInstanceCount",
            id="zero-instances",
        ),
        pytest.param(
            "create_endpoint_config",
            {
                "EndpointConfigName": "c",
                "ProductionVariants": [
                    {
                        "VariantName": "v",
                        "ModelName": "valid-m1",
                        "InstanceType": "ml.m99.huge",
                        "InitialInstanceCount": 1,
                    }
                ],
            },
            "Member must satisfy enum value set",
            id="unknown-instance-type",
        ),
        pytest.param(
            "create_endpoint_config",
            {
                "EndpointConfigName": "valid-v1",
                "ProductionVariants": [
                    {
                        "VariantName": "v",
                        "ModelName": "valid-m1",
                        "InstanceType": "ml.m5.xlarge",
                        "InitialInstanceCount": 1,
                    }
                ],
            },
            'Cannot create already existing endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/valid-v1"',
            id="config-exists",
        ),
        pytest.param(
            "create_endpoint",
            {"EndpointName": "valid", "EndpointConfigName": "valid-v1"},
            'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/valid"',
            id="endpoint-exists",
        ),
        pytest.param(
            "list_tags",
            {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/valid", "MaxResults": 10},
            "MaxResults",
            id="list-tags-max-results-min-50",
        ),
        pytest.param(
            "update_endpoint_weights_and_capacities",
            {
                "EndpointName": "valid",
                "DesiredWeightsAndCapacities": [{"VariantName": "Nope", "DesiredInstanceCount": 2}],
            },
            "Nope",
            id="weights-for-unknown-variant",
        ),
    ],
)
def test_other_bad_requests_are_rejected(
    operation: str, fields: dict[str, Any], message: str, valid: str, raw_sagemaker: Any
) -> None:
    with pytest.raises(ClientError) as error:
        getattr(raw_sagemaker, operation)(**fields)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert message in error.value.response["Error"]["Message"]


@pytest.mark.parametrize("single_instance", ["reject", "all-at-once"])
def test_single_instance_canary_is_a_setting(
    single_instance: str, valid: str, raw_sagemaker: Any, endpoints: Any
) -> None:
    endpoints.admin.configure(single_instance=single_instance, speed=2000)
    endpoints.config("one-v1", "valid-m1", 1)
    endpoints.config("one-v2", "valid-m2", 1)
    raw_sagemaker.create_endpoint(EndpointName="one", EndpointConfigName="one-v1")
    endpoints.wait("one", lambda d: d["EndpointStatus"] == "InService")
    if single_instance == "reject":
        with pytest.raises(ClientError, match="too few for CanarySize"):
            raw_sagemaker.update_endpoint(
                EndpointName="one", EndpointConfigName="one-v2", DeploymentConfig=blue_green()
            )
        return
    raw_sagemaker.update_endpoint(
        EndpointName="one", EndpointConfigName="one-v2", DeploymentConfig=blue_green()
    )
    endpoints.wait("one", lambda d: d["EndpointStatus"] == "InService")
    phases = [
        e["name"]
        for e in endpoints.admin.timeline("one")
        if e["event"] == "phase" and e["target_config"] == "one-v2"
    ]
    assert phases == ["Accepted", "Provisioning", "ActivatingTraffic", "Baking", "Terminating"], (
        "all-at-once with the final bake"
    )


def test_busy_endpoints_refuse_every_mutation(valid: str, raw_sagemaker: Any, endpoints: Any) -> None:
    raw_sagemaker.update_endpoint(EndpointName=valid, EndpointConfigName="valid-v2")
    busy = 'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/valid".'
    attempts = [
        lambda: raw_sagemaker.update_endpoint(EndpointName=valid, EndpointConfigName="valid-v1"),
        lambda: raw_sagemaker.delete_endpoint(EndpointName=valid),
        lambda: raw_sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=valid,
            DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 5}],
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as error:
            attempt()
        assert error.value.response["Error"] == {"Code": "ValidationException", "Message": busy}
    raw_sagemaker.create_endpoint(EndpointName="young", EndpointConfigName="valid-v1")
    with pytest.raises(ClientError, match=r'Cannot update in-progress endpoint ".*endpoint/young"'):
        raw_sagemaker.update_endpoint(EndpointName="young", EndpointConfigName="valid-v2")
    assert (
        endpoints.sagemaker.describe_endpoint(EndpointName=valid)["PendingDeploymentSummary"][
            "EndpointConfigName"
        ]
        == "valid-v2"
    )
