"""The harness itself: a real API server that enforces RBAC, and children stopped by their PIDs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.e2e.rbac import wait_until_bound

from sagemaker_guardrails.devenv.controlplane import Cluster, ControlPlane
from sagemaker_guardrails.devenv.kube import Kubectl, KubectlError

pytestmark = pytest.mark.e2e


def test_service_account_token_is_authenticated_and_rbac_is_enforced(
    cluster: Cluster, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    sa = Kubectl(kubectl.service_account_kubeconfig(namespace, "probe", tmp_path / "probe.kubeconfig"))
    whoami = sa.json("auth", "whoami")
    assert whoami["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:probe"
    with pytest.raises(KubectlError, match="forbidden"):
        sa.run("get", "configmaps", "-n", namespace)

    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "read-configmaps", "namespace": namespace},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "probe", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
        "subjects": [{"kind": "ServiceAccount", "name": "probe", "namespace": namespace}],
    }
    kubectl.apply([role, binding])
    wait_until_bound(kubectl, f"system:serviceaccount:{namespace}:probe", [role, binding])
    assert sa.run("get", "configmaps", "-n", namespace).returncode == 0


@pytest.mark.skipif(os.environ.get("E2E_USE_EXISTING_CLUSTER") == "1", reason="uses the local control plane")
def test_control_plane_stops_its_processes_and_removes_its_folder() -> None:
    plane = ControlPlane()
    with plane as local:
        assert Kubectl(local.kubeconfig).json("get", "namespace", "default")["status"]["phase"] == "Active"
        assert plane.etcd is not None and plane.apiserver is not None
        pids = [plane.etcd.pid, plane.apiserver.pid]
        assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not plane.workdir.exists()
