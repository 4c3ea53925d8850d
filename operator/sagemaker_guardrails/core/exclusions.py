"""Deployments SageMaker runs without the guardrails the spec asks for (spec §5, "Exclusions").

SageMaker does not refuse an update whose endpoint it excludes from deployment guardrails: it
accepts the ``DeploymentConfig``, stores it as ``LastDeploymentConfig``, and then runs a plain
blue/green all-at-once update **without bakes and without alarm-based auto-rollback**. Nothing
in its answer says so. A user who wrote a canary with alarms would see a deployment that ends
``InService`` in record time and believe it was guarded. This module finds those cases from the
spec alone, so the status and a Warning Event can say it before anything is deployed:

- an instance type SageMaker excludes: **Inf1** (``ml.inf1.*``) by default;
- a container image from AWS Marketplace: the spec has no ``ModelPackageName`` (the way most
  Marketplace models are deployed), so only images can be matched; which registries are
  Marketplace's is a setting (``guardrails_excluded_image_prefixes``, empty by default);
- a **serverless** variant under a blue/green policy: the guide says guardrails cover only
  real-time and asynchronous endpoints; the most plausible reading (spec §12, Q8) is the same
  all-at-once fallback. (Rolling with serverless or several variants is rejected by the CRD.)

A policy that asks for nothing beyond what the fallback does (blue/green all-at-once without a
final bake or alarms) loses nothing, and gets no notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sagemaker_guardrails.api.deployment import DeploymentSpec, TrafficRoutingType
from sagemaker_guardrails.api.spec import GuardedEndpointSpec

__all__ = [
    "CONDITION",
    "DEFAULT_EXCLUDED_INSTANCE_PREFIXES",
    "REASON",
    "Notice",
    "asks_for_guardrails",
    "causes",
    "notice",
]

CONDITION = "GuardrailsNotApplied"
"""The informational condition type (status ``True`` while it applies; absent otherwise)."""
REASON = "GuardrailsNotApplied"
"""The reason of its Warning Event."""
DEFAULT_EXCLUDED_INSTANCE_PREFIXES = ("ml.inf1.",)


@dataclass(frozen=True)
class Notice:
    """Why SageMaker will not honour spec.deployment, and the sentence that says so."""

    reason: str
    causes: tuple[str, ...]
    message: str


def asks_for_guardrails(deployment: DeploymentSpec) -> bool:
    """Whether the policy asks for more than SageMaker's fallback (all-at-once, no bake, no alarms)."""
    if deployment.rolling is not None:
        return True
    if deployment.auto_rollback is not None and deployment.auto_rollback.alarms:
        return True
    blue_green = deployment.blue_green
    if blue_green is None:
        return False
    return blue_green.traffic_routing.type is not TrafficRoutingType.ALL_AT_ONCE or bool(
        blue_green.termination_wait_seconds
    )


def causes(
    spec: GuardedEndpointSpec,
    *,
    instance_prefixes: Sequence[str] = DEFAULT_EXCLUDED_INSTANCE_PREFIXES,
    image_prefixes: Sequence[str] = (),
) -> tuple[tuple[str, str], ...]:
    """Every ``(reason, sentence)`` that excludes this spec's endpoint from guardrails."""
    found: list[tuple[str, str]] = []
    instance_prefixes = tuple(p.lower() for p in instance_prefixes if p)
    for variant in spec.variants:
        kind = (variant.instance_type or "").lower()
        if kind and instance_prefixes and kind.startswith(instance_prefixes):
            found.append(
                (
                    "InstanceTypeExcluded",
                    f"variant {variant.name} runs on {variant.instance_type}, an instance type SageMaker "
                    "excludes from deployment guardrails (Inf1)",
                )
            )
        if variant.serverless is not None and spec.deployment.blue_green is not None:
            found.append(
                (
                    "ServerlessVariant",
                    f"variant {variant.name} is serverless, and guardrails cover only real-time and "
                    "asynchronous endpoints",
                )
            )
    image_prefixes = tuple(p for p in image_prefixes if p)
    for model in spec.models:
        for container in model.containers:
            if image_prefixes and container.image.startswith(image_prefixes):
                found.append(
                    (
                        "MarketplaceContainer",
                        f"model {model.name} uses the AWS Marketplace image {container.image}",
                    )
                )
    return tuple(found)


def notice(
    spec: GuardedEndpointSpec,
    revision: str,
    *,
    instance_prefixes: Sequence[str] = DEFAULT_EXCLUDED_INSTANCE_PREFIXES,
    image_prefixes: Sequence[str] = (),
) -> Notice | None:
    """The notice for revision ``revision`` of ``spec``, or None when its guardrails apply."""
    if not asks_for_guardrails(spec.deployment):
        return None
    found = causes(spec, instance_prefixes=instance_prefixes, image_prefixes=image_prefixes)
    if not found:
        return None
    because = "; ".join(sentence for _, sentence in found)
    message = (
        f"SageMaker will not apply the {spec.deployment.strategy} guardrail of spec.deployment to revision "
        f"{revision}: {because}. It accepts the update and runs it blue/green all-at-once, without bakes "
        "and without alarm-based auto-rollback."
    )
    return Notice(reason=found[0][0], causes=tuple(sentence for _, sentence in found), message=message)
