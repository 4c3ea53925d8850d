"""The per-region token bucket, and its write lane that mutating calls take before any poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from sagemaker_guardrails.aws.ratelimit import RegionLimiters, TokenBucket, is_mutating

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


# -- priority: mutating calls before polls ---------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "mutating"),
    [
        ("DescribeEndpoint", False),
        ("DescribeAlarms", False),
        ("ListTags", False),
        ("ListModels", False),
        ("CreateModel", True),
        ("CreateEndpointConfig", True),
        ("UpdateEndpoint", True),
        ("DeleteEndpoint", True),
        ("AddTags", True),
        ("DeleteTags", True),
        ("PutMetricAlarm", True),
    ],
)
def test_operations_are_read_or_write(operation: str, mutating: bool) -> None:
    bucket = TokenBucket(rate=1, burst=1)
    assert is_mutating(operation) is mutating
    assert bucket.lane(operation) is (bucket.writes if mutating else bucket.reads)


def test_both_lanes_share_the_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=2, clock=clock)
    assert bucket.reads is bucket and bucket.writes.writes is bucket.writes
    assert bucket.writes.reads is bucket and bucket.writes.rate == 1
    assert bucket.writes.try_acquire() == 0.0
    assert bucket.reads.try_acquire() == 0.0
    assert bucket.writes.try_acquire() == pytest.approx(1.0)
    assert bucket.reads.try_acquire() == pytest.approx(1.0)


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_read_does_not_take_the_token_a_waiting_write_needs() -> None:
    """Deterministic: with a write waiting, a token that comes goes to the write, not to a read."""
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    assert bucket.try_acquire() == 0.0  # empty
    granted = threading.Event()

    def write() -> None:
        if bucket.writes.acquire(timeout=1000):
            granted.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    _wait_for(lambda: bucket.waiting_writes == 1)
    clock.now += 1.0  # one token has come
    assert bucket.reads.try_acquire() > 0  # without the write lane, the read would take it
    assert not bucket.reads.acquire(timeout=0)
    writer.join(timeout=5)  # the deferring read woke the write, which takes the token
    assert granted.is_set() and not writer.is_alive()
    assert bucket.waiting_writes == 0
    assert bucket.reads.try_acquire() == pytest.approx(1.0)  # the write had it
    clock.now += 1.0
    assert bucket.reads.try_acquire() == 0.0  # reads go on once no write waits


def test_a_write_is_served_before_reads_that_waited_longer() -> None:
    """Many polls blocked on an empty bucket; a mutating call arrives later and gets the next token."""
    bucket = TokenBucket(rate=20, burst=1)  # one token every 50 ms
    assert bucket.try_acquire() == 0.0
    order: list[str] = []
    lock = threading.Lock()

    def call(lane: TokenBucket, name: str) -> None:
        assert lane.acquire(timeout=30)
        with lock:
            order.append(name)

    readers = [
        threading.Thread(target=call, args=(bucket.reads, f"read-{i}"), daemon=True) for i in range(12)
    ]
    for thread in readers:
        thread.start()
    time.sleep(0.01)  # the reads are waiting (the first token is ~40 ms away)
    writers = []
    for i in range(3):  # three writes, each arriving while a dozen reads wait
        with lock:
            served_before = len(order)
        writer = threading.Thread(target=call, args=(bucket.writes, f"write-{i}"), daemon=True)
        writer.start()
        writer.join(timeout=5)
        writers.append(writer)
        with lock:
            position = order.index(f"write-{i}")
        # At most one read already past the bucket when the write arrived; then the write.
        assert position <= served_before + 1, order
    for thread in readers:
        thread.join(timeout=10)
    assert sorted(order) == sorted([f"read-{i}" for i in range(12)] + [f"write-{i}" for i in range(3)])


def test_a_write_waits_only_for_the_next_token_however_many_reads_wait() -> None:
    bucket = TokenBucket(rate=50, burst=1)  # one token every 20 ms
    assert bucket.try_acquire() == 0.0
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            bucket.reads.acquire(timeout=5)

    pollers = [threading.Thread(target=poll, daemon=True) for _ in range(16)]
    for thread in pollers:
        thread.start()
    try:
        time.sleep(0.1)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            assert bucket.writes.acquire(timeout=5)
            waits.append(time.monotonic() - started)
        # Fair sharing with 16 pollers would make a write wait ~17 tokens (~340 ms) on average.
        assert max(waits) < 0.15, waits
    finally:
        stop.set()
        for thread in pollers:
            thread.join(timeout=5)


def test_a_read_gives_up_when_writes_ahead_of_it_use_the_time_left() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    assert bucket.try_acquire() == 0.0

    def write() -> None:
        bucket.writes.acquire(timeout=1000)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    _wait_for(lambda: bucket.waiting_writes == 1)
    clock.now += 0.5
    # The write takes the token due in 0.5 s; the read's is 1.5 s away: not within 1 s.
    assert bucket.reads.try_acquire() == pytest.approx(1.5)
    assert not bucket.reads.acquire(timeout=1.0)
    clock.now += 0.5
    writer.join(timeout=5)
    assert not writer.is_alive()
