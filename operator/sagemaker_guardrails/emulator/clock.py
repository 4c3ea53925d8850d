"""The emulator's accelerated clock.

Simulated time is an epoch timestamp that starts at the real wall time and then runs ``speed`` times
faster. Every timestamp the emulator reports (CreationTime, VariantStatus StartTime, ...) is simulated,
so durations read from the API are the simulated durations of the spec's timelines. ``advance`` jumps
ahead instantly; ``set_speed`` re-anchors so that simulated time never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SimClock:
    """Thread-safe simulated clock: ``now() = anchor_sim + (monotonic - anchor_real) * speed``."""

    def __init__(
        self,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._speed = speed
        self._anchor_real = monotonic()
        self._anchor_sim = wall()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        """Simulated epoch seconds."""
        with self._lock:
            return self._anchor_sim + (self._monotonic() - self._anchor_real) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            real = self._monotonic()
            self._anchor_sim += (real - self._anchor_real) * self._speed
            self._anchor_real = real
            self._speed = speed

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward (never backward)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._anchor_sim += seconds

    def real_seconds_until(self, sim_time: float) -> float:
        """Real seconds until ``sim_time`` is reached at the current speed (negative if past)."""
        return (sim_time - self.now()) / self._speed

    def wall_time_of(self, sim_time: float) -> float:
        """The real epoch time at which ``sim_time`` is (or was) reached at the current speed."""
        return self._wall() + self.real_seconds_until(sim_time)

    @staticmethod
    def to_datetime(sim_time: float) -> datetime:
        return datetime.fromtimestamp(sim_time, tz=UTC)
