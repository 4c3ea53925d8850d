"""Which passes the loop puts first: work someone asked for, then deployments in flight, then polls."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_guardrails.api.status import stored_retry_token
from sagemaker_guardrails.loop.controller import FINALIZER, RETRY_ANNOTATION, priority_of
from sagemaker_guardrails.loop.queue import ACTIVE, ROUTINE, URGENT

pytestmark = pytest.mark.unit


def body(
    *,
    generation: int = 3,
    observed: int | None = 3,
    phase: str | None = "InService",
    finalizers: tuple[str, ...] = (FINALIZER,),
    deleting: bool = False,
    retry: str | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": "ml",
        "name": "a",
        "uid": "u-1",
        "generation": generation,
        "finalizers": list(finalizers),
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-12-03T10:00:00Z"
    if retry is not None:
        meta["annotations"] = {RETRY_ANNOTATION: retry}
    stored: dict[str, Any] = {"phase": phase, **(status or {})}
    if observed is not None:
        stored["observedGeneration"] = observed
    return {"metadata": meta, "spec": {}, "status": stored}


ROLLED_BACK = {"lastRollback": {"revision": "r1", "retryToken": "1"}}


@pytest.mark.parametrize(
    ("case", "obj", "expected"),
    [
        ("settled and handled", body(), ROUTINE),
        (
            "settled, stalled on a rollback, retry value unchanged",
            body(retry="1", status=ROLLED_BACK),
            ROUTINE,
        ),
        ("a deployment baking", body(phase="Baking"), ACTIVE),
        ("being created", body(phase="Creating"), ACTIVE),
        ("a new object: no status at all", {"metadata": {"generation": 1}, "spec": {}}, URGENT),
        ("a generation not observed yet", body(generation=4), URGENT),
        (
            "a recorded intent",
            body(phase="Deploying", status={"pending": {"action": "UpdateEndpoint"}}),
            URGENT,
        ),
        ("a retry value newer than the rollback", body(retry="2", status=ROLLED_BACK), URGENT),
        ("being deleted", body(deleting=True), URGENT),
        ("not finalized by us yet", body(finalizers=()), URGENT),
    ],
)
def test_an_object_seen_for_the_first_time_is_placed_by_what_its_status_still_owes(
    case: str, obj: dict[str, Any], expected: int
) -> None:
    assert priority_of(None, obj) == expected, case


def test_a_long_retry_value_is_compared_as_the_status_stores_it() -> None:
    long = "x" * 1000
    rolled = {"lastRollback": {"revision": "r1", "retryToken": stored_retry_token(long)}}
    assert priority_of(None, body(retry=long, status=rolled)) == ROUTINE
    assert priority_of(None, body(retry=long + "y", status=rolled)) == URGENT


@pytest.mark.parametrize(
    ("case", "change", "expected"),
    [
        (
            "our own status write",
            {"status": {"phase": "InService", "observedGeneration": 3, "x": 1}},
            ROUTINE,
        ),
        ("a spec change", {"metadata_generation": 4}, URGENT),
        ("a retry annotation", {"retry": "7"}, URGENT),
    ],
)
def test_a_change_the_watch_sees_is_urgent_and_our_own_write_is_not(
    case: str, change: dict[str, Any], expected: int
) -> None:
    old = body()
    new = body(
        generation=change.get("metadata_generation", 3),
        retry=change.get("retry"),
        status=change.get("status"),
    )
    assert priority_of(old, new) == expected, case
