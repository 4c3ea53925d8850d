"""Builds the per-region AWS ports: one boto3 session, one client pair and one token bucket per region.

A GuardedEndpoint names its region (``spec.region``, default from settings), so the operator
talks to several regions at once. :class:`ClientFactory` is the ``region -> AwsClients`` callable
the reconciler gets; it creates each region's clients once and caches them (boto3 clients are
thread-safe, sessions are not, so creation is serialised).

Credentials and endpoints come from botocore's default chain, which covers every way the
operator is deployed: IRSA (``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``), EKS Pod Identity,
instance profiles, a developer's profile, and ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_SAGEMAKER`` for the local emulator. Retries use botocore's ``standard`` mode;
``max_attempts`` counts every attempt, the first included (botocore's own ``Config`` key of that
name counts retries only, so ``total_max_attempts`` is what is set).

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
from sagemaker_guardrails.aws.ratelimit import RegionLimiters
from sagemaker_guardrails.aws.sagemaker import SageMakerAdapter
from sagemaker_guardrails.aws.translate import error_code

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sagemaker import SageMakerClient

__all__ = ["CallRecorder", "ClientFactory"]

CallRecorder = Callable[[str, str, str], None]
"""``recorder(service, operation, error_code)``; ``error_code`` is ``""`` on success."""

USER_AGENT = f"sagemaker-guardrails/{__version__}"


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

    def _hook(self, client: SageMakerClient | CloudWatchClient, service: str) -> None:
        if self._recorder is not None:
            client.meta.events.register(f"response-received.{service}", _AttemptHook(service, self._recorder))

    def _build(self, region: str) -> AwsClients:
        session = self._session_for_clients()
        sagemaker = session.client(
            "sagemaker", region_name=region, config=self._config, endpoint_url=self._endpoint_url
        )
        cloudwatch = session.client(
            "cloudwatch", region_name=region, config=self._config, endpoint_url=self._endpoint_url
        )
        self._hook(sagemaker, "sagemaker")
        self._hook(cloudwatch, "cloudwatch")
        limiter = self._limiters.for_region(region)
        return AwsClients(
            region=region,
            sagemaker=SageMakerAdapter(sagemaker, limiter, acquire_timeout=self._acquire_timeout),
            cloudwatch=CloudWatchAdapter(cloudwatch, limiter, acquire_timeout=self._acquire_timeout),
        )
