"""Local SageMaker + CloudWatch emulator ("local mode").

It speaks the real AWS wire protocols so unchanged boto3 code works against it, and it follows the
timelines, status fields, rollback rules and error messages of docs/emulator.md and the behaviour spec:
blue/green all-at-once, canary and linear, rolling, bakes, alarm-driven rollback. CloudWatch comes from
moto in the same process. An accelerated clock, a call log, a timeline and an admin API for fault
injection make it usable for tests, demos and CI. The operator never imports this package.

Public API::

    from sagemaker_guardrails.emulator import AdminClient, Emulator, EmulatorSettings

Names are resolved lazily so that importing the package does not load moto, boto3 or werkzeug.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker_guardrails.emulator.client import AdminClient, AdminError
    from sagemaker_guardrails.emulator.server import Emulator
    from sagemaker_guardrails.emulator.settings import EmulatorSettings

__all__ = ["AdminClient", "AdminError", "Emulator", "EmulatorSettings"]

_EXPORTS = {
    "AdminClient": "sagemaker_guardrails.emulator.client",
    "AdminError": "sagemaker_guardrails.emulator.client",
    "Emulator": "sagemaker_guardrails.emulator.server",
    "EmulatorSettings": "sagemaker_guardrails.emulator.settings",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
