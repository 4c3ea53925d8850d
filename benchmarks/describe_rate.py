"""Steady-state AWS calls per endpoint, and mutating calls after a restart and after a crash.

Targets (the architecture's, see docs/benchmarks.md): at most ~12 DescribeEndpoint calls per
endpoint per hour when settled (the ACK controller makes ~120), and no duplicate mutating call
after a crash or restart.

Real processes (kube-apiserver + etcd, the emulator, ``sagemaker-guardrails run``). ``--endpoints``
GuardedEndpoints are created and left to settle (InService), then the emulator's call log is read for
three phases:

1. **settled window**: ``--window`` seconds of doing nothing. The mean interval between two
   DescribeEndpoint calls on the same endpoint, in units of the configured ``settled_poll_seconds``,
   is what carries over to any setting: calls per hour at the default 300 s = 3600 / (ratio x 300).
   The count of calls in the window gives the same figure a second way. By default the settled poll
   is shortened to ``--settled-poll 10`` so the window holds ~12 polls per endpoint; run with
   ``--settled-poll 300 --window 3600`` to measure the default directly (an hour).
2. **restart while settled**: SIGKILL, start again; every mutating call after that is a duplicate
   (the target is none), and the DescribeEndpoint calls of the resume pass are the cost of a restart.
3. **crash mid-deployment**: every endpoint gets a new model version; when half of them have had
   their UpdateEndpoint, the operator is SIGKILLed and started again. Each endpoint must end up with
   exactly one UpdateEndpoint (any second attempt, even a refused one, is a duplicate).

    .venv/bin/python -m benchmarks.describe_rate                                   # ~4 min
    .venv/bin/python -m benchmarks.describe_rate --settled-poll 300 --window 3600  # the default, ~65 min
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from benchmarks.figures import common_arguments, cpu_seconds, percentile, positive_int, write_json
from benchmarks.harness import (
    MeasurementError,
    Stack,
    canary_manifest,
    example_alarms,
    new_model_version,
    run_benchmark,
)

MUTATING = {
    "CreateModel",
    "DeleteModel",
    "CreateEndpointConfig",
    "DeleteEndpointConfig",
    "CreateEndpoint",
    "UpdateEndpoint",
    "DeleteEndpoint",
    "AddTags",
    "DeleteTags",
}
DEFAULT_SETTLED_POLL = 300.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.describe_rate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--endpoints", type=positive_int, default=20, help="GuardedEndpoints (default 20)")
    parser.add_argument(
        "--settled-poll",
        type=float,
        default=10.0,
        help="operator settled_poll_seconds (default 10; real default 300)",
    )
    parser.add_argument("--window", type=float, default=120.0, help="settled window in seconds (default 120)")
    parser.add_argument(
        "--jitter", type=float, default=0.2, help="operator poll_jitter (default 0.2, the default)"
    )
    parser.add_argument("--no-restart", action="store_true", help="skip the restart and crash phases")
    common_arguments(parser)
    return parser.parse_args(argv)


def _calls(stack: Stack, since: float, until: float | None = None) -> list[dict[str, Any]]:
    return [
        c
        for c in stack.admin.calls()
        if c["wall_time"] >= since and (until is None or c["wall_time"] < until)
    ]


def settled_window(stack: Stack, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    pid = stack.operator_pid
    cpu_before, began = cpu_seconds(pid), time.time()
    print(f"settled window: {args.window:g}s with settled_poll_seconds={args.settled_poll:g}", flush=True)
    time.sleep(args.window)
    ended = time.time()
    cpu = cpu_seconds(pid) - cpu_before
    stack.check_alive()
    calls = _calls(stack, began, ended)
    per_endpoint: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call["operation"] == "DescribeEndpoint" and call["endpoint"] in names:
            per_endpoint[call["endpoint"]].append(call["wall_time"])
    intervals = [b - a for times in per_endpoint.values() for a, b in itertools.pairwise(times)]
    if not intervals:
        raise MeasurementError("no endpoint was described twice in the window; make --window longer")
    mean_interval = sum(intervals) / len(intervals)
    ratio = mean_interval / args.settled_poll
    count = sum(len(t) for t in per_endpoint.values()) / len(names)
    per_hour_here = count * 3600 / args.window
    scale = args.settled_poll / DEFAULT_SETTLED_POLL
    by_operation = Counter(c["operation"] for c in calls)
    mutating = sum(n for op, n in by_operation.items() if op in MUTATING)

    print(
        f"  DescribeEndpoint per endpoint in {args.window:g}s: {count:.2f} "
        f"({per_hour_here:.0f}/h at this setting)"
    )
    print(
        f"  interval between two DescribeEndpoint on one endpoint: mean {mean_interval:.2f}s "
        f"(p50 {percentile(intervals, 0.5):.2f}s, min {min(intervals):.2f}s, max {max(intervals):.2f}s, "
        f"n={len(intervals)}) = {ratio:.3f} x settled_poll_seconds"
    )
    at_default = 3600 / (ratio * DEFAULT_SETTLED_POLL)
    print(
        f"  at the default 300 s: 3600 / ({ratio:.3f} x 300 s) = {at_default:.2f} DescribeEndpoint per "
        f"endpoint per hour (count-based: {per_hour_here:.1f} x {args.settled_poll:g}/300 = "
        f"{per_hour_here * scale:.2f})"
    )
    print(f"  target <= ~12 per endpoint per hour -> {'met' if at_default <= 12.5 else 'MISSED'}")
    others = {op: n for op, n in sorted(by_operation.items()) if op != "DescribeEndpoint"}
    for op, n in others.items():
        print(
            f"  {op}: {n} in the window ({n / len(names):.2f} per endpoint; not scaled: not a per-poll call)"
        )
    print(f"  mutating calls in the window: {mutating}")
    print(
        f"  operator CPU: {cpu:.2f}s in {ended - began:.0f}s ({100 * cpu / (ended - began):.1f}% of a core)"
    )
    return {
        "window_seconds": args.window,
        "settled_poll_seconds": args.settled_poll,
        "describe_per_endpoint_in_window": count,
        "mean_interval_seconds": mean_interval,
        "interval_ratio": ratio,
        "describe_per_endpoint_hour_at_300s": at_default,
        "describe_per_endpoint_hour_at_300s_count_based": per_hour_here * scale,
        "calls_by_operation": dict(by_operation),
        "mutating_calls": mutating,
        "operator_cpu_percent": 100 * cpu / (ended - began),
    }


def _wait_described(stack: Stack, names: list[str], since: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        described = {
            c["endpoint"] for c in stack.admin.calls(operation="DescribeEndpoint") if c["wall_time"] >= since
        }
        if described >= set(names):
            return
        if time.monotonic() > deadline:
            raise MeasurementError(
                f"{len(set(names) - described)} endpoint(s) not described after the restart"
            )
        time.sleep(0.5)


def restart_settled(stack: Stack, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    assert stack.operator is not None
    print("restart while settled: SIGKILL, start again", flush=True)
    stack.operator.kill()
    restarted = time.time()
    stack.operator.start()
    _wait_described(stack, names, restarted, timeout=60 + len(names) / 2)
    resumed = time.time() - restarted
    time.sleep(min(2 * args.settled_poll, 30.0))
    calls = _calls(stack, restarted)
    by_operation = Counter(c["operation"] for c in calls)
    mutating = {op: n for op, n in by_operation.items() if op in MUTATING}
    first: dict[str, int] = Counter(
        c["endpoint"]
        for c in calls
        if c["operation"] == "DescribeEndpoint" and c["wall_time"] < restarted + resumed + 1
    )
    burst = sum(first.values()) / len(names)
    print(
        f"  every endpoint described again {resumed:.1f}s after the start ({burst:.2f} DescribeEndpoint each)"
    )
    print(f"  mutating calls after the restart: {sum(mutating.values())} {dict(mutating) or ''}")
    return {
        "resume_seconds": resumed,
        "describe_per_endpoint_in_resume": burst,
        "mutating_calls": mutating,
    }


def crash_mid_deployment(stack: Stack, names: list[str], manifests: list[dict[str, Any]]) -> dict[str, Any]:
    assert stack.operator is not None
    print(
        "crash mid-deployment: update all, SIGKILL when half have had UpdateEndpoint, start again", flush=True
    )
    began = time.time()
    for name, manifest in zip(names, manifests, strict=True):
        stack.patch(name, new_model_version(manifest, "v2"))
    deadline = time.monotonic() + 120
    while True:
        updated = {
            c["endpoint"] for c in stack.admin.calls(operation="UpdateEndpoint") if c["wall_time"] >= began
        }
        if len(updated) >= len(names) / 2:
            break
        if time.monotonic() > deadline:
            raise MeasurementError("fewer than half of the endpoints got an UpdateEndpoint in 120s")
        time.sleep(0.05)
    killed = time.time()
    stack.operator.kill()
    stack.operator.start()
    stack.wait_ready(names, timeout=300, generation=2)
    mutations = [c for c in _calls(stack, began) if c["operation"] in MUTATING]
    updates = [c for c in mutations if c["operation"] == "UpdateEndpoint"]
    killed_after = sum(1 for c in updates if c["wall_time"] < killed)
    per_endpoint = Counter(c["endpoint"] for c in updates)
    duplicates = {name: n for name, n in per_endpoint.items() if n != 1}
    missing = [name for name in names if per_endpoint[name] == 0]
    by_operation = Counter(c["operation"] for c in mutations)
    refused = Counter(f"{c['operation']}:{c['error_code']}" for c in mutations if c["error_code"])
    print(
        f"  killed after {killed_after} of {len(names)} UpdateEndpoint calls; all Ready on the new revision"
    )
    print(f"  mutating calls from the update to Ready: {dict(sorted(by_operation.items()))}")
    print(f"  refused: {dict(refused) or 'none'}")
    print(f"  endpoints with a duplicate UpdateEndpoint: {len(duplicates)} {duplicates or ''}")
    if missing:
        print(f"  endpoints never updated: {missing}")
    return {
        "killed_after_updates": killed_after,
        "mutating_calls": dict(by_operation),
        "refused": dict(refused),
        "duplicates": duplicates,
    }


def measure(args: argparse.Namespace) -> int:
    stack = Stack(
        operator_settings={
            "active_poll_seconds": "2",
            "settled_poll_seconds": f"{args.settled_poll:g}",
            "poll_jitter": f"{args.jitter:g}",
            "cluster_id": "bench",
        },
        emulator_speed=60.0,
        alarms=example_alarms(),
        keep=args.keep_logs,
    )
    names = [f"rate-{i}" for i in range(args.endpoints)]
    manifests = [canary_manifest(name, bake_seconds=300) for name in names]
    print(f"describe rate: {len(names)} endpoints (examples/canary.yaml), emulator at 60x, active poll 2s")
    results: dict[str, Any] = {"benchmark": "describe_rate", "endpoints": len(names)}
    with stack:
        began = time.time()
        stack.create(manifests)
        stack.wait_ready(names, timeout=120 + len(names), generation=1)
        print(f"all {len(names)} Ready in {time.time() - began:.1f}s", flush=True)
        results["settled"] = settled_window(stack, names, args)
        if not args.no_restart:
            results["restart"] = restart_settled(stack, names, args)
            results["crash"] = crash_mid_deployment(stack, names, manifests)
    write_json(args.json, results)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_benchmark(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main())
