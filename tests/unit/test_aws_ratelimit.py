"""The per-region token bucket."""

from __future__ import annotations

import threading
import time

import pytest

from sagemaker_guardrails.aws.ratelimit import RegionLimiters, TokenBucket

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_starts_full_and_allows_a_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.5)


def test_refills_at_rate_and_caps_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.try_acquire()
    clock.now += 0.25
    assert bucket.try_acquire() == pytest.approx(0.25)  # half a token there, half missing
    clock.now += 0.25
    assert bucket.try_acquire() == 0.0
    clock.now += 3600
    assert bucket.available == pytest.approx(3.0)


def test_acquire_gives_up_at_once_when_no_token_can_arrive_in_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.01, burst=1, clock=clock)
    assert bucket.acquire(timeout=0)
    started = time.monotonic()
    assert not bucket.acquire(timeout=5)  # the next token is 100 s away
    assert time.monotonic() - started < 1


def test_acquire_blocks_until_a_token_arrives() -> None:
    bucket = TokenBucket(rate=20, burst=1)
    assert bucket.acquire(timeout=0)
    started = time.monotonic()
    assert bucket.acquire(timeout=2)
    assert time.monotonic() - started >= 0.03  # one token every 50 ms


def test_threads_share_one_budget() -> None:
    bucket = TokenBucket(rate=50, burst=5)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            assert bucket.acquire(timeout=5)
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 15
    # 5 from the burst, then 10 more at 50/s: at least ~0.2 s, never all at once.
    assert max(granted) - started >= 0.15


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate=1, burst=0)


def test_one_bucket_per_region() -> None:
    limiters = RegionLimiters(rate=1, burst=2)
    east = limiters.for_region("us-east-1")
    assert limiters.for_region("us-east-1") is east
    assert limiters.for_region("eu-west-1") is not east
    assert east.rate == 1 and east.burst == 2
