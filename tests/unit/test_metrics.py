"""The operator's Prometheus metrics: names, labels, and no resource names as labels."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import generate_latest

from sagemaker_guardrails.metrics import PREFIX, Metrics

pytestmark = pytest.mark.unit

ALLOWED_LABELS = {"outcome", "service", "operation", "error_code", "strategy", "phase", "version", "le"}
ALLOWED_LABELS |= {"resource_namespace", "reason", "request", "exception"}
EXPECTED = {
    "reconciles_total": {"outcome"},
    "reconcile_duration_seconds": set(),
    "aws_calls_total": {"service", "operation", "error_code"},
    "deployments_total": {"resource_namespace", "strategy", "outcome"},
    "rollbacks_total": {"resource_namespace", "strategy"},
    "deployment_duration_seconds": {"strategy", "outcome"},
    "resources": {"resource_namespace", "phase"},
    "operator_info": {"version"},
}


def value(m: Metrics, name: str, **labels: str) -> float:
    result = m.registry.get_sample_value(name, labels)
    return 0.0 if result is None else result


def exercised() -> Metrics:
    m = Metrics(version="1.2.3")
    m.record_aws_call("sagemaker", "DescribeEndpoint", "")
    m.record_aws_call("sagemaker", "UpdateEndpoint", "ThrottlingException")
    m.record_reconcile("ok", 0.2)
    m.deployment_started("Canary", namespace="ml-prod")
    m.deployment_finished("Canary", "RolledBack", 900, namespace="ml-prod")
    m.set_phase("uid-1", "Baking", namespace="ml-prod")
    return m


def test_every_contract_metric_exists_with_its_labels() -> None:
    m = exercised()
    found = {}
    for family in m.registry.collect():
        labels: set[str] = set()
        for sample in family.samples:
            labels |= set(sample.labels)
        found[family.name] = labels - {"le"}
    for name, labels in EXPECTED.items():
        family = PREFIX + name.removesuffix("_total")
        assert family in found, name
        assert found[family] == labels, name


def test_no_resource_names_as_labels() -> None:
    m = exercised()
    for family in m.registry.collect():
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, (family.name, sample.labels)
            assert "uid-1" not in sample.labels.values()


def test_counters() -> None:
    m = exercised()
    m.record_aws_call("sagemaker", "UpdateEndpoint", "ThrottlingException")
    assert (
        value(
            m,
            f"{PREFIX}aws_calls_total",
            service="sagemaker",
            operation="UpdateEndpoint",
            error_code="ThrottlingException",
        )
        == 2
    )
    assert (
        value(m, f"{PREFIX}aws_calls_total", service="sagemaker", operation="DescribeEndpoint", error_code="")
        == 1
    )
    assert value(m, f"{PREFIX}reconciles_total", outcome="ok") == 1
    ns = {"resource_namespace": "ml-prod"}
    assert value(m, f"{PREFIX}deployments_total", strategy="Canary", outcome="Started", **ns) == 1
    assert value(m, f"{PREFIX}deployments_total", strategy="Canary", outcome="RolledBack", **ns) == 1
    assert value(m, f"{PREFIX}rollbacks_total", strategy="Canary", **ns) == 1
    assert (
        value(m, f"{PREFIX}deployment_duration_seconds_count", strategy="Canary", outcome="RolledBack") == 1
    )
    assert (
        value(m, f"{PREFIX}deployment_duration_seconds_sum", strategy="Canary", outcome="RolledBack") == 900
    )
    assert value(m, f"{PREFIX}operator_info", version="1.2.3") == 1


def test_succeeded_deployment_is_not_a_rollback() -> None:
    m = Metrics()
    m.deployment_finished("Linear", "Succeeded", None, namespace="ml")
    assert value(m, f"{PREFIX}rollbacks_total", strategy="Linear", resource_namespace="ml") == 0
    assert value(m, f"{PREFIX}deployment_duration_seconds_count", strategy="Linear", outcome="Succeeded") == 0


def test_unknown_outcomes_are_refused() -> None:
    m = Metrics()
    with pytest.raises(ValueError, match="outcome"):
        m.record_reconcile("fine", 0.1)
    with pytest.raises(ValueError, match="outcome"):
        m.deployment_finished("Canary", "Started", 1.0)


def test_resources_by_phase_counts_objects_not_updates() -> None:
    m = Metrics()
    m.set_phase("a", "Deploying", namespace="ml")
    m.set_phase("b", "Deploying", namespace="ml")
    m.set_phase("a", "Deploying", namespace="ml")
    assert value(m, f"{PREFIX}resources", phase="Deploying", resource_namespace="ml") == 2
    m.set_phase("a", "InService", namespace="ml")
    assert value(m, f"{PREFIX}resources", phase="Deploying", resource_namespace="ml") == 1
    assert value(m, f"{PREFIX}resources", phase="InService", resource_namespace="ml") == 1
    m.set_phase("b", None)
    m.set_phase("a", None)
    assert value(m, f"{PREFIX}resources", phase="Deploying", resource_namespace="ml") == 0
    assert value(m, f"{PREFIX}resources", phase="InService", resource_namespace="ml") == 0


def test_deployment_metrics_name_the_resources_namespace() -> None:
    """Alerts say (and route by) whose endpoint it is: the GuardedEndpoint's namespace, under a
    name that does not clash with the namespace label Prometheus gives every scraped series."""
    m = Metrics()
    m.set_phase("a", "Stalled", namespace="team-a")
    m.set_phase("b", "Stalled", namespace="team-b")
    m.deployment_finished("Canary", "RolledBack", 60, namespace="team-b")
    assert value(m, f"{PREFIX}resources", phase="Stalled", resource_namespace="team-a") == 1
    assert value(m, f"{PREFIX}resources", phase="Stalled", resource_namespace="team-b") == 1
    assert value(m, f"{PREFIX}rollbacks_total", strategy="Canary", resource_namespace="team-b") == 1
    assert value(m, f"{PREFIX}rollbacks_total", strategy="Canary", resource_namespace="team-a") == 0
    for family in m.registry.collect():
        for sample in family.samples:
            assert "namespace" not in sample.labels, family.name
    m.set_phase("a", "InService", namespace="team-a")
    assert value(m, f"{PREFIX}resources", phase="Stalled", resource_namespace="team-a") == 0


def test_instances_are_independent() -> None:
    a, b = Metrics(), Metrics()
    a.record_reconcile("error", 1)
    assert value(b, f"{PREFIX}reconciles_total", outcome="error") == 0


def test_serves_the_registry_over_http() -> None:
    m = exercised()
    server = m.serve(0, addr="127.0.0.1")
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode()
    finally:
        server.stop()
    assert f"{PREFIX}aws_calls_total" in body
    assert body.count(f"{PREFIX}reconciles_total{{") == 1
    assert generate_latest(m.registry).decode().splitlines()[0].startswith("#")
