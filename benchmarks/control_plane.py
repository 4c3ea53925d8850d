"""Start-up cost of the local control plane the e2e tier, the demo and the benchmarks stand on.

For ``--runs`` fresh etcd + kube-apiserver pairs (:class:`~sagemaker_guardrails.devenv.controlplane.ControlPlane`):
the time from nothing to ``/readyz`` ok with a kubeconfig written, the time to install the generated
GuardedEndpoint CRD and see it Established, the RSS of both processes once ready, and the time to stop
them. There is no target in the architecture; the figures say what an e2e session pays up front
(the suite shares one control plane per session) and how much memory it holds.

    .venv/bin/python -m benchmarks.control_plane               # 5 runs, ~30 s
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.figures import common_arguments, mib, percentile, proc_memory, write_json
from benchmarks.harness import run_benchmark
from sagemaker_guardrails.api.crd import render_crd
from sagemaker_guardrails.devenv.controlplane import ControlPlane, find_assets
from sagemaker_guardrails.devenv.kube import Kubectl


def _one_run(assets: Path, crd: Path) -> dict[str, float]:
    plane = ControlPlane(assets=assets)
    try:
        cluster = plane.start()
        ready = plane.startup_seconds or 0.0
        began = time.monotonic()
        Kubectl(cluster.kubeconfig).install_crd(crd)
        established = time.monotonic() - began
        assert plane.apiserver is not None and plane.etcd is not None
        rss = {
            name: proc_memory(p.pid)["VmRSS"]
            for name, p in (("apiserver", plane.apiserver), ("etcd", plane.etcd))
        }
    finally:
        began = time.monotonic()
        plane.stop()
        stopped = time.monotonic() - began
    return {
        "ready_seconds": ready,
        "crd_established_seconds": established,
        "stop_seconds": stopped,
        "apiserver_rss_mib": mib(rss["apiserver"]),
        "etcd_rss_mib": mib(rss["etcd"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    common_arguments(parser)
    args = parser.parse_args()

    assets = find_assets()
    runs = []
    with tempfile.TemporaryDirectory(prefix="sagemaker-guardrails-bench-") as folder:
        crd = Path(folder) / "crd.yaml"
        crd.write_text(render_crd())
        for index in range(args.runs):
            runs.append(_one_run(assets, crd))
            print(f"run {index + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()))

    summary = {
        key: {"p50": percentile([r[key] for r in runs], 0.5), "max": max(r[key] for r in runs)}
        for key in runs[0]
    }
    print(f"\ncontrol plane from {assets} ({args.runs} runs)")
    for key, figures in summary.items():
        print(f"  {key:<26} p50 {figures['p50']:7.2f}   max {figures['max']:7.2f}")
    write_json(args.json, {"assets": str(assets), "runs": runs, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
