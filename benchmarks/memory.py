"""Memory of one operator replica with many GuardedEndpoints, and the time to settle them all.

Target (the architecture's, see docs/benchmarks.md): 1,000 GuardedEndpoints on one replica under 250 MB RSS.

Real processes (kube-apiserver + etcd, the emulator, ``sagemaker-guardrails run``). ``--count``
GuardedEndpoints from examples/canary.yaml are created with one ``kubectl create``; the operator
creates every SageMaker endpoint (model, endpoint config, endpoint) in the emulator, which runs fast
(``--speed``) so that provisioning is not what is timed. The operator's RSS is read from
/proc/<pid>/status: at rest with no resources, sampled every second while they settle (peak =
VmHWM), after all are Ready, and after ``--hold`` seconds of steady state, when the CPU the idle
timers cost is measured too.

Poll intervals are the defaults (15 s active, 300 s settled). The AWS rate limit is raised to
``--rate-limit`` calls per second (default 50; the product default is 5, which alone would stretch
settling 1,000 creations, 7 calls each, to about 23 minutes): that changes how fast they settle,
not how much memory each one holds.

    .venv/bin/python -m benchmarks.memory                    # 1,000 resources, ~4 min
    .venv/bin/python -m benchmarks.memory --hold 420         # + a whole settled poll cycle, ~11 min
    .venv/bin/python -m benchmarks.memory --count 200        # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from benchmarks.figures import (
    MemorySampler,
    common_arguments,
    cpu_seconds,
    mib,
    positive_int,
    proc_memory,
    write_json,
)
from benchmarks.harness import Stack, canary_manifest, run_benchmark

TARGET_MB = 250.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=positive_int, default=1000, help="GuardedEndpoints (default 1000)")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=50.0,
        help="operator rate_limit_per_second (default 50; product 5)",
    )
    parser.add_argument(
        "--max-workers", type=int, default=20, help="operator max_workers (default 20, the default)"
    )
    parser.add_argument("--speed", type=float, default=600.0, help="emulator speed (default 600x)")
    parser.add_argument(
        "--hold", type=float, default=30.0, help="seconds of steady state measured after settling"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=900.0, help="give up settling after this long"
    )
    common_arguments(parser)
    return parser.parse_args(argv)


def _rss(pid: int) -> dict[str, float]:
    memory = proc_memory(pid)
    return {"rss_mib": mib(memory["VmRSS"]), "hwm_mib": mib(memory["VmHWM"]), "threads": memory["Threads"]}


def _hold(stack: Stack, pid: int, seconds: float) -> None:
    """Steady state for ``seconds``, with the RSS printed every minute."""
    ends = time.monotonic() + seconds
    while (left := ends - time.monotonic()) > 0:
        time.sleep(min(60.0, left))
        stack.check_alive()
        print(f"  steady state: RSS {_rss(pid)['rss_mib']:.1f} MiB", flush=True)


def measure(args: argparse.Namespace) -> int:
    stack = Stack(
        operator_settings={
            "rate_limit_per_second": f"{args.rate_limit:g}",
            "max_workers": str(args.max_workers),
            "cluster_id": "bench",
        },
        emulator_speed=args.speed,
        keep=args.keep_logs,
    )
    names = [f"mem-{i:04d}" for i in range(args.count)]
    manifests = []
    for name in names:
        manifest = canary_manifest(name)
        manifest["spec"]["deployment"].pop("autoRollback", None)
        manifests.append(manifest)
    print(
        f"memory: {args.count} GuardedEndpoints, rate limit {args.rate_limit:g}/s, "
        f"max_workers {args.max_workers}, emulator at {args.speed:g}x, default poll intervals",
        flush=True,
    )
    results: dict[str, Any] = {"benchmark": "memory", "count": args.count, "rate_limit": args.rate_limit}
    with stack:
        pid = stack.operator_pid
        time.sleep(5.0)
        baseline = _rss(pid)
        print(f"operator at rest, no resources: RSS {baseline['rss_mib']:.1f} MiB", flush=True)
        with MemorySampler(pid) as sampler:
            began = time.time()
            stack.create(manifests, timeout=600)
            created = time.time() - began
            print(f"kubectl create of {args.count} resources took {created:.1f}s", flush=True)
            settled_at = stack.wait_ready(names, timeout=args.settle_timeout, interval=5.0)
            settle = settled_at - began
            settled = _rss(pid)
            print(
                f"all {args.count} Ready {settle:.1f}s after the create began; "
                f"RSS {settled['rss_mib']:.1f} MiB (peak {settled['hwm_mib']:.1f} MiB)",
                flush=True,
            )
            calls = Counter(c["operation"] for c in stack.admin.calls() if c["wall_time"] >= began)
            cpu_before, held = cpu_seconds(pid), time.time()
            _hold(stack, pid, args.hold)
            idle_cpu = (cpu_seconds(pid) - cpu_before) / (time.time() - held)
            held_calls = Counter(c["operation"] for c in stack.admin.calls() if c["wall_time"] >= held)
            after = _rss(pid)
            total_cpu = cpu_seconds(pid)
        peak_sampled = max((kib for _, kib in sampler.samples), default=0)
    per_object_kib = (after["rss_mib"] - baseline["rss_mib"]) * 1024 / args.count
    worst = max(after["hwm_mib"], settled["hwm_mib"])
    worst_mb = worst * 1.048576
    verdict = "met" if worst_mb < TARGET_MB else "MISSED"
    print(f"\nRSS at rest (0 resources):       {baseline['rss_mib']:7.1f} MiB")
    print(f"RSS when all {args.count} were Ready: {settled['rss_mib']:7.1f} MiB")
    print(
        f"RSS after {args.hold:g}s steady state:  {after['rss_mib']:7.1f} MiB "
        f"({after['threads']:.0f} threads)"
    )
    print(f"peak RSS (VmHWM):                {worst:7.1f} MiB (sampled max {mib(peak_sampled):.1f} MiB)")
    print(f"per resource:                    {per_object_kib:7.1f} KiB")
    if args.count >= 1000:
        print(f"target: < {TARGET_MB:g} MB for 1,000 -> {verdict} (peak {worst_mb:.1f} MB, SI)")
    else:
        print(f"target: < {TARGET_MB:g} MB for 1,000 (not measured: run with --count 1000)")
    print(f"time to settle all:              {settle:7.1f} s (kubectl create {created:.1f} s)")
    print(f"AWS calls while settling:        {sum(calls.values())} ({dict(sorted(calls.items()))})")
    print(f"operator CPU at steady state:    {100 * idle_cpu:7.1f} % of a core (total CPU {total_cpu:.0f} s)")
    print(f"AWS calls at steady state:       {dict(sorted(held_calls.items()))} in {args.hold:g}s")
    results.update(
        baseline=baseline,
        settled=settled,
        after_hold=after,
        peak_mib=worst,
        per_resource_kib=per_object_kib,
        settle_seconds=settle,
        create_seconds=created,
        aws_calls=dict(calls),
        steady_cpu_percent=100 * idle_cpu,
        steady_aws_calls=dict(held_calls),
        hold_seconds=args.hold,
        rss_samples=[(round(t - began, 1), kib) for t, kib in sampler.samples],
    )
    write_json(args.json, results)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_benchmark(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main())
