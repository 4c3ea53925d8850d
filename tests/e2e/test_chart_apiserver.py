"""The Helm chart against the real kube-apiserver of the e2e tier.

- Every value set of :mod:`tests.chartkit` is rendered by ``helm template`` and applied with a
  server-side dry run: the API server's own validation (OpenAPI, strict field validation, CRD
  schemas of the ServiceMonitor and PrometheusRule, RBAC escalation checks) accepts every object.
- The RBAC the chart renders, applied for real, lets the operator's ServiceAccount do exactly the
  contract's verbs, in exactly the watched namespaces (asked of the API server's authorizer).
- A real ``helm install`` and ``helm upgrade`` of an HA release: the kopf peering object starts as
  a post-install hook and is adopted by the upgrade without being recreated.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests import chartkit
from tests.chartkit import VALUE_SETS, WATCHED
from tests.e2e.rbac import wait_until_bound

from sagemaker_guardrails.devenv.controlplane import AssetsNotFoundError, Cluster, ControlPlane, find_assets
from sagemaker_guardrails.devenv.kube import Kubectl

pytestmark = pytest.mark.e2e

PROMETHEUS_OPERATOR_CRDS = chartkit.REPO / "tests" / "fixtures" / "prometheus-operator"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "ClusterKopfPeering"}


@pytest.fixture(scope="module")
def monitoring_crds(kubectl: Kubectl) -> None:
    for path in sorted(PROMETHEUS_OPERATOR_CRDS.glob("*.yaml")):
        kubectl.install_crd(path)


@pytest.fixture(scope="module")
def peering_crds(kubectl: Kubectl) -> None:
    """kopf's peering CRDs as the chart renders them, installed for real: a dry run cannot make a
    CRD's kind known to the API server for the objects that follow it."""
    for crd in chartkit.only(chartkit.render(VALUE_SETS["ha"]), "CustomResourceDefinition"):
        kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(crd))
        kubectl.run("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=60s")


def isolated(values: dict[str, Any], namespace: str, kubectl: Kubectl) -> dict[str, Any]:
    """The value set with watched namespaces of this test's own (created, so Roles can go there)."""
    values = copy.deepcopy(values)
    operator = values.get("operator", {})
    if operator.get("watchNamespaces"):
        operator["watchNamespaces"] = [f"{namespace}-{ns.split('-')[-1]}"[:63] for ns in WATCHED]
        for ns in operator["watchNamespaces"]:
            kubectl.ensure_namespace(ns)
    return values


@pytest.mark.usefixtures("crd", "monitoring_crds", "peering_crds")
@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_rendered_chart_passes_server_side_dry_run(kubectl: Kubectl, namespace: str, name: str) -> None:
    release = f"dry-{secrets.token_hex(3)}"
    values = isolated(VALUE_SETS[name], namespace, kubectl)
    rendered = chartkit.template_text(values, release=release, namespace=namespace).stdout
    objects = [d for d in yaml.safe_load_all(rendered) if d]
    assert objects
    out = kubectl.run(
        "apply", "--server-side", "--force-conflicts", "--dry-run=server", "--validate=strict",
        "--field-manager=helm",
        "-f", "-", "-o", "yaml", input=rendered,
    ).stdout  # fmt: skip
    accepted = [d for d in yaml.safe_load_all(out) if d]
    items = accepted[0]["items"] if len(accepted) == 1 and accepted[0]["kind"] == "List" else accepted
    assert sorted((o["kind"], o["metadata"]["name"]) for o in items) == sorted(
        (o["kind"], o["metadata"]["name"]) for o in objects
    )
    for obj in items:
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"]["namespace"] in [
                namespace,
                *values.get("operator", {}).get("watchNamespaces", []),
            ]


def test_chart_crds_pass_server_side_dry_run(kubectl: Kubectl, crd: Path) -> None:
    for path in chartkit.chart_crds():
        kubectl.run("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", str(path))


def can(kubectl: Kubectl, account: str, verb: str, resource: str, namespace: str | None) -> bool:
    where = ["-n", namespace] if namespace else []
    result = kubectl.run("auth", "can-i", verb, resource, "--as", account, *where, check=False)
    return result.stdout.strip() == "yes"


@pytest.fixture
def applied_rbac(kubectl: Kubectl, crd: Path, peering_crds: None, namespace: str) -> Iterator[dict[str, Any]]:
    release = f"rbac-{secrets.token_hex(3)}"
    values = isolated(VALUE_SETS["namespaced-ha"], namespace, kubectl)
    objects = chartkit.render(values, release=release, namespace=namespace)
    rbac = [
        o
        for o in objects
        if o["kind"] in {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    ]
    kubectl.apply(rbac)
    account = (
        f"system:serviceaccount:{namespace}:{chartkit.one(objects, 'ServiceAccount')['metadata']['name']}"
    )
    wait_until_bound(kubectl, account, rbac)
    yield {
        "account": account,
        "watched": values["operator"]["watchNamespaces"],
    }
    for obj in rbac:
        if obj["kind"] in CLUSTER_SCOPED:
            kubectl.run("delete", obj["kind"].lower(), obj["metadata"]["name"], "--ignore-not-found")


def test_rendered_rbac_grants_the_contract_verbs_in_watched_namespaces_only(
    kubectl: Kubectl, applied_rbac: dict[str, Any], namespace: str
) -> None:
    account, watched = applied_rbac["account"], applied_rbac["watched"]
    for ns in watched:
        for verb in ("get", "list", "watch", "patch", "update"):
            assert can(kubectl, account, verb, "guardedendpoints.sagemaker-guardrails.dev", ns), verb
        for verb in ("get", "patch", "update"):
            assert can(kubectl, account, verb, "guardedendpoints.sagemaker-guardrails.dev/status", ns), verb
        for verb in ("create", "patch"):
            assert can(kubectl, account, verb, "events", ns), verb
        for verb in ("get", "list", "watch", "patch"):
            assert can(kubectl, account, verb, "kopfpeerings.kopf.dev", ns), verb
        for verb, resource in (
            ("delete", "guardedendpoints.sagemaker-guardrails.dev"),
            ("create", "guardedendpoints.sagemaker-guardrails.dev"),
            ("get", "secrets"),
            ("list", "configmaps"),
            ("create", "pods"),
        ):
            assert not can(kubectl, account, verb, resource, ns), f"{verb} {resource} must be denied"
    assert not can(kubectl, account, "list", "guardedendpoints.sagemaker-guardrails.dev", namespace)
    assert not can(kubectl, account, "list", "guardedendpoints.sagemaker-guardrails.dev", None), (
        "no cluster-wide list"
    )
    for verb in ("get", "list", "watch"):
        assert can(kubectl, account, verb, "customresourcedefinitions.apiextensions.k8s.io", None)
        assert can(kubectl, account, verb, "namespaces", None)
    assert not can(kubectl, account, "update", "customresourcedefinitions.apiextensions.k8s.io", None)


def helm(cluster: Cluster, *args: str) -> str:
    return chartkit.helm(*args, "--kubeconfig", str(cluster.kubeconfig)).stdout


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A control plane of this test's own: the first-install path needs a cluster that has never
    seen kopf's CRDs, and the test installs and removes cluster-scoped objects."""
    try:
        assets = find_assets()
    except AssetsNotFoundError as error:
        pytest.skip(f"a fresh control plane needs kube-apiserver and etcd: {error}")
    with ControlPlane(assets=assets, workdir=tmp_path / "fresh") as fresh:
        yield fresh


def test_ha_install_then_upgrade_adopts_the_peering_object_without_recreating_it(
    fresh_cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = Kubectl(fresh_cluster.kubeconfig)
    namespace, release = "sagemaker-guardrails", "guardrails"
    peering = f"{release}-sagemaker-guardrails"
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"replicaCount": 2}))
    chart = str(chartkit.CHART)
    install = ["--namespace", namespace, "--create-namespace", "--values", str(values)]

    helm(fresh_cluster, "install", release, chart, *install)
    first = kubectl.json("get", "clusterkopfpeering", peering)
    assert first["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert kubectl.json("get", "crd", chartkit.CRD_NAME)["metadata"]["name"] == chartkit.CRD_NAME
    # A running operator writes its peers into the object; the upgrade must keep them.
    kubectl.run(
        "patch", "clusterkopfpeering", peering, "--type", "merge",
        "-p", '{"status": {"pod-a": {"priority": 7, "lifetime": 60}}}',
    )  # fmt: skip

    helm(fresh_cluster, "upgrade", release, chart, "--namespace", namespace, "--values", str(values))
    second = kubectl.json("get", "clusterkopfpeering", peering)
    assert second["metadata"]["uid"] == first["metadata"]["uid"], "the peering object was recreated"
    assert second["status"] == {"pod-a": {"priority": 7, "lifetime": 60}}
    assert "helm.sh/hook" not in second["metadata"].get("annotations", {})
    manifest = helm(fresh_cluster, "get", "manifest", release, "--namespace", namespace)
    assert "kind: ClusterKopfPeering" in manifest, "the release owns the object now"
    deployment = kubectl.json("get", "deployment", peering, "-n", namespace)
    assert f"--peering={peering}" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]

    # A second HA release (another team's operator instance) installs beside it: the kopf CRDs
    # that the first release created are not rendered again, and its peering object is ordinary.
    helm(fresh_cluster, "install", "other", chart, "--namespace", "other", "--create-namespace",
         "--values", str(values))  # fmt: skip
    other = kubectl.json("get", "clusterkopfpeering", "other-sagemaker-guardrails")
    assert "helm.sh/hook" not in other["metadata"].get("annotations", {})

    helm(fresh_cluster, "uninstall", release, "--namespace", namespace)
    gone = kubectl.run("get", "clusterkopfpeering", peering, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    for crd in ("clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):
        assert kubectl.run("get", "crd", crd, check=False).returncode == 0, f"{crd} is kept for others"
    assert kubectl.json("get", "clusterkopfpeering", "other-sagemaker-guardrails")
