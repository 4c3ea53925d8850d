"""The Helm chart, rendered by the real ``helm`` for every value set of :mod:`tests.chartkit`:
lint, which objects it renders, Kubernetes schema validation, security defaults, and that the
container is configured through the operator's real settings and command line."""

from __future__ import annotations

import filecmp
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from tests import chartkit
from tests.chartkit import NAMESPACE, RELEASE, VALUE_SETS, WATCHED, one, only, render

from sagemaker_guardrails.__main__ import parse_args, settings_from_args
from sagemaker_guardrails.cli import SUBCOMMANDS
from sagemaker_guardrails.loop.health import serve_health
from sagemaker_guardrails.settings import ENV_PREFIX, Settings

pytestmark = pytest.mark.unit

FULLNAME = f"{RELEASE}-sagemaker-guardrails"
# The chart's kubeVersion floor and the newest schema kubernetes-validate ships.
K8S_VERSIONS = ("1.29", "1.37")
# Custom resources the chart renders; kubernetes-validate has no schema for them.
CUSTOM_GROUPS = {"monitoring.coreos.com"}
PROMETHEUS_OPERATOR_CRDS = chartkit.REPO / "tests" / "fixtures" / "prometheus-operator"

# What `helm template` renders per value set (the chart's crds/ folder is not part of it). With
# leader election, one Role + RoleBinding for the Lease in the release namespace.
EXPECTED_KINDS: dict[str, dict[str, int]] = {
    "default": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Service": 1,
        "Deployment": 1,
    },
    "ha": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Role": 1,
        "RoleBinding": 1,
        "Service": 1,
        "Deployment": 1,
        "PodDisruptionBudget": 1,
    },
    "elected": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Role": 1,
        "RoleBinding": 1,
        "Service": 1,
        "Deployment": 1,
    },
    "namespaced": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Role": 2,
        "RoleBinding": 2,
        "Service": 1,
        "Deployment": 1,
    },
    "namespaced-ha": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Role": 3,
        "RoleBinding": 3,
        "Service": 1,
        "Deployment": 1,
        "PodDisruptionBudget": 1,
    },
    "full": {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Role": 1,
        "RoleBinding": 1,
        "Service": 1,
        "Deployment": 1,
        "PodDisruptionBudget": 1,
        "NetworkPolicy": 1,
        "ServiceMonitor": 1,
        "PrometheusRule": 1,
        "ConfigMap": 1,
    },
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(values) for name, values in VALUE_SETS.items()}


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    return dict(main)


def env_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(objects)["env"] if "value" in e}


def elects(name: str) -> bool:
    """Whether the value set runs leader election: leaderElection.enabled, else replicaCount > 1."""
    values = VALUE_SETS[name]
    enabled = values.get("leaderElection", {}).get("enabled")
    return bool(values.get("replicaCount", 1) > 1 if enabled is None else enabled)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_helm_lint_strict(name: str) -> None:
    result = chartkit.lint(VALUE_SETS[name])
    assert "0 chart(s) failed" in result.stdout, result.stdout


def test_every_value_set_renders_the_expected_kinds(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert set(EXPECTED_KINDS) == set(VALUE_SETS)
    for name, objects in rendered.items():
        assert dict(chartkit.kinds(objects)) == EXPECTED_KINDS[name], name


def _crd_schema(crd_file: Path, kind: str) -> dict[str, Any]:
    for doc in yaml.safe_load_all(crd_file.read_text()):
        if doc and doc["spec"]["names"]["kind"] == kind:
            (version,) = [v for v in doc["spec"]["versions"] if v.get("storage")]
            schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
            return schema
    raise LookupError(kind)


def _validate_custom(obj: dict[str, Any]) -> None:
    """Custom resources: kubernetes-validate only knows built-in kinds, so these are checked
    against the OpenAPI schema of their own CRD."""
    kind = obj["kind"]
    if kind not in ("ServiceMonitor", "PrometheusRule"):
        raise AssertionError(f"no schema known for the custom resource kind {kind}")
    schema = _crd_schema(PROMETHEUS_OPERATOR_CRDS / f"monitoring.coreos.com_{kind.lower()}s.yaml", kind)
    envelope = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    root = {**schema, "properties": {**envelope, **schema.get("properties", {})}}
    jsonschema.Draft7Validator(_closed(root)).validate(obj)


def _closed(schema: Any) -> Any:
    """The schema with unknown fields rejected, as the API server's strict field validation does
    (structural schemas prune them unless x-kubernetes-preserve-unknown-fields is set)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    open_ = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and not open_:
        closed["additionalProperties"] = False
    return closed


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_validate_against_the_kubernetes_schemas(
    rendered: dict[str, list[dict[str, Any]]], version: str
) -> None:
    for name, objects in rendered.items():
        for obj in objects:
            where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
            if obj["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
                _validate_custom(obj)
                continue
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
                pytest.fail(f"{where} is not a valid {version} object: {error!r}")


def test_custom_resource_validation_can_fail() -> None:
    monitor = one(render(VALUE_SETS["full"]), "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["scheme"] = "gopher"
    with pytest.raises(jsonschema.ValidationError, match="gopher"):
        _validate_custom(monitor)


def test_chart_crds_are_an_exact_copy_of_the_top_level_crds() -> None:
    top = sorted((chartkit.REPO / "crds").glob("*.yaml"))
    assert top, "crds/ is empty"
    assert [p.name for p in chartkit.chart_crds()] == [p.name for p in top]
    for path in top:
        assert filecmp.cmp(path, chartkit.CHART / "crds" / path.name, shallow=False), (
            f"charts/sagemaker-guardrails/crds/{path.name} differs from crds/{path.name}: run `make crd`"
        )


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_chart_crds_are_valid_crd_objects(version: str) -> None:
    for path in chartkit.chart_crds():
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_pod_runs_locked_down(rendered: dict[str, list[dict[str, Any]]], name: str) -> None:
    pod = one(rendered[name], "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(rendered[name])["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"]: m["name"] for m in container(rendered[name])["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]], "the only writable path is an emptyDir at /tmp"
    limits = container(rendered[name])["resources"]
    assert limits["requests"]["cpu"] and limits["requests"]["memory"] and limits["limits"]["memory"]


def test_probes_check_liveness_and_readiness_separately_on_the_health_port(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    main = container(rendered["default"])
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    env = env_of(rendered["default"])
    assert ports["health"] == int(env[f"{ENV_PREFIX}HEALTH_PORT"]) == 8080
    assert ports["metrics"] == int(env[f"{ENV_PREFIX}METRICS_PORT"]) == 9090
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}


def _patience(probe: dict[str, Any]) -> int:
    """Seconds of failing checks before the kubelet acts on a probe."""
    return int(probe.get("periodSeconds", 10)) * int(probe.get("failureThreshold", 3))


def test_probe_timings(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """A wedged loop is restarted after about a minute of failing /healthz; readiness follows the
    list quickly; starting up (logging in, the first list) gets longer than liveness would."""
    main = container(rendered["default"])
    liveness, readiness, startup = main["livenessProbe"], main["readinessProbe"], main["startupProbe"]
    assert 45 <= _patience(liveness) <= 90
    assert readiness["periodSeconds"] <= 5 and _patience(readiness) <= 15
    assert _patience(startup) >= 2 * _patience(liveness)
    for probe in (liveness, readiness):
        # The startup probe holds both back; a delay on top of it would only slow readiness down.
        assert probe.get("initialDelaySeconds", 0) == 0
        assert probe["timeoutSeconds"] < probe["periodSeconds"]
    assert "startupProbe" not in container(render({"health": {"startupProbe": None}}))


class _Checks:
    def __init__(self, live: bool, ready: bool) -> None:
        self.live, self.is_ready = live, ready

    def health(self) -> Any:
        return SimpleNamespace(ok=self.live, message="live" if self.live else "wedged")

    def ready(self) -> Any:
        return SimpleNamespace(ok=self.is_ready, message="listed" if self.is_ready else "not listed")


@pytest.mark.parametrize(("live", "ready"), [(True, False), (False, False), (True, True)])
def test_probe_paths_are_the_operator_health_server(
    rendered: dict[str, list[dict[str, Any]]], live: bool, ready: bool
) -> None:
    """The paths the kubelet asks answer from the operator's own health server, each with its own
    check: 200 when it passes, 503 when it fails."""
    main = container(rendered["default"])
    server = serve_health(_Checks(live, ready), 0, addr="127.0.0.1")
    try:
        for probe, expected in (
            ("startupProbe", live),
            ("livenessProbe", live),
            ("readinessProbe", ready),
        ):
            url = f"http://127.0.0.1:{server.port}{main[probe]['httpGet']['path']}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    status, body = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                status, body = error.code, json.loads(error.read())
            assert status == (200 if expected else 503), probe
            assert body["ok"] is expected, probe
    finally:
        server.stop()


def test_container_env_is_exactly_operator_settings(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every variable the chart sets is a real setting, and the operator's Settings parse them."""
    env = env_of(rendered["full"])
    ours = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert set(ours) <= fields, f"not settings: {set(ours) - fields}"
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX) or key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(key)
    for key, value in ours.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.cluster_id == "prod-eu-1"
    assert settings.default_region == "eu-west-1"
    assert settings.log_format == "text"
    assert settings.log_level == "DEBUG"
    assert (settings.metrics_port, settings.health_port) == (9090, 8080)
    assert (settings.active_poll_seconds, settings.settled_poll_seconds, settings.poll_jitter) == (
        15,
        300,
        0.2,
    )
    # The chart's defaults are the operator's own.
    defaults = Settings.model_fields
    assert (settings.rate_limit_per_second, settings.rate_limit_burst, settings.max_workers) == (
        defaults["rate_limit_per_second"].default,
        defaults["rate_limit_burst"].default,
        defaults["max_workers"].default,
    )
    assert (
        settings.lease_duration_seconds,
        settings.lease_renew_deadline_seconds,
        settings.lease_retry_period_seconds,
    ) == (20, 15, 3)
    assert env["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_pod_namespace_comes_from_the_downward_api(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    """Always set: the Lease lives in the pod's (the release's) namespace, where its Role is."""
    (variable,) = [e for e in container(rendered[name])["env"] if e["name"] == "POD_NAMESPACE"]
    assert variable == {
        "name": "POD_NAMESPACE",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
    }


def test_lease_timings_are_set_only_with_leader_election(rendered: dict[str, list[dict[str, Any]]]) -> None:
    timings = {f"{ENV_PREFIX}LEASE_{n}_SECONDS" for n in ("DURATION", "RENEW_DEADLINE", "RETRY_PERIOD")}
    for name, objects in rendered.items():
        env = env_of(objects)
        if elects(name):
            assert timings <= set(env), name
        else:
            assert not timings & set(env), name


def test_default_region_is_left_to_the_pod_environment(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert f"{ENV_PREFIX}DEFAULT_REGION" not in env_of(rendered["default"])


ELECTION = ["--leader-election", f"--lease-name={FULLNAME}"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", ["run", "--all-namespaces", "--standalone"]),
        ("ha", ["run", "--all-namespaces", *ELECTION]),
        ("elected", ["run", "--all-namespaces", *ELECTION]),
        ("namespaced", ["run", *(f"--namespace={ns}" for ns in WATCHED), "--standalone"]),
        ("namespaced-ha", ["run", *(f"--namespace={ns}" for ns in WATCHED), *ELECTION]),
        ("full", ["run", "--all-namespaces", "--leader-election", "--lease-name=guardrails-leader"]),
    ],
)
def test_command_line_selects_namespaces_and_leader_election(
    rendered: dict[str, list[dict[str, Any]]], name: str, expected: list[str]
) -> None:
    assert container(rendered[name])["args"] == expected


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_operator_command_line_accepts_the_chart_args(
    rendered: dict[str, list[dict[str, Any]]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real `sagemaker-guardrails run` parser reads what the chart passes, and the pod's
    namespace (POD_NAMESPACE, from the downward API) becomes the Lease's namespace."""
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    monkeypatch.setenv("POD_NAMESPACE", NAMESPACE)
    args = container(rendered[name])["args"]
    assert args[0] == "run" and "run" in SUBCOMMANDS
    settings = settings_from_args(parse_args(args[1:]))
    values = VALUE_SETS[name]
    assert settings.watch_namespaces == values.get("operator", {}).get("watchNamespaces", [])
    assert settings.leader_election is elects(name)
    if elects(name):
        lease = values.get("leaderElection", {}).get("leaseName") or FULLNAME
        assert (settings.leader_election_namespace, settings.leader_election_lease_name) == (NAMESPACE, lease)


def test_extra_args_come_last() -> None:
    objects = render({"operator": {"extraArgs": ["--flag-for-a-newer-operator"]}})
    assert container(objects)["args"][-1] == "--flag-for-a-newer-operator"


def test_standalone_is_recreated_leader_election_rolls(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Two standalone operators must never run at once; with leader election the new pod stands
    by until the old one releases the Lease, so a rollout may overlap them."""
    for name, objects in rendered.items():
        strategy = one(objects, "Deployment")["spec"]["strategy"]
        if elects(name):
            assert strategy == {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            }
        else:
            assert strategy == {"type": "Recreate"}, name
    assert one(rendered["ha"], "Deployment")["spec"]["replicas"] == 3


def test_several_replicas_cannot_turn_leader_election_off() -> None:
    result = chartkit.template_text({"replicaCount": 2, "leaderElection": {"enabled": False}}, check=False)
    assert result.returncode != 0
    assert "several replicas without leader election would all reconcile" in result.stderr
    standalone = render({"replicaCount": 1, "leaderElection": {"enabled": False}})
    assert "--standalone" in container(standalone)["args"]


def test_lease_timings_must_be_ordered() -> None:
    values = {"leaderElection": {"renewDeadlineSeconds": 20}}
    result = chartkit.template_text(values, check=False)
    assert result.returncode != 0
    assert "retryPeriodSeconds < renewDeadlineSeconds < leaseDurationSeconds" in result.stderr


def test_image_tag_defaults_to_app_version_and_digest_pins(rendered: dict[str, list[dict[str, Any]]]) -> None:
    app_version = yaml.safe_load((chartkit.CHART / "Chart.yaml").read_text())["appVersion"]
    assert container(rendered["default"])["image"].endswith(f":{app_version}")
    assert container(rendered["full"])["image"].endswith("@sha256:" + "ab" * 32)


def test_irsa_role_annotates_the_service_account(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert "annotations" not in one(rendered["default"], "ServiceAccount")["metadata"]
    account = one(rendered["full"], "ServiceAccount")
    annotations = account["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/sagemaker-guardrails"
    assert annotations["example.com/owner"] == "ml-platform"
    pod = one(rendered["full"], "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def test_existing_service_account_must_be_named() -> None:
    result = chartkit.template_text({"serviceAccount": {"create": False}}, check=False)
    assert result.returncode != 0
    assert "serviceAccount.name is required" in result.stderr
    objects = render({"serviceAccount": {"create": False, "name": "ops-robot"}})
    assert not only(objects, "ServiceAccount")
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "ops-robot"
    assert one(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "ops-robot"


def test_metrics_service_targets_the_metrics_port(rendered: dict[str, list[dict[str, Any]]]) -> None:
    service = one(rendered["full"], "Service")
    pod_labels = one(rendered["full"], "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    monitor = one(rendered["full"], "ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_service_monitor_needs_the_service() -> None:
    values = {"metrics": {"service": {"enabled": False}, "serviceMonitor": {"enabled": True}}}
    result = chartkit.template_text(values, check=False)
    assert result.returncode != 0 and "needs metrics.service.enabled" in result.stderr


def test_pod_disruption_budget_selects_the_pods(rendered: dict[str, list[dict[str, Any]]]) -> None:
    budget = one(rendered["ha"], "PodDisruptionBudget")
    pod_labels = one(rendered["ha"], "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    other = one(
        render({"podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}), "PodDisruptionBudget"
    )
    assert other["spec"] == {"maxUnavailable": 1, "selector": budget["spec"]["selector"]}


@pytest.mark.parametrize(
    ("values", "budget"),
    [
        ({}, False),
        ({"replicaCount": 2}, True),
        ({"replicaCount": 2, "podDisruptionBudget": {"enabled": False}}, False),
        ({"podDisruptionBudget": {"enabled": True}}, True),
    ],
)
def test_several_replicas_get_a_disruption_budget_by_default(values: dict[str, Any], budget: bool) -> None:
    assert len(only(render(values), "PodDisruptionBudget")) == int(budget)


def pod_spec(values: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = one(render(values), "Deployment")["spec"]["template"]["spec"]
    return spec


def test_several_replicas_spread_over_nodes_and_zones(rendered: dict[str, list[dict[str, Any]]]) -> None:
    deployment = one(rendered["ha"], "Deployment")
    pod, labels = deployment["spec"]["template"]["spec"], deployment["spec"]["template"]["metadata"]["labels"]
    (preferred,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    term = preferred["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= labels.items()
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway" and spread["maxSkew"] == 1
    assert spread["labelSelector"]["matchLabels"].items() <= labels.items()
    single = one(rendered["default"], "Deployment")["spec"]["template"]["spec"]
    assert "affinity" not in single and "topologySpreadConstraints" not in single


def test_spread_defaults_give_way_to_the_users_settings() -> None:
    hard = pod_spec({"replicaCount": 2, "highAvailability": {"podAntiAffinity": "hard"}})
    (required,) = hard["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["topologyKey"] == "kubernetes.io/hostname"
    off = pod_spec(
        {"replicaCount": 2, "highAvailability": {"podAntiAffinity": "none", "zoneTopologyKey": ""}}
    )
    assert "affinity" not in off and "topologySpreadConstraints" not in off
    node = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}
    merged = pod_spec({"replicaCount": 2, "affinity": node})["affinity"]
    assert set(merged) == {"nodeAffinity", "podAntiAffinity"}
    own = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    assert pod_spec({"replicaCount": 2, "affinity": own})["affinity"] == own
    spread = [{"maxSkew": 2, "topologyKey": "rack", "whenUnsatisfiable": "DoNotSchedule"}]
    assert (
        pod_spec({"replicaCount": 2, "topologySpreadConstraints": spread})["topologySpreadConstraints"]
        == spread
    )


def test_network_policy_admits_the_metrics_and_health_ports(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    policy = one(rendered["full"], "NetworkPolicy")
    deployment = one(rendered["full"], "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress"], "egress stays open (AWS has no fixed addresses)"
    ports = {p["name"] for p in container(rendered["full"])["ports"]}
    admitted = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
    assert admitted == ports == {"metrics", "health"}
    metrics_rule = next(r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == "metrics")
    assert metrics_rule["from"] == VALUE_SETS["full"]["networkPolicy"]["metricsFrom"]


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicas": 2}, "additional properties 'replicas' not allowed"),
        ({"operator": {"logFormat": "xml"}}, "/operator/logFormat"),
        ({"operator": {"watchNamespaces": ["Not_A_Namespace"]}}, "/operator/watchNamespaces/0"),
        ({"operator": {"pollJitter": 1.5}}, "/operator/pollJitter"),
        ({"operator": {"clusterId": ""}}, "/operator/clusterId"),
        ({"serviceAccount": {"irsaRoleArn": "my-role"}}, "/serviceAccount/irsaRoleArn"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"metrics": {"serviceMonitor": {"interval": "soon"}}}, "/metrics/serviceMonitor/interval"),
        ({"leaderElection": {"leaseName": "Not_A_Name"}}, "/leaderElection/leaseName"),
        ({"leaderElection": {"enabled": "auto"}}, "/leaderElection/enabled"),
        ({"leaderElection": {"leaseDurationSeconds": 0}}, "/leaderElection/leaseDurationSeconds"),
        ({"health": {"livenessProbe": {"path": "/livez"}}}, "/health/livenessProbe"),
        ({"highAvailability": {"podAntiAffinity": "always"}}, "/highAvailability/podAntiAffinity"),
        ({"podDisruptionBudget": {"enabled": "yes"}}, "/podDisruptionBudget/enabled"),
        # The kopf peering values are gone; old values files fail loudly instead of being ignored.
        ({"peering": {"create": True}}, "additional properties 'peering' not allowed"),
        ({"operator": {"priority": 100}}, "additional properties 'priority' not allowed"),
    ],
)
def test_values_schema_rejects_mistakes(values: dict[str, Any], complaint: str) -> None:
    result = chartkit.template_text(values, check=False)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_every_documented_value_is_in_the_schema() -> None:
    """values.yaml and values.schema.json describe the same keys."""
    values = yaml.safe_load((chartkit.CHART / "values.yaml").read_text())
    schema = yaml.safe_load((chartkit.CHART / "values.schema.json").read_text())

    def walk(node: Any, sch: dict[str, Any], path: str) -> None:
        if not isinstance(node, dict) or sch.get("additionalProperties") is not False:
            return
        for key, value in node.items():
            assert key in sch["properties"], f"{path}{key} is not in values.schema.json"
            walk(value, sch["properties"][key], f"{path}{key}.")

    walk(values, schema, "")
    jsonschema.validate(values, schema)


def test_notes_tell_how_to_reach_aws() -> None:
    with_irsa = chartkit.helm(
        "install", RELEASE, str(chartkit.CHART), "--dry-run=client", "--namespace", NAMESPACE,
        "--set", "serviceAccount.irsaRoleArn=arn:aws:iam::123456789012:role/guardrails",
    ).stdout  # fmt: skip
    assert "IRSA role arn:aws:iam::123456789012:role/guardrails" in with_irsa
    without = chartkit.helm(
        "install", RELEASE, str(chartkit.CHART), "--dry-run=client", "--namespace", NAMESPACE
    ).stdout
    assert "EKS Pod Identity" in without
    assert "docs/iam-policy.json" in without
    notes = without.split("NOTES:", 1)[1]
    assert "--standalone" in notes and "Lease" not in notes


def test_notes_name_the_lease() -> None:
    notes = chartkit.helm(
        "install", RELEASE, str(chartkit.CHART), "--dry-run=client", "--namespace", NAMESPACE,
        "--set", "replicaCount=2",
    ).stdout.split("NOTES:", 1)[1]  # fmt: skip
    assert f"the Lease {NAMESPACE}/{FULLNAME}" in notes
    assert f"kubectl -n {NAMESPACE} get lease {FULLNAME}" in notes
    assert "peering" not in notes.lower()
