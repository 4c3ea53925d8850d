"""core.marks: a rollback written on the rolled-back config's tags, and read back when status lost it."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.corekit import at, endpoint

from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.conditions import Reason, Verdict
from sagemaker_guardrails.core.decide import Decision, Issue, Memory, Prepare, Stall, Wait, decide
from sagemaker_guardrails.core.marks import (
    RECALLED_REASON,
    mark_value,
    recall_due,
    recalled,
    remembering,
)
from sagemaker_guardrails.core.observed import Observed
from sagemaker_guardrails.core.resolve import CREATE, UPDATE, iso

pytestmark = pytest.mark.unit

D = corekit.desired()
E = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:3"))
OLD = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:0")).config_name
OURS = dict(D.endpoint_tags)
ROLLED_BACK = endpoint("InService", OLD, failure="alarm fraud-5xx")


def config_tags(value: str | None = "", **overrides: str) -> dict[str, str]:
    """The tags of D's config as CreateEndpointConfig sets them, plus the mark (``None``: no mark)."""
    tags = {**D.identity.owner.tags(), naming.TAG_REVISION: D.revision, "team": "fraud", **overrides}
    if value is not None:
        tags[naming.TAG_ROLLED_BACK] = value
    return tags


@pytest.mark.parametrize(
    ("token", "value"),
    [
        (None, ""),
        ("", ""),
        ("1", "1"),
        ("2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z"),
        ("a" * 256, "a" * 256),
    ],
)
def test_plain_tokens_are_stored_as_they_are(token: str | None, value: str) -> None:
    assert mark_value(token) == value


@pytest.mark.parametrize("token", ["a" * 257, "retry #2", "naïve", "sha256:looks-like-a-digest"])
def test_tokens_sagemaker_would_refuse_or_could_collide_are_digested(token: str) -> None:
    value = mark_value(token)
    assert value.startswith("sha256:") and len(value) == len("sha256:") + 64
    assert value == mark_value(token), "deterministic"
    assert value != mark_value(token + "x")


def status(**fields: Any) -> Memory:
    return Memory(status=corekit.status(**fields))


def rollback_of(target: Any) -> dict[str, Any]:
    return {"revision": target.revision, "configName": target.config_name, "at": iso(at(1))}


@pytest.mark.parametrize(
    ("action", "memory", "due"),
    [
        (Prepare(UPDATE), status(), True),
        (Issue(UPDATE), status(), True),
        (Prepare(UPDATE, drift=True), status(), True),
        (Prepare(UPDATE), status(lastRollback=rollback_of(E)), True),
        (Prepare(UPDATE), status(lastRollback=rollback_of(D)), False),
        (Prepare(CREATE), status(), False),
        (Issue(CREATE), status(), False),
        (Wait(), status(), False),
        (Stall(), status(), False),
    ],
    ids=[
        "prepare-update",
        "issue-update",
        "drift",
        "status-remembers-another-revision",
        "status-remembers-this-revision",
        "create",
        "issue-create",
        "polling",
        "stalled",
    ],
)
def test_the_tags_are_read_only_before_deploying_a_revision_status_knows_no_rollback_of(
    action: Any, memory: Memory, due: bool
) -> None:
    decision = Decision(action, Verdict.progressing(Reason.DEPLOYING, ""))
    assert recall_due(decision, D, memory) is due


@pytest.mark.parametrize(
    ("tags", "token", "blocks"),
    [
        (config_tags(""), None, True),
        (config_tags("7"), "7", True),
        (config_tags(mark_value("retry #2")), "retry #2", True),
        (config_tags(""), "1", False),
        (config_tags("7"), "8", False),
        (config_tags("7"), None, False),
        (config_tags(None), None, False),
        (None, None, False),
        (config_tags("", **{naming.TAG_NAME: "payments"}), None, False),
        (config_tags("", **{naming.TAG_CLUSTER: "other-cluster"}), None, False),
        (config_tags("", **{naming.TAG_REVISION: E.revision}), None, False),
    ],
    ids=[
        "no-annotation-then-and-now",
        "same-annotation",
        "same-digested-annotation",
        "annotation-set-since",
        "annotation-bumped",
        "annotation-removed",
        "no-mark",
        "config-absent",
        "another-resources-config",
        "another-clusters-config",
        "another-revisions-config",
    ],
)
def test_a_mark_blocks_only_under_the_annotation_value_it_was_made_with(
    tags: dict[str, str] | None, token: str | None, blocks: bool
) -> None:
    record = recalled(D, Memory(status=corekit.status(), retry_token=token), ROLLED_BACK, tags, at(50))
    assert (record is not None) is blocks
    if record is not None:
        assert (record.revision, record.config_name) == (D.revision, D.config_name)
        assert (record.retry_token, record.at, record.tagged_at) == (token, iso(at(50)), iso(at(50)))
        assert record.reason == "alarm fraud-5xx", "the endpoint still tells SageMaker's reason"


def test_the_reason_is_explained_when_the_endpoint_no_longer_tells_it() -> None:
    for snapshot in (
        endpoint("InService", OLD),
        endpoint("InService", OLD, failure="Request to service failed"),
    ):
        record = recalled(D, Memory(status=corekit.status()), snapshot, config_tags(""), at(50))
        assert record is not None and record.reason == RECALLED_REASON


def test_a_recalled_rollback_stalls_the_revision_as_if_status_had_kept_it() -> None:
    """The reconciler's sequence, pure: decide, read the tags because it would deploy, decide again."""
    empty = Memory(status=corekit.status(), retry_token="1")
    observed = Observed(ROLLED_BACK, OURS)
    first = decide(D, observed, empty, at(50))
    assert first.action == Prepare(UPDATE)
    assert recall_due(first, D, empty)
    record = recalled(D, empty, ROLLED_BACK, config_tags("1"), at(50))
    assert record is not None
    memory = remembering(empty, record)
    assert memory.retry_token == "1" and memory.status.last_rollback == record
    assert empty.status.last_rollback is None, "the memory read from the resource is not changed"
    second = decide(D, observed, memory, at(50))
    assert second.action == Stall()
    assert second.verdict.reason == Reason.ROLLED_BACK
    assert "sagemaker-guardrails.dev/retry" in second.verdict.message
    assert not recall_due(second, D, memory)
    bumped = Memory(status=memory.status, retry_token="2")
    assert decide(D, observed, bumped, at(60)).action == Prepare(UPDATE)
    assert not recall_due(decide(D, observed, bumped, at(60)), D, bumped), "status remembers; no read"
