"""The image's hash-pinned requirements (``make lock``) cover what pyproject.toml asks for, pin
every file by hash, and hold nothing of the emulator or of the development tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.imagekit import LOCK, locked

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
BUILD_LOCK = REPO / "requirements" / "build.lock"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# Distributions that only the emulator or the development tools bring; the image must have none.
NOT_IN_THE_IMAGE = {"moto", "werkzeug", "responses", "cryptography", "pytest", "mypy", "ruff", "uv"}


def hashes(path: Path) -> dict[str, list[str]]:
    """Pinned name -> its sha256 hashes, from a ``--generate-hashes`` file."""
    found: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            current = canonicalize_name(line.split("==")[0].split("[")[0])
            found[current] = []
        if current is not None:
            found[current] += re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
    return found


def uncovered(requirements: list[str], pins: dict[str, str]) -> list[str]:
    """The requirements that no pin satisfies (missing, or pinned outside the specifier)."""
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"python_version": "3.11"}):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{text}: not in the lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{text}: the lock pins {pinned}")
    return problems


def test_the_lock_covers_every_core_dependency() -> None:
    assert uncovered(PYPROJECT["project"]["dependencies"], locked()) == [], (
        "requirements/operator.lock is out of date with pyproject.toml: run `make lock`"
    )


def test_the_coverage_check_sees_a_missing_or_outdated_pin() -> None:
    pins = {"kopf": "1.45.2"}
    assert uncovered(["kopf>=1.45", "boto3>=1.38"], pins) == ["boto3>=1.38: not in the lock"]
    assert uncovered(["kopf>=2"], pins) == ["kopf>=2: the lock pins 1.45.2"]


def test_the_build_lock_covers_the_build_backend_and_pip() -> None:
    requires = [*PYPROJECT["build-system"]["requires"], "pip"]
    assert uncovered(requires, locked(BUILD_LOCK)) == [], (
        "requirements/build.lock is out of date: `make lock`"
    )


@pytest.mark.parametrize("path", [LOCK, BUILD_LOCK], ids=["operator", "build"])
def test_every_pin_is_exact_and_hashed(path: Path) -> None:
    pinned = hashes(path)
    assert pinned, f"{path.name} pins nothing"
    for name, found in pinned.items():
        assert found, f"{path.name}: {name} has no hash (pip --require-hashes would refuse it)"
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            assert re.fullmatch(r"[A-Za-z0-9._-]+(\[[^\]]+\])?==[^\s;]+( ; .+)? \\", line), line


def test_the_lock_has_nothing_of_the_emulator_or_the_dev_tools() -> None:
    assert set(locked()) & NOT_IN_THE_IMAGE == set()
    extras = PYPROJECT["project"]["optional-dependencies"]
    emulator = {canonicalize_name(Requirement(r).name) for r in extras["emulator"]}
    assert emulator <= NOT_IN_THE_IMAGE
    assert "sagemaker-guardrails-operator[emulator]" in extras["dev"], "dev includes the emulator"


def test_core_dependencies_leave_the_emulator_to_its_extra() -> None:
    core = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert core & NOT_IN_THE_IMAGE == set()


def test_the_lock_targets_the_images_python() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    base = re.search(r"ARG PYTHON_IMAGE=python:(\d+\.\d+)\.", dockerfile)
    assert base, "the Dockerfile names its python base image"
    script = (REPO / "hack" / "lock.py").read_text()
    assert f'PYTHON_VERSION = "{base.group(1)}"' in script
