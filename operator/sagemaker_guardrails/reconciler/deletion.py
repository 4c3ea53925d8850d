"""One deletion pass (the finalizer): wait for a busy endpoint, delete it, then configs and models.

The decision is :func:`sagemaker_guardrails.core.delete.decide_delete`. A resource whose spec
no longer validates can still be deleted: the endpoint name, region and deletion policy are
read leniently from the raw spec, because refusing to delete an invalid resource would leave
its finalizer stuck forever. The endpoint name and Region the status records come first
(:mod:`sagemaker_guardrails.core.pinning`): the finalizer deletes where the endpoint is, whatever
the spec or the operator's default Region says now.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sagemaker_guardrails.api.spec import REGION_PATTERN, SAGEMAKER_NAME_PATTERN, DeletionPolicy
from sagemaker_guardrails.core import pinning
from sagemaker_guardrails.core.actions import Memory
from sagemaker_guardrails.core.conditions import Reason, Verdict, conditions, phase
from sagemaker_guardrails.core.delete import DeleteEndpoint, DeleteLeftovers, Done, decide_delete
from sagemaker_guardrails.core.report import EventRecord, verdict_of_error
from sagemaker_guardrails.errors import Busy, NotFound, Retryable
from sagemaker_guardrails.reconciler.common import dump, identity_of, memory_of, observe
from sagemaker_guardrails.reconciler.steps import delete_leftovers
from sagemaker_guardrails.reconciler.types import Deps, Outcome, Resource

__all__ = ["finalize"]


def _target(resource: Resource, deps: Deps, memory: Memory) -> tuple[str | None, str, DeletionPolicy]:
    """Endpoint name, Region and policy: what the status records first, then the spec, then defaults."""
    raw: Mapping[str, Any] = resource.spec or {}
    name = pinning.recorded_name(memory.status) or raw.get("endpointName") or resource.name
    if not isinstance(name, str) or re.fullmatch(SAGEMAKER_NAME_PATTERN, name) is None:
        name = None
    region = pinning.recorded_region(memory.status) or raw.get("region")
    if not isinstance(region, str) or re.fullmatch(REGION_PATTERN, region) is None:
        region = deps.settings.default_region
    policy = DeletionPolicy.RETAIN if raw.get("deletionPolicy") == "Retain" else DeletionPolicy.DELETE
    return name, region, policy


def finalize(resource: Resource, deps: Deps, now: datetime) -> Outcome:
    """One deletion pass; ``Outcome.finished`` says whether the finalizer may go."""
    memory = memory_of(resource)
    owner = identity_of(resource, deps).owner
    name, region, policy = _target(resource, deps, memory)
    port = deps.clients(region).sagemaker
    events: list[EventRecord] = []
    error: Exception | None = None
    finished = False
    try:
        observed = observe(port, name) if name is not None and policy is DeletionPolicy.DELETE else None
        decision = decide_delete(policy, name or resource.name, owner, observed)
        verdict = Verdict.progressing(Reason.DELETING, decision.message)
        if isinstance(decision.action, DeleteEndpoint) and name is not None:
            with contextlib.suppress(NotFound):
                port.delete_endpoint(name)
        elif isinstance(decision.action, DeleteLeftovers):
            deleted = delete_leftovers(port, name, owner) if name is not None else []
            finished = True
            gone = f" ({len(deleted)} configs and models deleted)" if deleted else ""
            events.append(EventRecord("Normal", "Deleted", f"{decision.message.rstrip('.')}{gone}; done."))
        elif isinstance(decision.action, Done):
            finished = True
            events.append(EventRecord("Normal", "Deleted", decision.message))
    except Exception as exc:
        error = exc
        verdict = verdict_of_error(exc, ready=False)
        if not verdict.is_stalled:
            verdict = Verdict.progressing(Reason.DELETING, f"Deleting: {verdict.message}")
    status = memory.status.model_copy(deep=True)
    status.conditions = conditions(verdict, memory.status.conditions, resource.generation, now)
    status.phase = phase(status.conditions)
    status.observed_generation = resource.generation
    requeue = None
    if not finished:
        wait = error.retry_after if isinstance(error, Retryable) and error.retry_after else None
        requeue = wait or deps.jittered(
            deps.settings.settled_poll_seconds if verdict.is_stalled else deps.settings.active_poll_seconds
        )
    busy = isinstance(error, Busy)
    return Outcome(
        status=dump(status),
        events=tuple(events),
        requeue_after=requeue,
        finished=finished,
        error=None if busy else error,
        result="ok" if finished else ("stalled" if verdict.is_stalled else "requeued"),
    )
