"""The ``sagemaker-guardrails`` command line.

Each subcommand lives in its own module and exposes ``cli_main(argv) -> int``; this file only
dispatches, importing the module lazily so that ``sagemaker-guardrails crd`` does not pay for
kopf or boto3 and the operator never imports the emulator.
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sagemaker_guardrails.__main__", "Run the operator against the current kubeconfig."),
    "emulator": ("sagemaker_guardrails.emulator.server", "Serve the local SageMaker + CloudWatch emulator."),
    "crd": ("sagemaker_guardrails.api.crd", "Print or write the GuardedEndpoint CRD."),
    "control-plane": ("sagemaker_guardrails.devenv.controlplane", "Start a local kube-apiserver + etcd."),
    "demo": ("sagemaker_guardrails.devenv.demo", "Roll out and roll back an endpoint locally."),
}


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
    module = importlib.import_module(SUBCOMMANDS[name][0])
    result: int = module.cli_main(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
