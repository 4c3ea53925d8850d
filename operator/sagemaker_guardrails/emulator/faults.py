"""Injected faults: failed provisioning, failed rolling rollbacks, throttling, 5xx and latency.

Faults are what make rollbacks and retries testable without AWS. They are armed through the admin API
and consumed by the engine (provisioning, rollback) or by the HTTP front end (throttling, server errors,
latency). Throttling is a token bucket in *real* time, because client retries and back-off run in real
time; latency is real time too, for the same reason.

Server errors and latency hit an operation ("*" = every operation) either on every call, on a seeded
random share of the calls (``rate``, a probability; the same ``seed`` gives the same sequence), or on
the next ``count`` calls (``rate`` and ``count`` combine: the fault ends after ``count`` hits). A server
error either refuses the call before anything happens (``mode="before"``) or performs it and then loses
the response (``mode="after"``): the client sees a 500 for a call that did take effect, which is what
makes a mutating call ambiguous.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

from sagemaker_guardrails.emulator.hits import ERROR_MODES, SERVER_ERRORS, ErrorMode, Hits, ServerError, hits

ProvisioningKind = Literal["model-download", "capacity", "health-check"]

PROVISIONING_REASONS: dict[str, str] = {
    "model-download": 'Failed to download model data for container "container_1" from URL: "{model_data_url}". '
    "Please ensure that there is an object located at the URL and that the role passed to CreateModel "
    "has permissions to download the object.",
    "capacity": "Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity error. "
    "Please retry using a different ML instance type or after some time.",
    "health-check": "The primary container for production variant {variant} did not pass the ping health check. "
    "Please check CloudWatch logs for this endpoint.",
}


@dataclass(frozen=True)
class ProvisioningFault:
    endpoint: str
    kind: ProvisioningKind = "model-download"
    reason: str | None = None
    region: str | None = None


@dataclass
class Throttle:
    operation: str
    rate: float
    burst: int
    remaining: int | None
    tokens: float
    updated: float
    throttled: int = 0


@dataclass
class _ServerErrorRule:
    hits: Hits
    error: ServerError


@dataclass
class _LatencyRule:
    hits: Hits
    seconds: float


class Faults:
    """Thread-safe registry of armed faults."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._provisioning: deque[ProvisioningFault] = deque()
        self._rollback: list[tuple[str, str | None]] = []
        self._throttles: dict[str, Throttle] = {}
        self._errors: dict[str, _ServerErrorRule] = {}
        self._latency: dict[str, _LatencyRule] = {}

    def fail_next_provisioning(self, fault: ProvisioningFault) -> None:
        with self._lock:
            self._provisioning.append(fault)

    def take_provisioning(self, region: str, endpoint: str) -> ProvisioningFault | None:
        with self._lock:
            for fault in self._provisioning:
                if fault.endpoint == endpoint and fault.region in (None, region):
                    self._provisioning.remove(fault)
                    return fault
        return None

    def fail_next_rollback(self, endpoint: str, region: str | None = None) -> None:
        with self._lock:
            self._rollback.append((endpoint, region))

    def take_rollback(self, region: str, endpoint: str) -> bool:
        with self._lock:
            for armed in self._rollback:
                if armed[0] == endpoint and armed[1] in (None, region):
                    self._rollback.remove(armed)
                    return True
        return False

    def throttle(self, operation: str, rate: float = 0.0, burst: int = 1, count: int | None = None) -> None:
        """Throttle ``operation`` ("*" = every operation) beyond ``rate`` calls per real second.

        ``burst`` calls may pass at once; ``count`` ends the fault after that many throttled responses.
        ``rate=0`` throttles every call (after the burst is spent).
        """
        if rate < 0 or burst < 0:
            raise ValueError("rate and burst must not be negative")
        with self._lock:
            tokens = float(burst) if rate > 0 else 0.0
            self._throttles[operation] = Throttle(operation, rate, burst, count, tokens, self._clock())

    def should_throttle(self, operation: str) -> bool:
        with self._lock:
            rule = self._throttles.get(operation) or self._throttles.get("*")
            if rule is None:
                return False
            now = self._clock()
            rule.tokens = min(float(rule.burst), rule.tokens + (now - rule.updated) * rule.rate)
            rule.updated = now
            if rule.tokens >= 1.0:
                rule.tokens -= 1.0
                return False
            rule.throttled += 1
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del self._throttles[rule.operation]
            return True

    def clear_throttles(self, operation: str | None = None) -> None:
        with self._lock:
            if operation is None:
                self._throttles.clear()
            else:
                self._throttles.pop(operation, None)

    def server_error(
        self,
        operation: str,
        *,
        status: int = 500,
        code: str | None = None,
        message: str | None = None,
        mode: str = "before",
        rate: float = 1.0,
        count: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Answer ``operation`` with HTTP ``status``: refused (``before``) or performed and lost (``after``)."""
        if status not in SERVER_ERRORS:
            raise ValueError(f"status must be one of {', '.join(map(str, SERVER_ERRORS))}; got {status}")
        if mode not in ERROR_MODES:
            raise ValueError(f"mode must be one of {', '.join(ERROR_MODES)}; got {mode!r}")
        default_code, default_message = SERVER_ERRORS[status]
        error = ServerError(status, code or default_code, message or default_message, cast(ErrorMode, mode))
        rule = _ServerErrorRule(hits(operation, rate, count, seed), error)
        with self._lock:
            self._errors[operation] = rule

    def take_server_error(self, operation: str) -> ServerError | None:
        """The server error this call of ``operation`` gets, if any (consumes one hit)."""
        with self._lock:
            rule = self._errors.get(operation) or self._errors.get("*")
            if rule is None or not rule.hits.hit():
                return None
            if rule.hits.spent:
                del self._errors[rule.hits.operation]
            return rule.error

    def latency(
        self,
        operation: str,
        seconds: float,
        *,
        rate: float = 1.0,
        count: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Delay answers to ``operation`` by ``seconds`` of real time."""
        if not 0 < seconds <= 300:
            raise ValueError(f"seconds must be in (0, 300]; got {seconds}")
        rule = _LatencyRule(hits(operation, rate, count, seed), float(seconds))
        with self._lock:
            self._latency[operation] = rule

    def take_latency(self, operation: str) -> float:
        """Real seconds to wait before answering this call of ``operation`` (0: none)."""
        with self._lock:
            rule = self._latency.get(operation) or self._latency.get("*")
            if rule is None or not rule.hits.hit():
                return 0.0
            if rule.hits.spent:
                del self._latency[rule.hits.operation]
            return rule.seconds

    def clear_server_errors(self, operation: str | None = None) -> None:
        with self._lock:
            if operation is None:
                self._errors.clear()
            else:
                self._errors.pop(operation, None)

    def clear_latency(self, operation: str | None = None) -> None:
        with self._lock:
            if operation is None:
                self._latency.clear()
            else:
                self._latency.pop(operation, None)

    def clear(self) -> None:
        with self._lock:
            self._provisioning.clear()
            self._rollback.clear()
            self._throttles.clear()
            self._errors.clear()
            self._latency.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "provisioning": [asdict(f) for f in self._provisioning],
                "rollback": [{"endpoint": e, "region": r} for e, r in self._rollback],
                "throttles": [
                    {
                        "operation": t.operation,
                        "rate": t.rate,
                        "burst": t.burst,
                        "remaining": t.remaining,
                        "throttled": t.throttled,
                    }
                    for t in self._throttles.values()
                ],
                "server_errors": [{**r.hits.describe(), **asdict(r.error)} for r in self._errors.values()],
                "latency": [{**r.hits.describe(), "seconds": r.seconds} for r in self._latency.values()],
            }
