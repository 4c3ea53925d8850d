"""``/healthz`` (liveness) and ``/readyz`` (readiness) on one port, in a daemon thread.

Liveness is the loop's progress (:meth:`~sagemaker_guardrails.loop.controller.Controller.health`):
a wedged loop answers 503 so the kubelet restarts the replica. Readiness is separate: a replica is
ready once it has listed the GuardedEndpoints (and is live). Both answer with a short JSON body
that says why.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

__all__ = ["HealthServer", "serve_health"]

log = logging.getLogger(__name__)


class _Verdict(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def message(self) -> str: ...


class _Checks(Protocol):
    def health(self) -> _Verdict: ...

    def ready(self) -> _Verdict: ...


@dataclass
class HealthServer:
    port: int
    _server: ThreadingHTTPServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(checks: _Checks) -> type[BaseHTTPRequestHandler]:
    routes: dict[str, Callable[[], _Verdict]] = {"/healthz": checks.health, "/readyz": checks.ready}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            check = routes.get(self.path.split("?", 1)[0])
            if check is None:
                self.send_error(404)
                return
            try:
                verdict = check()
                ok, message = verdict.ok, verdict.message
            except Exception as exc:  # a check that fails is a failed check, never a crash
                ok, message = False, f"health check raised {type(exc).__name__}: {exc}"
            body = json.dumps({"ok": ok, "message": message}).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if not ok:
                log.warning("%s answered 503: %s", self.path, message)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def serve_health(checks: _Checks, port: int, addr: str = "0.0.0.0") -> HealthServer:
    """Serve ``/healthz`` and ``/readyz`` of ``checks`` on ``port`` (0 = any free port)."""
    server = ThreadingHTTPServer((addr, port), _handler(checks))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="health", daemon=True)
    thread.start()
    return HealthServer(port=int(server.server_address[1]), _server=server, _thread=thread)
