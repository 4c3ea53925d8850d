"""The SageMaker adapter's DeleteTags: request shape, translated errors, and reserved keys never sent.

botocore's Stubber validates each request against the real service model.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.ratelimit import TokenBucket
from sagemaker_guardrails.aws.sagemaker import SageMakerAdapter

pytestmark = pytest.mark.unit

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud"


@pytest.fixture
def sm() -> Iterator[tuple[SageMakerAdapter, Stubber]]:
    client = boto3.client(
        "sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stub:
        yield SageMakerAdapter(client, TokenBucket(1000, 100)), stub
        stub.assert_no_pending_responses()


def test_delete_tags_sends_the_keys(sm: tuple[SageMakerAdapter, Stubber]) -> None:
    adapter, stub = sm
    stub.add_response("delete_tags", {}, {"ResourceArn": ARN, "TagKeys": ["team", "cost-center"]})
    adapter.delete_tags(ARN, ("team", "cost-center"))


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        ("ValidationException", f'Could not find endpoint "{ARN}".', errors.NotFound),
        ("AccessDeniedException", "not authorized to perform: sagemaker:DeleteTags", errors.AccessDenied),
        ("ThrottlingException", "Rate exceeded", errors.Throttled),
        ("ValidationException", "1 validation error detected", errors.InvalidRequest),
    ],
    ids=["not-found", "access-denied", "throttled", "invalid"],
)
def test_delete_tags_translates_errors(
    sm: tuple[SageMakerAdapter, Stubber], code: str, message: str, error: type[errors.OperatorError]
) -> None:
    adapter, stub = sm
    stub.add_client_error(
        "delete_tags", service_error_code=code, service_message=message, http_status_code=400
    )
    with pytest.raises(error) as raised:
        adapter.delete_tags(ARN, ["team"])
    assert raised.value.operation == "DeleteTags"


@pytest.mark.parametrize(
    "keys",
    [
        ["sagemaker-guardrails.dev/name"],
        ["team", "sagemaker-guardrails.dev/cluster"],
        ["aws:cloudformation:x"],
    ],
    ids=["ownership", "mixed", "aws"],
)
def test_reserved_tags_are_never_sent(sm: tuple[SageMakerAdapter, Stubber], keys: list[str]) -> None:
    adapter, _ = sm
    with pytest.raises(errors.InvalidRequest, match="reserved"):
        adapter.delete_tags(ARN, keys)
