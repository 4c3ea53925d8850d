"""core.report: the complete next status, Events only on transitions, metric transitions."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit
from tests.corekit import T0, at, endpoint, variant

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.decide import Memory, decide
from sagemaker_guardrails.core.observed import EndpointSnapshot, Observed
from sagemaker_guardrails.core.report import Report, Transition, build, unobserved
from sagemaker_guardrails.core.resolve import CREATE, UPDATE, iso
from sagemaker_guardrails.errors import (
    AccessDenied,
    Busy,
    InvalidRequest,
    InvalidSpec,
    NotFound,
    Retryable,
    Throttled,
)

pytestmark = pytest.mark.unit

D = corekit.desired()
OLD_D = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:0"))
OLD = OLD_D.config_name
OURS = dict(D.endpoint_tags)  # ownership tags and spec.tags, as CreateEndpoint sets them


def run(
    prev: GuardedEndpointStatus,
    snapshot: EndpointSnapshot | None,
    *,
    now: float = 120,
    error: Exception | None = None,
    token: str | None = None,
    tags: dict[str, str] | None = None,
    desired: Any = D,
    read: bool = True,
) -> Report:
    memory = Memory(status=prev, retry_token=token)
    observed = Observed(snapshot, (OURS if tags is None else tags) if read else None)
    decision = decide(desired, observed, memory, at(now))
    return build(
        memory=memory,
        desired=desired,
        observed=observed,
        decision=decision,
        error=error,
        generation=3,
        now=at(now),
    )


def cond(report: Report, kind: str) -> tuple[str, str]:
    c = next(c for c in report.status.conditions if c.type == kind)
    return c.status, c.reason


def reasons(report: Report) -> list[str]:
    return [e.reason for e in report.events]


IN_SERVICE_OLD = corekit.status(
    endpoint={
        "name": "fraud-detector",
        "arn": "arn:x",
        "status": "InService",
        "configName": OLD,
        "lastModified": iso(T0),
    },
    history=[{"revision": OLD_D.revision, "configName": OLD, "outcome": "Succeeded", "finishedAt": iso(T0)}],
    ownedConfigs=[OLD],
)


def test_create_records_the_intent_then_issues_it_then_tracks_it() -> None:
    first = run(GuardedEndpointStatus(), None, now=0, token="t")
    assert first.status.pending is not None
    assert (first.status.pending.operation, first.status.pending.config_name) == (CREATE, D.config_name)
    assert (first.status.pending.issued_at, first.status.pending.retry_token) == (None, "t")
    assert first.status.owned_configs == [D.config_name]
    assert (first.events, first.transitions) == ((), ())
    assert cond(first, "Reconciling") == ("True", "Creating")
    assert first.status.phase == "Creating"

    second = run(first.status, None, now=1)
    assert second.status.pending is not None and second.status.pending.issued_at == iso(at(1))
    assert second.status.deployment is not None and second.status.deployment.stage == "Creating"
    assert reasons(second) == ["DeploymentStarted"]
    assert second.transitions == (Transition("DeploymentStarted", "Canary"),)

    third = run(second.status, endpoint("Creating", D.config_name, target=D.config_name), now=20)
    assert (third.events, third.transitions) == ((), ())
    assert third.status.phase == "Creating"

    done = run(third.status, endpoint("InService", D.config_name, modified=at(300)), now=301)
    assert done.status.pending is None and done.status.deployment is None
    assert reasons(done) == ["DeploymentSucceeded"]
    assert done.transitions == (Transition("DeploymentFinished", "Canary", "Succeeded", 300.0),)
    assert done.status.history[0].outcome == "Succeeded"
    assert cond(done, "Ready") == ("True", "InService")
    assert done.status.phase == "InService"
    assert done.status.revision is not None
    assert (done.status.revision.desired, done.status.revision.current) == (D.revision, D.revision)
    assert done.status.observed_generation == 3


@pytest.mark.parametrize(
    ("error", "keeps_intent", "reason", "stalled"),
    [
        (Busy("Cannot update in-progress endpoint", operation="UpdateEndpoint"), True, "Busy", False),
        (Throttled("Rate exceeded", operation="UpdateEndpoint"), True, "Throttled", False),
        (
            NotFound("Could not find endpoint configuration", operation="UpdateEndpoint"),
            False,
            "Retrying",
            False,
        ),
        (InvalidRequest("canary too large", operation="UpdateEndpoint"), False, "InvalidRequest", True),
    ],
)
def test_a_failed_issue_leaves_the_intent_unissued_or_drops_it(
    error: Exception, keeps_intent: bool, reason: str, stalled: bool
) -> None:
    recorded = run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0)
    assert recorded.status.pending is not None and recorded.status.pending.operation == UPDATE
    failed = run(recorded.status, endpoint("InService", OLD), now=1, error=error)
    assert (failed.status.pending is not None) is keeps_intent
    if failed.status.pending is not None:
        assert failed.status.pending.issued_at is None
    assert cond(failed, "Stalled")[0] == ("True" if stalled else "False")
    assert reason in (cond(failed, "Reconciling")[1], cond(failed, "Stalled")[1])
    assert failed.transitions == ()


def test_progress_events_only_when_the_stage_or_step_changes() -> None:
    issued = run(
        run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0).status, endpoint("InService", OLD), now=1
    )
    assert reasons(issued) == ["DeploymentStarted"]
    provisioning = run(issued.status, endpoint("Updating", OLD, target=D.config_name), now=15)
    assert reasons(provisioning) == []
    bake = variant(current=1, statuses=(("Baking", None, at(20)),))
    baking = run(provisioning.status, endpoint("Updating", OLD, target=D.config_name, green=bake), now=30)
    assert reasons(baking) == ["TrafficStep", "Baking"]
    assert baking.status.deployment is not None
    assert (baking.status.deployment.step, baking.status.deployment.traffic_percent) == (1, 25)
    assert baking.status.deployment.bake_ends_at == iso(at(80))
    assert baking.status.phase == "Baking"
    again = run(baking.status, endpoint("Updating", OLD, target=D.config_name, green=bake), now=45)
    assert reasons(again) == []
    full = variant(current=4, statuses=(("Baking", None, at(90)),))
    final = run(again.status, endpoint("Updating", OLD, target=D.config_name, green=full), now=95)
    assert reasons(final) == ["TrafficStep", "Baking"]


def test_a_rollback_in_progress_is_announced_before_it_ends() -> None:
    issued = run(
        run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0).status, endpoint("InService", OLD), now=1
    )
    torn_down = variant(current=4, statuses=(("Deleting", "Terminating 4 instance(s).", at(50)),))
    report = run(issued.status, endpoint("Updating", OLD, target=D.config_name, green=torn_down), now=55)
    assert [(e.type, e.reason) for e in report.events] == [("Warning", "RollingBack")]
    assert report.events[0].message == "SageMaker is rolling the deployment back: Terminating 4 instance(s)."
    assert cond(report, "Reconciling") == ("True", "RollingBack")
    assert report.status.deployment is not None and report.status.deployment.traffic_percent == 0


def test_a_crash_after_the_call_is_resumed_as_a_started_deployment() -> None:
    recorded = run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0)
    resumed = run(recorded.status, endpoint("Updating", OLD, target=D.config_name, modified=at(2)), now=30)
    assert resumed.status.pending is not None and resumed.status.pending.issued_at == iso(at(30))
    assert reasons(resumed) == ["DeploymentStarted"]
    assert resumed.transitions == (Transition("DeploymentStarted", "Canary"),)


def rolled_back(failure: str = "alarm fraud-5xx") -> Report:
    issued = run(
        run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0, token="1").status,
        endpoint("InService", OLD),
        now=1,
        token="1",
    )
    return run(
        issued.status,
        endpoint("InService", OLD, failure=failure, modified=at(200)),
        now=201,
        token="1",
    )


def test_a_rollback_is_recorded_once_with_a_warning_and_a_metric() -> None:
    report = rolled_back()
    assert report.status.last_rollback is not None
    assert (report.status.last_rollback.revision, report.status.last_rollback.retry_token) == (
        D.revision,
        "1",
    )
    assert report.status.last_rollback.reason == "alarm fraud-5xx"
    assert [(e.type, e.reason) for e in report.events] == [("Warning", "RolledBack")]
    assert report.transitions == (Transition("DeploymentFinished", "Canary", "RolledBack", 200.0),)
    assert report.events[0].message.endswith(": alarm fraud-5xx. The endpoint serves config " + OLD + ".")
    assert report.status.history[0].outcome == "RolledBack"
    assert report.status.pending is None
    assert report.status.phase == "RolledBack"
    assert cond(report, "Stalled") == ("True", "RolledBack")
    assert cond(report, "Ready") == ("False", "RolledBack")
    later = run(
        report.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=500,
        token="1",
    )
    assert (later.events, later.transitions) == ((), ())
    assert later.status.pending is None
    assert later.status.history == report.status.history


def test_messages_quoted_from_sagemaker_end_their_sentence_once() -> None:
    """SageMaker's FailureReason and VariantStatus messages often end in a period already."""
    report = rolled_back(failure="Alarm fraud-5xx went into ALARM state.")
    assert report.status.last_rollback is not None
    assert report.status.last_rollback.reason == "Alarm fraud-5xx went into ALARM state."
    assert report.events[0].message.endswith(
        ": Alarm fraud-5xx went into ALARM state. The endpoint serves config " + OLD + "."
    )
    issued = run(
        run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0).status, endpoint("InService", OLD), now=1
    )
    for message, quoted in [("Terminating 4 instance(s).", "Terminating 4 instance(s)"), (None, "no detail")]:
        torn_down = variant(current=4, statuses=(("Deleting", message, at(50)),))
        rolling = run(issued.status, endpoint("Updating", OLD, target=D.config_name, green=torn_down), now=55)
        assert [e.message for e in rolling.events] == [f"SageMaker is rolling the deployment back: {quoted}."]


def test_history_is_bounded_and_newest_first() -> None:
    entries = [
        {"revision": f"{i:08x}", "configName": f"c{i}", "outcome": "Succeeded", "finishedAt": iso(at(i))}
        for i in range(10)
    ]
    prev = corekit.status(**{**IN_SERVICE_OLD.model_dump(by_alias=True), "history": entries})
    issued = run(run(prev, endpoint("InService", OLD), now=0).status, endpoint("InService", OLD), now=1)
    done = run(issued.status, endpoint("InService", D.config_name, modified=at(60)), now=61)
    assert len(done.status.history) == 10
    assert done.status.history[0].revision == D.revision
    assert done.status.history[1].revision == "00000000"


def test_stall_events_fire_on_entering_the_stall_only() -> None:
    other = naming.Owner("test-cluster", "ml", "payments").tags()
    first = run(GuardedEndpointStatus(), endpoint("InService", "x"), tags=other)
    assert [(e.type, e.reason) for e in first.events] == [("Warning", "OwnedByOther")]
    second = run(first.status, endpoint("InService", "x"), tags=other)
    assert second.events == ()


def test_adoption_and_drift_are_announced() -> None:
    adopt_spec = corekit.desired(corekit.spec(adoptExisting=True))
    adopted = run(GuardedEndpointStatus(), endpoint("InService", "legacy"), tags={}, desired=adopt_spec)
    assert reasons(adopted) == ["Adopted"]
    synced = corekit.status(
        endpoint={
            "name": "fraud-detector",
            "arn": "arn:x",
            "configName": D.config_name,
            "lastModified": iso(T0),
        },
        history=[
            {
                "revision": D.revision,
                "configName": D.config_name,
                "outcome": "Succeeded",
                "finishedAt": iso(T0),
            }
        ],
    )
    drifted = run(synced, endpoint("InService", "hand-made"))
    assert [(e.type, e.reason) for e in drifted.events] == [("Warning", "Drift")]
    assert cond(drifted, "Reconciling") == ("True", "Drift")


def test_garbage_collection_trims_owned_configs() -> None:
    prev = corekit.status(
        endpoint={
            "name": "fraud-detector",
            "arn": "arn:x",
            "configName": D.config_name,
            "lastModified": iso(T0),
        },
        history=[
            {
                "revision": D.revision,
                "configName": D.config_name,
                "outcome": "Succeeded",
                "finishedAt": iso(T0),
            },
            {"revision": OLD_D.revision, "configName": OLD, "outcome": "Succeeded", "finishedAt": iso(T0)},
        ],
        ownedConfigs=[D.config_name, OLD, "fraud-detector-0000aaaa"],
    )
    report = run(prev, endpoint("InService", D.config_name))
    assert report.status.owned_configs == [D.config_name, OLD]
    failed = run(prev, endpoint("InService", D.config_name), error=Throttled("slow", operation="ListTags"))
    assert failed.status.owned_configs == prev.owned_configs
    assert cond(failed, "Ready") == ("True", "InService")


def test_unobserved_pass_keeps_the_last_verdict() -> None:
    synced = run(IN_SERVICE_OLD, endpoint("InService", OLD)).status
    synced_ready = corekit.status(
        **{
            **synced.model_dump(by_alias=True),
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "InService", "message": "ok"},
                {"type": "Reconciling", "status": "False"},
                {"type": "Stalled", "status": "False"},
            ],
            "phase": "InService",
            "observedGeneration": 3,
        }
    )
    report = unobserved(
        memory=Memory(synced_ready),
        desired=OLD_D,
        error=Throttled("Rate exceeded", operation="DescribeEndpoint"),
        generation=4,
        now=at(9),
    )
    assert report.status.conditions == synced_ready.conditions
    assert report.status.phase == "InService"
    assert report.status.pending == synced.pending
    assert report.status.endpoint == synced.endpoint
    # A spec change it could not act on yet: observedGeneration stays behind (kstatus: InProgress).
    assert report.status.observed_generation == 3
    assert report.status.observe_error is not None
    assert (report.status.observe_error.reason, report.status.observe_error.since) == (
        "Throttled",
        iso(at(9)),
    )
    assert "DescribeEndpoint" in report.status.observe_error.message
    assert report.verdict.reason == "Throttled"
    assert report.events == ()


def test_unobserved_first_pass_says_what_failed() -> None:
    report = unobserved(
        memory=Memory(GuardedEndpointStatus()),
        desired=D,
        error=Throttled("Rate exceeded", operation="DescribeEndpoint"),
        generation=1,
        now=at(0),
    )
    assert cond(report, "Reconciling") == ("True", "Throttled")
    assert cond(report, "Stalled") == ("False", "")


def throttled(prev: GuardedEndpointStatus, now: float, error: Exception | None = None) -> Report:
    return unobserved(
        memory=Memory(prev, "1"),
        desired=D,
        error=error or Throttled("Rate exceeded", operation="DescribeEndpoint"),
        generation=3,
        now=at(now),
    )


def test_a_pass_that_cannot_observe_does_not_flap_a_rollback() -> None:
    """Rolled back; throttled passes; observed again: Stalled never drops, one Warning in all."""
    detected = rolled_back()
    marked = run(
        detected.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=202,
        token="1",
    )
    first = throttled(marked.status, 300)
    second = throttled(first.status, 310, Retryable("connection reset", operation="DescribeEndpoint"))
    third = throttled(second.status, 320, Retryable("connection reset", operation="DescribeEndpoint"))
    for report in (first, second, third):
        assert report.status.conditions == marked.status.conditions
        assert report.status.phase == "RolledBack"
        assert report.events == ()
    assert first.status.observe_error is not None and first.status.observe_error.since == iso(at(300))
    assert third.status.observe_error is not None and third.status.observe_error.since == iso(at(310))
    seen_again = run(
        third.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=330,
        token="1",
    )
    assert cond(seen_again, "Stalled") == ("True", "RolledBack")
    assert seen_again.status.conditions == marked.status.conditions
    assert seen_again.events == ()
    assert seen_again.status.observe_error is None
    warnings = [
        e
        for r in (detected, marked, first, second, third, seen_again)
        for e in r.events
        if e.type == "Warning"
    ]
    assert [w.reason for w in warnings] == ["RolledBack"]


def test_a_throttled_mark_keeps_the_rollback_stalled() -> None:
    detected = rolled_back()
    failed = run(
        detected.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=202,
        token="1",
        error=Throttled("Rate exceeded", operation="AddTags"),
    )
    assert cond(failed, "Stalled") == ("True", "RolledBack")
    assert failed.status.phase == "RolledBack"
    assert failed.events == ()
    assert failed.status.last_rollback is not None and failed.status.last_rollback.tagged_at is None


def test_access_denied_on_observing_is_still_stalled() -> None:
    report = throttled(rolled_back().status, 300, AccessDenied("not allowed", operation="DescribeEndpoint"))
    assert cond(report, "Stalled") == ("True", "AccessDenied")
    assert report.status.observe_error is None


def test_an_unobserved_pass_after_a_spec_change_is_not_ready_for_it() -> None:
    """A kept Ready stamped with the new generation would end ``kubectl wait`` before any deployment."""
    served = corekit.status(
        revision={"desired": OLD_D.revision, "current": OLD_D.revision},
        observedGeneration=3,
        conditions=[
            {
                "type": "Ready",
                "status": "True",
                "reason": "InService",
                "message": "ok",
                "observedGeneration": 3,
            }
        ],
    )
    report = unobserved(
        memory=Memory(served),
        desired=D,
        error=Throttled("Rate exceeded", operation="DescribeEndpoint"),
        generation=4,
        now=at(9),
    )
    assert cond(report, "Ready") == ("False", "Throttled")
    assert cond(report, "Reconciling") == ("True", "Throttled")
    assert report.status.observed_generation == 4
    assert report.status.phase != "InService"


def test_invalid_spec_is_stalled_with_the_field_named() -> None:
    error = InvalidSpec("spec.variants[0].instanceType: bad", field="spec.variants[0].instanceType")
    report = unobserved(
        memory=Memory(GuardedEndpointStatus()), desired=None, error=error, generation=2, now=at(0)
    )
    assert cond(report, "Stalled") == ("True", "InvalidSpec")
    stalled = next(c for c in report.status.conditions if c.type == "Stalled")
    assert "instanceType" in stalled.message
    assert [(e.type, e.reason) for e in report.events] == [("Warning", "InvalidSpec")]
    assert report.status.phase == "Stalled"


def test_status_dumps_to_camel_case_json() -> None:
    dumped = rolled_back().status.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert {"observedGeneration", "lastRollback", "conditions", "history", "phase", "revision"} <= set(dumped)
    assert dumped["lastRollback"]["retryToken"] == "1"


def test_a_rejected_request_is_retried_without_flapping_the_stall() -> None:
    recorded = run(IN_SERVICE_OLD, endpoint("InService", OLD), now=0)
    rejected = InvalidRequest("ResourceLimitExceeded: instance quota", operation="UpdateEndpoint")
    first = run(recorded.status, endpoint("InService", OLD), now=1, error=rejected)
    assert cond(first, "Stalled") == ("True", "InvalidRequest")
    assert [(e.type, e.reason) for e in first.events] == [("Warning", "InvalidRequest")]
    assert first.status.pending is None
    again = run(first.status, endpoint("InService", OLD), now=300)
    assert again.status.pending is not None, "the retry records its intent"
    assert cond(again, "Stalled") == ("True", "InvalidRequest")
    refused = run(again.status, endpoint("InService", OLD), now=301, error=rejected)
    assert (again.events, refused.events) == ((), ())
    accepted = run(refused.status, endpoint("InService", OLD), now=600)
    through = run(accepted.status, endpoint("InService", OLD), now=601)
    assert cond(through, "Stalled") == ("False", "")
    assert cond(through, "Reconciling") == ("True", "Deploying")
    assert reasons(through) == ["DeploymentStarted"]


RETAGGED = corekit.desired(corekit.spec(tags={"team": "risk"}))


def in_sync() -> Report:
    """A pass that finds the endpoint InService on the desired config with spec.tags on it."""
    first = run(GuardedEndpointStatus(), endpoint("InService", D.config_name), now=0)
    assert first.status.endpoint is not None
    assert (first.status.endpoint.tags_checked_at, first.status.endpoint.tags) == (
        iso(at(0)),
        {"team": "fraud"},
    )
    assert first.status.endpoint.creation_time == iso(T0)
    return first


def test_a_pass_that_does_not_read_the_tags_keeps_the_verification_and_says_nothing() -> None:
    first = in_sync()
    later = run(first.status, endpoint("InService", D.config_name), now=300, read=False)
    assert later.status.endpoint == first.status.endpoint
    assert (later.events, cond(later, "Ready")) == ((), ("True", "InService"))


def test_a_tag_sync_is_announced_keeps_ready_and_is_remembered() -> None:
    first = in_sync()
    synced = run(first.status, endpoint("InService", D.config_name), now=60, desired=RETAGGED)
    assert [(e.type, e.reason) for e in synced.events] == [("Normal", "TagsUpdated")]
    assert "team=risk" in synced.events[0].message
    assert cond(synced, "Ready") == ("True", "InService")
    assert cond(synced, "Reconciling") == ("True", "UpdatingTags")
    assert synced.status.phase == "InService"
    assert synced.status.endpoint is not None
    assert (synced.status.endpoint.tags_checked_at, synced.status.endpoint.tags) == (
        iso(at(60)),
        {"team": "risk"},
    )
    confirmed = run(synced.status, endpoint("InService", D.config_name), now=61, desired=RETAGGED, read=False)
    assert (confirmed.events, cond(confirmed, "Reconciling")) == ((), ("False", ""))


def test_a_failed_tag_sync_changes_no_memory() -> None:
    first = in_sync()
    denied = AccessDenied("not authorized to perform sagemaker:AddTags", operation="AddTags")
    failed = run(first.status, endpoint("InService", D.config_name), now=60, desired=RETAGGED, error=denied)
    assert failed.status.endpoint is not None and failed.status.endpoint.tags == {"team": "fraud"}
    assert cond(failed, "Stalled") == ("True", "AccessDenied")
    assert "sagemaker:AddTags" in next(c.message for c in failed.status.conditions if c.type == "Stalled")
    assert reasons(failed) == ["AccessDenied"]


def test_a_recorded_rollback_is_put_on_the_config_tags_once() -> None:
    report = rolled_back()
    assert report.status.last_rollback is not None and report.status.last_rollback.tagged_at is None
    failed = run(
        report.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=500,
        token="1",
        error=AccessDenied("not allowed", operation="AddTags"),
    )
    assert failed.status.last_rollback is not None and failed.status.last_rollback.tagged_at is None
    marked = run(
        report.status,
        endpoint("InService", OLD, failure="alarm fraud-5xx", modified=at(200)),
        now=500,
        token="1",
    )
    assert marked.status.last_rollback is not None
    assert marked.status.last_rollback.tagged_at == iso(at(500))
    assert marked.status.last_rollback.model_dump(exclude={"tagged_at"}) == (
        report.status.last_rollback.model_dump(exclude={"tagged_at"})
    )
    assert cond(marked, "Stalled") == ("True", "RolledBack")
    assert marked.events == ()


def test_the_region_is_recorded_when_the_first_resources_are_created() -> None:
    first = run(GuardedEndpointStatus(), None, now=0)
    assert first.status.region == "us-east-1"
    stalled = run(corekit.status(region="eu-west-1"), None, now=1)
    assert stalled.status.region == "eu-west-1"
    assert cond(stalled, "Stalled") == ("True", "InvalidSpec")


def test_an_old_status_is_pinned_to_the_region_of_its_endpoint() -> None:
    assert IN_SERVICE_OLD.endpoint is not None
    eu_arn = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-detector"
    old = IN_SERVICE_OLD.model_copy(
        update={"endpoint": IN_SERVICE_OLD.endpoint.model_copy(update={"arn": eu_arn})}
    )
    assert old.region is None
    report = run(old, None)
    assert report.status.region == "eu-west-1"
    assert cond(report, "Stalled") == ("True", "InvalidSpec")
    assert "spec.region" in report.verdict.message


def test_an_endpoint_of_another_owner_is_not_recorded_as_this_resources() -> None:
    other = naming.Owner("test-cluster", "ml-other", "fraud").tags()
    report = run(GuardedEndpointStatus(), endpoint("InService", OLD, name="Fraud-Detector"), tags=other)
    assert cond(report, "Stalled") == ("True", "OwnedByOther")
    assert report.status.endpoint is None
    assert report.status.region is None
    again = run(report.status, endpoint("InService", OLD, name="Fraud-Detector"), tags=other)
    assert cond(again, "Stalled") == ("True", "OwnedByOther")
    assert again.events == ()
