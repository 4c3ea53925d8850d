"""`sagemaker-guardrails run` flags on top of SAGEMAKER_GUARDRAILS_* settings."""

from __future__ import annotations

import os

import pytest

from sagemaker_guardrails.__main__ import cli_main, parse_args, settings_from_args

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SAGEMAKER_GUARDRAILS_") or name == "POD_NAMESPACE":
            monkeypatch.delenv(name)


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", "a,b")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_LEADER_ELECTION", "true")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_LEADER_ELECTION_LEASE_NAME", "ha")
    s = settings_from_args(parse_args([]))
    assert s.watch_namespaces == ["a", "b"]
    assert (s.leader_election, s.leader_election_lease_name) == (True, "ha")


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", "a,b")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_LEADER_ELECTION", "true")
    s = settings_from_args(parse_args(["-n", "ml-prod", "--namespace", "ml-*", "--standalone"]))
    assert s.watch_namespaces == ["ml-prod", "ml-*"]
    assert s.leader_election is False, "--standalone means no leader election"
    s = settings_from_args(parse_args(["--all-namespaces", "--log-format", "json"]))
    assert s.watch_namespaces == []
    assert s.log_format == "json"


def test_leader_election_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_LEADER_ELECTION_LEASE_NAME", "from-env")
    monkeypatch.setenv("POD_NAMESPACE", "operators")
    s = settings_from_args(parse_args(["--leader-election"]))
    assert s.leader_election is True
    assert (s.leader_election_namespace, s.leader_election_lease_name) == ("operators", "from-env")
    s = settings_from_args(
        parse_args(["--leader-election", "--lease-name", "blue", "--lease-namespace", "ops"])
    )
    assert (s.leader_election_namespace, s.leader_election_lease_name) == ("ops", "blue")


def test_no_flag_keeps_the_environment_s_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from_args(parse_args([])).leader_election is False
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_LEADER_ELECTION", "1")
    assert settings_from_args(parse_args([])).leader_election is True


@pytest.mark.parametrize(
    "argv",
    [
        ["--standalone", "--leader-election"],
        ["-n", "a", "--all-namespaces"],
        ["--lease-name"],
        # kopf peering is gone: its flags are refused, not ignored.
        ["--peering", "x"],
        ["--priority", "5"],
    ],
)
def test_conflicting_or_bad_flags_exit(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_invalid_settings_exit_with_2_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_ACTIVE_POLL_SECONDS", "-3")
    assert cli_main([]) == 2
    assert "active_poll_seconds" in capsys.readouterr().err
