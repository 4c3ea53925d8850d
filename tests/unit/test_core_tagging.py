"""core.tagging: when a pass reads the endpoint's tags, and the next tagging call of a tag sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from tests import corekit
from tests.corekit import T0, at, endpoint

from sagemaker_guardrails.api.status import EndpointInfo
from sagemaker_guardrails.core import naming, tagging
from sagemaker_guardrails.core.actions import SyncTags
from sagemaker_guardrails.core.observed import EndpointSnapshot
from sagemaker_guardrails.core.resolve import iso

pytestmark = pytest.mark.unit

D = corekit.desired()  # spec.tags == {"team": "fraud"}
RETAGGED = corekit.desired(corekit.spec(tags={"team": "risk"}))
OLD = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:0")).config_name
HERE = endpoint("InService", D.config_name)
RECHECK = timedelta(hours=1)
OWNER = D.identity.owner.tags()
OTHER = naming.Owner("test-cluster", "ml", "payments").tags()


def memory(
    of: EndpointSnapshot = HERE,
    *,
    checked: float | None = 0,
    tags: dict[str, str] | None = None,
    **changes: Any,
) -> EndpointInfo:
    """What a previous pass stored about ``of``: verified ``checked`` seconds after T0, ``tags`` applied."""
    fields: dict[str, Any] = {
        "name": of.name,
        "arn": of.arn,
        "status": of.status.value,
        "config_name": of.config_name,
        "creation_time": iso(of.creation_time),
        "tags_checked_at": iso(at(checked)) if checked is not None else None,
        "tags": {"team": "fraud"} if tags is None else tags,
    }
    return EndpointInfo(**{**fields, **changes})


@dataclass
class Due:
    id: str
    before: EndpointInfo | None
    expected: bool
    endpoint: EndpointSnapshot = HERE
    desired: Any = D
    now: float = 60


DUE = [
    Due("nothing-remembered", None, True),
    Due("verified-and-in-sync", memory(), False),
    Due(
        "another-endpoint-was-verified",
        memory(arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/x"),
        True,
    ),
    Due("re-created-under-the-same-name", memory(creation_time=iso(at(-600))), True),
    Due("seen-but-never-verified", memory(checked=None), True),
    Due("spec-tags-changed", memory(), True, desired=RETAGGED),
    Due("applied-tags-unknown", memory(tags={}).model_copy(update={"tags": None}), True),
    Due(
        "tag-change-waits-while-deploying",
        memory(),
        False,
        endpoint=endpoint("Updating", D.config_name, target=RETAGGED.config_name),
        desired=RETAGGED,
    ),
    Due(
        "no-sync-off-the-desired-config",
        memory(endpoint("InService", OLD)),
        False,
        endpoint("InService", OLD),
        desired=RETAGGED,
    ),
    Due("periodic-recheck", memory(), True, now=3600),
    Due("periodic-recheck-not-yet", memory(), False, now=3599),
    Due(
        "periodic-recheck-off-the-desired-config",
        memory(endpoint("InService", OLD)),
        True,
        endpoint("InService", OLD),
        now=3600,
    ),
    Due(
        "no-recheck-while-busy",
        memory(),
        False,
        endpoint=endpoint("Updating", D.config_name, target=OLD),
        now=7200,
    ),
    Due("unreadable-check-time", memory().model_copy(update={"tags_checked_at": "yesterday"}), True),
]


@pytest.mark.parametrize("case", DUE, ids=[c.id for c in DUE])
def test_tags_due(case: Due) -> None:
    assert tagging.tags_due(case.desired, case.endpoint, case.before, at(case.now), RECHECK) is case.expected


RESERVED = {**OWNER, "aws:cloudformation:stack-name": "ml", "AWS:odd-case": "x"}


@pytest.mark.parametrize(
    ("wanted", "present", "applied", "expected"),
    [
        ({"team": "fraud"}, {**RESERVED, "team": "fraud"}, {"team": "fraud"}, None),
        ({"team": "risk"}, {**RESERVED, "team": "fraud"}, {"team": "fraud"}, SyncTags(add={"team": "risk"})),
        ({"team": "fraud", "cost": "42"}, {"team": "fraud"}, {"team": "fraud"}, SyncTags(add={"cost": "42"})),
        ({}, {**RESERVED, "team": "fraud"}, {"team": "fraud"}, SyncTags(remove=("team",))),
        ({"b": "1"}, {"a": "1"}, {"a": "1"}, SyncTags(add={"b": "1"})),
        ({"b": "1"}, {"a": "1", "b": "1"}, {"a": "1", "b": "1"}, SyncTags(remove=("a",))),
        ({}, {"team": "fraud"}, None, None),
        ({}, {"owner": "bob"}, {"team": "fraud"}, None),
        ({}, {}, {"team": "fraud"}, None),
        ({}, RESERVED, dict(RESERVED), None),
        ({}, {"z": "1", "a": "1"}, {"z": "1", "a": "1"}, SyncTags(remove=("a", "z"))),
    ],
    ids=[
        "in-sync",
        "value-changed",
        "key-added",
        "key-removed",
        "add-comes-before-remove",
        "then-remove",
        "nothing-removed-when-applied-is-unknown",
        "a-tag-the-operator-never-applied-stays",
        "removed-tag-already-gone",
        "ownership-and-aws-tags-are-never-removed",
        "removals-sorted",
    ],
)
def test_tag_sync(
    wanted: dict[str, str], present: dict[str, str], applied: dict[str, str] | None, expected: SyncTags | None
) -> None:
    assert tagging.tag_sync(wanted, present, applied) == expected


def test_a_sync_is_exactly_one_call() -> None:
    with pytest.raises(ValueError, match="either"):
        SyncTags(add={"a": "1"}, remove=("b",))
    with pytest.raises(ValueError, match="either"):
        SyncTags()


def test_user_tags_leave_out_reserved_keys_in_any_case() -> None:
    assert tagging.user_tags({**RESERVED, "team": "fraud", "Sagemaker-Guardrails.dev/x": "y"}) == {
        "team": "fraud"
    }


def remembered(
    before: EndpointInfo | None,
    tags: dict[str, str] | None,
    *,
    of: EndpointSnapshot = HERE,
    desired: Any = D,
    synced: SyncTags | None = None,
) -> EndpointInfo:
    info = EndpointInfo(name=of.name, arn=of.arn, creation_time=iso(of.creation_time))
    return tagging.remembered(
        info, before=before, endpoint=of, tags=tags, desired=desired, synced=synced, now=at(120)
    )


def test_a_read_that_shows_ownership_and_spec_tags_is_remembered() -> None:
    after = remembered(None, {**OWNER, "team": "fraud", "owner": "bob"})
    assert (after.tags_checked_at, after.tags) == (iso(at(120)), {"team": "fraud"})


def test_a_pass_that_did_not_read_carries_the_memory_of_the_same_endpoint() -> None:
    before = memory(checked=0, tags={"team": "fraud"})
    assert remembered(before, None).model_dump() == {
        **EndpointInfo(name=HERE.name, arn=HERE.arn, creation_time=iso(T0)).model_dump(),
        "tags_checked_at": iso(at(0)),
        "tags": {"team": "fraud"},
    }


def test_memory_of_an_earlier_endpoint_of_the_same_name_is_dropped() -> None:
    before = memory(creation_time=iso(at(-600)))
    after = remembered(before, None)
    assert (after.tags_checked_at, after.tags) == (None, None)


def test_tags_of_another_owner_or_none_forget_the_verification() -> None:
    for tags in (OTHER, {}):
        after = remembered(memory(), tags)
        assert (after.tags_checked_at, after.tags) == (None, None)


def test_a_read_that_shows_tags_out_of_sync_keeps_what_was_applied() -> None:
    after = remembered(memory(), {**OWNER, "team": "fraud"}, desired=RETAGGED)
    assert (after.tags_checked_at, after.tags) == (iso(at(120)), {"team": "fraud"})


def test_a_successful_sync_call_updates_what_was_applied() -> None:
    added = remembered(
        memory(), {**OWNER, "team": "fraud"}, desired=RETAGGED, synced=SyncTags(add={"team": "risk"})
    )
    assert added.tags == {"team": "risk"}
    removed = remembered(
        memory(tags={"team": "risk", "old": "1"}),
        {**OWNER, "team": "risk", "old": "1"},
        desired=RETAGGED,
        synced=SyncTags(remove=("old",)),
    )
    assert removed.tags == {"team": "risk"}


def test_off_the_desired_config_a_read_verifies_ownership_but_syncs_nothing() -> None:
    stalled = endpoint("InService", OLD)
    after = remembered(memory(stalled, tags={"team": "fraud"}), {**OWNER}, of=stalled, desired=RETAGGED)
    assert (after.tags_checked_at, after.tags) == (iso(at(120)), {"team": "fraud"})


def test_an_arn_that_differs_only_in_case_is_the_same_incarnation() -> None:
    snapshot = endpoint("InService", "c1", name="Fraud-Detector")
    before = EndpointInfo(
        name="fraud-detector",
        arn=snapshot.arn.lower(),
        creation_time=iso(snapshot.creation_time),
        tags_checked_at=iso(T0),
    )
    assert snapshot.arn != before.arn
    assert tagging.same_incarnation(before, snapshot)
    assert tagging.verified(before, snapshot)
