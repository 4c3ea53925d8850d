"""The status model: camelCase, tolerant of fields it does not know, every part bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from sagemaker_guardrails.api.status import (
    APPLIED_TAGS_MAX,
    CONDITIONS_MAX,
    CUT_MARK,
    HISTORY_LIMIT,
    MESSAGE_MAX,
    OWNED_CONFIGS_MAX,
    REASON_MAX,
    RETRY_TOKEN_MAX,
    Condition,
    EndpointInfo,
    GuardedEndpointStatus,
    HistoryEntry,
    PendingCall,
    Phase,
    RollbackRecord,
    stored_retry_token,
)
from sagemaker_guardrails.core.actions import Memory
from sagemaker_guardrails.core.conditions import Reason, Verdict, conditions

pytestmark = pytest.mark.unit

OBSERVED = {
    "observedGeneration": 7,
    "phase": "Baking",
    "strategy": "Canary",
    "conditions": [
        {"type": "Ready", "status": "False", "reason": "Deploying", "observedGeneration": 7},
        {"type": "Reconciling", "status": "True", "reason": "Baking"},
    ],
    "endpoint": {"name": "fraud-detector", "status": "Updating", "configName": "fraud-detector-3f9a1c2e"},
    "revision": {"desired": "7b1e0d44", "current": "3f9a1c2e"},
    "deployment": {
        "revision": "7b1e0d44",
        "strategy": "Canary",
        "stage": "Baking",
        "step": 1,
        "steps": 2,
        "trafficPercent": 25,
    },
    "lastRollback": {"revision": "1a2b3c4d", "reason": "alarm fraud-detector-5xx-rate in ALARM"},
    "history": [{"revision": "3f9a1c2e", "outcome": "Succeeded"}],
    "kopf": {"progress": {}},
}


def test_status_reads_what_the_api_server_stores() -> None:
    status = GuardedEndpointStatus.model_validate(OBSERVED)
    assert status.observed_generation == 7
    assert status.phase is Phase.BAKING
    assert status.conditions[0].observed_generation == 7
    assert status.deployment is not None and status.deployment.traffic_percent == 25
    assert status.last_rollback is not None and status.last_rollback.revision == "1a2b3c4d"


def test_status_dumps_camel_case_without_unknown_fields() -> None:
    dumped = GuardedEndpointStatus.model_validate(OBSERVED).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    assert dumped["observedGeneration"] == 7
    assert dumped["endpoint"]["configName"] == "fraud-detector-3f9a1c2e"
    assert "kopf" not in dumped


def test_history_is_bounded() -> None:
    entries = [HistoryEntry(revision=str(i)) for i in range(HISTORY_LIMIT + 1)]
    with pytest.raises(ValidationError, match="history"):
        GuardedEndpointStatus(history=entries)


def test_unknown_phase_is_rejected() -> None:
    with pytest.raises(ValidationError, match="phase"):
        GuardedEndpointStatus.model_validate({"phase": "Dancing"})


# --- bounds: the status always fits next to the largest spec (tests/unit/test_size_budget.py) -------


def dump(status: GuardedEndpointStatus) -> dict[str, Any]:
    return status.model_dump(by_alias=True, exclude_none=True, mode="json")


def test_free_text_is_cut_when_written_even_if_set_without_validation() -> None:
    condition = Condition(type="Stalled", status="True", message="x" * 10)
    status = GuardedEndpointStatus(conditions=[condition.model_copy(update={"message": "y" * 5000})])
    status.endpoint = EndpointInfo(name="e").model_copy(update={"failure_reason": "z" * 5000})
    written = dump(status)
    message = written["conditions"][0]["message"]
    assert len(message) == MESSAGE_MAX and message.endswith(CUT_MARK) and message.startswith("y")
    assert len(written["endpoint"]["failureReason"]) == REASON_MAX


def test_free_text_is_cut_when_read() -> None:
    status = GuardedEndpointStatus.model_validate(
        {
            "conditions": [{"type": "Ready", "status": "False", "message": "m" * 3000}],
            "history": [{"reason": "r" * 3000}],
            "lastRollback": {"reason": "r" * 3000},
            "deployment": {"message": "d" * 3000},
        }
    )
    assert len(status.conditions[0].message) == MESSAGE_MAX
    assert status.history[0].reason is not None and len(status.history[0].reason) == REASON_MAX
    assert status.last_rollback is not None and status.last_rollback.reason is not None
    assert status.deployment is not None and status.deployment.message is not None
    assert len(status.last_rollback.reason) == len(status.deployment.message) == REASON_MAX


def test_owned_configs_and_applied_tags_keep_the_first_entries() -> None:
    configs = [f"fraud-{i:08x}" for i in range(OWNED_CONFIGS_MAX + 5)]
    tags = {f"k{i}": "v" for i in range(APPLIED_TAGS_MAX + 5)}
    read = GuardedEndpointStatus.model_validate({"ownedConfigs": configs, "endpoint": {"tags": tags}})
    assert read.owned_configs == configs[:OWNED_CONFIGS_MAX]
    assert read.endpoint is not None and read.endpoint.tags == dict(list(tags.items())[:APPLIED_TAGS_MAX])
    assigned = GuardedEndpointStatus()
    assigned.owned_configs = configs
    assert dump(assigned)["ownedConfigs"] == configs[:OWNED_CONFIGS_MAX], "newest first: the oldest go"


def test_long_retry_tokens_are_kept_as_digests_and_compared_as_such() -> None:
    long = "t" * (RETRY_TOKEN_MAX + 1)
    digest = stored_retry_token(long)
    assert digest is not None and digest.startswith("sha256:") and len(digest) == 71
    assert stored_retry_token("t" * RETRY_TOKEN_MAX) == "t" * RETRY_TOKEN_MAX
    assert stored_retry_token(None) is None
    record = RollbackRecord(retry_token=long)
    assert record.retry_token == digest
    assert dump(GuardedEndpointStatus(last_rollback=record))["lastRollback"]["retryToken"] == digest
    memory = Memory(status=GuardedEndpointStatus(), retry_token=long)
    assert memory.retry_token == record.retry_token, "the annotation compares equal to what status kept"
    assert Memory(status=GuardedEndpointStatus(), retry_token=long + "x").retry_token != digest


def test_identity_fields_are_checked_not_cut() -> None:
    with pytest.raises(ValidationError, match=r"configName|config_name"):
        PendingCall(operation="UpdateEndpoint", recorded_at="now", config_name="c" * 64)


def test_the_operator_writes_at_most_conditions_max_conditions() -> None:
    verdict = Verdict.stalled(Reason.ERROR, "boom")
    made = conditions(verdict, [], generation=1, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(made) <= CONDITIONS_MAX
    assert len({c.type for c in made}) == len(made)
