"""Status lag: how long after SageMaker changes an endpoint does the GuardedEndpoint's status show it?

Target (the architecture's, see docs/benchmarks.md): at most one active poll interval + 1 s.

Real processes (kube-apiserver + etcd, the emulator, ``sagemaker-guardrails run``). ``--endpoints``
GuardedEndpoints from examples/canary.yaml are created, then all get a new model version: a canary
update (provision, activate the canary, bake, activate the rest, final bake, terminate the old fleet).
The emulator runs at real speed with every phase ``--phase-seconds`` long (bakes of the i-th
endpoint i seconds longer, to spread transitions over the operator's timer tick), longer than a
jittered poll interval so that the operator sees each phase.

For each transition the emulator's timeline gives the wall time at which it became visible through
DescribeEndpoint; a watch on the resources gives the wall time at which a status showing it arrived.
The difference is the lag. Two kinds are reported apart: transitions SageMaker makes on its own
(activation, bakes, termination, InService), which the operator can only learn by polling, and the
ones that start with the operator's own call (Creating, Provisioning), whose lag is just the pass
that made the call.

    .venv/bin/python -m benchmarks.status_lag                      # default 15 s active poll, ~4 min
    .venv/bin/python -m benchmarks.status_lag --active-poll 3      # ~1.5 min
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks.figures import common_arguments, percentile, positive_int, write_json
from benchmarks.harness import (
    MeasurementError,
    Stack,
    canary_manifest,
    example_alarms,
    new_model_version,
    run_benchmark,
)
from benchmarks.watch import Seen, StatusWatch

# Transitions that begin with the operator's own mutating call (the emulator starts them on receipt).
OWN_CALL = {"Creating", "Provisioning"}


@dataclass(frozen=True)
class Lag:
    endpoint: str
    transition: str
    own_call: bool
    happened: float
    observed: float | None

    @property
    def seconds(self) -> float | None:
        return None if self.observed is None else self.observed - self.happened


def _deployment(status: Mapping[str, Any]) -> Mapping[str, Any]:
    found: Mapping[str, Any] = status.get("deployment") or {}
    return found


def _endpoint(status: Mapping[str, Any]) -> Mapping[str, Any]:
    found: Mapping[str, Any] = status.get("endpoint") or {}
    return found


def shows(event: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool] | None:
    """A predicate telling whether a status reflects the emulator timeline ``event`` (None: not a
    transition a status can show)."""
    name, kind = event["name"], event["event"]
    target, config = event.get("target_config"), event.get("config_name")
    if kind == "outcome":
        state = event.get("endpoint_status")
        return lambda s: _endpoint(s).get("status") == state and _endpoint(s).get("configName") == config
    if kind != "phase":
        return None
    if name == "Creating":
        return lambda s: _deployment(s).get("stage") == "Creating" or _endpoint(s).get("status") == "Creating"
    if name in ("Provisioning", "Terminating", "RollingBack"):
        return lambda s: _deployment(s).get("stage") == name and _deployment(s).get("configName") == target
    if name in ("ActivatingTraffic", "Baking"):
        step = event.get("step")
        return lambda s: (
            _deployment(s).get("stage") == name
            and _deployment(s).get("step") == step
            and _deployment(s).get("configName") == target
        )
    return None


def label(event: Mapping[str, Any]) -> str:
    if event["event"] == "outcome":
        return f"{event['name']} (InService)"
    step = f" {event['step']}/{event['steps']}" if event["name"] in ("ActivatingTraffic", "Baking") else ""
    return f"{event['name']}{step}"


def lags(endpoint: str, events: list[dict[str, Any]], seen: list[Seen]) -> list[Lag]:
    found = []
    for event in events:
        predicate = shows(event)
        if predicate is None:
            continue
        happened = float(event["wall_time"])
        observed = next((s.at for s in seen if s.at >= happened and predicate(s.status)), None)
        found.append(Lag(endpoint, label(event), event["name"] in OWN_CALL, happened, observed))
    return found


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "max": max(values) if values else math.nan,
        "mean": sum(values) / len(values) if values else math.nan,
    }


@dataclass
class Run:
    """What one run collected, for the report."""

    lags: list[Lag] = field(default_factory=list)
    reactions: dict[str, list[float]] = field(default_factory=lambda: {"create": [], "update": []})
    polls: dict[str, list[float]] = field(default_factory=dict)
    update_seconds: float = 0.0

    def gaps(self) -> list[float]:
        return [b - a for times in self.polls.values() for a, b in itertools.pairwise(times)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.status_lag", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--active-poll",
        type=float,
        default=15.0,
        help="operator active_poll_seconds (default 15, the default)",
    )
    parser.add_argument(
        "--jitter", type=float, default=0.2, help="operator poll_jitter (default 0.2, the default)"
    )
    parser.add_argument(
        "--rate-limit", type=float, help="operator rate_limit_per_second (default: the operator's, 5)"
    )
    parser.add_argument(
        "--endpoints", type=positive_int, default=5, help="GuardedEndpoints deployed side by side"
    )
    parser.add_argument(
        "--phase-seconds",
        type=int,
        help="length of every SageMaker phase (default: 1.6 x active poll + 2, so each one is seen)",
    )
    common_arguments(parser)
    return parser.parse_args(argv)


def _stack(args: argparse.Namespace, phase: int) -> Stack:
    settings = {
        "active_poll_seconds": f"{args.active_poll:g}",
        "poll_jitter": f"{args.jitter:g}",
        "cluster_id": "bench",
    }
    if args.rate_limit is not None:
        settings["rate_limit_per_second"] = f"{args.rate_limit:g}"
    seconds = str(phase)
    return Stack(
        operator_settings=settings,
        emulator_settings={
            "provisioning_base_seconds": seconds,
            "provisioning_seconds_per_instance": "0",
            "activation_seconds": seconds,
            "termination_seconds": seconds,
        },
        emulator_speed=1.0,
        alarms=example_alarms(),
        keep=args.keep_logs,
    )


def _first_call(calls: list[dict[str, Any]], endpoint: str, after: float) -> float | None:
    return next(
        (c["wall_time"] for c in calls if c["endpoint"] == endpoint and c["wall_time"] >= after), None
    )


def measure(args: argparse.Namespace) -> int:
    poll = args.active_poll
    phase = args.phase_seconds or math.ceil(1.6 * poll + 2)
    stack = _stack(args, phase)
    names = [f"lag-{i}" for i in range(args.endpoints)]
    # Endpoint i bakes i seconds longer, so that its later transitions fall at other points of the
    # operator's timer tick than the others' (all are created together and would stay in step).
    manifests = [canary_manifest(name, bake_seconds=phase + i) for i, name in enumerate(names)]
    print(
        f"status lag: {len(names)} canary endpoint(s), active poll {poll:g}s (jitter {args.jitter:g}), "
        f"every SageMaker phase {phase}s (bakes of endpoint i: {phase}+i s), emulator at real speed"
    )
    run = Run()
    with stack, StatusWatch(stack) as watch:
        created = time.time()
        stack.create(manifests)
        stack.wait_ready(names, timeout=phase + 4 * poll + 60, generation=1)
        print(f"created and Ready in {time.time() - created:.1f}s; updating all to a new model version")
        patched: dict[str, float] = {}
        updated = time.time()
        for name, manifest in zip(names, manifests, strict=True):
            patched[name] = time.time()
            stack.patch(name, new_model_version(manifest, "v2"))
        stack.wait_ready(names, timeout=6 * phase + 2 * len(names) + 4 * poll + 90, generation=2)
        run.update_seconds = time.time() - updated
        print(f"canary updates finished in {run.update_seconds:.1f}s")
        time.sleep(1.0)
        admin = stack.admin
        creates = admin.calls(operation="CreateEndpoint")
        updates = admin.calls(operation="UpdateEndpoint")
        for name in names:
            run.lags += lags(name, admin.timeline(name), watch.seen(name))
            describes = admin.calls(operation="DescribeEndpoint", endpoint=name)
            run.polls[name] = [c["wall_time"] for c in describes if c["wall_time"] >= updated]
            for kind, calls, since in (("create", creates, created), ("update", updates, patched[name])):
                accepted = _first_call(calls, name, since)
                if accepted is not None:
                    run.reactions[kind].append(accepted - since)
    return report(args, poll=poll, phase=phase, run=run)


def report(args: argparse.Namespace, *, poll: float, phase: int, run: Run) -> int:
    if not run.lags:
        raise MeasurementError("the emulator's timeline held no transitions")
    target = poll + 1.0
    print(f"\n{'endpoint':<8} {'transition':<26} {'kind':<9} {'lag (s)':>8}")
    for lag in run.lags:
        kind = "own call" if lag.own_call else "polled"
        shown = "missed" if lag.seconds is None else f"{lag.seconds:8.2f}"
        flag = "  > target" if lag.seconds is not None and not lag.own_call and lag.seconds > target else ""
        print(f"{lag.endpoint:<8} {lag.transition:<26} {kind:<9} {shown:>8}{flag}")
    polled = [lag.seconds for lag in run.lags if not lag.own_call and lag.seconds is not None]
    own = [lag.seconds for lag in run.lags if lag.own_call and lag.seconds is not None]
    missed = [lag for lag in run.lags if lag.seconds is None]
    if not polled:
        raise MeasurementError("no SageMaker-driven transition was ever seen in status")
    stats, own_stats = summary(polled), summary(own)
    over = sum(1 for value in polled if value > target)
    verdict = "met" if stats["max"] <= target and not missed else "MISSED"
    print(
        f"\npolled transitions: n={stats['n']:.0f} p50={stats['p50']:.2f}s p90={stats['p90']:.2f}s "
        f"max={stats['max']:.2f}s mean={stats['mean']:.2f}s"
    )
    print(f"target: <= active poll + 1 s = {target:g}s -> {verdict} ({over} of {len(polled)} over)")
    if own:
        print(f"own-call transitions: n={len(own)} p50={own_stats['p50']:.2f}s max={own_stats['max']:.2f}s")
    if missed:
        print(f"missed (never shown in status): {', '.join(f'{m.endpoint}:{m.transition}' for m in missed)}")
    reactions = {kind: summary(values) for kind, values in run.reactions.items()}
    for kind, figures in reactions.items():
        call = "CreateEndpoint" if kind == "create" else "UpdateEndpoint"
        print(
            f"{kind}: resource written -> {call} accepted: p50 {figures['p50']:.2f}s "
            f"max {figures['max']:.2f}s (n={figures['n']:.0f})"
        )
    gaps = run.gaps()
    describes = sum(len(times) for times in run.polls.values()) / max(len(run.polls), 1)
    print(f"DescribeEndpoint during the update: {describes:.1f} per endpoint in {run.update_seconds:.0f}s")
    if gaps:
        tick = max(0.5, min(5.0, poll / 5))
        print(
            f"gap between two DescribeEndpoint on one endpoint while busy: p50 {percentile(gaps, 0.5):.2f}s "
            f"max {max(gaps):.2f}s (active poll {poll:g}s, jitter {args.jitter:g}, timer tick {tick:g}s)"
        )
    write_json(
        args.json,
        {
            "benchmark": "status_lag",
            "active_poll_seconds": poll,
            "poll_jitter": args.jitter,
            "rate_limit_per_second": args.rate_limit,
            "phase_seconds": phase,
            "endpoints": args.endpoints,
            "target_seconds": target,
            "polled": stats,
            "own_call": own_stats,
            "over_target": over,
            "missed": len(missed),
            "reaction": reactions,
            "busy_poll_gap": {"p50": percentile(gaps, 0.5), "max": max(gaps, default=math.nan)},
            "describe_per_endpoint_during_update": describes,
            "transitions": [
                {"endpoint": r.endpoint, "transition": r.transition, "own_call": r.own_call, "lag": r.seconds}
                for r in run.lags
            ],
        },
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_benchmark(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main())
