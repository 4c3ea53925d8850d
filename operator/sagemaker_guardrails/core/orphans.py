"""Which SageMaker resources are orphans, and in what order a sweep may delete them (pure).

A GuardedEndpoint's finalizer deletes its endpoint, configs and models. When someone removes the
finalizer by hand (a namespace stuck in ``Terminating``, ``kubectl patch ... finalizers: null``)
the resource disappears and its SageMaker resources stay, billed, with nothing left that would
ever delete them. The orphan sweep finds them by their ownership tags.

A resource is an orphan only when **every** one of these holds:

- it carries this operator's complete ownership tags (cluster, namespace, name): an untagged
  resource, or one with partial tags, is never anybody's orphan;
- its cluster tag is this operator's ``cluster_id``: another cluster's resources are its own
  business, even when no GuardedEndpoint of that name exists here;
- its namespace is one this operator watches: another installation with the same cluster id may
  watch the others;
- no GuardedEndpoint of that namespace and name exists in a **fresh LIST** made *after*
  SageMaker was listed (so a GuardedEndpoint created meanwhile, not yet in any watch cache, is
  seen; and its resources, which the operator creates only after the GuardedEndpoint exists,
  were either listed after it or not at all);
- SageMaker says it was created at least ``min_age`` ago (an unknown creation time, or one in
  the future of ``now``, never counts): a second guard against any race the listing order does
  not cover. ``min_age`` 0 turns this guard off (the emulator's accelerated clock reports
  creation times ahead of the wall clock).

Deletion follows the finalizer's order (:mod:`.delete`): an owner's endpoint first, waiting
while it is busy or deleting; its configs and models only once no endpoint of that owner exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatch

from sagemaker_guardrails.core import naming

__all__ = [
    "ENDPOINT",
    "ENDPOINT_CONFIG",
    "KINDS",
    "MODEL",
    "Candidate",
    "Orphan",
    "Plan",
    "old_enough",
    "orphan_of",
    "plan",
]

ENDPOINT = "endpoint"
ENDPOINT_CONFIG = "endpoint-config"
MODEL = "model"
KINDS = (ENDPOINT, ENDPOINT_CONFIG, MODEL)


@dataclass(frozen=True)
class Candidate:
    """A SageMaker resource as listed, with its tags."""

    kind: str
    name: str
    arn: str
    created: datetime | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Orphan:
    kind: str
    name: str
    arn: str
    owner: naming.Owner
    created: datetime | None


def watched(namespace: str, patterns: Sequence[str]) -> bool:
    """Whether ``namespace`` is one the operator watches (no patterns: every namespace)."""
    return not patterns or any(fnmatch(namespace, p) for p in patterns)


def old_enough(created: datetime | None, *, now: datetime, min_age: timedelta) -> bool:
    """Whether SageMaker's creation time puts a resource at least ``min_age`` before ``now``
    (the age rule of the module docstring). The sweep asks it before spending a ListTags call:
    a resource this refuses cannot be an orphan, whatever its tags."""
    return min_age <= timedelta(0) or (created is not None and now - created >= min_age)


def orphan_of(
    candidate: Candidate,
    *,
    cluster_id: str,
    existing: frozenset[tuple[str, str]],
    namespaces: Sequence[str],
    now: datetime,
    min_age: timedelta,
) -> Orphan | None:
    """``candidate`` as an orphan, or None when any rule of the module docstring says it is not."""
    owner = naming.owner_from_tags(candidate.tags)
    if owner is None or not (owner.cluster and owner.namespace and owner.name):
        return None
    if owner.cluster != cluster_id or not watched(owner.namespace, namespaces):
        return None
    if (owner.namespace, owner.name) in existing:
        return None
    if not old_enough(candidate.created, now=now, min_age=min_age):
        return None
    return Orphan(candidate.kind, candidate.name, candidate.arn, owner, candidate.created)


@dataclass(frozen=True)
class Plan:
    """What one sweep may delete now, and what must wait for an endpoint to go first."""

    endpoints: tuple[Orphan, ...] = ()
    leftovers: tuple[Orphan, ...] = ()
    waiting: tuple[Orphan, ...] = field(default_factory=tuple)


def plan(orphans: Iterable[Orphan], endpoint_owners: Iterable[naming.Owner]) -> Plan:
    """Endpoints first; configs and models of an owner only when no endpoint carries its tags.

    ``endpoint_owners``: the owners of every endpoint listed (orphan or not, old enough or not).
    """
    with_endpoint = set(endpoint_owners)
    endpoints: list[Orphan] = []
    leftovers: list[Orphan] = []
    waiting: list[Orphan] = []
    for orphan in sorted(orphans, key=lambda o: (KINDS.index(o.kind), o.name)):
        if orphan.kind == ENDPOINT:
            endpoints.append(orphan)
        elif orphan.owner in with_endpoint:
            waiting.append(orphan)
        else:
            leftovers.append(orphan)
    return Plan(tuple(endpoints), tuple(leftovers), tuple(waiting))
