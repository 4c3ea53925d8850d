"""The alerts and the Grafana dashboard query metrics the operator really exports.

Every PromQL expression is parsed (promql-parser, a port of Prometheus' parser) and each selector
is checked against the exposition of the operator's own :class:`~sagemaker_guardrails.metrics.Metrics`:
a renamed metric or label fails here instead of silently showing "No data" in production.
"""

from __future__ import annotations

import json
import re
from typing import Any

import promql_parser as promql
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tests import chartkit
from tests.chartkit import VALUE_SETS, one, render

from sagemaker_guardrails.metrics import Metrics

pytestmark = pytest.mark.unit

DASHBOARD = chartkit.CHART / "dashboards" / "sagemaker-guardrails.json"
# Labels Prometheus adds to every scraped series (ServiceMonitor targets).
TARGET_LABELS = {"job", "namespace", "instance", "pod", "service", "container", "endpoint"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m"}


class _Stats:
    keys, due, processing, oldest_overdue_seconds = 3, 1, 1, 12.5


class _Queue:
    def stats(self) -> _Stats:
        return _Stats()


class _Loop:
    """What the reconcile loop shows the metrics at scrape time (loop.Controller in the operator)."""

    queue = _Queue()

    def phase_ages(self) -> dict[str, float]:
        return {"InService": 4.0}


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample name -> label names, from the operator's real metrics after one of everything,
    the loop's scrape-time figures included."""
    metrics = Metrics(version="0.0.0-test")
    metrics.record_aws_call("sagemaker", "DescribeEndpoint", "")
    metrics.record_reconcile("ok", 0.2)
    metrics.deployment_started("Canary", namespace="ml-prod")
    metrics.deployment_finished("Canary", "RolledBack", 900.0, namespace="ml-prod")
    metrics.set_phase("uid-1", "RolledBack", namespace="ml-prod")
    metrics.status_write_failed("Conflict")
    metrics.kube_request_failed("event", "Forbidden")
    metrics.pass_failed("KeyError")
    metrics.leader.set(1)
    metrics.watch_loop(_Loop())
    text = generate_latest(metrics.registry).decode()
    samples: dict[str, set[str]] = {"up": set()}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def selectors(node: Any) -> list[tuple[str, set[str]]]:
    """(metric name, matcher label names) of every vector selector in ``node``."""
    if isinstance(node, promql.VectorSelector):
        assert node.name, "selectors must name their metric"
        return [(node.name, {m.name for m in node.matchers.matchers})]
    if isinstance(node, promql.MatrixSelector):
        return selectors(node.vector_selector)
    if isinstance(node, promql.BinaryExpr):
        return selectors(node.lhs) + selectors(node.rhs)
    if isinstance(node, promql.Call):
        return [found for arg in node.args for found in selectors(arg)]
    if isinstance(node, promql.AggregateExpr | promql.ParenExpr | promql.UnaryExpr | promql.SubqueryExpr):
        return selectors(node.expr)
    assert isinstance(node, promql.NumberLiteral | promql.StringLiteral), type(node)
    return []


def check_expression(expr: str, exported: dict[str, set[str]]) -> set[str]:
    """Parses ``expr`` and checks every metric and label it names; returns the metric names."""
    tree = promql.parse(expr)
    names = set()
    for name, matched in selectors(tree):
        assert name in exported, f"{name} is not exported by the operator ({expr})"
        known = exported[name] | TARGET_LABELS
        assert matched <= known, f"{name} has no label(s) {matched - known} ({expr})"
        names.add(name)
    return names


def test_expression_check_catches_unknown_metrics_and_labels(exported: dict[str, set[str]]) -> None:
    with pytest.raises(AssertionError, match="not exported"):
        check_expression("sum(sagemaker_guardrails_rollback_total)", exported)
    with pytest.raises(AssertionError, match="no label"):
        check_expression('sum(sagemaker_guardrails_rollbacks_total{reason="x"})', exported)


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    rule = one(render(VALUE_SETS["full"]), "PrometheusRule")
    (group,) = rule["spec"]["groups"]
    alerts: list[dict[str, Any]] = group["rules"]
    return alerts


def test_alerts_cover_rollbacks_stalled_resources_errors_and_a_dead_operator(
    rules: list[dict[str, Any]],
) -> None:
    assert [r["alert"] for r in rules] == [
        "SageMakerGuardrailsRollback",
        "SageMakerGuardrailsStalled",
        "SageMakerGuardrailsReconcileErrors",
        "SageMakerGuardrailsStatusWriteFailures",
        "SageMakerGuardrailsReconcileBacklog",
        "SageMakerGuardrailsOperatorDown",
    ]


def test_alert_expressions_query_exported_metrics_of_this_release(
    rules: list[dict[str, Any]], exported: dict[str, set[str]]
) -> None:
    job = f"{chartkit.RELEASE}-sagemaker-guardrails-metrics"
    for rule in rules:
        check_expression(rule["expr"], exported)
        for name, matched in selectors(promql.parse(rule["expr"])):
            assert {"job", "namespace"} <= matched, f"{rule['alert']}: {name} is not scoped to the release"
        assert f'job="{job}"' in rule["expr"] and f'namespace="{chartkit.NAMESPACE}"' in rule["expr"]
        if "for" in rule:
            assert promql.parse_duration(rule["for"]).total_seconds() > 0
        assert rule["labels"]["severity"] in ("warning", "critical")


def kept_labels(node: Any, exported: dict[str, set[str]]) -> set[str]:
    """The labels the series of ``node`` carry (what an alert's annotations can use)."""
    if isinstance(node, promql.VectorSelector):
        return exported[node.name] | TARGET_LABELS
    if isinstance(node, promql.MatrixSelector):
        return kept_labels(node.vector_selector, exported)
    if isinstance(node, promql.AggregateExpr):
        assert node.modifier is None or node.modifier.type == promql.AggModifierType.By, "by (...) only"
        return set(node.modifier.labels) if node.modifier else set()
    if isinstance(node, promql.Call):
        if node.func.name == "label_replace":
            return kept_labels(node.args[0], exported) | {node.args[1].val}
        if node.func.name == "absent":
            return set()
        return kept_labels(node.args[0], exported)
    if isinstance(node, promql.BinaryExpr):
        return kept_labels(node.lhs, exported)  # comparisons, `and` and group_left keep the left side
    if isinstance(node, promql.ParenExpr):
        return kept_labels(node.expr, exported)
    return set()


def test_alert_annotations_only_use_labels_the_expression_keeps(
    rules: list[dict[str, Any]], exported: dict[str, set[str]]
) -> None:
    for rule in rules:
        used = set(re.findall(r"\$labels\.(\w+)", rule["annotations"]["summary"]))
        kept = kept_labels(promql.parse(rule["expr"]), exported)
        assert used <= kept, f"{rule['alert']} summary uses {used - kept}, dropped by the expression"


def test_kept_labels_follow_the_aggregation(exported: dict[str, set[str]]) -> None:
    summed = promql.parse("sum by (strategy) (sagemaker_guardrails_rollbacks_total) > 0")
    assert kept_labels(summed, exported) == {"strategy"}
    renamed = promql.parse('label_replace(sum by (a) (up), "b", "$1", "a", "(.*)")')
    assert kept_labels(renamed, exported) == {"a", "b"}


def test_endpoint_alerts_name_and_route_to_the_endpoints_namespace(
    rules: list[dict[str, Any]], exported: dict[str, set[str]]
) -> None:
    """Rollbacks and stalled resources belong to the team of the GuardedEndpoint's namespace: the
    alert's ``namespace`` label is that namespace (Alertmanager and AlertmanagerConfig route by
    it), and its summary names it. The target's own ``namespace`` is the operator's."""
    by_name = {r["alert"]: r for r in rules}
    for alert in ("SageMakerGuardrailsRollback", "SageMakerGuardrailsStalled"):
        rule = by_name[alert]
        tree = promql.parse(rule["expr"])
        top = tree.lhs if isinstance(tree, promql.BinaryExpr) else tree
        assert isinstance(top, promql.Call) and top.func.name == "label_replace", alert
        assert [a.val for a in top.args[1:]] == ["namespace", "$1", "resource_namespace", "(.*)"], alert
        assert "resource_namespace" in kept_labels(top.args[0], exported), alert
        assert "$labels.resource_namespace" in rule["annotations"]["summary"], alert
        assert "$labels.namespace" not in rule["annotations"]["summary"], alert


def test_loop_alerts_watch_status_writes_and_the_queue_of_the_leader(rules: list[dict[str, Any]]) -> None:
    by_name = {r["alert"]: r for r in rules}
    writes = by_name["SageMakerGuardrailsStatusWriteFailures"]["expr"]
    assert "sagemaker_guardrails_status_write_failures_total" in writes
    backlog = promql.parse(by_name["SageMakerGuardrailsReconcileBacklog"]["expr"])
    assert isinstance(backlog, promql.BinaryExpr) and str(backlog.op) == "and"
    assert backlog.modifier is not None and list(backlog.modifier.matching.labels) == ["pod"]
    names = {name for name, _ in selectors(backlog)}
    assert names == {
        "sagemaker_guardrails_reconcile_queue_oldest_overdue_seconds",
        "sagemaker_guardrails_leader",
    }
    threshold = one(render(VALUE_SETS["full"]), "PrometheusRule")
    assert "> 120 and" in threshold["spec"]["groups"][0]["rules"][4]["expr"], "thresholdSeconds default"


def test_alerts_can_be_switched_off_one_by_one() -> None:
    values = {"metrics": {"prometheusRule": {"enabled": True, "operatorDown": {"enabled": False}}}}
    (group,) = one(render(values), "PrometheusRule")["spec"]["groups"]
    assert "SageMakerGuardrailsOperatorDown" not in [r["alert"] for r in group["rules"]]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def grafana_expr(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return re.sub(r"\$(resource_namespace|namespace|job)\b", ".*", expr)


def test_dashboard_queries_exported_metrics_and_uses_them_all(
    dashboard: dict[str, Any], exported: dict[str, set[str]]
) -> None:
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            used |= check_expression(grafana_expr(target["expr"]), exported)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["definition"])
            assert inner, variable["definition"]
            used |= check_expression(grafana_expr(inner.group(1)), exported)
            assert inner.group(2) in exported[inner.group(1).split("{")[0]] | TARGET_LABELS
    for annotation in dashboard["annotations"]["list"]:
        used |= check_expression(grafana_expr(annotation["expr"]), exported)
    ours = {n for n in exported if n.startswith("sagemaker_guardrails_") and not n.endswith("_created")}
    unused = {n for n in ours - used if not n.endswith(("_count", "_sum"))}
    assert not unused, f"metrics no panel shows: {sorted(unused)}"


def test_dashboard_layout_is_consistent(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {
            (x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel.get("description"), panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in panel["targets"]:
            for name in re.findall(r"\$(\w+)", target["expr"]):
                assert name.startswith("__") or name in variables, f"undefined ${name} in {panel['title']}"


def test_dashboard_config_map_carries_the_dashboard_verbatim(dashboard: dict[str, Any]) -> None:
    config_map = one(render(VALUE_SETS["full"]), "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["sagemaker-guardrails.json"]) == dashboard
