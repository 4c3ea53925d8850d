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

- Among the keys that are due, a higher **priority** goes first (controller-runtime's priority
  queue does the same, and gives the objects of its initial list the lowest one). After a
  restart every object is due at once; a key whose object asks for work (a new generation, a
  retry, a deletion, a recorded intent) must not wait behind a thousand routine polls. A key
  keeps the highest priority it was added with until a worker takes it; ``done`` then sets the
  priority of its next pass. Within one priority the earlier due time goes first.

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

__all__ = ["ACTIVE", "ROUTINE", "URGENT", "QueueStats", "WorkQueue"]

ROUTINE = 0
"""A poll of a settled object, and every object of a (re)list that asks for nothing."""
ACTIVE = 1
"""A poll of a deployment in flight, and a retry after a failure."""
URGENT = 2
"""Work someone asked for: a new generation, a retry annotation, a deletion, a recorded intent."""


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
        self._lock = threading.Lock()
        self._clock_watch = threading.Condition(self._lock)  # the one idle worker that waits for a due time
        self._idle = threading.Condition(self._lock)  # the other idle workers
        self._watched = False
        self._due: dict[str, float] = {}  # waiting keys -> due time
        self._priority: dict[str, int] = {}  # waiting keys -> priority
        self._entry: dict[str, int] = {}  # waiting keys -> sequence number of their live heap entry
        self._seq = 0
        # Not yet due, by due time; due, by priority then due time. Entries whose sequence number is
        # no longer the key's live one were superseded and are skipped lazily.
        self._waiting: list[tuple[float, int, str]] = []
        self._ready: list[tuple[int, float, int, str]] = []
        self._processing: set[str] = set()
        # Keys in progress that were added meanwhile -> (earliest due, highest priority).
        self._requested: dict[str, tuple[float, int]] = {}
        self._failures: dict[str, int] = {}
        self._shutdown = False

    # -- producers ------------------------------------------------------------------------------

    def add(self, key: str, after: float = 0.0, priority: int = ROUTINE) -> None:
        """Make ``key`` due in ``after`` seconds, or earlier if it already is, with at least ``priority``."""
        with self._lock:
            due = self._clock() + max(0.0, after)
            if key in self._processing:
                before = self._requested.get(key)
                if before is not None:
                    due, priority = min(due, before[0]), max(priority, before[1])
                self._requested[key] = (due, priority)
                return
            self._schedule(key, due, priority)

    def forget(self, key: str) -> None:
        """Remove ``key`` for good (the object is gone); a worker holding it keeps it until done."""
        with self._lock:
            self._unschedule(key)
            self._requested.pop(key, None)
            self._failures.pop(key, None)
            if key in self._processing:
                self._requested[key] = (float("inf"), ROUTINE)  # done() sees the tombstone and drops it

    # -- workers --------------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> str | None:
        """The next due key (now marked processing), or None on timeout or shutdown.

        One idle worker at a time watches the clock (it sleeps until the next due time); the
        others sleep until they are handed that watch or a key, so a due time wakes one thread,
        not every idle worker.
        """
        deadline = None if timeout is None else self._clock() + timeout
        with self._lock:
            try:
                while not self._shutdown:
                    now = self._clock()
                    self._promote(now)
                    key = self._take()
                    if key is not None:
                        self._processing.add(key)
                        return key
                    due = self._next_due()
                    watch = due is not None and not self._watched
                    wait = due - now if due is not None and watch else None
                    if deadline is not None:
                        left = deadline - now
                        if left <= 0:
                            return None
                        if wait is None or left < wait:  # gives up first: cannot watch the clock
                            wait, watch = left, False
                    if watch:
                        self._watched = True
                        try:
                            self._clock_watch.wait(wait)
                        finally:
                            self._watched = False
                    else:
                        self._idle.wait(wait)
                return None
            finally:
                if not self._watched and (self._waiting or self._ready):
                    self._idle.notify()  # someone else watches the clock now

    def done(self, key: str, after: float, priority: int = ROUTINE) -> None:
        """Give ``key`` back, due in ``after`` seconds at ``priority``, or as it was asked for meanwhile."""
        with self._lock:
            self._processing.discard(key)
            requested = self._requested.pop(key, None)
            due = self._clock() + max(0.0, after)
            if requested is not None:
                if requested[0] == float("inf"):
                    return
                due, priority = min(due, requested[0]), max(priority, requested[1])
            self._schedule(key, due, priority)

    def backoff(self, key: str, base: float, cap: float) -> float:
        """Seconds to wait after one more failure of ``key``: ``base * 2**(n-1)``, at most ``cap``."""
        with self._lock:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            return float(min(cap, base * 2 ** min(failures - 1, 30)))

    def succeeded(self, key: str) -> None:
        """Reset the failure backoff of ``key``."""
        with self._lock:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        with self._lock:
            return self._failures.get(key, 0)

    def shutdown(self) -> None:
        """Wake every waiting worker; ``get`` returns None from now on."""
        with self._lock:
            self._shutdown = True
            self._clock_watch.notify_all()
            self._idle.notify_all()

    # -- figures --------------------------------------------------------------------------------

    def priority_of(self, key: str) -> int | None:
        """The priority ``key`` waits with, None when it is not waiting."""
        with self._lock:
            return self._priority.get(key)

    def due_in(self, key: str) -> float | None:
        """Seconds until ``key`` is due (negative when overdue), None when it is not waiting."""
        with self._lock:
            due = self._due.get(key)
            return None if due is None else due - self._clock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._due or key in self._processing

    def stats(self) -> QueueStats:
        with self._lock:
            now = self._clock()
            overdue = [now - due for due in self._due.values() if due <= now]
            return QueueStats(
                keys=len(self._due) + len(self._processing),
                due=len(overdue),
                processing=len(self._processing),
                oldest_overdue_seconds=max(overdue, default=0.0),
            )

    # -- internals (lock held) ------------------------------------------------------------------

    def _schedule(self, key: str, due: float, priority: int) -> None:
        current, level = self._due.get(key), self._priority.get(key, priority)
        if current is not None:
            if current <= due and level >= priority:
                return
            due, priority = min(current, due), max(level, priority)
        earliest = self._next_due()
        self._seq += 1
        self._due[key], self._priority[key], self._entry[key] = due, priority, self._seq
        heapq.heappush(self._waiting, (due, self._seq, key))
        if earliest is None or due < earliest or due <= self._clock():
            # The clock watcher must look again (or, when nobody watches, an idle worker must).
            (self._clock_watch if self._watched else self._idle).notify()

    def _unschedule(self, key: str) -> None:
        self._due.pop(key, None)
        self._priority.pop(key, None)
        self._entry.pop(key, None)

    def _live(self, key: str, seq: int) -> bool:
        return self._entry.get(key) == seq

    def _promote(self, now: float) -> None:
        """Move the entries whose time has come from the waiting heap to the ready heap."""
        while self._waiting and self._waiting[0][0] <= now:
            due, seq, key = heapq.heappop(self._waiting)
            if self._live(key, seq):
                heapq.heappush(self._ready, (-self._priority[key], due, seq, key))

    def _take(self) -> str | None:
        while self._ready:
            _, _, seq, key = heapq.heappop(self._ready)
            if self._live(key, seq):
                self._unschedule(key)
                return key
        return None

    def _next_due(self) -> float | None:
        while self._waiting:
            due, seq, key = self._waiting[0]
            if self._live(key, seq):
                return due
            heapq.heappop(self._waiting)
        return None
