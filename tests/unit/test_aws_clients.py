"""The retry split of aws/clients.py: reads on the retrying client, mutating calls on the send-once one."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from sagemaker_guardrails.aws.clients import ClientFactory
from sagemaker_guardrails.aws.ratelimit import is_mutating

pytestmark = pytest.mark.unit

AWS = Path(__file__).resolve().parents[2] / "operator" / "sagemaker_guardrails" / "aws"


def _operation(method: str) -> str:
    return "".join(part.title() for part in method.split("_"))


def test_every_sagemaker_call_uses_the_client_of_its_kind() -> None:
    """A mutating call on the retrying client could be sent twice; a read on the other is not retried."""
    text = (AWS / "sagemaker.py").read_text()
    reads = re.findall(r"self\._client\.([a-z][a-z0-9_]*)\(", text)
    writes = re.findall(r"self\._write_client\.([a-z][a-z0-9_]*)\(", text)
    assert reads and writes
    assert [m for m in reads if is_mutating(_operation(m))] == []
    assert [m for m in writes if not is_mutating(_operation(m))] == []
    assert {_operation(m) for m in writes} >= {
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "UpdateEndpoint",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
        "AddTags",
        "DeleteTags",
    }


def test_cloudwatch_makes_reads_only() -> None:
    calls = re.findall(r"_client\.([a-z][a-z0-9_]*)\(", (AWS / "cloudwatch.py").read_text())
    assert calls and not [m for m in calls if is_mutating(_operation(m))]


def test_mutating_calls_get_one_attempt_and_reads_the_configured_number() -> None:
    factory = ClientFactory(
        rate_per_second=10,
        burst=10,
        max_attempts=7,
        session=boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y"),
    )
    adapter = factory("us-east-1").sagemaker
    reads, writes = adapter._client, adapter._write_client
    assert reads is not writes
    assert reads.meta.config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert writes.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert reads.meta.config.user_agent_extra == writes.meta.config.user_agent_extra
