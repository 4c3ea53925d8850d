"""The status model: camelCase, tolerant of fields it does not know, bounded history."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sagemaker_guardrails.api.status import HISTORY_LIMIT, GuardedEndpointStatus, HistoryEntry, Phase

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
