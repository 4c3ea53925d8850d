"""The chart's RBAC grants exactly the Kubernetes verbs the operator uses, in the right scope: the
GuardedEndpoint and Event rules where the resources are watched, kopf's cluster-wide discovery
reads, and, with leader election only, the release's own Lease in the release namespace."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from tests import chartkit
from tests.chartkit import NAMESPACE, RELEASE, VALUE_SETS, WATCHED, one, only, render

pytestmark = pytest.mark.unit

FULLNAME = f"{RELEASE}-sagemaker-guardrails"
LEASE_ROLE = f"{FULLNAME}-leader-election"
Grant = dict[tuple[str, str], set[str]]

# The operator's own calls: GuardedEndpoints are read, watched and merge-patched (metadata:
# finalizer, annotation cleanup), status is merge-patched, Events are created. Nothing is updated.
RESOURCE_VERBS: Grant = {
    ("sagemaker-guardrails.dev", "guardedendpoints"): {"get", "list", "watch", "patch"},
    ("sagemaker-guardrails.dev", "guardedendpoints/status"): {"patch"},
    ("", "events"): {"create"},
}
DISCOVERY_VERBS: Grant = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
}
# Leader election: create of any Lease (Kubernetes cannot limit create to a name), get and update
# of the release's own Lease only.
LEASE_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": [FULLNAME],
        "verbs": ["get", "update"],
    },
]


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
    assert binding["metadata"].get("namespace") == role["metadata"].get("namespace")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]


def lease_role(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = [r for r in only(objects, "Role") if r["metadata"]["name"] == LEASE_ROLE]
    assert len(found) <= 1
    return found[0] if found else None


def resource_roles(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in only(objects, "Role") if r["metadata"]["name"] != LEASE_ROLE]


@pytest.mark.parametrize("name", ["default", "ha"])
def test_all_namespaces_use_one_cluster_role(name: str) -> None:
    objects = render(VALUE_SETS[name])
    role = one(objects, "ClusterRole")
    assert grants(role) == {**DISCOVERY_VERBS, **RESOURCE_VERBS}
    assert not resource_roles(objects)
    account = one(objects, "ServiceAccount")["metadata"]["name"]
    binding_is_for_the_operator(one(objects, "ClusterRoleBinding"), role, account)


@pytest.mark.parametrize("name", ["namespaced", "namespaced-ha"])
def test_watched_namespaces_get_a_role_each(name: str) -> None:
    objects = render(VALUE_SETS[name])
    account = one(objects, "ServiceAccount")["metadata"]["name"]
    cluster_role = one(objects, "ClusterRole")
    assert grants(cluster_role) == DISCOVERY_VERBS, "only kopf's cluster-scoped reads stay cluster-wide"
    binding_is_for_the_operator(one(objects, "ClusterRoleBinding"), cluster_role, account)
    roles = {r["metadata"]["namespace"]: r for r in resource_roles(objects)}
    bindings = {
        b["metadata"]["namespace"]: b
        for b in only(objects, "RoleBinding")
        if b["metadata"]["name"] != LEASE_ROLE
    }
    assert sorted(roles) == sorted(bindings) == sorted(WATCHED)
    for namespace in WATCHED:
        assert grants(roles[namespace]) == RESOURCE_VERBS
        binding_is_for_the_operator(bindings[namespace], roles[namespace], account)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_lease_rights_exactly_with_leader_election(name: str) -> None:
    """With leader election, a Role of its own in the release namespace (wherever the
    GuardedEndpoints are watched); without it, no right on Leases at all."""
    objects = render(VALUE_SETS[name])
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    role = lease_role(objects)
    every_rule = [
        rule for r in [*only(objects, "ClusterRole"), *only(objects, "Role")] for rule in r["rules"]
    ]
    lease_rules = [r for r in every_rule if "coordination.k8s.io" in r["apiGroups"]]
    if "--standalone" in args:
        assert role is None and not lease_rules, name
        assert not [b for b in only(objects, "RoleBinding") if b["metadata"]["name"] == LEASE_ROLE]
        return
    assert "--leader-election" in args
    assert role is not None, name
    assert role["metadata"]["namespace"] == NAMESPACE
    lease = next(a.split("=", 1)[1] for a in args if a.startswith("--lease-name="))
    expected = [dict(rule) for rule in LEASE_RULES]
    expected[1]["resourceNames"] = [lease]
    assert role["rules"] == expected
    assert lease_rules == expected, "Leases are granted nowhere else"
    (binding,) = [b for b in only(objects, "RoleBinding") if b["metadata"]["name"] == LEASE_ROLE]
    binding_is_for_the_operator(binding, role, one(objects, "ServiceAccount")["metadata"]["name"])


def test_lease_name_is_configurable_and_scopes_the_role() -> None:
    objects = render({"replicaCount": 2, "leaderElection": {"leaseName": "ml-ops"}})
    role = lease_role(objects)
    assert role is not None
    assert role["rules"][1]["resourceNames"] == ["ml-ops"]
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--lease-name=ml-ops" in args


def test_release_namespace_may_be_a_watched_one() -> None:
    """The Lease's Role has a name of its own, so it never collides with the Role of a watched
    namespace that happens to be the release namespace."""
    objects = render({"replicaCount": 2, "operator": {"watchNamespaces": [NAMESPACE, *WATCHED]}})
    here = [r["metadata"]["name"] for r in only(objects, "Role") if r["metadata"]["namespace"] == NAMESPACE]
    assert sorted(here) == sorted([FULLNAME, LEASE_ROLE])
    assert (
        len({(b["metadata"]["namespace"], b["metadata"]["name"]) for b in only(objects, "RoleBinding")}) == 4
    )


def test_existing_service_account_is_bound_to_the_lease_role() -> None:
    objects = render({"replicaCount": 2, "serviceAccount": {"create": False, "name": "ops-robot"}})
    (binding,) = [b for b in only(objects, "RoleBinding") if b["metadata"]["name"] == LEASE_ROLE]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "ops-robot", "namespace": NAMESPACE}]


def test_rbac_can_be_left_to_the_cluster_admin() -> None:
    for values in ({"rbac": {"create": False}}, {"rbac": {"create": False}, "replicaCount": 2}):
        objects = render(values)
        assert not {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} & set(chartkit.kinds(objects))


def test_rbac_renders_on_its_own() -> None:
    """The e2e tier binds the operator's token user with `helm template --show-only templates/rbac.yaml`."""
    text = chartkit.template_text({}, extra=["--show-only", "templates/rbac.yaml"]).stdout
    assert "kind: ClusterRole" in text and "kind: Deployment" not in text


def test_no_kopf_peering_is_left() -> None:
    """Leader election replaced kopf peering: no kopf.dev CRDs, peering objects, rules or hooks."""
    for name, values in VALUE_SETS.items():
        objects = render(values)
        assert not only(objects, "CustomResourceDefinition"), name
        assert not {"ClusterKopfPeering", "KopfPeering"} & set(chartkit.kinds(objects)), name
        groups = {
            g
            for r in [*only(objects, "ClusterRole"), *only(objects, "Role")]
            for x in r["rules"]
            for g in x["apiGroups"]
        }
        assert "kopf.dev" not in groups, name
        assert not [o for o in objects if "helm.sh/hook" in o["metadata"].get("annotations", {})], name
