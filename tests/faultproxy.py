"""A test-only HTTP proxy in front of the emulator that loses the answer to chosen AWS calls.

The emulator's own faults (``/_emulator/faults``) refuse a call before it is processed (throttling)
or fail a deployment; none of them lets SageMaker *act* on a call whose answer then never reaches
the client, which is the case that matters for retries of mutating calls. ``FaultProxy`` forwards
every request to the emulator unchanged and, for an armed operation, replaces the emulator's answer
with a 500 ``InternalFailure`` or closes the connection without answering. The emulator's call log
then shows what really reached "SageMaker"; ``seen`` shows what the client sent.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["500", "drop"]
_TARGET_PREFIX = "SageMaker."


class FaultProxy:
    """``url`` forwards to ``upstream``; :meth:`lose` arms a lost answer for one operation."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._armed: dict[str, list[Mode]] = {}
        self.seen: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def lose(self, operation: str, mode: Mode = "500", times: int = 1) -> None:
        """Forward the next ``times`` calls of ``operation`` to the emulator, then lose their answers."""
        with self._lock:
            self._armed.setdefault(operation, []).extend([mode] * times)

    def _take(self, operation: str) -> Mode | None:
        with self._lock:
            self.seen[operation] += 1
            modes = self._armed.get(operation)
            if not modes:
                return None
            self.lost[operation] += 1
            return modes.pop(0)

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target") or ""
                operation = target.removeprefix(_TARGET_PREFIX) if target.startswith(_TARGET_PREFIX) else ""
                mode = proxy._take(operation) if operation else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                status, upstream_headers, payload = proxy._forward("POST", self.path, headers, body)
                if mode == "drop":
                    self.close_connection = True
                    return
                if mode == "500":
                    status, payload = (
                        500,
                        json.dumps(
                            {"__type": "InternalFailure", "message": "the answer was lost on the way back"}
                        ).encode(),
                    )
                    upstream_headers = [
                        ("Content-Type", "application/x-amz-json-1.1"),
                        ("x-amzn-ErrorType", "InternalFailure"),
                    ]
                self.send_response(status)
                for key, value in upstream_headers:
                    if key.lower() not in (
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "date",
                        "server",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
