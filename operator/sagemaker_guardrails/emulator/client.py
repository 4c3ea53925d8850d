"""``AdminClient``: the Python side of the admin API, over HTTP, for an emulator in any process.

    admin = AdminClient("http://127.0.0.1:4566")
    admin.hold_alarm("fraud-5xx", "ALARM")
    admin.fail_next_provisioning("fraud-detector")
    events = admin.timeline("fraud-detector")

Only the standard library is used, so benchmarks and scripts need nothing else.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from sagemaker_guardrails.emulator.admin import PREFIX


class AdminError(RuntimeError):
    """The admin API refused a request (bad argument, unknown route)."""


class AdminClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_url(cls, url: str) -> AdminClient:
        return cls(url)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {
            k: (str(v).lower() if isinstance(v, bool) else v) for k, v in query.items() if v is not None
        }
        url = f"{self.url}{PREFIX}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise AdminError(f"{method} {path} -> {error.code}: {detail}") from error

    # --- status -------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/health"))

    def settings(self) -> dict[str, Any]:
        return dict(self._call("GET", "/settings"))

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings at runtime, e.g. ``configure(speed=500, alarm_poll_seconds=10)``."""
        return dict(self._call("PATCH", "/settings", changes))

    def clock(self) -> dict[str, Any]:
        return dict(self._call("GET", "/clock"))

    def advance(self, seconds: float) -> dict[str, Any]:
        """Jump simulated time forward by ``seconds``."""
        return dict(self._call("POST", "/clock/advance", {"seconds": seconds}))

    def reset(self) -> None:
        """Forget all resources, faults, holds, calls, timeline events and CloudWatch data; restore settings."""
        self._call("POST", "/reset")

    # --- records ------------------------------------------------------------------------------------
    def calls(
        self,
        *,
        since: int = 0,
        operation: str | None = None,
        endpoint: str | None = None,
        service: str | None = None,
        include_internal: bool = False,
    ) -> list[dict[str, Any]]:
        data = self._call(
            "GET",
            "/calls",
            since=since,
            operation=operation,
            endpoint=endpoint,
            service=service,
            internal=include_internal,
        )
        return list(data["calls"])

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def timeline(
        self, endpoint: str | None = None, *, region: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        return list(self._call("GET", "/timeline", endpoint=endpoint, region=region, since=since)["events"])

    def endpoints(self) -> list[dict[str, Any]]:
        """The engine's view of every endpoint: phase, step, estimated traffic (not exposed by SageMaker)."""
        return list(self._call("GET", "/endpoints")["endpoints"])

    # --- faults -------------------------------------------------------------------------------------
    def faults(self) -> dict[str, Any]:
        return dict(self._call("GET", "/faults"))

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def fail_next_provisioning(
        self,
        endpoint: str,
        kind: str = "model-download",
        reason: str | None = None,
        region: str | None = None,
    ) -> None:
        """Make the next provisioning of ``endpoint`` fail (kind: model-download, capacity, health-check)."""
        self._call(
            "POST",
            "/faults/provisioning",
            {"endpoint": endpoint, "kind": kind, "reason": reason, "region": region},
        )

    def fail_next_rollback(self, endpoint: str, region: str | None = None) -> None:
        """Make the next rolling rollback of ``endpoint`` fail, ending in UpdateRollbackFailed."""
        self._call("POST", "/faults/rollback", {"endpoint": endpoint, "region": region})

    def throttle(self, operation: str, rate: float = 0.0, burst: int = 1, count: int | None = None) -> None:
        """Throttle ``operation`` ("*" = all) beyond ``rate`` calls per second; ``count`` ends it early."""
        self._call(
            "POST", "/faults/throttle", {"operation": operation, "rate": rate, "burst": burst, "count": count}
        )

    def clear_throttle(self, operation: str | None = None) -> None:
        self._call("DELETE", "/faults/throttle", operation=operation)

    def server_error(
        self,
        operation: str,
        *,
        status: int = 500,
        mode: str = "before",
        rate: float = 1.0,
        count: int | None = None,
        seed: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer ``operation`` ("*" = all) with HTTP ``status`` (500, 502, 503, 504).

        ``mode="before"`` refuses the call before anything happens; ``mode="after"`` performs it and
        then answers the error (a lost response). ``rate`` is the probability that a call is hit (seeded
        with ``seed``); ``count`` ends the fault after that many hits.
        """
        self._call(
            "POST",
            "/faults/server-error",
            {
                "operation": operation,
                "status": status,
                "mode": mode,
                "rate": rate,
                "count": count,
                "seed": seed,
                "code": code,
                "message": message,
            },
        )

    def clear_server_error(self, operation: str | None = None) -> None:
        self._call("DELETE", "/faults/server-error", operation=operation)

    def latency(
        self,
        operation: str,
        seconds: float,
        *,
        rate: float = 1.0,
        count: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Delay the answers to ``operation`` ("*" = all) by ``seconds`` of real time (``rate``/``count`` as
        for ``server_error``)."""
        self._call(
            "POST",
            "/faults/latency",
            {"operation": operation, "seconds": seconds, "rate": rate, "count": count, "seed": seed},
        )

    def clear_latency(self, operation: str | None = None) -> None:
        self._call("DELETE", "/faults/latency", operation=operation)

    # --- alarms -------------------------------------------------------------------------------------
    def hold_alarm(self, name: str, state: str, region: str | None = None, reason: str | None = None) -> None:
        """Keep alarm ``name`` in ``state`` (ALARM, OK, INSUFFICIENT_DATA) until released."""
        self._call(
            "PUT",
            f"/alarms/{urllib.parse.quote(name, safe='')}/hold",
            {"state": state, "region": region, "reason": reason},
        )

    def release_alarm(self, name: str, region: str | None = None) -> bool:
        return bool(
            self._call("DELETE", f"/alarms/{urllib.parse.quote(name, safe='')}/hold", region=region)[
                "released"
            ]
        )

    def holds(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/alarms/holds")["holds"])
