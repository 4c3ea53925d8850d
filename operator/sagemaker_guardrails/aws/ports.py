"""The calls the operator makes to AWS, as typed ports in the operator's own vocabulary.

The reconciler depends on these protocols only; ``aws/sagemaker.py`` and ``aws/cloudwatch.py``
implement them with boto3, and tests can implement them with plain classes. The methods are
synchronous on purpose: kopf runs sync handlers in its thread pool, so a blocking boto3 call
never runs on the event loop, and the reconciler stays ordinary straight-line code.

Conventions every implementation keeps:

- Requests are SageMaker wire-shape mappings (PascalCase, as built by ``core/desired.py``);
  results are our own frozen types, never response dicts.
- "Does not exist" on a describe is an ordinary answer (``None``), because it is a normal
  state for a reconciler; on a mutating call it is :class:`~sagemaker_guardrails.errors.NotFound`.
- Every failure is an error from :mod:`sagemaker_guardrails.errors`; nothing botocore-specific
  leaks out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sagemaker_guardrails.aws.ratelimit import Pacer
from sagemaker_guardrails.core.observed import EndpointSnapshot

__all__ = [
    "ALARM_MISSING",
    "AwsClients",
    "CloudWatchPort",
    "EndpointConfigInfo",
    "ModelInfo",
    "ResourceSummary",
    "SageMakerPort",
]

ALARM_MISSING = "missing"
"""The state :meth:`CloudWatchPort.describe_alarms` reports for an alarm that does not exist."""


class ResourceSummary(NamedTuple):
    """One row of ListModels / ListEndpointConfigs / ListEndpoints."""

    name: str
    arn: str
    creation_time: datetime


@dataclass(frozen=True)
class EndpointConfigInfo:
    """DescribeEndpointConfig, reduced to what the operator needs to reason about a config."""

    name: str
    arn: str
    creation_time: datetime | None = None
    variant_names: tuple[str, ...] = ()
    model_names: tuple[str, ...] = ()
    asynchronous: bool = False


@dataclass(frozen=True)
class ModelInfo:
    """DescribeModel, reduced to what the operator needs."""

    name: str
    arn: str
    creation_time: datetime | None = None
    execution_role_arn: str | None = None
    images: tuple[str, ...] = ()


class SageMakerPort(Protocol):
    """The SageMaker control-plane calls of the operator (one region)."""

    def describe_endpoint(self, name: str) -> EndpointSnapshot | None:
        """The endpoint, or ``None`` when SageMaker says ``Could not find endpoint``."""

    def describe_endpoint_config(self, name: str) -> EndpointConfigInfo | None: ...

    def describe_model(self, name: str) -> ModelInfo | None: ...

    def create_model(self, request: Mapping[str, Any]) -> str:
        """CreateModel; returns the model ARN. Raises AlreadyExists when the name is taken."""

    def create_endpoint_config(self, request: Mapping[str, Any]) -> str:
        """CreateEndpointConfig; returns the config ARN. Raises AlreadyExists when the name is taken."""

    def create_endpoint(self, request: Mapping[str, Any]) -> str:
        """CreateEndpoint; returns the endpoint ARN."""

    def update_endpoint(self, request: Mapping[str, Any]) -> str:
        """UpdateEndpoint; returns the endpoint ARN. Raises Busy while the endpoint is in progress."""

    def delete_endpoint(self, name: str) -> None: ...

    def delete_endpoint_config(self, name: str) -> None: ...

    def delete_model(self, name: str) -> None: ...

    def list_tags(self, arn: str) -> dict[str, str]:
        """All tags of a resource (every page)."""

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None: ...

    def delete_tags(self, arn: str, keys: Sequence[str]) -> None:
        """DeleteTags of ``keys``; refuses (InvalidRequest, no call) to remove an ownership tag."""

    def list_endpoints(self, name_prefix: str = "") -> list[ResourceSummary]:
        """Every endpoint whose name starts with ``name_prefix`` (every page; "" = all)."""

    def list_endpoint_configs(self, name_prefix: str) -> list[ResourceSummary]:
        """Every endpoint config whose name starts with ``name_prefix`` (every page)."""

    def list_models(self, name_prefix: str) -> list[ResourceSummary]:
        """Every model whose name starts with ``name_prefix`` (every page)."""

    def paced(self, pacer: Pacer) -> SageMakerPort:
        """This port with every request (each page of a listing) waiting for ``pacer`` first,
        then for the region's shared bucket as usual (the orphan sweep's calls)."""


class CloudWatchPort(Protocol):
    """The CloudWatch calls of the operator (one region)."""

    def describe_alarms(self, names: Sequence[str]) -> dict[str, str]:
        """State of each named alarm: ``OK``, ``ALARM``, ``INSUFFICIENT_DATA`` or ``"missing"``."""


@dataclass(frozen=True)
class AwsClients:
    """Both ports of one region; the composition root caches one per region."""

    region: str
    sagemaker: SageMakerPort
    cloudwatch: CloudWatchPort
