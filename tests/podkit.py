"""Runs the operator image the way the chart's Pod runs it, without a kubelet: the container of the
rendered Deployment becomes an OCI runtime bundle for ``runc``.

What is taken from the chart, unchanged: the image's entrypoint with the container's ``args``,
the container's ``env`` (``fieldRef`` resolved as the kubelet would), the security context
(``runAsUser``/``runAsGroup``/``fsGroup``, ``readOnlyRootFilesystem``, ``capabilities``,
``allowPrivilegeEscalation``) and the ``emptyDir`` volumes (a tmpfs of their ``sizeLimit``). The
ServiceAccount token is mounted where the kubelet mounts it, with ``KUBERNETES_SERVICE_HOST``/
``_PORT``, so the operator logs in in-cluster.

Two deviations, because there is no cluster network here: the container shares the host's network
namespace (the API server and the emulator listen on 127.0.0.1), and the ``RuntimeDefault``
seccomp profile is not applied (runc has no built-in default profile; the kubelet gets it from
the container runtime).
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from sagemaker_guardrails.devenv.processes import Process

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_MASKED = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list"]
_MASKED += ["/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def _size(quantity: str) -> str:
    """A Kubernetes quantity (64Mi) as a tmpfs size option (64m)."""
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    for suffix, unit in units.items():
        if quantity.endswith(suffix):
            return quantity.removesuffix(suffix) + unit
    return quantity


def container_env(container: Mapping[str, Any], pod_namespace: str) -> dict[str, str]:
    """The container's environment as the kubelet sets it (literal values and metadata.namespace)."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        field = item["valueFrom"]["fieldRef"]["fieldPath"]
        assert field == "metadata.namespace", f"fieldRef {field} is not simulated"
        env[item["name"]] = pod_namespace
    return env


def service_account_files(kubeconfig: Path, folder: Path, namespace: str) -> dict[str, str]:
    """Writes token, ca.crt and namespace as the kubelet projects them; returns the in-cluster
    environment that points at the API server of ``kubeconfig``."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(config["users"][0]["user"]["token"])
    (folder / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    (folder / "namespace").write_text(namespace)
    for path in folder.iterdir():
        path.chmod(0o644)
    server = urlparse(cluster["server"])
    return {
        "KUBERNETES_SERVICE_HOST": str(server.hostname),
        "KUBERNETES_SERVICE_PORT": str(server.port or 443),
    }


def runtime_spec(
    rootfs: Path,
    image_config: Mapping[str, Any],
    pod: Mapping[str, Any],
    env: Mapping[str, str],
    binds: Mapping[str, Path],
) -> dict[str, Any]:
    """The OCI runtime configuration of the pod's first container."""
    container = pod["containers"][0]
    pod_security = pod.get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    argv = list(container.get("command") or image_config.get("Entrypoint") or [])
    argv += list(container["args"] if "args" in container else image_config.get("Cmd") or [])
    environment = {k: v for k, v in (e.split("=", 1) for e in image_config.get("Env") or [])}
    environment.update(env)
    caps = security.get("capabilities", {})
    assert caps.get("drop") == ["ALL"] and not caps.get("add"), "only drop: [ALL] is simulated"
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]  # fmt: skip
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        assert "emptyDir" in volume, f"volume {mount['name']}: only emptyDir is simulated"
        options = ["nosuid", "nodev", "mode=1777"]
        if volume["emptyDir"].get("sizeLimit"):
            options.append(f"size={_size(volume['emptyDir']['sizeLimit'])}")
        mounts.append(
            {"destination": mount["mountPath"], "type": "tmpfs", "source": "tmpfs", "options": options}
        )
    for destination, source in binds.items():
        mounts.append(
            {"destination": destination, "type": "bind", "source": str(source), "options": ["rbind", "ro"]}
        )
    groups = [g for g in [pod_security.get("fsGroup"), *pod_security.get("supplementalGroups", [])] if g]
    return {
        "ociVersion": "1.0.2",
        "root": {"path": str(rootfs), "readonly": bool(security.get("readOnlyRootFilesystem"))},
        "hostname": "sagemaker-guardrails",
        "process": {
            "terminal": False,
            "user": {"uid": int(security["runAsUser"]), "gid": int(security["runAsGroup"]), "additionalGids": groups},
            "args": argv,
            "env": [f"{k}={v}" for k, v in environment.items()],
            "cwd": image_config.get("WorkingDir") or "/",
            "capabilities": {"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []},
            "noNewPrivileges": security.get("allowPrivilegeEscalation") is False,
        },
        "mounts": mounts,
        "linux": {
            # No network namespace: the host's (see the module docstring).
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
            "maskedPaths": _MASKED,
            "readonlyPaths": _READONLY,
        },
    }  # fmt: skip


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


class Container:
    """One runc container in the foreground, its output in ``log_path``; ``start`` waits for the
    health port (host network) to answer /healthz."""

    def __init__(self, workdir: Path, name: str, spec: Mapping[str, Any], health_port: int) -> None:
        self.name = name
        self.bundle = workdir / f"bundle-{name}"
        self.state = workdir / "runc-state"
        self.log_path = workdir / "logs" / f"{name}.log"
        self.health_port = health_port
        self.bundle.mkdir(parents=True, exist_ok=True)
        (self.bundle / "config.json").write_text(json.dumps(spec, indent=1))
        self.process: Process | None = None

    def _runc(self, *args: str) -> list[str]:
        return ["runc", "--root", str(self.state), *args]

    def start(self, timeout: float = 90.0) -> Container:
        if self.alive():
            return self
        self._delete()
        self.process = Process(
            self.name, self._runc("run", "--bundle", str(self.bundle), self.name), self.log_path
        )
        self.process.start()
        self.process.wait_ready(lambda: _http_ok(f"http://127.0.0.1:{self.health_port}/healthz"), timeout)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def stop(self) -> None:
        """SIGTERM (runc forwards it to the container's PID 1), then the container is deleted."""
        if self.process is not None:
            self.process.stop(timeout=10)
        self._delete()

    def _delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            subprocess.run(
                self._runc("delete", "--force", self.name), capture_output=True, check=False, timeout=30
            )

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Runs ``argv`` in the running container, as its user."""
        return subprocess.run(
            self._runc("exec", self.name, *argv), capture_output=True, text=True, check=False, timeout=60
        )
