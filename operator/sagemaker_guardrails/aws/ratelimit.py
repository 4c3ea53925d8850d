"""A thread-safe token bucket, one per region, shared by every AWS client of that region.

SageMaker publishes no TPS figure for its control plane; its quotas are per account and region,
and AWS's advice is to back off. botocore's ``standard`` retry mode backs off *after* being
throttled; this bucket keeps the operator from getting there in the first place, however many
handler threads poll at once. A call that cannot get a token within its timeout fails as
:class:`~sagemaker_guardrails.errors.Throttled`, which slows the resource down and never fails it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RegionLimiters", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; starts full."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._cond = threading.Condition(threading.Lock())

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    def try_acquire(self) -> float:
        """Take a token if one is there and return 0; otherwise return the seconds until one is."""
        with self._cond:
            return self._take()

    def _take(self) -> float:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until a token is taken (True); False as soon as none can be had within ``timeout``."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                wait = self._take()
                if wait == 0.0:
                    return True
                if deadline is not None and deadline - self._clock() < wait:
                    # Tokens only arrive at ``rate``: none can be ours before the deadline.
                    return False
                self._cond.wait(wait)

    @property
    def available(self) -> float:
        """Tokens available now (for tests and diagnostics)."""
        with self._cond:
            self._refill()
            return self._tokens


class RegionLimiters:
    """One :class:`TokenBucket` per region, created on first use."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def for_region(self, region: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(region)
            if bucket is None:
                bucket = TokenBucket(self._rate, self._burst, clock=self._clock)
                self._buckets[region] = bucket
            return bucket
