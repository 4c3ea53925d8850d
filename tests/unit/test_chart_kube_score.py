"""kube-score (built from its Go module by ``make kube-score``) on the chart rendered with every value
set of :mod:`tests.chartkit`: each finding is either fixed in the chart or listed in ``ACCEPTED``
with the reason, for the value sets where that reason holds. A new finding fails; so does an
accepted one that no longer occurs (the list never goes stale)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from tests import chartkit
from tests.chartkit import VALUE_SETS

pytestmark = pytest.mark.unit

BUILD = chartkit.REPO / "hack" / "kube-score" / "build.sh"
KUBERNETES_VERSION = "v1.29"  # the chart's kubeVersion floor
GRADE_OK = 10


def replicas(values: dict[str, Any]) -> int:
    return int(values.get("replicaCount", 1))


def elects(values: dict[str, Any]) -> bool:
    enabled = values.get("leaderElection", {}).get("enabled")
    return replicas(values) > 1 if enabled is None else bool(enabled)


def network_policy(values: dict[str, Any]) -> bool:
    return bool(values.get("networkPolicy", {}).get("enabled"))


@dataclass(frozen=True)
class Accepted:
    check: str
    summary: str  # part of the finding's summary
    applies: Callable[[dict[str, Any]], bool]
    why: str


ACCEPTED = [
    Accepted(
        "container-resources",
        "CPU limit is not set",
        lambda values: True,
        "No CPU limit on purpose (values.yaml): CFS throttling makes a bursty Python operator poll "
        "and renew its Lease late; the CPU request reserves what it needs.",
    ),
    Accepted(
        "container-image-pull-policy",
        "ImagePullPolicy is not set to Always",
        lambda values: True,
        "The image is an immutable release tag or a digest, so IfNotPresent pulls the same bytes; "
        "Always would make every restart depend on the registry. pullPolicy is a value.",
    ),
    Accepted(
        "pod-networkpolicy",
        "does not have a matching NetworkPolicy",
        lambda values: not network_policy(values),
        "networkPolicy.enabled is off by default: who may scrape /metrics is the cluster's "
        "choice (networkPolicy.metricsFrom); the value set that enables it passes this check.",
    ),
    Accepted(
        "pod-networkpolicy",
        "does not have a matching egress NetworkPolicy",
        network_policy,
        "Egress stays open by design: the AWS endpoints have no fixed addresses and the API "
        "server's port differs between clusters (templates/networkpolicy.yaml).",
    ),
    Accepted(
        "deployment-strategy",
        "Deployment update strategy",
        lambda values: not elects(values),
        "Without leader election the operator must never run twice, so the Deployment uses "
        "Recreate; with leader election it rolls (maxSurge 1, maxUnavailable 0).",
    ),
    Accepted(
        "deployment-replicas",
        "Deployment few replicas",
        lambda values: replicas(values) < 2,
        "One replica is the default (a single reconciler needs no Lease); replicaCount > 1 is the "
        "HA setup, with a PodDisruptionBudget and spread over nodes and zones.",
    ),
]


@cache
def kube_score() -> Path:
    result = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, timeout=1200, check=False)
    assert result.returncode == 0, f"building kube-score failed:\n{result.stderr[-3000:]}"
    return Path(result.stdout.strip().splitlines()[-1])


def findings(values: dict[str, Any], tmp: Path) -> list[tuple[str, str, str]]:
    """(object, check id, summary) of every check kube-score does not grade OK."""
    manifest = tmp / "rendered.yaml"
    manifest.write_text(chartkit.template_text(values).stdout)
    result = subprocess.run(
        [str(kube_score()), "score", "--kubernetes-version", KUBERNETES_VERSION, "-o", "json", str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: something is not OK
    found = []
    for obj in json.loads(result.stdout):
        for check in obj["checks"]:
            if check["skipped"] or check["grade"] >= GRADE_OK:
                continue
            summaries = [c["summary"] for c in check["comments"] or []] or [check["check"]["name"]]
            found += [(obj["object_name"], check["check"]["id"], s) for s in summaries]
    return found


def accepted(values: dict[str, Any], check: str, summary: str) -> Accepted | None:
    for rule in ACCEPTED:
        if rule.check == check and rule.summary in summary and rule.applies(values):
            return rule
    return None


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str, str]]]:
    return {name: findings(values, tmp_path_factory.mktemp(name)) for name, values in VALUE_SETS.items()}


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_kube_score_finds_nothing_but_what_is_accepted(
    scored: dict[str, list[tuple[str, str, str]]], name: str
) -> None:
    unexplained = [f for f in scored[name] if accepted(VALUE_SETS[name], f[1], f[2]) is None]
    assert not unexplained, f"kube-score findings for value set {name!r}: {unexplained}"


def test_every_accepted_finding_still_occurs(scored: dict[str, list[tuple[str, str, str]]]) -> None:
    used = {
        id(rule)
        for name, found in scored.items()
        for _, check, summary in found
        if (rule := accepted(VALUE_SETS[name], check, summary)) is not None
    }
    stale = [f"{rule.check}: {rule.summary}" for rule in ACCEPTED if id(rule) not in used]
    assert not stale, f"accepted findings kube-score no longer reports (remove them): {stale}"


def test_kube_score_sees_what_the_chart_defaults_prevent(tmp_path: Path) -> None:
    """The checks work: without the production defaults, several replicas get the findings they
    fixed (no PodDisruptionBudget, no podAntiAffinity, no ephemeral-storage limits)."""
    values = {
        "replicaCount": 2,
        "podDisruptionBudget": {"enabled": False},
        "highAvailability": {"podAntiAffinity": "none"},
        # null deletes a default in Helm's merge
        "resources": {"requests": {"ephemeral-storage": None}, "limits": {"ephemeral-storage": None}},
    }
    checks = {check for _, check, _ in findings(values, tmp_path)}
    assert {
        "deployment-has-poddisruptionbudget",
        "deployment-has-host-podantiaffinity",
        "container-ephemeral-storage-request-and-limit",
    } <= checks
