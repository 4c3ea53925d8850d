"""handlers.py without an API server: status patches, polling schedule, locking, error mapping.

The reconciler is replaced by a scripted pass function handed in through ``Runtime`` (the same
seam the composition root uses); kopf's own Body and Patch objects are real. Outcomes here carry
no Events, which need a running kopf (see tests/component/test_handlers_*.py and e2e).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import kopf
import pytest

from sagemaker_guardrails import errors
from sagemaker_guardrails.handlers import (
    FINALIZER,
    ProgressStorage,
    Runtime,
    build_registry,
    kopf_settings,
    merge_patch,
    next_delay,
    on_change,
    on_delete,
    on_timer,
    timer_tick,
)
from sagemaker_guardrails.metrics import PREFIX, Metrics
from sagemaker_guardrails.reconciler import Deps, Outcome, Resource, Transition
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit

LOG = logging.getLogger("test")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A pass function that returns queued outcomes and records what it was given."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.seen: list[Resource] = []
        self.during: Callable[[], None] | None = None

    def __call__(self, resource: Resource, deps: Deps, now: datetime) -> Outcome:
        self.seen.append(resource)
        if self.during is not None:
            self.during()
        return self.outcomes.pop(0)


def make_runtime(reconcile: Script, finalize: Script | None = None, **settings: Any) -> tuple[Runtime, Clock]:
    clock = Clock()
    s = Settings(default_region="us-east-1", **settings)
    runtime = Runtime(
        settings=s,
        deps=Deps(settings=s, clients=lambda region: pytest.fail("no AWS in this test")),
        metrics=Metrics(),
        reconcile=reconcile,
        finalize=finalize or Script(),
        clock=clock,
        rng=random.Random(7),
    )
    return runtime, clock


def body(status: dict[str, Any] | None = None, **meta: Any) -> kopf.Body:
    raw: dict[str, Any] = {
        "apiVersion": "sagemaker-guardrails.dev/v1alpha1",
        "kind": "GuardedEndpoint",
        "metadata": {"name": "fraud", "namespace": "ml", "uid": "u-1", "generation": 3, **meta},
        "spec": {"endpointName": "fraud"},
    }
    if status is not None:
        raw["status"] = status
    return kopf.Body(raw)


def sample(runtime: Runtime, name: str, **labels: str) -> float:
    return runtime.metrics.registry.get_sample_value(PREFIX + name, labels) or 0.0


# -- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        ({}, {}, {}),
        ({"a": 1}, {"a": 1}, {}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),
        ({"e": {"x": 1, "y": 2}}, {"e": {"x": 1}}, {"e": {"y": None}}),
        ({"e": {"x": 1}}, {"e": {"x": 1, "z": None}}, {"e": {"z": None}}),
        ({"c": [1, 2]}, {"c": [2]}, {"c": [2]}),
        ({"e": "scalar"}, {"e": {"x": 1}}, {"e": {"x": 1}}),
    ],
)
def test_merge_patch(old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]) -> None:
    assert merge_patch(old, new) == patch


def test_next_delay_takes_the_reconcilers_requeue_as_is() -> None:
    s = Settings()
    assert next_delay(42.0, None, s, random.Random(1)) == 42.0
    assert next_delay(-1.0, None, s, random.Random(1)) == 0.0


def test_next_delay_asks_for_a_busy_poll_half_a_tick_early() -> None:
    s = Settings(active_poll_seconds=15)
    tick = timer_tick(s)
    assert next_delay(15.0, None, s, random.Random(1)) == 15.0 - tick / 2
    assert next_delay(12.5, None, s, random.Random(1)) == 12.5 - tick / 2
    assert next_delay(0.5, None, s, random.Random(1)) == 0.0


def test_a_busy_poll_is_due_within_one_active_interval_of_the_last_pass() -> None:
    script = Script(Outcome(status={}, requeue_after=15), Outcome(status={}, requeue_after=15))
    runtime, clock = make_runtime(script, active_poll_seconds=15)
    on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    tick = timer_tick(runtime.settings)
    clock.now += 15 - tick - 0.01  # the last tick that is still too early ...
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 1
    clock.now += tick  # ... so the next one, still within 15 s of the first pass, runs it
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 2


def test_next_delay_jitters_retries_down_and_settled_both_ways() -> None:
    s = Settings(active_poll_seconds=15, settled_poll_seconds=300, poll_jitter=0.2)
    rng = random.Random(3)
    retries = [next_delay(None, 15.0, s, rng) for _ in range(500)]
    settled = [next_delay(None, None, s, rng) for _ in range(2000)]
    assert all(12.0 <= d <= 15.0 for d in retries)
    assert all(240.0 <= d <= 360.0 for d in settled)
    assert min(settled) < 260 and max(settled) > 340
    assert abs(sum(settled) / len(settled) - 300) < 5


@pytest.mark.parametrize(("active", "tick"), [(15, 3.0), (60, 5.0), (2, 0.5), (0.1, 0.5)])
def test_timer_tick(active: float, tick: float) -> None:
    assert timer_tick(Settings(active_poll_seconds=active)) == tick


def test_progress_storage_keeps_the_retry_annotation_visible() -> None:
    storage = ProgressStorage(prefix="sagemaker-guardrails.dev")
    essence = {
        "spec": {"a": 1},
        "metadata": {
            "annotations": {
                "sagemaker-guardrails.dev/retry": "2",
                "sagemaker-guardrails.dev/on-update": '{"retries": 1}',
                "team": "fraud",
            }
        },
    }
    cleared = storage.clear(essence=essence)
    assert cleared["metadata"]["annotations"] == {"sagemaker-guardrails.dev/retry": "2", "team": "fraud"}
    plain = kopf.AnnotationsProgressStorage(prefix="sagemaker-guardrails.dev").clear(essence=essence)
    assert "sagemaker-guardrails.dev/retry" not in plain["metadata"]["annotations"]  # why we subclass


def test_kopf_settings() -> None:
    config = kopf_settings(Settings(max_workers=7))
    assert config.persistence.finalizer == FINALIZER == "sagemaker-guardrails.dev/finalizer"
    assert isinstance(config.persistence.progress_storage, ProgressStorage)
    assert config.persistence.progress_storage.prefix == "sagemaker-guardrails.dev"
    assert isinstance(config.persistence.diffbase_storage, kopf.AnnotationsDiffBaseStorage)
    assert config.persistence.diffbase_storage.prefix == "sagemaker-guardrails.dev"
    assert config.execution.max_workers == 7


def test_registry_has_every_handler() -> None:
    registry = build_registry(Settings(active_poll_seconds=10))
    changing = {h.id for h in registry._changing.get_all_handlers()}
    spawning = {h.id: h for h in registry._spawning.get_all_handlers()}
    assert {i.split("/")[0] for i in changing} == {
        "on-resume",
        "on-create",
        "on-update",
        "on-retry-annotation",
        "on-delete",
    }
    assert "on-update/spec" in changing  # kopf appends the watched field
    assert "on-retry-annotation/metadata.annotations.sagemaker-guardrails.dev/retry" in changing
    assert set(spawning) == {"poll"}
    assert spawning["poll"].interval == 2.0
    assert build_registry(Settings()) is not build_registry(Settings())


# -- passes ----------------------------------------------------------------------------------------


def test_a_pass_replaces_the_whole_status() -> None:
    script = Script(Outcome(status={"phase": "InService", "endpoint": {"arn": "a"}}, requeue_after=300))
    runtime, _ = make_runtime(script)
    patch = kopf.Patch()
    old = {
        "phase": "Deploying",
        "endpoint": {"arn": "a", "failureReason": "x"},
        "deployment": {"step": 1},
        "kopf": {"progress": {}},
    }
    on_change(body=body(old), patch=patch, memo=runtime, logger=LOG)
    assert dict(patch) == {
        "status": {"phase": "InService", "endpoint": {"failureReason": None}, "deployment": None}
    }
    assert script.seen[0].status == {k: v for k, v in old.items() if k != "kopf"}
    assert script.seen[0].uid == "u-1" and script.seen[0].generation == 3 and not script.seen[0].deleting


def test_unchanged_status_makes_no_patch() -> None:
    status = {"phase": "InService"}
    runtime, _ = make_runtime(Script(Outcome(status=dict(status))))
    patch = kopf.Patch()
    on_change(body=body(status), patch=patch, memo=runtime, logger=LOG)
    assert not patch


def test_the_next_pass_sees_what_this_process_wrote_even_from_a_stale_body() -> None:
    script = Script(
        Outcome(status={"pending": {"operation": "UpdateEndpoint"}}, requeue_after=0),
        Outcome(status={"pending": {"operation": "UpdateEndpoint"}}, requeue_after=15),
    )
    runtime, _ = make_runtime(script)
    on_change(body=body({}), patch=kopf.Patch(), memo=runtime, logger=LOG)
    on_timer(body=body({}), patch=kopf.Patch(), memo=runtime, logger=LOG)  # watch has not caught up
    assert script.seen[1].status == {"pending": {"operation": "UpdateEndpoint"}}


def test_timer_skips_until_due() -> None:
    script = Script(Outcome(status={}, requeue_after=60), Outcome(status={}, requeue_after=60))
    runtime, clock = make_runtime(script)
    on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    tick = timer_tick(runtime.settings)
    clock.now += 60 - tick  # not due yet (more than half a tick early)
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 1
    clock.now += tick
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 2


def test_a_new_object_is_due_on_the_first_tick() -> None:
    script = Script(Outcome(status={"phase": "Pending"}))
    runtime, _ = make_runtime(script)
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 1


def test_timer_skips_while_another_pass_holds_the_object() -> None:
    script = Script(Outcome(status={}, requeue_after=0), Outcome(status={}, requeue_after=0))
    runtime, _ = make_runtime(script)
    timer_ran = threading.Event()

    def tick_meanwhile() -> None:
        t = threading.Thread(
            target=on_timer, kwargs={"body": body(), "patch": kopf.Patch(), "memo": runtime, "logger": LOG}
        )
        t.start()
        t.join(5)
        timer_ran.set()

    script.during = tick_meanwhile
    on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert timer_ran.is_set()
    assert len(script.seen) == 1  # the tick found the lock taken and did nothing
    script.during = None
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert len(script.seen) == 2


@pytest.mark.parametrize(
    ("error", "delay"),
    [
        (errors.Throttled("Rate exceeded", retry_after=None), 15.0),
        (errors.Retryable("503", retry_after=4.0), 4.0),
        (errors.Busy("Cannot update in-progress endpoint"), 15.0),
        (errors.AccessDenied("no"), 300.0),
    ],
)
def test_transient_errors_become_temporary_errors(error: errors.OperatorError, delay: float) -> None:
    runtime, _ = make_runtime(Script(Outcome(status={"phase": "Deploying"}, error=error, result="requeued")))
    patch = kopf.Patch()
    with pytest.raises(kopf.TemporaryError) as info:
        on_change(body=body(), patch=patch, memo=runtime, logger=LOG)
    assert info.value.delay == delay
    assert patch.status["phase"] == "Deploying"  # written even though the pass failed


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidSpec("bad", field="spec.variants"),
        errors.InvalidRequest("no"),
        errors.Terminal("Failed"),
    ],
)
def test_terminal_errors_do_not_retry(error: errors.OperatorError) -> None:
    runtime, _ = make_runtime(Script(Outcome(status={"phase": "Stalled"}, error=error, result="stalled")))
    patch = kopf.Patch()
    on_change(body=body(), patch=patch, memo=runtime, logger=LOG)
    assert patch.status["phase"] == "Stalled"
    assert sample(runtime, "reconciles_total", outcome="stalled") == 1


def test_timer_never_raises_for_transient_errors_but_reschedules() -> None:
    script = Script(Outcome(status={}, error=errors.Throttled("Rate exceeded"), result="requeued"))
    runtime, clock = make_runtime(script)
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    due = runtime.state("u-1").due_at
    assert clock.now + 12 <= due <= clock.now + 15


def test_metrics_from_transitions_and_phase() -> None:
    outcome = Outcome(
        status={"phase": "RolledBack"},
        transitions=(
            Transition(kind="DeploymentStarted", strategy="Canary"),
            Transition(
                kind="DeploymentFinished", strategy="Canary", outcome="RolledBack", duration_seconds=120
            ),
        ),
    )
    runtime, _ = make_runtime(Script(outcome))
    on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert sample(runtime, "deployments_total", strategy="Canary", outcome="Started") == 1
    assert sample(runtime, "rollbacks_total", strategy="Canary") == 1
    assert sample(runtime, "resources", phase="RolledBack") == 1
    assert sample(runtime, "reconciles_total", outcome="ok") == 1


def test_a_crashing_reconciler_is_counted_and_propagates() -> None:
    def broken(resource: Resource, deps: Deps, now: datetime) -> Outcome:
        raise RuntimeError("bug")

    runtime, _ = make_runtime(Script())
    runtime.reconcile = broken
    with pytest.raises(RuntimeError):
        on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert sample(runtime, "reconciles_total", outcome="error") == 1
    runtime.state("u-1").lock.acquire(blocking=False)  # the lock was released


def test_delete_keeps_the_finalizer_until_finished() -> None:
    finalize = Script(
        Outcome(status={"phase": "Deleting"}, finished=False, requeue_after=15),
        Outcome(status={"phase": "Deleting"}, finished=True),
    )
    runtime, _ = make_runtime(Script(Outcome(status={"phase": "InService"})), finalize)
    on_change(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    deleting = body(deletionTimestamp="2026-01-01T00:00:00Z")
    with pytest.raises(kopf.TemporaryError) as info:
        on_delete(body=deleting, patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert info.value.delay == 15
    assert finalize.seen[0].deleting
    on_delete(body=deleting, patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert "u-1" not in runtime._objects
    assert sample(runtime, "resources", phase="Deleting") == 0


def test_delete_retries_slowly_after_a_terminal_error() -> None:
    finalize = Script(Outcome(status={}, finished=False, error=errors.Terminal("no"), result="stalled"))
    runtime, _ = make_runtime(Script(), finalize)
    with pytest.raises(kopf.TemporaryError) as info:
        on_delete(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    assert info.value.delay == 300


def test_a_pass_in_flight_when_the_object_is_forgotten_publishes_no_phase() -> None:
    script = Script(Outcome(status={"phase": "InService"}))
    runtime, _ = make_runtime(script)
    forgetting = threading.Thread(target=runtime.forget, args=("u-1",))

    def delete_meanwhile() -> None:
        forgetting.start()
        forgetting.join(timeout=1)  # forget waits for the pass's lock; without that it would finish here

    script.during = delete_meanwhile
    on_timer(body=body(), patch=kopf.Patch(), memo=runtime, logger=LOG)
    forgetting.join()
    assert sample(runtime, "resources", phase="InService") == 0
