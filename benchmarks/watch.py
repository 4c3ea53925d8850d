"""Watching GuardedEndpoints the way kubectl and Argo CD do: every version, stamped on arrival.

:class:`StatusWatch` is how the status-lag benchmark learns *when* the operator's status showed a
change: it records each version of each resource with the wall time it arrived on the watch.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.harness import Stack

from sagemaker_guardrails.api import GROUP, PLURAL, VERSION

NAMESPACE = "bench"


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            found: Mapping[str, Any] = item
            return found
    return None


def is_ready(obj: Mapping[str, Any], generation: int | None = None) -> bool:
    wanted = generation if generation is not None else obj["metadata"]["generation"]
    ready = condition(obj, "Ready")
    return bool(
        (obj.get("status") or {}).get("observedGeneration") == wanted
        and ready is not None
        and ready.get("status") == "True"
        and ready.get("observedGeneration") == wanted
    )


@dataclass(frozen=True)
class Seen:
    """One version of one resource as it arrived on the watch."""

    at: float
    name: str
    status: Mapping[str, Any]


class StatusWatch:
    """Watches every GuardedEndpoint of the benchmark namespace in a thread, stamping each version
    with the wall time it arrived (resumes from the last resourceVersion; relists after a 410)."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._thread = threading.Thread(target=self._run, name="status-watch", daemon=True)

    def __enter__(self) -> StatusWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def seen(self, name: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self._seen if name is None or s.name == name]

    def _run(self) -> None:
        from kubernetes import client as k8s
        from kubernetes import watch as watch_module

        watch: Any = watch_module
        api = self._stack.custom_objects
        version: str | None = None
        while not self._stop.is_set():
            try:
                stream = watch.Watch().stream(
                    api.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    PLURAL,
                    resource_version=version,
                    timeout_seconds=5,
                )
                for event in stream:
                    arrived = time.time()
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        version = None
                        break
                    version = obj["metadata"]["resourceVersion"]
                    seen = Seen(arrived, obj["metadata"]["name"], copy.deepcopy(obj.get("status") or {}))
                    with self._lock:
                        self._seen.append(seen)
                    if self._stop.is_set():
                        break
            except (k8s.ApiException, OSError, ValueError):
                version = None
                time.sleep(0.2)
