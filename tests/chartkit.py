"""Rendering the Helm chart with the real ``helm`` binary, shared by the unit and e2e chart tests.

``helm`` comes from :func:`sagemaker_guardrails.devenv.tools.find_tool` (the PyPI package that
ships it, or ``HELM``/``PATH``). The named value sets below are the configurations the tests
render, lint, validate and dry-run: the defaults plus every switch that changes which objects the
chart renders.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sagemaker_guardrails.devenv.tools import find_tool

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "sagemaker-guardrails"
RELEASE = "guardrails"
NAMESPACE = "sagemaker-guardrails"
WATCHED = ["ml-prod", "ml-staging"]
CRD_NAME = "guardedendpoints.sagemaker-guardrails.dev"

VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Several replicas and nothing else: the production defaults (PDB, spread) follow from it.
    "ha": {"replicaCount": 3},
    "elected": {"leaderElection": {"enabled": True}},
    "namespaced": {"operator": {"watchNamespaces": WATCHED}},
    "namespaced-ha": {"replicaCount": 2, "operator": {"watchNamespaces": WATCHED}},
    "full": {
        "replicaCount": 2,
        "image": {"digest": "sha256:" + "ab" * 32},
        "imagePullSecrets": [{"name": "regcred"}],
        "operator": {
            "clusterId": "prod-eu-1",
            "defaultRegion": "eu-west-1",
            "logFormat": "text",
            "logLevel": "DEBUG",
            "extraEnv": [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}],
        },
        "leaderElection": {
            "leaseName": "guardrails-leader",
            "leaseDurationSeconds": 20,
            "renewDeadlineSeconds": 15,
            "retryPeriodSeconds": 3,
        },
        "serviceAccount": {
            "irsaRoleArn": "arn:aws:iam::123456789012:role/sagemaker-guardrails",
            "annotations": {"example.com/owner": "ml-platform"},
        },
        "metrics": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
            "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        },
        "grafanaDashboard": {"enabled": True},
        "podDisruptionBudget": {"enabled": True},
        "networkPolicy": {
            "enabled": True,
            "metricsFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
            ],
        },
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "sagemaker-guardrails"}},
            }
        ],
        "podAnnotations": {"example.com/scrape": "true"},
    },
}


class HelmError(AssertionError):
    """helm exited non-zero; the message carries its stderr."""


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(find_tool("helm")), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise HelmError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def _values_file(values: Mapping[str, Any], folder: Path) -> Path:
    path = folder / "values.yaml"
    path.write_text(yaml.safe_dump(dict(values)))
    return path


def template_text(
    values: Mapping[str, Any],
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    api_versions: Iterable[str] = (),
    extra: Iterable[str] = (),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as folder:
        args = ["template", release, str(CHART), "--namespace", namespace]
        args += ["--values", str(_values_file(values, Path(folder)))]
        for api in api_versions:
            args += ["--api-versions", api]
        return helm(*args, *extra, check=check)


def render(
    values: Mapping[str, Any],
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    api_versions: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders for these values (hooks included, CRDs of crds/ not)."""
    text = template_text(values, release=release, namespace=namespace, api_versions=api_versions).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def lint(values: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as folder:
        return helm("lint", "--strict", str(CHART), "--values", str(_values_file(values, Path(folder))))


def kinds(objects: Iterable[Mapping[str, Any]]) -> Counter[str]:
    return Counter(str(o["kind"]) for o in objects)


def only(objects: Iterable[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [dict(o) for o in objects if o["kind"] == kind]


def one(objects: Iterable[Mapping[str, Any]], kind: str) -> dict[str, Any]:
    found = only(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def chart_crds() -> list[Path]:
    return sorted((CHART / "crds").glob("*.yaml"))
