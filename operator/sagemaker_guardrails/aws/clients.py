"""Builds the per-region AWS ports: one boto3 session, one client pair and one token bucket per region.

A GuardedEndpoint names its region (``spec.region``, default from settings), so the operator
talks to several regions at once. :class:`ClientFactory` is the ``region -> AwsClients`` callable
the reconciler gets; it creates each region's clients once and caches them (boto3 clients are
thread-safe, sessions are not, so creation is serialised).

Credentials and endpoints come from botocore's default chain, which covers every way the
operator is deployed: IRSA (``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``), EKS Pod Identity,
instance profiles, a developer's profile, and ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_SAGEMAKER`` for the local emulator.

Retries: reads (``Describe*``, ``List*``) use botocore's ``standard`` mode, where ``max_attempts``
counts every attempt, the first included (botocore's own ``Config`` key of that name counts
retries only, so ``total_max_attempts`` is what is set). Mutating calls go out **once**: they are
made on a second SageMaker client whose ``total_max_attempts`` is 1. A retry of an UpdateEndpoint
whose answer was lost (a 5xx or a dropped connection after SageMaker acted) would be a second
deployment request; instead the error reaches the reconciler as ``Retryable`` and the write-ahead
record (``status.pending``, :mod:`sagemaker_guardrails.core.resolve`) decides from what SageMaker
shows whether the call was made. The adapters call reads on ``client`` and writes on
``write_client`` only (tests/unit/test_aws_clients.py checks it).

Every attempt takes a token: the first from the adapter (``guarded_call``), each botocore retry
from the ``request-created`` hook below, in the same lane, so the region's rate limit bounds the
calls actually sent, retries included.

Every HTTP attempt (retries included) is reported to the ``recorder`` callback as
``(service, operation, error_code)``, with ``""`` for success, through botocore's
``response-received`` event; the composition root passes
:meth:`sagemaker_guardrails.metrics.Metrics.record_aws_call`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sagemaker_guardrails import __version__
from sagemaker_guardrails.aws.cloudwatch import CloudWatchAdapter
from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.aws.ratelimit import RegionLimiters, TokenBucket
from sagemaker_guardrails.aws.sagemaker import SageMakerAdapter
from sagemaker_guardrails.aws.translate import acquire_token, error_code

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sagemaker import SageMakerClient

__all__ = ["CallRecorder", "ClientFactory"]

CallRecorder = Callable[[str, str, str], None]
"""``recorder(service, operation, error_code)``; ``error_code`` is ``""`` on success."""

USER_AGENT = f"sagemaker-guardrails/{__version__}"


class _RetryTokenHook:
    """botocore ``request-created`` handler: a retry attempt takes a token, as the first attempt did.

    botocore numbers the attempts of one call in ``request.context["retries"]["attempt"]``; the
    first one's token was taken by the adapter before the call.
    """

    def __init__(self, limiter: TokenBucket, timeout: float) -> None:
        self._limiter = limiter
        self._timeout = timeout

    def __call__(self, *, request: Any, operation_name: str, **_: Any) -> None:
        retries = (getattr(request, "context", None) or {}).get("retries") or {}
        if int(retries.get("attempt") or 1) > 1:
            acquire_token(self._limiter.lane(operation_name), self._timeout, operation_name)


class _AttemptHook:
    """botocore ``response-received`` handler that reports each attempt to a recorder."""

    def __init__(self, service: str, recorder: CallRecorder) -> None:
        self._service = service
        self._recorder = recorder

    def __call__(
        self,
        *,
        event_name: str,
        response_dict: dict[str, Any] | None = None,
        parsed_response: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if exception is not None:
            code = error_code(exception)
        else:
            status = int((response_dict or {}).get("status_code") or 0)
            code = ""
            if status >= 300:
                code = str(((parsed_response or {}).get("Error") or {}).get("Code") or f"HTTP{status}")
        self._recorder(self._service, operation, code)


class ClientFactory:
    """``region -> AwsClients``, cached; the operator's only way to reach AWS."""

    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        max_attempts: int = 5,
        acquire_timeout: float = 30.0,
        max_pool_connections: int = 20,
        recorder: CallRecorder | None = None,
        endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self._limiters = RegionLimiters(rate_per_second, burst)
        self._acquire_timeout = acquire_timeout
        self._recorder = recorder
        self._endpoint_url = endpoint_url
        self._session = session
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            user_agent_extra=USER_AGENT,
            max_pool_connections=max_pool_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._write_config = self._config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
        self._cache: dict[str, AwsClients] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str) -> AwsClients:
        with self._lock:
            clients = self._cache.get(region)
            if clients is None:
                clients = self._build(region)
                self._cache[region] = clients
            return clients

    def _session_for_clients(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session

    def limiter(self, region: str) -> TokenBucket:
        """The token bucket every client of ``region`` shares."""
        return self._limiters.for_region(region)

    def _hook(self, client: SageMakerClient | CloudWatchClient, service: str, limiter: TokenBucket) -> None:
        events = client.meta.events
        events.register(f"request-created.{service}", _RetryTokenHook(limiter, self._acquire_timeout))
        if self._recorder is not None:
            events.register(f"response-received.{service}", _AttemptHook(service, self._recorder))

    def _build(self, region: str) -> AwsClients:
        session = self._session_for_clients()
        limiter = self.limiter(region)
        options: dict[str, Any] = {"region_name": region, "endpoint_url": self._endpoint_url}
        reads = session.client("sagemaker", config=self._config, **options)
        writes = session.client("sagemaker", config=self._write_config, **options)
        cloudwatch = session.client("cloudwatch", config=self._config, **options)
        for client, service in ((reads, "sagemaker"), (writes, "sagemaker"), (cloudwatch, "cloudwatch")):
            self._hook(client, service, limiter)
        return AwsClients(
            region=region,
            sagemaker=SageMakerAdapter(
                reads, limiter, write_client=writes, acquire_timeout=self._acquire_timeout
            ),
            cloudwatch=CloudWatchAdapter(cloudwatch, limiter, acquire_timeout=self._acquire_timeout),
        )
