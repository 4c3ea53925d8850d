"""The one place where botocore exceptions become :mod:`sagemaker_guardrails.errors`.

SageMaker reports most conditions a reconciler cares about as a plain ``ValidationException``
and only the message tells them apart (spec §8): a missing endpoint is ``Could not find
endpoint "arn:…"``, a busy one ``Cannot update in-progress endpoint "arn:…"``, a name that is
taken ``Cannot create already existing endpoint "arn:…"``. So :func:`translate` looks at the
message prefix before it looks at the code, and everything else that is a ``ValidationException``
means the request itself is wrong.

Throttling, 5xx and lost connections of a read have already been retried by botocore's
``standard`` mode when they reach us; a mutating call is sent once and never retried by botocore
(see :mod:`sagemaker_guardrails.aws.clients`). Either way they become
:class:`~sagemaker_guardrails.errors.Retryable` so they slow the resource down and never fail it;
whether a failed mutating call reached SageMaker is settled by the write-ahead record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.ratelimit import Lane

__all__ = ["MESSAGE_PREFIXES", "acquire_token", "error_code", "guarded_call", "guarded_pages", "translate"]

# (message prefix, class): checked first, in order, for any error code.
MESSAGE_PREFIXES: tuple[tuple[str, type[errors.OperatorError]], ...] = (
    ("Could not find", errors.NotFound),  # endpoint "arn…" / endpoint configuration "…" / model "…"
    ("Cannot update in-progress endpoint", errors.Busy),
    ("Cannot delete in-progress endpoint", errors.Busy),
    ("Cannot create already existing", errors.AlreadyExists),  # endpoint / endpoint configuration / model
)

# The throttling codes botocore's standard retry mode recognises (botocore/retries/standard.py).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ExpiredToken",
        "ExpiredTokenException",
        "IDPCommunicationError",
    }
)
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "IncompleteSignature",
        "NotAuthorized",
    }
)
CODE_CLASSES: dict[str, type[errors.OperatorError]] = {
    "ResourceNotFound": errors.NotFound,
    "ResourceNotFoundException": errors.NotFound,
    "ResourceAlreadyExists": errors.AlreadyExists,
    "ResourceInUse": errors.Busy,
    "ConflictException": errors.Busy,
    "ValidationException": errors.InvalidRequest,
    "ValidationError": errors.InvalidRequest,
    "InvalidParameterValue": errors.InvalidRequest,
    "InvalidParameterCombination": errors.InvalidRequest,
    "MissingParameter": errors.InvalidRequest,
    "ResourceLimitExceeded": errors.InvalidRequest,
}


def error_code(exc: BaseException) -> str:
    """The AWS error code of ``exc``, or its class name for errors without one (network, credentials)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "Unknown")
    return type(exc).__name__


def _client_error(exc: ClientError, operation: str) -> errors.OperatorError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    for prefix, cls in MESSAGE_PREFIXES:
        if message.startswith(prefix):
            return cls(message, code=code, operation=operation)
    if code in THROTTLING_CODES or status == 429:
        return errors.Throttled(message or "rate exceeded", code=code, operation=operation)
    if code in TRANSIENT_CODES or status >= 500:
        return errors.Retryable(message or f"HTTP {status}", code=code, operation=operation)
    if code in ACCESS_CODES:
        return errors.AccessDenied(message, code=code, operation=operation)
    cls = CODE_CLASSES.get(code, errors.Terminal)
    return cls(message, code=code, operation=operation)


def translate(exc: BaseException, operation: str) -> errors.OperatorError:
    """Map an exception raised by a boto3 call of ``operation`` onto the operator's taxonomy.

    Exceptions that are not from botocore (bugs) are not for this function; they are returned
    wrapped as :class:`~sagemaker_guardrails.errors.Terminal` only so that the type is total.
    """
    if isinstance(exc, errors.OperatorError):
        return exc
    if isinstance(exc, ClientError):
        return _client_error(exc, operation)
    code = type(exc).__name__
    if isinstance(exc, ConnectionError | HTTPClientError):
        return errors.Retryable(str(exc), code=code, operation=operation)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return errors.AccessDenied(str(exc), code=code, operation=operation)
    if isinstance(exc, ParamValidationError):
        return errors.InvalidRequest(str(exc), code=code, operation=operation)
    if isinstance(exc, BotoCoreError):
        return errors.Retryable(str(exc), code=code, operation=operation)
    return errors.Terminal(f"{code}: {exc}", code=code, operation=operation)


def acquire_token(limiter: Lane, timeout: float, operation: str) -> None:
    """Take a token of ``limiter`` for one attempt of ``operation``, or raise ``Throttled``."""
    if not limiter.acquire(timeout):
        raise errors.Throttled(
            f"no rate-limit token within {timeout:g}s ({limiter.rate:g}/s per region)",
            code="ClientRateLimit",
            operation=operation,
            retry_after=1.0 / limiter.rate,
        )


@contextmanager
def guarded_call(limiter: Lane, timeout: float, operation: str) -> Iterator[None]:
    """Take a rate-limit token, then translate whatever the boto3 call inside raises."""
    acquire_token(limiter, timeout, operation)
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, operation) from exc


def guarded_pages(
    limiter: Lane, timeout: float, operation: str, fetch: Callable[[dict[str, Any]], Mapping[str, Any]]
) -> Iterator[Mapping[str, Any]]:
    """Every page of a ``NextToken``-paged call, each page fetched as one :func:`guarded_call`.

    ``fetch`` makes the boto3 call with these extra arguments: none for the first page, then the
    ``NextToken`` of the page before.
    """
    token: str | None = None
    while True:
        with guarded_call(limiter, timeout, operation):
            page = fetch({"NextToken": token} if token else {})
        yield page
        token = page.get("NextToken")
        if not token:
            return
