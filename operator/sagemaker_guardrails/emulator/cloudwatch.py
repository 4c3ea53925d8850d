"""CloudWatch, served by moto inside the emulator's process, plus alarm states that hold.

botocore 1.44 sends CloudWatch requests as AWS JSON 1.0 (``X-Amz-Target:
GraniteServiceVersion20100801.<Op>``, awsQueryCompatible); older clients send the query protocol
(form-encoded ``Action=...``). Both are handed to moto's CloudWatch responder, which dispatches on the
request itself, under this emulator's account id so that two emulators with different accounts in one
process do not share alarms.

Two gaps of moto are closed here: a new alarm starts in ``INSUFFICIENT_DATA`` as in CloudWatch (moto
says ``OK``), and a *held* alarm state (admin API) is re-applied after every CloudWatch call until it is
released. In AWS, ``SetAlarmState`` lasts only until the next evaluation, which makes rollbacks hard to
exercise (spec 6); a hold is the reliable way to make an alarm trip during a bake.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

JSON_TARGET_PREFIX = "GraniteServiceVersion20100801."
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")


@dataclass(frozen=True)
class Hold:
    name: str
    state: str
    region: str | None
    reason: str


@dataclass(frozen=True)
class CloudWatchResult:
    status: int
    headers: dict[str, str]
    body: bytes
    operation: str
    error_code: str | None


def cloudwatch_operation(headers: Mapping[str, str], body: bytes) -> str | None:
    """The CloudWatch operation of a JSON or query request, or None if it is not one."""
    target = headers.get("X-Amz-Target") or ""
    if target.startswith(JSON_TARGET_PREFIX):
        return target[len(JSON_TARGET_PREFIX) :]
    if (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("Version") == ["2010-08-01"] and form.get("Action"):
            return form["Action"][0]
    return None


class CloudWatchBridge:
    def __init__(self, account_id: Callable[[], str], new_alarm_state: Callable[[], str]) -> None:
        self._account_id = account_id
        self._new_alarm_state = new_alarm_state
        self._lock = threading.RLock()
        self._holds: dict[tuple[str, str | None], Hold] = {}

    def _backends(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[self._account_id()]

    def backend(self, region: str) -> Any:
        return self._backends()[region]

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, *, region: str, operation: str
    ) -> CloudWatchResult:
        from moto.cloudwatch.responses import CloudWatchResponse
        from moto.core.request import Request

        forwarded = {k: v for k, v in headers.items() if k.lower() != "x-moto-account-id"}
        forwarded["x-moto-account-id"] = self._account_id()
        with self._lock:
            backend = self.backend(region)
            before = set(backend.alarms)
            request = Request.from_primitives(method, url, forwarded, body)
            status, response_headers, response_body = CloudWatchResponse.dispatch(
                request, url, request.headers
            )
            for name in set(backend.alarms) - before:
                self._set_state(backend, name, self._new_alarm_state(), "Unchecked: Initial alarm creation")
            self._apply_holds()
        payload = (
            response_body.encode("utf-8") if isinstance(response_body, str) else bytes(response_body or b"")
        )
        out_headers = {
            str(k): str(v)
            for k, v in response_headers.items()
            if str(k).lower() not in ("status", "content-length")
        }
        is_json = (headers.get("X-Amz-Target") or "").startswith(JSON_TARGET_PREFIX)
        out_headers["Content-Type"] = "application/x-amz-json-1.0" if is_json else "text/xml"
        return CloudWatchResult(
            int(status), out_headers, payload, operation, _error_code(int(status), payload, is_json)
        )

    @staticmethod
    def _set_state(backend: Any, name: str, state: str, reason: str) -> None:
        alarm = backend.alarms.get(name)
        if alarm is not None and alarm.state_value != state:
            alarm.update_state(reason, json.dumps({"source": "sagemaker-guardrails emulator"}), state)

    def _apply_holds(self) -> None:
        backends = self._backends()
        for hold in self._holds.values():
            regions = [hold.region] if hold.region else list(backends.keys())
            for region in regions:
                self._set_state(backends[region], hold.name, hold.state, hold.reason)

    def hold(self, name: str, state: str, region: str | None = None, reason: str | None = None) -> Hold:
        if state not in ALARM_STATES:
            raise ValueError(f"state must be one of {', '.join(ALARM_STATES)}")
        hold = Hold(name, state, region, reason or f"Held in {state} through the emulator admin API")
        with self._lock:
            self._holds[(name, region)] = hold
            self._apply_holds()
        return hold

    def release(self, name: str, region: str | None = None) -> bool:
        with self._lock:
            return self._holds.pop((name, region), None) is not None

    def holds(self) -> list[Hold]:
        with self._lock:
            return list(self._holds.values())

    def reset(self) -> None:
        with self._lock:
            self._holds.clear()
            self._backends().reset()


def _error_code(status: int, body: bytes, is_json: bool) -> str | None:
    if status < 400:
        return None
    if is_json:
        try:
            return str(json.loads(body).get("__type", "")).rsplit("#", 1)[-1] or None
        except ValueError:
            return None
    match = _XML_CODE.search(body)
    return match.group(1).decode() if match else None
