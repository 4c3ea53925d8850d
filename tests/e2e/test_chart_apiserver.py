"""The Helm chart against the real kube-apiserver of the e2e tier.

- Every value set of :mod:`tests.chartkit` is rendered by ``helm template`` and applied with a
  server-side dry run: the API server's own validation (OpenAPI, strict field validation, CRD
  schemas of the ServiceMonitor and PrometheusRule, RBAC escalation checks) accepts every object.
- The RBAC the chart renders, applied for real, lets the operator's ServiceAccount do exactly the
  operator's verbs, in exactly the watched namespaces, and, with leader election, use its own
  Lease in the release namespace and nowhere else (asked of the API server's authorizer, and
  proved by the operator's own leader elector running with the ServiceAccount's token).
- A real ``helm install``, ``helm upgrade`` and ``helm uninstall`` of an HA release: the Lease
  rights survive an upgrade untouched (a leader keeps renewing through it), go away when the
  release is scaled down to one standalone replica, and the release leaves nothing behind but the
  Lease the operator itself created.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config as kube_config
from tests import chartkit
from tests.chartkit import VALUE_SETS, WATCHED
from tests.e2e.e2e_support import wait_for
from tests.e2e.rbac import RBAC_KINDS, wait_until_bound

from sagemaker_guardrails.devenv.controlplane import AssetsNotFoundError, Cluster, ControlPlane, find_assets
from sagemaker_guardrails.devenv.kube import Kubectl, write_kubeconfig
from sagemaker_guardrails.loop.leader import LeaderElector

pytestmark = pytest.mark.e2e

PROMETHEUS_OPERATOR_CRDS = chartkit.REPO / "tests" / "fixtures" / "prometheus-operator"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}
GEP = "guardedendpoints.sagemaker-guardrails.dev"
LEASES = "leases.coordination.k8s.io"


@pytest.fixture(scope="module")
def monitoring_crds(kubectl: Kubectl) -> None:
    for path in sorted(PROMETHEUS_OPERATOR_CRDS.glob("*.yaml")):
        kubectl.install_crd(path)


def isolated(values: dict[str, Any], namespace: str, kubectl: Kubectl) -> dict[str, Any]:
    """The value set with watched namespaces of this test's own (created, so Roles can go there)."""
    values = copy.deepcopy(values)
    operator = values.get("operator", {})
    if operator.get("watchNamespaces"):
        operator["watchNamespaces"] = [f"{namespace}-{ns.split('-')[-1]}"[:63] for ns in WATCHED]
        for ns in operator["watchNamespaces"]:
            kubectl.ensure_namespace(ns)
    return values


@pytest.mark.usefixtures("crd", "monitoring_crds")
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


def can(
    kubectl: Kubectl,
    account: str,
    verb: str,
    resource: str,
    namespace: str | None,
    *,
    subresource: str | None = None,
) -> bool:
    """``kubectl auth can-i``: ``resource`` may be TYPE or TYPE/NAME; a subresource is asked with
    ``--subresource`` (``TYPE/status`` would ask about an object named "status")."""
    where = ["-n", namespace] if namespace else []
    sub = [f"--subresource={subresource}"] if subresource else []
    result = kubectl.run("auth", "can-i", verb, resource, *sub, "--as", account, *where, check=False)
    return result.stdout.strip() == "yes"


ApplyRbac = Callable[[str], dict[str, Any]]


@pytest.fixture
def applied_rbac(kubectl: Kubectl, crd: Path, namespace: str) -> Iterator[ApplyRbac]:
    """Applies the RBAC (and ServiceAccount) that a value set renders, for a release in the test's
    namespace, and waits until the authorizer knows it; the cluster-scoped part is removed after."""
    applied: list[dict[str, Any]] = []

    def apply(name: str) -> dict[str, Any]:
        release = f"rbac-{secrets.token_hex(3)}"
        values = isolated(VALUE_SETS[name], namespace, kubectl)
        objects = chartkit.render(values, release=release, namespace=namespace)
        rbac = [o for o in objects if o["kind"] in RBAC_KINDS]
        kubectl.apply(rbac)
        applied.extend(rbac)
        sa = chartkit.one(objects, "ServiceAccount")["metadata"]["name"]
        account = f"system:serviceaccount:{namespace}:{sa}"
        wait_until_bound(kubectl, account, rbac)
        args = chartkit.one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
        lease = next((a.split("=", 1)[1] for a in args if a.startswith("--lease-name=")), None)
        return {
            "account": account,
            "service_account": sa,
            "watched": values.get("operator", {}).get("watchNamespaces", []),
            "lease": lease,
        }

    yield apply
    for obj in applied:
        if obj["kind"] in CLUSTER_SCOPED:
            kubectl.run("delete", obj["kind"].lower(), obj["metadata"]["name"], "--ignore-not-found")


def assert_operator_verbs(kubectl: Kubectl, account: str, ns: str | None) -> None:
    """The operator's own verbs on GuardedEndpoints, their status and Events, and nothing more."""
    for verb in ("get", "list", "watch", "patch"):
        assert can(kubectl, account, verb, GEP, ns), verb
    assert can(kubectl, account, "patch", GEP, ns, subresource="status")
    for verb in ("update", "create", "delete", "deletecollection"):
        assert not can(kubectl, account, verb, GEP, ns), f"{verb} {GEP} must be denied"
    for verb in ("update", "create"):
        assert not can(kubectl, account, verb, GEP, ns, subresource="status"), f"{verb} status"
    assert can(kubectl, account, "create", "events", ns)
    for verb in ("patch", "update", "delete"):
        assert not can(kubectl, account, verb, "events", ns), f"{verb} events must be denied"
    for verb, resource in (("get", "secrets"), ("list", "configmaps"), ("create", "pods")):
        assert not can(kubectl, account, verb, resource, ns), f"{verb} {resource} must be denied"


def assert_no_lease_rights(kubectl: Kubectl, account: str, ns: str | None, lease: str) -> None:
    for verb in ("create", "list", "watch", "deletecollection"):
        assert not can(kubectl, account, verb, LEASES, ns), f"{verb} leases in {ns}"
    for verb in ("get", "update", "patch", "delete"):
        assert not can(kubectl, account, verb, f"{LEASES}/{lease}", ns), f"{verb} lease {lease} in {ns}"


def test_rendered_rbac_grants_the_operator_verbs_in_watched_namespaces_only(
    kubectl: Kubectl, applied_rbac: ApplyRbac, namespace: str
) -> None:
    rbac = applied_rbac("namespaced-ha")
    account, watched, lease = rbac["account"], rbac["watched"], rbac["lease"]
    for ns in watched:
        assert_operator_verbs(kubectl, account, ns)
        assert_no_lease_rights(kubectl, account, ns, lease)
    assert not can(kubectl, account, "list", GEP, namespace)
    assert not can(kubectl, account, "list", GEP, None), "no cluster-wide list"
    for verb in ("get", "list", "watch"):
        assert can(kubectl, account, verb, "customresourcedefinitions.apiextensions.k8s.io", None)
        assert can(kubectl, account, verb, "namespaces", None)
    assert not can(kubectl, account, "update", "customresourcedefinitions.apiextensions.k8s.io", None)
    # Leader election: the release's own Lease, in the release namespace.
    assert can(kubectl, account, "create", LEASES, namespace)
    for verb in ("get", "update"):
        assert can(kubectl, account, verb, f"{LEASES}/{lease}", namespace), verb


def test_standalone_rbac_has_the_operator_verbs_everywhere_and_no_lease(
    kubectl: Kubectl, applied_rbac: ApplyRbac, namespace: str
) -> None:
    """The e2e operator's own identity (tests/e2e/rbac.py renders the defaults): it runs
    --standalone, so it must not get Lease rights it never uses."""
    rbac = applied_rbac("default")
    assert rbac["lease"] is None
    assert_operator_verbs(kubectl, rbac["account"], namespace)
    assert_operator_verbs(kubectl, rbac["account"], None)
    assert_no_lease_rights(kubectl, rbac["account"], namespace, "sagemaker-guardrails")


def test_ha_service_account_may_use_its_lease_in_the_release_namespace_only(
    kubectl: Kubectl, applied_rbac: ApplyRbac, namespace: str
) -> None:
    rbac = applied_rbac("ha")
    account, lease = rbac["account"], rbac["lease"]
    assert lease and lease.startswith("rbac-")
    assert can(kubectl, account, "create", LEASES, namespace)
    for verb in ("get", "update"):
        assert can(kubectl, account, verb, f"{LEASES}/{lease}", namespace), verb
    # Only that Lease, only these verbs (create cannot be limited to a name by Kubernetes).
    for verb in ("get", "update"):
        assert not can(kubectl, account, verb, f"{LEASES}/kube-scheduler", namespace), verb
    for verb in ("patch", "delete"):
        assert not can(kubectl, account, verb, f"{LEASES}/{lease}", namespace), verb
    for verb in ("list", "watch", "deletecollection"):
        assert not can(kubectl, account, verb, LEASES, namespace), verb
    # Nowhere else: another namespace, kube-system (where the control plane's Leases are), or
    # cluster-wide.
    elsewhere = f"{namespace}-other"
    kubectl.ensure_namespace(elsewhere)
    for ns in (elsewhere, "kube-system"):
        assert_no_lease_rights(kubectl, account, ns, lease)
    assert not can(kubectl, account, "create", LEASES, None)
    assert_operator_verbs(kubectl, account, elsewhere)


def token_kubeconfig(kubectl: Kubectl, namespace: str, service_account: str, path: Path) -> Path:
    """A kubeconfig with a TokenRequest token of an existing ServiceAccount (not re-applied, so a
    Helm-owned account stays exactly as Helm made it)."""
    token = kubectl.run("create", "token", service_account, "-n", namespace, "--duration=1h").stdout.strip()
    server, ca, insecure = kubectl.cluster_endpoint()
    return write_kubeconfig(path, server, token, ca_data=ca, insecure=insecure, namespace=namespace)


def elector(kubeconfig: Path, namespace: str, lease: str, identity: str) -> LeaderElector:
    """The operator's own leader elector, with short timings, authenticated by ``kubeconfig``."""
    api_client = kube_config.new_client_from_config(config_file=str(kubeconfig))
    return LeaderElector(
        api_client,
        namespace=namespace,
        name=lease,
        lease_duration=6.0,
        renew_deadline=4.0,
        retry_period=0.5,
        on_lost=lambda: None,
        identity=identity,
    )


def lease_spec(kubectl: Kubectl, namespace: str, lease: str) -> dict[str, Any]:
    spec: dict[str, Any] = kubectl.json("get", "lease", lease, "-n", namespace)["spec"]
    return spec


def wait_for_renewal(kubectl: Kubectl, namespace: str, lease: str, holder: str) -> None:
    """Waits until ``holder`` has renewed the Lease (an update) after this call."""
    before = lease_spec(kubectl, namespace, lease).get("renewTime")
    wait_for(
        lambda: (
            (spec := lease_spec(kubectl, namespace, lease)).get("holderIdentity") == holder
            and spec.get("renewTime") != before
        ),
        15,
        f"{holder} to renew Lease {namespace}/{lease}",
    )


def test_ha_service_account_holds_its_lease_with_the_operator_elector(
    kubectl: Kubectl, applied_rbac: ApplyRbac, namespace: str, tmp_path: Path
) -> None:
    """Not only what the authorizer says: the operator's LeaderElector, running with the
    ServiceAccount's token, creates the Lease, renews it, releases it; pointed at another
    namespace it is refused and never leads."""
    rbac = applied_rbac("ha")
    lease = rbac["lease"]
    kubeconfig = token_kubeconfig(kubectl, namespace, rbac["service_account"], tmp_path / "sa.kubeconfig")
    leader = elector(kubeconfig, namespace, lease, "pod-a")
    leader.start()
    try:
        assert leader.leading.wait(15), "the elector never led"
        wait_for_renewal(kubectl, namespace, lease, "pod-a")
    finally:
        leader.stop()
    assert not lease_spec(kubectl, namespace, lease).get("holderIdentity"), "released on stop"

    elsewhere = f"{namespace}-other"
    kubectl.ensure_namespace(elsewhere)
    outsider = elector(kubeconfig, elsewhere, lease, "pod-b")
    outsider.start()
    try:
        assert not outsider.leading.wait(3), "led with a Lease in a namespace it has no rights in"
    finally:
        outsider.stop()
    missing = kubectl.run("get", "lease", lease, "-n", elsewhere, check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def helm(cluster: Cluster, *args: str) -> str:
    return chartkit.helm(*args, "--kubeconfig", str(cluster.kubeconfig)).stdout


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A control plane of this test's own: the test installs and removes a whole release with its
    cluster-scoped objects, and nothing of the shared cluster may depend on it (nor it on them)."""
    try:
        assets = find_assets()
    except AssetsNotFoundError as error:
        pytest.skip(f"a fresh control plane needs kube-apiserver and etcd: {error}")
    with ControlPlane(assets=assets, workdir=tmp_path / "fresh") as fresh:
        yield fresh


def test_ha_install_upgrade_scale_down_and_uninstall(fresh_cluster: Cluster, tmp_path: Path) -> None:
    kubectl = Kubectl(fresh_cluster.kubeconfig)
    namespace, release = "sagemaker-guardrails", "guardrails"
    fullname = f"{release}-sagemaker-guardrails"
    lease_role = f"{fullname}-leader-election"
    account = f"system:serviceaccount:{namespace}:{fullname}"
    chart = str(chartkit.CHART)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"replicaCount": 2}))
    install = ["--namespace", namespace, "--values", str(values)]

    helm(fresh_cluster, "install", release, chart, *install, "--create-namespace")
    assert kubectl.json("get", "crd", chartkit.CRD_NAME)["metadata"]["name"] == chartkit.CRD_NAME
    pod = kubectl.json("get", "deployment", fullname, "-n", namespace)["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    assert main["args"][-2:] == ["--leader-election", f"--lease-name={fullname}"]
    (pod_namespace,) = [e for e in main["env"] if e["name"] == "POD_NAMESPACE"]
    assert pod_namespace["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    role = kubectl.json("get", "role", lease_role, "-n", namespace)
    binding = kubectl.json("get", "rolebinding", lease_role, "-n", namespace)
    wait_until_bound(kubectl, account, [role, binding])

    # An operator pod's elector, with the release's ServiceAccount token, leads.
    kubeconfig = token_kubeconfig(kubectl, namespace, fullname, tmp_path / "sa.kubeconfig")
    leader = elector(kubeconfig, namespace, fullname, "pod-a")
    leader.start()
    try:
        assert leader.leading.wait(15), "the elector never led"
        lease = kubectl.json("get", "lease", fullname, "-n", namespace)

        # An upgrade keeps the Role and its binding as they are: the leader goes on renewing.
        values.write_text(yaml.safe_dump({"replicaCount": 3, "leaderElection": {"leaseDurationSeconds": 20}}))
        helm(fresh_cluster, "upgrade", release, chart, *install)
        assert (
            kubectl.json("get", "role", lease_role, "-n", namespace)["metadata"]["uid"]
            == role["metadata"]["uid"]
        )
        assert (
            kubectl.json("get", "rolebinding", lease_role, "-n", namespace)["metadata"]["uid"]
            == binding["metadata"]["uid"]
        )
        wait_for_renewal(kubectl, namespace, fullname, "pod-a")
        assert leader.leading.is_set()
        after = kubectl.json("get", "lease", fullname, "-n", namespace)
        assert after["metadata"]["uid"] == lease["metadata"]["uid"], "the Lease is not the release's"
        env = {e["name"]: e.get("value") for e in kubectl.json("get", "deployment", fullname, "-n", namespace)[
            "spec"]["template"]["spec"]["containers"][0]["env"]}  # fmt: skip
        assert env["SAGEMAKER_GUARDRAILS_LEASE_DURATION_SECONDS"] == "20"
    finally:
        leader.stop()
    assert not lease_spec(kubectl, namespace, fullname).get("holderIdentity")

    # Down to one replica: standalone, and the Lease rights go with the election.
    values.write_text(yaml.safe_dump({"replicaCount": 1}))
    helm(fresh_cluster, "upgrade", release, chart, *install)
    deployment = kubectl.json("get", "deployment", fullname, "-n", namespace)["spec"]
    assert deployment["template"]["spec"]["containers"][0]["args"][-1] == "--standalone"
    assert deployment["strategy"]["type"] == "Recreate"
    for kind in ("role", "rolebinding"):
        gone = kubectl.run("get", kind, lease_role, "-n", namespace, check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr, kind
    wait_for(
        lambda: not can(kubectl, account, "create", LEASES, namespace),
        30,
        "the authorizer to forget the Lease Role",
        interval=0.2,
    )

    manifest = helm(fresh_cluster, "get", "manifest", release, "--namespace", namespace)
    owned = [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(manifest) if d]
    helm(fresh_cluster, "uninstall", release, "--namespace", namespace, "--wait")
    for kind, name in owned:
        where = [] if kind in CLUSTER_SCOPED else ["-n", namespace]
        gone = kubectl.run("get", kind.lower(), name, *where, check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr, f"{kind}/{name} outlived the release"
    # The Lease was made by the operator, not by Helm: it stays (a few hundred bytes, reused by a
    # reinstall under the same name), and it is free.
    assert not lease_spec(kubectl, namespace, fullname).get("holderIdentity")
    assert kubectl.json("get", "crd", chartkit.CRD_NAME), "CRDs of crds/ are never deleted by Helm"
