"""The work queue: object keys with due times, each key held by at most one worker at a time.

The semantics are client-go's ``workqueue`` (a delaying, rate-limited queue) in one structure:

- A key is in the queue at most once. Adding a key that is already waiting keeps the *earlier*
  due time, so a watch event brings a settled object's next pass forward and a late poll request
  never pushes it back.
- A key handed to a worker is *processing*; adding it meanwhile does not hand it to a second
  worker, the request is remembered and merged into the due time the worker asks for in
  :meth:`WorkQueue.done`.
- :meth:`WorkQueue.done` is the only way out of *processing*, and it always puts the key back
  (there is no "drop"): the worker says when the key is due next, from the pass's requeue time
  or from :meth:`WorkQueue.backoff` after a failure. Only :meth:`WorkQueue.forget` removes a
  key, and the controller calls it only once the object is gone from the API server.

Failure backoff is per key, exponential and capped (``base * 2**(failures-1)`` up to ``cap``);
a pass that succeeds resets it. The queue keeps the figures the health check and the metrics
need: how many keys are due, how overdue the most overdue one is.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["QueueStats", "WorkQueue"]


@dataclass(frozen=True)
class QueueStats:
    """A snapshot of the queue for metrics and health."""

    keys: int
    """Keys known to the queue (waiting, due or processing)."""
    due: int
    """Keys whose due time has come and that wait for a worker."""
    processing: int
    oldest_overdue_seconds: float
    """How long the most overdue waiting key has been due (0 when none is)."""


class WorkQueue:
    """A thread-safe delaying queue of string keys; see the module docstring."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._due: dict[str, float] = {}  # waiting keys -> due time
        self._heap: list[tuple[float, str]] = []  # (due, key); stale entries skipped lazily
        self._processing: set[str] = set()
        self._requested: dict[str, float] = {}  # processing keys added meanwhile -> earliest due
        self._failures: dict[str, int] = {}
        self._shutdown = False

    # -- producers ------------------------------------------------------------------------------

    def add(self, key: str, after: float = 0.0) -> None:
        """Make ``key`` due in ``after`` seconds, or earlier if it already is."""
        with self._cond:
            due = self._clock() + max(0.0, after)
            if key in self._processing:
                self._requested[key] = min(due, self._requested.get(key, due))
                return
            self._schedule(key, due)

    def forget(self, key: str) -> None:
        """Remove ``key`` for good (the object is gone); a worker holding it keeps it until done."""
        with self._cond:
            self._due.pop(key, None)
            self._requested.pop(key, None)
            self._failures.pop(key, None)
            if key in self._processing:
                self._requested[key] = float("inf")  # done() sees the tombstone and drops it

    # -- workers --------------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> str | None:
        """The next due key (now marked processing), or None on timeout or shutdown."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while not self._shutdown:
                now = self._clock()
                key, due = self._peek()
                if key is not None and due <= now:
                    heapq.heappop(self._heap)
                    del self._due[key]
                    self._processing.add(key)
                    return key
                wait = None if key is None else due - now
                if deadline is not None:
                    left = deadline - now
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)
            return None

    def done(self, key: str, after: float) -> None:
        """Give ``key`` back, due in ``after`` seconds or when it was asked for meanwhile."""
        with self._cond:
            self._processing.discard(key)
            requested = self._requested.pop(key, None)
            if requested == float("inf"):
                return
            due = self._clock() + max(0.0, after)
            if requested is not None:
                due = min(due, requested)
            self._schedule(key, due)

    def backoff(self, key: str, base: float, cap: float) -> float:
        """Seconds to wait after one more failure of ``key``: ``base * 2**(n-1)``, at most ``cap``."""
        with self._cond:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            return float(min(cap, base * 2 ** min(failures - 1, 30)))

    def succeeded(self, key: str) -> None:
        """Reset the failure backoff of ``key``."""
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def shutdown(self) -> None:
        """Wake every waiting worker; ``get`` returns None from now on."""
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()

    # -- figures --------------------------------------------------------------------------------

    def due_in(self, key: str) -> float | None:
        """Seconds until ``key`` is due (negative when overdue), None when it is not waiting."""
        with self._cond:
            due = self._due.get(key)
            return None if due is None else due - self._clock()

    def __contains__(self, key: object) -> bool:
        with self._cond:
            return key in self._due or key in self._processing

    def stats(self) -> QueueStats:
        with self._cond:
            now = self._clock()
            overdue = [now - due for due in self._due.values() if due <= now]
            return QueueStats(
                keys=len(self._due) + len(self._processing),
                due=len(overdue),
                processing=len(self._processing),
                oldest_overdue_seconds=max(overdue, default=0.0),
            )

    # -- internals (lock held) ------------------------------------------------------------------

    def _schedule(self, key: str, due: float) -> None:
        current = self._due.get(key)
        if current is not None and current <= due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        if not self._heap or self._heap[0] == (due, key):
            self._cond.notify()

    def _peek(self) -> tuple[str | None, float]:
        while self._heap:
            due, key = self._heap[0]
            if self._due.get(key) == due:
                return key, due
            heapq.heappop(self._heap)  # superseded by an earlier due time, or taken
        return None, 0.0
