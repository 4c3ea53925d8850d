"""The AWS JSON 1.1 wire format, driven by botocore's own service model.

SageMaker speaks AWS JSON 1.1: ``POST /`` with ``X-Amz-Target: SageMaker.<Operation>``, a JSON body,
timestamps as epoch seconds, and errors as HTTP 400 with ``{"__type": ..., "message": ...}``. Encoding
outputs through the botocore output shape keeps every response parseable by unchanged boto3 code and
drops anything the model does not know.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

JSON_11 = "application/x-amz-json-1.1"
SAGEMAKER_TARGET_PREFIX = "SageMaker."
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class ApiError(Exception):
    """An error the emulator returns the way AWS does: an error code, a message and an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> ApiError:
    return ApiError("ValidationException", message)


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of ``name`` (cached; loading it is slow)."""
    return botocore.session.get_session().get_service_model(name)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def credential_scope(authorization: str | None) -> tuple[str, str] | None:
    """(region, service) from a SigV4 ``Authorization`` header, if there is one."""
    match = _CREDENTIAL_SCOPE.search(authorization or "")
    return (match.group(1), match.group(2)) if match else None


def decode_input(shape: Shape | None, value: Any) -> Any:
    """JSON request data to Python values: timestamps become aware datetimes, blobs become bytes."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {key: decode_input(members.get(key), item) for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [decode_input(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: decode_input(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return _parse_timestamp(value)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _parse_timestamp(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def encode_output(shape: Shape | None, value: Any) -> Any:
    """Python values to JSON 1.1 data, keeping only what ``shape`` models; ``None`` members are left out.

    Timestamps may be given as epoch floats (the emulator's simulated clock) or datetimes.
    """
    if shape is None or value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        out = {}
        for key, member in members.items():
            if key in value and value[key] is not None:
                out[key] = encode_output(member, value[key])
        return out
    if kind == "list":
        return [encode_output(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {key: encode_output(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        seconds = value.timestamp() if isinstance(value, datetime) else float(value)
        return round(seconds, 3)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind in ("float", "double"):
        return float(value)
    return value


def error_body(code: str, message: str) -> dict[str, str]:
    return {"__type": code, "message": message}


def plain(value: Any) -> Any:
    """A deep copy of request data with datetimes turned back into epoch floats (for storage)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.timestamp()
    return value
