"""A thread-safe token bucket, one per region, shared by every AWS client of that region.

SageMaker publishes no TPS figure for its control plane; its quotas are per account and region,
and AWS's advice is to back off. botocore's ``standard`` retry mode backs off *after* being
throttled; this bucket keeps the operator from getting there in the first place, however many
worker threads poll at once. A call that cannot get a token within its timeout fails as
:class:`~sagemaker_guardrails.errors.Throttled`, which slows the resource down and never fails it.

Mutating calls go first. A bucket has two lanes over the same tokens: reads (``Describe*``,
``List*``: the polls) and writes (everything else: ``Create*``, ``Update*``, ``Delete*``,
``AddTags``, ...). While a write waits for a token, no read takes one; the write gets the next
token, whatever number of reads were waiting before it arrived. A thousand resources polled after
a restart therefore never hold back the one deployment a user just asked for. Reads cannot be
starved for long in practice: writes are bounded by what users change, polls are not. Callers
pick the lane with :meth:`TokenBucket.lane` (by operation name) or :attr:`TokenBucket.writes`.

A background job gets less than the bucket. :class:`Pacer` spaces one caller's calls at most
``rate`` per second by sleeping in that caller's thread, and :class:`PacedLimiter` puts it in
front of a bucket: a paced call waits for its pace first, then takes the shared token like any
other call. The orphan sweep is paced this way, so that however many resources it lists, it never
holds more than its share of the bucket the reconcile passes poll through.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Lane", "Limiter", "PacedLimiter", "Pacer", "RegionLimiters", "TokenBucket", "is_mutating"]

_READ_PREFIXES = ("Describe", "List")
_MIN_WAIT = 0.001


def is_mutating(operation: str) -> bool:
    """Whether an AWS operation (``"UpdateEndpoint"``) goes in the write lane: anything not Describe/List."""
    return not operation.startswith(_READ_PREFIXES)


class Lane(Protocol):
    """What a call takes its token from: a lane of a :class:`TokenBucket`, or a paced one."""

    @property
    def rate(self) -> float: ...

    def acquire(self, timeout: float | None = None) -> bool: ...


class Limiter(Protocol):
    """A :class:`TokenBucket`, or a :class:`PacedLimiter` in front of one."""

    def lane(self, operation: str) -> Lane: ...


class _Shared:
    """What the two lanes of one bucket share, guarded by one lock; each lane waits on its own
    condition of it, so that a write can be woken without waking every read."""

    __slots__ = ("lock", "read_cond", "stamp", "tokens", "write_cond", "writers")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.lock = threading.Lock()
        self.read_cond = threading.Condition(self.lock)
        self.write_cond = threading.Condition(self.lock)
        self.tokens = tokens
        self.stamp = stamp
        self.writers = 0  # write-lane callers waiting for a token


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; starts full.

    The bucket itself is its read lane; :attr:`writes` is the write lane over the same tokens
    (see the module docstring). Both have the same interface.
    """

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self.mutating = False
        self._clock = clock
        self._shared = _Shared(float(burst), clock())
        self._lanes: dict[bool, TokenBucket] = {}
        writes = copy.copy(self)  # shares _shared and _lanes
        writes.mutating = True
        self._lanes.update({False: self, True: writes})

    # -- lanes ------------------------------------------------------------------------------------

    @property
    def reads(self) -> TokenBucket:
        """The read lane (polls): waits while any write waits."""
        return self._lanes[False]

    @property
    def writes(self) -> TokenBucket:
        """The write lane: served before every waiting read."""
        return self._lanes[True]

    def lane(self, operation: str) -> TokenBucket:
        """The lane of an AWS operation, by name (:func:`is_mutating`)."""
        return self._lanes[is_mutating(operation)]

    # -- tokens -----------------------------------------------------------------------------------

    def _refill(self) -> None:
        shared = self._shared
        now = self._clock()
        elapsed = max(0.0, now - shared.stamp)
        shared.stamp = now
        shared.tokens = min(float(self.burst), shared.tokens + elapsed * self.rate)

    def _take(self) -> float:
        """Take a token (0) or return the seconds until this lane could have one; lock held."""
        shared = self._shared
        self._refill()
        ahead = 0 if self.mutating else shared.writers
        if ahead:
            if shared.tokens >= 1.0:
                shared.write_cond.notify_all()  # a waiting write may sleep on an older estimate
            return max(_MIN_WAIT, (ahead + 1.0 - shared.tokens) / self.rate)
        if shared.tokens >= 1.0:
            shared.tokens -= 1.0
            return 0.0
        return (1.0 - shared.tokens) / self.rate

    def try_acquire(self) -> float:
        """Take a token if this lane may have one now and return 0; otherwise the seconds to wait."""
        with self._shared.lock:
            return self._take()

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until a token is taken (True); False as soon as none can be had within ``timeout``."""
        shared = self._shared
        deadline = None if timeout is None else self._clock() + timeout
        cond = shared.write_cond if self.mutating else shared.read_cond
        with shared.lock:
            if self.mutating:
                shared.writers += 1
            try:
                while True:
                    wait = self._take()
                    if wait == 0.0:
                        return True
                    if deadline is not None and deadline - self._clock() < wait:
                        # Tokens only arrive at ``rate``: none can be ours before the deadline.
                        return False
                    cond.wait(wait)
            finally:
                if self.mutating:
                    shared.writers -= 1
                    if not shared.writers:
                        shared.read_cond.notify_all()  # reads held back by the writes look again

    @property
    def available(self) -> float:
        """Tokens available now (for tests and diagnostics)."""
        with self._shared.lock:
            self._refill()
            return self._shared.tokens

    @property
    def waiting_writes(self) -> int:
        """Write-lane callers waiting for a token now (for tests and diagnostics)."""
        with self._shared.lock:
            return self._shared.writers


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


class Pacer:
    """At most ``rate`` calls per second: :meth:`wait` sleeps until ``1 / rate`` seconds have
    passed since the previous call started (the first call never waits).

    ``sleep`` is called in the caller's thread; it may raise to abandon the call (the orphan
    sweeper's raises when it is asked to stop). :attr:`calls` counts the calls let through.
    Callers are served one at a time.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.calls = 0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            while self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = self._clock()
            self._next = now + 1.0 / self.rate
            self.calls += 1


class _PacedLane:
    __slots__ = ("_lane", "_pacer")

    def __init__(self, lane: Lane, pacer: Pacer) -> None:
        self._lane = lane
        self._pacer = pacer

    @property
    def rate(self) -> float:
        return min(self._lane.rate, self._pacer.rate)

    def acquire(self, timeout: float | None = None) -> bool:
        self._pacer.wait()
        return self._lane.acquire(timeout)


class PacedLimiter:
    """``limiter``'s lanes, each call waiting for ``pacer`` first (the pace is not counted in the
    lane's acquire timeout: it is the caller's own, known wait)."""

    def __init__(self, limiter: Limiter, pacer: Pacer) -> None:
        self._limiter = limiter
        self.pacer = pacer

    def lane(self, operation: str) -> Lane:
        return _PacedLane(self._limiter.lane(operation), self.pacer)
