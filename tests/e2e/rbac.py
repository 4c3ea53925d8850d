"""The operator's identity in the e2e tier: a ServiceAccount bound by the Helm chart's RBAC rules.

``helm template`` renders the chart's ServiceAccount, ClusterRole(s), Role(s) and bindings for a
release in the operator's namespace; those objects are applied unchanged and the operator runs with
a TokenRequest token of that ServiceAccount, so every e2e test also proves that the shipped rules
suffice (a missing verb shows up as a 403 in the operator log and a test that times out).

The e2e operator is one process run ``--standalone`` (:class:`~sagemaker_guardrails.devenv.stack.
OperatorProcess`), so the chart is rendered with its one-replica defaults, which is also without
leader election: no Lease rights, exactly what that operator uses. Should the chart ever render no
RBAC, the rules of tests/e2e/fixtures/operator-rbac.yaml (the same verbs) stand in.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from tests.e2e.e2e_support import REPO, wait_for

from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.tools import find_tool

CHART = REPO / "charts" / "sagemaker-guardrails"
FIXTURE = Path(__file__).parent / "fixtures" / "operator-rbac.yaml"
RBAC_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def chart_has_rbac() -> bool:
    templates = CHART / "templates"
    return templates.is_dir() and any("kind: ClusterRole" in p.read_text() for p in templates.glob("*.yaml"))


def render_chart_rbac(namespace: str, release: str) -> list[dict[str, Any]]:
    """The chart's RBAC for one standalone replica (the defaults, said explicitly)."""
    rendered = subprocess.run(
        [
            str(find_tool("helm")), "template", release, str(CHART), "--namespace", namespace,
            "--set", "replicaCount=1", "--set", "leaderElection.enabled=false",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    return [doc for doc in yaml.safe_load_all(rendered) if doc and doc.get("kind") in RBAC_KINDS]


def fixture_rbac(namespace: str, release: str) -> list[dict[str, Any]]:
    role = yaml.safe_load(FIXTURE.read_text())
    role["metadata"]["name"] = release
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": release, "namespace": namespace},
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": release},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": release},
        "subjects": [{"kind": "ServiceAccount", "name": release, "namespace": namespace}],
    }
    return [account, role, binding]


def operator_kubeconfig(kubectl: Kubectl, namespace: str, release: str, path: Path) -> tuple[Path, str]:
    """Installs the operator's RBAC and returns (kubeconfig of its ServiceAccount, where the rules came from)."""
    kubectl.ensure_namespace(namespace)
    if chart_has_rbac():
        objects, source = render_chart_rbac(namespace, release), f"chart {CHART.name}"
    else:
        objects, source = fixture_rbac(namespace, release), f"fixture {FIXTURE.name}"
    accounts = [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"]
    assert len(accounts) == 1, f"expected one ServiceAccount from the {source}, got {accounts}"
    assert any(o["kind"] in ("ClusterRoleBinding", "RoleBinding") for o in objects), source
    kubectl.apply(objects)
    account = f"system:serviceaccount:{namespace}:{accounts[0]}"
    wait_until_bound(kubectl, account, objects)
    return kubectl.service_account_kubeconfig(namespace, accounts[0], path), source


def wait_until_bound(
    kubectl: Kubectl, account: str, objects: list[dict[str, Any]], timeout: float = 30.0
) -> None:
    """Waits until the API server's authorizer grants ``account`` a rule of every role bound among
    ``objects``: it learns of new roles and bindings through a watch, so a binding that was just
    applied can still be denied for a moment."""
    roles = {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] in ("Role", "ClusterRole")
    }
    for binding in (o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        where = binding["metadata"].get("namespace")
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], where if ref["kind"] == "Role" else None, ref["name"]))
        rule = next(
            (r for r in (role or {}).get("rules", []) if r.get("resources") and not r.get("resourceNames")),
            None,
        )
        if rule is None:
            continue
        group = rule.get("apiGroups", [""])[0]
        resource, _, sub = rule["resources"][0].partition("/")
        resource = f"{resource}.{group}" if group and group != "*" else resource
        verb = rule["verbs"][0]
        # A subresource goes in --subresource: "TYPE/NAME" would ask about an object of that name.
        args = ["auth", "can-i", verb, resource, *([f"--subresource={sub}"] if sub else [])]
        args += ["--as", account, *(["-n", where] if where else [])]
        wait_for(
            lambda args=args: kubectl.run(*args, check=False).stdout.strip() == "yes",
            timeout,
            f"{binding['kind']} {binding['metadata']['name']} to let {account} {verb} {rule['resources'][0]}",
            interval=0.2,
        )
