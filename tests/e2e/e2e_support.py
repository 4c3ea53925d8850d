"""Helpers shared by the e2e tests: example manifests, JSON merge patch, polling."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CRD_FILE = REPO / "crds" / "sagemaker-guardrails.dev_guardedendpoints.yaml"
INVALID_RESOURCES = REPO / "tests" / "fixtures" / "invalid_resources.yaml"
VALID_RESOURCES = REPO / "tests" / "fixtures" / "valid_resources.yaml"

T = TypeVar("T")


def load_example(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return manifest


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def field_token(field: str) -> str:
    """The part of a field path that an error message must name: its last segment without list
    indices (``spec.variants[0].name`` -> ``name``)."""
    return re.sub(r"\[\d*\]", "", field.rsplit(".", maxsplit=1)[-1])


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    """Polls ``probe`` until it returns something truthy; the timeout message says what was awaited
    and the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last seen: {last!r}")
