"""Live progress of one GuardedEndpoint in a terminal, read only from what a user can see: its
``status`` and its Events.

SageMaker does not expose the traffic split during a blue/green deployment; the percentage shown is
the operator's estimate from ``VariantStatus`` and the policy (``status.deployment.trafficPercent``).
Timestamps written by the emulator are on its accelerated clock, so the bake countdown is computed
against the emulator's simulated "now" and shown in simulated seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

BAR_WIDTH = 24


@dataclass(frozen=True)
class Frame:
    """What one refresh shows."""

    phase: str
    stage: str | None
    step: int | None
    steps: int | None
    traffic: int | None
    bake_left: float | None
    revision: str | None
    message: str | None

    @property
    def key(self) -> tuple[Any, ...]:
        """Everything but the countdown: what a non-terminal output prints a line for."""
        return (self.phase, self.stage, self.step, self.traffic, self.revision)


def _parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def frame_of(obj: dict[str, Any], now: datetime) -> Frame:
    status = obj.get("status") or {}
    deployment = status.get("deployment") or {}
    bake_end = _parse(deployment.get("bakeEndsAt"))
    revision = deployment.get("revision") or (status.get("revision") or {}).get("current")
    return Frame(
        phase=status.get("phase") or "Pending",
        stage=deployment.get("stage"),
        step=deployment.get("step"),
        steps=deployment.get("steps"),
        traffic=deployment.get("trafficPercent"),
        bake_left=max(0.0, (bake_end - now).total_seconds()) if bake_end else None,
        revision=revision,
        message=deployment.get("message"),
    )


def bar(percent: int, width: int = BAR_WIDTH, unicode: bool = True) -> str:
    full, empty = ("█", "░") if unicode else ("#", ".")
    filled = round(width * max(0, min(100, percent)) / 100)
    return full * filled + empty * (width - filled)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes:02d}:{secs:02d}"


def render(frame: Frame, unicode: bool = True) -> str:
    parts = [f"{frame.phase:<10}"]
    if frame.stage:
        parts.append(f"{frame.stage:<17}")
        parts.append(f"step {frame.step}/{frame.steps}" if frame.step and frame.steps else " " * 8)
        traffic = frame.traffic or 0
        parts.append(f"[{bar(traffic, unicode=unicode)}] {traffic:>3}% on {frame.revision}")
        if frame.bake_left is not None and frame.stage == "Baking":
            parts.append(f"bake {_clock(frame.bake_left)} left")
        elif frame.message and frame.stage != "Baking":
            parts.append(frame.message)
    elif frame.revision:
        parts.append(f"serving revision {frame.revision}")
    else:
        parts.append("waiting for the operator")
    return "  ".join(parts)


class Screen:
    """One status line redrawn in place on a terminal (a line per change otherwise), with
    messages printed above it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        encoding = (getattr(self.stream, "encoding", None) or "").lower()
        self.unicode = encoding.startswith("utf")
        self._line = ""
        self._key: tuple[Any, ...] | None = None

    def color(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.tty else text

    def show(self, frame: Frame) -> None:
        line = "    " + render(frame, self.unicode)
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()
        elif frame.key != self._key:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._line, self._key = line, frame.key

    def say(self, text: str) -> None:
        if self.tty and self._line:
            self.stream.write("\r\x1b[2K" + text + "\n" + self._line)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self._line:
            self.stream.write("\n")
            self.stream.flush()
        self._line, self._key = "", None


class Watcher:
    """Polls one GuardedEndpoint and its Events and draws them until a condition holds."""

    def __init__(
        self,
        get: Callable[[], dict[str, Any] | None],
        events: Callable[[], list[dict[str, Any]]],
        now: Callable[[], datetime],
        screen: Screen,
        interval: float = 0.25,
    ) -> None:
        self._get = get
        self._events = events
        self._now = now
        self.screen = screen
        self.interval = interval
        self._seen: set[str] = set()

    def skip_existing_events(self) -> None:
        self._seen.update(e["metadata"]["uid"] for e in self._events())

    def _print_new_events(self) -> None:
        for event in self._events():
            uid = event["metadata"]["uid"]
            if uid in self._seen:
                continue
            self._seen.add(uid)
            kind = event.get("type", "Normal")
            label = self.screen.color(f"{kind:<7}", "33" if kind == "Warning" else "36")
            self.screen.say(f"    event {label} {event.get('reason', ''):<20} {event.get('message', '')}")

    def until(
        self,
        done: Callable[[dict[str, Any]], bool],
        timeout: float,
        on_frame: Callable[[dict[str, Any], Frame], None] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last_events = 0.0
        try:
            while True:
                obj = self._get()
                if obj is not None:
                    frame = frame_of(obj, self._now())
                    self.screen.show(frame)
                    if on_frame is not None:
                        on_frame(obj, frame)
                if time.monotonic() - last_events >= 1.0:
                    self._print_new_events()
                    last_events = time.monotonic()
                if obj is not None and done(obj):
                    self._print_new_events()
                    return obj
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no progress to the expected state within {timeout:g}s")
                time.sleep(self.interval)
        finally:
            self.screen.end()
