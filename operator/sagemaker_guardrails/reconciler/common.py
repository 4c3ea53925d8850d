"""What a reconcile pass and a deletion pass share: reading memory, identity and SageMaker."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.aws.ports import SageMakerPort
from sagemaker_guardrails.core import tagging
from sagemaker_guardrails.core.decide import RETRY_ANNOTATION, Memory
from sagemaker_guardrails.core.desired import Desired, Identity
from sagemaker_guardrails.core.observed import Observed
from sagemaker_guardrails.reconciler.types import Deps, Resource

__all__ = ["dump", "identity_of", "memory_of", "observe", "observe_for"]

log = logging.getLogger(__name__)


def memory_of(resource: Resource) -> Memory:
    """The previous status (an unreadable one counts as empty) and the retry annotation."""
    try:
        status = GuardedEndpointStatus.model_validate(dict(resource.status or {}))
    except ValidationError:
        log.warning("status of %s/%s is unreadable; starting from empty", resource.namespace, resource.name)
        status = GuardedEndpointStatus()
    return Memory(status=status, retry_token=resource.annotations.get(RETRY_ANNOTATION))


def identity_of(resource: Resource, deps: Deps) -> Identity:
    return Identity(cluster_id=deps.settings.cluster_id, namespace=resource.namespace, name=resource.name)


def observe(port: SageMakerPort, endpoint_name: str) -> Observed:
    """DescribeEndpoint, and ListTags of the endpoint when there is one (a deletion always reads them)."""
    endpoint = port.describe_endpoint(endpoint_name)
    tags = port.list_tags(endpoint.arn) if endpoint is not None else None
    return Observed(endpoint=endpoint, tags=tags)


def observe_for(port: SageMakerPort, desired: Desired, memory: Memory, now: datetime, deps: Deps) -> Observed:
    """DescribeEndpoint, and ListTags only when :func:`~sagemaker_guardrails.core.tagging.tags_due` says so.

    A settled endpoint whose ownership the status remembers costs one call per poll; the tags are
    read again every ``RECHECK_POLLS`` settled polls, and whenever the endpoint is new or spec.tags
    changed.
    """
    endpoint = port.describe_endpoint(desired.endpoint_name)
    if endpoint is None:
        return Observed(endpoint=None)
    recheck = timedelta(seconds=tagging.RECHECK_POLLS * deps.settings.settled_poll_seconds)
    if not tagging.tags_due(desired, endpoint, memory.status.endpoint, now, recheck):
        return Observed(endpoint=endpoint)
    return Observed(endpoint=endpoint, tags=port.list_tags(endpoint.arn))


def dump(status: GuardedEndpointStatus) -> dict[str, Any]:
    """The status as the API server stores it: camelCase, JSON types, no nulls."""
    return status.model_dump(by_alias=True, exclude_none=True, mode="json")
