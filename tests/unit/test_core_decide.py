"""core.decide: given spec + observed SageMaker + status memory, the one next action and verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from tests import corekit
from tests.corekit import T0, at, endpoint, variant

from sagemaker_guardrails.core import naming, policy
from sagemaker_guardrails.core.conditions import Reason
from sagemaker_guardrails.core.decide import (
    Adopt,
    Collect,
    Decision,
    Issue,
    MarkRolledBack,
    Memory,
    Nothing,
    Prepare,
    Stall,
    SyncTags,
    Wait,
    decide,
)
from sagemaker_guardrails.core.observed import EndpointSnapshot, Observed
from sagemaker_guardrails.core.resolve import CREATE, UPDATE, Fate, iso

pytestmark = pytest.mark.unit

D = corekit.desired()
E = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:3"))
OLD_D = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:0"))
OLDER_D = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:-1"))
OLD, OLDER = OLD_D.config_name, OLDER_D.config_name
FOREIGN = "hand-made-config"
RETAGGED = corekit.desired(corekit.spec(tags={"team": "risk", "cost-center": "42"}))
UNTAGGED = corekit.desired(corekit.spec(tags={}))
OURS = dict(D.endpoint_tags)  # ownership tags and spec.tags, as CreateEndpoint sets them


def pending(
    target: Any = D,
    *,
    operation: str = UPDATE,
    issued: bool = False,
    token: str | None = None,
    source: str | None = None,
    policy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An intent to deploy ``target``; ``source`` is the config that served when it was called."""
    return {
        "operation": operation,
        "revision": target.revision,
        "configName": target.config_name,
        "recordedAt": iso(at(10)),
        "issuedAt": iso(at(11)) if issued else None,
        "retryToken": token,
        "fromConfig": source,
        "policy": policy,
    }


def seen(config: str | None = OLD, failure: str | None = None, status: str = "InService") -> dict[str, Any]:
    return {
        "name": "fraud-detector",
        "arn": "arn:x",
        "status": status,
        "configName": config,
        "failureReason": failure,
        "lastModified": iso(T0),
    }


def verified(config: str | None = D.config_name, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """A stored observation of the endpoint ``endpoint()`` builds, with its ownership verified."""
    snapshot = endpoint("InService", config)
    return {
        **seen(config),
        "arn": snapshot.arn,
        "creationTime": iso(snapshot.creation_time),
        "tagsCheckedAt": iso(at(0)),
        "tags": {"team": "fraud"} if tags is None else tags,
    }


def success(target: Any, finished: float = 0) -> dict[str, Any]:
    return {
        "revision": target.revision,
        "configName": target.config_name,
        "outcome": "Succeeded",
        "finishedAt": iso(at(finished)),
    }


def rollback(
    target: Any = D,
    *,
    token: str | None = None,
    reason: str = "alarm fraud-5xx",
    when: float = 100,
    tagged: bool = True,
) -> dict[str, Any]:
    """A ``lastRollback``; ``tagged``: already put on the config's tags by an earlier pass."""
    return {
        "revision": target.revision,
        "configName": target.config_name,
        "at": iso(at(when)),
        "reason": reason,
        "retryToken": token,
        "taggedAt": iso(at(when + 1)) if tagged else None,
    }


@dataclass
class Case:
    id: str
    endpoint: EndpointSnapshot | None
    action: Any
    reason: str
    status: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] | None = field(default_factory=lambda: dict(OURS))  # None: not read this pass
    desired: Any = D
    token: str | None = None
    fate: Fate | None = None
    rollback: bool = False


CASES = [
    Case("create-from-nothing", None, Prepare(CREATE), Reason.CREATING),
    Case(
        "create-intent-recorded",
        None,
        Issue(CREATE),
        Reason.CREATING,
        {"pending": pending(operation=CREATE)},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "create-intent-for-an-older-spec",
        None,
        Prepare(CREATE),
        Reason.CREATING,
        {"pending": pending(OLD_D, operation=CREATE)},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "creating",
        endpoint("Creating", D.config_name, target=D.config_name),
        Wait(),
        Reason.CREATING,
        {"pending": pending(operation=CREATE, issued=True)},
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "created",
        endpoint("InService", D.config_name),
        Nothing(),
        Reason.IN_SERVICE,
        {"pending": pending(operation=CREATE, issued=True), "ownedConfigs": [D.config_name]},
        fate=Fate.SUCCEEDED,
    ),
    Case("untagged-not-adopted", endpoint("InService", FOREIGN), Stall(), Reason.NOT_ADOPTED, tags={}),
    Case(
        "untagged-adopt",
        endpoint("InService", FOREIGN),
        Adopt(),
        Reason.ADOPTING,
        tags={},
        desired=corekit.desired(corekit.spec(adoptExisting=True)),
    ),
    Case(
        "owned-by-another-resource",
        endpoint("InService", FOREIGN),
        Stall(),
        Reason.OWNED_BY_OTHER,
        tags=naming.Owner("test-cluster", "ml", "payments").tags(),
    ),
    Case(
        "owned-by-another-cluster",
        endpoint("InService", D.config_name),
        Stall(),
        Reason.OWNED_BY_OTHER,
        tags=naming.Owner("other-cluster", "ml", "fraud").tags(),
    ),
    Case(
        "in-sync",
        endpoint("InService", D.config_name),
        Nothing(),
        Reason.IN_SERVICE,
        {"endpoint": seen(D.config_name), "history": [success(D)], "ownedConfigs": [D.config_name]},
    ),
    Case(
        "spec-changed",
        endpoint("InService", OLD),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "history": [success(OLD_D)]},
    ),
    Case(
        "update-intent-recorded",
        endpoint("InService", OLD),
        Issue(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(), "history": [success(OLD_D)]},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "intent-for-an-older-spec-is-replaced",
        endpoint("InService", OLD),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(E)},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "deploying",
        endpoint("Updating", OLD, target=D.config_name),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "baking",
        endpoint(
            "Updating",
            OLD,
            target=D.config_name,
            green=variant(current=1, statuses=(("Baking", None, at(60)),)),
            deployment=D.deployment_config,
        ),
        Wait(),
        Reason.BAKING,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "spec-changed-while-deploying-waits",
        endpoint("Updating", OLD, target=D.config_name),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        desired=E,
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "crash-after-update-call-resumes-tracking",
        endpoint("Updating", OLD, target=D.config_name),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending()},
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "status-lost-during-deployment-resumes-tracking",
        endpoint("Updating", OLD, target=D.config_name),
        Wait(),
        Reason.DEPLOYING,
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "system-updating-waits",
        endpoint("SystemUpdating", OLD),
        Wait(),
        Reason.BUSY,
        {"endpoint": seen(OLD), "history": [success(OLD_D)]},
    ),
    Case(
        "intent-waits-for-a-busy-endpoint",
        endpoint("SystemUpdating", OLD),
        Wait(),
        Reason.BUSY,
        {"endpoint": seen(OLD), "pending": pending()},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        # spec §13: right after UpdateEndpoint, Updating with no PendingDeploymentSummary yet
        "issued-update-without-a-summary-yet-is-in-flight",
        endpoint("Updating", OLD),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "unconfirmed-update-without-a-summary-yet-waits-as-deploying",
        endpoint("Updating", OLD),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending()},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "unconfirmed-create-on-an-updating-endpoint-is-busy",
        endpoint("Updating", OLD),
        Wait(),
        Reason.BUSY,
        {"endpoint": seen(OLD), "pending": pending(operation=CREATE)},
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "foreign-update-waits",
        endpoint("Updating", OLD, target=FOREIGN),
        Wait(),
        Reason.BUSY,
        {"endpoint": seen(OLD), "history": [success(OLD_D)]},
    ),
    Case(
        "succeeded",
        endpoint("InService", D.config_name, modified=at(99)),
        Nothing(),
        Reason.IN_SERVICE,
        {"endpoint": seen(OLD), "pending": pending(issued=True), "ownedConfigs": [D.config_name, OLD]},
        fate=Fate.SUCCEEDED,
    ),
    Case(
        "rolled-back",
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(99)),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD), "pending": pending(issued=True), "history": [success(OLD_D)]},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "rolled-back-found-after-a-crash",
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(99)),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD), "pending": pending()},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "rolled-back-stays-rolled-back",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD, "alarm fraud-5xx"), "lastRollback": rollback(), "history": [success(OLD_D)]},
    ),
    Case(
        "rolled-back-is-put-on-the-config-tags-by-the-next-pass",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        MarkRolledBack(D.config_name, ""),
        Reason.ROLLED_BACK,
        {
            "endpoint": seen(OLD, "alarm fraud-5xx"),
            "lastRollback": rollback(tagged=False),
            "history": [success(OLD_D)],
        },
    ),
    Case(
        "rolled-back-mark-carries-the-token-it-ran-under",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        MarkRolledBack(D.config_name, "2"),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD, "alarm fraud-5xx"), "lastRollback": rollback(token="2", tagged=False)},
        token="2",
    ),
    Case(
        "rolled-back-but-retried-is-not-marked",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD, "alarm fraud-5xx"), "lastRollback": rollback(tagged=False)},
        token="3",
    ),
    Case(
        "internal-error-rollback-is-not-marked",
        endpoint("InService", OLD, failure="Request to service failed. x"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "Request to service failed. x"),
            "lastRollback": rollback(reason="Request to service failed. x", tagged=False),
        },
    ),
    Case(
        "status-lost-after-a-rollback-deploys-until-the-tags-are-recalled",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
    ),
    Case(
        "recalled-rollback-stalls-without-another-mark",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Stall(),
        Reason.ROLLED_BACK,
        {"lastRollback": rollback(when=120, tagged=True)},
    ),
    Case(
        "rolled-back-retry-annotation-bumped",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD, "alarm fraud-5xx"), "lastRollback": rollback(), "history": [success(OLD_D)]},
        token="1",
    ),
    Case(
        "rolled-back-retried-once-stays-at-that-token",
        endpoint("InService", OLD, failure="alarm"),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD, "alarm"), "lastRollback": rollback(token="1")},
        token="1",
    ),
    Case(
        "rolled-back-spec-changed-again",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD, "alarm fraud-5xx"), "lastRollback": rollback(), "history": [success(OLD_D)]},
        desired=E,
    ),
    Case(
        "rolled-back-revision-allowed-after-another-success",
        endpoint("InService", E.config_name),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(E.config_name),
            "lastRollback": rollback(when=100),
            "history": [success(E, finished=200)],
        },
    ),
    Case(
        "rolled-back-other-revision-then-deploys-desired",
        endpoint("InService", OLD, failure="alarm", modified=at(99)),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD), "pending": pending(E, issued=True), "history": [success(OLD_D)]},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "internal-error-rollback-is-retried",
        endpoint("InService", OLD, failure="Request to service failed. x", modified=at(99)),
        Wait(),
        Reason.RETRYING,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "internal-error-rollback-next-pass",
        endpoint("InService", OLD, failure="Request to service failed. x"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "Request to service failed. x"),
            "lastRollback": rollback(reason="Request to service failed. x"),
        },
    ),
    Case(
        "failed",
        endpoint("Failed", D.config_name, failure="could not pull image"),
        Stall(),
        Reason.ENDPOINT_FAILED,
        {"pending": pending(operation=CREATE, issued=True)},
        fate=Fate.FAILED,
    ),
    Case(
        "update-rollback-failed",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed", modified=at(99)),
        Stall(),
        Reason.UPDATE_ROLLBACK_FAILED,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.FAILED,
        rollback=True,
    ),
    Case(
        "update-rollback-failed-is-marked-by-the-next-pass",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        MarkRolledBack(D.config_name, ""),
        Reason.UPDATE_ROLLBACK_FAILED,
        {"endpoint": seen(OLD, "rollback failed"), "lastRollback": rollback(tagged=False)},
    ),
    Case(
        "update-rollback-failed-retry-bumped",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(OLD, "rollback failed"), "lastRollback": rollback()},
        token="again",
    ),
    # A rollback without a FailureReason (health check, capacity: spec 13) is still a rollback.
    Case(
        "rolled-back-without-a-reason",
        endpoint("InService", OLD, modified=at(99)),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD, status="Updating"), "pending": pending(issued=True, source=OLD)},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "rolled-back-without-a-reason-record-without-source",
        endpoint("InService", OLD, modified=at(99)),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD), "pending": pending(issued=True)},
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    Case(
        "issued-update-not-visible-yet-waits",
        endpoint("InService", OLD, failure="alarm fraud-5xx (an earlier deployment)"),
        Wait(),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "alarm fraud-5xx (an earlier deployment)"),
            "pending": pending(issued=True, source=OLD),
        },
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "third-config-with-an-earlier-reason-is-not-a-rollback",
        endpoint("InService", FOREIGN, failure="alarm (an earlier deployment)", modified=at(99)),
        Prepare(UPDATE, drift=True),
        Reason.DRIFT,
        {
            "endpoint": seen(OLD, "alarm (an earlier deployment)", status="Updating"),
            "pending": pending(issued=True, source=OLD),
            "history": [success(OLD_D)],
        },
        fate=Fate.SUPERSEDED,
    ),
    # A retry annotation bumped while the deployment ran is no decision about its rollback.
    Case(
        "retry-bumped-during-the-deployment-does-not-retry-its-rollback",
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(99)),
        Stall(),
        Reason.ROLLED_BACK,
        {"endpoint": seen(OLD, status="Updating"), "pending": pending(issued=True, token="1", source=OLD)},
        token="2",
        fate=Fate.ROLLED_BACK,
        rollback=True,
    ),
    # UpdateRollbackFailed recovers with an UpdateEndpoint of the desired config (spec 4), also
    # when that is the config the endpoint reports.
    Case(
        "update-rollback-failed-spec-reverted-to-the-reported-config",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "rollback failed", status="UpdateRollbackFailed"),
            "lastRollback": rollback(),
            "history": [success(OLD_D)],
        },
        desired=OLD_D,
    ),
    Case(
        "update-rollback-failed-spec-reverted-and-retry-bumped",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "rollback failed", status="UpdateRollbackFailed"),
            "lastRollback": rollback(),
            "history": [success(OLD_D)],
        },
        desired=OLD_D,
        token="again",
    ),
    Case(
        "update-rollback-failed-recovery-recorded-is-issued",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        Issue(UPDATE),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "rollback failed", status="UpdateRollbackFailed"),
            "lastRollback": rollback(),
            "pending": pending(OLD_D, source=OLD),
            "history": [success(OLD_D)],
        },
        desired=OLD_D,
        fate=Fate.NOT_ISSUED,
    ),
    Case(
        "update-rollback-failed-recovery-issued-waits-for-sagemaker",
        endpoint("UpdateRollbackFailed", OLD, failure="rollback failed"),
        Wait(),
        Reason.DEPLOYING,
        {
            "endpoint": seen(OLD, "rollback failed", status="UpdateRollbackFailed"),
            "lastRollback": rollback(),
            "pending": pending(OLD_D, issued=True, source=OLD),
            "history": [success(OLD_D)],
        },
        desired=OLD_D,
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "drift-is-brought-back",
        endpoint("InService", FOREIGN),
        Prepare(UPDATE, drift=True),
        Reason.DRIFT,
        {"endpoint": seen(D.config_name), "history": [success(D)]},
    ),
    Case(
        "adopted-endpoint-is-deployed-without-drift",
        endpoint("InService", FOREIGN),
        Prepare(UPDATE),
        Reason.DEPLOYING,
        {"endpoint": seen(FOREIGN)},
    ),
    Case(
        "garbage-collect-keeps-current-and-previous",
        endpoint("InService", D.config_name),
        Collect((D.config_name, OLD), (D.revision, OLD_D.revision)),
        Reason.IN_SERVICE,
        {
            "endpoint": seen(D.config_name),
            "history": [success(D), success(OLD_D)],
            "ownedConfigs": [D.config_name, OLD, OLDER],
        },
    ),
    Case(
        "garbage-collect-right-after-success",
        endpoint("InService", D.config_name, modified=at(99)),
        Collect((D.config_name, OLD), (D.revision, OLD_D.revision)),
        Reason.IN_SERVICE,
        {
            "endpoint": seen(OLD),
            "pending": pending(issued=True),
            "history": [success(OLDER_D), success(OLD_D)],
            "ownedConfigs": [D.config_name, OLD, OLDER],
        },
        fate=Fate.SUCCEEDED,
    ),
    Case(
        "spec-tags-changed-are-set-on-the-endpoint",
        endpoint("InService", D.config_name),
        SyncTags(add={"team": "risk", "cost-center": "42"}),
        Reason.UPDATING_TAGS,
        {"endpoint": verified(), "history": [success(D)], "ownedConfigs": [D.config_name]},
        desired=RETAGGED,
    ),
    Case(
        "a-tag-removed-from-the-spec-is-deleted",
        endpoint("InService", D.config_name),
        SyncTags(remove=("team",)),
        Reason.UPDATING_TAGS,
        {"endpoint": verified(), "history": [success(D)], "ownedConfigs": [D.config_name]},
        tags={**OURS, "owner": "bob"},
        desired=UNTAGGED,
    ),
    Case(
        "tags-not-read-ownership-remembered",
        endpoint("InService", D.config_name),
        Nothing(),
        Reason.IN_SERVICE,
        {"endpoint": verified(), "history": [success(D)], "ownedConfigs": [D.config_name]},
        tags=None,
    ),
    Case(
        "tags-not-read-ownership-not-remembered-waits",
        endpoint("InService", D.config_name),
        Wait(),
        Reason.RETRYING,
        {"endpoint": seen(D.config_name), "history": [success(D)]},
        tags=None,
    ),
    Case(
        "tags-not-read-during-a-deployment",
        endpoint("Updating", OLD, target=D.config_name),
        Wait(),
        Reason.DEPLOYING,
        {"endpoint": verified(OLD), "pending": pending(issued=True)},
        tags=None,
        fate=Fate.IN_FLIGHT,
    ),
    Case(
        "tags-read-show-another-owner-despite-the-memory",
        endpoint("InService", D.config_name),
        Stall(),
        Reason.OWNED_BY_OTHER,
        {"endpoint": verified(), "history": [success(D)]},
        tags=naming.Owner("test-cluster", "ml", "payments").tags(),
    ),
    Case(
        "garbage-collection-comes-before-the-tag-sync",
        endpoint("InService", D.config_name),
        Collect((D.config_name, OLD), (D.revision, OLD_D.revision)),
        Reason.IN_SERVICE,
        {
            "endpoint": verified(),
            "history": [success(D), success(OLD_D)],
            "ownedConfigs": [D.config_name, OLD, OLDER],
        },
        desired=RETAGGED,
    ),
    Case(
        "a-rolled-back-endpoint-gets-no-tag-sync",
        endpoint("InService", OLD, failure="alarm fraud-5xx"),
        Stall(),
        Reason.ROLLED_BACK,
        {
            "endpoint": verified(OLD) | {"failureReason": "alarm fraud-5xx"},
            "lastRollback": rollback(),
            "history": [success(OLD_D)],
        },
        desired=RETAGGED,
    ),
    Case(
        "endpoint-name-is-immutable",
        endpoint("InService", D.config_name, name="renamed"),
        Stall(),
        Reason.INVALID_SPEC,
        {"endpoint": {**seen(D.config_name), "name": "renamed"}},
    ),
    Case(
        "an-endpoint-name-that-differs-only-in-case-is-owned-by-another",
        endpoint("InService", D.config_name, name="Fraud-Detector"),
        Stall(),
        Reason.OWNED_BY_OTHER,
        {"endpoint": {**seen(D.config_name), "name": "Fraud-Detector"}},
        tags=naming.Owner("test-cluster", "ml-other", "fraud").tags(),
    ),
    Case(
        "the-region-differs-from-the-recorded-one",
        None,
        Stall(),
        Reason.INVALID_SPEC,
        {"region": "eu-west-1", "ownedConfigs": [D.config_name]},
    ),
    Case(
        "an-old-status-is-pinned-to-the-region-of-its-endpoint",
        None,
        Stall(),
        Reason.INVALID_SPEC,
        {
            "endpoint": {
                **seen(D.config_name),
                "arn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-detector",
            }
        },
    ),
]


def run(case: Case) -> Decision:
    memory = Memory(status=corekit.status(**case.status), retry_token=case.token)
    return decide(case.desired, Observed(case.endpoint, case.tags), memory, at(120))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case) -> None:
    decision = run(case)
    assert decision.action == case.action
    assert decision.verdict.reason == case.reason
    assert (decision.resolution.fate if decision.resolution else None) is case.fate
    assert (decision.rollback is not None) is case.rollback


def test_a_rollback_is_recorded_with_the_token_it_ran_under() -> None:
    case = next(c for c in CASES if c.id == "rolled-back")
    memory = Memory(
        status=corekit.status(**{**case.status, "pending": pending(issued=True, token="7")}), retry_token="7"
    )
    decision = decide(D, Observed(case.endpoint, OURS), memory, at(120))
    assert decision.rollback is not None
    assert (decision.rollback.revision, decision.rollback.config_name) == (D.revision, D.config_name)
    assert (decision.rollback.retry_token, decision.rollback.reason) == ("7", "alarm fraud-5xx")
    assert "sagemaker-guardrails.dev/retry" in decision.verdict.message


def test_messages_say_what_to_do() -> None:
    by_id = {c.id: run(c).verdict.message for c in CASES}
    assert "adoptExisting: true" in by_id["untagged-not-adopted"]
    assert "ml/payments" in by_id["owned-by-another-resource"]
    assert "delete-endpoint" in by_id["failed"]
    assert "sagemaker-guardrails.dev/retry" in by_id["update-rollback-failed"]
    assert "waits until this deployment ends" in by_id["spec-changed-while-deploying-waits"]
    assert FOREIGN in by_id["drift-is-brought-back"]
    assert "Baking" in by_id["baking"]
    assert "team=risk" in by_id["spec-tags-changed-are-set-on-the-endpoint"]
    assert "removing team" in by_id["a-tag-removed-from-the-spec-is-deleted"]
    window = by_id["unconfirmed-update-without-a-summary-yet-waits-as-deploying"]
    assert "not issued again" in window and "will be deployed then" not in window


def test_a_tag_sync_keeps_the_endpoint_ready() -> None:
    decision = run(next(c for c in CASES if c.id == "spec-tags-changed-are-set-on-the-endpoint"))
    assert (decision.verdict.state, decision.verdict.ready) == ("progressing", True)


def test_progress_is_reported_for_a_deployment_in_flight() -> None:
    decision = run(next(c for c in CASES if c.id == "baking"))
    assert decision.progress is not None
    assert (decision.progress.stage, decision.progress.step, decision.progress.steps) == ("Baking", 1, 2)
    assert decision.progress.bake_ends_at == at(120)


def test_a_rollback_keeps_the_retry_token_of_when_it_was_recorded() -> None:
    """The intent ran under "1"; the annotation became "2" during the bake: the rollback blocks "2"."""
    case = next(c for c in CASES if c.id == "retry-bumped-during-the-deployment-does-not-retry-its-rollback")
    decision = run(case)
    assert decision.rollback is not None and decision.rollback.retry_token == "2"
    later = corekit.status(endpoint=seen(OLD, "alarm fraud-5xx"), lastRollback=rollback(token="2"))
    after = decide(
        D, Observed(endpoint("InService", OLD, failure="alarm fraud-5xx"), OURS), Memory(later, "2"), at(200)
    )
    assert (after.action, after.verdict.reason) == (Stall(), Reason.ROLLED_BACK)
    retried = decide(
        D, Observed(endpoint("InService", OLD, failure="alarm fraud-5xx"), OURS), Memory(later, "3"), at(200)
    )
    assert retried.action == Prepare(UPDATE)


def test_the_update_rollback_failed_message_names_the_recovery_that_works() -> None:
    stalled = run(next(c for c in CASES if c.id == "update-rollback-failed"))
    assert "change the spec" in stalled.verdict.message and "retry" in stalled.verdict.message
    recovering = run(
        next(c for c in CASES if c.id == "update-rollback-failed-spec-reverted-to-the-reported-config")
    )
    assert "UpdateRollbackFailed" in recovering.verdict.message


CANARY_BAKING = variant(current=1, statuses=(("Baking", None, at(60)),))
LINEAR = corekit.desired(corekit.spec(strategy="Linear"))  # 25 % steps of 4 instances: 4 steps


@pytest.mark.parametrize(
    ("reported", "recorded", "steps", "bake_ends"),
    [
        pytest.param(D.deployment_config, None, 2, at(120), id="last-deployment-config"),
        pytest.param(D.deployment_config, "linear", 2, at(120), id="sagemaker-over-the-record"),
        pytest.param(None, "canary", 2, at(120), id="recorded-with-the-intent"),
        pytest.param(None, None, 1, None, id="neither-sagemakers-default"),
    ],
)
def test_progress_follows_the_policy_sagemaker_runs_not_the_edited_spec(
    reported: dict[str, Any] | None, recorded: str | None, steps: int, bake_ends: Any
) -> None:
    """spec.deployment was edited from canary to linear during the canary's bake: still step 1/2."""
    assert LINEAR.config_name == D.config_name, "the policy is not part of the revision"
    policies = {"canary": policy.of_spec(D.spec.deployment), "linear": policy.of_spec(LINEAR.spec.deployment)}
    record = policies[recorded].record().model_dump(by_alias=True) if recorded else None
    snapshot = endpoint("Updating", OLD, target=D.config_name, green=CANARY_BAKING, deployment=reported)
    memory = Memory(
        corekit.status(endpoint=seen(OLD), pending=pending(issued=True, source=OLD, policy=record))
    )
    decision = decide(LINEAR, Observed(snapshot, OURS), memory, at(120))
    assert decision.progress is not None
    assert (decision.progress.step, decision.progress.steps) == (1, steps)
    if bake_ends is not None:
        assert decision.progress.bake_ends_at == bake_ends  # the canary's W (60 s) after 60 s
