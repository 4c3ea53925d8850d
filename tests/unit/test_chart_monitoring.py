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


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample name -> label names, from the operator's real metrics after one of everything."""
    metrics = Metrics(version="0.0.0-test")
    metrics.record_aws_call("sagemaker", "DescribeEndpoint", "")
    metrics.record_reconcile("ok", 0.2)
    metrics.deployment_started("Canary")
    metrics.deployment_finished("Canary", "RolledBack", 900.0)
    metrics.set_phase("uid-1", "RolledBack")
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


def test_alert_annotations_only_use_labels_the_expression_keeps(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        used = set(re.findall(r"\$labels\.(\w+)", rule["annotations"]["summary"]))
        tree = promql.parse(rule["expr"])
        top = tree.lhs if isinstance(tree, promql.BinaryExpr) else tree
        kept = set(top.modifier.labels) if isinstance(top, promql.AggregateExpr) and top.modifier else set()
        assert used <= kept, f"{rule['alert']} summary uses {used - kept}, dropped by the aggregation"


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
    return re.sub(r"\$(namespace|job)\b", ".*", expr)


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
