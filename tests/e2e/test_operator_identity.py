"""The operator runs as the Helm chart's ServiceAccount, bound by nothing but the chart's RBAC, and
that is enough: a full create (finalizer, status subresource, Events) works without a single 403,
while anything outside the rules stays forbidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.geps import Geps
from tests.e2e.rbac import chart_has_rbac

from sagemaker_guardrails.devenv.kube import Kubectl, KubectlError
from sagemaker_guardrails.devenv.stack import OperatorProcess

pytestmark = pytest.mark.e2e


def test_operator_identity_is_the_charts_service_account(operator_identity: Path) -> None:
    assert chart_has_rbac(), "the e2e tier must bind the chart's own RBAC rules"
    as_operator = Kubectl(operator_identity)
    user = as_operator.json("auth", "whoami")["status"]["userInfo"]
    assert user["username"].startswith("system:serviceaccount:sgr-e2e-")
    assert "system:masters" not in user.get("groups", [])
    can = {
        verb: as_operator.run("auth", "can-i", *verb.split(), check=False).stdout.strip()
        for verb in (
            "patch guardedendpoints.sagemaker-guardrails.dev/status -A",
            "watch guardedendpoints.sagemaker-guardrails.dev -A",
            "create events -n default",
            "list secrets -A",
            "delete guardedendpoints.sagemaker-guardrails.dev -A",
            "create pods -n default",
        )
    }
    assert can == {
        "patch guardedendpoints.sagemaker-guardrails.dev/status -A": "yes",
        "watch guardedendpoints.sagemaker-guardrails.dev -A": "yes",
        "create events -n default": "yes",
        "list secrets -A": "no",
        "delete guardedendpoints.sagemaker-guardrails.dev -A": "no",
        "create pods -n default": "no",
    }
    with pytest.raises(KubectlError, match="forbidden"):
        as_operator.run("get", "secrets", "-A")


def test_the_charts_rules_suffice_for_a_full_reconcile(geps: Geps, operator: OperatorProcess) -> None:
    manifest = geps.manifest("all-at-once")
    name = manifest["metadata"]["name"]
    geps.create(manifest)
    ready = geps.wait_ready(name, 1, timeout=120)
    assert "sagemaker-guardrails.dev/finalizer" in ready["metadata"]["finalizers"]
    assert ("Normal", "DeploymentSucceeded") in geps.reasons(name)
    log = operator.log_path.read_text(errors="replace")
    assert " 403" not in log and "Forbidden" not in log and "forbidden" not in log
