"""How long after an operator restart every settled resource has been looked at again, and how
long a mutating call waits meanwhile.

Target (the issue's): after a restart, all 1,000 GuardedEndpoints observed (a DescribeEndpoint
each, and a pass completed) within 60 s **at the default AWS rate limit**, with mutating calls
never waiting behind the polls.

Real processes (kube-apiserver + etcd, the emulator, ``sagemaker-guardrails run``).
``--count`` GuardedEndpoints from examples/canary.yaml are created and settled with the rate
limit raised to ``--settle-rate-limit`` (creation is not what is measured), then the operator is
stopped (SIGKILL, or SIGTERM with ``--sigterm``) and started again with the rate limit of
``--rate-limit``/``--burst`` (default: the operator's defaults, nothing set). Right after the new
process answers /healthz, one resource gets a new model version, a spec change that takes three
mutating calls (CreateModel, CreateEndpointConfig, UpdateEndpoint).

Measured from the moment the new process was started:

- **every resource described**: the emulator's call log has a DescribeEndpoint of every endpoint;
- **every pass completed**: the operator's ``reconciles_total`` (a fresh process counts from 0)
  reaches the number of resources;
- **the changed resource**: the time to its UpdateEndpoint, with every call it made: its first
  DescribeEndpoint (its turn in the work queue, behind the polls due before it) and the gap before
  each of its mutating calls (a call is logged when it reaches the emulator, so a gap is the
  previous call's response, the pass's own work, and the wait for a token; when the previous
  call was in an earlier pass, the gap includes the key's wait in the work queue).

    .venv/bin/python -m benchmarks.restart                     # 1,000 resources, default limits, ~6 min
    .venv/bin/python -m benchmarks.restart --rate-limit 5 --burst 10   # the previous defaults
    .venv/bin/python -m benchmarks.restart --count 200         # quicker
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import time
import urllib.request
from collections import Counter
from typing import Any

from benchmarks.figures import common_arguments, cpu_seconds, positive_int, write_json
from benchmarks.harness import MeasurementError, Stack, canary_manifest, new_model_version, run_benchmark
from sagemaker_guardrails.settings import Settings

TARGET_SECONDS = 60.0
_RATE_KEYS = ("SAGEMAKER_GUARDRAILS_RATE_LIMIT_PER_SECOND", "SAGEMAKER_GUARDRAILS_RATE_LIMIT_BURST")
_MUTATING = ("CreateModel", "CreateEndpointConfig", "UpdateEndpoint")
_RECONCILES = re.compile(r"^sagemaker_guardrails_reconciles_total\{[^}]*\}\s+([0-9.e+]+)$", re.M)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.restart", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=positive_int, default=1000, help="GuardedEndpoints (default 1000)")
    parser.add_argument(
        "--rate-limit", type=float, help="rate_limit_per_second after the restart (default: the operator's)"
    )
    parser.add_argument(
        "--burst", type=int, help="rate_limit_burst after the restart (default: the operator's)"
    )
    parser.add_argument(
        "--settle-rate-limit", type=float, default=100.0, help="rate limit while creating them (default 100)"
    )
    parser.add_argument("--speed", type=float, default=600.0, help="emulator speed (default 600x)")
    parser.add_argument("--sigterm", action="store_true", help="stop with SIGTERM instead of SIGKILL")
    parser.add_argument(
        "--no-change", action="store_true", help="do not change a resource's spec after the restart"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=900.0, help="give up settling after this long"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up the restart after this long")
    common_arguments(parser)
    return parser.parse_args(argv)


def _reconciles(stack: Stack) -> float:
    """Passes the running operator has finished (any outcome), from its /metrics."""
    assert stack.operator is not None
    try:
        with urllib.request.urlopen(stack.operator.metrics_url, timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    return sum(float(value) for value in _RECONCILES.findall(text))


def _settle(stack: Stack, names: list[str], args: argparse.Namespace) -> float:
    began = time.time()
    manifests = [canary_manifest(name) for name in names]
    for manifest in manifests:
        manifest["spec"]["deployment"].pop("autoRollback", None)
    stack.create(manifests, timeout=max(600.0, len(names) * 0.2))
    stack.wait_ready(names, timeout=args.settle_timeout, interval=5.0)
    settled = time.time() - began
    print(f"all {len(names)} Ready {settled:.1f}s after the create began", flush=True)
    time.sleep(5.0)  # the last passes' status writes
    return settled


def _restart(stack: Stack, args: argparse.Namespace) -> float:
    """Stops the operator, drops the raised rate limit (or sets the asked one), starts it; returns
    the wall time just before the new process was started."""
    operator = stack.operator
    assert operator is not None
    if args.sigterm:
        operator.stop()
    else:
        operator.kill()
    for key in _RATE_KEYS:
        operator.env.pop(key, None)
    if args.rate_limit is not None:
        operator.env[_RATE_KEYS[0]] = f"{args.rate_limit:g}"
    if args.burst is not None:
        operator.env[_RATE_KEYS[1]] = str(args.burst)
    restarted = time.time()
    operator.start()
    return restarted


def measure(args: argparse.Namespace) -> int:
    fields = Settings.model_fields  # the defaults, not this process's environment
    rate = args.rate_limit if args.rate_limit is not None else fields["rate_limit_per_second"].default
    burst = args.burst if args.burst is not None else fields["rate_limit_burst"].default
    stack = Stack(
        operator_settings={
            "rate_limit_per_second": f"{args.settle_rate_limit:g}",
            "rate_limit_burst": str(max(10, int(args.settle_rate_limit))),
            "cluster_id": "bench",
        },
        emulator_speed=args.speed,
        emulator_settings={"call_log_limit": str(max(20000, 15 * args.count))},
        keep=args.keep_logs,
    )
    names = [f"rst-{i:04d}" for i in range(args.count)]
    changed = names[len(names) // 2]
    how = "SIGTERM" if args.sigterm else "SIGKILL"
    print(
        f"restart: {args.count} settled GuardedEndpoints, {how}, then rate limit {rate:g}/s burst {burst} "
        f"(settled at {args.settle_rate_limit:g}/s), emulator at {args.speed:g}x, default poll intervals",
        flush=True,
    )
    results: dict[str, Any] = {
        "benchmark": "restart",
        "count": args.count,
        "rate_limit": rate,
        "burst": burst,
        "stop": how,
    }
    with stack:
        results["settle_seconds"] = _settle(stack, names, args)
        mark = max((c["seq"] for c in stack.admin.calls()), default=0)  # calls before the restart
        restarted = _restart(stack, args)
        healthy = time.time() - restarted
        change_at = None
        if not args.no_change:
            stack.patch(changed, new_model_version(canary_manifest(changed), "v2"))
            change_at = time.time() - restarted
        print(f"new operator answered /healthz {healthy:.1f}s after its start", flush=True)
        pid = stack.operator_pid
        wanted = set(names)
        described_at = passes_at = update_at = None
        deadline = time.monotonic() + args.timeout
        while described_at is None or passes_at is None or (change_at is not None and update_at is None):
            stack.check_alive()
            now = time.time() - restarted
            if described_at is None:
                seen = {
                    c["endpoint"]
                    for c in stack.admin.calls(operation="DescribeEndpoint", since=mark)
                    if c["wall_time"] >= restarted
                }
                if seen >= wanted:
                    described_at = now
            if passes_at is None and _reconciles(stack) >= len(names):
                passes_at = now
            if change_at is not None and update_at is None:
                updates = [
                    c
                    for c in stack.admin.calls(operation="UpdateEndpoint", endpoint=changed, since=mark)
                    if c["wall_time"] >= restarted
                ]
                if updates:
                    update_at = updates[0]["wall_time"] - restarted
            if time.monotonic() > deadline:
                raise MeasurementError(f"the restart was not over after {args.timeout:g}s")
            time.sleep(0.5)
        cpu = cpu_seconds(pid)
        calls = [c for c in stack.admin.calls(since=mark) if c["wall_time"] >= restarted]
    by_operation = Counter(c["operation"] for c in calls)
    describes = [c for c in calls if c["operation"] == "DescribeEndpoint"]
    first_describe = min(c["wall_time"] for c in describes) - restarted
    results.update(
        healthz_seconds=healthy,
        described_all_seconds=described_at,
        passes_seconds=passes_at,
        first_describe_seconds=first_describe,
        calls=dict(by_operation),
        operator_cpu_seconds=cpu,
    )
    verdict = "met" if max(described_at or 0, passes_at or 0) < TARGET_SECONDS else "MISSED"
    print(f"\nfirst DescribeEndpoint after the start:   {first_describe:6.1f} s")
    print(f"every endpoint described again:           {described_at:6.1f} s")
    print(f"{len(names)} passes finished (reconciles_total):  {passes_at:6.1f} s")
    print(f"target: < {TARGET_SECONDS:g} s at {rate:g}/s burst {burst} -> {verdict}")
    print(f"calls since the start: {dict(sorted(by_operation.items()))}")
    print(f"operator CPU since its start: {cpu:.1f} s")
    if change_at is not None:
        # Settled passes only describe their endpoint: every call without an endpoint in the log
        # (CreateModel, CreateEndpointConfig, DescribeEndpointConfig, ...) is the changed one's.
        mine = sorted(
            (c for c in calls if c["endpoint"] in (changed, None)),
            key=lambda c: c["wall_time"],
        )
        trace = [(c["operation"], round(c["wall_time"] - restarted, 3)) for c in mine]
        gaps = {
            f"{c['operation']}": round(c["wall_time"] - before["wall_time"], 3)
            for before, c in itertools.pairwise(mine)
            if c["operation"] in _MUTATING
        }
        first_own = next((t for op, t in trace if op == "DescribeEndpoint" and t >= change_at), None)
        print(f"\nspec of {changed} changed {change_at:.1f}s after the start")
        print(f"  its first DescribeEndpoint after that:  {first_own} s (its turn in the queue)")
        print(f"  its UpdateEndpoint:                      {update_at:.2f} s after the start")
        print(f"  gap before each mutating call:           {gaps}")
        print(f"  its calls: {trace[:16]}")
        results.update(
            changed=changed,
            change_seconds=change_at,
            changed_first_describe_seconds=first_own,
            update_seconds=update_at,
            mutating_gaps=gaps,
            changed_calls=trace,
        )
    write_json(args.json, results)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_benchmark(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main())
