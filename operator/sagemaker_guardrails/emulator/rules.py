"""Server-side deployment rules that botocore does not check, and the fallbacks of the exclusions list.

The model's doc strings carry rules the client never enforces (spec 1.4): only one update policy, canary
at most 50 % of the variant, linear steps 10-50 %, rolling batches 5-50 % and not for serverless or
multi-variant endpoints, a timeout larger than the waits, the same variant names as the running config.
Every rule fails with a ``ValidationException`` that names the field, before anything changes.
Serverless variants have no instances to size a canary or a linear step on: a blue/green policy on them
falls back to plain all-at-once (or is rejected, ``serverless_blue_green``), for CreateEndpoint (which
only stores it) and UpdateEndpoint alike.

Percentages refer to each variant's own instance count (Q9) and become instance counts with
``capacity_rounding`` and a minimum of one (Q11). Endpoints on the exclusions list (Marketplace models,
Inf1 instances, serverless with blue/green by default) silently get plain blue/green all-at-once: no
bakes, no alarms (spec 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from sagemaker_guardrails.emulator.plans import (
    Fleet,
    Policy,
    plan_blue_green,
    plan_rolling,
    total_bake_seconds,
)
from sagemaker_guardrails.emulator.settings import EmulatorSettings
from sagemaker_guardrails.emulator.store import ConfigRecord, ModelRecord, VariantState
from sagemaker_guardrails.emulator.wire import validation_error

# (lowest, highest) share of a variant's instances, per size field.
_RANGES = {
    "CanarySize": (0.0, 0.5),
    "LinearStepSize": (0.1, 0.5),
    "MaximumBatchSize": (0.05, 0.5),
    "RollbackMaximumBatchSize": (0.0, 1.0),
}


_ROUNDING: dict[str, Callable[[float], int]] = {"floor": math.floor, "ceil": math.ceil, "round": round}


def model_images(model: ModelRecord | None) -> tuple[str, ...]:
    if model is None:
        return ()
    containers = (
        [model.spec.get("PrimaryContainer")]
        if model.spec.get("PrimaryContainer")
        else model.spec.get("Containers", [])
    )
    return tuple(c["Image"] for c in containers if c and c.get("Image"))


def fleets_of(
    config: ConfigRecord, models: Mapping[str, ModelRecord], key: str = "ProductionVariants"
) -> tuple[Fleet, ...]:
    fleets = []
    for variant in config.spec.get(key) or []:
        serverless = variant.get("ServerlessConfig")
        count = 0 if serverless else int(variant.get("InitialInstanceCount", 1))
        fleets.append(
            Fleet(
                variant["VariantName"],
                variant["ModelName"],
                variant.get("InstanceType"),
                count,
                float(variant.get("InitialVariantWeight", 1.0)),
                serverless,
                model_images(models.get(variant["ModelName"])),
            )
        )
    return tuple(fleets)


def retain_properties(
    green: tuple[Fleet, ...], live: tuple[VariantState, ...], excluded: set[str]
) -> tuple[Fleet, ...]:
    """RetainAllVariantProperties: keep the live desired count and weight of same-named variants."""
    by_name = {s.fleet.name: s.fleet for s in live}
    kept = []
    for fleet in green:
        old = by_name.get(fleet.name)
        if old is None:
            kept.append(fleet)
            continue
        count = fleet.count if "DesiredInstanceCount" in excluded or fleet.serverless else old.count
        weight = fleet.weight if "DesiredWeight" in excluded else old.weight
        kept.append(
            Fleet(
                fleet.name,
                fleet.model_name,
                fleet.instance_type,
                count,
                weight,
                fleet.serverless,
                fleet.images,
            )
        )
    return tuple(kept)


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def _capacity(field: str, size: Mapping[str, Any], fleet: Fleet, settings: EmulatorSettings) -> int | None:
    """Instances per step for ``fleet``; None when no whole number of instances fits the rule (Q11)."""
    low, high = _RANGES[field]
    total = fleet.count
    fewest, most = max(1, math.ceil(low * total - 1e-9)), math.floor(high * total + 1e-9)
    if size["Type"] == "CAPACITY_PERCENT":
        value = size["Value"]
        if not low * 100 <= value <= high * 100:
            raise validation_error(
                f"Invalid {field}: a CAPACITY_PERCENT value must be between {_pct(low)} and {_pct(high)} "
                f"of the variant's instance count; got {value}."
            )
        if fewest > most:
            return None
        rounded = _ROUNDING[settings.capacity_rounding](total * value / 100.0)
        return min(max(int(rounded), fewest), most)
    if fewest > most:
        return None
    count = int(size["Value"])
    if not fewest <= count <= most:
        raise validation_error(
            f"Invalid {field}: {count} instance(s) is not between {_pct(low)} and {_pct(high)} of the "
            f"{total} instance(s) of variant {fleet.name!r}."
        )
    return count


def _sizes(
    field: str, size: Mapping[str, Any], green: tuple[Fleet, ...], settings: EmulatorSettings
) -> dict[str, int] | None:
    counts = {}
    for fleet in green:
        if fleet.serverless is not None:
            continue
        count = _capacity(field, size, fleet, settings)
        if count is None:
            if settings.single_instance == "reject":
                raise validation_error(
                    f"Invalid {field}: variant {fleet.name!r} has {fleet.count} instance(s), too few for {field} between {_pct(_RANGES[field][0])} and {_pct(_RANGES[field][1])} of its instances."
                )
            return None
        counts[fleet.name] = count
    return counts


def _stand_in(fleet: Fleet) -> SimpleNamespace:
    return SimpleNamespace(fleet=fleet, current_count=fleet.count, current_weight=fleet.weight)


def resolve_policy(
    deployment: Mapping[str, Any] | None, green: tuple[Fleet, ...], settings: EmulatorSettings
) -> Policy:
    """Validate a DeploymentConfig against the new config's fleets and turn it into a Policy."""
    if not deployment:
        return Policy("DEFAULT")
    blue_green, rolling = deployment.get("BlueGreenUpdatePolicy"), deployment.get("RollingUpdatePolicy")
    alarms = tuple(
        a["AlarmName"] for a in (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    )
    if blue_green and rolling:
        raise validation_error(
            "Invalid DeploymentConfig: specify only one of BlueGreenUpdatePolicy and RollingUpdatePolicy."
        )
    if rolling:
        policy = _rolling(rolling, green, alarms, settings)
    elif blue_green:
        policy = _blue_green(blue_green, green, alarms, settings)
    else:
        # No update policy: blue/green all-at-once; alarms, if any, are checked in a zero-length bake.
        if not alarms:
            return Policy("DEFAULT", note="no update policy: blue/green all-at-once")
        policy = Policy("ALL_AT_ONCE", alarms=alarms, note="no update policy: blue/green all-at-once")
    if policy.mode != "ROLLING" and any(f.serverless is not None for f in green):
        return _serverless(settings)
    if policy.timeout is not None:
        plan = (plan_rolling if policy.mode == "ROLLING" else plan_blue_green)(
            tuple(_stand_in(f) for f in green), green, policy, settings
        )
        waits = total_bake_seconds(plan)
        if policy.timeout <= waits:
            raise validation_error(
                f"Invalid MaximumExecutionTimeoutInSeconds: {policy.timeout:g} must be larger than the total waiting time of {waits:g} seconds (WaitIntervalInSeconds and TerminationWaitInSeconds)."
            )
    return policy


def _serverless(settings: EmulatorSettings) -> Policy:
    """Blue/green guardrails on a serverless variant (spec 5, Q8): plain all-at-once, or rejected."""
    if settings.serverless_blue_green == "reject":
        raise validation_error(
            "Invalid DeploymentConfig: deployment guardrails are not supported for serverless endpoints."
        )
    return Policy("DEFAULT", note="serverless endpoint: all-at-once without guardrails")


def _blue_green(
    policy: Mapping[str, Any], green: tuple[Fleet, ...], alarms: tuple[str, ...], settings: EmulatorSettings
) -> Policy:
    routing = policy["TrafficRoutingConfiguration"]
    kind = routing["Type"]
    wanted = {"CANARY": "CanarySize", "LINEAR": "LinearStepSize"}.get(kind)
    for field in ("CanarySize", "LinearStepSize"):
        if field == wanted and field not in routing:
            raise validation_error(
                f"Invalid TrafficRoutingConfiguration: {field} is required when Type is {kind}."
            )
        if field != wanted and field in routing:
            raise validation_error(
                f"Invalid TrafficRoutingConfiguration: {field} is not allowed when Type is {kind}."
            )
    timeout = policy.get("MaximumExecutionTimeoutInSeconds", settings.default_execution_timeout_seconds)
    base = Policy(
        "ALL_AT_ONCE",
        wait=float(routing["WaitIntervalInSeconds"]),
        termination_wait=float(policy.get("TerminationWaitInSeconds", 0)),
        alarms=alarms,
        timeout=None if timeout is None else float(timeout),
    )
    if wanted is None:
        return base
    sizes = _sizes(wanted, routing[wanted], green, settings)
    if sizes is None:
        return replace(base, note=f"{wanted} impossible on a single instance: all-at-once")
    return replace(base, mode="CANARY" if kind == "CANARY" else "LINEAR", sizes=sizes)


def _rolling(
    policy: Mapping[str, Any], green: tuple[Fleet, ...], alarms: tuple[str, ...], settings: EmulatorSettings
) -> Policy:
    if len(green) != 1:
        raise validation_error(
            "Invalid RollingUpdatePolicy: rolling deployments are not supported for endpoints with more than one production variant."
        )
    if green[0].serverless is not None:
        raise validation_error(
            "Invalid RollingUpdatePolicy: rolling deployments are not supported for serverless endpoints."
        )
    timeout = policy.get("MaximumExecutionTimeoutInSeconds", settings.default_execution_timeout_seconds)
    wait = float(policy["WaitIntervalInSeconds"])
    sizes = _sizes("MaximumBatchSize", policy["MaximumBatchSize"], green, settings)
    rollback = {green[0].name: green[0].count}
    if policy.get("RollbackMaximumBatchSize"):
        rollback = (
            _sizes("RollbackMaximumBatchSize", policy["RollbackMaximumBatchSize"], green, settings)
            or rollback
        )
    if sizes is None:
        return Policy(
            "ALL_AT_ONCE",
            termination_wait=wait,
            alarms=alarms,
            note="rolling impossible on a single instance: all-at-once",
        )
    return Policy(
        "ROLLING",
        wait=wait,
        sizes=sizes,
        rollback_sizes=rollback,
        alarms=alarms,
        timeout=None if timeout is None else float(timeout),
    )


def exclusion(
    green: tuple[Fleet, ...],
    blue: tuple[VariantState, ...],
    models: Mapping[str, ModelRecord],
    account: str,
    settings: EmulatorSettings,
) -> str | None:
    """Why guardrails do not apply to this update (spec 5), or None."""
    for fleet in list(green) + [s.fleet for s in blue]:
        if fleet.instance_type and any(
            fleet.instance_type.startswith(p) for p in settings.excluded_instance_prefixes
        ):
            return f"instance type {fleet.instance_type} is excluded from deployment guardrails"
        model = models.get(fleet.model_name)
        if settings.marketplace_fallback and model is not None and _is_marketplace(model, account):
            return f"model {model.name} uses a Marketplace model package"
    return None


def _is_marketplace(model: ModelRecord, account: str) -> bool:
    containers = [model.spec.get("PrimaryContainer"), *(model.spec.get("Containers") or [])]
    for container in containers:
        package = (container or {}).get("ModelPackageName") or ""
        if "aws-marketplace" in package or (package.startswith("arn:") and f":{account}:" not in package):
            return True
    return False


def check_variant_names(
    green: tuple[Fleet, ...], blue: tuple[VariantState, ...], new_config: str, old_config: str
) -> None:
    new, old = sorted(f.name for f in green), sorted(s.fleet.name for s in blue)
    if new != old:
        raise validation_error(
            f"The production variant names of endpoint configuration {new_config!r} ({', '.join(new)}) must match those of the running endpoint configuration {old_config!r} ({', '.join(old)}) for a blue/green or rolling deployment."
        )
