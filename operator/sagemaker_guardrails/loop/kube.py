"""The operator's own calls to the Kubernetes API: read, confirmed writes, finalizers, Events.

Every call is synchronous (the loop runs passes in worker threads), bounded by a request timeout
so that a hung connection can never hold a worker, and fails with one exception type,
:class:`KubeError`, whose ``reason`` is the API's own (``Forbidden``, ``Invalid``, ``Conflict``,
``NotFound``, ...) or ``Unavailable`` when the API server could not be reached. The controller
logs and counts by that reason.

Writes are JSON merge patches that carry ``metadata.resourceVersion``: the API server applies
them only to the version they were computed from and answers ``Conflict`` otherwise. That makes
every status write a statement about the stored object, never about what this process believes.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sagemaker_guardrails.api import GROUP, KIND, PLURAL, VERSION

__all__ = ["Kube", "KubeApi", "KubeError", "ObjectKey", "reason_of"]

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
EVENT_MESSAGE_LIMIT = 1024


class KubeError(Exception):
    """A failed Kubernetes API call; ``reason`` is the API's reason or ``Unavailable``."""

    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.status = status


ObjectKey = tuple[str, str]
"""(namespace, name)."""


class Kube(Protocol):
    """What the controller needs from the API server (the real one is :class:`KubeApi`)."""

    def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def list(self, namespaces: list[str]) -> list[dict[str, Any]]: ...

    def patch(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]: ...

    def patch_status(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]: ...

    def post_event(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None: ...


def reason_of(exc: BaseException) -> KubeError:
    """Maps a kubernetes-client or transport exception onto :class:`KubeError`."""
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, KubeError):
        return exc
    if isinstance(exc, ApiException):
        reason, message = str(exc.reason or ""), ""
        try:
            payload = json.loads(exc.body or "{}")
        except (TypeError, ValueError):
            payload = {}
        if isinstance(payload, dict):
            reason = str(payload.get("reason") or reason or exc.status)
            message = str(payload.get("message") or "")
        status = int(exc.status) if exc.status else None
        if status is not None and status >= 500 and not reason:
            reason = "ServerError"
        if status == 0 or exc.status is None:
            return KubeError("Unavailable", str(exc))
        return KubeError(reason or str(status), message, status)
    return KubeError("Unavailable", f"{type(exc).__name__}: {exc}")


class KubeApi:
    """:class:`Kube` over the official client; one instance shared by all worker threads."""

    def __init__(
        self, api_client: Any, *, timeout: float = 30.0, component: str = "sagemaker-guardrails"
    ) -> None:
        from kubernetes import client

        # Typed as Any: the client's generated signatures want its model classes; we speak JSON.
        self._custom: Any = client.CustomObjectsApi(api_client)
        self._core: Any = client.CoreV1Api(api_client)
        self._timeout = (min(5.0, timeout), timeout)
        self._component = component
        self._instance = secrets.token_hex(4)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object, or None when it does not exist."""
        try:
            body = self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name, _request_timeout=self._timeout
            )
        except Exception as exc:
            error = reason_of(exc)
            if error.status == 404:
                return None
            raise error from exc
        return dict(body)

    def list(self, namespaces: list[str]) -> list[dict[str, Any]]:
        """Every GuardedEndpoint of ``namespaces`` (all namespaces when empty)."""
        items: list[dict[str, Any]] = []
        try:
            if not namespaces:
                result = self._custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, _request_timeout=self._timeout
                )
                items.extend(result.get("items") or [])
            for namespace in namespaces:
                result = self._custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, _request_timeout=self._timeout
                )
                items.extend(result.get("items") or [])
        except Exception as exc:
            raise reason_of(exc) from exc
        return items

    def patch(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A merge patch of the object (metadata: finalizers, annotations)."""
        return self._merge(self._custom.patch_namespaced_custom_object, namespace, name, patch)

    def patch_status(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A merge patch of the status subresource; returns the stored object."""
        return self._merge(self._custom.patch_namespaced_custom_object_status, namespace, name, patch)

    def _merge(self, call: Any, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        try:
            body = call(
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                name,
                dict(patch),
                _content_type=MERGE_PATCH,
                _request_timeout=self._timeout,
            )
        except Exception as exc:
            raise reason_of(exc) from exc
        return dict(body)

    def post_event(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event about ``body`` (the GuardedEndpoint)."""
        meta = body.get("metadata") or {}
        namespace = str(meta.get("namespace") or "default")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": type_,
            "reason": reason,
            "message": message[:EVENT_MESSAGE_LIMIT],
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "reportingInstance": f"{self._component}-{self._instance}",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._core.create_namespaced_event(namespace, event, _request_timeout=self._timeout)
        except Exception as exc:
            raise reason_of(exc) from exc
