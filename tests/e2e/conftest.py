"""Session fixtures of the e2e tier: one real cluster per session.

By default a fresh etcd + kube-apiserver (:mod:`sagemaker_guardrails.devenv.controlplane`), with
the binaries from ``KUBEBUILDER_ASSETS`` (``make e2e`` sets it) or the build cache. With
``E2E_USE_EXISTING_CLUSTER=1`` the tests use the cluster ``KUBECONFIG`` points at instead (kind in
the GitHub workflow); they only create namespaced objects in namespaces of their own, plus the CRD.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.e2e_support import CRD_FILE

from sagemaker_guardrails.devenv.controlplane import Cluster, ControlPlane
from sagemaker_guardrails.devenv.kube import Kubectl


def _existing_cluster(workdir: Path) -> Cluster:
    kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config")).expanduser()
    if not kubeconfig.is_file():
        pytest.fail(f"E2E_USE_EXISTING_CLUSTER=1 but there is no kubeconfig at {kubeconfig}")
    server, _, _ = Kubectl(kubeconfig).cluster_endpoint()
    return Cluster(kubeconfig=kubeconfig, server=server, workdir=workdir)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if os.environ.get("E2E_USE_EXISTING_CLUSTER") == "1":
        yield _existing_cluster(tmp_path_factory.mktemp("cluster"))
        return
    plane = ControlPlane(workdir=tmp_path_factory.mktemp("control-plane"))
    with plane as local:
        yield local


@pytest.fixture(scope="session")
def kubectl(cluster: Cluster) -> Kubectl:
    return Kubectl(cluster.kubeconfig)


@pytest.fixture(scope="session")
def crd(kubectl: Kubectl) -> Path:
    """The GuardedEndpoint CRD, installed and Established."""
    kubectl.install_crd(CRD_FILE)
    return CRD_FILE


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    """A namespace of the test's own (not deleted afterwards: without a controller-manager a
    namespace never finishes terminating, and the session's cluster goes away anyway)."""
    stem = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:40].strip("-")
    name = f"e2e-{stem}-{secrets.token_hex(3)}"
    kubectl.ensure_namespace(name)
    return name
