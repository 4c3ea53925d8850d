"""The emulated SageMaker control plane: request decoding, model validation, dispatch to handlers.

Only the operations listed in ``HANDLERS`` are served; any other SageMaker operation gets
``UnknownOperationException`` so a missing feature fails loudly instead of returning something wrong.
"""

from __future__ import annotations

import json
from typing import Any

from sagemaker_guardrails.emulator.context import EmulatorContext
from sagemaker_guardrails.emulator.sagemaker import endpoints, resources
from sagemaker_guardrails.emulator.sagemaker.common import Handler
from sagemaker_guardrails.emulator.validation import validate_request
from sagemaker_guardrails.emulator.wire import (
    ApiError,
    decode_input,
    encode_output,
    operation_model,
    service_model,
)

HANDLERS: dict[str, Handler] = {**resources.HANDLERS, **endpoints.HANDLERS}
MUTATING = frozenset(
    {
        "CreateModel",
        "DeleteModel",
        "CreateEndpointConfig",
        "DeleteEndpointConfig",
        "CreateEndpoint",
        "UpdateEndpoint",
        "UpdateEndpointWeightsAndCapacities",
        "DeleteEndpoint",
        "AddTags",
        "DeleteTags",
    }
)


def endpoint_of(operation: str, params: Any) -> str | None:
    """The endpoint a request is about, for the call log."""
    if not isinstance(params, dict):
        return None
    if isinstance(params.get("EndpointName"), str):
        return str(params["EndpointName"])
    resource = params.get("ResourceArn")
    if isinstance(resource, str) and ":endpoint/" in resource:
        return resource.rsplit("/", 1)[-1]
    return None


class SageMakerService:
    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    def parse(self, operation: str, body: bytes) -> dict[str, Any]:
        if operation not in HANDLERS or operation not in service_model("sagemaker").operation_names:
            raise ApiError(
                "UnknownOperationException", f"The emulator does not implement SageMaker.{operation}."
            )
        try:
            params = json.loads(body or b"{}")
        except ValueError as error:
            raise ApiError("SerializationException", f"Request body is not valid JSON: {error}") from error
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "Request body must be a JSON object.")
        return params

    def handle(self, operation: str, params: dict[str, Any], region: str) -> dict[str, Any]:
        model = operation_model("sagemaker", operation)
        decoded = decode_input(model.input_shape, params)
        validate_request(model, decoded)
        ctx = self._ctx
        with ctx.lock:
            ctx.engine.advance()
            result = HANDLERS[operation](ctx, region, decoded)
        if operation in MUTATING:
            ctx.wake.set()
        encoded = encode_output(model.output_shape, result)
        return encoded if isinstance(encoded, dict) else {}
