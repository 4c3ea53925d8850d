"""core.delete: the deletion decision behind the finalizer."""

from __future__ import annotations

import pytest
from tests.corekit import IDENTITY, endpoint

from sagemaker_guardrails.api.spec import DeletionPolicy
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.delete import (
    DeleteEndpoint,
    DeleteLeftovers,
    Done,
    WaitForEndpoint,
    decide_delete,
)
from sagemaker_guardrails.core.observed import Observed

pytestmark = pytest.mark.unit

OWNER = IDENTITY.owner
OURS = OWNER.tags()
OTHER = naming.Owner("test-cluster", "ml", "payments").tags()


@pytest.mark.parametrize(
    ("policy", "observed", "action"),
    [
        (DeletionPolicy.RETAIN, Observed(endpoint("InService", "c"), OURS), Done()),
        (DeletionPolicy.RETAIN, None, Done()),
        (DeletionPolicy.DELETE, Observed(endpoint("InService", "c"), OURS), DeleteEndpoint()),
        (DeletionPolicy.DELETE, Observed(endpoint("Failed", "c"), OURS), DeleteEndpoint()),
        (DeletionPolicy.DELETE, Observed(endpoint("UpdateRollbackFailed", "c"), OURS), DeleteEndpoint()),
        (DeletionPolicy.DELETE, Observed(endpoint("Updating", "c", target="d"), OURS), WaitForEndpoint()),
        (DeletionPolicy.DELETE, Observed(endpoint("Creating", "c", target="c"), OURS), WaitForEndpoint()),
        (DeletionPolicy.DELETE, Observed(endpoint("Deleting", "c"), OURS), WaitForEndpoint()),
        (DeletionPolicy.DELETE, Observed(None), DeleteLeftovers()),
        (DeletionPolicy.DELETE, None, DeleteLeftovers()),
        (DeletionPolicy.DELETE, Observed(endpoint("InService", "c"), OTHER), DeleteLeftovers()),
        (DeletionPolicy.DELETE, Observed(endpoint("InService", "c"), {}), DeleteLeftovers()),
        (DeletionPolicy.DELETE, Observed(endpoint("InService", "c")), DeleteLeftovers()),
    ],
    ids=[
        "retain",
        "retain-unobserved",
        "delete-in-service",
        "delete-failed",
        "delete-update-rollback-failed",
        "wait-updating",
        "wait-creating",
        "wait-deleting",
        "endpoint-gone-delete-leftovers",
        "no-usable-name",
        "never-touch-another-owners-endpoint",
        "never-touch-an-unadopted-endpoint",
        "never-delete-an-endpoint-whose-tags-were-not-read",
    ],
)
def test_decide_delete(policy: DeletionPolicy, observed: Observed | None, action: object) -> None:
    decision = decide_delete(policy, "fraud-detector", OWNER, observed)
    assert decision.action == action
    assert "fraud-detector" in decision.message


def test_waiting_explains_that_a_deployment_cannot_be_cancelled() -> None:
    decision = decide_delete(
        DeletionPolicy.DELETE, "fraud-detector", OWNER, Observed(endpoint("Updating", "c"), OURS)
    )
    assert "cannot cancel" in decision.message
