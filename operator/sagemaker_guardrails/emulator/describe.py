"""DescribeEndpoint (and ListEndpoints summaries) as SageMaker shows them in each phase (spec 1.3, 3.0).

While an operation runs, the top-level ``EndpointConfigName`` and ``ProductionVariants`` stay on the old
(blue) config (Q12) and the new fleet appears only under ``PendingDeploymentSummary``, whose
``VariantStatus`` carries the documented status messages. The traffic percentage is not shown anywhere:
SageMaker does not expose it. Instance counts ramp up during provisioning phases.

Quirks of the real responses (spec 13) are kept: the pending ``InstanceType`` has no ``ml.`` prefix,
a serverless variant in service shows ``CurrentInstanceCount: 0`` and no ``Desired*`` fields, and
the live variant shows ``CurrentInstanceCount: 0`` once all traffic is on the new fleet (``plans``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sagemaker_guardrails.emulator.engine import Operation
from sagemaker_guardrails.emulator.plans import VariantView
from sagemaker_guardrails.emulator.settings import EmulatorSettings
from sagemaker_guardrails.emulator.store import EndpointRecord, VariantState


def resolved_image(image: str) -> str:
    if "@sha256:" in image:
        return image
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def pending_instance_type(instance_type: str) -> str:
    """``PendingDeploymentSummary`` reports the type without the ``ml.`` prefix (spec 13: ``m5.xlarge``)."""
    return instance_type.removeprefix("ml.")


def _variant(
    view: VariantView, fraction: float, started: float, resolved_at: float, pending: bool
) -> dict[str, Any]:
    fleet = view.fleet
    data: dict[str, Any] = {
        "VariantName": fleet.name,
        "DeployedImages": [
            {"SpecifiedImage": image, "ResolvedImage": resolved_image(image), "ResolutionTime": resolved_at}
            for image in fleet.images
        ],
        "CurrentWeight": view.current_weight,
        "DesiredWeight": fleet.weight,
    }
    if fleet.serverless is not None and not pending:
        # A serverless variant in service: no instances, its config, and no Desired* fields (spec 13).
        del data["DesiredWeight"]
        data["CurrentInstanceCount"] = 0
        data["CurrentServerlessConfig"] = dict(fleet.serverless)
    elif fleet.serverless is not None:
        data["DesiredServerlessConfig"] = dict(fleet.serverless)
    else:
        data["CurrentInstanceCount"] = view.count_at(fraction)
        data["DesiredInstanceCount"] = fleet.count
    if pending and fleet.instance_type:
        data["InstanceType"] = pending_instance_type(fleet.instance_type)
    if view.status:
        data["VariantStatus"] = [
            {"Status": s, "StatusMessage": m, "StartTime": started} for s, m in view.status
        ]
    return data


def _data_capture(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    enabled = bool(config.get("EnableCapture", True))
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": config.get("InitialSamplingPercentage", 0),
        "DestinationS3Uri": config.get("DestinationS3Uri", ""),
        "KmsKeyId": config.get("KmsKeyId", ""),
    }


def current_status(endpoint: EndpointRecord) -> str:
    return endpoint.operation.phase.status if endpoint.operation else endpoint.status


def describe_endpoint(endpoint: EndpointRecord, now: float, settings: EmulatorSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.config_name,
        "EndpointStatus": current_status(endpoint),
        "FailureReason": endpoint.failure_reason,
        "CreationTime": endpoint.created,
        "LastModifiedTime": endpoint.modified,
        "LastDeploymentConfig": endpoint.last_deployment_config,
        "AsyncInferenceConfig": endpoint.async_config,
        "DataCaptureConfig": _data_capture(endpoint.data_capture),
    }
    op = endpoint.operation
    if op is None:
        if endpoint.live:
            out["ProductionVariants"] = _settled(endpoint.live)
    else:
        _in_flight(out, endpoint, op, now, settings)
    if endpoint.shadow:
        out["ShadowProductionVariants"] = _settled(endpoint.shadow)
    return out


def _settled(states: Sequence[VariantState]) -> list[dict[str, Any]]:
    """Variants with no operation on them: as they stand, resolved when they were deployed."""
    return [
        _variant(
            VariantView(s.fleet, s.current_count, s.current_weight), 1.0, s.resolved_at, s.resolved_at, False
        )
        for s in states
    ]


def _in_flight(
    out: dict[str, Any], endpoint: EndpointRecord, op: Operation, now: float, settings: EmulatorSettings
) -> None:
    phase = op.phase
    fraction = (now - op.phase_start) / phase.duration if phase.duration > 0 else 1.0
    resolved = {s.fleet.name: s.resolved_at for s in endpoint.live}
    if phase.live:
        out["ProductionVariants"] = [
            _variant(v, fraction, op.phase_start, resolved.get(v.fleet.name, endpoint.created), False)
            for v in phase.live
        ]
    if phase.pending is not None and op.kind in ("create", "update") and op.target_config:
        out["PendingDeploymentSummary"] = {
            "EndpointConfigName": op.target_config,
            "StartTime": op.started,
            "ProductionVariants": [
                _variant(v, fraction, op.phase_start, op.started, True) for v in phase.pending
            ],
        }
    if op.kind == "update" and not op.rolling_back and settings.updating_config_name == "new":
        out["EndpointConfigName"] = op.target_config


def endpoint_summary(endpoint: EndpointRecord) -> dict[str, Any]:
    return {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "CreationTime": endpoint.created,
        "LastModifiedTime": endpoint.modified,
        "EndpointStatus": current_status(endpoint),
    }
