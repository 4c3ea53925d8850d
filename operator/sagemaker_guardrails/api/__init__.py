"""The GuardedEndpoint API (sagemaker-guardrails.dev/v1alpha1): pydantic models and CRD generation."""

from sagemaker_guardrails.api.spec import GuardedEndpointSpec
from sagemaker_guardrails.api.status import GuardedEndpointStatus

GROUP = "sagemaker-guardrails.dev"
VERSION = "v1alpha1"
KIND = "GuardedEndpoint"
PLURAL = "guardedendpoints"
SINGULAR = "guardedendpoint"
SHORT_NAME = "gep"

__all__ = [
    "GROUP",
    "KIND",
    "PLURAL",
    "SHORT_NAME",
    "SINGULAR",
    "VERSION",
    "GuardedEndpointSpec",
    "GuardedEndpointStatus",
]
