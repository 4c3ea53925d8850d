"""The boto3 implementation of :class:`~sagemaker_guardrails.aws.ports.CloudWatchPort`.

The operator reads the rollback alarms itself (with ``DescribeAlarms``, the same call SageMaker
makes) for two reasons: to explain a rollback in status and Events, and to warn before a
deployment starts when a listed alarm does not exist, because SageMaker does not say what it
does with a missing alarm name (spec §12, Q10). A name that CloudWatch does not return is
reported as ``"missing"``.

``DescribeAlarms`` without ``AlarmTypes`` returns metric alarms only, so both types are asked
for; at most 100 names go into one call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sagemaker_guardrails.aws.ports import ALARM_MISSING
from sagemaker_guardrails.aws.ratelimit import TokenBucket
from sagemaker_guardrails.aws.translate import guarded_pages

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

__all__ = ["CloudWatchAdapter"]

_MAX_NAMES = 100


class CloudWatchAdapter:
    """CloudWatch calls of one region."""

    def __init__(
        self, client: CloudWatchClient, limiter: TokenBucket, *, acquire_timeout: float = 30.0
    ) -> None:
        self._client = client
        self._limiter = limiter
        self._timeout = acquire_timeout

    def describe_alarms(self, names: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(names))
        states = dict.fromkeys(wanted, ALARM_MISSING)
        for start in range(0, len(wanted), _MAX_NAMES):
            for alarm in self._alarms(wanted[start : start + _MAX_NAMES]):
                name = alarm.get("AlarmName")
                if name in states:
                    states[name] = str(alarm.get("StateValue") or ALARM_MISSING)
        return states

    def _alarms(self, names: list[str]) -> Iterator[Mapping[str, Any]]:
        """The metric and composite alarms of one ``DescribeAlarms`` (every page) for at most 100 names."""
        pages = guarded_pages(
            self._limiter.lane("DescribeAlarms"),
            self._timeout,
            "DescribeAlarms",
            lambda more: self._client.describe_alarms(
                AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"], MaxRecords=_MAX_NAMES, **more
            ),
        )
        for page in pages:
            yield from [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]
