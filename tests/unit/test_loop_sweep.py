"""The orphan sweeper's supervision: a failing sweep is logged, counted and run again next period; a
standby never sweeps; a sweeper thread that died makes /healthz fail like a dead worker."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from kubernetes import client as k8s

from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.loop import KubeApi
from sagemaker_guardrails.loop.sweep import AllChecks, Sweeper
from sagemaker_guardrails.metrics import Metrics
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit


def unreachable_kube() -> KubeApi:
    """The real Kubernetes client, pointed at a port nobody listens on."""
    configuration = k8s.Configuration()
    configuration.host = "http://127.0.0.1:9"
    return KubeApi(k8s.ApiClient(configuration), timeout=1.0)


def no_aws(region: str) -> AwsClients:
    raise AssertionError("the sweep must not reach AWS without a list of GuardedEndpoints")


def sweeps(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "sagemaker_guardrails_orphan_sweeps_total", {"outcome": outcome}
    )
    return value or 0.0


def wait(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class _Ok:
    ok, message = True, "loop fine"


class _Loop:
    def health(self) -> _Ok:
        return _Ok()

    def ready(self) -> _Ok:
        return _Ok()


def test_a_failing_sweep_is_logged_counted_and_run_again(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    settings = Settings(orphan_sweep_seconds=0.05)
    sweeper = Sweeper(kube=unreachable_kube(), settings=settings, clients=no_aws, metrics=metrics)
    with caplog.at_level(logging.ERROR, logger="sagemaker_guardrails.loop.sweep"):
        sweeper.start()
        try:
            wait(lambda: sweeps(metrics, "error") >= 3)
            assert sweeper.health().ok
            assert AllChecks(_Loop(), sweeper).health().ok
        finally:
            sweeper.stop()
    failures = [r for r in caplog.records if "orphan sweep failed" in r.getMessage()]
    assert failures and failures[0].exc_info is not None, "the traceback must be logged"


def test_a_standby_never_sweeps() -> None:
    metrics = Metrics()
    standby = threading.Event()
    sweeper = Sweeper(
        kube=unreachable_kube(),
        settings=Settings(orphan_sweep_seconds=0.05),
        clients=no_aws,
        metrics=metrics,
        leading=standby,
    )
    assert sweeper.run_once() is None
    sweeper.start()
    try:
        time.sleep(0.4)
        assert sweeps(metrics, "error") == 0 and sweeps(metrics, "ok") == 0
        standby.set()
        wait(lambda: sweeps(metrics, "error") >= 1)
    finally:
        sweeper.stop()


class _Dies(KubeApi):
    """A list that ends the thread the way only a bug could (not an ``Exception``)."""

    def list(self, namespaces: list[str]) -> list[dict[str, Any]]:
        raise SystemExit("bug")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_sweeper_thread_fails_health_and_readiness() -> None:
    configuration = k8s.Configuration()
    kube = _Dies(k8s.ApiClient(configuration))
    sweeper = Sweeper(
        kube=kube, settings=Settings(orphan_sweep_seconds=0.05), clients=no_aws, metrics=Metrics()
    )
    sweeper.start()
    assert sweeper._thread is not None
    sweeper._thread.join(timeout=5)
    checks = AllChecks(_Loop(), sweeper)
    assert not checks.health().ok and "orphan-sweep" in checks.health().message
    assert not checks.ready().ok
    sweeper.stop()
    assert checks.health().ok  # a stopped sweeper is not a dead one


def test_interval_zero_turns_the_sweep_off() -> None:
    sweeper = Sweeper(
        kube=unreachable_kube(), settings=Settings(orphan_sweep_seconds=0), clients=no_aws, metrics=Metrics()
    )
    sweeper.start()
    assert sweeper._thread is None and sweeper.health().ok
