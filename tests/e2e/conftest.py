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
from kubernetes import client as k8s
from kubernetes import config as kube_config
from tests.e2e.e2e_support import CRD_FILE
from tests.e2e.geps import Geps
from tests.e2e.rbac import operator_kubeconfig

from sagemaker_guardrails.devenv.controlplane import Cluster, ControlPlane
from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.stack import EmulatorProcess, OperatorProcess


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


# --- the operator and the emulator, as processes ------------------------------------------------

EMULATOR_SPEED = 60.0
OPERATOR_SETTINGS = {
    "active_poll_seconds": "1",
    "settled_poll_seconds": "3",
    "poll_jitter": "0.1",
    "log_format": "text",
    "cluster_id": "e2e",
}


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def emulator(stack_dir: Path) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(stack_dir, speed=EMULATOR_SPEED).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def operator_identity(kubectl: Kubectl, crd: Path, stack_dir: Path) -> Path:
    """Kubeconfig of the operator's ServiceAccount, bound by the chart's RBAC for one standalone
    replica (the operator process runs --standalone: no Lease rights, none needed)."""
    release = f"sgr-e2e-{secrets.token_hex(3)}"
    kubeconfig, _ = operator_kubeconfig(
        kubectl, f"{release}-system", release, stack_dir / "operator.kubeconfig"
    )
    return kubeconfig


@pytest.fixture(scope="module")
def operator_process(
    operator_identity: Path, emulator: EmulatorProcess, stack_dir: Path, request: pytest.FixtureRequest
) -> Iterator[OperatorProcess]:
    """One operator per test module, stopped when the module ends: it watches all namespaces, so
    two of them (say, this one and a module's own) must never run at the same time."""
    name = f"operator-{request.module.__name__.rsplit('.', 1)[-1]}"
    process = OperatorProcess(
        stack_dir, operator_identity, emulator.aws_environment(), OPERATOR_SETTINGS, name=name
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def operator(operator_process: OperatorProcess) -> OperatorProcess:
    """The module's operator, (re)started if a previous test stopped or killed it."""
    return operator_process.start()


@pytest.fixture(scope="session")
def api_client(cluster: Cluster) -> k8s.ApiClient:
    return kube_config.new_client_from_config(config_file=str(cluster.kubeconfig))


@pytest.fixture
def geps(
    kubectl: Kubectl,
    api_client: k8s.ApiClient,
    namespace: str,
    emulator: EmulatorProcess,
    operator: OperatorProcess,
) -> Iterator[Geps]:
    """The test's GuardedEndpoints; whatever the test leaves is deleted (and finalized by the
    operator) afterwards, so that no later operator, here or on a shared kind cluster, inherits it."""
    yield Geps(kubectl, api_client, namespace, emulator)
    operator.start()
    kubectl.run(
        "delete", "guardedendpoints", "--all", "-n", namespace, "--wait=true", "--timeout=60s", timeout=70
    )
