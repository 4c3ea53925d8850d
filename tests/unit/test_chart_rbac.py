"""The chart's RBAC grants exactly the Kubernetes verbs the operator uses (the shared contract), in
the right scope, and its kopf peering objects are created the way Helm can create them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from tests import chartkit
from tests.chartkit import NAMESPACE, RELEASE, VALUE_SETS, WATCHED, one, only, render

pytestmark = pytest.mark.unit

FULLNAME = f"{RELEASE}-sagemaker-guardrails"
Grant = dict[tuple[str, str], set[str]]

# The verbs of the shared contract: (apiGroup, resource) -> verbs.
RESOURCE_VERBS: Grant = {
    ("sagemaker-guardrails.dev", "guardedendpoints"): {"get", "list", "watch", "patch", "update"},
    ("sagemaker-guardrails.dev", "guardedendpoints/status"): {"get", "patch", "update"},
    ("", "events"): {"create", "patch"},
}
DISCOVERY_VERBS: Grant = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
}
CLUSTER_PEERING: Grant = {("kopf.dev", "clusterkopfpeerings"): {"get", "list", "watch", "patch"}}
NAMESPACED_PEERING: Grant = {("kopf.dev", "kopfpeerings"): {"get", "list", "watch", "patch"}}
# What Helm sees of a cluster that serves kopf's peering CRDs.
KOPF_API = ("kopf.dev/v1", "kopf.dev/v1/ClusterKopfPeering", "kopf.dev/v1/KopfPeering")


def grants(role: dict[str, Any]) -> Grant:
    table: Grant = defaultdict(set)
    for rule in role["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert "*" not in (group, resource) and "*" not in rule["verbs"], rule
                table[(group, resource)] |= set(rule["verbs"])
    return dict(table)


def binding_is_for_the_operator(binding: dict[str, Any], role: dict[str, Any], account: str) -> None:
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role["kind"],
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]


@pytest.mark.parametrize(("name", "peering"), [("default", {}), ("ha", CLUSTER_PEERING)])
def test_all_namespaces_use_one_cluster_role(name: str, peering: Grant) -> None:
    objects = render(VALUE_SETS[name])
    role = one(objects, "ClusterRole")
    assert grants(role) == {**DISCOVERY_VERBS, **RESOURCE_VERBS, **peering}
    assert not only(objects, "Role") and not only(objects, "RoleBinding")
    account = one(objects, "ServiceAccount")["metadata"]["name"]
    binding_is_for_the_operator(one(objects, "ClusterRoleBinding"), role, account)


@pytest.mark.parametrize(("name", "peering"), [("namespaced", {}), ("namespaced-ha", NAMESPACED_PEERING)])
def test_watched_namespaces_get_a_role_each(name: str, peering: Grant) -> None:
    objects = render(VALUE_SETS[name])
    account = one(objects, "ServiceAccount")["metadata"]["name"]
    cluster_role = one(objects, "ClusterRole")
    assert grants(cluster_role) == DISCOVERY_VERBS, "only kopf's cluster-scoped reads stay cluster-wide"
    binding_is_for_the_operator(one(objects, "ClusterRoleBinding"), cluster_role, account)
    roles = {r["metadata"]["namespace"]: r for r in only(objects, "Role")}
    bindings = {b["metadata"]["namespace"]: b for b in only(objects, "RoleBinding")}
    assert sorted(roles) == sorted(bindings) == sorted(WATCHED)
    for namespace in WATCHED:
        assert grants(roles[namespace]) == {**RESOURCE_VERBS, **peering}
        binding_is_for_the_operator(bindings[namespace], roles[namespace], account)


def test_rbac_can_be_left_to_the_cluster_admin() -> None:
    objects = render({"rbac": {"create": False}})
    assert not {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} & set(chartkit.kinds(objects))


def test_rbac_renders_on_its_own() -> None:
    """The e2e tier binds the operator's token user with `helm template --show-only templates/rbac.yaml`."""
    text = chartkit.template_text({}, extra=["--show-only", "templates/rbac.yaml"]).stdout
    assert "kind: ClusterRole" in text and "kind: Deployment" not in text


def test_standalone_has_no_peering() -> None:
    objects = render(VALUE_SETS["default"])
    assert not only(objects, "CustomResourceDefinition")
    assert not only(objects, "ClusterKopfPeering") and not only(objects, "KopfPeering")


def peering_hook(obj: dict[str, Any]) -> bool:
    return "helm.sh/hook" in obj["metadata"].get("annotations", {})


def test_first_install_creates_the_peering_object_as_a_post_install_hook() -> None:
    """Helm cannot build an object whose CRD is in the same release; a hook runs after the CRDs."""
    objects = render(VALUE_SETS["ha"])
    crds = {c["metadata"]["name"]: c for c in only(objects, "CustomResourceDefinition")}
    assert sorted(crds) == ["clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"]
    for crd in crds.values():
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false"
    peering = one(objects, "ClusterKopfPeering")
    assert peering["metadata"]["name"] == FULLNAME
    annotations = peering["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    # Ownership metadata lets the next upgrade adopt the object instead of recreating it empty.
    assert annotations["meta.helm.sh/release-name"] == RELEASE
    assert annotations["meta.helm.sh/release-namespace"] == NAMESPACE
    assert peering["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_once_kopf_api_is_served_the_peering_object_is_an_ordinary_release_object() -> None:
    """...and the CRDs are no longer rendered: they are kept (resource policy) and may belong to
    another release or another kopf operator, which Helm would refuse to import."""
    objects = render(VALUE_SETS["ha"], api_versions=KOPF_API)
    assert not peering_hook(one(objects, "ClusterKopfPeering"))
    assert not only(objects, "CustomResourceDefinition")
    namespaced = render(VALUE_SETS["namespaced-ha"], api_versions=KOPF_API)
    peerings = only(namespaced, "KopfPeering")
    assert sorted(p["metadata"]["namespace"] for p in peerings) == sorted(WATCHED)
    assert not any(peering_hook(p) for p in peerings)
    assert {p["metadata"]["name"] for p in peerings} == {FULLNAME}


def test_peering_name_and_crd_installation_are_configurable() -> None:
    values = {"replicaCount": 2, "peering": {"name": "ml-ops", "installCRDs": False}}
    objects = render(values)
    assert not only(objects, "CustomResourceDefinition")
    assert one(objects, "ClusterKopfPeering")["metadata"]["name"] == "ml-ops"
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--peering=ml-ops" in args
    assert not only(render({"replicaCount": 2, "peering": {"create": False}}), "ClusterKopfPeering")
