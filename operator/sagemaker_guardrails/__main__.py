"""The composition root: ``sagemaker-guardrails run`` (or ``python -m sagemaker_guardrails``).

Builds everything once, in this order: settings (environment, then command-line overrides),
logging, metrics (served on ``metrics_port``), the per-region AWS client factory with its shared
token buckets, the Kubernetes client of the loop, the optional Lease leader election, the
reconcile loop (:class:`~sagemaker_guardrails.loop.Controller`), the orphan sweeper
(:class:`~sagemaker_guardrails.loop.sweep.Sweeper`), ``/healthz`` and ``/readyz`` on
``health_port``, and finally kopf, which watches and feeds the loop. No logic lives here.

Kubernetes credentials: the service account in a pod, else ``KUBECONFIG`` or ``~/.kube/config``
(for the loop's client and for kopf's watch alike). A leader that loses its Lease stops the
process with exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from sagemaker_guardrails import __version__
from sagemaker_guardrails.settings import Settings

__all__ = ["cli_main", "parse_args", "settings_from_args"]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sagemaker-guardrails run",
        description="Run the GuardedEndpoint operator against the current kubeconfig or in-cluster config.",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NS",
        help="watch this namespace (repeatable; globs such as 'ml-*' work)",
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch every namespace (the default)"
    )
    election = parser.add_mutually_exclusive_group()
    election.add_argument("--standalone", action="store_true", help="no leader election (a single replica)")
    election.add_argument(
        "--leader-election", action="store_true", help="elect one reconciling replica through a Lease"
    )
    parser.add_argument("--lease-name", metavar="NAME", help="name of the Lease (default: settings)")
    parser.add_argument("--lease-namespace", metavar="NS", help="namespace of the Lease (default: the pod's)")
    parser.add_argument("--log-format", choices=("text", "json"), help="log format (default: settings)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(list(argv))


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment settings with the command line on top (command line wins)."""
    overrides: dict[str, Any] = {}
    if args.namespaces:
        overrides["watch_namespaces"] = list(args.namespaces)
    if args.all_namespaces:
        overrides["watch_namespaces"] = []
    if args.standalone:
        overrides["leader_election"] = False
    if args.leader_election:
        overrides["leader_election"] = True
    if args.lease_name:
        overrides["leader_election_lease_name"] = args.lease_name
    if args.lease_namespace:
        overrides["leader_election_namespace"] = args.lease_namespace
    if args.log_format:
        overrides["log_format"] = args.log_format
    return Settings(**overrides)


def _kube_client(settings: Settings) -> Any:
    """An API client for the loop's own calls: in-cluster service account, else kubeconfig."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.connection_pool_maxsize = settings.max_workers + 8
    return client.ApiClient(configuration)


def cli_main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValidationError as exc:
        print(f"sagemaker-guardrails run: invalid settings:\n{exc}", file=sys.stderr)
        return 2

    import kopf

    from sagemaker_guardrails import reconciler
    from sagemaker_guardrails.aws.clients import ClientFactory
    from sagemaker_guardrails.handlers import build_registry, kopf_settings
    from sagemaker_guardrails.logs import configure_logging
    from sagemaker_guardrails.loop import Controller, KubeApi, LeaderElector, serve_health
    from sagemaker_guardrails.loop.sweep import AllChecks, Sweeper
    from sagemaker_guardrails.metrics import Metrics

    configure_logging(settings.log_format, settings.log_level, verbose=args.verbose)
    metrics = Metrics(version=__version__)
    clients = ClientFactory(
        rate_per_second=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        max_attempts=settings.aws_max_attempts,
        acquire_timeout=settings.rate_limit_timeout_seconds,
        max_pool_connections=settings.max_workers,
        recorder=metrics.record_aws_call,
    )
    api_client = _kube_client(settings)
    stop = threading.Event()
    lost = threading.Event()
    elector: LeaderElector | None = None
    leading: threading.Event | None = None
    if settings.leader_election:

        def on_lost() -> None:
            lost.set()
            stop.set()

        elector = LeaderElector(
            api_client,
            namespace=settings.leader_election_namespace or "default",
            name=settings.leader_election_lease_name,
            lease_duration=settings.lease_duration_seconds,
            renew_deadline=settings.lease_renew_deadline_seconds,
            retry_period=settings.lease_retry_period_seconds,
            on_lost=on_lost,
        )
        leading = elector.leading
    kube = KubeApi(api_client, timeout=settings.kube_request_timeout_seconds)
    controller = Controller(
        kube=kube,
        settings=settings,
        deps=reconciler.Deps(settings=settings, clients=clients),
        metrics=metrics,
        reconcile=reconciler.reconcile,
        finalize=reconciler.finalize,
        leading=leading,
        elector_alive=(lambda: elector.alive) if elector is not None else None,
    )
    sweeper = Sweeper(kube=kube, settings=settings, clients=clients, metrics=metrics, leading=leading)
    if elector is not None:
        metrics.leader.set_function(lambda: 1.0 if elector.leading.is_set() else 0.0)
    else:
        metrics.leader.set(1)

    async def start_loop(**_: Any) -> None:
        controller.start()
        sweeper.start()
        if elector is not None:
            elector.start()

    async def stop_loop(**_: Any) -> None:
        # Workers first: the Lease is released only once no pass of ours is running any more.
        controller.stop(timeout=settings.kube_request_timeout_seconds)
        sweeper.stop(timeout=settings.kube_request_timeout_seconds)
        if elector is not None:
            elector.stop()

    server = metrics.serve(settings.metrics_port) if settings.metrics_port else None
    checks = AllChecks(controller, sweeper)
    health = serve_health(checks, settings.health_port) if settings.health_port else None
    namespaces = list(settings.watch_namespaces)
    try:
        kopf.run(
            registry=build_registry(controller, on_startup=start_loop, on_cleanup=stop_loop),
            settings=kopf_settings(),
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=True,
            stop_flag=stop,
        )
    finally:
        for running in (health, server):
            if running is not None:
                running.stop()
    return 1 if lost.is_set() else 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
