"""Settings from SAGEMAKER_GUARDRAILS_* environment variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit

AWS_REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION", "SAGEMAKER_GUARDRAILS_DEFAULT_REGION")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SAGEMAKER_GUARDRAILS_") or name in (*AWS_REGION_VARS, "POD_NAMESPACE"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = Settings()
    assert s.default_region == "us-east-1"
    assert s.cluster_id == "default"
    assert (s.active_poll_seconds, s.settled_poll_seconds, s.poll_jitter) == (15.0, 300.0, 0.2)
    assert (s.rate_limit_per_second, s.rate_limit_burst) == (20.0, 40)
    assert s.watch_namespaces == []
    assert (s.metrics_port, s.health_port) == (9090, 8080)
    assert s.log_format == "text"
    assert s.leader_election is False
    assert (s.leader_election_namespace, s.leader_election_lease_name) == (None, "sagemaker-guardrails")
    assert (s.lease_duration_seconds, s.lease_renew_deadline_seconds, s.lease_retry_period_seconds) == (
        15.0,
        10.0,
        2.0,
    )
    assert s.max_workers == 20
    assert s.orphan_sweep_calls_per_second == 2.0


def test_every_field_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DEFAULT_REGION": "eu-central-1",
        "CLUSTER_ID": "prod-1",
        "ACTIVE_POLL_SECONDS": "10",
        "SETTLED_POLL_SECONDS": "600",
        "POLL_JITTER": "0.1",
        "RATE_LIMIT_PER_SECOND": "2.5",
        "RATE_LIMIT_BURST": "4",
        "WATCH_NAMESPACES": "ml-prod, ml-staging,,",
        "METRICS_PORT": "0",
        "HEALTH_PORT": "18080",
        "LOG_FORMAT": "json",
        "LEADER_ELECTION": "true",
        "LEADER_ELECTION_NAMESPACE": "operators",
        "LEADER_ELECTION_LEASE_NAME": "guardrails",
        "LEASE_DURATION_SECONDS": "30",
        "LEASE_RENEW_DEADLINE_SECONDS": "20",
        "LEASE_RETRY_PERIOD_SECONDS": "4",
        "MAX_WORKERS": "8",
        "ORPHAN_SWEEP_CALLS_PER_SECOND": "0.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"SAGEMAKER_GUARDRAILS_{key}", value)
    s = Settings()
    assert s.default_region == "eu-central-1"
    assert s.cluster_id == "prod-1"
    assert (s.active_poll_seconds, s.settled_poll_seconds, s.poll_jitter) == (10.0, 600.0, 0.1)
    assert (s.rate_limit_per_second, s.rate_limit_burst) == (2.5, 4)
    assert s.watch_namespaces == ["ml-prod", "ml-staging"]
    assert (s.metrics_port, s.health_port) == (0, 18080)
    assert s.log_format == "json"
    assert (s.leader_election, s.leader_election_namespace, s.leader_election_lease_name) == (
        True,
        "operators",
        "guardrails",
    )
    assert (s.lease_duration_seconds, s.lease_renew_deadline_seconds, s.lease_retry_period_seconds) == (
        30.0,
        20.0,
        4.0,
    )
    assert s.max_workers == 8
    assert s.orphan_sweep_calls_per_second == 0.5


def test_namespaces_as_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", '["a", "b"]')
    assert Settings().watch_namespaces == ["a", "b"]


def test_empty_namespaces_means_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", "")
    assert Settings().watch_namespaces == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-2"}, "eu-west-2"),
        ({"AWS_REGION": "eu-west-2", "SAGEMAKER_GUARDRAILS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"),
    ],
)
def test_region_falls_back_to_aws_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Settings().default_region == expected


def test_keyword_arguments_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    s = Settings(default_region="us-west-2", watch_namespaces=["x"])
    assert s.default_region == "us-west-2"
    assert s.watch_namespaces == ["x"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"POD_NAMESPACE": "operators"}, "operators"),
        ({"POD_NAMESPACE": "operators", "SAGEMAKER_GUARDRAILS_LEADER_ELECTION_NAMESPACE": "ops"}, "ops"),
        ({"SAGEMAKER_GUARDRAILS_LEADER_ELECTION_NAMESPACE": " "}, None),
    ],
)
def test_lease_namespace_falls_back_to_the_pod_namespace(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    """The Lease's namespace: the setting, else POD_NAMESPACE (the chart sets it from the downward
    API); blank means unset."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Settings().leader_election_namespace == expected


def test_peering_settings_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """kopf peering was replaced by Lease leader election; its old variables change nothing."""
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_PEERING_NAME", "guardrails")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_PRIORITY", "100")
    s = Settings()
    assert not {"peering_name", "priority"} & set(Settings.model_fields)
    assert s.leader_election is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ACTIVE_POLL_SECONDS", "0"),
        ("POLL_JITTER", "1.5"),
        ("RATE_LIMIT_PER_SECOND", "-1"),
        ("RATE_LIMIT_BURST", "0"),
        ("METRICS_PORT", "70000"),
        ("LOG_FORMAT", "xml"),
        ("MAX_WORKERS", "0"),
        ("LEADER_ELECTION", "maybe"),
        ("LEADER_ELECTION_LEASE_NAME", ""),
        ("LEASE_DURATION_SECONDS", "0"),
        ("ORPHAN_SWEEP_CALLS_PER_SECOND", "0"),
    ],
)
def test_rejects_bad_values(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(f"SAGEMAKER_GUARDRAILS_{key}", value)
    with pytest.raises(ValidationError, match=key.lower()):
        Settings()
