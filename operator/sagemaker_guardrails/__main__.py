"""The composition root: ``sagemaker-guardrails run`` (or ``python -m sagemaker_guardrails``).

Builds everything once, in this order, and hands it to kopf: settings (environment, then
command-line overrides), logging, metrics (served on ``metrics_port``), the per-region AWS client
factory with its shared token buckets, the reconciler's dependencies, and the kopf registry and
settings. No logic lives here; handlers receive it all through kopf's ``memo``.

Kubernetes credentials come from kopf's default login handlers: ``KUBECONFIG`` or
``~/.kube/config`` on a laptop, the service account in a pod.
"""

from __future__ import annotations

import argparse
import random
import sys
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
        help="watch this namespace (repeatable; kopf globs such as 'ml-*' work)",
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch every namespace (the default)"
    )
    peering = parser.add_mutually_exclusive_group()
    peering.add_argument("--standalone", action="store_true", help="no peering (a single replica)")
    peering.add_argument("--peering", metavar="NAME", help="use the kopf peering object NAME (HA replicas)")
    parser.add_argument("--priority", type=int, metavar="N", help="peering priority (default: random)")
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
        overrides["peering_name"] = None
    if args.peering:
        overrides["peering_name"] = args.peering
    if args.priority is not None:
        overrides["priority"] = args.priority
    if args.log_format:
        overrides["log_format"] = args.log_format
    return Settings(**overrides)


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
    from sagemaker_guardrails.handlers import Runtime, build_registry, kopf_settings
    from sagemaker_guardrails.logs import configure_logging
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
    runtime = Runtime(
        settings=settings,
        deps=reconciler.Deps(settings=settings, clients=clients),
        metrics=metrics,
        reconcile=reconciler.reconcile,
        finalize=reconciler.finalize,
    )
    server = metrics.serve(settings.metrics_port) if settings.metrics_port else None
    namespaces = list(settings.watch_namespaces)
    try:
        kopf.run(
            registry=build_registry(settings),
            settings=kopf_settings(settings),
            memo=runtime,
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=settings.peering_name is None,
            peering_name=settings.peering_name,
            priority=settings.priority if settings.priority is not None else random.randint(0, 32767),
            liveness_endpoint=f"http://0.0.0.0:{settings.health_port}/healthz"
            if settings.health_port
            else None,
        )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
