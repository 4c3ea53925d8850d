"""The imperative half: each decided action as SageMaker calls through the port.

Every step is idempotent, so a pass that crashed half-way can simply be run again:

- models and configs are named by content; ``AlreadyExists`` is success once their tags show
  they are ours and of this revision (a name taken by anything else is an error, never reused);
- deletions treat ``NotFound`` as done;
- nothing is deleted without a ``ListTags`` that names this resource as the owner;
- a tag sync is one AddTags or one DeleteTags of user tags; applying it twice changes nothing;
- marking a rolled-back config is one AddTags of ``sagemaker-guardrails.dev/rolled-back``; a config
  that is gone has nothing left to mark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from sagemaker_guardrails.aws.ports import EndpointConfigInfo, ModelInfo, ResourceSummary, SageMakerPort
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.decide import Action, Adopt, Collect, Issue, MarkRolledBack, Prepare, SyncTags
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import Observed
from sagemaker_guardrails.core.resolve import CREATE
from sagemaker_guardrails.errors import AlreadyExists, InvalidRequest, NotFound, Retryable

__all__ = ["config_tags", "delete_leftovers", "execute"]


def _ensure(
    port: SageMakerPort,
    *,
    create: Callable[[Mapping[str, Any]], str],
    describe: Callable[[str], ModelInfo | EndpointConfigInfo | None],
    name: str,
    request: Mapping[str, Any],
    desired: Desired,
) -> None:
    try:
        create(request)
    except AlreadyExists:
        info = describe(name)
        if info is None:
            raise Retryable(f"{name} was reported to exist but cannot be found; retrying") from None
        tags = port.list_tags(info.arn)
        owner = naming.owner_from_tags(tags)
        if owner != desired.identity.owner or tags.get(naming.TAG_REVISION) != desired.revision:
            raise InvalidRequest(
                f"{name} already exists in SageMaker but is not revision {desired.revision} of this resource "
                f"(owner: {owner or 'none'}); delete it in SageMaker, or create this resource again "
                "with another spec.endpointName (it is immutable)"
            ) from None


def prepare(port: SageMakerPort, desired: Desired) -> None:
    """Make sure every model and the endpoint config of the desired revision exist."""
    for model in desired.models:
        _ensure(
            port,
            create=port.create_model,
            describe=port.describe_model,
            name=model.name,
            request=model.request,
            desired=desired,
        )
    _ensure(
        port,
        create=port.create_endpoint_config,
        describe=port.describe_endpoint_config,
        name=desired.config_name,
        request=desired.config_request,
        desired=desired,
    )


def _ours(port: SageMakerPort, item: ResourceSummary, owner: naming.Owner) -> Mapping[str, str] | None:
    try:
        tags = port.list_tags(item.arn)
    except NotFound:
        return None
    return tags if naming.owner_from_tags(tags) == owner else None


def _delete_quietly(delete: Callable[[str], None], name: str) -> None:
    with contextlib.suppress(NotFound):
        delete(name)


def collect(
    port: SageMakerPort, desired: Desired, keep_configs: tuple[str, ...], keep_revisions: tuple[str, ...]
) -> list[str]:
    """Delete our configs and models outside the kept revisions; returns what was deleted."""
    owner = desired.identity.owner
    deleted: list[str] = []
    for item in port.list_endpoint_configs(naming.config_list_prefix(desired.endpoint_name)):
        kept = any(naming.same_name(item.name, name) for name in keep_configs)
        if kept or _ours(port, item, owner) is None:
            continue
        _delete_quietly(port.delete_endpoint_config, item.name)
        deleted.append(item.name)
    for item in port.list_models(naming.model_list_prefix(desired.endpoint_name)):
        tags = _ours(port, item, owner)
        if tags is None or tags.get(naming.TAG_REVISION) in (None, *keep_revisions):
            continue
        _delete_quietly(port.delete_model, item.name)
        deleted.append(item.name)
    return deleted


def delete_leftovers(port: SageMakerPort, endpoint_name: str, owner: naming.Owner) -> list[str]:
    """Delete every config and model this resource owns (deletion of the resource)."""
    deleted: list[str] = []
    for item in port.list_endpoint_configs(naming.config_list_prefix(endpoint_name)):
        if _ours(port, item, owner) is not None:
            _delete_quietly(port.delete_endpoint_config, item.name)
            deleted.append(item.name)
    for item in port.list_models(naming.model_list_prefix(endpoint_name)):
        if _ours(port, item, owner) is not None:
            _delete_quietly(port.delete_model, item.name)
            deleted.append(item.name)
    return deleted


def config_tags(port: SageMakerPort, name: str) -> Mapping[str, str] | None:
    """The tags of endpoint config ``name`` (DescribeEndpointConfig omits them), ``None`` if it is gone."""
    info = port.describe_endpoint_config(name)
    if info is None:
        return None
    try:
        return port.list_tags(info.arn)
    except NotFound:
        return None


def mark_rolled_back(port: SageMakerPort, action: MarkRolledBack) -> None:
    info = port.describe_endpoint_config(action.config_name)
    if info is None:
        return
    with contextlib.suppress(NotFound):
        port.add_tags(info.arn, {naming.TAG_ROLLED_BACK: action.value})


def execute(action: Action, port: SageMakerPort, desired: Desired, observed: Observed) -> None:
    """Run the one mutating step of a pass (nothing for Wait/Stall/Nothing)."""
    if isinstance(action, Prepare):
        prepare(port, desired)
    elif isinstance(action, Issue):
        if action.operation == CREATE:
            port.create_endpoint(desired.create_endpoint_request())
        else:
            port.update_endpoint(desired.update_endpoint_request())
    elif isinstance(action, Adopt):
        assert observed.endpoint is not None
        port.add_tags(observed.endpoint.arn, dict(desired.endpoint_tags))
    elif isinstance(action, Collect):
        collect(port, desired, action.keep_configs, action.keep_revisions)
    elif isinstance(action, MarkRolledBack):
        mark_rolled_back(port, action)
    elif isinstance(action, SyncTags):
        assert observed.endpoint is not None
        if action.add:
            port.add_tags(observed.endpoint.arn, dict(action.add))
        else:
            port.delete_tags(observed.endpoint.arn, action.remove)
