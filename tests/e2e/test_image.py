"""The operator image, built by ``make image`` (docker, or buildah without a Docker engine), run the
way the chart's Pod runs it: the chart's container args, env and security context (UID 10001, a
read-only root file system, no capabilities, /tmp an emptyDir), the ServiceAccount token mounted
where the kubelet mounts it, against the local API server and the emulator. A GuardedEndpoint
converges to Ready through the operator inside the container.

Building needs docker, or buildah + mmdebstrap + runc (which the build script installs with
apt-get as root). Only a machine with none of these skips, saying so loudly; CI never skips.
"""

from __future__ import annotations

import os
import secrets
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests import chartkit, imagekit, podkit
from tests.e2e.geps import Geps
from tests.e2e.rbac import operator_kubeconfig

from sagemaker_guardrails.devenv.kube import Kubectl
from sagemaker_guardrails.devenv.processes import free_ports
from sagemaker_guardrails.devenv.stack import EmulatorProcess

pytestmark = pytest.mark.e2e

RELEASE = f"sgr-image-{secrets.token_hex(3)}"
POD_NAMESPACE = f"{RELEASE}-system"


@pytest.fixture(scope="module")
def image() -> imagekit.Image:
    reason = imagekit.unavailable()
    if reason is not None:
        message = f"THE OPERATOR IMAGE IS NOT TESTED: {reason}"
        if os.environ.get("CI"):
            pytest.fail(message)
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    start = time.monotonic()
    built = imagekit.build()
    print(f"image {built.ref} ({built.builder}) ready in {time.monotonic() - start:.1f}s")
    return built


@pytest.fixture(scope="module")
def rootfs(image: imagekit.Image) -> Iterator[Path]:
    with imagekit.root_filesystem(image) as root:
        yield root


def chart_pod(values: dict[str, Any]) -> dict[str, Any]:
    objects = chartkit.render(values, release=RELEASE, namespace=POD_NAMESPACE)
    pod: dict[str, Any] = chartkit.one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod


@pytest.fixture(scope="module")
def identity(kubectl: Kubectl, crd: Path, stack_dir: Path) -> Path:
    """The kubeconfig of the release's ServiceAccount, bound by the chart's RBAC."""
    kubeconfig, _ = operator_kubeconfig(kubectl, POD_NAMESPACE, RELEASE, stack_dir / f"{RELEASE}.kubeconfig")
    return kubeconfig


@pytest.fixture(scope="module")
def container(
    image: imagekit.Image, rootfs: Path, identity: Path, emulator: EmulatorProcess, stack_dir: Path
) -> Iterator[podkit.Container]:
    health, metrics = free_ports(2)  # host network: never the chart's 8080/9090
    aws = emulator.aws_environment()
    values = {
        "health": {"port": health},
        "metrics": {"port": metrics},
        "operator": {
            "clusterId": "e2e",
            "activePollSeconds": 1,
            "settledPollSeconds": 3,
            "pollJitter": 0.1,
            "logFormat": "text",
            "extraEnv": [{"name": k, "value": v} for k, v in aws.items()],
        },
    }
    pod = chart_pod(values)
    workdir = stack_dir / RELEASE
    env = podkit.container_env(pod["containers"][0], POD_NAMESPACE)
    env.update(podkit.service_account_files(identity, workdir / "serviceaccount", POD_NAMESPACE))
    spec = podkit.runtime_spec(
        rootfs,
        imagekit.config(image),
        pod,
        env,
        {podkit.SERVICE_ACCOUNT_DIR: workdir / "serviceaccount", "/etc/hosts": Path("/etc/hosts")},
    )
    running = podkit.Container(workdir, RELEASE, spec, health_port=health)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def operator(container: podkit.Container) -> podkit.Container:
    """The operator of this module is the container (the ``geps`` fixture restarts it if needed)."""
    return container.start()


def test_image_holds_the_locked_dependencies_and_nothing_else(rootfs: Path) -> None:
    installed = imagekit.installed_distributions(rootfs)
    expected = {
        **imagekit.locked(),
        "sagemaker-guardrails-operator": installed.get("sagemaker-guardrails-operator", ""),
    }
    assert installed == expected, (
        "the image's virtualenv is exactly requirements/operator.lock + the operator"
    )
    for absent in ("moto", "werkzeug", "responses", "cryptography", "pip", "setuptools", "wheel"):
        assert absent not in installed, absent
    assert not list(rootfs.glob("opt/venv/lib/python3*/site-packages/moto"))
    assert not (rootfs / "opt" / "build").exists(), "the build toolchain stays in the build stage"


def test_image_runs_as_the_charts_user(image: imagekit.Image) -> None:
    config = imagekit.config(image)
    values = chartkit.render({})
    pod = chartkit.one(values, "Deployment")["spec"]["template"]["spec"]
    security = pod["securityContext"]
    assert config["User"] == f"{security['runAsUser']}:{security['runAsGroup']}" == "10001:10001"
    assert config["Entrypoint"] == ["sagemaker-guardrails"]


def test_operator_in_the_image_converges_a_guarded_endpoint(geps: Geps, operator: podkit.Container) -> None:
    manifest = geps.manifest("canary")
    name, endpoint = manifest["metadata"]["name"], manifest["spec"]["endpointName"]
    geps.create(manifest)
    geps.kubectl.run(
        "wait", "--for=condition=Ready", f"gep/{name}", "-n", geps.namespace, "--timeout=90s", timeout=100
    )
    obj = geps.get(name)
    assert obj is not None and obj["status"]["phase"] == "InService"
    assert geps.sagemaker().describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    assert geps.mutations(endpoint) == ["CreateEndpoint"]
    assert operator.alive(), "the operator keeps running in its container"


def test_the_container_is_locked_down(operator: podkit.Container) -> None:
    status = operator.exec("cat", "/proc/self/status")
    assert status.returncode == 0, status.stderr
    fields = dict(line.split(":\t", 1) for line in status.stdout.splitlines() if ":\t" in line)
    assert fields["Uid"].split()[0] == "10001" and fields["Gid"].split()[0] == "10001"
    for caps in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(fields[caps], 16) == 0, f"{caps} {fields[caps]}"
    assert fields["NoNewPrivs"].strip() == "1"
    write = operator.exec("sh", "-c", "touch /opt/venv/x")
    assert write.returncode != 0 and "Read-only file system" in write.stderr
    assert operator.exec("sh", "-c", "touch /tmp/x && rm /tmp/x").returncode == 0, "/tmp is writable"


def test_the_emulator_command_in_the_image_names_its_extra(operator: podkit.Container) -> None:
    result = operator.exec("sagemaker-guardrails", "emulator")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'sagemaker-guardrails-operator[emulator]'" in result.stderr
    assert "Traceback" not in result.stderr
