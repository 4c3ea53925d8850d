"""Everything one running emulator shares between its HTTP threads, its ticker and its admin API.

One re-entrant lock guards the SageMaker state and the engine. CloudWatch (moto) has its own lock and
never takes this one, so the engine may read alarms over HTTP while holding it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sagemaker_guardrails.emulator.alarms import AlarmReader
from sagemaker_guardrails.emulator.clock import SimClock
from sagemaker_guardrails.emulator.cloudwatch import CloudWatchBridge
from sagemaker_guardrails.emulator.engine import Engine
from sagemaker_guardrails.emulator.faults import Faults
from sagemaker_guardrails.emulator.records import CallLog, Timeline
from sagemaker_guardrails.emulator.settings import EmulatorSettings
from sagemaker_guardrails.emulator.store import Store


class EmulatorContext:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.initial_settings = settings
        self.settings = settings
        self.url = ""
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.clock = SimClock(settings.speed)
        self.store = Store()
        self.faults = Faults()
        self.calls = CallLog(settings.call_log_limit)
        self.timeline = Timeline()
        self.alarms = AlarmReader(lambda: self.url)
        self.cloudwatch = CloudWatchBridge(
            lambda: self.settings.account_id, lambda: self.settings.new_alarm_state
        )
        self.engine = Engine(self)

    def configure(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        """Apply validated setting changes at runtime (host and port cannot change)."""
        frozen = {"host", "port"} & set(changes)
        if frozen:
            raise ValueError(f"cannot change {', '.join(sorted(frozen))} of a running emulator")
        with self.lock:
            self.engine.advance()
            updated = self.settings.updated(changes)
            if updated.speed != self.settings.speed:
                self.clock.set_speed(updated.speed)
            self.settings = updated
        self.wake.set()
        return updated

    def reset(self) -> None:
        """Forget every resource, fault, call, timeline event, alarm and hold; restore the start settings."""
        with self.lock:
            self.store.clear()
            self.faults.clear()
            self.calls.clear()
            self.timeline.clear()
            self.cloudwatch.reset()
            initial = self.initial_settings.model_copy(update={"port": self.settings.port})
            if initial.speed != self.settings.speed:
                self.clock.set_speed(initial.speed)
            self.settings = initial
        self.wake.set()
