"""handlers.py: kopf watches and feeds the loop; it registers nothing that writes to objects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sagemaker_guardrails.handlers import build_registry, kopf_settings

pytestmark = pytest.mark.unit


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str | None, dict[str, Any]]] = []

    def observe(self, event_type: str | None, body: dict[str, Any]) -> None:
        self.seen.append((event_type, body))


async def _noop(**_: Any) -> None:
    return None


def test_the_registry_has_no_change_handlers_timers_or_daemons() -> None:
    registry = build_registry(Recorder(), on_startup=_noop, on_cleanup=_noop)  # type: ignore[arg-type]
    assert registry._changing.get_all_handlers() == []  # no diff-base annotation, no kopf finalizer
    assert registry._spawning.get_all_handlers() == []  # no timers, no daemons
    assert [h.id for h in registry._watching.get_all_handlers()] == ["enqueue"]
    assert sorted(h.id for h in registry._activities.get_all_handlers()) == [
        "login",
        "start-loop",
        "stop-loop",
    ]


def test_every_watch_event_goes_to_the_loop() -> None:
    recorder = Recorder()
    registry = build_registry(recorder)  # type: ignore[arg-type]
    (handler,) = registry._watching.get_all_handlers()
    body = {"metadata": {"namespace": "ml", "name": "fraud"}}
    for event_type in (None, "ADDED", "MODIFIED", "DELETED"):
        asyncio.run(handler.fn(event={"type": event_type, "object": body}))
    assert [t for t, _ in recorder.seen] == [None, "ADDED", "MODIFIED", "DELETED"]
    assert all(b == body for _, b in recorder.seen)


def test_kopf_posts_nothing_and_bounds_its_watch_requests() -> None:
    config = kopf_settings()
    assert config.posting.enabled is False
    assert config.watching.server_timeout and config.watching.client_timeout
    assert config.watching.client_timeout > config.watching.server_timeout
