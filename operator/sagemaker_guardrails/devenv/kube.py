"""Driving a cluster the way a user does: through ``kubectl`` and kubeconfig files.

Used by the e2e tests and the demo against either our own control plane or an existing cluster
(kind in CI), so everything here goes through a kubeconfig and nothing assumes which one it is.

The operator's identity is a real ServiceAccount with a token from the TokenRequest API
(``kubectl create token``), bound by the chart's RBAC rules. kube-apiserver authenticates it as
``system:serviceaccount:<ns>:<name>`` exactly as it would the pod's projected token, so a test run
under that kubeconfig proves that the chart's rules suffice, on our control plane and on kind alike.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sagemaker_guardrails.devenv.tools import find_tool

CRD_NAME = "guardedendpoints.sagemaker-guardrails.dev"


class KubectlError(RuntimeError):
    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"kubectl {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


class Kubectl:
    """``kubectl`` bound to one kubeconfig."""

    def __init__(self, kubeconfig: Path, binary: Path | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.binary = binary or find_tool("kubectl")

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise KubectlError(args, result.returncode, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def apply(self, manifests: str | Path | Iterable[Mapping[str, Any]], *extra: str) -> str:
        """``kubectl apply`` of a file, a YAML string, or a list of objects."""
        if isinstance(manifests, Path):
            return self.run("apply", "-f", str(manifests), *extra).stdout
        text = manifests if isinstance(manifests, str) else yaml.safe_dump_all(list(manifests))
        return self.run("apply", "-f", "-", *extra, input=text).stdout

    def ensure_namespace(self, name: str) -> None:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.apply([manifest])

    def install_crd(self, path: Path, timeout: float = 60.0) -> None:
        """Applies the CRD (server-side: it is too large for the last-applied annotation) and waits
        until the API server serves it."""
        self.run("apply", "--server-side", "--force-conflicts", "-f", str(path))
        crd = yaml.safe_load(path.read_text())["metadata"]["name"]
        self.run(
            "wait",
            "--for=condition=Established",
            f"crd/{crd}",
            f"--timeout={int(timeout)}s",
            timeout=timeout + 10,
        )

    def cluster_endpoint(self) -> tuple[str, str | None, bool]:
        """(server, certificate-authority-data or None, insecure-skip-tls-verify) of the current context."""
        view = json.loads(self.run("config", "view", "--raw", "--minify", "-o", "json").stdout)
        cluster = view["clusters"][0]["cluster"]
        ca = cluster.get("certificate-authority-data")
        if ca is None and cluster.get("certificate-authority"):
            ca = base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode()
        return cluster["server"], ca, bool(cluster.get("insecure-skip-tls-verify", False))

    def service_account_kubeconfig(
        self, namespace: str, name: str, path: Path, duration: str = "24h"
    ) -> Path:
        """Creates the ServiceAccount if needed and writes a kubeconfig that authenticates as it."""
        self.ensure_namespace(namespace)
        sa = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        }
        self.apply([sa])
        token = self.run("create", "token", name, "-n", namespace, f"--duration={duration}").stdout.strip()
        server, ca, insecure = self.cluster_endpoint()
        write_kubeconfig(path, server, token, ca_data=ca, insecure=insecure, namespace=namespace)
        return path


def write_kubeconfig(
    path: Path,
    server: str,
    token: str,
    *,
    ca_data: str | None = None,
    insecure: bool = False,
    namespace: str | None = None,
    name: str = "sagemaker-guardrails",
) -> Path:
    cluster: dict[str, Any] = {"server": server}
    if ca_data and not insecure:
        cluster["certificate-authority-data"] = ca_data
    else:
        cluster["insecure-skip-tls-verify"] = True
    context: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
