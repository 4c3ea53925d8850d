"""A real Kubernetes control plane (etcd + kube-apiserver, no nodes) for tests and the demo.

This is what envtest does for Go operators, as separate processes on free loopback ports with a
temporary data directory:

- etcd with ``--unsafe-no-fsync`` (test data, speed over durability);
- kube-apiserver with RBAC authorization, static-token authentication for the admin (group
  ``system:masters``), a generated service-account signing key so that the TokenRequest API works
  (the operator runs as a real ServiceAccount token, see :mod:`.kube`), and a self-signed serving
  certificate whose CA goes into the kubeconfig.

There is no controller-manager: namespaces stay ``Terminating`` after deletion, nothing garbage-
collects by ownerReference and no default ServiceAccount appears (the ServiceAccount admission
plugin is disabled for that reason). A CRD-only operator needs none of that.

The binaries come from ``KUBEBUILDER_ASSETS`` (the envtest convention), the cache that
``hack/control-plane/build.sh`` fills, or ``PATH``; in a source checkout the build script runs on
demand. Children are stopped by their own PIDs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sagemaker_guardrails.devenv.kube import Kubectl, write_kubeconfig
from sagemaker_guardrails.devenv.processes import (
    Process,
    free_ports,
    stop_children_on_termination,
    stop_recorded,
)

ADMIN_USER = "sagemaker-guardrails-admin"
STATE_FILE = "state.json"
_BINARIES = ("kube-apiserver", "etcd")


class AssetsNotFoundError(RuntimeError):
    """kube-apiserver and etcd are nowhere to be found and cannot be built here."""


def repo_root() -> Path | None:
    """The source checkout this package runs from (editable install), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "hack" / "control-plane" / "build.sh").is_file() else None


def _has_binaries(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in _BINARIES)


def find_assets(build: bool = False) -> Path:
    """The folder holding ``kube-apiserver`` and ``etcd``.

    In order: ``KUBEBUILDER_ASSETS``; in a source checkout, the cache folder of the versions its
    ``hack/control-plane`` pins (built by its script when missing and ``build`` is set: minutes,
    first time only); otherwise the newest cached build, then ``PATH``.
    """
    env = os.environ.get("KUBEBUILDER_ASSETS")
    if env and _has_binaries(Path(env)):
        return Path(env)
    checkout = repo_root()
    if checkout is not None:
        script = checkout / "hack" / "control-plane" / "build.sh"
        args = ["bash", str(script)] if build else ["bash", str(script), "--where"]
        out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True).stdout
        folder = Path(out.strip().splitlines()[-1])
        if _has_binaries(folder):
            return folder
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sagemaker-guardrails"
    cached = sorted((base / "control-plane").glob("k8s-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in cached:
        if _has_binaries(folder):
            return folder
    on_path = [shutil.which(name) for name in _BINARIES]
    if all(on_path) and len({Path(p).parent for p in on_path if p}) == 1:
        return Path(str(on_path[0])).parent
    raise AssetsNotFoundError(
        "kube-apiserver and etcd not found: set KUBEBUILDER_ASSETS, or run `make control-plane` "
        "(bash hack/control-plane/build.sh) in a source checkout"
    )


def _write_service_account_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)


@dataclass(frozen=True)
class Cluster:
    """How to reach a running cluster as admin."""

    kubeconfig: Path
    server: str
    workdir: Path


class ControlPlane:
    """etcd + kube-apiserver as child processes; a context manager that returns a :class:`Cluster`."""

    def __init__(self, assets: Path | None = None, workdir: Path | None = None, keep: bool = False) -> None:
        self.assets = assets
        self.keep = keep
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="sagemaker-guardrails-cp-"))
        self.admin_token = secrets.token_urlsafe(24)
        self.etcd: Process | None = None
        self.apiserver: Process | None = None
        self.cluster: Cluster | None = None
        self.startup_seconds: float | None = None

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.keep:
            self.stop()

    def start(self, timeout: float = 90.0) -> Cluster:
        began = time.monotonic()
        assets = self.assets or find_assets()
        self.workdir.mkdir(parents=True, exist_ok=True)
        logs = self.workdir / "logs"
        etcd_port, peer_port, api_port = free_ports(3)
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self.etcd = Process(
            "etcd",
            [
                str(assets / "etcd"),
                "--name=default",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            logs / "etcd.log",
        ).start()

        sa_key = self.workdir / "sa.key"
        _write_service_account_key(sa_key)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        tokens.chmod(0o600)
        self.etcd.wait_ready(lambda: _get(f"{etcd_url}/health") is not None, timeout)

        certs = self.workdir / "certs"
        self.apiserver = Process(
            "kube-apiserver",
            [
                str(assets / "kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--cert-dir={certs}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={sa_key}",
                f"--service-account-signing-key-file={sa_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--disable-admission-plugins=ServiceAccount",
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
            ],
            logs / "kube-apiserver.log",
        ).start()
        server = f"https://127.0.0.1:{api_port}"
        self.apiserver.wait_ready(lambda: _get(f"{server}/readyz", self.admin_token) == "ok", timeout)

        ca_data = base64.b64encode((certs / "apiserver.crt").read_bytes()).decode()
        kubeconfig = write_kubeconfig(
            self.workdir / "kubeconfig", server, self.admin_token, ca_data=ca_data, name="guardrails-local"
        )
        self.startup_seconds = time.monotonic() - began
        self.cluster = Cluster(kubeconfig=kubeconfig, server=server, workdir=self.workdir)
        self._write_state()
        return self.cluster

    def stop_apiserver(self) -> None:
        """Stops kube-apiserver (by its PID) and leaves etcd running: an API-server outage."""
        if self.apiserver is not None:
            self.apiserver.stop()

    def restart_apiserver(self, timeout: float = 90.0) -> None:
        """Starts kube-apiserver again on the same port, certificates and etcd, and waits for it."""
        if self.apiserver is None or self.cluster is None:
            raise RuntimeError("the control plane was never started")
        if self.apiserver.alive():
            return
        self.apiserver.start()
        server = self.cluster.server
        self.apiserver.wait_ready(lambda: _get(f"{server}/readyz", self.admin_token) == "ok", timeout)
        self._write_state()

    def _write_state(self) -> None:
        assert self.etcd is not None and self.apiserver is not None and self.cluster is not None
        state = {
            "kubeconfig": str(self.cluster.kubeconfig),
            "server": self.cluster.server,
            "processes": [self.apiserver.record(), self.etcd.record()],
            "temporary": self._own_workdir,
        }
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        """Stops the API server first (it holds etcd connections), then etcd, then removes the
        temporary folder unless it was given by the caller."""
        for process in (self.apiserver, self.etcd):
            if process is not None:
                process.stop()
        if self._own_workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _get(url: str, token: str | None = None) -> str | None:
    """The body of a 200 response, else None. TLS is not verified: this only probes readiness of a
    server we just started, before its self-signed certificate can be read."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            body: bytes = response.read()
            return body.decode()
    except (urllib.error.URLError, OSError):
        return None


def add_kept_processes(workdir: Path, processes: list[Process]) -> None:
    """Records more processes (the demo's operator and emulator) to be stopped by ``down``, before
    the control plane's own."""
    path = workdir / STATE_FILE
    state = json.loads(path.read_text())
    state["processes"] = [p.record() for p in processes] + state["processes"]
    path.write_text(json.dumps(state, indent=2))


def stop_kept(workdir: Path) -> list[str]:
    """Stops what ``up --keep`` (or ``demo --keep``) left running, by the PIDs it recorded."""
    state = json.loads((workdir / STATE_FILE).read_text())
    stopped = stop_recorded(state["processes"])
    if state.get("temporary"):
        shutil.rmtree(workdir, ignore_errors=True)
    return stopped


def cli_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sagemaker-guardrails control-plane")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start etcd + kube-apiserver and install the GuardedEndpoint CRD")
    up.add_argument("--keep", action="store_true", help="leave it running and exit")
    up.add_argument("--workdir", type=Path, help="folder for data, logs and the kubeconfig")
    up.add_argument(
        "--crd", type=Path, help="CRD file to install (default: the generated GuardedEndpoint CRD)"
    )
    down = sub.add_parser("down", help="stop a control plane started with `up --keep`")
    down.add_argument("--workdir", type=Path, required=True)
    sub.add_parser("tools", help="print the paths of kubectl and helm", add_help=False)
    args, rest = parser.parse_known_args(argv)

    if args.command == "tools":
        from sagemaker_guardrails.devenv.tools import cli_main as tools_main

        return tools_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "down":
        print("stopped: " + (", ".join(stop_kept(args.workdir)) or "nothing was running"))
        return 0

    plane = ControlPlane(assets=find_assets(build=True), workdir=args.workdir, keep=args.keep)
    if not args.keep:
        stop_children_on_termination()
    with plane as cluster:
        crd = args.crd
        if crd is None:
            from sagemaker_guardrails.api.crd import render_crd

            crd = plane.workdir / "crd.yaml"
            crd.write_text(render_crd())
        Kubectl(cluster.kubeconfig).install_crd(crd)
        print(f"control plane ready in {plane.startup_seconds:.1f}s at {cluster.server}")
        print(f"export KUBECONFIG={cluster.kubeconfig}")
        if args.keep:
            print(f"stop it with: sagemaker-guardrails control-plane down --workdir {plane.workdir}")
            return 0
        print("press Ctrl-C to stop", flush=True)
        try:
            while plane.apiserver is not None and plane.apiserver.alive():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0
