"""The ``sagemaker-guardrails emulator`` command, and the plain-boto3 walkthrough run against it.

This is the issue's "done when": the installed command starts an emulator in its own process, and an
unchanged boto3 program (examples/boto3_canary_walkthrough.py), configured only through AWS_* variables,
walks a canary deployment and an alarm rollback against it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagemaker_guardrails.emulator import AdminClient, EmulatorSettings

pytestmark = pytest.mark.component

ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "sagemaker-guardrails"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {**os.environ, "SAGEMAKER_GUARDRAILS_EMULATOR_ALARM_POLL_SECONDS": "5"}
    process = subprocess.Popen(
        [
            str(COMMAND),
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--speed",
            "1000",
            "--alarm-trip-states",
            "ALARM",
            "--default-execution-timeout-seconds",
            "none",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    admin = AdminClient(url)
    deadline = time.monotonic() + 30
    while True:
        try:
            admin.health()
            break
        except OSError:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
    yield url, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_command_serves_with_flags_and_environment(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    settings = AdminClient(url).settings()
    assert settings["speed"] == 1000 and settings["alarm_poll_seconds"] == 5
    assert (
        settings["alarm_trip_states"] == ["ALARM"] and settings["default_execution_timeout_seconds"] is None
    )
    assert AdminClient(url).health()["url"] == url


def test_a_plain_boto3_script_walks_a_canary_and_an_alarm_rollback(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = served
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "boto3_canary_walkthrough.py"),
            "--poll",
            "0.02",
            "--wait",
            "3000",  # a canary bake of 3 s of real time: the script trips its alarm in it on a loaded machine too
            "--cleanup",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert (
        "Updating Baking: Baking for 3000 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s)."
        in out
    )
    assert "deployed: guardrails-walkthrough serves guardrails-walkthrough-v2" in out
    assert (
        "FailureReason: One or more configured alarm for automatic rollback deployment is in ALARM state: "
        "[guardrails-walkthrough-5xx]." in out
    )
    assert "cleaned up" in out
    timeline = AdminClient(url).timeline("guardrails-walkthrough")
    assert [e["name"] for e in timeline if e["event"] == "outcome"] == [
        "Created",
        "Succeeded",
        "RolledBack",
        "Deleted",
    ]


def test_sigterm_stops_the_command(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    output = process.stdout.read() if process.stdout else ""
    assert f"listening on {url}" in output and f"AWS_ENDPOINT_URL={url}" in output


def test_help_lists_every_setting() -> None:
    result = subprocess.run(
        [str(COMMAND), "emulator", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for name in EmulatorSettings.model_fields:
        assert f"--{name.replace('_', '-')}" in result.stdout


def test_bad_settings_are_refused() -> None:
    result = subprocess.run(
        [str(COMMAND), "emulator", "--speed", "-1"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2 and "speed" in result.stderr


def test_the_docs_list_every_setting_admin_route_and_client_method() -> None:
    from sagemaker_guardrails.emulator.admin import ROUTES

    text = (ROOT / "docs" / "emulator.md").read_text()
    for name in EmulatorSettings.model_fields:
        assert f"| `{name}` |" in text, name
    for rule in ROUTES.iter_rules():
        assert rule.rule.replace("<path:name>", "<name>") in text, rule.rule
    for method in dir(AdminClient):
        if not method.startswith("_") and callable(getattr(AdminClient, method)) and method != "from_url":
            assert f"{method}(" in text, method
