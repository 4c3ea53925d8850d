"""core.resolve: what became of a write-ahead intent, for every crash point (see the module docstring)."""

from __future__ import annotations

import pytest
from tests.corekit import T0, at, endpoint

from sagemaker_guardrails.api.status import EndpointInfo, PendingCall
from sagemaker_guardrails.core.observed import EndpointSnapshot
from sagemaker_guardrails.core.resolve import CREATE, UPDATE, Fate, iso, resolve

pytestmark = pytest.mark.unit

OLD, NEW, THIRD = "fraud-detector-0ld0ld00", "fraud-detector-11111111", "fraud-detector-22222222"
OLD_REASON = "alarm fraud-5xx in ALARM (an earlier deployment)"


def intent(operation: str = UPDATE, *, issued: bool = False, source: str | None = None) -> PendingCall:
    """An intent to deploy NEW; ``source`` is the config that served when it was called."""
    return PendingCall(
        operation=operation,
        revision="11111111",
        config_name=NEW,
        recorded_at=iso(at(10)) or "",
        issued_at=iso(at(11)) if issued else None,
        from_config=source,
    )


def before(failure: str | None = None, status: str = "InService", config: str = OLD) -> EndpointInfo:
    """The observation stored with the intent (pre-call): InService on OLD, modified at T0."""
    return EndpointInfo(
        name="fraud-detector",
        status=status,
        config_name=config,
        failure_reason=failure,
        last_modified=iso(T0),
    )


CASES: list[tuple[str, PendingCall | None, EndpointSnapshot | None, EndpointInfo | None, Fate | None]] = [
    ("no-intent-nothing-running", None, endpoint("InService", OLD), before(), None),
    (
        "no-intent-but-desired-deploying",
        None,
        endpoint("Updating", OLD, target=NEW),
        before(),
        Fate.IN_FLIGHT,
    ),
    ("no-intent-foreign-update", None, endpoint("Updating", OLD, target=THIRD), before(), None),
    # create
    ("create-recorded-not-called", intent(CREATE), None, None, Fate.NOT_ISSUED),
    ("create-called-crashed", intent(CREATE), endpoint("Creating", NEW, target=NEW), None, Fate.IN_FLIGHT),
    ("create-called-done", intent(CREATE), endpoint("InService", NEW), None, Fate.SUCCEEDED),
    (
        "create-called-failed",
        intent(CREATE, issued=True),
        endpoint("Failed", NEW, failure="bad image"),
        None,
        Fate.FAILED,
    ),
    ("create-issued-endpoint-vanished", intent(CREATE, issued=True), None, None, Fate.LOST),
    ("create-but-someone-else-created-it", intent(CREATE), endpoint("InService", THIRD), None, Fate.DROPPED),
    # update: recorded, never called
    ("update-recorded-not-called", intent(), endpoint("InService", OLD), before(), Fate.NOT_ISSUED),
    (
        "update-not-called-old-reason-unchanged",
        intent(),
        endpoint("InService", OLD, failure=OLD_REASON),
        before(OLD_REASON),
        Fate.NOT_ISSUED,
    ),
    (
        "update-not-called-endpoint-busy-otherwise",
        intent(),
        endpoint("SystemUpdating", OLD),
        before(),
        Fate.NOT_ISSUED,
    ),
    ("update-not-called-endpoint-gone", intent(), None, before(), Fate.DROPPED),
    # update: called, crash before issuedAt was written
    (
        "update-called-in-flight",
        intent(),
        endpoint("Updating", OLD, target=NEW, modified=at(12)),
        before(),
        Fate.IN_FLIGHT,
    ),
    (
        "update-called-succeeded",
        intent(),
        endpoint("InService", NEW, modified=at(90)),
        before(),
        Fate.SUCCEEDED,
    ),
    (
        "update-called-rolled-back",
        intent(),
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(90)),
        before(),
        Fate.ROLLED_BACK,
    ),
    (
        "update-called-rolled-back-same-reason-as-before",
        intent(),
        endpoint("InService", OLD, failure=OLD_REASON, modified=at(90)),
        before(OLD_REASON),
        Fate.ROLLED_BACK,
    ),
    (
        "update-called-rollback-failed",
        intent(),
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed", modified=at(90)),
        before(),
        Fate.FAILED,
    ),
    # update: issued and recorded
    (
        "update-issued-in-flight",
        intent(issued=True),
        endpoint("Updating", OLD, target=NEW),
        before(),
        Fate.IN_FLIGHT,
    ),
    ("update-issued-succeeded", intent(issued=True), endpoint("InService", NEW), before(), Fate.SUCCEEDED),
    (
        "update-issued-rolled-back",
        intent(issued=True),
        endpoint("InService", OLD, failure="alarm", modified=at(90)),
        before(),
        Fate.ROLLED_BACK,
    ),
    (
        "update-issued-ended-elsewhere",
        intent(issued=True),
        endpoint("InService", THIRD, modified=at(90)),
        before(),
        Fate.SUPERSEDED,
    ),
    ("update-issued-endpoint-gone", intent(issued=True), None, before(), Fate.LOST),
    (
        "update-issued-rollback-failed",
        intent(issued=True),
        endpoint("UpdateRollbackFailed", OLD, failure="x"),
        before(),
        Fate.FAILED,
    ),
    (
        "update-issued-endpoint-failed",
        intent(issued=True),
        endpoint("Failed", OLD, failure="x"),
        before(),
        Fate.FAILED,
    ),
    # Rollbacks without a FailureReason (health check, capacity: spec 13) and stale reasons.
    (
        "update-issued-rolled-back-without-reason",
        intent(issued=True, source=OLD),
        endpoint("InService", OLD, modified=at(90)),
        before(status="Updating"),
        Fate.ROLLED_BACK,
    ),
    (
        "update-issued-rolled-back-without-reason-seen-updating-last",
        intent(issued=True, source=OLD),
        endpoint("InService", OLD),
        before(status="Updating"),
        Fate.ROLLED_BACK,
    ),
    (
        "update-issued-rolled-back-without-reason-record-without-source",
        intent(issued=True),
        endpoint("InService", OLD, modified=at(90)),
        before(),
        Fate.ROLLED_BACK,
    ),
    (
        "update-issued-rolled-back-keeping-an-earlier-reason",
        intent(issued=True, source=OLD),
        endpoint("InService", OLD, failure=OLD_REASON, modified=at(90)),
        before(OLD_REASON, status="Updating"),
        Fate.ROLLED_BACK,
    ),
    (
        "update-issued-not-visible-yet",
        intent(issued=True, source=OLD),
        endpoint("InService", OLD),
        before(),
        Fate.IN_FLIGHT,
    ),
    (
        "update-issued-not-visible-yet-with-an-earlier-reason",
        intent(issued=True, source=OLD),
        endpoint("InService", OLD, failure=OLD_REASON),
        before(OLD_REASON),
        Fate.IN_FLIGHT,
    ),
    (
        "update-issued-updating-without-summary-yet",
        intent(issued=True, source=OLD),
        endpoint("Updating", OLD, modified=at(12), failure=OLD_REASON),
        before(OLD_REASON),
        Fate.IN_FLIGHT,
    ),
    (
        "update-issued-third-config-with-an-earlier-reason",
        intent(issued=True, source=OLD),
        endpoint("InService", THIRD, failure=OLD_REASON, modified=at(90)),
        before(OLD_REASON, status="Updating"),
        Fate.SUPERSEDED,
    ),
    (
        "update-called-rolled-back-without-reason-before-issued-at-was-written",
        intent(source=OLD),
        endpoint("InService", OLD, modified=at(90)),
        before(),
        Fate.ROLLED_BACK,
    ),
    (
        "update-not-called-maintenance-meanwhile",
        intent(source=OLD),
        endpoint("InService", OLD, modified=at(90)),
        before(status="SystemUpdating"),
        Fate.NOT_ISSUED,
    ),
    (
        "update-not-called-third-config-with-a-reason",
        intent(source=OLD),
        endpoint("InService", THIRD, failure="someone else's rollback", modified=at(90)),
        before(),
        Fate.NOT_ISSUED,
    ),
    # Recovery from UpdateRollbackFailed: an UpdateEndpoint SageMaker does not show yet is in flight.
    (
        "recovery-issued-not-visible-yet",
        intent(issued=True, source=OLD),
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        before("rollback failed", status="UpdateRollbackFailed"),
        Fate.IN_FLIGHT,
    ),
    (
        "recovery-issued-failed-again",
        intent(issued=True, source=OLD),
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed", modified=at(90)),
        before("rollback failed", status="Updating"),
        Fate.FAILED,
    ),
    (
        "recovery-recorded-not-called",
        intent(source=OLD),
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        before("rollback failed", status="UpdateRollbackFailed"),
        Fate.NOT_ISSUED,
    ),
]


@pytest.mark.parametrize(
    ("pending", "snapshot", "stored", "fate"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_resolve(
    pending: PendingCall | None,
    snapshot: EndpointSnapshot | None,
    stored: EndpointInfo | None,
    fate: Fate | None,
) -> None:
    result = resolve(pending, snapshot, stored, NEW, "11111111")
    assert (result.fate if result is not None else None) is fate
    if result is not None and pending is not None:
        assert result.pending == pending


def test_rolled_back_carries_the_failure_reason() -> None:
    result = resolve(
        intent(issued=True), endpoint("InService", OLD, failure="alarm fraud-5xx"), before(), NEW, "11111111"
    )
    assert result is not None and result.reason == "alarm fraud-5xx"


def test_a_deployment_found_without_any_record_is_tracked_as_issued() -> None:
    result = resolve(None, endpoint("Updating", OLD, target=NEW, modified=at(5)), before(), NEW, "11111111")
    assert result is not None
    assert (result.pending.operation, result.pending.config_name, result.pending.revision) == (
        UPDATE,
        NEW,
        "11111111",
    )
    assert result.pending.issued_at == iso(at(5))


@pytest.mark.parametrize("fate", list(Fate))
def test_finished_fates(fate: Fate) -> None:
    assert fate.finished is (
        fate in {Fate.SUCCEEDED, Fate.ROLLED_BACK, Fate.FAILED, Fate.SUPERSEDED, Fate.LOST}
    )
