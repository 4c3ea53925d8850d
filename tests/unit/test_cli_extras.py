"""The development commands say which extra they need when it is missing (as in the operator
image, which has none), instead of failing with an ImportError traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sagemaker_guardrails import cli

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
REQUIRES = [
    "kopf>=1.45",
    'moto[cloudwatch]>=5.0; extra == "emulator"',
    'werkzeug>=3.0; extra == "emulator"',
    'sagemaker-guardrails-operator[emulator]; extra == "dev"',
    'cryptography>=42; extra == "dev"',
    'pytest>=8; extra == "dev"',
]


def run_cli(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter, after ``prelude`` (which hides installed distributions)."""
    code = (
        textwrap.dedent(prelude)
        + f"\nfrom sagemaker_guardrails.cli import main\nsys.exit(main({list(args)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO, check=False
    )


def test_missing_requirements_follow_the_extras_of_the_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_installed", lambda name: name not in ("moto", "pytest"))
    assert cli.missing_requirements("emulator", REQUIRES) == ["moto"]
    assert cli.missing_requirements("dev", REQUIRES) == ["moto", "pytest"]
    monkeypatch.setattr(cli, "_installed", lambda name: True)
    assert cli.missing_requirements("dev", REQUIRES) == []


def test_every_command_that_needs_an_extra_names_one_the_distribution_has() -> None:
    assert set(cli.EXTRAS) <= set(cli.SUBCOMMANDS)
    assert "run" not in cli.EXTRAS and "crd" not in cli.EXTRAS
    pyproject = (REPO / "pyproject.toml").read_text()
    for extra in set(cli.EXTRAS.values()):
        assert f"\n{extra} = [" in pyproject, extra


HIDE_DISTRIBUTION = """
    import importlib.metadata, sys
    real = importlib.metadata.version
    def version(name):
        if name.lower() in ("moto", "werkzeug"):
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)
    importlib.metadata.version = version
"""

HIDE_MODULE = """
    import sys
    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("werkzeug", "moto"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Hide())
"""


def test_emulator_without_its_extra_says_how_to_install_it() -> None:
    result = run_cli(HIDE_DISTRIBUTION, "emulator", "--help")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs the 'emulator' extra" in result.stderr
    assert "missing: moto, werkzeug" in result.stderr
    assert "pip install 'sagemaker-guardrails-operator[emulator]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_module_of_an_extra_is_reported_not_raised() -> None:
    """Installed metadata but no importable module (a broken environment): still a clear message."""
    result = run_cli(HIDE_MODULE, "emulator", "--help")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs the 'emulator' extra" in result.stderr and "module werkzeug" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_of_the_operator_need_no_extra() -> None:
    result = run_cli(HIDE_DISTRIBUTION + HIDE_MODULE, "crd")
    assert result.returncode == 0, result.stderr
    assert "kind: CustomResourceDefinition" in result.stdout
