"""The emulator and the operator as real processes, wired the way a user would wire them.

The e2e tests and the demo run ``sagemaker-guardrails emulator`` and ``sagemaker-guardrails run``
as separate processes, never in-process: the operator then meets the emulator only over the AWS
wire protocol (``AWS_ENDPOINT_URL``) and the API server only through a kubeconfig, and a SIGKILL
of the operator is a real crash.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from sagemaker_guardrails.devenv.processes import Process, free_port, free_ports
from sagemaker_guardrails.emulator.client import AdminClient

REGION = "us-east-1"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sagemaker_guardrails.cli", *args]


def _clean_environment() -> dict[str, str]:
    """The caller's environment without AWS or operator settings that could leak into a child
    (a developer's AWS_PROFILE must never reach real AWS from a test)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SAGEMAKER_GUARDRAILS_")) and key != "KUBECONFIG"
    }


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


class EmulatorProcess:
    """``sagemaker-guardrails emulator`` on a free port with an accelerated clock."""

    def __init__(
        self,
        workdir: Path,
        speed: float = 60.0,
        port: int | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.speed = speed
        self.url = f"http://127.0.0.1:{self.port}"
        flags = [f"--{key.replace('_', '-')}={value}" for key, value in (settings or {}).items()]
        self.process = Process(
            "emulator",
            _cli(
                "emulator",
                "--port",
                str(self.port),
                "--speed",
                f"{speed:g}",
                "--log-level",
                "warning",
                *flags,
            ),
            workdir / "logs" / f"emulator-{self.port}.log",
            env=_clean_environment(),
        )

    def aws_environment(self) -> dict[str, str]:
        """What a boto3 client (the operator's, a test's, the user's) needs to talk to this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start(self, timeout: float = 30.0) -> EmulatorProcess:
        self.process.start()
        self.process.wait_ready(lambda: _http_ok(f"{self.url}/_emulator/health"), timeout)
        return self

    def admin(self) -> AdminClient:
        return AdminClient(self.url)

    def stop(self) -> None:
        self.process.stop()


class OperatorProcess:
    """``sagemaker-guardrails run --standalone --all-namespaces`` under a given kubeconfig."""

    def __init__(
        self,
        workdir: Path,
        kubeconfig: Path,
        aws_environment: Mapping[str, str],
        settings: Mapping[str, str] | None = None,
        name: str = "operator",
    ) -> None:
        self.health_port, metrics_port = free_ports(2)
        env = _clean_environment()
        env.update(aws_environment)
        env.update(
            {
                "KUBECONFIG": str(kubeconfig),
                "SAGEMAKER_GUARDRAILS_HEALTH_PORT": str(self.health_port),
                "SAGEMAKER_GUARDRAILS_METRICS_PORT": str(metrics_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update({f"SAGEMAKER_GUARDRAILS_{key.upper()}": value for key, value in (settings or {}).items()})
        self.env = env
        self.workdir = workdir
        self.name = name
        self.log_path = workdir / "logs" / f"{name}.log"
        self.process = self._new_process()

    def _new_process(self) -> Process:
        argv = _cli("run", "--standalone", "--all-namespaces")
        return Process(self.name, argv, self.log_path, env=self.env)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.env['SAGEMAKER_GUARDRAILS_METRICS_PORT']}/metrics"

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        if self.process.alive():
            return self
        self.process = self._new_process()
        self.process.start()
        self.process.wait_ready(lambda: _http_ok(f"http://127.0.0.1:{self.health_port}/healthz"), timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def alive(self) -> bool:
        return self.process.alive()
