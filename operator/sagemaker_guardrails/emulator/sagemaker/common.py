"""Helpers shared by the SageMaker handlers: lookups with the real error messages, tags, pagination.

SageMaker reports a missing resource as ``ValidationException: Could not find <kind> "<arn>"`` (not
ResourceNotFound, spec 8), and names are unique per region regardless of case (ARNs are lower case).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.store import ConfigRecord, EndpointRecord, ModelRecord, RegionStore, arn
from sagemaker_guardrails.emulator.wire import validation_error

T = TypeVar("T")
Handler = Callable[[EmulatorContext, str, dict[str, Any]], dict[str, Any]]
KINDS = {"model": "model", "endpoint-config": "endpoint configuration", "endpoint": "endpoint"}
MAX_TAGS = 50


def resource_arn(ctx: EmulatorContext, region: str, kind: str, name: str) -> str:
    return arn(region, ctx.settings.account_id, kind, name)


def not_found(ctx: EmulatorContext, region: str, kind: str, name: str) -> Exception:
    return validation_error(f'Could not find {KINDS[kind]} "{resource_arn(ctx, region, kind, name)}".')


def already_exists(ctx: EmulatorContext, region: str, kind: str, name: str) -> Exception:
    return validation_error(
        f'Cannot create already existing {KINDS[kind]} "{resource_arn(ctx, region, kind, name)}".'
    )


def get_model(ctx: EmulatorContext, region: str, name: str) -> ModelRecord:
    record = ctx.store.region(region).models.get(name.lower())
    if record is None:
        raise not_found(ctx, region, "model", name)
    return record


def get_config(ctx: EmulatorContext, region: str, name: str, *, fresh_ok: bool = True) -> ConfigRecord:
    """An endpoint config; with ``fresh_ok=False`` one younger than config_read_delay_seconds is invisible."""
    record = ctx.store.region(region).configs.get(name.lower())
    delay = ctx.settings.config_read_delay_seconds
    if record is None or (not fresh_ok and delay and ctx.clock.now() - record.created < delay):
        raise not_found(ctx, region, "endpoint-config", name)
    return record


def get_endpoint(ctx: EmulatorContext, region: str, name: str) -> EndpointRecord:
    record = ctx.store.region(region).endpoints.get(name.lower())
    if record is None:
        raise not_found(ctx, region, "endpoint", name)
    return record


def set_tags(store: RegionStore, resource: str, tags: Sequence[dict[str, str]]) -> None:
    current = store.tags.setdefault(resource, {})
    merged = {**current, **{t["Key"]: t.get("Value", "") for t in tags}}
    if len(merged) > MAX_TAGS:
        raise validation_error(
            f"Too many tags: a resource can have at most {MAX_TAGS} tags; {resource} would have {len(merged)}."
        )
    store.tags[resource] = merged


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def paginate(items: list[T], params: dict[str, Any], default_max: int) -> tuple[list[T], str | None]:
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError) as error:
            raise validation_error(f"Invalid pagination token: {token!r}.") from error
    size = int(params.get("MaxResults") or default_max)
    page = items[start : start + size]
    more = start + size < len(items)
    next_token = base64.b64encode(json.dumps({"offset": start + size}).encode()).decode() if more else None
    return page, next_token


def filter_sort(
    records: list[Any],
    params: dict[str, Any],
    *,
    name: Callable[[Any], str],
    status: Callable[[Any], str] | None = None,
) -> list[Any]:
    """NameContains, CreationTime/LastModifiedTime Before/After, StatusEquals, SortBy and SortOrder."""
    contains = (params.get("NameContains") or "").lower()
    selected = [r for r in records if contains in name(r).lower()]
    for field, attribute in (("CreationTime", "created"), ("LastModifiedTime", "modified")):
        before, after = params.get(f"{field}Before"), params.get(f"{field}After")
        if before is not None:
            selected = [r for r in selected if getattr(r, attribute) < before.timestamp()]
        if after is not None:
            selected = [r for r in selected if getattr(r, attribute) > after.timestamp()]
    if status is not None and params.get("StatusEquals"):
        selected = [r for r in selected if status(r) == params["StatusEquals"]]
    sort_by = params.get("SortBy") or "CreationTime"
    keys: dict[str, Callable[[Any], Any]] = {"Name": name, "CreationTime": lambda r: r.created}
    if status is not None:
        keys["Status"] = status
    descending = (params.get("SortOrder") or "Descending") == "Descending"
    return sorted(selected, key=keys[sort_by], reverse=descending)
