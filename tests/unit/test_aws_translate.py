"""ClientError and botocore exceptions -> the operator's error taxonomy (spec §8)."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.ratelimit import TokenBucket
from sagemaker_guardrails.aws.translate import error_code, guarded_call, translate

pytestmark = pytest.mark.unit

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud"


def client_error(
    code: str, message: str, status: int = 400, operation: str = "UpdateEndpoint"
) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


CASES = [
    # (code, message, http status, expected class)
    ("ValidationException", f'Could not find endpoint "{ARN}".', 400, errors.NotFound),
    ("ValidationException", 'Could not find endpoint configuration "fraud-3f9a1c2e".', 400, errors.NotFound),
    (
        "ValidationException",
        'Could not find model "arn:aws:sagemaker:us-east-1:1:model/xgb".',
        400,
        errors.NotFound,
    ),
    ("ValidationException", f'Cannot update in-progress endpoint "{ARN}".', 400, errors.Busy),
    ("ValidationException", f'Cannot create already existing endpoint "{ARN}".', 400, errors.AlreadyExists),
    (
        "ValidationException",
        'Cannot create already existing endpoint configuration "arn:aws:sagemaker:us-east-1:1:endpoint-config/x".',
        400,
        errors.AlreadyExists,
    ),
    ("ValidationException", 'Cannot create already existing model "arn:…".', 400, errors.AlreadyExists),
    ("ValidationException", "TerminationWaitInSeconds must be at most 3600.", 400, errors.InvalidRequest),
    ("ValidationException", "", 400, errors.InvalidRequest),
    (
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.p4d.24xlarge for endpoint usage' is 0",
        400,
        errors.InvalidRequest,
    ),
    ("ResourceNotFound", "Resource not found", 400, errors.NotFound),
    ("ResourceInUse", "Resource in use", 400, errors.Busy),
    ("ResourceAlreadyExists", "exists", 400, errors.AlreadyExists),
    ("ConflictException", "conflict", 409, errors.Busy),
    ("ThrottlingException", "Rate exceeded", 400, errors.Throttled),
    ("Throttling", "Rate exceeded", 400, errors.Throttled),
    ("RequestLimitExceeded", "slow down", 400, errors.Throttled),
    ("TooManyRequestsException", "slow down", 429, errors.Throttled),
    ("SomethingNew", "", 429, errors.Throttled),
    ("InternalFailure", "boom", 500, errors.Retryable),
    ("ServiceUnavailable", "", 503, errors.Retryable),
    ("SomethingNew", "gateway", 502, errors.Retryable),
    ("ExpiredTokenException", "The security token included in the request is expired", 400, errors.Retryable),
    (
        "AccessDeniedException",
        "User is not authorized to perform: sagemaker:UpdateEndpoint",
        400,
        errors.AccessDenied,
    ),
    (
        "AccessDenied",
        "User is not authorized to perform: cloudwatch:DescribeAlarms",
        403,
        errors.AccessDenied,
    ),
    (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
        errors.AccessDenied,
    ),
    ("InvalidParameterValue", "bad alarm name", 400, errors.InvalidRequest),
    ("ValidationError", "1 validation error detected", 400, errors.InvalidRequest),
    ("SerializationException", "", 400, errors.Terminal),
]


@pytest.mark.parametrize(("code", "message", "status", "expected"), CASES)
def test_client_errors_map_to_exactly_one_class(
    code: str, message: str, status: int, expected: type[errors.OperatorError]
) -> None:
    translated = translate(client_error(code, message, status), "UpdateEndpoint")
    assert type(translated) is expected
    assert translated.code == code
    assert translated.operation == "UpdateEndpoint"
    if message:
        assert message in str(translated)


def test_message_prefix_beats_code() -> None:
    # "Could not find" is decided by message even if the code were something else.
    assert type(translate(client_error("ResourceInUse", 'Could not find model "x"'), "DescribeModel")) is (
        errors.NotFound
    )


def test_throttled_is_retryable_and_busy_is_not() -> None:
    throttled = translate(client_error("ThrottlingException", "Rate exceeded"), "DescribeEndpoint")
    busy = translate(client_error("ValidationException", f'Cannot update in-progress endpoint "{ARN}"'), "X")
    assert isinstance(throttled, errors.Retryable)
    assert not isinstance(busy, errors.Retryable)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), errors.Retryable),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), errors.Retryable),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), errors.Retryable),
        (NoCredentialsError(), errors.AccessDenied),
        (
            CredentialRetrievalError(provider="assume-role-with-web-identity", error_msg="no"),
            errors.AccessDenied,
        ),
        (ParamValidationError(report="Missing required parameter EndpointName"), errors.InvalidRequest),
        (ValueError("a bug"), errors.Terminal),
    ],
)
def test_botocore_exceptions(exc: Exception, expected: type[errors.OperatorError]) -> None:
    translated = translate(exc, "DescribeEndpoint")
    assert type(translated) is expected
    assert translated.code == type(exc).__name__


def test_operator_errors_pass_through_unchanged() -> None:
    original = errors.Busy("busy")
    assert translate(original, "UpdateEndpoint") is original


def test_error_code() -> None:
    assert error_code(client_error("ThrottlingException", "Rate exceeded")) == "ThrottlingException"
    assert error_code(EndpointConnectionError(endpoint_url="x")) == "EndpointConnectionError"


def test_guarded_call_translates_and_chains() -> None:
    bucket = TokenBucket(100, 10)
    with pytest.raises(errors.Busy) as info, guarded_call(bucket, 1.0, "UpdateEndpoint"):
        raise client_error("ValidationException", f'Cannot update in-progress endpoint "{ARN}"')
    assert isinstance(info.value.__cause__, ClientError)
    assert bucket.available < 10


def test_guarded_call_without_a_token_is_throttled_before_calling() -> None:
    now = [0.0]
    bucket = TokenBucket(0.5, 1, clock=lambda: now[0])
    assert bucket.acquire(0)
    called = []
    with pytest.raises(errors.Throttled) as info, guarded_call(bucket, 0.1, "DescribeEndpoint"):
        called.append(True)
    assert called == []
    assert info.value.code == "ClientRateLimit"
    assert info.value.retry_after == pytest.approx(2.0)
