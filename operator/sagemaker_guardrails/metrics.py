"""Every Prometheus metric of the operator, in one place.

Labels are low-cardinality on purpose: outcome, operation, AWS error code, strategy and phase,
never a resource name (a thousand GuardedEndpoints must not mean a thousand series per metric).
The deployment metrics and the phase gauge also carry ``resource_namespace``, the GuardedEndpoint's
namespace, so that an alert can name (and be routed to) the team whose endpoint it is; there are
far fewer namespaces than resources. It is not called ``namespace``: Prometheus gives every scraped
series the operator pod's namespace under that name, and would rename a clashing label of ours
to ``exported_namespace``. Per-object state that a gauge needs (which phase each resource is in)
is kept inside :class:`Metrics`, keyed by uid, and only the counts are exported.

The objects live in a :class:`~prometheus_client.CollectorRegistry` owned by the composition
root, not in prometheus-client's global registry, so tests build as many instances as they like.
"""

from __future__ import annotations

import threading
from collections import Counter as _Tally
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "DEPLOYMENT_OUTCOMES",
    "NAMESPACE_LABEL",
    "PREFIX",
    "RECONCILE_OUTCOMES",
    "LoopFigures",
    "Metrics",
    "MetricsServer",
]

PREFIX = "sagemaker_guardrails_"
RECONCILE_OUTCOMES = ("ok", "requeued", "error", "stalled")
DEPLOYMENT_OUTCOMES = ("Started", "Succeeded", "RolledBack", "Failed")
# The GuardedEndpoint's namespace (see the module docstring for why not ``namespace``).
NAMESPACE_LABEL = "resource_namespace"

# Guarded deployments take minutes to hours (MaximumExecutionTimeout is up to 8 h).
_DEPLOYMENT_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200)
_RECONCILE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _QueueStats(Protocol):
    @property
    def keys(self) -> int: ...
    @property
    def due(self) -> int: ...
    @property
    def processing(self) -> int: ...
    @property
    def oldest_overdue_seconds(self) -> float: ...


class _Queue(Protocol):
    def stats(self) -> _QueueStats: ...


class LoopFigures(Protocol):
    """What the reconcile loop shows the metrics at scrape time (``loop.Controller`` is one)."""

    @property
    def queue(self) -> _Queue: ...

    def phase_ages(self) -> dict[str, float]: ...


class _LoopCollector(Collector):
    """Queue figures read from the loop when Prometheus scrapes, never pushed per pass."""

    def __init__(self) -> None:
        self.loop: LoopFigures | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.loop is None:
            return
        stats = self.loop.queue.stats()
        yield GaugeMetricFamily(
            f"{PREFIX}reconcile_queue_depth", "Keys due now and waiting for a worker.", value=stats.due
        )
        yield GaugeMetricFamily(
            f"{PREFIX}reconcile_queue_keys",
            "Keys in the reconcile queue (waiting, due or in progress).",
            value=stats.keys,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}reconcile_queue_in_progress", "Passes running now.", value=stats.processing
        )
        yield GaugeMetricFamily(
            f"{PREFIX}reconcile_queue_oldest_overdue_seconds",
            "How long the most overdue key has been due without a worker taking it.",
            value=stats.oldest_overdue_seconds,
        )
        ages = GaugeMetricFamily(
            f"{PREFIX}seconds_since_last_pass",
            "Per phase, seconds since the least recently reconciled resource's last confirmed pass.",
            labels=["phase"],
        )
        for phase, age in sorted(self.loop.phase_ages().items()):
            ages.add_metric([phase], age)
        yield ages


class Metrics:
    """The operator's metrics, registered in ``registry`` (a fresh one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, version: str = "") -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.reconciles = Counter(
            f"{PREFIX}reconciles_total", "Reconcile passes by outcome.", ["outcome"], registry=r
        )
        self.reconcile_duration = Histogram(
            f"{PREFIX}reconcile_duration_seconds",
            "Wall time of one reconcile pass.",
            buckets=_RECONCILE_BUCKETS,
            registry=r,
        )
        self.aws_calls = Counter(
            f"{PREFIX}aws_calls_total",
            'AWS API attempts by service, operation and error code ("" on success).',
            ["service", "operation", "error_code"],
            registry=r,
        )
        self.deployments = Counter(
            f"{PREFIX}deployments_total",
            "Deployments by the resource's namespace, strategy and outcome (Started, Succeeded, RolledBack, Failed).",
            [NAMESPACE_LABEL, "strategy", "outcome"],
            registry=r,
        )
        self.rollbacks = Counter(
            f"{PREFIX}rollbacks_total",
            "Deployments SageMaker rolled back, by the resource's namespace and strategy.",
            [NAMESPACE_LABEL, "strategy"],
            registry=r,
        )
        self.deployment_duration = Histogram(
            f"{PREFIX}deployment_duration_seconds",
            "Time from UpdateEndpoint/CreateEndpoint to the end of the deployment.",
            ["strategy", "outcome"],
            buckets=_DEPLOYMENT_BUCKETS,
            registry=r,
        )
        self.resources = Gauge(
            f"{PREFIX}resources",
            "GuardedEndpoints by namespace and phase.",
            [NAMESPACE_LABEL, "phase"],
            registry=r,
        )
        self.info = Gauge(f"{PREFIX}operator_info", "Operator build information.", ["version"], registry=r)
        self.info.labels(version=version).set(1)
        self.status_write_failures = Counter(
            f"{PREFIX}status_write_failures_total",
            "Status writes the API server refused or that failed, by the API's reason.",
            ["reason"],
            registry=r,
        )
        self.kube_request_failures = Counter(
            f"{PREFIX}kube_request_failures_total",
            "Other Kubernetes API requests that failed (metadata, finalizer, get, list, event).",
            ["request", "reason"],
            registry=r,
        )
        self.pass_exceptions = Counter(
            f"{PREFIX}reconcile_exceptions_total",
            "Passes that raised an unexpected exception (logged with its traceback and retried).",
            ["exception"],
            registry=r,
        )
        self.leader = Gauge(f"{PREFIX}leader", "1 while this replica reconciles, 0 on standby.", registry=r)
        self.orphans = Gauge(
            f"{PREFIX}orphans",
            "SageMaker resources of this cluster whose GuardedEndpoint is gone, by kind (last sweep).",
            ["kind"],
            registry=r,
        )
        self.orphans_deleted = Counter(
            f"{PREFIX}orphans_deleted_total",
            "Orphaned SageMaker resources the sweep deleted (orphan_sweep_delete), by kind.",
            ["kind"],
            registry=r,
        )
        self.orphan_sweeps = Counter(
            f"{PREFIX}orphan_sweeps_total",
            "Orphan sweeps by outcome (ok, error: logged with its traceback, run again next period).",
            ["outcome"],
            registry=r,
        )
        self._loop = _LoopCollector()
        self.registry.register(self._loop)
        self._phases: dict[str, tuple[str, str]] = {}  # uid -> (namespace, phase)
        self._lock = threading.Lock()

    def record_aws_call(self, service: str, operation: str, error_code: str) -> None:
        """Count one AWS attempt; the AWS adapters get this method as their call recorder."""
        self.aws_calls.labels(service=service, operation=operation, error_code=error_code).inc()

    def record_reconcile(self, outcome: str, duration_seconds: float) -> None:
        if outcome not in RECONCILE_OUTCOMES:
            raise ValueError(f"unknown reconcile outcome {outcome!r}")
        self.reconciles.labels(outcome=outcome).inc()
        self.reconcile_duration.observe(duration_seconds)

    def status_write_failed(self, reason: str) -> None:
        self.status_write_failures.labels(reason=reason or "Unknown").inc()

    def kube_request_failed(self, request: str, reason: str) -> None:
        self.kube_request_failures.labels(request=request, reason=reason or "Unknown").inc()

    def pass_failed(self, exception: str) -> None:
        self.pass_exceptions.labels(exception=exception).inc()

    def orphan_sweep(self, found: dict[str, int], deleted: dict[str, int]) -> None:
        """A finished sweep: the orphans it found (every kind, 0 included) and what it deleted."""
        for kind, count in found.items():
            self.orphans.labels(kind=kind).set(count)
        for kind, count in deleted.items():
            if count:
                self.orphans_deleted.labels(kind=kind).inc(count)
        self.orphan_sweeps.labels(outcome="ok").inc()

    def orphan_sweep_failed(self) -> None:
        self.orphan_sweeps.labels(outcome="error").inc()

    def watch_loop(self, loop: LoopFigures) -> None:
        """Export the queue figures of ``loop`` (read at scrape time)."""
        self._loop.loop = loop

    def deployment_started(self, strategy: str, namespace: str = "") -> None:
        self.deployments.labels(namespace, strategy, "Started").inc()

    def deployment_finished(
        self, strategy: str, outcome: str, duration_seconds: float | None, namespace: str = ""
    ) -> None:
        if outcome not in DEPLOYMENT_OUTCOMES or outcome == "Started":
            raise ValueError(f"unknown deployment outcome {outcome!r}")
        self.deployments.labels(namespace, strategy, outcome).inc()
        if outcome == "RolledBack":
            self.rollbacks.labels(namespace, strategy).inc()
        if duration_seconds is not None:
            self.deployment_duration.labels(strategy=strategy, outcome=outcome).observe(duration_seconds)

    def set_phase(self, uid: str, phase: str | None, namespace: str = "") -> None:
        """Remember the phase of one resource (``None`` forgets it) and refresh the gauge."""
        with self._lock:
            if phase is None:
                self._phases.pop(uid, None)
            else:
                self._phases[uid] = (namespace, phase)
            counts = _Tally(self._phases.values())
            for labels in self._known_series():
                if labels not in counts:
                    self.resources.labels(*labels).set(0)
            for (where, name), count in counts.items():
                self.resources.labels(where, name).set(count)

    def _known_series(self) -> list[tuple[str, str]]:
        return [
            (sample.labels[NAMESPACE_LABEL], sample.labels["phase"])
            for metric in self.resources.collect()
            for sample in metric.samples
            if "phase" in sample.labels
        ]

    def serve(self, port: int, addr: str = "0.0.0.0") -> MetricsServer:
        """Serve ``/metrics`` on ``port`` (0 = any free port) in a daemon thread."""
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        return MetricsServer(port=int(server.server_address[1]), _server=server, _thread=thread)


@dataclass
class MetricsServer:
    """A running ``/metrics`` endpoint."""

    port: int
    _server: WSGIServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
