"""Injected faults: failed provisioning, failed rolling rollbacks, and throttling.

Faults are what make rollbacks and retries testable without AWS. They are armed through the admin API
and consumed by the engine (provisioning, rollback) or by the HTTP front end (throttling). Throttling is
a token bucket in *real* time, because client retries and back-off run in real time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

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


class Faults:
    """Thread-safe registry of armed faults."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._provisioning: deque[ProvisioningFault] = deque()
        self._rollback: list[tuple[str, str | None]] = []
        self._throttles: dict[str, Throttle] = {}

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

    def clear(self) -> None:
        with self._lock:
            self._provisioning.clear()
            self._rollback.clear()
            self._throttles.clear()

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
            }
