"""The reconciler's poll jitter: busy polls never later than asked, settled polls around the setting."""

from __future__ import annotations

import random

import pytest

from sagemaker_guardrails.reconciler import Deps
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit


def deps() -> Deps:
    settings = Settings(default_region="us-east-1", active_poll_seconds=15, settled_poll_seconds=300)
    return Deps(settings=settings, clients=lambda region: pytest.fail("no AWS"), rng=random.Random(5))


def test_busy_polls_are_jittered_only_downwards() -> None:
    d = deps()
    busy = [d.jittered(15) for _ in range(2000)]
    assert all(12.0 <= value <= 15.0 for value in busy)
    assert min(busy) < 12.3 and max(busy) > 14.7


def test_settled_polls_are_jittered_both_ways_around_the_setting() -> None:
    d = deps()
    settled = [d.jittered(300) for _ in range(2000)]
    assert all(240.0 <= value <= 360.0 for value in settled)
    assert min(settled) < 250 and max(settled) > 350
    assert abs(sum(settled) / len(settled) - 300) < 5
