"""The CRD defaults ``status`` to ``{observedGeneration: 0}``, so that kstatus, Flux and Argo CD
read a GuardedEndpoint the operator has not written yet as "generation not observed" (InProgress)
and never as Current. tests/e2e/test_gitops_unobserved.py checks the real API server applies it."""

from __future__ import annotations

import pytest

from sagemaker_guardrails.api.crd import crd_manifest

pytestmark = pytest.mark.unit


def test_status_defaults_to_generation_zero_observed() -> None:
    (version,) = crd_manifest()["spec"]["versions"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert status["default"] == {}
    assert status["properties"]["observedGeneration"]["default"] == 0
    assert (
        "0 (the default) until the operator's first status write"
        in (status["properties"]["observedGeneration"]["description"])
    )
