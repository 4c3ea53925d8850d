"""``make demo`` end to end: the README's main command must finish, tell the story (a rollout, an
alarm, a rollback) and leave no process behind. Uses its own control plane, so only locally."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("E2E_USE_EXISTING_CLUSTER") == "1", reason="the demo starts its own control plane"
    ),
]


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob:
            found.append(int(proc.name))
    return found


def test_demo_rolls_out_rolls_back_and_stops_everything(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_guardrails.cli", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr}"
    assert "Revision " in out and "deployed: InService" in out
    assert "step 1/2" in out and " 25% on " in out and "100% on " in out and "bake " in out
    assert "-> ALARM" in out
    assert (
        "SageMaker's FailureReason: One or more configured alarm for automatic rollback deployment is in "
        "ALARM state: [" in out
    ), "the rollback's reason, as SageMaker words it (spec 13)"
    assert re.search(r"RolledBack\s+Canary", out), "kubectl get gep shows the rollback"
    assert re.search(r"Warning\s+RolledBack", out), "the Events show the rollback"
    assert re.search(r"Done in \d+s", out), "the demo reports its duration (a figure, not a target here)"
    assert _processes_mentioning(str(workdir)) == []
