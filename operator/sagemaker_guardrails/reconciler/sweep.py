"""One orphan sweep: list SageMaker, read the tags, decide (:mod:`~sagemaker_guardrails.core.orphans`),
and, only when asked, delete.

The order of the calls is the safety argument of :mod:`sagemaker_guardrails.core.orphans`:

1. every endpoint, endpoint config and model of each region is listed, with its tags (ListTags,
   one call each, through the region's shared token bucket like every other call; the sweeper
   paces them besides, :mod:`sagemaker_guardrails.loop.sweep`). A resource that the age rule
   (:func:`~sagemaker_guardrails.core.orphans.old_enough`, by the creation time the List call
   returned) says cannot be an orphan yet costs no ListTags: it is skipped. Only when a young
   endpoint could hold back the configs and models of an orphan (the deletion order below) are
   its tags read after all, to learn its owner;
2. *then* the GuardedEndpoints are listed afresh from the API server (never the watch cache): a
   GuardedEndpoint exists before the operator creates anything for it, so whatever step 1 saw
   of a live GuardedEndpoint, step 2 sees that GuardedEndpoint;
3. the orphans are those of this cluster id, in a watched namespace, without a GuardedEndpoint,
   and older than ``orphan_min_age_seconds`` by SageMaker's own creation time;
4. with ``orphan_sweep_delete``, the GuardedEndpoints are listed once more right before deleting
   (an owner that came back meanwhile is skipped), and the deletion takes the finalizer's path:
   the endpoint first (DescribeEndpoint + ListTags again, :func:`~sagemaker_guardrails.core.delete.decide_delete`,
   waiting while it is busy), its configs and models on a later sweep, once no endpoint of that
   owner exists.

Nothing here catches broad exceptions: the caller (:mod:`sagemaker_guardrails.loop.sweep`) logs,
counts and retries a failed sweep as a whole.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sagemaker_guardrails.api.spec import DeletionPolicy
from sagemaker_guardrails.aws.ports import AwsClients, ResourceSummary, SageMakerPort
from sagemaker_guardrails.core import naming, orphans
from sagemaker_guardrails.core.delete import DeleteEndpoint, WaitForEndpoint, decide_delete
from sagemaker_guardrails.errors import AccessDenied, NotFound
from sagemaker_guardrails.reconciler.common import observe
from sagemaker_guardrails.settings import Settings

__all__ = ["Existing", "Survey", "SweepReport", "survey", "sweep"]

log = logging.getLogger(__name__)

Existing = Callable[[], tuple[frozenset[tuple[str, str]], frozenset[str]]]
"""A fresh LIST of GuardedEndpoints: their ``(namespace, name)`` keys and the regions they use."""


@dataclass
class SweepReport:
    """What one sweep found and did, over every region."""

    found: list[orphans.Orphan]
    deleted: list[orphans.Orphan]
    waiting: list[orphans.Orphan]
    regions: tuple[str, ...]

    def counts(self, items: list[orphans.Orphan]) -> dict[str, int]:
        return {kind: sum(1 for o in items if o.kind == kind) for kind in orphans.KINDS}


def _tags(port: SageMakerPort, arn: str) -> Mapping[str, str] | None:
    try:
        return port.list_tags(arn)
    except NotFound:  # deleted since it was listed
        return None
    except AccessDenied:  # outside the policy's name prefix: the operator cannot have created it
        log.debug("orphan sweep: ListTags of %s denied; skipped", arn)
        return None


@dataclass
class Survey:
    """One region as listed: the candidates old enough to be orphans, with their tags, and the
    endpoints too young for that (their tags not read)."""

    candidates: list[orphans.Candidate]
    young_endpoints: list[ResourceSummary]


def survey(port: SageMakerPort, now: datetime, min_age: timedelta) -> Survey:
    """Every endpoint, endpoint config and model of the region; tags only of those old enough."""
    listings: tuple[tuple[str, Callable[[str], list[ResourceSummary]]], ...] = (
        (orphans.ENDPOINT, port.list_endpoints),
        (orphans.ENDPOINT_CONFIG, port.list_endpoint_configs),
        (orphans.MODEL, port.list_models),
    )
    found = Survey([], [])
    for kind, listing in listings:
        for item in listing(""):
            if not orphans.old_enough(item.creation_time, now=now, min_age=min_age):
                if kind == orphans.ENDPOINT:
                    found.young_endpoints.append(item)
                continue
            tags = _tags(port, item.arn)
            if tags is not None:
                found.candidates.append(
                    orphans.Candidate(kind, item.name, item.arn, item.creation_time, tags)
                )
    return found


def _owners(port: SageMakerPort, endpoints: Iterable[ResourceSummary]) -> Iterator[naming.Owner]:
    """The owners of endpoints by their tags (one ListTags each)."""
    for item in endpoints:
        tags = _tags(port, item.arn)
        if tags is not None and (owner := naming.owner_from_tags(tags)) is not None:
            yield owner


def _delete_endpoint(port: SageMakerPort, orphan: orphans.Orphan) -> bool:
    """The finalizer's path for one endpoint; True when DeleteEndpoint was called."""
    observed = observe(port, orphan.name)
    decision = decide_delete(DeletionPolicy.DELETE, orphan.name, orphan.owner, observed)
    if isinstance(decision.action, DeleteEndpoint):
        with contextlib.suppress(NotFound):
            port.delete_endpoint(orphan.name)
        return True
    if isinstance(decision.action, WaitForEndpoint):
        log.info("orphan sweep: %s", decision.message)
    return False


def _delete_leftover(port: SageMakerPort, orphan: orphans.Orphan) -> None:
    delete = port.delete_endpoint_config if orphan.kind == orphans.ENDPOINT_CONFIG else port.delete_model
    with contextlib.suppress(NotFound):
        delete(orphan.name)


def _region_plan(
    port: SageMakerPort,
    surveyed: Survey,
    existing: frozenset[tuple[str, str]],
    settings: Settings,
    now: datetime,
) -> tuple[list[orphans.Orphan], orphans.Plan]:
    candidates = surveyed.candidates
    found = [
        o
        for c in candidates
        if (
            o := orphans.orphan_of(
                c,
                cluster_id=settings.cluster_id,
                existing=existing,
                namespaces=settings.watch_namespaces,
                now=now,
                min_age=timedelta(seconds=settings.orphan_min_age_seconds),
            )
        )
        is not None
    ]
    owners = [
        owner
        for c in candidates
        if c.kind == orphans.ENDPOINT and (owner := naming.owner_from_tags(c.tags)) is not None
    ]
    planned = orphans.plan(found, owners)
    if planned.leftovers and surveyed.young_endpoints:
        # A young endpoint of the same owner must go first: learn the young endpoints' owners.
        planned = orphans.plan(found, [*owners, *_owners(port, surveyed.young_endpoints)])
    return found, planned


def sweep(
    clients: Callable[[str], AwsClients],
    existing: Existing,
    settings: Settings,
    now: Callable[[], datetime],
) -> SweepReport:
    """One sweep over every region in use; see the module docstring for the order of the calls."""
    _, in_use = existing()
    regions = tuple(sorted({settings.default_region, *in_use, *settings.orphan_sweep_regions}))
    min_age = timedelta(seconds=settings.orphan_min_age_seconds)
    surveyed = {region: survey(clients(region).sagemaker, now(), min_age) for region in regions}
    keys, _ = existing()
    report = SweepReport([], [], [], regions)
    for region, listed in surveyed.items():
        found, plan = _region_plan(clients(region).sagemaker, listed, keys, settings, now())
        report.found.extend(found)
        report.waiting.extend(plan.waiting)
        for orphan in found:
            log.warning(
                "orphan sweep: SageMaker %s %s (%s) belongs to GuardedEndpoint %s/%s, which no longer exists%s",
                orphan.kind,
                orphan.name,
                region,
                orphan.owner.namespace,
                orphan.owner.name,
                "" if settings.orphan_sweep_delete else "; not deleted (orphan_sweep_delete is off)",
            )
        if not settings.orphan_sweep_delete or not (plan.endpoints or plan.leftovers):
            continue
        keys, _ = existing()
        port = clients(region).sagemaker
        for orphan in plan.endpoints:
            if (orphan.owner.namespace, orphan.owner.name) in keys:
                continue
            if _delete_endpoint(port, orphan):
                report.deleted.append(orphan)
            else:
                report.waiting.append(orphan)
        for orphan in plan.leftovers:
            if (orphan.owner.namespace, orphan.owner.name) in keys:
                continue
            _delete_leftover(port, orphan)
            report.deleted.append(orphan)
    for orphan in report.deleted:
        log.warning("orphan sweep: deleted SageMaker %s %s of %s", orphan.kind, orphan.name, orphan.owner)
    return report
