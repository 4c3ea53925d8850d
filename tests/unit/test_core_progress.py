"""core.progress: the policy's timeline, and stage / step / estimated traffic / bake end from VariantStatus."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests import corekit
from tests.corekit import at, endpoint, variant

from sagemaker_guardrails.api.spec import CapacitySize, CapacitySizeType, GuardedEndpointSpec
from sagemaker_guardrails.core.observed import EndpointSnapshot
from sagemaker_guardrails.core.progress import Progress, progress, size_in_instances, timeline

pytestmark = pytest.mark.unit

PERCENT = CapacitySizeType.CAPACITY_PERCENT
COUNT = CapacitySizeType.INSTANCE_COUNT


@pytest.mark.parametrize(
    ("kind", "value", "instances", "expected"),
    [
        (PERCENT, 25, 4, 1),
        (PERCENT, 33, 3, 1),
        (PERCENT, 50, 1, 1),
        (PERCENT, 10, 5, 1),
        (PERCENT, 30, 10, 3),
        (COUNT, 2, 4, 2),
        (COUNT, 9, 4, 4),
    ],
)
def test_size_in_instances(kind: CapacitySizeType, value: int, instances: int, expected: int) -> None:
    assert size_in_instances(CapacitySize(type=kind, value=value), instances) == expected


def _policy(strategy: str, size: int = 25, wait: int = 60, termination: int = 30) -> GuardedEndpointSpec:
    raw = corekit.spec(deployment=corekit.policy(strategy, size=size, wait=wait, termination=termination))
    return GuardedEndpointSpec.model_validate(raw)


@pytest.mark.parametrize(
    ("strategy", "size", "instances", "shape"),
    [
        ("AllAtOnce", 25, 4, (1, 4, 30)),
        ("Canary", 25, 4, (2, 1, 30)),
        ("Canary", 50, 10, (2, 5, 30)),
        ("Linear", 25, 4, (4, 1, 30)),
        ("Linear", 30, 10, (4, 3, 30)),
        ("Linear", 50, 4, (2, 2, 30)),
        ("Rolling", 25, 4, (4, 1, 60)),
        ("Rolling", 50, 8, (2, 4, 60)),
        ("Rolling", 5, 3, (3, 1, 60)),
        ("Linear", 20, None, (5, None, 30)),
        ("Canary", 25, None, (2, None, 30)),
    ],
)
def test_timeline(
    strategy: str, size: int, instances: int | None, shape: tuple[int, int | None, int]
) -> None:
    steps, step_size, final_wait = shape
    line = timeline(_policy(strategy, size).deployment, instances)
    assert (line.strategy, line.steps, line.step_size) == (strategy, steps, step_size)
    assert (line.wait_seconds, line.final_wait_seconds) == (60, final_wait)


def green(*statuses: tuple[str, str | None, datetime | None], current: int | None = 0) -> EndpointSnapshot:
    return endpoint(
        "Updating",
        "fraud-detector-old",
        target="fraud-detector-new",
        green=variant(current=current, statuses=statuses),
    )


BAKE_CANARY = (
    "Baking for 60 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s)."
)
BAKE_FULL = (
    "Baking for 30 seconds (TerminationWaitInSeconds) with traffic enabled on full capacity of 4 instance(s)."
)


@pytest.mark.parametrize(
    ("strategy", "snapshot", "expected"),
    [
        (
            "Canary",
            green(("Creating", "Launching 4 instance(s).", at(0))),
            Progress("Provisioning", 0, 2, 0, None, "Launching 4 instance(s)."),
        ),
        (
            "Canary",
            green(("ActivatingTraffic", "Activating traffic on canary capacity of 1 instance(s).", at(5))),
            Progress(
                "ActivatingTraffic", 1, 2, 25, None, "Activating traffic on canary capacity of 1 instance(s)."
            ),
        ),
        (
            "Canary",
            green(("Baking", BAKE_CANARY, at(10)), current=1),
            Progress("Baking", 1, 2, 25, at(70), BAKE_CANARY),
        ),
        (
            "Canary",
            green(("Baking", BAKE_FULL, at(100)), current=4),
            Progress("Baking", 2, 2, 100, at(130), BAKE_FULL),
        ),
        ("Canary", green(("Baking", None, at(10)), current=1), Progress("Baking", 1, 2, 25, at(70), None)),
        ("Canary", green(("Baking", None, at(10)), current=4), Progress("Baking", 2, 2, 100, at(40), None)),
        ("Linear", green(("Baking", None, at(10)), current=3), Progress("Baking", 3, 4, 75, at(70), None)),
        ("Linear", green(("Baking", None, at(10)), current=4), Progress("Baking", 4, 4, 100, at(40), None)),
        (
            "AllAtOnce",
            green(("ActivatingTraffic", None, at(10)), current=4),
            Progress("ActivatingTraffic", 1, 1, 100, None, None),
        ),
        (
            "AllAtOnce",
            green(("Baking", None, at(10)), current=4),
            Progress("Baking", 1, 1, 100, at(40), None),
        ),
        (
            "Rolling",
            green(("Creating", "Launching 1 instance(s).", at(10)), current=1),
            Progress("Provisioning", 2, 4, 25, None, "Launching 1 instance(s)."),
        ),
        (
            "Rolling",
            green(("Creating", None, at(0)), current=0),
            Progress("Provisioning", 1, 4, 0, None, None),
        ),
        ("Rolling", green(("Baking", None, at(10)), current=2), Progress("Baking", 2, 4, 50, at(70), None)),
        (
            "Canary",
            green(
                ("Creating", "Launching 4 instance(s).", at(0)),
                ("Baking", BAKE_CANARY, at(10)),
                current=1,
            ),
            Progress("Baking", 1, 2, 25, at(70), BAKE_CANARY),
        ),
    ],
    ids=[
        "canary-provisioning",
        "canary-activating-from-message",
        "canary-bake-from-message",
        "canary-final-bake-from-message",
        "canary-bake-w-from-count",
        "canary-final-bake-t-from-count",
        "linear-step-3-of-4",
        "linear-final-bake",
        "all-at-once-activating",
        "all-at-once-bake-t",
        "rolling-second-batch-provisioning",
        "rolling-first-batch-provisioning",
        "rolling-second-batch-baking",
        "latest-entry-wins",
    ],
)
def test_progress(strategy: str, snapshot: EndpointSnapshot, expected: Progress) -> None:
    assert progress(_policy(strategy).deployment, snapshot, creating=False, instances=4) == expected


def test_terminating_blue_fleet_means_all_traffic_on_green() -> None:
    snapshot = endpoint(
        "Updating",
        "fraud-detector-old",
        target="fraud-detector-new",
        green=variant(current=4),
        blue=variant(statuses=(("Deleting", "Terminating 4 instance(s).", at(50)),)),
    )
    assert progress(_policy("Linear").deployment, snapshot, creating=False, instances=4) == Progress(
        "Terminating", 4, 4, 100, None, "Terminating 4 instance(s)."
    )


def test_create_is_one_step_without_traffic() -> None:
    snapshot = endpoint("Creating", "fraud-detector-new", target="fraud-detector-new")
    assert progress(_policy("Canary").deployment, snapshot, creating=True, instances=4) == Progress(
        "Creating", 0, 1, 0, None, None
    )


def test_serverless_or_unknown_counts_give_no_traffic_estimate() -> None:
    snapshot = endpoint(
        "Updating",
        "old",
        target="new",
        green=variant(current=None, desired_count=None, statuses=(("Baking", None, at(0)),)),
    )
    result = progress(_policy("Canary").deployment, snapshot, creating=False, instances=None)
    assert (result.stage, result.step, result.traffic_percent) == ("Baking", 1, None)


def test_desired_instance_count_from_sagemaker_wins_over_the_spec() -> None:
    snapshot = endpoint(
        "Updating",
        "old",
        target="new",
        green=variant(current=2, desired_count=8, statuses=(("Baking", None, at(0)),)),
    )
    result = progress(_policy("Linear").deployment, snapshot, creating=False, instances=4)
    assert (result.step, result.steps, result.traffic_percent) == (1, 4, 25)


@pytest.mark.parametrize(
    ("strategy", "snapshot", "expected"),
    [
        (
            "Canary",
            green(("Deleting", "Terminating 4 instance(s).", at(90)), current=4),
            Progress("RollingBack", 0, 2, 0, None, "Terminating 4 instance(s)."),
        ),
        (
            "Linear",
            endpoint("RollingBack", "old", target="new", green=variant(current=2)),
            Progress("RollingBack", 0, 4, 0, None, None),
        ),
        (
            "Rolling",
            endpoint(
                "Updating",
                "old",
                target="new",
                green=variant(current=2),
                blue=variant(current=3, statuses=(("Creating", "Launching 1 instance(s).", at(5)),)),
            ),
            Progress("RollingBack", 0, 4, None, None, "Launching 1 instance(s)."),
        ),
        (
            "Rolling",
            endpoint(
                "Updating",
                "old",
                target="new",
                green=variant(current=2),
                blue=variant(current=2, statuses=(("Deleting", "Terminating 1 instance(s).", at(5)),)),
            ),
            Progress("Terminating", 2, 4, 50, None, "Terminating 1 instance(s)."),
        ),
    ],
    ids=[
        "blue-green-new-fleet-torn-down",
        "rolling-back-status",
        "rolling-relaunch-old",
        "rolling-retire-old-batch",
    ],
)
def test_rollback_and_rolling_termination_stages(
    strategy: str, snapshot: EndpointSnapshot, expected: Progress
) -> None:
    assert progress(_policy(strategy).deployment, snapshot, creating=False, instances=4) == expected
