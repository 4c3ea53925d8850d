"""Memory and CPU of one operator replica with many GuardedEndpoints, and the time to settle them all.

Targets (see docs/benchmarks.md): 1,000 GuardedEndpoints on one replica under 250 MB RSS (the
architecture's), 10,000 under 1 GiB RSS, peak and steady, and 1,000 settled ones under 2 % of a
core (the owned work queue's).

Real processes (kube-apiserver + etcd, the emulator, ``sagemaker-guardrails run``). ``--count``
GuardedEndpoints from examples/canary.yaml are created with one ``kubectl create``; the operator
creates every SageMaker endpoint (model, endpoint config, endpoint) in the emulator, which runs fast
(``--speed``) so that provisioning is not what is timed. The operator's RSS is read from
/proc/<pid>/status: at rest with no resources, sampled every second while they settle (peak =
VmHWM), after all are Ready, and after ``--hold`` seconds of steady state, when the operator's
CPU (utime + stime from /proc/<pid>/stat) is measured too: over ``--rest`` seconds with no
resources, and over the hold, which starts ``--warmup`` seconds after the last resource was Ready.
Right after settling, every resource's next poll is one settled interval (300 s, jittered
240-360 s) after its last busy pass, so a hold that starts then sees fewer polls than the steady
3.3/s of 1,000 resources; a warmup of 360 s makes the hold a true steady state. The CPU per
DescribeEndpoint above the rest figure, and the CPU at the steady rate count / 300 s it implies,
are printed too. When not all are Ready within ``--settle-timeout``, the figures are still
printed, with how many had settled.

Poll intervals are the defaults (15 s active, 300 s settled). The AWS rate limit is raised to
``--rate-limit`` calls per second (default 50; the product default is 20, which would stretch
settling 1,000 creations, 7 calls each, to about 6 minutes): that changes how fast they settle,
not how much memory each one holds.

    .venv/bin/python -m benchmarks.memory                    # 1,000 resources, ~4 min
    .venv/bin/python -m benchmarks.memory --hold 420         # + a whole settled poll cycle, ~11 min
    .venv/bin/python -m benchmarks.memory --warmup 360 --hold 600   # CPU at a true steady state, ~20 min
    .venv/bin/python -m benchmarks.memory --count 10000 --rate-limit 400 --hold 120   # ~25 min
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
from benchmarks.watch import is_ready

TARGET_MB = 250.0  # 1,000 resources (architecture)
TARGET_10K_MIB = 1024.0  # 10,000 resources
TARGET_CPU_PERCENT = 2.0  # 1,000 settled resources


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=positive_int, default=1000, help="GuardedEndpoints (default 1000)")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=50.0,
        help="operator rate_limit_per_second (default 50; product 20)",
    )
    parser.add_argument(
        "--max-workers", type=int, default=20, help="operator max_workers (default 20, the default)"
    )
    parser.add_argument("--speed", type=float, default=600.0, help="emulator speed (default 600x)")
    parser.add_argument(
        "--hold", type=float, default=30.0, help="seconds of steady state measured after settling"
    )
    parser.add_argument(
        "--warmup", type=float, default=0.0, help="seconds between settling and the hold (default 0)"
    )
    parser.add_argument(
        "--rest", type=float, default=30.0, help="seconds of CPU measured with no resources (default 30)"
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=900.0,
        help="stop waiting for all to be Ready after this long, and measure with those that are",
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


def _wait_ready(stack: Stack, pid: int, names: list[str], timeout: float) -> tuple[float, int]:
    """Waits until every resource is Ready or ``timeout``; returns (wall time, how many are Ready).
    Lists every ``count / 500`` s (at least 5 s: a list of 10,000 costs the machine a core-second)
    and prints the progress every minute."""
    wanted = set(names)
    interval = max(5.0, len(names) / 500)
    began = time.monotonic()
    printed = began
    ready = 0
    while True:
        stack.check_alive()
        ready = sum(1 for obj in stack.list() if obj["metadata"]["name"] in wanted and is_ready(obj))
        now = time.monotonic()
        if ready == len(names) or now - began > timeout:
            return time.time(), ready
        if now - printed >= 60:
            printed = now
            rss = _rss(pid)
            print(
                f"  {ready} of {len(names)} Ready after {now - began:.0f}s; "
                f"RSS {rss['rss_mib']:.1f} MiB (peak {rss['hwm_mib']:.1f} MiB)",
                flush=True,
            )
        time.sleep(interval)


def measure(args: argparse.Namespace) -> int:
    stack = Stack(
        operator_settings={
            "rate_limit_per_second": f"{args.rate_limit:g}",
            "max_workers": str(args.max_workers),
            "cluster_id": "bench",
        },
        emulator_speed=args.speed,
        # Room for every call of the run (the emulator keeps the last 20,000 by default).
        emulator_settings={"call_log_limit": str(max(20000, 15 * args.count))},
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
        rest_cpu_before = cpu_seconds(pid)
        time.sleep(args.rest)
        rest_cpu = (cpu_seconds(pid) - rest_cpu_before) / args.rest
        baseline = _rss(pid)
        print(
            f"operator at rest, no resources: RSS {baseline['rss_mib']:.1f} MiB, "
            f"CPU {100 * rest_cpu:.2f} % of a core",
            flush=True,
        )
        with MemorySampler(pid) as sampler:
            began = time.time()
            stack.create(manifests, timeout=max(600.0, args.count * 0.2))
            created = time.time() - began
            print(f"kubectl create of {args.count} resources took {created:.1f}s", flush=True)
            settled_at, ready = _wait_ready(stack, pid, names, timeout=args.settle_timeout)
            settle = settled_at - began
            settled = _rss(pid)
            print(
                f"{'all' if ready == args.count else 'only'} {ready} of {args.count} Ready "
                f"{settle:.1f}s after the create began; "
                f"RSS {settled['rss_mib']:.1f} MiB (peak {settled['hwm_mib']:.1f} MiB)",
                flush=True,
            )
            calls = Counter(c["operation"] for c in stack.admin.calls() if c["wall_time"] >= began)
            if args.warmup > 0:
                print(f"warming up for {args.warmup:g}s before the hold", flush=True)
                _hold(stack, pid, args.warmup)
            cpu_before, held = cpu_seconds(pid), time.time()
            _hold(stack, pid, args.hold)
            idle_cpu = (cpu_seconds(pid) - cpu_before) / (time.time() - held)
            held_calls = Counter(c["operation"] for c in stack.admin.calls() if c["wall_time"] >= held)
            after = _rss(pid)
            total_cpu = cpu_seconds(pid)
            ready_after = sum(1 for obj in stack.list() if is_ready(obj))
        peak_sampled = max((kib for _, kib in sampler.samples), default=0)
    per_object_kib = (after["rss_mib"] - baseline["rss_mib"]) * 1024 / args.count
    worst = max(after["hwm_mib"], settled["hwm_mib"])
    worst_mb = worst * 1.048576
    verdict = "met" if worst_mb < TARGET_MB else "MISSED"
    partial = "" if ready == args.count else f" (only {ready} of {args.count} Ready)"
    print(f"\nRSS at rest (0 resources):       {baseline['rss_mib']:7.1f} MiB")
    print(f"RSS when all {args.count} were Ready: {settled['rss_mib']:7.1f} MiB")
    print(
        f"RSS after {args.hold:g}s steady state:  {after['rss_mib']:7.1f} MiB "
        f"({after['threads']:.0f} threads)"
    )
    print(f"peak RSS (VmHWM):                {worst:7.1f} MiB (sampled max {mib(peak_sampled):.1f} MiB)")
    print(f"per resource:                    {per_object_kib:7.1f} KiB")
    if args.count >= 10000:
        big = "met" if max(worst, after["rss_mib"]) < TARGET_10K_MIB else "MISSED"
        print(f"target: < {TARGET_10K_MIB:g} MiB for 10,000, peak and steady -> {big}{partial}")
    elif args.count >= 1000:
        print(f"target: < {TARGET_MB:g} MB for 1,000 -> {verdict} (peak {worst_mb:.1f} MB, SI){partial}")
    else:
        print(f"target: < {TARGET_MB:g} MB for 1,000 (not measured: run with --count 1000)")
    label = "all" if ready == args.count else f"{ready} of {args.count}"
    print(f"{f'time to settle {label}:':<33}{settle:7.1f} s (kubectl create {created:.1f} s)")
    print(f"Ready after the hold:            {ready_after:7d}")
    print(f"AWS calls while settling:        {sum(calls.values())} ({dict(sorted(calls.items()))})")
    print(f"operator CPU at rest (0):        {100 * rest_cpu:7.2f} % of a core")
    print(f"operator CPU at steady state:    {100 * idle_cpu:7.2f} % of a core (total CPU {total_cpu:.0f} s)")
    polls = held_calls.get("DescribeEndpoint", 0)
    per_poll_ms = 1000 * (idle_cpu - rest_cpu) * args.hold / polls if polls else 0.0
    steady_rate = ready / 300.0
    implied = rest_cpu + per_poll_ms / 1000 * steady_rate
    if polls:
        print(
            f"  {polls / args.hold:.2f} DescribeEndpoint/s in the hold; {per_poll_ms:.1f} ms CPU per poll "
            f"above rest; at {steady_rate:.2f}/s ({ready} / 300 s): {100 * implied:.2f} % of a core"
        )
    if args.count == 1000 and ready == args.count:
        measured = "met" if 100 * idle_cpu < TARGET_CPU_PERCENT else "MISSED"
        at_rate = "met" if 100 * implied < TARGET_CPU_PERCENT else "MISSED"
        print(
            f"target: < {TARGET_CPU_PERCENT:g} % of a core for 1,000 settled -> {measured} as measured, "
            f"{at_rate} at the steady poll rate"
        )
    print(f"AWS calls at steady state:       {dict(sorted(held_calls.items()))} in {args.hold:g}s")
    results.update(
        baseline=baseline,
        settled=settled,
        after_hold=after,
        peak_mib=worst,
        per_resource_kib=per_object_kib,
        settle_seconds=settle,
        ready=ready,
        ready_after_hold=ready_after,
        create_seconds=created,
        aws_calls=dict(calls),
        steady_cpu_percent=100 * idle_cpu,
        rest_cpu_percent=100 * rest_cpu,
        cpu_ms_per_poll=per_poll_ms,
        implied_steady_cpu_percent=100 * implied,
        warmup_seconds=args.warmup,
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
