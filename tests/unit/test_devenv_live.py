"""devenv.live: the demo's progress line, drawn from status samples as the operator writes them.

The expected lines are assembled from each case's inputs with the display's fixed layout (phase in
10 columns, stage in 17, a step column of 8, a 24-cell bar, columns two spaces apart), so a wrong
bar length, countdown or alignment fails here rather than in somebody's terminal.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sagemaker_guardrails.devenv.live import BAR_WIDTH, Frame, Screen, Watcher, bar, frame_of, render

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
REV = "7b1e0d44"


def gep(phase: str | None = None, current: str | None = None, **deployment: Any) -> dict[str, Any]:
    """A GuardedEndpoint as the API server returns it; keyword arguments are status.deployment."""
    status: dict[str, Any] = {}
    if phase is not None:
        status["phase"] = phase
    if current is not None:
        status["revision"] = {"current": current, "desired": current}
    if deployment:
        status["deployment"] = deployment
    return {"metadata": {"name": "fraud-detector", "namespace": "ml-prod"}, "status": status}


def at(seconds: float) -> str:
    """A status timestamp ``seconds`` after NOW, in the status's isoformat."""
    return (NOW + timedelta(seconds=seconds)).isoformat()


def cells(filled: int, unicode: bool = False) -> str:
    full, empty = ("█", "░") if unicode else ("#", ".")
    return full * filled + empty * (BAR_WIDTH - filled)


def line(phase: str, *columns: str) -> str:
    return "  ".join([phase.ljust(10), *columns])


def progress(stage: str, step: str, filled: int, percent: int, revision: str, *tail: str) -> tuple[str, ...]:
    """The columns of a deployment in flight: 24 * percent / 100 cells is ``filled``."""
    return (stage.ljust(17), step.ljust(8), f"[{cells(filled)}] {percent:>3}% on {revision}", *tail)


CASES = [
    pytest.param({"metadata": {"name": "x"}}, line("Pending", "waiting for the operator"), id="not-seen-yet"),
    pytest.param(gep("Creating"), line("Creating", "waiting for the operator"), id="phase-only"),
    pytest.param(gep("InService", current=REV), line("InService", f"serving revision {REV}"), id="settled"),
    pytest.param(
        gep(
            "Deploying",
            current="0a0a0a0a",
            revision=REV,
            stage="Provisioning",
            step=0,
            steps=3,
            trafficPercent=0,
            message="Launching 4 instance(s).",
        ),
        line("Deploying", *progress("Provisioning", "", 0, 0, REV, "Launching 4 instance(s).")),
        id="provisioning-shows-the-new-revision-and-sagemaker-message",
    ),
    pytest.param(
        gep(
            "Deploying",
            revision=REV,
            stage="ActivatingTraffic",
            step=1,
            steps=3,
            trafficPercent=25,
            message="Activating traffic on canary capacity of 1 instance(s).",
        ),
        line(
            "Deploying",
            *progress(
                "ActivatingTraffic",
                "step 1/3",
                6,
                25,
                REV,
                "Activating traffic on canary capacity of 1 instance(s).",
            ),
        ),
        id="canary-activation-25-percent-is-6-of-24-cells",
    ),
    pytest.param(
        gep(
            "Baking",
            revision=REV,
            stage="Baking",
            step=1,
            steps=3,
            trafficPercent=25,
            bakeEndsAt=at(250),
            message="Baking for 600 seconds (WaitIntervalInSeconds) with traffic enabled on ...",
        ),
        line("Baking", *progress("Baking", "step 1/3", 6, 25, REV, "bake 04:10 left")),
        id="bake-countdown-replaces-the-message",
    ),
    pytest.param(
        gep("Baking", revision=REV, stage="Baking", step=2, steps=3, trafficPercent=50, bakeEndsAt=at(59.6)),
        line("Baking", *progress("Baking", "step 2/3", 12, 50, REV, "bake 01:00 left")),
        id="countdown-rounds-to-the-nearest-second",
    ),
    pytest.param(
        gep("Baking", revision=REV, stage="Baking", step=3, steps=3, trafficPercent=100, bakeEndsAt=at(3725)),
        line("Baking", *progress("Baking", "step 3/3", 24, 100, REV, "bake 62:05 left")),
        id="countdown-over-an-hour-stays-in-minutes",
    ),
    pytest.param(
        gep("Baking", revision=REV, stage="Baking", step=1, steps=3, trafficPercent=25, bakeEndsAt=at(-30)),
        line("Baking", *progress("Baking", "step 1/3", 6, 25, REV, "bake 00:00 left")),
        id="an-overdue-bake-shows-zero-not-negative",
    ),
    pytest.param(
        gep("Deploying", revision=REV, stage="Baking", step=1, steps=10, trafficPercent=10),
        line("Deploying", *progress("Baking", "step 1/10", 2, 10, REV)),
        id="linear-10-percent-rounds-2.4-cells-down-without-bake-end",
    ),
    pytest.param(
        gep("Deploying", revision=REV, stage="Provisioning", step=1, steps=4, trafficPercent=None),
        line("Deploying", *progress("Provisioning", "step 1/4", 0, 0, REV)),
        id="unknown-traffic-draws-an-empty-bar",
    ),
    pytest.param(
        gep(
            "Deploying",
            revision=REV,
            stage="Terminating",
            step=3,
            steps=3,
            trafficPercent=100,
            bakeEndsAt=at(100),
            message="Terminating 4 instance(s).",
        ),
        line("Deploying", *progress("Terminating", "step 3/3", 24, 100, REV, "Terminating 4 instance(s).")),
        id="a-stale-bake-end-is-not-shown-outside-baking",
    ),
    pytest.param(
        gep(
            "Deploying",
            current="0a0a0a0a",
            stage="RollingBack",
            step=1,
            steps=3,
            trafficPercent=0,
            message="Terminating 1 instance(s).",
        ),
        line(
            "Deploying", *progress("RollingBack", "step 1/3", 0, 0, "0a0a0a0a", "Terminating 1 instance(s).")
        ),
        id="without-a-deployment-revision-the-current-one-is-named",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), CASES)
def test_a_status_sample_renders_as_one_line(obj: dict[str, Any], expected: str) -> None:
    assert render(frame_of(obj, NOW), unicode=False) == expected


@pytest.mark.parametrize(
    ("percent", "filled"),
    [(0, 0), (25, 6), (50, 12), (100, 24), (10, 2), (3, 1), (2, 0), (-5, 0), (140, 24)],
)
def test_bar_fills_its_share_of_cells_clamped_to_0_100(percent: int, filled: int) -> None:
    assert bar(percent, unicode=False) == cells(filled)
    assert bar(percent) == cells(filled, unicode=True)
    assert len(bar(percent, width=10)) == 10


def test_the_bar_starts_in_the_same_column_for_every_stage() -> None:
    stages = ["Creating", "Provisioning", "ActivatingTraffic", "Baking", "Terminating", "RollingBack"]
    lines = [
        render(frame_of(gep("Deploying", revision=REV, stage=s, step=step, steps=4), NOW))
        for s in stages
        for step in (0, 3)
    ]
    assert len({text.index("[") for text in lines}) == 1


def test_frame_reads_the_bake_end_against_the_given_clock() -> None:
    obj = gep("Baking", revision=REV, stage="Baking", step=1, steps=2, bakeEndsAt=at(90))
    assert frame_of(obj, NOW).bake_left == 90.0
    assert frame_of(obj, NOW + timedelta(seconds=30)).bake_left == 60.0
    assert frame_of(gep("Baking", stage="Baking"), NOW).bake_left is None


def test_the_countdown_is_not_part_of_what_makes_a_new_line() -> None:
    obj = gep("Baking", revision=REV, stage="Baking", step=1, steps=2, trafficPercent=25, bakeEndsAt=at(90))
    assert frame_of(obj, NOW).key == frame_of(obj, NOW + timedelta(seconds=10)).key
    moved = gep("Baking", revision=REV, stage="Baking", step=2, steps=2, trafficPercent=100)
    assert frame_of(moved, NOW).key != frame_of(obj, NOW).key


class Terminal(io.StringIO):
    """A stream that says it is a UTF-8 terminal."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def frame(phase: str, stage: str | None = None, step: int | None = None, bake: float | None = None) -> Frame:
    return Frame(phase, stage, step, 3 if step else None, 25 if stage else None, bake, REV, None)


def test_a_pipe_gets_a_line_per_change_in_ascii_and_no_escape_codes() -> None:
    out = io.StringIO()
    screen = Screen(out)
    shown = [frame("Baking", "Baking", 1, 90), frame("Baking", "Baking", 1, 80), frame("InService")]
    for f in shown:
        screen.show(f)
    screen.say("event")
    screen.end()
    assert not screen.tty and not screen.unicode
    assert out.getvalue().splitlines() == [
        "    " + render(shown[0], unicode=False),
        "    " + render(shown[2], unicode=False),
        "event",
    ]
    assert screen.color("x", "31") == "x"


def test_a_terminal_redraws_one_line_and_prints_messages_above_it() -> None:
    out = Terminal()
    screen = Screen(out)
    first, second = frame("Baking", "Baking", 1, 90), frame("Baking", "Baking", 1, 89)
    screen.show(first)
    screen.show(second)
    screen.say("event Warning RollingBack")
    screen.end()
    clear = "\r\x1b[2K"
    status = "    " + render(second, unicode=True)
    assert "█" in status
    assert out.getvalue() == (
        f"{clear}    {render(first)}{clear}{status}{clear}event Warning RollingBack\n{status}\n"
    )
    assert screen.color("x", "31") == "\x1b[31mx\x1b[0m"


class Cluster:
    """Serves status samples one poll at a time, and the Events seen so far."""

    def __init__(self, samples: list[dict[str, Any] | None], events: list[list[dict[str, Any]]]) -> None:
        self._samples: Iterator[dict[str, Any] | None] = iter(samples)
        self._events = events
        self.polls = 0
        self.last: dict[str, Any] | None = None

    def get(self) -> dict[str, Any] | None:
        self.polls += 1
        self.last = next(self._samples, self.last)
        return self.last

    def events(self) -> list[dict[str, Any]]:
        return self._events[min(max(self.polls, 1), len(self._events)) - 1]


def event(uid: str, kind: str, reason: str, message: str) -> dict[str, Any]:
    return {"metadata": {"uid": uid}, "type": kind, "reason": reason, "message": message}


def test_watcher_draws_each_sample_and_prints_each_event_once_until_done() -> None:
    started = event("1", "Normal", "DeploymentStarted", "SageMaker is deploying revision 7b1e0d44.")
    rolling = event("2", "Warning", "RollingBack", "SageMaker is rolling the deployment back: Terminating.")
    baking = gep(
        "Baking", revision=REV, stage="Baking", step=1, steps=3, trafficPercent=25, bakeEndsAt=at(60)
    )
    rolled_back = gep("RolledBack", current="0a0a0a0a")
    cluster = Cluster([None, baking, rolled_back], [[started], [started], [started, rolling]])
    out = io.StringIO()
    watcher = Watcher(cluster.get, cluster.events, lambda: NOW, Screen(out), interval=0)
    seen: list[str] = []
    result = watcher.until(
        lambda o: o["status"]["phase"] == "RolledBack",
        timeout=30,
        on_frame=lambda obj, f: seen.append(f.phase),
    )
    assert result is rolled_back
    assert seen == ["Baking", "RolledBack"]
    assert out.getvalue().splitlines() == [
        f"    event {'Normal':<7} {'DeploymentStarted':<20} {started['message']}",
        "    " + render(frame_of(baking, NOW), unicode=False),
        "    " + render(frame_of(rolled_back, NOW), unicode=False),
        f"    event {'Warning':<7} {'RollingBack':<20} {rolling['message']}",
    ]


def test_watcher_skips_events_from_before_it_started_and_times_out() -> None:
    old = event("1", "Normal", "Adopted", "old news")
    cluster = Cluster([gep("Deploying", revision=REV, stage="Provisioning")], [[old]])
    out = io.StringIO()
    watcher = Watcher(cluster.get, cluster.events, lambda: NOW, Screen(out), interval=0)
    watcher.skip_existing_events()
    with pytest.raises(TimeoutError, match=r"within 0\.05s"):
        watcher.until(lambda o: False, timeout=0.05)
    assert "old news" not in out.getvalue()
    assert cluster.polls > 1
    assert out.getvalue().splitlines() == ["    " + render(frame_of(cluster.last or {}, NOW), unicode=False)]
