"""Content-hash names for SageMaker Models and EndpointConfigs, and the ownership tags.

SageMaker Models and EndpointConfigs are immutable: a change means a new resource. The operator
names them after a hash of their content (the *revision*), which buys three things at once:

- a retry after a crash finds the resource already there (``AlreadyExists`` is success), so
  creating them needs no bookkeeping;
- "what runs" can be read off the endpoint's ``EndpointConfigName`` without another call;
- a spec change that does not change SageMaker resources (the deployment policy) keeps the
  revision, so it never redeploys.

The revision hashes the SageMaker *requests* (with logical model names in place of the hashed
ones), not the pydantic spec: a future API field with a default, or a refactor of the models,
must not change every revision and redeploy every endpoint on an operator upgrade.

Names obey SageMaker's rule ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``: at most 63 characters,
alphanumeric at both ends. The endpoint name (and the model's logical name) is truncated to make
room for the hash; uniqueness comes from the hash, which covers the untruncated names: the
revision hashes the endpoint name and the Region together with the content
(``sagemaker-guardrails/v2``), and a model's hash covers the revision and the logical model name.
Two endpoints whose names share the part that survives truncation
(``fraud-detector-production-eu-west-blue`` and ``...-green``) and serve the same model therefore
get different model and config names.

Revisions of the first naming scheme (``sagemaker-guardrails/v1``, :func:`legacy_revision_of`)
hashed the content alone. They are still computed, so that an endpoint the status records on an
old-scheme config keeps its names until its spec changes (:mod:`.migration`).

SageMaker compares endpoint, config and model names without regard to case
(``DescribeEndpoint("case-clash")`` returns the endpoint named ``Case-Clash``, and ARNs carry
names in lower case): :func:`same_name` compares them the same way.

Ownership: everything the operator creates carries the cluster id, namespace and name of the
resource, and Models/EndpointConfigs also the revision. The operator deletes only what carries
its own ownership tags, and never touches an endpoint tagged for another resource.

One more tag, ``sagemaker-guardrails.dev/rolled-back``, is added to an endpoint config after
SageMaker rolled its revision back: the memory of that rollback that survives a lost status
(see :mod:`.marks`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAME_MAX = 63
HASH_LENGTH = 8
REVISION_SALT = "sagemaker-guardrails/v2"
LEGACY_REVISION_SALT = "sagemaker-guardrails/v1"
MODEL_PART_MAX = 20

TAG_PREFIX = "sagemaker-guardrails.dev/"
TAG_CLUSTER = f"{TAG_PREFIX}cluster"
TAG_NAMESPACE = f"{TAG_PREFIX}namespace"
TAG_NAME = f"{TAG_PREFIX}name"
TAG_REVISION = f"{TAG_PREFIX}revision"
TAG_ROLLED_BACK = f"{TAG_PREFIX}rolled-back"
OWNERSHIP_KEYS = (TAG_CLUSTER, TAG_NAMESPACE, TAG_NAME)

# Budget of a config name: "<endpoint>-<revision>".
CONFIG_ENDPOINT_MAX = NAME_MAX - 1 - HASH_LENGTH
# Budget of a model name: "<endpoint>-<model>-<hash>"; the endpoint part is never shorter than this.
MODEL_ENDPOINT_MIN = NAME_MAX - 2 - HASH_LENGTH - MODEL_PART_MAX


def _digest(*parts: str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode())
        sha.update(b"\0")
    return sha.hexdigest()[:HASH_LENGTH]


def canonical_json(content: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace (the input to every hash)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def revision_of(content: Mapping[str, Any], endpoint_name: str, region: str) -> str:
    """The revision (8 hex characters) of the SageMaker content of a spec, for this endpoint and Region."""
    return _digest(REVISION_SALT, endpoint_name, region, canonical_json(content))


def legacy_revision_of(content: Mapping[str, Any]) -> str:
    """The revision of the first naming scheme, which hashed the content alone (see :mod:`.migration`)."""
    return _digest(LEGACY_REVISION_SALT, canonical_json(content))


def same_name(a: str | None, b: str | None) -> bool:
    """Whether two SageMaker names (or ARNs) denote the same resource: SageMaker ignores case."""
    if a is None or b is None:
        return a is b
    return a.casefold() == b.casefold()


def region_of_arn(arn: str | None) -> str | None:
    """The Region of an ARN (``arn:aws:sagemaker:<region>:<account>:...``), ``None`` if there is none."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
        return None
    return parts[3]


def _cut(text: str, limit: int) -> str:
    return text[:limit].rstrip("-")


def config_name(endpoint_name: str, revision: str) -> str:
    """``<endpoint>-<revision>``, the endpoint name truncated to fit 63 characters."""
    return f"{_cut(endpoint_name, CONFIG_ENDPOINT_MAX)}-{revision}"


def model_name(endpoint_name: str, model: str, revision: str) -> str:
    """``<endpoint>-<model>-<hash>``, where the hash covers the revision and the logical model name.

    The revision covers the untruncated endpoint name and the Region (:func:`revision_of`), so
    endpoints whose names differ only past the truncation get different model names.

    The model part keeps up to 20 characters when the whole does not fit, and gives its unused
    budget to the endpoint part, which is never shorter than :data:`MODEL_ENDPOINT_MIN`.
    """
    suffix = _digest(revision, model)
    budget = NAME_MAX - 2 - HASH_LENGTH
    if len(endpoint_name) + len(model) > budget:
        model_part = _cut(model, max(MODEL_PART_MAX, budget - len(endpoint_name)))
        endpoint_part = _cut(endpoint_name, budget - len(model_part))
    else:
        model_part, endpoint_part = model, endpoint_name
    return f"{endpoint_part}-{model_part}-{suffix}"


def config_list_prefix(endpoint_name: str) -> str:
    """A prefix every config name of this endpoint starts with (for ListEndpointConfigs)."""
    return _cut(endpoint_name, CONFIG_ENDPOINT_MAX)


def model_list_prefix(endpoint_name: str) -> str:
    """A prefix every model name of this endpoint starts with (for ListModels)."""
    return _cut(endpoint_name, MODEL_ENDPOINT_MIN)


def revision_of_config(endpoint_name: str, name: str | None) -> str | None:
    """The revision encoded in a config name of ours, or ``None`` for any other name."""
    if name is None:
        return None
    head, sep, tail = name.rpartition("-")
    if not sep or head != config_list_prefix(endpoint_name) or len(tail) != HASH_LENGTH:
        return None
    if any(c not in "0123456789abcdef" for c in tail):
        return None
    return tail


@dataclass(frozen=True)
class Owner:
    """The resource a SageMaker resource belongs to, as read from its tags."""

    cluster: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} (cluster {self.cluster})"

    def tags(self) -> dict[str, str]:
        return {TAG_CLUSTER: self.cluster, TAG_NAMESPACE: self.namespace, TAG_NAME: self.name}


def owner_from_tags(tags: Mapping[str, str]) -> Owner | None:
    """The owner named by ownership tags, or ``None`` when the resource carries none of them."""
    if not any(key in tags for key in OWNERSHIP_KEYS):
        return None
    return Owner(
        cluster=tags.get(TAG_CLUSTER, ""),
        namespace=tags.get(TAG_NAMESPACE, ""),
        name=tags.get(TAG_NAME, ""),
    )


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags in SageMaker's wire shape, sorted by key for deterministic requests."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]
