"""Which calls an HTTP fault hits, and what a server error answers (used by ``faults``).

A server-error or latency fault hits every call of its operation, a seeded random share of them
(``rate``, a probability: the same ``seed`` gives the same sequence, so a flaky run can be replayed),
or the next ``count`` calls; with both, the fault ends after ``count`` hits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorMode = Literal["before", "after"]
ERROR_MODES: tuple[str, ...] = ("before", "after")
# AWS's common server errors (the codes botocore's standard retry mode treats as transient).
SERVER_ERRORS: dict[int, tuple[str, str]] = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    502: ("InternalFailure", "Bad gateway. Please try again."),
    503: ("ServiceUnavailable", "Service is unavailable. Please try again later."),
    504: ("InternalFailure", "The request timed out. Please try again."),
}


@dataclass
class Hits:
    """Which calls of an operation a fault hits: a seeded share (``rate``), at most ``remaining`` times."""

    operation: str
    rate: float
    remaining: int | None
    seed: int | None
    rng: random.Random = field(repr=False)
    hits: int = 0

    def hit(self) -> bool:
        if self.rate < 1.0 and self.rng.random() >= self.rate:
            return False
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True

    @property
    def spent(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def describe(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "rate": self.rate,
            "remaining": self.remaining,
            "seed": self.seed,
            "hits": self.hits,
        }


@dataclass(frozen=True)
class ServerError:
    status: int
    code: str
    message: str
    mode: ErrorMode


def hits(operation: str, rate: float, count: int | None, seed: int | None) -> Hits:
    if not operation:
        raise ValueError("operation must name an operation, or be '*' for every operation")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be a probability in (0, 1]; got {rate}")
    if count is not None and count < 1:
        raise ValueError(f"count must be at least 1; got {count}")
    return Hits(operation, rate, count, seed, random.Random(seed))
