"""Bookkeeping of one deployment across passes: started, progressing, finished.

A deployment is *started* when its call is known to have reached SageMaker (the issuing pass, or
a later pass that finds it in flight after a crash), *progresses* while SageMaker reports it in
``PendingDeploymentSummary``, and *finishes* with a fate from :mod:`.resolve`. Each of these writes
the status fields (``pending``, ``deployment``, ``history``), and the Events and metric
transitions are emitted only when the stage, step or fate changes, so a polling pass is silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sagemaker_guardrails.api.status import (
    HISTORY_LIMIT,
    DeploymentProgress,
    GuardedEndpointStatus,
    HistoryEntry,
    PendingCall,
)
from sagemaker_guardrails.core import policy as policies
from sagemaker_guardrails.core.actions import Memory
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.progress import Progress, Stage, timeline
from sagemaker_guardrails.core.resolve import CREATE, Fate, Resolution, iso

__all__ = ["Draft", "EventRecord", "Transition", "finish", "issued", "track"]

_OUTCOMES = {
    Fate.SUCCEEDED: "Succeeded",
    Fate.ROLLED_BACK: "RolledBack",
    Fate.FAILED: "Failed",
    Fate.SUPERSEDED: "Failed",
    Fate.LOST: "Failed",
}


@dataclass(frozen=True)
class EventRecord:
    """A Kubernetes Event to post about the resource."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True)
class Transition:
    """A deployment milestone for metrics: ``DeploymentStarted`` or ``DeploymentFinished``."""

    kind: str
    strategy: str
    outcome: str | None = None
    duration_seconds: float | None = None


def _clause(text: str | None, default: str) -> str:
    """SageMaker's messages (``VariantStatus.StatusMessage``, often ``FailureReason``) are sentences
    that end in a period; an Event that quotes one ends the sentence itself, once."""
    return (text or "").strip().rstrip(".") or default


def seconds_since(start: str | None, now: datetime) -> float | None:
    if not start:
        return None
    try:
        return max(0.0, (now - datetime.fromisoformat(start)).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass
class Draft:
    """The mutable working copy of one pass's report, with the pass's context."""

    memory: Memory
    desired: Desired | None
    now: datetime
    status: GuardedEndpointStatus
    events: list[EventRecord] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    def event(self, kind: Literal["Normal", "Warning"], reason: str, message: str) -> None:
        self.events.append(EventRecord(kind, reason, message))

    @property
    def spec(self) -> Desired:
        assert self.desired is not None
        return self.desired

    def started_at(self, pending: PendingCall) -> str | None:
        before = self.memory.status.deployment
        if before is not None and before.config_name == pending.config_name and before.started_at:
            return before.started_at
        return pending.issued_at or pending.recorded_at or None

    def strategy(self, running: str | None = None) -> str:
        """The deployment's mode: as recorded when it started, else as SageMaker runs it, else the spec's."""
        before = self.memory.status.deployment
        if before is not None and before.strategy:
            return before.strategy
        return running or self.spec.strategy


def finish(draft: Draft, resolution: Resolution, live: str | None) -> None:
    """A deployment ended: history entry, metric transition, Event."""
    pending = resolution.pending
    outcome = _OUTCOMES[resolution.fate]
    reason = resolution.reason
    if resolution.fate is Fate.SUPERSEDED:
        reason = f"the endpoint ended on config {live} instead of {pending.config_name}"
    elif resolution.fate is Fate.LOST:
        reason = "the endpoint disappeared during the deployment"
    started = draft.started_at(pending)
    strategy = draft.strategy()
    entry = HistoryEntry(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=strategy,
        started_at=started,
        finished_at=iso(draft.now),
        outcome=outcome,
        reason=reason,
    )
    draft.status.history = [entry, *draft.status.history][:HISTORY_LIMIT]
    duration = seconds_since(started, draft.now)
    draft.transitions.append(Transition("DeploymentFinished", strategy, outcome, duration))
    took = f" after {duration:.0f}s" if duration is not None else ""
    what = "Endpoint created" if pending.operation == CREATE else f"Revision {pending.revision} deployed"
    if resolution.fate is Fate.SUCCEEDED:
        draft.event(
            "Normal", "DeploymentSucceeded", f"{what}: InService on config {pending.config_name}{took}."
        )
    elif resolution.fate is Fate.ROLLED_BACK:
        draft.event(
            "Warning",
            "RolledBack",
            f"SageMaker rolled back revision {pending.revision} (config {pending.config_name}){took}: "
            f"{_clause(reason, 'no reason given')}. The endpoint serves config {live}.",
        )
    else:
        draft.event(
            "Warning",
            "DeploymentFailed",
            f"Deployment of revision {pending.revision} failed{took}: {_clause(reason, 'no reason given')}.",
        )


def progress_events(draft: Draft, before: DeploymentProgress | None, prog: Progress) -> None:
    step_before = before.step if before is not None and before.step is not None else 0
    stage_before = before.stage if before is not None else None
    traffic = ""
    if prog.traffic_percent is not None:
        traffic = f" (~{prog.traffic_percent}% of traffic on the new fleet)"
    if prog.step > step_before and prog.stage not in (Stage.CREATING, Stage.ROLLING_BACK):
        draft.event("Normal", "TrafficStep", f"Traffic step {prog.step}/{prog.steps}{traffic}.")
    if prog.stage == stage_before and prog.step == step_before:
        return
    if prog.stage == Stage.BAKING:
        until = f" until {iso(prog.bake_ends_at)}" if prog.bake_ends_at else ""
        draft.event("Normal", "Baking", f"Baking step {prog.step}/{prog.steps}{until}{traffic}.")
    elif prog.stage == Stage.ROLLING_BACK:
        draft.event(
            "Warning",
            "RollingBack",
            f"SageMaker is rolling the deployment back: {_clause(prog.message, 'no detail')}.",
        )
    elif prog.stage == Stage.TERMINATING:
        draft.event("Normal", "Terminating", "All traffic is on the new fleet; the old fleet is terminated.")


def track(draft: Draft, resolution: Resolution, prog: Progress | None) -> None:
    """A deployment in flight: confirm it as issued, update progress, announce milestones."""
    pending = resolution.pending
    strategy = draft.strategy(prog.strategy if prog is not None else None)
    if pending.issued_at is None or draft.memory.status.pending is None:
        pending = pending.model_copy(update={"issued_at": pending.issued_at or iso(draft.now)})
        draft.transitions.append(Transition("DeploymentStarted", strategy))
        draft.event(
            "Normal",
            "DeploymentStarted",
            f"SageMaker is deploying revision {pending.revision} (config {pending.config_name}).",
        )
    draft.status.pending = pending
    before = draft.memory.status.deployment
    if before is not None and before.config_name != pending.config_name:
        before = None
    if prog is None:
        return
    draft.status.deployment = DeploymentProgress(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=strategy,
        stage=prog.stage,
        step=prog.step,
        steps=prog.steps,
        traffic_percent=prog.traffic_percent,
        started_at=draft.started_at(pending),
        bake_ends_at=iso(prog.bake_ends_at),
        message=prog.message,
    )
    progress_events(draft, before, prog)


def issued(draft: Draft, pending: PendingCall) -> None:
    """The call was accepted: record what it was sent with, and start the deployment's progress.

    An update records the config that served just before the call (the pass's own observation,
    made before it called) and the policy it sent: the update that ends InService on that config
    was rolled back (:mod:`.resolve`), and the policy is its timeline when SageMaker reports none
    (:mod:`.policy`).
    """
    desired = draft.spec
    creating = pending.operation == CREATE
    sent = policies.of_spec(desired.spec.deployment)
    served = draft.status.endpoint.config_name if draft.status.endpoint is not None else None
    draft.status.pending = pending.model_copy(
        update={
            "issued_at": iso(draft.now),
            "from_config": None if creating else served,
            "policy": None if creating else sent.record(),
        }
    )
    line = timeline(sent, desired.spec.variants[0].initial_instance_count)
    draft.status.deployment = DeploymentProgress(
        revision=pending.revision,
        config_name=pending.config_name,
        strategy=desired.strategy,
        stage=Stage.CREATING if creating else Stage.PROVISIONING,
        step=0,
        steps=1 if creating else line.steps,
        traffic_percent=0,
        started_at=iso(draft.now),
    )
    draft.transitions.append(Transition("DeploymentStarted", desired.strategy))
    what = (
        f"Creating endpoint {desired.endpoint_name}" if creating else f"Deploying revision {pending.revision}"
    )
    draft.event(
        "Normal", "DeploymentStarted", f"{what} on config {pending.config_name} ({desired.strategy})."
    )
