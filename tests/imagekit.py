"""The operator image in the tests: built by ``hack/image/build.sh`` (``make image``: docker when its
engine answers, else buildah on a Debian root file system), and its file system and configuration
read back from the builder's store.

The image test must never be skipped quietly: :func:`unavailable` says why no image can be built
here, and only then (and never in CI) may a test skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "hack" / "image" / "build.sh"
LOCK = REPO / "requirements" / "operator.lock"


@dataclass(frozen=True)
class Image:
    ref: str
    builder: str  # "docker" or "buildah"


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30).returncode == 0


def unavailable() -> str | None:
    """Why this machine can build no image, or None when ``make image`` can (possibly after
    installing buildah, mmdebstrap and runc with apt-get, which the build script does as root)."""
    if _docker_answers():
        return None
    tools = ("buildah", "mmdebstrap", "runc")
    if all(shutil.which(tool) for tool in tools):
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        return None
    missing = [tool for tool in tools if not shutil.which(tool)]
    return (
        f"no docker engine answers, {', '.join(missing)} missing, and they cannot be installed here "
        f"(apt-get as root: {'no apt-get' if not shutil.which('apt-get') else 'not root'})"
    )


def build(timeout: float = 1800) -> Image:
    """``make image``: builds the image unless one with the same inputs is in the store."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr + result.stdout).splitlines()[-40:])
        raise AssertionError(f"{BUILD_SCRIPT.name} failed ({result.returncode}):\n{tail}")
    *_, builder_line, ref = result.stdout.strip().splitlines()
    return Image(ref=ref, builder=builder_line.removeprefix("builder: "))


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout.strip()


def config(image: Image) -> dict[str, Any]:
    """The image's OCI configuration (User, Env, Entrypoint, Cmd, WorkingDir, ExposedPorts, Labels)."""
    if image.builder == "docker":
        found: dict[str, Any] = json.loads(_run("docker", "image", "inspect", image.ref))[0]["Config"]
    else:
        found = json.loads(_run("buildah", "inspect", "--type", "image", image.ref))["OCIv1"]["config"]
    return found


@contextmanager
def root_filesystem(image: Image) -> Iterator[Path]:
    """The image's file system, as a directory, for as long as the context lasts: buildah mounts a
    working container of it; docker exports a created container into a temporary folder."""
    if image.builder == "docker":
        container = _run("docker", "create", image.ref)
        folder = Path(tempfile.mkdtemp(prefix="sgr-rootfs-"))
        try:
            export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(folder)], stdin=export.stdout, check=True)
            export.wait(timeout=300)
            yield folder
        finally:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            shutil.rmtree(folder, ignore_errors=True)
        return
    container = _run("buildah", "from", "--pull=never", "--quiet", image.ref)
    try:
        yield Path(_run("buildah", "mount", container))
    finally:
        subprocess.run(["buildah", "umount", container], capture_output=True, check=False)
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


def installed_distributions(rootfs: Path) -> dict[str, str]:
    """Normalized name -> version of every distribution in the image's virtualenv."""
    found = {}
    for info in rootfs.glob("opt/venv/lib/python3*/site-packages/*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[normalize(name)] = version
    return found


def normalize(name: str) -> str:
    """PEP 503 name normalization."""
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)


def locked(path: Path = LOCK) -> dict[str, str]:
    """Normalized name -> pinned version of a ``--generate-hashes`` lock file."""
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")) and "==" in line:
            name, _, rest = line.partition("==")
            pins[normalize(name.split("[")[0])] = rest.split()[0].rstrip("\\").strip()
    return pins
