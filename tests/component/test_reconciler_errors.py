"""Throttling, 5xx and lost responses slow the operator down but never fail a resource.

Throttling comes from the emulator's fault API; 5xx responses and a response lost after SageMaker
accepted the call are injected into the real boto3 client through botocore's event hooks, so the
adapters, botocore's ``standard`` retries (of reads; mutating calls are sent once) and the error
translation all run for real. test_adapters_retries.py loses answers on the wire instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from conftest import EMULATOR_SPEED, FROZEN
from tests import corekit
from tests.reconcilerkit import IMAGE, World

pytestmark = pytest.mark.component


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class ServerErrors:
    """A ``before-send`` hook: the next ``count`` attempts of an operation get HTTP 500 from "AWS"."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.sent = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.left <= 0:
            return None
        self.left -= 1
        self.sent += 1
        body = b'{"__type": "InternalFailure", "message": "We encountered an internal error."}'
        return AWSResponse(request.url, 500, {"x-amzn-RequestId": "injected"}, _Body(body))


def never_stalled(gep: Any) -> None:
    stalled = [
        h
        for h in gep.history
        if any(c["type"] == "Stalled" and c["status"] == "True" for c in h["conditions"])
    ]
    assert stalled == []
    assert all(o.result in ("ok", "requeued") for o in gep.outcomes)


def test_throttling_slows_the_operator_down_without_failing_the_resource(world: World) -> None:
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    gep.apply(corekit.spec(strategy="AllAtOnce", image=IMAGE.format(2)))
    gep.step()
    world.admin.throttle("UpdateEndpoint", rate=0.0, count=2)
    throttled = gep.step()
    assert gep.condition("Reconciling") == ("True", "Throttled")
    assert throttled.result == "requeued"
    assert throttled.requeue_after is not None and throttled.requeue_after > 0
    assert "issuedAt" not in gep.status["pending"]
    world.admin.throttle("*", rate=0.0, count=4)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert any(o.error is not None for o in gep.outcomes)
    never_stalled(gep)
    assert len(world.calls("UpdateEndpoint")) == 1
    assert world.describe()["EndpointConfigName"] == corekit.desired(gep.spec).config_name


def test_throttled_observation_keeps_the_last_verdict(world: World) -> None:
    gep = world.resource()
    gep.settle()
    settled = gep.status["conditions"]
    world.admin.throttle("DescribeEndpoint", rate=0.0, count=2)
    gep.step()
    assert gep.status["conditions"] == settled, "Ready stays, Reconciling does not flip"
    assert gep.status["phase"] == "InService"
    assert gep.status["observeError"]["reason"] == "Throttled"
    gep.settle()
    assert "observeError" not in gep.status
    never_stalled(gep)


def test_server_errors_are_retried_and_never_fail_the_resource(world: World) -> None:
    errors = ServerErrors(count=2)
    world.session.events.register("before-send.sagemaker.UpdateEndpoint", errors)
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    gep.apply(corekit.spec(strategy="AllAtOnce", image=IMAGE.format(2)))
    gep.step()
    failed = gep.step()
    assert errors.sent == 1, "a mutating call is sent once: botocore does not retry it (max_attempts=2)"
    assert gep.condition("Reconciling") == ("True", "Retrying")
    assert failed.result == "requeued"
    assert "issuedAt" not in gep.status["pending"]
    gep.settle()
    assert errors.sent == 2, "the next pass found the update not issued and sent it again, once"
    assert gep.condition("Ready") == ("True", "InService")
    never_stalled(gep)
    assert len(world.calls("UpdateEndpoint")) == 1


def test_a_lost_response_after_sagemaker_accepted_the_update_does_not_repeat_it(world: World) -> None:
    lost: list[str] = []

    def lose(**_: Any) -> None:
        if not lost:
            lost.append("UpdateEndpoint")
            raise ReadTimeoutError(endpoint_url="http://emulator")

    world.session.events.register("after-call.sagemaker.UpdateEndpoint", lose)
    gep = world.resource(corekit.spec(strategy="AllAtOnce"))
    gep.settle()
    gep.apply(corekit.spec(strategy="AllAtOnce", image=IMAGE.format(2)))
    gep.step()
    gep.step()
    assert lost == ["UpdateEndpoint"]
    assert gep.condition("Reconciling") == ("True", "Retrying")
    assert "issuedAt" not in gep.status["pending"]
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    assert len(world.calls("UpdateEndpoint", ok=False)) == 1
    never_stalled(gep)


def test_an_endpoint_config_not_yet_visible_is_retried_until_it_is(world: World) -> None:
    world.admin.configure(config_read_delay_seconds=60, speed=FROZEN)
    gep = world.resource()
    gep.until(lambda o: world.calls("CreateEndpoint", ok=False) != [])  # the clock stands still: refused
    world.admin.configure(speed=EMULATOR_SPEED)
    gep.settle()
    assert gep.condition("Ready") == ("True", "InService")
    refused = world.calls("CreateEndpoint", ok=False)
    assert [c["http_status"] for c in refused][-1] == 200
    assert len([c for c in refused if c["http_status"] == 200]) == 1
    assert len(refused) > 1, "the emulator's eventual consistency was not exercised"
    never_stalled(gep)
