"""`sagemaker-guardrails run` flags on top of SAGEMAKER_GUARDRAILS_* settings."""

from __future__ import annotations

import os

import pytest

from sagemaker_guardrails.__main__ import cli_main, parse_args, settings_from_args

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SAGEMAKER_GUARDRAILS_"):
            monkeypatch.delenv(name)


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", "a,b")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_PEERING_NAME", "ha")
    s = settings_from_args(parse_args([]))
    assert s.watch_namespaces == ["a", "b"]
    assert s.peering_name == "ha"


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_WATCH_NAMESPACES", "a,b")
    monkeypatch.setenv("SAGEMAKER_GUARDRAILS_PEERING_NAME", "ha")
    s = settings_from_args(
        parse_args(["-n", "ml-prod", "--namespace", "ml-*", "--standalone", "--priority", "5"])
    )
    assert s.watch_namespaces == ["ml-prod", "ml-*"]
    assert s.peering_name is None
    assert s.priority == 5
    s = settings_from_args(parse_args(["--all-namespaces", "--peering", "blue", "--log-format", "json"]))
    assert s.watch_namespaces == []
    assert s.peering_name == "blue"
    assert s.log_format == "json"


@pytest.mark.parametrize(
    "argv", [["--standalone", "--peering", "x"], ["-n", "a", "--all-namespaces"], ["--priority", "high"]]
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
