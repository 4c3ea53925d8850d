"""The largest GuardedEndpoint the CRD accepts is stored by a real kube-apiserver + etcd, and can
carry the largest status and still be updated; one step over a bound is refused at admission with
the field named. No operator runs here: the status is written as the operator would, through the
status subresource with a JSON merge patch.

The objects come from tests/sizekit.py (built from the CRD's bounds, every free-form character one
that JSON escapes to six bytes); tests/unit/test_size_budget.py holds them to the 1 MiB budget.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from tests import sizekit

from sagemaker_guardrails.api import GROUP, KIND, PLURAL, VERSION
from sagemaker_guardrails.api.base import OBJECT_BUDGET_BYTES

pytestmark = pytest.mark.e2e

ETCD_REQUEST_LIMIT = 1536 * 1024
# The API server refuses more than 256 KiB of annotations (keys and values); they get what the
# budget leaves, in plain text (a key of 37 characters).
ANNOTATION = "example.com/a-large-annotation-value"
ANNOTATION_ROOM = 256 * 1024 - len(ANNOTATION)


@pytest.fixture(scope="module")
def largest_spec() -> dict[str, Any]:
    return sizekit.largest_spec()


@pytest.fixture(scope="module")
def largest_status() -> dict[str, Any]:
    return sizekit.largest_status()


def _object(
    namespace: str, spec: dict[str, Any], annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": f"largest-{secrets.token_hex(3)}", "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": metadata, "spec": spec}


def _refusal(error: ApiException) -> str:
    body = json.loads(error.body)
    causes = [
        f"{c.get('field', '')}: {c.get('message', '')}" for c in body.get("details", {}).get("causes", [])
    ]
    return " ".join([body.get("message", ""), *causes])


@pytest.mark.usefixtures("crd")
def test_the_largest_object_is_stored_with_the_largest_status(
    api_client: k8s.ApiClient,
    namespace: str,
    largest_spec: dict[str, Any],
    largest_status: dict[str, Any],
) -> None:
    api = k8s.CustomObjectsApi(api_client)
    body = _object(namespace, largest_spec, {ANNOTATION: "a" * ANNOTATION_ROOM})
    name = body["metadata"]["name"]
    created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert created["spec"] == largest_spec, "stored as sent: nothing pruned, nothing defaulted away"

    written = api.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": largest_status}
    )
    assert written["status"] == largest_status

    # A spec change rewrites the whole object (spec, status, annotations, managedFields) in etcd.
    changed = api.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": {"deletionPolicy": "Retain"}}
    )
    assert changed["metadata"]["generation"] == 2

    stored = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    assert stored["status"] == largest_status
    assert stored["spec"] == {**largest_spec, "deletionPolicy": "Retain"}
    spec_and_status = sizekit.json_size(stored["spec"]) + sizekit.json_size(stored["status"])
    whole = sizekit.json_size(stored)
    assert OBJECT_BUDGET_BYTES * 0.85 < spec_and_status <= OBJECT_BUDGET_BYTES, "really the worst case"
    assert whole < ETCD_REQUEST_LIMIT, f"the object is {whole} bytes with its metadata"
    api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


@pytest.mark.parametrize(("change", "field"), sizekit.STEPS_OVER, ids=lambda p: getattr(p, "__name__", None))
@pytest.mark.usefixtures("crd")
def test_one_step_over_a_bound_is_refused_naming_the_field(
    api_client: k8s.ApiClient,
    namespace: str,
    largest_spec: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    api = k8s.CustomObjectsApi(api_client)
    body = _object(namespace, sizekit.edited(largest_spec, change))
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert refused.value.status == 422, refused.value.body
    assert field in _refusal(refused.value)


@pytest.mark.usefixtures("crd")
def test_a_status_over_its_bounds_is_refused_naming_the_field(
    api_client: k8s.ApiClient, namespace: str, largest_status: dict[str, Any]
) -> None:
    """The operator cuts what it writes (api/status.py); anything else is refused, spec untouched."""
    api = k8s.CustomObjectsApi(api_client)
    body = _object(namespace, sizekit.largest_spec(sizekit.ASCII_FILLERS))
    name = body["metadata"]["name"]
    api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    api.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": largest_status}
    )
    over = sizekit.edited(
        largest_status, lambda s: s["history"][0].update(reason=s["history"][0]["reason"] + "x")
    )
    with pytest.raises(ApiException) as refused:
        api.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": over})
    assert refused.value.status == 422, refused.value.body
    assert "status.history[0].reason" in _refusal(refused.value)
    assert (
        api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)["status"] == largest_status
    )
    api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
