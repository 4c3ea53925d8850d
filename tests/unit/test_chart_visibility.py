"""The chart's orphan-sweep and guardrail-exclusion values reach the operator's settings, with the
operator's own defaults (report only), and the schema rejects bad values."""

from __future__ import annotations

import os
from typing import Any

import pytest
from tests import chartkit

from sagemaker_guardrails.settings import ENV_PREFIX, Settings

pytestmark = pytest.mark.unit


def settings_of(values: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    deployment = chartkit.one(chartkit.render(values), "Deployment")
    env = {
        e["name"]: e["value"]
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        if "value" in e
    }
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            monkeypatch.setenv(key, value)
    return Settings()


def test_defaults_report_orphans_hourly_and_warn_on_exclusions(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({}, monkeypatch)
    defaults = Settings.model_fields
    assert settings.orphan_sweep_delete is False
    assert settings.orphan_sweep_seconds == defaults["orphan_sweep_seconds"].default == 3600
    assert settings.orphan_min_age_seconds == defaults["orphan_min_age_seconds"].default
    assert settings.orphan_sweep_calls_per_second == defaults["orphan_sweep_calls_per_second"].default == 2
    assert settings.guardrail_exclusions == "warn"


def test_opting_in(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "operator": {
            "guardrailExclusions": "refuse",
            "orphanSweep": {
                "intervalSeconds": 600,
                "delete": True,
                "minAgeSeconds": 7200,
                "callsPerSecond": 0.5,
            },
        }
    }
    settings = settings_of(values, monkeypatch)
    assert settings.orphan_sweep_delete is True
    assert (settings.orphan_sweep_seconds, settings.orphan_min_age_seconds) == (600, 7200)
    assert settings.orphan_sweep_calls_per_second == 0.5
    assert settings.guardrail_exclusions == "refuse"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"operator": {"guardrailExclusions": "ignore"}}, "/operator/guardrailExclusions"),
        ({"operator": {"orphanSweep": {"delete": "yes"}}}, "/operator/orphanSweep/delete"),
        ({"operator": {"orphanSweep": {"intervalSeconds": -1}}}, "/operator/orphanSweep/intervalSeconds"),
        ({"operator": {"orphanSweep": {"deleteOrphans": True}}}, "additional properties 'deleteOrphans'"),
        ({"operator": {"orphanSweep": {"callsPerSecond": 0}}}, "/operator/orphanSweep/callsPerSecond"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], complaint: str) -> None:
    result = chartkit.template_text(values, check=False)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr
