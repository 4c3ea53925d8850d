"""The GitOps files judged by their consumers' own code, shared by the component and e2e tests.

Two Go programs of ``hack/gitops-check`` do the judging:

- ``argocd-check`` runs Argo CD's settings manager, health assessment and resource actions
  (``github.com/argoproj/argo-cd/v3`` ``util/lua``, gopher-lua) on ``gitops/argocd/argocd-cm.yaml``,
  and runs the Argo CD-format tests of the ``resource_customizations`` folder;
- ``kstatus-check`` runs kstatus (``sigs.k8s.io/cli-utils``), Flux's fork of it
  (``github.com/fluxcd/cli-utils``) and Flux's CEL status reader (``github.com/fluxcd/pkg/runtime``,
  cel-go) with the ``healthCheckExprs`` of ``gitops/flux/kustomizations.yaml``.

:func:`program` builds them on first use with ``hack/gitops-check/build.sh`` into the user's cache
(minutes the first time; Go and the Go module proxy are needed). A build that fails raises, so the
tests fail: they never skip.

``python -m tests.gitopskit --write`` (``make argocd-cm``) renders ``argocd-cm.yaml`` from the
``resource_customizations`` folder; a test fails when the committed file drifts from it.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "hack" / "gitops-check" / "build.sh"
GROUP, KIND = "sagemaker-guardrails.dev", "GuardedEndpoint"
CUSTOMIZATION = REPO / "gitops" / "argocd" / "resource_customizations" / GROUP / KIND
ARGOCD_CM = REPO / "gitops" / "argocd" / "argocd-cm.yaml"
FLUX_KUSTOMIZATIONS = REPO / "gitops" / "flux" / "kustomizations.yaml"
HEALTH_KEY = f"resource.customizations.health.{GROUP}_{KIND}"
ACTIONS_KEY = f"resource.customizations.actions.{GROUP}_{KIND}"


class BuildError(RuntimeError):
    """A check program could not be built."""


@functools.cache
def program(name: str) -> Path:
    """The built ``<name>-check`` binary (``argocd`` or ``kstatus``), built first if missing."""
    done = subprocess.run(["bash", str(BUILD), name], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"bash {BUILD} {name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    path = Path(done.stdout.strip().splitlines()[-1])
    if not path.is_file():
        raise BuildError(f"bash {BUILD} {name} printed {path}, which is not a file")
    return path


def _run(args: Sequence[str], payload: str | None = None) -> str:
    done = subprocess.run(
        list(args),
        check=False,
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def argocd(objects: Sequence[dict[str, Any]], configmap: Path = ARGOCD_CM) -> list[dict[str, Any]]:
    """Argo CD's verdict on each object: ``health``, discovered ``actions`` and each action's ``runs``
    (impacted resources and the merge ``patch`` the API server would send)."""
    out = _run([str(program("argocd")), "eval", "-cm", str(configmap)], json.dumps(list(objects)))
    verdicts: list[dict[str, Any]] = json.loads(out)
    for verdict in verdicts:
        for action in verdict["actions"]:
            action.setdefault("disabled", False)  # Argo CD's JSON omits a false "disabled"
    return verdicts


def argocd_tests(folder: Path = CUSTOMIZATION) -> str:
    """Runs the folder's ``health_test.yaml`` and ``actions/action_test.yaml`` as Argo CD's tests do;
    returns the program's report (raises if any check fails)."""
    return _run([str(program("argocd")), "test", str(folder)])


def kstatus(
    objects: Sequence[dict[str, Any]], kustomizations: Path = FLUX_KUSTOMIZATIONS
) -> list[dict[str, Any]]:
    """kstatus', Flux kstatus' and Flux CEL's verdict on each object (``kstatus``, ``fluxKstatus``,
    ``fluxCEL``: each a ``status`` such as ``Current`` and a ``message``, or an ``error``)."""
    out = _run(
        [str(program("kstatus")), "eval", "-kustomization", str(kustomizations)], json.dumps(list(objects))
    )
    verdicts: list[dict[str, Any]] = json.loads(out)
    return verdicts


# --- argocd-cm.yaml ---------------------------------------------------------------------------------


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{line}\n" if line else "\n" for line in text.splitlines())


def render_argocd_cm(folder: Path = CUSTOMIZATION) -> str:
    """The argocd-cm ConfigMap holding the folder's health check and actions verbatim."""
    health = (folder / "health.lua").read_text()
    discovery = (folder / "actions" / "discovery.lua").read_text()
    actions = sorted(p.parent.name for p in (folder / "actions").glob("*/action.lua"))
    relative = folder.relative_to(ARGOCD_CM.parent)
    out = [
        "# Argo CD settings for GuardedEndpoints: merge into the argocd-cm ConfigMap of your Argo CD\n",
        "# installation (for example as a kustomize patch).\n",
        f"# Generated by `make argocd-cm` from {relative}/\n",
        "# beside this file (Argo CD's own layout, with its tests); do not edit.\n",
        "apiVersion: v1\n",
        "kind: ConfigMap\n",
        "metadata:\n",
        "  name: argocd-cm\n",
        "  namespace: argocd\n",
        "  labels:\n",
        "    app.kubernetes.io/name: argocd-cm\n",
        "    app.kubernetes.io/part-of: argocd\n",
        "data:\n",
        f"  {HEALTH_KEY}: |\n",
        _block(health, 4),
        f"  {ACTIONS_KEY}: |\n",
        "    discovery.lua: |\n",
        _block(discovery, 6),
        "    definitions:\n",
    ]
    for name in actions:
        out += [f"      - name: {name}\n", "        action.lua: |\n"]
        out.append(_block((folder / "actions" / name / "action.lua").read_text(), 10))
    return "".join(out)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gitopskit")
    parser.add_argument("--write", action="store_true", help=f"write {ARGOCD_CM.relative_to(REPO)}")
    args = parser.parse_args(argv)
    rendered = render_argocd_cm()
    if args.write:
        ARGOCD_CM.write_text(rendered)
    else:
        sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
