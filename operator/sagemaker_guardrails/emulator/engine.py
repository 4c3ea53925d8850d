"""The deployment engine: walks every in-flight endpoint operation along its plan on the simulated clock.

``advance()`` is called by a background ticker (which sleeps until the next phase boundary or alarm poll)
and at the start of every SageMaker request, so a caller always sees the state that matches the clock.
Phase boundaries are stamped with their *scheduled* simulated time, which keeps durations exact however
late a thread wakes up.

During monitored phases (bakes by default, Q3) the engine reads the rollback alarms through the CloudWatch
API every ``alarm_poll_seconds``, at the start of each bake and at its end. A tripped alarm, a failed
provisioning or an expired ``MaximumExecutionTimeoutInSeconds`` turns the rest of the plan into a
rollback: blue/green puts all traffic back on blue at once; rolling relaunches the old instances in
batches of ``RollbackMaximumBatchSize``. The endpoint ends ``InService`` on the **old** config with
``FailureReason`` set (spec 2, 4), which is exactly what clients that only wait for InService miss;
with ``rollback_failure_reason: empty`` it leaves no reason of its own, as real SageMaker may after a
health-check or capacity rollback (spec 13).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sagemaker_guardrails.emulator.faults import PROVISIONING_REASONS, ProvisioningFault
from sagemaker_guardrails.emulator.plans import ACCEPTED, Fleet, Phase, Policy
from sagemaker_guardrails.emulator.recovery import plan_blue_green_rollback, plan_rolling_rollback
from sagemaker_guardrails.emulator.store import EndpointRecord, VariantState

if TYPE_CHECKING:
    from sagemaker_guardrails.emulator.context import EmulatorContext
    from sagemaker_guardrails.emulator.settings import EmulatorSettings


def alarm_reason(settings: EmulatorSettings, tripped: tuple[str, ...]) -> str:
    """The FailureReason of an alarm rollback: every tripped alarm, or the first (``alarm_failure_alarms``)."""
    named = tripped if settings.alarm_failure_alarms == "all" else tripped[:1]
    return settings.alarm_failure_reason.format(alarms=", ".join(named))


@dataclass
class Operation:
    kind: Literal["create", "update", "scale", "delete"]
    phases: list[Phase]
    started: float
    phase_start: float
    target_config: str | None = None
    previous_config: str | None = None
    previous_live: tuple[VariantState, ...] = ()
    green: tuple[Fleet, ...] = ()
    policy: Policy | None = None
    deadline: float | None = None
    index: int = 0
    next_poll: float | None = None
    rollback_reason: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def phase(self) -> Phase:
        return self.phases[self.index]

    @property
    def phase_end(self) -> float:
        return self.phase_start + self.phase.duration

    @property
    def rolling_back(self) -> bool:
        return self.rollback_reason is not None


class Engine:
    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    # --- entry points (callers hold ctx.lock) --------------------------------------------------------
    def start(self, endpoint: EndpointRecord, operation: Operation) -> None:
        endpoint.operation = operation
        endpoint.status = operation.phase.status
        self._record_phase(endpoint, operation.phase_start)
        self._ctx.wake.set()

    def advance(self) -> None:
        now = self._ctx.clock.now()
        for endpoint in self._ctx.store.endpoints():
            if endpoint.operation is not None:
                self._advance(endpoint, now)

    def next_due(self) -> float | None:
        times = []
        for endpoint in self._ctx.store.endpoints():
            op = endpoint.operation
            if op is None:
                continue
            times.append(op.phase_end)
            if op.deadline is not None and not op.rolling_back:
                times.append(op.deadline)
            if self._monitored(op):
                times.append(op.phase_start if op.next_poll is None else op.next_poll)
        return min(times) if times else None

    # --- stepping -------------------------------------------------------------------------------------
    def _advance(self, endpoint: EndpointRecord, now: float) -> None:
        while (op := endpoint.operation) is not None:
            end = op.phase_end
            horizon = min(now, end)
            if op.deadline is not None and not op.rolling_back and op.deadline <= horizon:
                self._timed_out(endpoint, op.deadline)
                continue
            if self._monitored(op) and self._poll(endpoint, op, horizon, end):
                continue
            if end > now:
                return
            if op.phase.provisions and self._provisioning_failed(endpoint, end):
                continue
            self._next_phase(endpoint, end)

    def _next_phase(self, endpoint: EndpointRecord, at: float) -> None:
        op = endpoint.operation
        assert op is not None
        if op.index + 1 >= len(op.phases):
            self._complete(endpoint, at)
            return
        op.index += 1
        op.phase_start, op.next_poll = at, None
        endpoint.status = op.phase.status
        self._record_phase(endpoint, at)

    def _monitored(self, op: Operation) -> bool:
        policy = op.policy
        if (
            op.kind != "update"
            or op.rolling_back
            or policy is None
            or not policy.alarms
            or policy.mode == "DEFAULT"
        ):
            return False
        if op.phase.name == ACCEPTED:
            return False
        return op.phase.bake or self._ctx.settings.alarm_monitoring == "deployment"

    def _poll(self, endpoint: EndpointRecord, op: Operation, horizon: float, end: float) -> bool:
        """Read the alarms if a poll is due by ``horizon``; True if that started a rollback.

        A rollback starts at the poll's scheduled time, not when a late thread got to it, so timelines do
        not depend on thread scheduling. Several overdue polls (after ``advance``) share one read.
        """
        if op.next_poll is None:
            op.next_poll = op.phase_start
        due = op.next_poll
        if due > horizon:
            return False
        settings = self._ctx.settings
        assert op.policy is not None
        check = self._ctx.alarms.check(endpoint.region, op.policy.alarms)
        if check.error is None:
            in_trip_state = set(check.in_states(list(settings.alarm_trip_states)))
            tripped = tuple(name for name in op.policy.alarms if name in in_trip_state)
            if tripped:
                self._rollback(endpoint, due, alarm_reason(settings, tripped), alarms=tripped)
                return True
            if check.missing and settings.missing_alarm == "rollback":
                reason = settings.missing_alarm_failure_reason.format(alarms=", ".join(check.missing))
                self._rollback(endpoint, due, reason, alarms=check.missing)
                return True
        if horizon >= end:
            op.next_poll = math.inf
        else:
            interval = settings.alarm_poll_seconds
            steps = math.floor((horizon - op.phase_start) / interval) + 1
            op.next_poll = min(op.phase_start + steps * interval, end)
        return False

    # --- failures and rollbacks -----------------------------------------------------------------------
    def _provisioning_failed(self, endpoint: EndpointRecord, at: float) -> bool:
        op = endpoint.operation
        assert op is not None
        faults = self._ctx.faults
        if op.rolling_back:
            if (
                op.index == 0
                and op.policy is not None
                and op.policy.mode == "ROLLING"
                and faults.take_rollback(endpoint.region, endpoint.name)
            ):
                self._rollback_failed(endpoint, at)
                return True
            return False
        fault = faults.take_provisioning(endpoint.region, endpoint.name)
        if fault is None:
            return False
        reason = self._provisioning_reason(endpoint, op, fault)
        if op.kind == "create":
            self._end(endpoint, at, "Failed", "Failed", reason)
            endpoint.live = ()
        else:
            self._rollback(endpoint, at, reason)
        return True

    def _provisioning_reason(self, endpoint: EndpointRecord, op: Operation, fault: ProvisioningFault) -> str:
        if fault.reason:
            return fault.reason
        fleet = op.green[0] if op.green else None
        variant = fleet.name if fleet else "AllTraffic"
        url = None
        if fleet is not None:
            model = self._ctx.store.region(endpoint.region).models.get(fleet.model_name.lower())
            containers = (
                [model.spec.get("PrimaryContainer"), *(model.spec.get("Containers") or [])] if model else []
            )
            url = next((c.get("ModelDataUrl") for c in containers if c and c.get("ModelDataUrl")), None)
        kind = fault.kind if (fault.kind != "model-download" or url) else "health-check"
        return PROVISIONING_REASONS[kind].format(model_data_url=url, variant=variant)

    def _timed_out(self, endpoint: EndpointRecord, at: float) -> None:
        op = endpoint.operation
        assert op is not None and op.policy is not None
        settings = self._ctx.settings
        outcome = "rolled back" if settings.timeout_action == "rollback" else "failed"
        reason = settings.timeout_failure_reason.format(timeout=f"{op.policy.timeout:g}", outcome=outcome)
        if settings.timeout_action == "rollback":
            self._rollback(endpoint, at, reason)
        else:
            self._end(endpoint, at, "Failed", "Failed", reason)

    def _rollback(
        self, endpoint: EndpointRecord, at: float, reason: str, alarms: tuple[str, ...] = ()
    ) -> None:
        op = endpoint.operation
        assert op is not None
        phase, settings = op.phase, self._ctx.settings
        fraction = (at - op.phase_start) / phase.duration if phase.duration else 1.0
        pending = phase.pending or ()
        if op.policy is not None and op.policy.mode == "ROLLING":
            blue, green = op.previous_live[0], op.green[0]
            old_alive = phase.live[0].current_count if phase.live else blue.current_count
            green_alive = next(
                (v.ramp_from if v.ramp_from is not None else v.current_count for v in pending), 0
            )
            batch = op.policy.rollback_sizes.get(green.name, blue.current_count)
            phases = plan_rolling_rollback(
                blue,
                old_alive=old_alive,
                green=green,
                green_alive=green_alive,
                batch=batch,
                settings=settings,
            )
        else:
            # Blue/green provisions the whole new fleet up front; only a provisioning phase has part of it.
            launched = tuple(
                (v.fleet, v.count_at(fraction) if v.ramp_from is not None else v.fleet.count) for v in pending
            )
            phases = plan_blue_green_rollback(op.previous_live, launched, settings)
        op.rollback_reason, op.phases, op.index = reason, phases, 0
        op.phase_start, op.next_poll = at, None
        endpoint.status = op.phase.status
        self._record(
            endpoint,
            at,
            "rollback",
            "RollbackStarted",
            reason,
            reason=reason,
            extra={"alarms": list(alarms), "from_phase": phase.name},
        )
        self._record_phase(endpoint, at)

    def _rollback_failed(self, endpoint: EndpointRecord, at: float) -> None:
        op = endpoint.operation
        assert op is not None
        phase = op.phase
        old = (
            phase.live[0].ramp_from
            if phase.live and phase.live[0].ramp_from is not None
            else (phase.live[0].current_count if phase.live else 0)
        )
        new = sum(v.current_count for v in phase.pending or ())
        blue = op.previous_live[0]
        endpoint.live = (VariantState(blue.fleet, old + new, blue.current_weight, blue.resolved_at),)
        reason = f"{op.rollback_reason} The rollback to endpoint configuration {op.previous_config} failed as well."
        self._end(endpoint, at, "UpdateRollbackFailed", "UpdateRollbackFailed", reason[:1024])

    # --- endings ----------------------------------------------------------------------------------------
    def _end(
        self, endpoint: EndpointRecord, at: float, status: str, outcome: str, reason: str | None
    ) -> None:
        endpoint.status, endpoint.failure_reason, endpoint.modified = status, reason, at
        self._record(endpoint, at, "outcome", outcome, outcome, reason=reason)
        endpoint.operation = None

    def _complete(self, endpoint: EndpointRecord, at: float) -> None:
        op = endpoint.operation
        assert op is not None
        if op.kind == "delete":
            self._record(endpoint, at, "outcome", "Deleted", "endpoint deleted", status=None)
            endpoint.operation = None
            region = self._ctx.store.region(endpoint.region)
            region.endpoints.pop(endpoint.name.lower(), None)
            region.tags.pop(endpoint.arn, None)
            return
        if op.rolling_back:
            endpoint.live, endpoint.config_name = op.previous_live, op.previous_config or endpoint.config_name
            reason = op.rollback_reason
            if self._ctx.settings.rollback_failure_reason == "empty":
                reason = endpoint.failure_reason  # none of its own; an earlier reason stays (spec 13)
            self._end(endpoint, at, "InService", "RolledBack", reason)
            return
        endpoint.live = tuple(VariantState(f, f.count, f.weight, op.started) for f in op.green)
        if op.kind in ("create", "update"):
            endpoint.config_name = op.target_config or endpoint.config_name
            endpoint.shadow = op.extras.get("shadow", endpoint.shadow)
            endpoint.async_config = op.extras.get("async_config", endpoint.async_config)
            endpoint.data_capture = op.extras.get("data_capture", endpoint.data_capture)
        outcome = {"create": "Created", "update": "Succeeded", "scale": "Scaled"}[op.kind]
        self._end(endpoint, at, "InService", outcome, None)

    # --- timeline -------------------------------------------------------------------------------------
    def _record_phase(self, endpoint: EndpointRecord, at: float) -> None:
        op = endpoint.operation
        assert op is not None
        phase = op.phase
        self._record(
            endpoint,
            at,
            "phase",
            phase.name,
            phase.label,
            step=phase.step,
            steps=phase.steps,
            traffic_percent=phase.traffic,
            duration=phase.duration,
            reason=op.rollback_reason,
        )

    def _record(
        self,
        endpoint: EndpointRecord,
        at: float,
        event: str,
        name: str,
        label: str,
        *,
        status: str | None = "",
        **extra: Any,
    ) -> None:
        op = endpoint.operation
        clock = self._ctx.clock
        self._ctx.timeline.record(
            endpoint=endpoint.name,
            region=endpoint.region,
            event=event,
            name=name,
            label=label,
            endpoint_status=endpoint.status if status == "" else status,
            config_name=endpoint.config_name,
            target_config=op.target_config if op else None,
            sim_time=at,
            wall_time=clock.wall_time_of(at),
            applied_wall_time=clock.wall_time_of(clock.now()),
            **extra,
        )
