"""The Argo CD health check and resource actions for GuardedEndpoints, run as Lua.

Argo CD runs these scripts with gopher-lua, a Lua 5.1; lupa's Lua 5.1 runtime runs them the same
way here, with the object as the global ``obj``. The status samples are built by the operator's
own condition code (:mod:`sagemaker_guardrails.core.conditions`) and dumped in camelCase, the way
the operator writes them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from sagemaker_guardrails.api.status import Condition
from sagemaker_guardrails.core.conditions import Reason, Verdict, conditions

pytestmark = pytest.mark.unit

ARGOCD = Path(__file__).resolve().parents[2] / "gitops" / "argocd"
HEALTH = (ARGOCD / "health.lua").read_text()
DISCOVERY = (ARGOCD / "actions" / "discovery.lua").read_text()
RETRY = (ARGOCD / "actions" / "retry" / "action.lua").read_text()
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ALL_REASONS = sorted(v for k, v in vars(Reason).items() if k.isupper())


def to_python(value: Any) -> Any:
    if lua51.lua_type(value) == "table":
        return {k: to_python(v) for k, v in value.items()}
    return value


def run(script: str, obj: dict[str, Any]) -> Any:
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    return to_python(lua.execute(script))


def resource(generation: int = 3, status: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sagemaker-guardrails.dev/v1alpha1",
        "kind": "GuardedEndpoint",
        "metadata": {"name": "fraud-detector", "namespace": "ml-prod", "generation": generation, **metadata},
        "spec": {},
    }
    if status is not None:
        obj["status"] = status
    return obj


def status_for(
    verdict: Verdict, generation: int = 3, previous: list[Condition] | None = None
) -> dict[str, Any]:
    made = conditions(verdict, previous or [], generation, NOW)
    return {
        "observedGeneration": generation,
        "conditions": [c.model_dump(by_alias=True, exclude_none=True) for c in made],
    }


def health(obj: dict[str, Any]) -> tuple[str, str]:
    result = run(HEALTH, obj)
    return result["status"], result["message"]


def test_no_status_yet_is_progressing() -> None:
    assert health(resource()) == ("Progressing", "Waiting for the sagemaker-guardrails operator")
    assert health(resource(status={"conditions": []}))[0] == "Progressing"


def test_in_service_is_healthy() -> None:
    status = status_for(Verdict.in_service("Endpoint fraud-detector is InService on revision 7b1e0d44."))
    assert health(resource(status=status)) == (
        "Healthy",
        "InService: Endpoint fraud-detector is InService on revision 7b1e0d44.",
    )


def test_a_spec_change_the_operator_has_not_seen_is_progressing() -> None:
    status = status_for(Verdict.in_service("InService"), generation=3)
    assert health(resource(generation=4, status=status)) == (
        "Progressing",
        "Waiting for the operator to observe generation 4",
    )
    del status["observedGeneration"]
    assert health(resource(status=status))[0] == "Progressing"


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_stalled_is_degraded_whatever_the_reason(reason: str) -> None:
    status = status_for(Verdict.stalled(reason, "needs a person"))
    assert health(resource(status=status)) == ("Degraded", f"{reason}: needs a person")


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_reconciling_is_progressing_whatever_the_reason(reason: str) -> None:
    status = status_for(Verdict.progressing(reason, "step 1 of 2, 25 % of traffic"))
    assert health(resource(status=status)) == ("Progressing", f"{reason}: step 1 of 2, 25 % of traffic")


def test_a_rollback_is_degraded_even_though_the_endpoint_serves() -> None:
    """SageMaker rolled back: the endpoint is InService on the old revision, not on Git's."""
    previous = conditions(Verdict.in_service("InService"), [], 2, NOW)
    message = "SageMaker rolled back revision 7b1e0d44: alarm fraud-5xx in ALARM during Baking"
    status = status_for(Verdict.stalled(Reason.ROLLED_BACK, message), previous=previous)
    assert health(resource(status=status)) == ("Degraded", f"RolledBack: {message}")


def test_throttled_pass_keeps_ready_and_shows_progress() -> None:
    previous = conditions(Verdict.in_service("InService"), [], 3, NOW)
    status = status_for(
        Verdict.progressing(Reason.THROTTLED, "SageMaker throttled", ready=None), previous=previous
    )
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert health(resource(status=status)) == ("Progressing", "Throttled: SageMaker throttled")


def test_ready_false_without_reconciling_or_stalled_is_not_healthy() -> None:
    status = {
        "observedGeneration": 3,
        "conditions": [{"type": "Ready", "status": "False", "reason": "Pending", "message": "not yet"}],
    }
    assert health(resource(status=status)) == ("Progressing", "Pending: not yet")


def test_condition_without_message_or_reason() -> None:
    status = {"observedGeneration": 3, "conditions": [{"type": "Stalled", "status": "True"}]}
    assert health(resource(status=status)) == ("Degraded", "Stalled")


def discovered(obj: dict[str, Any]) -> dict[str, Any]:
    actions: dict[str, Any] = run(DISCOVERY, obj)
    return actions


def test_retry_is_offered_only_after_a_rollback() -> None:
    rolled_back = resource(status=status_for(Verdict.stalled(Reason.ROLLED_BACK, "alarm")))
    assert discovered(rolled_back) == {"retry": {"disabled": False}}
    for verdict in (
        Verdict.in_service("ok"),
        Verdict.stalled(Reason.INVALID_SPEC, "bad"),
        Verdict.progressing(Reason.BAKING, ""),
    ):
        assert discovered(resource(status=status_for(verdict))) == {"retry": {"disabled": True}}
    assert discovered(resource()) == {"retry": {"disabled": True}}


def test_retry_sets_a_new_retry_annotation_and_keeps_the_others() -> None:
    updated = run(RETRY, resource(annotations={"team": "fraud"}))
    annotations = updated["metadata"]["annotations"]
    assert annotations["team"] == "fraud"
    stamp = annotations["sagemaker-guardrails.dev/retry"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    fresh = run(RETRY, resource())
    assert set(fresh["metadata"]["annotations"]) == {"sagemaker-guardrails.dev/retry"}


def test_argocd_cm_embeds_the_scripts_verbatim() -> None:
    config = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text())
    assert config["metadata"]["name"] == "argocd-cm"
    data = config["data"]
    assert data["resource.customizations.health.sagemaker-guardrails.dev_GuardedEndpoint"] == HEALTH
    actions = yaml.safe_load(data["resource.customizations.actions.sagemaker-guardrails.dev_GuardedEndpoint"])
    assert actions["discovery.lua"] == DISCOVERY
    assert actions["definitions"] == [{"name": "retry", "action.lua": RETRY}]
