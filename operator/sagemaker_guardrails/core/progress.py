"""Where a deployment is: stage, traffic step and estimated traffic, from what SageMaker shows.

SageMaker does not expose the share of traffic on the new fleet. What it does show while a
deployment runs is ``PendingDeploymentSummary.ProductionVariants[].VariantStatus`` (the green
fleet: ``Creating``/``Updating`` while it provisions, ``ActivatingTraffic``, ``Baking``), the
green ``CurrentInstanceCount`` (instances taking traffic during activation and bakes), and
``Deleting`` on the live (blue) variant while the old fleet is terminated. Combined with the
timeline (spec §3) of the policy SageMaker runs (:mod:`.policy`: ``LastDeploymentConfig``, not
the current spec, which may have been edited meanwhile) that gives:

- **stage**: ``Creating`` (first create), ``Provisioning``, ``ActivatingTraffic``, ``Baking``,
  ``Terminating``, and ``RollingBack`` as soon as SageMaker tears the new fleet down (``Deleting``
  on the *pending* variant) or relaunches old instances (``Creating`` on the live variant of a
  rolling deployment), before the endpoint settles back on the old config;
- **step / steps**: canary 2 steps, linear ``ceil(N/S)``, all-at-once 1, rolling ``ceil(N/B)``,
  with capacity percentages turned into instances as SageMaker does (``max(1, floor(N·p/100))``);
- **trafficPercent**, an *estimate*: instances with traffic on the new fleet divided by the
  variant's instance count. The instance count comes from the VariantStatus message when it
  names one ("… capacity of 3 instance(s)."), else from ``CurrentInstanceCount``, else from the
  policy. Whether a canary's share is ``C/N`` or ``C/(C+N)`` is undocumented (spec §12 Q6); this
  uses ``C/N``, like linear;
- **bakeEndsAt**: the ``Baking`` entry's ``StartTime`` plus the bake length, taken from the
  message ("Baking for 600 seconds") when present, else ``W`` for an intermediate step and ``T``
  for the final blue/green bake (the most plausible reading of §12 Q1; ``W`` for rolling).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sagemaker_guardrails.api.spec import CapacitySize, CapacitySizeType, DeploymentSpec
from sagemaker_guardrails.core import policy as policies
from sagemaker_guardrails.core.observed import (
    EndpointSnapshot,
    EndpointStatus,
    VariantSnapshot,
    VariantStatusEntry,
)
from sagemaker_guardrails.core.policy import Policy

__all__ = ["Progress", "Stage", "Timeline", "progress", "size_in_instances", "timeline"]


class Stage:
    CREATING = "Creating"
    PROVISIONING = "Provisioning"
    ACTIVATING = "ActivatingTraffic"
    BAKING = "Baking"
    TERMINATING = "Terminating"
    ROLLING_BACK = "RollingBack"


_STAGE_OF_STATUS = {
    "Creating": Stage.PROVISIONING,
    "Updating": Stage.PROVISIONING,
    "ActivatingTraffic": Stage.ACTIVATING,
    "Baking": Stage.BAKING,
    "Deleting": Stage.TERMINATING,
}
_CAPACITY_RE = re.compile(r"capacity of (\d+) instance")
_BAKE_RE = re.compile(r"Baking for (\d+) seconds")


@dataclass(frozen=True)
class Timeline:
    """The shape of a policy for a fleet of ``instances`` (``None`` when serverless/unknown)."""

    strategy: str
    steps: int
    step_size: int | None
    instances: int | None
    wait_seconds: int
    final_wait_seconds: int


@dataclass(frozen=True)
class Progress:
    stage: str
    step: int
    steps: int
    traffic_percent: int | None
    bake_ends_at: datetime | None = None
    message: str | None = None
    strategy: str | None = field(default=None, compare=False)  # of the timeline it was read against


def size_in_instances(size: CapacitySize, instances: int) -> int:
    """A CapacitySize as instances of a fleet of ``instances`` (at least 1, at most the fleet)."""
    if size.type is CapacitySizeType.INSTANCE_COUNT:
        count = size.value
    else:
        count = math.floor(instances * size.value / 100)
    return max(1, min(instances, count))


def _steps_of(size: CapacitySize, instances: int | None) -> tuple[int, int | None]:
    if instances is None:
        if size.type is CapacitySizeType.CAPACITY_PERCENT:
            return math.ceil(100 / size.value), None
        return 1, None
    step = size_in_instances(size, instances)
    return math.ceil(instances / step), step


def _policy(policy: Policy | DeploymentSpec) -> Policy:
    return policy if isinstance(policy, Policy) else policies.of_spec(policy)


def timeline(policy: Policy | DeploymentSpec, instances: int | None) -> Timeline:
    """The number of traffic steps and the bake lengths of ``policy``."""
    known = _policy(policy)
    wait, final, size = known.wait_seconds, known.final_wait_seconds, known.step
    if known.strategy == "Canary" and size is not None:
        step = size_in_instances(size, instances) if instances else None
        return Timeline(known.strategy, 2, step, instances, wait, final)
    if known.strategy in ("Linear", "Rolling") and size is not None:
        steps, step = _steps_of(size, instances)
        return Timeline(known.strategy, steps, step, instances, wait, final)
    return Timeline(known.strategy, 1, instances, instances, wait, final)


def _latest(statuses: tuple[VariantStatusEntry, ...]) -> VariantStatusEntry | None:
    if not statuses:
        return None
    dated = [s for s in statuses if s.start_time is not None]
    if dated:
        return max(dated, key=lambda s: s.start_time or datetime.min)
    return statuses[-1]


def _green(endpoint: EndpointSnapshot) -> VariantSnapshot | None:
    if endpoint.pending is None or not endpoint.pending.variants:
        return None
    with_status = [v for v in endpoint.pending.variants if v.statuses]
    return with_status[0] if with_status else endpoint.pending.variants[0]


def _traffic_instances(entry: VariantStatusEntry | None, green: VariantSnapshot | None) -> int | None:
    if entry is not None and entry.message:
        found = _CAPACITY_RE.search(entry.message)
        if found:
            return int(found.group(1))
    return green.current_instance_count if green is not None else None


def _step_of(line: Timeline, active: int | None, message: str | None) -> int:
    if message and "full capacity" in message:
        return line.steps
    if active is None or line.step_size is None or line.instances is None:
        return 1
    if line.strategy == "Canary":
        return 1 if active < line.instances else 2
    return max(1, min(line.steps, math.ceil(active / line.step_size)))


def _next_batch(line: Timeline, active: int | None) -> int:
    """The rolling batch being provisioned: one past the batches already taking traffic."""
    if not active or not line.step_size:
        return 1
    return max(1, min(line.steps, active // line.step_size + 1))


def _percent(active: int | None, instances: int | None) -> int | None:
    if active is None or not instances:
        return None
    return max(0, min(100, round(100 * active / instances)))


def _bake_end(entry: VariantStatusEntry, line: Timeline, step: int) -> datetime | None:
    if entry.start_time is None:
        return None
    found = _BAKE_RE.search(entry.message or "")
    if found:
        seconds = int(found.group(1))
    else:
        seconds = line.final_wait_seconds if step >= line.steps else line.wait_seconds
    return entry.start_time + timedelta(seconds=seconds)


def _instances(endpoint: EndpointSnapshot, fallback: int | None) -> int | None:
    green = _green(endpoint)
    if green is not None and green.desired_instance_count:
        return green.desired_instance_count
    return fallback


def _blue_entry(endpoint: EndpointSnapshot) -> VariantStatusEntry | None:
    entries = tuple(s for v in endpoint.variants for s in v.statuses)
    return _latest(entries)


def _stage(
    endpoint: EndpointSnapshot, green: VariantStatusEntry | None, blue: VariantStatusEntry | None
) -> tuple[str, str | None]:
    """The stage, and the VariantStatus message that says so."""
    message = green.message if green is not None else None
    if endpoint.status is EndpointStatus.ROLLING_BACK:
        return Stage.ROLLING_BACK, message or (blue.message if blue else None)
    if green is not None and green.status == "Deleting":
        return Stage.ROLLING_BACK, message
    if blue is not None and blue.status == "Creating":
        return Stage.ROLLING_BACK, blue.message
    stage = _STAGE_OF_STATUS.get(green.status, Stage.PROVISIONING) if green else Stage.PROVISIONING
    if blue is not None and blue.status == "Deleting" and stage != Stage.BAKING:
        return Stage.TERMINATING, blue.message
    return stage, message


def progress(
    policy: Policy | DeploymentSpec, endpoint: EndpointSnapshot, *, creating: bool, instances: int | None
) -> Progress:
    """Progress of the deployment in flight on ``endpoint`` under ``policy``.

    ``policy`` is the one SageMaker runs (:func:`sagemaker_guardrails.core.policy.in_flight`), never
    the current spec's. ``instances`` is the variant's instance count, used when SageMaker does not
    report ``DesiredInstanceCount``; ``creating`` is true for the endpoint's first deployment.
    """
    line = timeline(policy, _instances(endpoint, instances))
    found = _progress(line, endpoint, creating=creating)
    return replace(found, strategy=line.strategy)


def _progress(line: Timeline, endpoint: EndpointSnapshot, *, creating: bool) -> Progress:
    green = _green(endpoint)
    entry = _latest(green.statuses) if green is not None else None
    if creating:
        return Progress(Stage.CREATING, 0, 1, 0, None, entry.message if entry else None)
    stage, message = _stage(endpoint, entry, _blue_entry(endpoint))
    if stage == Stage.ROLLING_BACK:
        return Progress(stage, 0, line.steps, 0 if line.strategy != "Rolling" else None, None, message)
    if stage == Stage.TERMINATING and line.strategy != "Rolling":
        return Progress(stage, line.steps, line.steps, 100, None, message)
    active = _traffic_instances(entry, green)
    if stage == Stage.PROVISIONING and line.strategy != "Rolling":
        return Progress(stage, 0, line.steps, 0, None, message)
    step = _next_batch(line, active) if stage == Stage.PROVISIONING else _step_of(line, active, message)
    bake_end = _bake_end(entry, line, step) if entry is not None and stage == Stage.BAKING else None
    return Progress(stage, step, line.steps, _percent(active, line.instances), bake_end, message)
