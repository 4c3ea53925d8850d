"""The call log and the per-endpoint timeline, the emulator's two observability records.

The call log answers "how many DescribeEndpoint calls did the operator make, and which failed?". The
timeline answers "when did each endpoint change?": every phase change and outcome is stamped with its
simulated time and with the real (wall) time at which it became visible through the API, so a test or
benchmark can subtract the time an observer noticed the change and get the observer's lag.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Call:
    seq: int
    wall_time: float
    sim_time: float
    service: str
    operation: str
    region: str
    endpoint: str | None
    error_code: str | None
    http_status: int
    duration_ms: float
    internal: bool
    fault: str | None = None  # throttle | server-error | lost-response | latency


class CallLog:
    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._calls: deque[Call] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def next_seq(self) -> int:
        with self._lock:
            return next(self._seq)

    def append(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def query(
        self,
        *,
        since: int = 0,
        operation: str | None = None,
        endpoint: str | None = None,
        service: str | None = None,
        include_internal: bool = False,
    ) -> list[dict[str, Any]]:
        with self._lock:
            calls = list(self._calls)
        return [
            asdict(c)
            for c in calls
            if c.seq > since
            and (operation is None or c.operation == operation)
            and (endpoint is None or c.endpoint == endpoint)
            and (service is None or c.service == service)
            and (include_internal or not c.internal)
        ]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass(frozen=True)
class TimelineEvent:
    seq: int
    endpoint: str
    region: str
    event: str  # phase | outcome | rollback
    name: str  # phase name, or the outcome (Created, Succeeded, RolledBack, Failed, ...)
    label: str
    endpoint_status: str | None
    config_name: str | None
    target_config: str | None
    sim_time: float
    wall_time: float
    applied_wall_time: float
    step: int = 0
    steps: int = 0
    traffic_percent: float | None = None
    duration: float | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sim_datetime"] = datetime.fromtimestamp(self.sim_time, tz=UTC).isoformat()
        return data


class Timeline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[TimelineEvent] = []
        self._seq = itertools.count(1)

    def record(self, **fields: Any) -> None:
        with self._lock:
            self._events.append(TimelineEvent(seq=next(self._seq), **fields))

    def events(
        self, endpoint: str | None = None, region: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        with self._lock:
            events = list(self._events)
        return [
            e.as_json()
            for e in events
            if e.seq > since
            and (endpoint is None or e.endpoint == endpoint)
            and (region is None or e.region == region)
        ]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
