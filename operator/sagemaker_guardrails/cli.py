"""The ``sagemaker-guardrails`` command line.

Each subcommand lives in its own module and exposes ``cli_main(argv) -> int``; this file only
dispatches, importing the module lazily so that ``sagemaker-guardrails crd`` does not pay for
kopf or boto3 and the operator never imports the emulator.

The operator's own dependencies are enough for ``run`` and ``crd``. The development commands need
an extra of the distribution (``EXTRAS``): without it they say which extra to install instead of
failing with an ImportError (the operator image has none of them).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sagemaker_guardrails.__main__", "Run the operator against the current kubeconfig."),
    "emulator": ("sagemaker_guardrails.emulator.server", "Serve the local SageMaker + CloudWatch emulator."),
    "crd": ("sagemaker_guardrails.api.crd", "Print or write the GuardedEndpoint CRD."),
    "control-plane": ("sagemaker_guardrails.devenv.controlplane", "Start a local kube-apiserver + etcd."),
    "demo": ("sagemaker_guardrails.devenv.demo", "Roll out and roll back an endpoint locally."),
}

DISTRIBUTION = "sagemaker-guardrails-operator"
# The extra of DISTRIBUTION each development command needs (dev includes emulator).
EXTRAS: dict[str, str] = {"emulator": "emulator", "control-plane": "dev", "demo": "dev"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_SELF_EXTRAS = re.compile(r"\[([^\]]+)\]")


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_requirements(extra: str, requires: Sequence[str] | None = None) -> list[str]:
    """Names of the distributions ``extra`` requires that are not installed, following the
    extras it takes from DISTRIBUTION itself. Empty when DISTRIBUTION is not installed (a source
    tree on ``sys.path``), where nothing can be said."""
    if requires is None:
        try:
            requires = importlib.metadata.requires(DISTRIBUTION) or []
        except importlib.metadata.PackageNotFoundError:
            return []
    missing: list[str] = []
    for requirement in requires:
        requirement_part, _, marker = requirement.partition(";")
        wanted = _EXTRA_MARKER.search(marker)
        name = _NAME.match(requirement_part.strip())
        if wanted is None or wanted.group(1) != extra or name is None:
            continue
        if name.group(0).lower() == DISTRIBUTION:
            inner = _SELF_EXTRAS.search(requirement_part)
            for nested in inner.group(1).split(",") if inner else []:
                missing += [m for m in missing_requirements(nested.strip(), requires) if m not in missing]
        elif not _installed(name.group(0)) and name.group(0) not in missing:
            missing.append(name.group(0))
    return missing


def _needs_extra(command: str, extra: str, missing: str) -> str:
    return (
        f"sagemaker-guardrails {command} needs the {extra!r} extra, which is not installed "
        f"(missing: {missing}).\nInstall it with: pip install '{DISTRIBUTION}[{extra}]'\n"
        "(the operator image carries the operator alone: `run` and `crd`)"
    )


def _usage() -> str:
    lines = ["usage: sagemaker-guardrails <command> [options]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name == "--version":
        from sagemaker_guardrails import __version__

        print(__version__)
        return 0
    if name not in SUBCOMMANDS:
        print(f"unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    extra = EXTRAS.get(name)
    missing = missing_requirements(extra) if extra else []
    if extra and missing:
        print(_needs_extra(name, extra, ", ".join(missing)), file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(SUBCOMMANDS[name][0])
    except ModuleNotFoundError as exc:
        if extra is None or not exc.name or exc.name.startswith("sagemaker_guardrails"):
            raise
        print(_needs_extra(name, extra, f"module {exc.name}"), file=sys.stderr)
        return 2
    result: int = module.cli_main(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
