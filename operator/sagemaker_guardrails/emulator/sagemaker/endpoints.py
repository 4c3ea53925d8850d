"""Endpoint operations: create, update (with deployment guardrails), re-weight, describe, list, delete.

Every mutation of a busy endpoint (Creating, Updating, SystemUpdating, RollingBack, Deleting) fails with
``Cannot update in-progress endpoint "<arn>"``: there is no way to cancel a deployment (spec 1.2, 2).
``UpdateEndpoint`` returns as soon as the update is accepted; everything after that is the engine's job.
For ``update_summary_delay_seconds`` after the call the endpoint is ``Updating`` with no
``PendingDeploymentSummary`` yet (spec 13); the deployment's ``StartTime`` is the end of that window.
All checks run before anything changes, so a rejected request leaves no trace.
"""

from __future__ import annotations

from typing import Any

from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.describe import current_status, describe_endpoint, endpoint_summary
from sagemaker_guardrails.emulator.engine import Operation
from sagemaker_guardrails.emulator.plans import (
    Fleet,
    Policy,
    plan_accepted,
    plan_blue_green,
    plan_create,
    plan_rolling,
)
from sagemaker_guardrails.emulator.recovery import plan_delete, plan_scale
from sagemaker_guardrails.emulator.rules import (
    check_variant_names,
    exclusion,
    fleets_of,
    resolve_policy,
    retain_properties,
)
from sagemaker_guardrails.emulator.sagemaker.common import (
    Handler,
    already_exists,
    filter_sort,
    get_config,
    get_endpoint,
    get_model,
    paginate,
    resource_arn,
    set_tags,
)
from sagemaker_guardrails.emulator.store import ConfigRecord, EndpointRecord, VariantState
from sagemaker_guardrails.emulator.wire import plain, validation_error

BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


def _ensure_idle(endpoint: EndpointRecord) -> None:
    if endpoint.operation is not None or current_status(endpoint) in BUSY:
        raise validation_error(f'Cannot update in-progress endpoint "{endpoint.arn}".')


def _ensure_not_failed(endpoint: EndpointRecord) -> None:
    if endpoint.status == "Failed":
        raise validation_error(
            f'Cannot update endpoint "{endpoint.arn}" in status Failed; the only operation left is DeleteEndpoint.'
        )


def _extras(ctx: EmulatorContext, region: str, config: ConfigRecord) -> dict[str, Any]:
    models = ctx.store.region(region).models
    shadow = fleets_of(config, models, "ShadowProductionVariants")
    return {
        "shadow": tuple(VariantState(f, f.count, f.weight, ctx.clock.now()) for f in shadow),
        "async_config": config.spec.get("AsyncInferenceConfig"),
        "data_capture": config.spec.get("DataCaptureConfig"),
    }


def _models_exist(ctx: EmulatorContext, region: str, config: ConfigRecord) -> None:
    for variant in list(config.spec["ProductionVariants"]) + list(
        config.spec.get("ShadowProductionVariants") or []
    ):
        get_model(ctx, region, variant["ModelName"])


def create_endpoint(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    store, name = ctx.store.region(region), params["EndpointName"]
    if name.lower() in store.endpoints:
        raise already_exists(ctx, region, "endpoint", name)
    config = get_config(ctx, region, params["EndpointConfigName"], fresh_ok=False)
    _models_exist(ctx, region, config)
    green = fleets_of(config, store.models)
    deployment = plain(params.get("DeploymentConfig"))
    resolve_policy(deployment, green, ctx.settings)  # CreateEndpoint only stores it, but it must be valid
    now = ctx.clock.now()
    endpoint = EndpointRecord(
        name=name,
        arn=resource_arn(ctx, region, "endpoint", name),
        region=region,
        config_name=config.name,
        status="Creating",
        created=now,
        modified=now,
        last_deployment_config=deployment or None,
    )
    set_tags(store, endpoint.arn, params.get("Tags") or [])
    store.endpoints[name.lower()] = endpoint
    operation = Operation(
        "create",
        plan_create(green, ctx.settings),
        now,
        now,
        target_config=config.name,
        green=green,
        extras=_extras(ctx, region, config),
    )
    ctx.engine.start(endpoint, operation)
    return {"EndpointArn": endpoint.arn}


def _policy_for_update(
    ctx: EmulatorContext, region: str, endpoint: EndpointRecord, config: ConfigRecord, params: dict[str, Any]
) -> tuple[Policy, dict[str, Any] | None, tuple[Fleet, ...]]:
    """The policy the update will follow, the DeploymentConfig to store, and the new fleets."""
    settings, store = ctx.settings, ctx.store.region(region)
    deployment = plain(params.get("DeploymentConfig"))
    retain = bool(params.get("RetainDeploymentConfig"))
    if deployment and retain and settings.reject_retain_with_deployment_config:
        raise validation_error(
            "Invalid request: DeploymentConfig cannot be specified together with RetainDeploymentConfig=true."
        )
    if retain:
        deployment = endpoint.last_deployment_config
    green = fleets_of(config, store.models)
    if params.get("RetainAllVariantProperties"):
        excluded = {p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties") or []}
        green = retain_properties(green, endpoint.live, excluded)
    elif params.get("ExcludeRetainedVariantProperties"):
        raise validation_error("ExcludeRetainedVariantProperties requires RetainAllVariantProperties=true.")
    policy = resolve_policy(deployment, green, settings)
    if policy.mode == "DEFAULT":
        return policy, deployment, green
    excluded_reason = exclusion(green, endpoint.live, store.models, settings.account_id, settings)
    if excluded_reason:
        return Policy("DEFAULT", note=excluded_reason), deployment, green
    check_variant_names(green, endpoint.live, config.name, endpoint.config_name)
    if policy.alarms and settings.missing_alarm == "reject":
        missing = ctx.alarms.check(region, policy.alarms).missing
        if missing:
            raise validation_error(
                f"Invalid AutoRollbackConfiguration: could not find CloudWatch alarm(s) {', '.join(missing)}."
            )
    return policy, deployment, green


def update_endpoint(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = get_endpoint(ctx, region, params["EndpointName"])
    _ensure_idle(endpoint)
    _ensure_not_failed(endpoint)
    config = get_config(ctx, region, params["EndpointConfigName"], fresh_ok=False)
    if (
        ctx.settings.reject_same_config
        and config.name == endpoint.config_name
        and endpoint.status == "InService"
    ):
        raise validation_error(
            f'Cannot update endpoint "{endpoint.arn}" to endpoint configuration {config.name!r}: the endpoint already uses it.'
        )
    _models_exist(ctx, region, config)
    policy, deployment, green = _policy_for_update(ctx, region, endpoint, config, params)
    builder = plan_rolling if policy.mode == "ROLLING" else plan_blue_green
    phases = builder(endpoint.live, green, policy, ctx.settings)
    now = ctx.clock.now()
    delay = ctx.settings.update_summary_delay_seconds
    if delay > 0:
        phases.insert(0, plan_accepted(endpoint.live, ctx.settings))
    started = now + delay
    operation = Operation(
        "update",
        phases,
        started,
        now,
        target_config=config.name,
        previous_config=endpoint.config_name,
        previous_live=endpoint.live,
        green=green,
        policy=policy,
        deadline=None if policy.timeout is None else started + policy.timeout,
        extras=_extras(ctx, region, config),
    )
    endpoint.last_deployment_config = deployment or None
    endpoint.modified = now
    ctx.engine.start(endpoint, operation)
    return {"EndpointArn": endpoint.arn}


def update_weights_and_capacities(
    ctx: EmulatorContext, region: str, params: dict[str, Any]
) -> dict[str, Any]:
    endpoint = get_endpoint(ctx, region, params["EndpointName"])
    _ensure_idle(endpoint)
    _ensure_not_failed(endpoint)
    live = {s.fleet.name: s for s in endpoint.live}
    desired: dict[str, tuple[int | None, float | None]] = {}
    for item in params["DesiredWeightsAndCapacities"]:
        name = item["VariantName"]
        if name not in live:
            raise validation_error(
                f'The variant name(s) "[{name}]" is/are not present in the endpoint "{endpoint.arn}".'
            )
        if (
            item.get("DesiredInstanceCount") is not None
            and live[name].fleet.serverless is None
            and item["DesiredInstanceCount"] < 1
        ):
            raise validation_error(
                f"Variant {name!r}: DesiredInstanceCount must be at least 1 for instance-based variants."
            )
        desired[name] = (item.get("DesiredInstanceCount"), item.get("DesiredWeight"))
    phase, fleets = plan_scale(endpoint.live, desired, ctx.settings)
    now = ctx.clock.now()
    endpoint.modified = now
    ctx.engine.start(endpoint, Operation("scale", [phase], now, now, green=fleets))
    return {"EndpointArn": endpoint.arn}


def describe(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = get_endpoint(ctx, region, params["EndpointName"])
    return describe_endpoint(endpoint, ctx.clock.now(), ctx.settings)


def delete_endpoint(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = get_endpoint(ctx, region, params["EndpointName"])
    _ensure_idle(endpoint)
    now = ctx.clock.now()
    endpoint.modified = now
    ctx.engine.start(endpoint, Operation("delete", [plan_delete(endpoint.live, ctx.settings)], now, now))
    return {}


def list_endpoints(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    records = filter_sort(
        list(ctx.store.region(region).endpoints.values()),
        params,
        name=lambda r: r.name,
        status=current_status,
    )
    page, token = paginate(records, params, 10)
    return {"Endpoints": [endpoint_summary(r) for r in page], "NextToken": token}


HANDLERS: dict[str, Handler] = {
    "CreateEndpoint": create_endpoint,
    "UpdateEndpoint": update_endpoint,
    "UpdateEndpointWeightsAndCapacities": update_weights_and_capacities,
    "DescribeEndpoint": describe,
    "DeleteEndpoint": delete_endpoint,
    "ListEndpoints": list_endpoints,
}
