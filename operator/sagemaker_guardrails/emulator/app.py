"""The WSGI application: one base URL for SageMaker, CloudWatch and the admin API.

Requests are told apart the way AWS front ends would: ``X-Amz-Target: SageMaker.<Op>`` is SageMaker
(AWS JSON 1.1); ``X-Amz-Target: GraniteServiceVersion20100801.<Op>`` or a form body with
``Version=2010-08-01`` is CloudWatch (JSON 1.0 or query); ``/_emulator/...`` is the admin API. The region
comes from the SigV4 credential scope. Signatures are not checked: any dummy credentials work.
Every AWS call lands in the call log, and the HTTP faults are applied here: latency, throttling and
refused server errors before the handler runs, lost responses after it.

Nothing inside the emulator may surface as werkzeug's HTML error page: any exception (a bug) is logged
with its traceback and answered the way AWS answers its own failures, HTTP 500 ``InternalFailure`` in
the protocol of the request, so botocore raises a ``ClientError`` with that code.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from sagemaker_guardrails.emulator.admin import PREFIX, AdminApi
from sagemaker_guardrails.emulator.alarms import INTERNAL_HEADER
from sagemaker_guardrails.emulator.cloudwatch import JSON_TARGET_PREFIX, cloudwatch_operation
from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.hits import ServerError
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
INTERNAL = "InternalFailure"


class _FaultError(Exception):
    """An error response decided by a fault, with the fault's name for the call log."""

    def __init__(self, error: ApiError, fault: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.fault = fault


def _internal(error: BaseException) -> ApiError:
    return ApiError(INTERNAL, f"The emulator failed: {type(error).__name__}: {error}", 500)


class EmulatorApp:
    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx
        self._sagemaker = SageMakerService(ctx)
        self._admin = AdminApi(ctx)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        admin = request.path == PREFIX or request.path.startswith(PREFIX + "/")
        try:
            response = self._admin.handle(request) if admin else self._aws(request)
        except Exception as error:
            log.exception("%s %s failed inside the emulator", request.method, request.path)
            if admin:
                body = json.dumps({"error": f"internal error: {type(error).__name__}: {error}"})
                response = Response(body, 500, content_type="application/json")
            else:
                response = self._error_response(_internal(error))
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
        fault: str | None = None
        if target.startswith(SAGEMAKER_TARGET_PREFIX):
            service, operation = "sagemaker", target[len(SAGEMAKER_TARGET_PREFIX) :]
            response, code, endpoint, fault = self._sagemaker_call(operation, body, region, internal)
        elif (cw_operation := cloudwatch_operation(headers, body)) is not None:
            service, operation = "cloudwatch", cw_operation
            response, code, fault = self._cloudwatch_call(
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
                fault=fault,
            )
        )
        return response

    def _before(self, operation: str, internal: bool) -> tuple[ServerError | None, str | None]:
        """Latency, throttling and refused server errors; returns a lost-response error to apply after."""
        if internal:
            return None, None
        faults = self._ctx.faults
        delay = faults.take_latency(operation)
        if delay:
            time.sleep(delay)
        latency = "latency" if delay else None
        if faults.should_throttle(operation):
            raise _FaultError(ApiError(*THROTTLED), "throttle")
        error = faults.take_server_error(operation)
        if error is not None and error.mode == "before":
            raise _FaultError(ApiError(error.code, error.message, error.status), "server-error")
        return error, latency

    def _sagemaker_call(
        self, operation: str, body: bytes, region: str, internal: bool
    ) -> tuple[Response, str | None, str | None, str | None]:
        endpoint, fault = None, None
        try:
            params = self._sagemaker.parse(operation, body)
            endpoint = endpoint_of(operation, params)
            lost, fault = self._before(operation, internal)
            payload = self._sagemaker.handle(operation, params, region)
            if lost is not None:
                raise _FaultError(ApiError(lost.code, lost.message, lost.status), "lost-response")
        except _FaultError as answer:
            return self._error_response(answer.error), answer.error.code, endpoint, answer.fault
        except ApiError as error:
            return self._error_response(error), error.code, endpoint, fault
        except Exception as error:
            log.exception("SageMaker.%s failed inside the emulator", operation)
            return self._error_response(_internal(error)), INTERNAL, endpoint, fault
        response = Response(
            json.dumps(payload), 200, content_type=JSON_11, headers={"x-amzn-RequestId": str(uuid.uuid4())}
        )
        return response, None, endpoint, fault

    def _cloudwatch_call(
        self,
        request: Request,
        body: bytes,
        *,
        headers: dict[str, str],
        region: str,
        operation: str,
        internal: bool,
    ) -> tuple[Response, str | None, str | None]:
        is_json = (request.headers.get("X-Amz-Target") or "").startswith(JSON_TARGET_PREFIX)
        fault = None
        try:
            lost, fault = self._before(operation, internal)
            result = self._ctx.cloudwatch.handle(
                request.method, request.url, headers, body, region=region, operation=operation
            )
            if lost is not None:
                raise _FaultError(ApiError(lost.code, lost.message, lost.status), "lost-response")
        except _FaultError as answer:
            code = "Throttling" if answer.fault == "throttle" else answer.error.code
            error = ApiError(code, answer.error.message, answer.error.status)
            return cloudwatch_error(error, is_json), code, answer.fault
        except Exception as error:
            log.exception("CloudWatch.%s failed inside the emulator", operation)
            return cloudwatch_error(_internal(error), is_json), INTERNAL, fault
        return Response(result.body, result.status, headers=result.headers), result.error_code, fault

    @staticmethod
    def _error_response(error: ApiError) -> Response:
        return Response(
            json.dumps(error_body(error.code, error.message)),
            error.status,
            content_type=JSON_11,
            headers={"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-ErrorType": error.code},
        )


def cloudwatch_error(error: ApiError, is_json: bool) -> Response:
    """An error in CloudWatch's protocol: JSON 1.0 with the query-compatible code header, or query XML."""
    request_id = str(uuid.uuid4())
    side = "Receiver" if error.status >= 500 else "Sender"
    if is_json:
        body = json.dumps({"__type": error.code, "message": error.message})
        headers = {"x-amzn-query-error": f"{error.code};{side}", "x-amzn-RequestId": request_id}
        return Response(body, error.status, content_type="application/x-amz-json-1.0", headers=headers)
    xml = (
        '<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error>'
        f"<Type>{side}</Type><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(xml, error.status, content_type="text/xml")
