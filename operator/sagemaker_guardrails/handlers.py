"""kopf wiring: kopf watches, the operator's own loop reconciles.

kopf serves what it is good at: logging in (kubeconfig, in-cluster, exec plugins), listing and
watching GuardedEndpoints with reconnects, and the event loop that runs them. Every watch event
goes to :meth:`~sagemaker_guardrails.loop.Controller.observe`, which caches the object and
enqueues its key when the event asks for a pass. Nothing else of kopf is used, on purpose:

- no change handlers: kopf would copy the whole spec into a ``last-handled-configuration``
  annotation (which fails past 256 KB) and keep progress annotations; ``metadata.generation`` and
  ``status.observedGeneration`` say what was handled;
- no timers: a kopf timer task ends for good when its handler's patch is refused, silently;
- no kopf finalizer or patching: the loop writes status itself and confirms each write;
- no peering: leader election is a Lease (:mod:`sagemaker_guardrails.loop.leader`), and a standby
  keeps its watch cache warm.

The loop is started by a startup handler (so it runs once kopf has logged in) and stopped by a
cleanup handler.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from sagemaker_guardrails.api import GROUP, PLURAL, VERSION
from sagemaker_guardrails.loop import Controller

__all__ = ["build_registry", "kopf_settings"]

log = logging.getLogger(__name__)


def build_registry(
    controller: Controller, *, on_startup: Any = None, on_cleanup: Any = None
) -> kopf.OperatorRegistry:
    """A fresh kopf registry: login, one event handler feeding ``controller``, start and stop hooks.

    A registry of our own has none of the login handlers kopf adds to its global one, so the
    kubernetes client's login is registered explicitly: in-cluster service account first, then
    ``KUBECONFIG`` / ``~/.kube/config`` (exec plugins such as ``aws eks get-token`` included).
    """
    registry = kopf.OperatorRegistry()
    kopf.on.login(id="login", registry=registry)(kopf.login_via_client)

    async def on_event(event: kopf.RawEvent, **_: Any) -> None:
        body = event.get("object") or {}
        controller.observe(event.get("type"), body)

    kopf.on.event(GROUP, VERSION, PLURAL, id="enqueue", registry=registry)(on_event)
    if on_startup is not None:
        kopf.on.startup(id="start-loop", registry=registry)(on_startup)
    if on_cleanup is not None:
        kopf.on.cleanup(id="stop-loop", registry=registry)(on_cleanup)
    return registry


def kopf_settings() -> kopf.OperatorSettings:
    """kopf's configuration: it watches only; it posts nothing and stores nothing on objects."""
    config = kopf.OperatorSettings()
    config.posting.enabled = False
    # A watch the server ends every few minutes, and a client-side bound on it: a half-open
    # connection (an API server that vanished without a FIN) can never stall the watch for good.
    config.watching.server_timeout = 120
    config.watching.client_timeout = 150
    config.watching.connect_timeout = 10
    return config
