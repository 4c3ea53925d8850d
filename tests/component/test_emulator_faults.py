"""Conformance: injected 5xx and latency, and the emulator's own failures, as botocore sees them.

A server error is answered in the protocol of the request (AWS JSON 1.1 for SageMaker, JSON 1.0 or
query XML for CloudWatch), so botocore raises a ``ClientError`` with the AWS code (``InternalFailure``,
``ServiceUnavailable``) and its standard retry mode treats it as transient. ``mode="before"`` refuses
the call before anything happens; ``mode="after"`` performs it and loses the response. A bug inside
the emulator answers the same way (``InternalFailure``, HTTP 500) and logs its traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import botocore.session
import pytest
import requests
from botocore.exceptions import ClientError
from botocore.parsers import QueryParser
from conftest import FROZEN, make_client

from sagemaker_guardrails.emulator import AdminError
from sagemaker_guardrails.emulator import sagemaker as emulated

pytestmark = pytest.mark.component


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return {"code": response["Error"]["Code"], "status": response["ResponseMetadata"]["HTTPStatusCode"]}


def test_server_errors_refuse_the_next_calls(endpoints: Any, raw_sagemaker: Any) -> None:
    admin = endpoints.admin
    endpoint, _ = endpoints.endpoint("refused")
    admin.server_error("DescribeEndpoint", count=2)
    for _ in range(2):
        assert error_of(raw_sagemaker.describe_endpoint, EndpointName=endpoint) == {
            "code": "InternalFailure",
            "status": 500,
        }
    assert raw_sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    assert admin.faults()["server_errors"] == [], "the fault ends after count hits"
    calls = admin.calls(operation="DescribeEndpoint", endpoint=endpoint)
    assert [(c["http_status"], c["error_code"], c["fault"]) for c in calls[-3:]] == [
        (500, "InternalFailure", "server-error"),
        (500, "InternalFailure", "server-error"),
        (200, None, None),
    ]


def test_a_refused_update_changes_nothing_and_a_lost_one_took_effect(
    endpoints: Any, raw_sagemaker: Any
) -> None:
    admin = endpoints.admin
    admin.configure(speed=FROZEN)
    endpoint, old = endpoints.endpoint("ambiguous")
    admin.server_error("UpdateEndpoint", status=503, count=1)
    refused = error_of(
        raw_sagemaker.update_endpoint, EndpointName=endpoint, EndpointConfigName="ambiguous-v2"
    )
    assert refused == {"code": "ServiceUnavailable", "status": 503}
    described = raw_sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService" and "LastDeploymentConfig" not in described
    admin.server_error("UpdateEndpoint", mode="after", count=1)
    lost = error_of(raw_sagemaker.update_endpoint, EndpointName=endpoint, EndpointConfigName="ambiguous-v2")
    assert lost == {"code": "InternalFailure", "status": 500}
    described = raw_sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Updating" and described["EndpointConfigName"] == old
    admin.advance(3600)
    assert raw_sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == "ambiguous-v2"
    faults = [c["fault"] for c in admin.calls(operation="UpdateEndpoint", endpoint=endpoint)]
    assert faults == ["server-error", "lost-response"]


def test_a_rate_hits_a_seeded_share_of_the_calls(endpoints: Any, raw_sagemaker: Any) -> None:
    admin = endpoints.admin
    endpoint, _ = endpoints.endpoint("flaky")

    def pattern() -> list[bool]:
        admin.server_error("DescribeEndpoint", rate=0.5, seed=7)
        hits = []
        for _ in range(40):
            try:
                raw_sagemaker.describe_endpoint(EndpointName=endpoint)
                hits.append(False)
            except ClientError:
                hits.append(True)
        admin.clear_server_error("DescribeEndpoint")
        return hits

    first, second = pattern(), pattern()
    assert first == second, "the same seed gives the same calls"
    assert 8 <= sum(first) <= 32, sum(first)
    admin.server_error("*", rate=0.5, count=3, seed=1)
    results = []
    for _ in range(40):
        try:
            raw_sagemaker.list_endpoints()
            results.append("ok")
        except ClientError:
            results.append("error")
    assert results.count("error") == 3, "rate and count combine: three hits, then the fault ends"


def test_custom_code_and_message(endpoints: Any, raw_sagemaker: Any) -> None:
    endpoints.admin.server_error("ListEndpoints", code="InternalServerError", message="boom", count=1)
    with pytest.raises(ClientError) as raised:
        raw_sagemaker.list_endpoints()
    assert raised.value.response["Error"] == {"Code": "InternalServerError", "Message": "boom"}


def test_botocore_retries_a_server_error(endpoints: Any, sagemaker: Any) -> None:
    endpoint, _ = endpoints.endpoint("retried")
    endpoints.admin.server_error("DescribeEndpoint", count=2)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    codes = [c["error_code"] for c in endpoints.admin.calls(operation="DescribeEndpoint", endpoint=endpoint)]
    assert codes[-3:] == ["InternalFailure", "InternalFailure", None], "standard mode, 3 attempts"


def test_latency_delays_the_next_calls(endpoints: Any, raw_sagemaker: Any) -> None:
    admin = endpoints.admin
    endpoint, _ = endpoints.endpoint("slow")
    admin.latency("DescribeEndpoint", 0.6, count=1)
    began = time.monotonic()
    raw_sagemaker.describe_endpoint(EndpointName=endpoint)
    assert time.monotonic() - began >= 0.6
    began = time.monotonic()
    raw_sagemaker.describe_endpoint(EndpointName=endpoint)
    assert time.monotonic() - began < 0.5
    calls = admin.calls(operation="DescribeEndpoint", endpoint=endpoint)
    assert [c["fault"] for c in calls[-2:]] == ["latency", None]
    assert calls[-2]["duration_ms"] >= 600
    admin.latency("*", 0.3, rate=0.5, seed=3)
    assert admin.faults()["latency"][0] | {"hits": 0} == {
        "operation": "*",
        "seconds": 0.3,
        "rate": 0.5,
        "remaining": None,
        "seed": 3,
        "hits": 0,
    }
    admin.clear_latency()
    assert admin.faults()["latency"] == []


QUERY_AUTH = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=x"
}


def query_error(emulator: Any, action: str) -> dict[str, Any]:
    """A CloudWatch query-protocol call (what older SDKs send), its error parsed by botocore's parser."""
    response = requests.post(
        emulator.url, data={"Action": action, "Version": "2010-08-01"}, headers=QUERY_AUTH, timeout=10
    )
    model = botocore.session.get_session().get_service_model("cloudwatch").operation_model(action)
    parsed = QueryParser().parse(
        {"status_code": response.status_code, "headers": response.headers, "body": response.content},
        model.output_shape,
    )
    return {"code": parsed["Error"]["Code"], "status": response.status_code}


def test_cloudwatch_server_errors_in_both_protocols(emulator: Any) -> None:
    admin = emulator.admin
    admin.server_error("DescribeAlarms", count=1)
    single = make_client(emulator, "cloudwatch", attempts=1)
    assert error_of(single.describe_alarms) == {"code": "InternalFailure", "status": 500}
    assert single.describe_alarms()["MetricAlarms"] == []
    admin.server_error("DescribeAlarms", status=503, count=1)
    assert query_error(emulator, "DescribeAlarms") == {"code": "ServiceUnavailable", "status": 503}


def test_sagemaker_reads_its_alarms_whatever_faults_are_armed(endpoints: Any) -> None:
    """Faults are for the clients under test; the emulated SageMaker's own alarm reads are internal."""
    admin = endpoints.admin
    admin.configure(speed=FROZEN, alarm_poll_seconds=10)
    endpoints.alarm("faulty-5xx")
    admin.hold_alarm("faulty-5xx", "ALARM")
    endpoint, old = endpoints.endpoint("faulty")
    endpoints.sagemaker.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName="faulty-v2",
        DeploymentConfig={"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "faulty-5xx"}]}},
    )
    admin.server_error("*")
    admin.latency("DescribeAlarms", 5)
    admin.advance(3600)
    outcomes = [e["name"] for e in admin.timeline(endpoint) if e["event"] == "outcome"]
    assert outcomes == ["Created", "RolledBack"]
    reads = admin.calls(operation="DescribeAlarms", include_internal=True)
    assert reads and all(c["internal"] and c["http_status"] == 200 and c["fault"] is None for c in reads)
    admin.clear_faults()
    assert admin.faults()["server_errors"] == [] and admin.faults()["latency"] == []
    assert endpoints.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == old


@pytest.mark.parametrize(
    ("route", "body", "named"),
    [
        ("server_error", {"operation": "DescribeEndpoint", "status": 404}, "status"),
        ("server_error", {"operation": "DescribeEndpoint", "mode": "later"}, "mode"),
        ("server_error", {"operation": "DescribeEndpoint", "rate": 1.5}, "rate"),
        ("server_error", {"operation": "DescribeEndpoint", "count": 0}, "count"),
        ("latency", {"operation": "DescribeEndpoint", "seconds": 0}, "seconds"),
    ],
)
def test_bad_fault_arguments_are_refused_by_name(
    route: str, body: dict[str, Any], named: str, admin: Any
) -> None:
    call = admin.server_error if route == "server_error" else admin.latency
    operation = body.pop("operation")
    args = (operation, body.pop("seconds")) if route == "latency" else (operation,)
    with pytest.raises(AdminError, match=named):
        call(*args, **body)


def test_an_unknown_fault_field_is_refused(admin: Any) -> None:
    with pytest.raises(AdminError, match="unknown field"):
        admin._call("POST", "/faults/server-error", {"operation": "DescribeEndpoint", "sttaus": 500})


def test_an_internal_error_is_an_internal_failure_with_a_logged_traceback(
    endpoints: Any, raw_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, _ = endpoints.endpoint("broken")

    def broken(*_: Any) -> dict[str, Any]:
        raise KeyError("AllTraffic")

    monkeypatch.setitem(emulated.HANDLERS, "DescribeEndpoint", broken)
    with (
        caplog.at_level(logging.ERROR, logger="sagemaker_guardrails.emulator"),
        pytest.raises(ClientError) as raised,
    ):
        raw_sagemaker.describe_endpoint(EndpointName=endpoint)
    response = raised.value.response
    assert response["Error"]["Code"] == "InternalFailure"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "KeyError" in response["Error"]["Message"]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert logged, "the traceback is in the emulator's log"
    assert "SageMaker.DescribeEndpoint" in logged[0].getMessage()


def test_a_failure_outside_any_handler_is_an_internal_failure_too(
    emulator: Any, raw_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("call log unavailable")

    monkeypatch.setattr(emulator.context.calls, "append", broken)
    with (
        caplog.at_level(logging.ERROR, logger="sagemaker_guardrails.emulator"),
        pytest.raises(ClientError) as raised,
    ):
        raw_sagemaker.list_endpoints()
    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_a_cloudwatch_bug_answers_in_the_cloudwatch_protocol(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise ValueError("moto broke")

    monkeypatch.setattr(emulator.context.cloudwatch, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="sagemaker_guardrails.emulator"):
        json_client = make_client(emulator, "cloudwatch", attempts=1)
        assert error_of(json_client.describe_alarms) == {"code": "InternalFailure", "status": 500}
        assert query_error(emulator, "DescribeAlarms") == {"code": "InternalFailure", "status": 500}
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)
