"""The WSGI application: one base URL for SageMaker, CloudWatch and the admin API.

Requests are told apart the way AWS front ends would: ``X-Amz-Target: SageMaker.<Op>`` is SageMaker
(AWS JSON 1.1); ``X-Amz-Target: GraniteServiceVersion20100801.<Op>`` or a form body with
``Version=2010-08-01`` is CloudWatch (JSON 1.0 or query); ``/_emulator/...`` is the admin API. The region
comes from the SigV4 credential scope. Signatures are not checked: any dummy credentials work.
Every AWS call lands in the call log, and throttling faults are applied here, before the handler runs.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sagemaker_guardrails.emulator.admin import PREFIX, AdminApi
from sagemaker_guardrails.emulator.alarms import INTERNAL_HEADER
from sagemaker_guardrails.emulator.cloudwatch import JSON_TARGET_PREFIX, cloudwatch_operation
from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.records import Call
from sagemaker_guardrails.emulator.sagemaker import SageMakerService, endpoint_of
from sagemaker_guardrails.emulator.wire import (
    JSON_11,
    SAGEMAKER_TARGET_PREFIX,
    ApiError,
    credential_scope,
    error_body,
)

log = logging.getLogger(__name__)
THROTTLED = ("ThrottlingException", "Rate exceeded")


class EmulatorApp:
    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx
        self._sagemaker = SageMakerService(ctx)
        self._admin = AdminApi(ctx)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            response = self._admin.handle(request)
        else:
            response = self._aws(request)
        return response(environ, start_response)

    def _aws(self, request: Request) -> Response:
        ctx = self._ctx
        started, wall, sim = time.perf_counter(), time.time(), ctx.clock.now()
        body = request.get_data()
        headers = {k: v for k, v in request.headers.items()}
        internal = headers.get(INTERNAL_HEADER) == "1" or request.headers.get(INTERNAL_HEADER) == "1"
        scope = credential_scope(request.headers.get("Authorization"))
        region = scope[0] if scope else ctx.settings.region
        target = request.headers.get("X-Amz-Target") or ""
        endpoint = None
        if target.startswith(SAGEMAKER_TARGET_PREFIX):
            service, operation = "sagemaker", target[len(SAGEMAKER_TARGET_PREFIX) :]
            response, code, endpoint = self._sagemaker_call(operation, body, region, internal)
        elif (cw_operation := cloudwatch_operation(headers, body)) is not None:
            service, operation = "cloudwatch", cw_operation
            response, code = self._cloudwatch_call(
                request, body, headers=headers, region=region, operation=operation, internal=internal
            )
        else:
            service, operation = (scope[1] if scope else "unknown"), target or request.path
            message = (
                "The emulator serves SageMaker (AWS JSON 1.1) and CloudWatch (AWS JSON 1.0 or query) only."
            )
            if request.path.startswith("/service/"):
                message += (
                    " The smithy-rpc-v2-cbor protocol is not supported; use a botocore that sends JSON."
                )
            response, code = (
                self._error_response(ApiError("UnknownOperationException", message)),
                "UnknownOperationException",
            )
        ctx.calls.append(
            Call(
                seq=ctx.calls.next_seq(),
                wall_time=wall,
                sim_time=sim,
                service=service,
                operation=operation,
                region=region,
                endpoint=endpoint,
                error_code=code,
                http_status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                internal=internal,
            )
        )
        return response

    def _sagemaker_call(
        self, operation: str, body: bytes, region: str, internal: bool
    ) -> tuple[Response, str | None, str | None]:
        endpoint = None
        try:
            params = self._sagemaker.parse(operation, body)
            endpoint = endpoint_of(operation, params)
            if not internal and self._ctx.faults.should_throttle(operation):
                raise ApiError(*THROTTLED)
            payload = self._sagemaker.handle(operation, params, region)
        except ApiError as error:
            return self._error_response(error), error.code, endpoint
        except Exception as error:
            log.exception("SageMaker.%s failed inside the emulator", operation)
            return (
                self._error_response(ApiError("InternalFailure", f"The emulator failed: {error}", 500)),
                "InternalFailure",
                endpoint,
            )
        return (
            Response(
                json.dumps(payload),
                200,
                content_type=JSON_11,
                headers={"x-amzn-RequestId": str(uuid.uuid4())},
            ),
            None,
            endpoint,
        )

    def _cloudwatch_call(
        self,
        request: Request,
        body: bytes,
        *,
        headers: dict[str, str],
        region: str,
        operation: str,
        internal: bool,
    ) -> tuple[Response, str | None]:
        is_json = (request.headers.get("X-Amz-Target") or "").startswith(JSON_TARGET_PREFIX)
        if not internal and self._ctx.faults.should_throttle(operation):
            return _cloudwatch_throttled(is_json), "Throttling"
        try:
            result = self._ctx.cloudwatch.handle(
                request.method, request.url, headers, body, region=region, operation=operation
            )
        except Exception as error:
            log.exception("CloudWatch.%s failed inside the emulator", operation)
            return self._error_response(
                ApiError("InternalFailure", f"The emulator failed: {error}", 500)
            ), "InternalFailure"
        return Response(result.body, result.status, headers=result.headers), result.error_code

    @staticmethod
    def _error_response(error: ApiError) -> Response:
        return Response(
            json.dumps(error_body(error.code, error.message)),
            error.status,
            content_type=JSON_11,
            headers={"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-ErrorType": error.code},
        )


def _cloudwatch_throttled(is_json: bool) -> Response:
    request_id = str(uuid.uuid4())
    if is_json:
        body = json.dumps({"__type": "Throttling", "message": "Rate exceeded"})
        headers = {"x-amzn-query-error": "Throttling;Sender", "x-amzn-RequestId": request_id}
        return Response(body, 400, content_type="application/x-amz-json-1.0", headers=headers)
    xml = (
        '<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type>'
        f"<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(xml, 400, content_type="text/xml")
