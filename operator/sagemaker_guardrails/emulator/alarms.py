"""How the emulated SageMaker reads rollback alarms: ``cloudwatch:DescribeAlarms``, over HTTP, like AWS.

SageMaker polls the alarms named in ``AutoRollbackConfiguration`` with DescribeAlarms (which is why the
execution role needs that permission, spec 4). The emulator does the same against its own CloudWatch,
through a real boto3 client pointed at its own URL, so whatever a user does to an alarm (PutMetricAlarm,
SetAlarmState, a hold, a throttle aside) is seen exactly as SageMaker would see it. These calls are
marked internal: the call log hides them by default and throttling faults do not apply to them.

DescribeAlarms without ``AlarmTypes`` returns metric alarms only, so a composite alarm counts as missing
(Q10).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

INTERNAL_HEADER = "x-sagemaker-guardrails-emulator-internal"


@dataclass(frozen=True)
class AlarmCheck:
    states: dict[str, str]
    missing: tuple[str, ...]
    error: str | None = None

    def in_states(self, states: list[str]) -> tuple[str, ...]:
        return tuple(name for name, state in self.states.items() if state in states)


class AlarmReader:
    """One cached boto3 CloudWatch client per region, pointed at the emulator itself."""

    def __init__(self, url: Callable[[], str]) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, CloudWatchClient] = {}

    def _client(self, region: str) -> CloudWatchClient:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session(
                        aws_access_key_id="emulator", aws_secret_access_key="emulator"
                    )
                client = self._session.client(
                    "cloudwatch",
                    region_name=region,
                    endpoint_url=self._url(),
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
                    ),
                )
                client.meta.events.register("before-sign.cloudwatch", _mark_internal)
                self._clients[region] = client
            return client

    def warm(self, region: str) -> None:
        """Build the client ahead of the first poll (creating a boto3 client takes a few hundred ms)."""
        self._client(region)

    def check(self, region: str, names: tuple[str, ...]) -> AlarmCheck:
        if not names:
            return AlarmCheck({}, ())
        try:
            response = self._client(region).describe_alarms(AlarmNames=list(names))
        except Exception as error:  # any failure means "no information this poll"
            return AlarmCheck({}, (), error=str(error))
        states = {a["AlarmName"]: str(a["StateValue"]) for a in response.get("MetricAlarms", [])}
        return AlarmCheck(states, tuple(n for n in names if n not in states))

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"
