"""The observed state of a GuardedEndpoint (``status``).

Status follows the kstatus convention (``Ready``/``Reconciling``/``Stalled`` conditions and an
integer ``observedGeneration``) so ``kubectl wait``, Flux and Argo CD understand it without
plugins. ``phase`` is derived from the conditions for people and printer columns; the operator
never uses it as control flow. ``pending`` is the operator's write-ahead record of a mutating
SageMaker call: it is persisted *before* the call, so a crash between the call and the next status
write can never cause the same deployment to be issued twice.

Every string, list and map of the status is bounded, so that the status always fits next to the
largest spec the CRD accepts (see ``OBJECT_BUDGET_BYTES`` in ``base.py``). What the operator
derives itself (names, hashes, timestamps, fixed words) is bounded by construction and only
checked; free text it copies from SageMaker or from errors is cut to fit (:data:`Text`), both when
the status is read and when it is written, so a long message can never make a status write fail.
A retry annotation value longer than ``RETRY_TOKEN_MAX`` is kept as its digest
(:func:`stored_retry_token`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

HISTORY_LIMIT = 10
CONDITIONS_MAX = 4
OWNED_CONFIGS_MAX = 50
# SageMaker allows 50 tags per resource, so the operator can never have applied more.
APPLIED_TAGS_MAX = 50
WORD_MAX = 64
TIME_MAX = 64
NAME_MAX = 63
ARN_MAX = 2048
# SageMaker's FailureReason and VariantStatusMessage are at most 1024 characters.
REASON_MAX = 1024
MESSAGE_MAX = 2048
RETRY_TOKEN_MAX = 256
CUT_MARK = " [...]"
DIGEST_PREFIX = "sha256:"


def _cut(limit: int) -> Callable[[Any], Any]:
    def cut(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - len(CUT_MARK)] + CUT_MARK
        return value

    return cut


def _first(limit: int) -> Callable[[Any], Any]:
    """The first ``limit`` items of a list or map (anything else is left to validation)."""

    def first(value: Any) -> Any:
        if isinstance(value, list) and len(value) > limit:
            return value[:limit]
        if isinstance(value, dict) and len(value) > limit:
            return dict(list(value.items())[:limit])
        return value

    return first


def stored_retry_token(value: str | None) -> str | None:
    """The retry annotation's ``value`` as the status keeps it: itself, or a digest when long.

    An annotation value may be up to 256 KiB; a status holds the token twice (``pending`` and
    ``lastRollback``), so longer values are stored, and compared (``core.actions.Memory``), as
    ``sha256:<hex>``. A new value still gives a new digest, which is all a retry needs.
    """
    if value is None or len(value) <= RETRY_TOKEN_MAX:
        return value
    return DIGEST_PREFIX + hashlib.sha256(value.encode()).hexdigest()


# A word from a fixed vocabulary, or a revision hash: bounded by construction.
Word = Annotated[str, StringConstraints(max_length=WORD_MAX)]
Timestamp = Annotated[str, StringConstraints(max_length=TIME_MAX)]
# A SageMaker endpoint or endpoint config name.
Name = Annotated[str, StringConstraints(max_length=NAME_MAX)]
Arn = Annotated[str, StringConstraints(max_length=ARN_MAX)]
# Free text, cut to fit when read and when written.
ReasonText = Annotated[
    str,
    StringConstraints(max_length=REASON_MAX),
    BeforeValidator(_cut(REASON_MAX)),
    PlainSerializer(_cut(REASON_MAX)),
]
MessageText = Annotated[
    str,
    StringConstraints(max_length=MESSAGE_MAX),
    BeforeValidator(_cut(MESSAGE_MAX)),
    PlainSerializer(_cut(MESSAGE_MAX)),
]
RetryToken = Annotated[
    str,
    StringConstraints(max_length=RETRY_TOKEN_MAX),
    BeforeValidator(stored_retry_token),
    PlainSerializer(stored_retry_token),
]


class StatusModel(BaseModel):
    """Base of every status model: camelCase in YAML, tolerant of fields from newer versions."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Phase(StrEnum):
    PENDING = "Pending"
    CREATING = "Creating"
    DEPLOYING = "Deploying"
    BAKING = "Baking"
    IN_SERVICE = "InService"
    ROLLED_BACK = "RolledBack"
    WAITING = "Waiting"
    FAILED = "Failed"
    STALLED = "Stalled"
    DELETING = "Deleting"


class Condition(StatusModel):
    """A kstatus condition."""

    type: Word = Field(description="Ready, Reconciling or Stalled.")
    status: Word = Field(description="True, False or Unknown.")
    reason: Word = Field(default="", description="CamelCase reason, one of a fixed set.")
    message: MessageText = Field(default="", description="Human-readable detail (longer text is cut).")
    observed_generation: int | None = Field(default=None, description="Generation this describes.")
    last_transition_time: Timestamp | None = Field(
        default=None, description="When status last changed (RFC 3339)."
    )


class EndpointInfo(StatusModel):
    """What SageMaker reports for the endpoint, and what the operator remembers about its tags.

    Remembering that it verified the ownership tags of this endpoint (ARN plus creation time) lets
    the operator skip ``ListTags`` on most polls (see ``core/tagging.py``).
    """

    name: Name | None = Field(default=None, description="SageMaker endpoint name.")
    arn: Arn | None = Field(default=None, description="Endpoint ARN.")
    status: Word | None = Field(default=None, description="SageMaker EndpointStatus.")
    config_name: Name | None = Field(default=None, description="Endpoint config currently serving.")
    failure_reason: ReasonText | None = Field(
        default=None, description="SageMaker FailureReason, if any (longer text is cut)."
    )
    last_modified: Timestamp | None = Field(default=None, description="SageMaker LastModifiedTime.")
    creation_time: Timestamp | None = Field(
        default=None,
        description="SageMaker CreationTime; with the ARN it tells an endpoint re-created under the same name apart.",
    )
    tags_checked_at: Timestamp | None = Field(
        default=None,
        description=(
            "When ListTags last showed this resource's ownership tags on this endpoint (same ARN and "
            "creation time); until the endpoint changes or the periodic re-check, ownership is not read again."
        ),
    )
    tags: (
        Annotated[
            dict[
                Annotated[str, StringConstraints(max_length=128)],
                Annotated[str, StringConstraints(max_length=256)],
            ],
            Field(max_length=APPLIED_TAGS_MAX),
            BeforeValidator(_first(APPLIED_TAGS_MAX)),
            PlainSerializer(_first(APPLIED_TAGS_MAX)),
        ]
        | None
    ) = Field(
        default=None,
        description="User tags (spec.tags) the operator has applied to the endpoint; others are left alone.",
    )


class RevisionInfo(StatusModel):
    """Revisions are content hashes of everything that changes SageMaker resources."""

    desired: Word | None = Field(default=None, description="Revision of the current spec.")
    current: Word | None = Field(default=None, description="Revision SageMaker serves.")
    desired_config: Name | None = Field(
        default=None, description="Endpoint config name of the desired revision."
    )


class PolicyRecord(StatusModel):
    """The traffic-shifting policy an UpdateEndpoint was sent with: what shapes its timeline."""

    strategy: Word = Field(description="AllAtOnce, Canary, Linear or Rolling.")
    step_type: Word | None = Field(
        default=None, description="CapacityPercent or InstanceCount of the canary, linear step or batch."
    )
    step_value: int | None = Field(default=None, description="Size of the canary, linear step or batch.")
    wait_seconds: int = Field(default=0, description="Bake after each intermediate step (seconds).")
    final_wait_seconds: int = Field(default=0, description="Final bake (seconds).")


class PendingCall(StatusModel):
    """Write-ahead record of a mutating SageMaker call (see module docstring)."""

    operation: Word = Field(description="CreateEndpoint, UpdateEndpoint or DeleteEndpoint.")
    revision: Word | None = Field(default=None, description="Revision the call deploys.")
    config_name: Name | None = Field(default=None, description="Endpoint config the call deploys.")
    recorded_at: Timestamp = Field(description="When the intent was recorded (RFC 3339).")
    issued_at: Timestamp | None = Field(default=None, description="When the call was accepted by SageMaker.")
    retry_token: RetryToken | None = Field(
        default=None, description="Value of the retry annotation at the time (a sha256 digest when long)."
    )
    from_config: Name | None = Field(
        default=None,
        description=(
            "Endpoint config that served when the call was made: an update that ends InService there "
            "was rolled back, with or without a FailureReason."
        ),
    )
    policy: PolicyRecord | None = Field(
        default=None,
        description="Traffic-shifting policy the update was sent with (when SageMaker reports none).",
    )


class DeploymentProgress(StatusModel):
    """Progress of the deployment in flight, derived from VariantStatus and the policy's timeline."""

    revision: Word | None = Field(default=None, description="Revision being deployed.")
    config_name: Name | None = Field(default=None, description="Target endpoint config.")
    strategy: Word | None = Field(default=None, description="AllAtOnce, Canary, Linear or Rolling.")
    stage: Word | None = Field(
        default=None, description="Provisioning, ActivatingTraffic, Baking, Terminating or Creating."
    )
    step: int | None = Field(default=None, description="Current traffic step (1-based).")
    steps: int | None = Field(default=None, description="Number of traffic steps.")
    traffic_percent: int | None = Field(
        default=None,
        description="Estimated share of traffic on the new fleet (SageMaker does not expose it).",
    )
    started_at: Timestamp | None = Field(default=None, description="When the deployment started.")
    bake_ends_at: Timestamp | None = Field(default=None, description="When the current bake ends.")
    message: ReasonText | None = Field(
        default=None, description="SageMaker's VariantStatus message (longer text is cut)."
    )


class ObserveError(StatusModel):
    """Why the last passes could not look at SageMaker; the conditions keep the last verdict meanwhile."""

    reason: Word = Field(description="Throttled, Retrying or Error.")
    message: MessageText = Field(default="", description="What failed (longer text is cut).")
    since: Timestamp | None = Field(default=None, description="First pass of this run of failures.")


class RollbackRecord(StatusModel):
    """The last deployment SageMaker rolled back."""

    revision: Word | None = Field(default=None, description="Revision that was rolled back.")
    config_name: Name | None = Field(default=None, description="Endpoint config that was rolled back.")
    at: Timestamp | None = Field(default=None, description="When the rollback was observed.")
    reason: ReasonText | None = Field(
        default=None, description="SageMaker FailureReason (longer text is cut)."
    )
    retry_token: RetryToken | None = Field(
        default=None,
        description=(
            "Retry annotation value when it rolled back (a sha256 digest when long); a new value retries."
        ),
    )
    tagged_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the rollback was known to be recorded on the endpoint config's tags "
            "(sagemaker-guardrails.dev/rolled-back), where it survives a lost status."
        ),
    )


class HistoryEntry(StatusModel):
    """One finished deployment."""

    revision: Word | None = Field(default=None, description="Revision deployed.")
    config_name: Name | None = Field(default=None, description="Endpoint config deployed.")
    strategy: Word | None = Field(default=None, description="Traffic-shifting mode used.")
    started_at: Timestamp | None = Field(default=None, description="Start time.")
    finished_at: Timestamp | None = Field(default=None, description="End time.")
    outcome: Word | None = Field(default=None, description="Succeeded, RolledBack or Failed.")
    reason: ReasonText | None = Field(
        default=None, description="FailureReason for unsuccessful outcomes (longer text is cut)."
    )


class GuardedEndpointStatus(StatusModel):
    """Status of a GuardedEndpoint."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    phase: Phase | None = Field(default=None, description="Summary for people; derived from conditions.")
    strategy: Word | None = Field(default=None, description="Traffic-shifting mode of the spec.")
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=CONDITIONS_MAX,
        description="Ready, Reconciling, Stalled (one entry per type).",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    region: Word | None = Field(
        default=None,
        description=(
            "AWS Region of this resource's SageMaker resources, recorded when the operator first "
            "created or found them there; a resource without spec.region stays in it."
        ),
    )
    endpoint: EndpointInfo | None = Field(default=None, description="The SageMaker endpoint.")
    revision: RevisionInfo | None = Field(default=None, description="Desired and served revisions.")
    pending: PendingCall | None = Field(default=None, description="Write-ahead record of a SageMaker call.")
    deployment: DeploymentProgress | None = Field(default=None, description="Deployment in flight.")
    last_rollback: RollbackRecord | None = Field(default=None, description="Last automatic rollback.")
    observe_error: ObserveError | None = Field(
        default=None,
        description=(
            "Set while passes cannot observe SageMaker (throttling, 5xx, network); the conditions and "
            "phase keep the last verdict until a pass observes again."
        ),
    )
    history: list[HistoryEntry] = Field(
        default_factory=list, max_length=HISTORY_LIMIT, description="Recent deployments, newest first."
    )
    owned_configs: Annotated[
        list[Name],
        Field(max_length=OWNED_CONFIGS_MAX),
        BeforeValidator(_first(OWNED_CONFIGS_MAX)),
        PlainSerializer(_first(OWNED_CONFIGS_MAX)),
    ] = Field(
        default_factory=list,
        description=(
            "Endpoint configs the operator created and has not deleted yet, newest first (at most 50: "
            "garbage collection finds the older ones by their tags)."
        ),
    )
