"""Builders shared by the core unit tables and the reconciler component tests.

A spec is built from a small set of knobs (strategy, image, instance count, ...), an endpoint
snapshot from the fields DescribeEndpoint reports, and a status from keyword arguments, so each
table row says only what matters to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.core.desired import Desired, Identity, build_desired, parse_spec
from sagemaker_guardrails.core.observed import (
    EndpointSnapshot,
    EndpointStatus,
    PendingDeployment,
    VariantSnapshot,
    VariantStatusEntry,
)

T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IDENTITY = Identity(cluster_id="test-cluster", namespace="ml", name="fraud")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def policy(strategy: str, *, wait: int = 60, termination: int = 30, size: int = 25) -> dict[str, Any]:
    """A ``spec.deployment`` for AllAtOnce, Canary, Linear or Rolling."""
    if strategy == "Rolling":
        return {
            "rolling": {
                "maximumBatchSize": {"type": "CapacityPercent", "value": size},
                "waitIntervalSeconds": wait,
            },
            "autoRollback": {"alarms": ["fraud-5xx"]},
        }
    routing: dict[str, Any] = {"type": strategy, "waitIntervalSeconds": wait}
    if strategy == "Canary":
        routing["canarySize"] = {"type": "CapacityPercent", "value": size}
    if strategy == "Linear":
        routing["linearStepSize"] = {"type": "CapacityPercent", "value": size}
    return {
        "blueGreen": {"trafficRouting": routing, "terminationWaitSeconds": termination},
        "autoRollback": {"alarms": ["fraud-5xx"]},
    }


def spec(
    *,
    strategy: str = "Canary",
    image: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
    data: str = "s3://models/fraud/v1.tar.gz",
    env: Mapping[str, str] | None = None,
    instance_type: str = "ml.m5.xlarge",
    count: int = 4,
    endpoint_name: str | None = "fraud-detector",
    **extra: Any,
) -> dict[str, Any]:
    """A raw (camelCase) spec; ``extra`` is merged in at the top level."""
    raw: dict[str, Any] = {
        "region": "us-east-1",
        "models": [
            {
                "name": "xgb",
                "executionRoleArn": ROLE,
                "containers": [{"image": image, "modelDataUrl": data, "environment": dict(env or {})}],
            }
        ],
        "variants": [
            {
                "name": "AllTraffic",
                "model": "xgb",
                "instanceType": instance_type,
                "initialInstanceCount": count,
            }
        ],
        "deployment": policy(strategy),
        "tags": {"team": "fraud"},
    }
    if endpoint_name is not None:
        raw["endpointName"] = endpoint_name
    raw.update(extra)
    return raw


def desired(raw: Mapping[str, Any] | None = None, identity: Identity = IDENTITY) -> Desired:
    return build_desired(parse_spec(raw if raw is not None else spec()), identity, "us-east-1")


def variant(
    name: str = "AllTraffic",
    *,
    current: int | None = 4,
    desired_count: int | None = 4,
    statuses: tuple[tuple[str, str | None, datetime | None], ...] = (),
) -> VariantSnapshot:
    return VariantSnapshot(
        name=name,
        current_weight=1.0,
        desired_weight=1.0,
        current_instance_count=current,
        desired_instance_count=desired_count,
        instance_type="ml.m5.xlarge",
        statuses=tuple(VariantStatusEntry(s, m, t) for s, m, t in statuses),
    )


def endpoint(
    status: EndpointStatus | str = EndpointStatus.IN_SERVICE,
    config: str | None = None,
    *,
    name: str = "fraud-detector",
    target: str | None = None,
    green: VariantSnapshot | None = None,
    blue: VariantSnapshot | None = None,
    failure: str | None = None,
    modified: datetime = T0,
    deployment: Mapping[str, Any] | None = None,
) -> EndpointSnapshot:
    """A DescribeEndpoint snapshot; ``target`` adds a PendingDeploymentSummary for that config,
    ``deployment`` is its ``LastDeploymentConfig``."""
    pending = None
    if target is not None:
        pending = PendingDeployment(
            config_name=target, start_time=modified, variants=(green or variant(current=0),)
        )
    return EndpointSnapshot(
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
        status=EndpointStatus(status),
        config_name=config,
        failure_reason=failure,
        creation_time=T0,
        last_modified_time=modified,
        variants=(blue or variant(),),
        pending=pending,
        last_deployment_config=deployment,
    )


def status(**fields: Any) -> GuardedEndpointStatus:
    """A previous status from camelCase or snake_case keyword arguments."""
    return GuardedEndpointStatus.model_validate(fields)
