"""The observed state of a GuardedEndpoint (``status``).

Status follows the kstatus convention (``Ready``/``Reconciling``/``Stalled`` conditions and an
integer ``observedGeneration``) so ``kubectl wait``, Flux and Argo CD understand it without
plugins. ``phase`` is derived from the conditions for people and printer columns; the operator
never uses it as control flow. ``pending`` is the operator's write-ahead record of a mutating
SageMaker call: it is persisted *before* the call, so a crash between the call and the next status
write can never cause the same deployment to be issued twice.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

HISTORY_LIMIT = 10


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

    type: str = Field(description="Ready, Reconciling or Stalled.")
    status: str = Field(description="True, False or Unknown.")
    reason: str = Field(default="", description="CamelCase reason, one of a fixed set.")
    message: str = Field(default="", description="Human-readable detail.")
    observed_generation: int | None = Field(default=None, description="Generation this describes.")
    last_transition_time: str | None = Field(default=None, description="When status last changed (RFC 3339).")


class EndpointInfo(StatusModel):
    """What SageMaker reports for the endpoint, and what the operator remembers about its tags.

    Remembering that it verified the ownership tags of this endpoint (ARN plus creation time) lets
    the operator skip ``ListTags`` on most polls (see ``core/tagging.py``).
    """

    name: str | None = Field(default=None, description="SageMaker endpoint name.")
    arn: str | None = Field(default=None, description="Endpoint ARN.")
    status: str | None = Field(default=None, description="SageMaker EndpointStatus.")
    config_name: str | None = Field(default=None, description="Endpoint config currently serving.")
    failure_reason: str | None = Field(default=None, description="SageMaker FailureReason, if any.")
    last_modified: str | None = Field(default=None, description="SageMaker LastModifiedTime.")
    creation_time: str | None = Field(
        default=None,
        description="SageMaker CreationTime; with the ARN it tells an endpoint re-created under the same name apart.",
    )
    tags_checked_at: str | None = Field(
        default=None,
        description=(
            "When ListTags last showed this resource's ownership tags on this endpoint (same ARN and "
            "creation time); until the endpoint changes or the periodic re-check, ownership is not read again."
        ),
    )
    tags: dict[str, str] | None = Field(
        default=None,
        description="User tags (spec.tags) the operator has applied to the endpoint; others are left alone.",
    )


class RevisionInfo(StatusModel):
    """Revisions are content hashes of everything that changes SageMaker resources."""

    desired: str | None = Field(default=None, description="Revision of the current spec.")
    current: str | None = Field(default=None, description="Revision SageMaker serves.")
    desired_config: str | None = Field(
        default=None, description="Endpoint config name of the desired revision."
    )


class PendingCall(StatusModel):
    """Write-ahead record of a mutating SageMaker call (see module docstring)."""

    operation: str = Field(description="CreateEndpoint, UpdateEndpoint or DeleteEndpoint.")
    revision: str | None = Field(default=None, description="Revision the call deploys.")
    config_name: str | None = Field(default=None, description="Endpoint config the call deploys.")
    recorded_at: str = Field(description="When the intent was recorded (RFC 3339).")
    issued_at: str | None = Field(default=None, description="When the call was accepted by SageMaker.")
    retry_token: str | None = Field(default=None, description="Value of the retry annotation at the time.")


class DeploymentProgress(StatusModel):
    """Progress of the deployment in flight, derived from VariantStatus and the policy's timeline."""

    revision: str | None = Field(default=None, description="Revision being deployed.")
    config_name: str | None = Field(default=None, description="Target endpoint config.")
    strategy: str | None = Field(default=None, description="AllAtOnce, Canary, Linear or Rolling.")
    stage: str | None = Field(
        default=None, description="Provisioning, ActivatingTraffic, Baking, Terminating or Creating."
    )
    step: int | None = Field(default=None, description="Current traffic step (1-based).")
    steps: int | None = Field(default=None, description="Number of traffic steps.")
    traffic_percent: int | None = Field(
        default=None,
        description="Estimated share of traffic on the new fleet (SageMaker does not expose it).",
    )
    started_at: str | None = Field(default=None, description="When the deployment started.")
    bake_ends_at: str | None = Field(default=None, description="When the current bake ends.")
    message: str | None = Field(default=None, description="SageMaker's VariantStatus message.")


class RollbackRecord(StatusModel):
    """The last deployment SageMaker rolled back."""

    revision: str | None = Field(default=None, description="Revision that was rolled back.")
    config_name: str | None = Field(default=None, description="Endpoint config that was rolled back.")
    at: str | None = Field(default=None, description="When the rollback was observed.")
    reason: str | None = Field(default=None, description="SageMaker FailureReason.")
    retry_token: str | None = Field(
        default=None, description="Retry annotation value when it rolled back; a new value retries."
    )
    tagged_at: str | None = Field(
        default=None,
        description=(
            "When the rollback was known to be recorded on the endpoint config's tags "
            "(sagemaker-guardrails.dev/rolled-back), where it survives a lost status."
        ),
    )


class HistoryEntry(StatusModel):
    """One finished deployment."""

    revision: str | None = Field(default=None, description="Revision deployed.")
    config_name: str | None = Field(default=None, description="Endpoint config deployed.")
    strategy: str | None = Field(default=None, description="Traffic-shifting mode used.")
    started_at: str | None = Field(default=None, description="Start time.")
    finished_at: str | None = Field(default=None, description="End time.")
    outcome: str | None = Field(default=None, description="Succeeded, RolledBack or Failed.")
    reason: str | None = Field(default=None, description="FailureReason for unsuccessful outcomes.")


class GuardedEndpointStatus(StatusModel):
    """Status of a GuardedEndpoint."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    phase: Phase | None = Field(default=None, description="Summary for people; derived from conditions.")
    strategy: str | None = Field(default=None, description="Traffic-shifting mode of the spec.")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Reconciling, Stalled (one entry per type).",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    endpoint: EndpointInfo | None = Field(default=None, description="The SageMaker endpoint.")
    revision: RevisionInfo | None = Field(default=None, description="Desired and served revisions.")
    pending: PendingCall | None = Field(default=None, description="Write-ahead record of a SageMaker call.")
    deployment: DeploymentProgress | None = Field(default=None, description="Deployment in flight.")
    last_rollback: RollbackRecord | None = Field(default=None, description="Last automatic rollback.")
    history: list[HistoryEntry] = Field(
        default_factory=list, max_length=HISTORY_LIMIT, description="Recent deployments, newest first."
    )
    owned_configs: list[str] = Field(
        default_factory=list, description="Endpoint configs the operator created and has not deleted yet."
    )
