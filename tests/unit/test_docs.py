"""The user documentation says what the code does: links resolve, snippets parse, every setting,
metric, alert and condition reason is documented, and names used in commands exist."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tests import chartkit

from sagemaker_guardrails.core.conditions import Reason
from sagemaker_guardrails.core.decide import RETRY_ANNOTATION
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.settings import ENV_PREFIX, Settings

pytestmark = pytest.mark.unit

REPO = chartkit.REPO
DOCS = REPO / "docs"
OURS = sorted(path.name for path in DOCS.glob("*.md"))
VALUES = yaml.safe_load((chartkit.CHART / "values.yaml").read_text())
SCHEMA = json.loads((chartkit.CHART / "values.schema.json").read_text())


def text(name: str) -> str:
    return (DOCS / name).read_text()


def code_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, flags=re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE)}


def has_value(path: str) -> bool:
    node: Any = VALUES
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("name", [*OURS, "../README.md"])
def test_relative_links_and_anchors_resolve(name: str) -> None:
    prose = re.sub(r"```.*?```|`[^`\n]*`", "", text(name), flags=re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        path = ((DOCS / name).parent / file).resolve() if file else DOCS / name
        assert path.is_relative_to(REPO), f"{name}: {target} points outside the repository"
        assert path.exists(), f"{name}: broken link {target}"
        if anchor:
            assert anchor in anchors(path), f"{name}: no heading #{anchor} in {path.name}"


@pytest.mark.parametrize("name", OURS)
def test_yaml_snippets_parse_and_builtin_objects_validate(name: str) -> None:
    for block in code_blocks(text(name), "yaml"):
        for doc in yaml.safe_load_all(block):
            assert doc is not None
            if isinstance(doc, dict) and "/" not in doc.get("apiVersion", "x/y"):
                kubernetes_validate.validate(doc, "1.33", strict=True)


def helm_sets(markdown: str) -> list[str]:
    sets = []
    for block in code_blocks(markdown, "bash"):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True) if command.strip() else []
            sets += [words[i + 1].split("=")[0] for i, w in enumerate(words[:-1]) if w == "--set"]
    return sets


def test_helm_values_in_commands_exist() -> None:
    found = [key for name in OURS for key in helm_sets(text(name))]
    assert "serviceAccount.irsaRoleArn" in found
    for key in found:
        assert has_value(key), f"--set {key}: no such chart value"


@pytest.mark.parametrize("name", OURS)
def test_chart_values_named_in_prose_exist(name: str) -> None:
    roots = "|".join(k for k, v in VALUES.items() if isinstance(v, dict))
    for key in re.findall(rf"`((?:{roots})\.[a-zA-Z.]+)`", text(name)):
        if not key.endswith((".yaml", ".json", ".md", ".lua")):
            assert has_value(key), f"{name}: `{key}` is not a chart value"


def test_operations_lists_every_setting_and_metric() -> None:
    page = text("operations.md")
    for field in Settings.model_fields:
        assert f"`{ENV_PREFIX}{field.upper()}`" in page, f"setting {field} is not documented"
    metrics = Metrics(version="docs")
    metrics.record_reconcile("ok", 0.1)
    samples = {
        re.sub(r"_(bucket|count|sum)$", "", sample.name)
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }
    assert "sagemaker_guardrails_reconcile_duration_seconds" in samples
    for name in samples:
        assert f"`{name}`" in page, f"metric {name} is not documented"


def test_operations_lists_every_alert() -> None:
    rule = chartkit.one(chartkit.render(chartkit.VALUE_SETS["full"]), "PrometheusRule")
    for alert in rule["spec"]["groups"][0]["rules"]:
        assert f"`{alert['alert']}`" in text("operations.md")


def test_troubleshooting_explains_every_condition_reason() -> None:
    table = text("troubleshooting.md").split("## Condition reasons", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))
    reasons = {v for k, v in vars(Reason).items() if k.isupper()}
    assert documented == reasons


def test_troubleshooting_covers_the_hard_cases() -> None:
    page = text("troubleshooting.md")
    for heading in ("Rolled back", "UpdateRollbackFailed", "Permissions", "Endpoint failed"):
        assert f"## {heading}" in page


def test_retry_annotation_is_the_operators() -> None:
    for name in ("quickstart.md", "troubleshooting.md", "gitops.md"):
        assert RETRY_ANNOTATION in text(name)
    customization = REPO / "gitops" / "argocd" / "resource_customizations" / "sagemaker-guardrails.dev"
    assert (
        RETRY_ANNOTATION
        in (customization / "GuardedEndpoint" / "actions" / "retry" / "action.lua").read_text()
    )


def test_mode_guide_covers_every_mode_and_example() -> None:
    page = text("choosing-a-mode.md")
    for mode in ("AllAtOnce", "Canary", "Linear", "rolling"):
        assert f"`{mode}" in page or f": {mode}`" in page
    for example in ("all-at-once", "canary", "linear", "rolling"):
        assert (REPO / "examples" / f"{example}.yaml").is_file()
        assert f"../examples/{example}.yaml" in page


def test_quickstart_commands_match_the_example() -> None:
    page = text("quickstart.md")
    example = yaml.safe_load((REPO / "examples" / "canary.yaml").read_text())
    namespace, name = example["metadata"]["namespace"], example["metadata"]["name"]
    assert f"kubectl create namespace {namespace}" in page
    assert f"gep {name}" in page
    patch = re.search(r"--type json -p \\\n\s+'(\[.*?\])'", page)
    assert patch, "the JSON patch of step 5"
    (operation,) = json.loads(patch.group(1))
    node: Any = example
    for part in operation["path"].strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert node != operation["value"], "the patch changes the model"


def merged(base: Any, override: Any) -> Any:
    """Helm's merge of user values over the chart's defaults."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    return {**base, **{k: merged(base.get(k), v) for k, v in override.items()}}


def flux_objects() -> list[dict[str, Any]]:
    return [
        d
        for p in sorted((REPO / "gitops" / "flux").glob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())
    ]


def test_flux_helm_release_values_fit_the_chart() -> None:
    (release,) = [o for o in flux_objects() if o["kind"] == "HelmRelease"]
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert (REPO / release["spec"]["chart"]["spec"]["chart"] / "Chart.yaml").is_file()
    assert release["spec"]["install"]["crds"] == release["spec"]["upgrade"]["crds"] == "CreateReplace"
    jsonschema.validate(merged(VALUES, release["spec"]["values"]), SCHEMA)
    chartkit.render(release["spec"]["values"])


def test_flux_waits_for_guarded_endpoints_long_enough() -> None:
    kustomizations = {o["metadata"]["name"]: o for o in flux_objects() if o["kind"] == "Kustomization"}
    endpoints = kustomizations["ml-endpoints"]["spec"]
    assert endpoints["wait"] is True
    assert {"name": "sagemaker-guardrails"} in endpoints["dependsOn"]
    assert "sagemaker-guardrails" in kustomizations
    hours = re.fullmatch(r"(\d+)h", endpoints["timeout"])
    assert hours and int(hours.group(1)) >= 1, (
        "a guarded deployment takes longer than Flux's default 5 minutes"
    )
    for block in code_blocks(text("gitops.md"), "yaml"):
        doc = yaml.safe_load(block)
        if doc.get("kind") == "Kustomization" and doc["apiVersion"].startswith("kustomize.toolkit"):
            assert doc["spec"] == endpoints, "docs/gitops.md shows gitops/flux/kustomizations.yaml"
