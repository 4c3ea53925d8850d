"""What SageMaker reports, as immutable snapshots in the operator's own vocabulary.

The AWS adapters turn DescribeEndpoint (and friends) into these types at the boundary, so the
pure core never sees a boto3 response dict. A missing endpoint is a snapshot of ``None`` rather
than an exception, because "Could not find endpoint" is an ordinary state for a reconciler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EndpointStatus(StrEnum):
    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"


# SageMaker refuses UpdateEndpoint / DeleteEndpoint in these states ("Cannot update in-progress endpoint").
BUSY_STATUSES = frozenset(
    {
        EndpointStatus.CREATING,
        EndpointStatus.UPDATING,
        EndpointStatus.SYSTEM_UPDATING,
        EndpointStatus.ROLLING_BACK,
        EndpointStatus.DELETING,
    }
)


@dataclass(frozen=True)
class VariantStatusEntry:
    """One ``VariantStatus`` entry: Creating, Updating, Deleting, ActivatingTraffic or Baking."""

    status: str
    message: str | None = None
    start_time: datetime | None = None


@dataclass(frozen=True)
class VariantSnapshot:
    """A production variant as SageMaker reports it (live or pending)."""

    name: str
    current_weight: float | None = None
    desired_weight: float | None = None
    current_instance_count: int | None = None
    desired_instance_count: int | None = None
    instance_type: str | None = None
    statuses: tuple[VariantStatusEntry, ...] = ()


@dataclass(frozen=True)
class PendingDeployment:
    """``PendingDeploymentSummary``: present only while a create/update with a new config runs."""

    config_name: str
    start_time: datetime | None = None
    variants: tuple[VariantSnapshot, ...] = ()


@dataclass(frozen=True)
class EndpointSnapshot:
    """``DescribeEndpoint`` in our own types."""

    name: str
    arn: str
    status: EndpointStatus
    config_name: str | None
    failure_reason: str | None = None
    creation_time: datetime | None = None
    last_modified_time: datetime | None = None
    variants: tuple[VariantSnapshot, ...] = ()
    pending: PendingDeployment | None = None
    last_deployment_config: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def busy(self) -> bool:
        return self.status in BUSY_STATUSES

    @property
    def target_config(self) -> str | None:
        """The config being deployed, or the serving config when nothing is in flight."""
        return self.pending.config_name if self.pending is not None else self.config_name


@dataclass(frozen=True)
class Tagged:
    """Tags of a SageMaker resource, as a mapping."""

    arn: str
    tags: Mapping[str, str]


def _statuses(raw: Any) -> tuple[VariantStatusEntry, ...]:
    return tuple(
        VariantStatusEntry(
            status=str(item["Status"]),
            message=item.get("StatusMessage"),
            start_time=item.get("StartTime"),
        )
        for item in raw or ()
    )


def _variant(raw: Mapping[str, Any]) -> VariantSnapshot:
    return VariantSnapshot(
        name=str(raw["VariantName"]),
        current_weight=raw.get("CurrentWeight"),
        desired_weight=raw.get("DesiredWeight"),
        current_instance_count=raw.get("CurrentInstanceCount"),
        desired_instance_count=raw.get("DesiredInstanceCount"),
        instance_type=raw.get("InstanceType"),
        statuses=_statuses(raw.get("VariantStatus")),
    )


def snapshot_from_describe(response: Mapping[str, Any]) -> EndpointSnapshot:
    """Build a snapshot from a DescribeEndpoint response (datetimes already parsed by botocore)."""
    pending_raw = response.get("PendingDeploymentSummary")
    pending = None
    if pending_raw:
        pending = PendingDeployment(
            config_name=str(pending_raw["EndpointConfigName"]),
            start_time=pending_raw.get("StartTime"),
            variants=tuple(_variant(v) for v in pending_raw.get("ProductionVariants") or ()),
        )
    return EndpointSnapshot(
        name=str(response["EndpointName"]),
        arn=str(response["EndpointArn"]),
        status=EndpointStatus(response["EndpointStatus"]),
        config_name=response.get("EndpointConfigName"),
        failure_reason=response.get("FailureReason") or None,
        creation_time=response.get("CreationTime"),
        last_modified_time=response.get("LastModifiedTime"),
        variants=tuple(_variant(v) for v in response.get("ProductionVariants") or ()),
        pending=pending,
        last_deployment_config=response.get("LastDeploymentConfig"),
    )


@dataclass(frozen=True)
class Observed:
    """What one pass saw: the endpoint (``None`` when SageMaker has none) and its tags.

    ``tags`` is ``None`` when the pass did not read them: the status remembers that this very
    endpoint was verified as the resource's own, so ``ListTags`` is skipped (``core/tagging.py``).
    An empty mapping means the endpoint has no tags at all.
    """

    endpoint: EndpointSnapshot | None
    tags: Mapping[str, str] | None = None
