"""The work queue: one entry per key, one worker per key, the earlier due time wins, nothing is dropped."""

from __future__ import annotations

import threading

import pytest

from sagemaker_guardrails.loop.queue import ACTIVE, ROUTINE, URGENT, WorkQueue

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> WorkQueue:
    return WorkQueue(clock=clock)


def test_a_key_added_many_times_is_handed_out_once(queue: WorkQueue) -> None:
    for _ in range(5):
        queue.add("ml/a")
    assert queue.get(timeout=0) == "ml/a"
    assert queue.get(timeout=0) is None


def test_keys_come_out_in_due_order_and_not_before_they_are_due(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/late", after=30)
    queue.add("ml/soon", after=10)
    assert queue.get(timeout=0) is None
    clock.now += 10
    assert queue.get(timeout=0) == "ml/soon"
    assert queue.get(timeout=0) is None
    clock.now += 20
    assert queue.get(timeout=0) == "ml/late"


def test_the_earlier_due_time_wins(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/a", after=300)  # a settled poll
    queue.add("ml/a", after=0)  # a watch event: now
    assert queue.get(timeout=0) == "ml/a"
    queue.done("ml/a", after=300)
    queue.add("ml/a", after=600)  # a later request never pushes it back
    assert queue.due_in("ml/a") == pytest.approx(300)


def test_a_key_in_progress_is_not_handed_to_a_second_worker(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/a")
    assert queue.get(timeout=0) == "ml/a"
    queue.add("ml/a")  # an event while the pass runs
    assert queue.get(timeout=0) is None
    queue.done("ml/a", after=300)  # the pass asks for a settled poll...
    assert queue.due_in("ml/a") == pytest.approx(0)  # ...but the event meanwhile wins
    assert queue.get(timeout=0) == "ml/a"


def test_done_always_puts_the_key_back(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/a")
    assert queue.get(timeout=0) == "ml/a"
    queue.done("ml/a", after=5)
    assert "ml/a" in queue
    clock.now += 5
    assert queue.get(timeout=0) == "ml/a"


def test_forget_removes_a_waiting_key_and_a_key_in_progress_once_done(queue: WorkQueue) -> None:
    queue.add("ml/a")
    queue.add("ml/b")
    queue.forget("ml/a")
    assert queue.get(timeout=0) == "ml/b"
    queue.forget("ml/b")
    queue.done("ml/b", after=0)
    assert "ml/b" not in queue
    assert queue.get(timeout=0) is None


def test_an_add_after_forget_brings_a_key_in_progress_back(queue: WorkQueue) -> None:
    queue.add("ml/a")
    assert queue.get(timeout=0) == "ml/a"
    queue.forget("ml/a")  # deleted...
    queue.add("ml/a")  # ...and created again while the pass ran
    queue.done("ml/a", after=60)
    assert queue.get(timeout=0) == "ml/a"


def test_backoff_doubles_up_to_the_cap_and_resets_on_success(queue: WorkQueue) -> None:
    delays = [queue.backoff("ml/a", base=1, cap=15) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 15, 15, 15]
    assert queue.backoff("ml/b", base=1, cap=15) == 1  # per key
    queue.succeeded("ml/a")
    assert queue.backoff("ml/a", base=1, cap=15) == 1


def test_stats_count_due_keys_and_how_overdue_the_oldest_is(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/a")
    queue.add("ml/b", after=10)
    queue.add("ml/c", after=100)
    clock.now += 40
    stats = queue.stats()
    assert (stats.keys, stats.due, stats.processing) == (3, 2, 0)
    assert stats.oldest_overdue_seconds == pytest.approx(40)
    assert queue.get(timeout=0) == "ml/a"
    stats = queue.stats()
    assert (stats.keys, stats.due, stats.processing) == (3, 1, 1)
    assert stats.oldest_overdue_seconds == pytest.approx(30)


def test_a_waiting_worker_wakes_when_a_key_is_added_and_at_shutdown() -> None:
    queue = WorkQueue()
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(queue.get(timeout=10)))
    worker.start()
    queue.add("ml/a")
    worker.join(timeout=5)
    assert got == ["ml/a"]
    worker = threading.Thread(target=lambda: got.append(queue.get(timeout=10)))
    worker.start()
    queue.shutdown()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert got == ["ml/a", None]


def test_many_workers_never_hold_one_key_at_once() -> None:
    queue = WorkQueue()
    holding: set[str] = set()
    overlaps: list[str] = []
    lock = threading.Lock()
    passes = {"n": 0}

    def worker() -> None:
        while True:
            key = queue.get(timeout=0.5)
            if key is None:
                return
            with lock:
                if key in holding:
                    overlaps.append(key)
                holding.add(key)
                passes["n"] += 1
                again = passes["n"] < 400
            if again:
                for k in ("ml/a", "ml/b"):
                    queue.add(k)  # events keep arriving while passes run
            with lock:
                holding.discard(key)
            queue.done(key, after=0 if again else 3600)

    queue.add("ml/a")
    queue.add("ml/b")
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert passes["n"] >= 400
    assert overlaps == []


def test_among_due_keys_the_higher_priority_goes_first(queue: WorkQueue, clock: Clock) -> None:
    for index in range(100):  # a restart: every object listed, all due at once
        queue.add(f"ml/settled-{index:03}", priority=ROUTINE)
    queue.add("ml/deploying", priority=ACTIVE)
    clock.now += 1
    queue.add("ml/changed", priority=URGENT)  # a spec change a second later
    assert queue.get(timeout=0) == "ml/changed"
    assert queue.get(timeout=0) == "ml/deploying"
    assert queue.get(timeout=0) == "ml/settled-000"  # then the earlier due time within a priority


def test_a_key_not_yet_due_never_jumps_ahead_whatever_its_priority(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/routine", priority=ROUTINE)
    queue.add("ml/urgent-later", after=5, priority=URGENT)
    assert queue.get(timeout=0) == "ml/routine"
    assert queue.get(timeout=0) is None
    clock.now += 5
    assert queue.get(timeout=0) == "ml/urgent-later"


def test_a_waiting_key_keeps_its_highest_priority_until_a_worker_takes_it(queue: WorkQueue) -> None:
    queue.add("ml/a", after=300, priority=ROUTINE)
    queue.add("ml/a", after=600, priority=URGENT)  # later, but more urgent: the earlier time stays
    assert queue.priority_of("ml/a") == URGENT
    assert queue.due_in("ml/a") == pytest.approx(300)
    queue.add("ml/a", priority=ROUTINE)  # an earlier routine request keeps the priority
    assert queue.priority_of("ml/a") == URGENT
    assert queue.due_in("ml/a") == pytest.approx(0)
    assert queue.get(timeout=0) == "ml/a"
    queue.done("ml/a", after=300, priority=ROUTINE)  # done sets the priority of the next pass
    assert queue.priority_of("ml/a") == ROUTINE


def test_a_request_made_while_a_key_is_processed_keeps_its_priority(queue: WorkQueue, clock: Clock) -> None:
    queue.add("ml/a")
    queue.add("ml/b")
    assert queue.get(timeout=0) == "ml/a"
    queue.add("ml/a", priority=URGENT)  # a spec change while its pass runs
    queue.done("ml/a", after=300, priority=ROUTINE)
    assert queue.priority_of("ml/a") == URGENT
    assert queue.due_in("ml/a") == pytest.approx(0)
    assert queue.get(timeout=0) == "ml/a"  # ahead of ml/b, due earlier but routine


def test_an_idle_worker_sleeps_until_the_next_due_time() -> None:
    queue = WorkQueue()
    queue.add("ml/a", after=0.3)
    taken: list[str | None] = []
    worker = threading.Thread(target=lambda: taken.append(queue.get()))
    worker.start()
    worker.join(timeout=0.1)
    assert worker.is_alive() and taken == []  # asleep, not spinning on a timeout
    worker.join(timeout=5)
    assert taken == ["ml/a"]
    blocked = threading.Thread(target=lambda: taken.append(queue.get()))
    blocked.start()
    queue.shutdown()  # the only other way out of a get without a timeout
    blocked.join(timeout=5)
    assert not blocked.is_alive() and taken == ["ml/a", None]


def test_a_due_time_wakes_one_idle_worker_not_all_of_them() -> None:
    """Ten idle workers, twenty keys due one after another: each key is taken once, on time, and the
    threads look at the clock a few times per key (a thundering herd would be ten or more)."""
    import time

    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        return time.monotonic()

    queue = WorkQueue(clock=clock)
    taken: list[tuple[str, float]] = []

    def worker() -> None:
        while (key := queue.get()) is not None:
            taken.append((key, time.monotonic()))
            queue.done(key, after=3600)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # all ten idle
    start = time.monotonic()
    for index in range(20):
        queue.add(f"ml/k{index:02}", after=0.05 * (index + 1))
    before = calls
    time.sleep(0.05 * 20 + 0.5)
    during = calls - before
    queue.shutdown()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(key for key, _ in taken) == [f"ml/k{i:02}" for i in range(20)]
    for key, when in taken:
        due = start + 0.05 * (int(key[-2:]) + 1)
        assert when >= due - 0.01, key
        assert when - due < 0.25, f"{key} taken {when - due:.3f} s late"
    assert during < 6 * 20, f"{during} clock reads for 20 keys"
