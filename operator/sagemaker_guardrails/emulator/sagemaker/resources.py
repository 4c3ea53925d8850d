"""Models, endpoint configs and tags: the immutable resources an endpoint deploys.

Deleting a config or model that an endpoint still uses is allowed, as in SageMaker; the endpoint keeps
running, but a later update that needs it fails with "Could not find ..." (spec 9.3, tf-aws #40048).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.sagemaker.common import (
    Handler,
    already_exists,
    filter_sort,
    get_config,
    get_endpoint,
    get_model,
    not_found,
    paginate,
    resource_arn,
    set_tags,
    tag_list,
)
from sagemaker_guardrails.emulator.store import ConfigRecord, ModelRecord
from sagemaker_guardrails.emulator.wire import plain, validation_error


def create_model(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    store, name = ctx.store.region(region), params["ModelName"]
    if name.lower() in store.models:
        raise already_exists(ctx, region, "model", name)
    if not params.get("PrimaryContainer") and not params.get("Containers"):
        raise validation_error("Either PrimaryContainer or Containers must be specified.")
    record = ModelRecord(
        name,
        resource_arn(ctx, region, "model", name),
        ctx.clock.now(),
        plain({k: v for k, v in params.items() if k != "Tags"}),
    )
    set_tags(store, record.arn, params.get("Tags") or [])
    store.models[name.lower()] = record
    return {"ModelArn": record.arn}


def describe_model(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    record = get_model(ctx, region, params["ModelName"])
    return {**record.spec, "ModelName": record.name, "ModelArn": record.arn, "CreationTime": record.created}


def delete_model(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    record = get_model(ctx, region, params["ModelName"])
    store = ctx.store.region(region)
    del store.models[record.name.lower()]
    store.tags.pop(record.arn, None)
    return {}


def list_models(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    records = filter_sort(list(ctx.store.region(region).models.values()), params, name=lambda r: r.name)
    page, token = paginate(records, params, 10)
    return {
        "Models": [{"ModelName": r.name, "ModelArn": r.arn, "CreationTime": r.created} for r in page],
        "NextToken": token,
    }


def create_endpoint_config(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    store, name = ctx.store.region(region), params["EndpointConfigName"]
    if name.lower() in store.configs:
        raise already_exists(ctx, region, "endpoint-config", name)
    variants = list(params["ProductionVariants"]) + list(params.get("ShadowProductionVariants") or [])
    names = [v["VariantName"] for v in variants]
    if len(set(names)) != len(names):
        raise validation_error(
            f"Variant names must be unique within an endpoint configuration; got {', '.join(names)}."
        )
    for variant in variants:
        get_model(ctx, region, variant["ModelName"])
        serverless = variant.get("ServerlessConfig") is not None
        if serverless == bool(variant.get("InstanceType")):
            raise validation_error(
                f"Variant {variant['VariantName']!r}: specify exactly one of InstanceType and ServerlessConfig."
            )
        if not serverless and variant.get("InitialInstanceCount") is None:
            raise validation_error(
                f"Variant {variant['VariantName']!r}: InitialInstanceCount is required with InstanceType."
            )
    record = ConfigRecord(
        name,
        resource_arn(ctx, region, "endpoint-config", name),
        ctx.clock.now(),
        plain({k: v for k, v in params.items() if k != "Tags"}),
    )
    set_tags(store, record.arn, params.get("Tags") or [])
    store.configs[name.lower()] = record
    return {"EndpointConfigArn": record.arn}


def describe_endpoint_config(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    record = get_config(ctx, region, params["EndpointConfigName"])
    return {
        **record.spec,
        "EndpointConfigName": record.name,
        "EndpointConfigArn": record.arn,
        "CreationTime": record.created,
    }


def delete_endpoint_config(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    record = get_config(ctx, region, params["EndpointConfigName"])
    store = ctx.store.region(region)
    del store.configs[record.name.lower()]
    store.tags.pop(record.arn, None)
    return {}


def list_endpoint_configs(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    records = filter_sort(list(ctx.store.region(region).configs.values()), params, name=lambda r: r.name)
    page, token = paginate(records, params, 10)
    summaries = [
        {"EndpointConfigName": r.name, "EndpointConfigArn": r.arn, "CreationTime": r.created} for r in page
    ]
    return {"EndpointConfigs": summaries, "NextToken": token}


def _tagged_resource(ctx: EmulatorContext, region: str, resource: str) -> str:
    """The ARN's resource must exist; returns the ARN as stored."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or "/" not in parts[5]:
        raise validation_error(f"Invalid ResourceArn {resource!r}.")
    arn_region, kind, name = parts[3], *parts[5].split("/", 1)
    if arn_region != region or parts[4] != ctx.settings.account_id:
        raise validation_error(
            f"Resource {resource!r} is not in this account and region ({ctx.settings.account_id}, {region})."
        )
    lookups: dict[str, Callable[[EmulatorContext, str, str], Any]] = {
        "model": get_model,
        "endpoint-config": get_config,
        "endpoint": get_endpoint,
    }
    if kind not in lookups:
        raise validation_error(f"Tagging {kind} resources is not supported by the emulator.")
    try:
        found = lookups[kind](ctx, region, name)
    except Exception as error:
        raise not_found(ctx, region, kind, name) from error
    return str(found.arn)


def add_tags(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    resource = _tagged_resource(ctx, region, params["ResourceArn"])
    set_tags(ctx.store.region(region), resource, params["Tags"])
    return {"Tags": params["Tags"]}


def list_tags(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    resource = _tagged_resource(ctx, region, params["ResourceArn"])
    page, token = paginate(tag_list(ctx.store.region(region).tags.get(resource, {})), params, 50)
    return {"Tags": page, "NextToken": token}


def delete_tags(ctx: EmulatorContext, region: str, params: dict[str, Any]) -> dict[str, Any]:
    resource = _tagged_resource(ctx, region, params["ResourceArn"])
    tags = ctx.store.region(region).tags.get(resource, {})
    for key in params["TagKeys"]:
        tags.pop(key, None)
    return {}


HANDLERS: dict[str, Handler] = {
    "CreateModel": create_model,
    "DescribeModel": describe_model,
    "DeleteModel": delete_model,
    "ListModels": list_models,
    "CreateEndpointConfig": create_endpoint_config,
    "DescribeEndpointConfig": describe_endpoint_config,
    "DeleteEndpointConfig": delete_endpoint_config,
    "ListEndpointConfigs": list_endpoint_configs,
    "AddTags": add_tags,
    "ListTags": list_tags,
    "DeleteTags": delete_tags,
}
