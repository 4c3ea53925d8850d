"""Conformance of the rest of the SageMaker surface: resources, tags, lists, scaling, retain flags,
exclusions, and that every operation's response parses through botocore's output shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import FROZEN, REGION, StrictOutputChecker, make_client

pytestmark = pytest.mark.component

CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 60,
            "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
        }
    }
}
OPERATIONS = {
    "CreateModel",
    "DescribeModel",
    "DeleteModel",
    "ListModels",
    "CreateEndpointConfig",
    "DescribeEndpointConfig",
    "DeleteEndpointConfig",
    "ListEndpointConfigs",
    "CreateEndpoint",
    "UpdateEndpoint",
    "DescribeEndpoint",
    "DeleteEndpoint",
    "ListEndpoints",
    "UpdateEndpointWeightsAndCapacities",
    "AddTags",
    "ListTags",
    "DeleteTags",
}


def phases(admin: Any, endpoint: str, target: str) -> list[str]:
    return [
        e["name"] for e in admin.timeline(endpoint) if e["event"] == "phase" and e["target_config"] == target
    ]


def test_every_operation_answers_in_its_botocore_output_shape(
    endpoints: Any, output_checker: StrictOutputChecker
) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=2000)
    endpoint, _ = endpoints.endpoint("shape")
    arn = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    sagemaker.describe_model(ModelName="shape-m1")
    sagemaker.describe_endpoint_config(EndpointConfigName="shape-v1")
    sagemaker.list_models()
    sagemaker.list_endpoint_configs()
    sagemaker.list_endpoints()
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "fraud"}])
    sagemaker.list_tags(ResourceArn=arn)
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="shape-v2", DeploymentConfig=CANARY)
    endpoints.watch(endpoint)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 5}],
    )
    endpoints.watch(endpoint)
    sagemaker.delete_endpoint(EndpointName=endpoint)
    sagemaker.delete_endpoint_config(EndpointConfigName="shape-v1")
    sagemaker.delete_model(ModelName="shape-m1")
    assert set(output_checker.checked) == OPERATIONS
    assert output_checker.checked.count("DescribeEndpoint") > 3, "every phase's DescribeEndpoint was checked"


def test_models_and_configs_round_trip(endpoints: Any) -> None:
    sagemaker = endpoints.sagemaker
    endpoints.model("rt-m", "repo/image:7")
    endpoints.config(
        "rt-c",
        "rt-m",
        3,
        DataCaptureConfig={
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": "s3://capture/x",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        },
    )
    model = sagemaker.describe_model(ModelName="rt-m")
    assert model["ModelArn"] == f"arn:aws:sagemaker:{REGION}:123456789012:model/rt-m"
    assert model["PrimaryContainer"] == {"Image": "repo/image:7", "ModelDataUrl": "s3://models/rt-m.tar.gz"}
    config = sagemaker.describe_endpoint_config(EndpointConfigName="rt-c")
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 3
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 20
    sagemaker.delete_endpoint_config(EndpointConfigName="rt-c")
    sagemaker.delete_model(ModelName="rt-m")
    for call, kind in (
        (lambda: sagemaker.describe_model(ModelName="rt-m"), "model"),
        (lambda: sagemaker.describe_endpoint_config(EndpointConfigName="rt-c"), "endpoint configuration"),
    ):
        with pytest.raises(
            ClientError, match=f'Could not find {kind} "arn:aws:sagemaker:us-east-1:123456789012:'
        ):
            call()


def test_lists_filter_sort_and_page(endpoints: Any) -> None:
    sagemaker = endpoints.sagemaker
    for name in ("alpha", "beta", "gamma", "alpine"):
        endpoints.model(name)
    page = sagemaker.list_models(NameContains="al", SortBy="Name", SortOrder="Ascending", MaxResults=1)
    assert [m["ModelName"] for m in page["Models"]] == ["alpha"]
    rest = sagemaker.list_models(
        NameContains="al", SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"]
    )
    assert [m["ModelName"] for m in rest["Models"]] == ["alpine"] and "NextToken" not in rest
    newest_first = [m["ModelName"] for m in sagemaker.list_models()["Models"]]
    assert newest_first == ["alpine", "gamma", "beta", "alpha"]
    endpoints.admin.configure(speed=FROZEN)
    endpoints.endpoint("listed")
    sagemaker.create_endpoint(EndpointName="young", EndpointConfigName="listed-v1")
    creating = sagemaker.list_endpoints(StatusEquals="Creating")["Endpoints"]
    assert [e["EndpointName"] for e in creating] == ["young"]
    assert {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]} == {"listed", "young"}


def test_tags_on_every_resource_kind(endpoints: Any) -> None:
    sagemaker = endpoints.sagemaker
    endpoints.admin.configure(speed=2000)
    sagemaker.create_model(
        ModelName="tagged", PrimaryContainer={"Image": "i"}, Tags=[{"Key": "a", "Value": "1"}]
    )
    endpoints.config("tagged-c", "tagged", Tags=[{"Key": "b", "Value": "2"}])
    sagemaker.create_endpoint(
        EndpointName="tagged", EndpointConfigName="tagged-c", Tags=[{"Key": "c", "Value": "3"}]
    )
    arn = "arn:aws:sagemaker:us-east-1:123456789012:{}/{}"
    assert sagemaker.list_tags(ResourceArn=arn.format("model", "tagged"))["Tags"] == [
        {"Key": "a", "Value": "1"}
    ]
    assert sagemaker.list_tags(ResourceArn=arn.format("endpoint-config", "tagged-c"))["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
    endpoint_arn = arn.format("endpoint", "tagged")
    sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "c", "Value": "4"}, {"Key": "d", "Value": ""}])
    assert sagemaker.list_tags(ResourceArn=endpoint_arn)["Tags"] == [
        {"Key": "c", "Value": "4"},
        {"Key": "d", "Value": ""},
    ]
    sagemaker.delete_tags(ResourceArn=endpoint_arn, TagKeys=["c"])
    assert sagemaker.list_tags(ResourceArn=endpoint_arn)["Tags"] == [{"Key": "d", "Value": ""}]
    with pytest.raises(ClientError, match=r'Could not find endpoint ".*endpoint/ghost"'):
        sagemaker.list_tags(ResourceArn=arn.format("endpoint", "ghost"))


def test_delete_endpoint_goes_through_deleting(endpoints: Any) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=FROZEN)
    endpoint, _ = endpoints.endpoint("gone")
    sagemaker.delete_endpoint(EndpointName=endpoint)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Deleting"
    admin.advance(admin.settings()["deletion_seconds"])
    sagemaker.get_waiter("endpoint_deleted").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
    )
    assert [e["name"] for e in admin.timeline(endpoint) if e["event"] == "outcome"] == ["Created", "Deleted"]


def test_weights_and_capacities_scale_without_a_pending_deployment(endpoints: Any) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=FROZEN, provisioning_base_seconds=60, provisioning_seconds_per_instance=30)
    endpoint, _ = endpoints.endpoint("scaled")
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "AllTraffic", "DesiredInstanceCount": 6, "DesiredWeight": 2.0}
        ],
    )
    observed = endpoints.step(endpoint)
    scaling = observed[0]
    assert scaling["EndpointStatus"] == "Updating" and "PendingDeploymentSummary" not in scaling
    variant = scaling["ProductionVariants"][0]
    assert (variant["CurrentInstanceCount"], variant["DesiredInstanceCount"], variant["DesiredWeight"]) == (
        4,
        6,
        2.0,
    )
    assert variant["VariantStatus"][0]["StatusMessage"] == "Scaling out desired instance count to 6."
    final = observed[-1]["ProductionVariants"][0]
    assert (final["CurrentInstanceCount"], final["CurrentWeight"]) == (6, 2.0)
    duration = (
        observed[-1]["LastModifiedTime"].timestamp() - variant["VariantStatus"][0]["StartTime"].timestamp()
    )
    assert duration == pytest.approx(60 + 2 * 30, abs=1.5)


@pytest.mark.parametrize(
    ("retain", "exclude", "desired"), [(False, [], 4), (True, [], 6), (True, ["DesiredInstanceCount"], 4)]
)
def test_retain_all_variant_properties(
    retain: bool, exclude: list[str], desired: int, endpoints: Any
) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=2000)
    endpoint, _ = endpoints.endpoint("retained")
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 6}],
    )
    endpoints.watch(endpoint)
    extra: dict[str, Any] = {"RetainAllVariantProperties": True} if retain else {}
    if exclude:
        extra["ExcludeRetainedVariantProperties"] = [{"VariantPropertyType": p} for p in exclude]
    admin.configure(speed=FROZEN)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="retained-v2", **extra)
    admin.advance(5)  # past the seconds in which no deployment is shown (update_summary_delay_seconds)
    pending = sagemaker.describe_endpoint(EndpointName=endpoint)["PendingDeploymentSummary"][
        "ProductionVariants"
    ][0]
    assert pending["DesiredInstanceCount"] == desired
    admin.advance(3600)
    assert endpoints.watch(endpoint)[-1]["ProductionVariants"][0]["CurrentInstanceCount"] == desired


def test_retain_deployment_config_reuses_the_last_one(endpoints: Any) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=2000)
    endpoints.model("reuse-m1")
    endpoints.model("reuse-m2")
    for version in (1, 2, 3):
        endpoints.config(f"reuse-v{version}", f"reuse-m{1 + version % 2}")
    sagemaker.create_endpoint(EndpointName="reuse", EndpointConfigName="reuse-v1", DeploymentConfig=CANARY)
    assert endpoints.watch("reuse")[-1]["LastDeploymentConfig"] == CANARY
    sagemaker.update_endpoint(
        EndpointName="reuse", EndpointConfigName="reuse-v2", RetainDeploymentConfig=True
    )
    endpoints.watch("reuse")
    assert phases(admin, "reuse", "reuse-v2").count("ActivatingTraffic") == 2, "canary from the create call"
    sagemaker.update_endpoint(EndpointName="reuse", EndpointConfigName="reuse-v3")
    final = endpoints.watch("reuse")[-1]
    assert "LastDeploymentConfig" not in final
    assert phases(admin, "reuse", "reuse-v3") == [
        "Accepted",
        "Provisioning",
        "ActivatingTraffic",
        "Terminating",
    ]


@pytest.mark.parametrize("exclusion", ["inf1", "marketplace", "serverless"])
def test_excluded_endpoints_fall_back_to_all_at_once_without_guardrails(
    exclusion: str, endpoints: Any
) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(speed=2000)
    endpoints.model("ex-m1")
    if exclusion == "marketplace":
        package = "arn:aws:sagemaker:us-east-1:865070037744:model-package/vendor-model-1"
        sagemaker.create_model(
            ModelName="ex-m2", PrimaryContainer={"ModelPackageName": package}, EnableNetworkIsolation=True
        )
    else:
        endpoints.model("ex-m2", "repo/image:2")
    for version in (1, 2):
        if exclusion == "serverless":
            sagemaker.create_endpoint_config(
                EndpointConfigName=f"ex-v{version}",
                ProductionVariants=[
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": f"ex-m{version}",
                        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
                    }
                ],
            )
        else:
            endpoints.config(
                f"ex-v{version}",
                f"ex-m{version}",
                instance_type="ml.inf1.xlarge" if exclusion == "inf1" else "ml.m5.xlarge",
            )
    sagemaker.create_endpoint(EndpointName="ex", EndpointConfigName="ex-v1")
    endpoints.watch("ex")
    alarmed = {**CANARY, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "held"}]}}
    admin.hold_alarm("held", "ALARM")
    sagemaker.update_endpoint(EndpointName="ex", EndpointConfigName="ex-v2", DeploymentConfig=alarmed)
    final = endpoints.watch("ex")[-1]
    assert final["EndpointConfigName"] == "ex-v2", "no alarm monitoring"
    assert final["LastDeploymentConfig"] == alarmed
    assert phases(admin, "ex", "ex-v2") == ["Accepted", "Provisioning", "ActivatingTraffic", "Terminating"]


def test_throttling_injection(emulator: Any, endpoints: Any) -> None:
    admin = endpoints.admin
    impatient = make_client(emulator, "sagemaker", attempts=1)
    admin.throttle("ListEndpoints", rate=0, count=2)
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            impatient.list_endpoints()
        assert error.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    impatient.list_endpoints()
    admin.throttle("ListEndpoints", rate=0, count=2)
    response = endpoints.sagemaker.list_endpoints()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2, "botocore's standard retries absorb throttling"
    codes = [c["error_code"] for c in admin.calls(operation="ListEndpoints")]
    assert codes == [
        "ThrottlingException",
        "ThrottlingException",
        None,
        "ThrottlingException",
        "ThrottlingException",
        None,
    ]
    admin.throttle("DescribeAlarms", rate=0)
    with pytest.raises(ClientError) as cw_error:
        make_client(emulator, "cloudwatch", attempts=1).describe_alarms()
    assert cw_error.value.response["Error"]["Code"] == "Throttling"
    admin.throttle("*", rate=5, burst=2)
    outcomes = []
    for _ in range(6):
        try:
            impatient.list_models()
            outcomes.append("ok")
        except ClientError:
            outcomes.append("throttled")
    assert outcomes[:2] == ["ok", "ok"] and "throttled" in outcomes


def test_the_call_log_records_operation_endpoint_and_error(endpoints: Any) -> None:
    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName="nobody")
    endpoints.model("logged")
    calls = admin.calls(service="sagemaker")
    assert [(c["operation"], c["endpoint"], c["error_code"], c["http_status"]) for c in calls] == [
        ("DescribeEndpoint", "nobody", "ValidationException", 400),
        ("CreateModel", None, None, 200),
    ]
    assert calls[0]["seq"] < calls[1]["seq"] and calls[0]["wall_time"] <= calls[1]["wall_time"]
    assert admin.calls(since=calls[0]["seq"], service="sagemaker") == calls[1:]


def test_alarm_reads_go_through_the_cloudwatch_api_and_are_internal(endpoints: Any) -> None:
    sagemaker, admin, cloudwatch = endpoints.sagemaker, endpoints.admin, endpoints.cloudwatch
    admin.configure(speed=2000)
    cloudwatch.put_metric_alarm(
        AlarmName="watched",
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=100000,
        ComparisonOperator="GreaterThanThreshold",
    )
    endpoint, _ = endpoints.endpoint("internal")
    sagemaker.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName="internal-v2",
        DeploymentConfig={**CANARY, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "watched"}]}},
    )
    endpoints.watch(endpoint)
    assert admin.calls(operation="DescribeAlarms") == []
    internal = admin.calls(operation="DescribeAlarms", include_internal=True)
    assert internal and all(c["internal"] and c["error_code"] is None for c in internal)


def test_a_held_alarm_state_survives_set_alarm_state(endpoints: Any) -> None:
    admin, cloudwatch = endpoints.admin, endpoints.cloudwatch
    cloudwatch.put_metric_alarm(
        AlarmName="sticky",
        Namespace="N",
        MetricName="M",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )

    def state() -> str:
        return str(cloudwatch.describe_alarms(AlarmNames=["sticky"])["MetricAlarms"][0]["StateValue"])

    admin.hold_alarm("sticky", "ALARM")
    assert state() == "ALARM"
    cloudwatch.set_alarm_state(AlarmName="sticky", StateValue="OK", StateReason="someone tries")
    assert state() == "ALARM"
    assert admin.holds()[0]["state"] == "ALARM"
    assert admin.release_alarm("sticky") is True
    cloudwatch.set_alarm_state(AlarmName="sticky", StateValue="OK", StateReason="now it works")
    assert state() == "OK"


def test_cloudwatch_query_protocol_and_unknown_operations(emulator: Any, endpoints: Any) -> None:
    import requests

    endpoints.cloudwatch.put_metric_alarm(
        AlarmName="q",
        Namespace="N",
        MetricName="M",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    response = requests.post(
        emulator.url,
        data={"Action": "DescribeAlarms", "Version": "2010-08-01"},
        timeout=10,
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"
        },
    )
    assert response.status_code == 200 and "<AlarmName>q</AlarmName>" in response.text
    with pytest.raises(ClientError) as error:
        endpoints.sagemaker.list_training_jobs()
    assert error.value.response["Error"]["Code"] == "UnknownOperationException"


def test_regions_are_separate(emulator: Any, endpoints: Any) -> None:
    endpoints.model("here")
    west = make_client(emulator, "sagemaker", region="us-west-2")
    assert west.list_models()["Models"] == []
    west.create_model(ModelName="here", PrimaryContainer={"Image": "i"})
    assert west.describe_model(ModelName="here")["ModelArn"].startswith("arn:aws:sagemaker:us-west-2:")


def test_a_config_is_invisible_to_create_endpoint_for_the_read_delay(endpoints: Any) -> None:
    endpoints.admin.configure(config_read_delay_seconds=3600)
    endpoints.model("fresh-m")
    endpoints.config("fresh-c", "fresh-m")
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        endpoints.sagemaker.create_endpoint(EndpointName="fresh", EndpointConfigName="fresh-c")
    endpoints.admin.advance(3601)
    endpoints.sagemaker.create_endpoint(EndpointName="fresh", EndpointConfigName="fresh-c")


def test_the_timeline_lets_an_observer_measure_its_lag(endpoints: Any) -> None:
    import time

    sagemaker, admin = endpoints.sagemaker, endpoints.admin
    admin.configure(
        speed=200,
        provisioning_base_seconds=40,
        provisioning_seconds_per_instance=10,
        activation_seconds=300,  # 1.5 s of real time: no poll on a loaded machine misses it
        termination_seconds=40,
    )
    endpoint, _ = endpoints.endpoint("lag")
    polls: list[tuple[float, float, str]] = [
        (time.time(), time.time(), "InService")
    ]  # (sent, answered, phase)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="lag-v2")
    while True:
        sent = time.time()
        status = sagemaker.describe_endpoint(EndpointName=endpoint)
        pending = status.get("PendingDeploymentSummary") or {"ProductionVariants": [{}]}
        phase = (
            pending["ProductionVariants"][0].get("VariantStatus") or [{"Status": status["EndpointStatus"]}]
        )[0]["Status"]
        polls.append((sent, time.time(), phase))
        if status["EndpointStatus"] == "InService":
            break
        time.sleep(0.01)
    events = [e for e in admin.timeline(endpoint) if e["target_config"] == "lag-v2"]
    changes = {"Provisioning": "Creating", "ActivatingTraffic": "ActivatingTraffic", "Succeeded": "InService"}
    for event in events:
        if event["name"] in changes:
            first = next(i for i, p in enumerate(polls) if i and p[2] == changes[event["name"]])
            missed_by, seen_by = polls[first - 1], polls[first]
            lag = seen_by[1] - event["wall_time"]
            assert lag >= -0.005, f"{event['name']}: seen {-lag:.3f}s before it became visible"
            assert event["wall_time"] >= missed_by[0] - 0.005, (
                f"{event['name']}: visible {missed_by[0] - event['wall_time']:.3f}s before a poll that missed it"
            )
    by_name = {e["name"]: e for e in events}
    simulated = by_name["ActivatingTraffic"]["sim_time"] - by_name["Provisioning"]["sim_time"]
    real = by_name["ActivatingTraffic"]["wall_time"] - by_name["Provisioning"]["wall_time"]
    assert simulated == pytest.approx(80, abs=0.01) and real == pytest.approx(80 / 200, abs=0.05)
