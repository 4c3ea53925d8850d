"""core.conditions: kstatus conditions from a verdict, and the phase derived from them."""

from __future__ import annotations

import pytest
from tests.corekit import at

from sagemaker_guardrails.api.status import Condition, Phase
from sagemaker_guardrails.core.conditions import Reason, Verdict, conditions, phase

pytestmark = pytest.mark.unit


def table(items: list[Condition]) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in items}


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (
            Verdict.in_service("ok"),
            {"Ready": ("True", "InService"), "Reconciling": ("False", ""), "Stalled": ("False", "")},
        ),
        (
            Verdict.progressing(Reason.DEPLOYING, "deploying"),
            {"Ready": ("False", "Deploying"), "Reconciling": ("True", "Deploying"), "Stalled": ("False", "")},
        ),
        (
            Verdict.stalled(Reason.ROLLED_BACK, "rolled back"),
            {
                "Ready": ("False", "RolledBack"),
                "Reconciling": ("False", ""),
                "Stalled": ("True", "RolledBack"),
            },
        ),
    ],
)
def test_conditions(verdict: Verdict, expected: dict[str, tuple[str, str]]) -> None:
    items = conditions(verdict, [], 7, at(0))
    assert table(items) == expected
    assert {c.observed_generation for c in items} == {7}
    assert {c.last_transition_time for c in items} == {at(0).isoformat()}


def test_transition_time_survives_an_unchanged_status() -> None:
    first = conditions(Verdict.progressing(Reason.DEPLOYING, "a"), [], 1, at(0))
    second = conditions(Verdict.progressing(Reason.BAKING, "b"), first, 2, at(60))
    third = conditions(Verdict.in_service("c"), second, 2, at(120))
    times = {c.type: c.last_transition_time for c in second}
    assert times == {t: at(0).isoformat() for t in ("Ready", "Reconciling", "Stalled")}
    times = {c.type: c.last_transition_time for c in third}
    assert times == {
        "Ready": at(120).isoformat(),
        "Reconciling": at(120).isoformat(),
        "Stalled": at(0).isoformat(),
    }


def test_unknown_readiness_keeps_the_previous_ready_condition() -> None:
    before = conditions(Verdict.in_service("serving"), [], 3, at(0))
    after = conditions(Verdict.progressing(Reason.THROTTLED, "slow down", ready=None), before, 4, at(30))
    assert table(after) == {
        "Ready": ("True", "InService"),
        "Reconciling": ("True", "Throttled"),
        "Stalled": ("False", ""),
    }
    ready = next(c for c in after if c.type == "Ready")
    assert (ready.message, ready.observed_generation, ready.last_transition_time) == (
        "serving",
        4,
        at(0).isoformat(),
    )


@pytest.mark.parametrize(
    ("verdict", "stage", "expected"),
    [
        (Verdict.in_service("x"), None, Phase.IN_SERVICE),
        (Verdict.progressing(Reason.CREATING, "x"), "Creating", Phase.CREATING),
        (Verdict.progressing(Reason.DEPLOYING, "x"), "Provisioning", Phase.DEPLOYING),
        (Verdict.progressing(Reason.DEPLOYING, "x"), "Baking", Phase.BAKING),
        (Verdict.progressing(Reason.BAKING, "x"), "Baking", Phase.BAKING),
        (Verdict.progressing(Reason.DRIFT, "x"), None, Phase.DEPLOYING),
        (Verdict.progressing(Reason.ADOPTING, "x"), None, Phase.DEPLOYING),
        (Verdict.progressing(Reason.BUSY, "x"), None, Phase.WAITING),
        (Verdict.progressing(Reason.DELETING, "x"), None, Phase.DELETING),
        (Verdict.progressing(Reason.THROTTLED, "x"), None, Phase.PENDING),
        (Verdict.progressing(Reason.RETRYING, "x", ready=True), None, Phase.IN_SERVICE),
        (Verdict.stalled(Reason.ROLLED_BACK, "x"), None, Phase.ROLLED_BACK),
        (Verdict.stalled(Reason.ENDPOINT_FAILED, "x"), None, Phase.FAILED),
        (Verdict.stalled(Reason.UPDATE_ROLLBACK_FAILED, "x"), None, Phase.FAILED),
        (Verdict.stalled(Reason.OWNED_BY_OTHER, "x"), None, Phase.STALLED),
        (Verdict.stalled(Reason.INVALID_SPEC, "x"), None, Phase.STALLED),
    ],
)
def test_phase(verdict: Verdict, stage: str | None, expected: Phase) -> None:
    assert phase(conditions(verdict, [], 1, at(0)), stage) is expected


def test_phase_without_conditions_is_pending() -> None:
    assert phase([]) is Phase.PENDING
