"""Operator settings, read from ``SAGEMAKER_GUARDRAILS_*`` environment variables.

Nothing reads the environment at import time: the composition root (``__main__.py``) builds one
:class:`Settings`, applies the command-line overrides, and hands it to the handlers through kopf's
``memo``. The Helm chart sets the same variables.

Two defaults are worth explaining:

- ``default_region`` falls back to the standard AWS variables (``AWS_REGION``, then
  ``AWS_DEFAULT_REGION``), so an operator running with IRSA in a regional cluster needs no
  extra configuration; ``spec.region`` of a resource still wins. It applies when a resource is
  created: the resource records its Region in ``status.region`` and keeps it when the setting
  changes (``core/pinning.py``).
- The poll intervals encode the steady-state budget of the architecture (about 12
  DescribeEndpoint calls per endpoint per hour when settled, one every ~15 s while a deployment
  runs). SageMaker publishes no TPS figure for its control plane, so the per-region token bucket
  (``rate_limit_per_second``/``rate_limit_burst``) is what keeps a thousand resources from
  tripping account-wide throttling. Its default, 20 calls/s with a burst of 40, is sized for the
  restart of an operator with 1,000 resources: each is described once, 1,000 DescribeEndpoint in
  about 50 s, while settled they need 3.3/s. It is a guess, not a quota (none is published); if
  SageMaker throttles anyway, botocore's ``standard`` retries back off and the resource only slows
  down. Mutating calls take the bucket's write lane and are never queued behind polls.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "SAGEMAKER_GUARDRAILS_"


class Settings(BaseSettings):
    """Everything the operator can be told; every field has an env var ``SAGEMAKER_GUARDRAILS_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True, frozen=True
    )

    default_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices(
            "default_region", f"{ENV_PREFIX}DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"
        ),
        min_length=1,
        description="Region of resources without spec.region, when they are created (then status.region).",
    )
    cluster_id: str = Field(
        default="default", min_length=1, max_length=256, description="Goes into ownership tags."
    )

    active_poll_seconds: float = Field(default=15.0, gt=0, description="Poll interval while busy.")
    settled_poll_seconds: float = Field(default=300.0, gt=0, description="Poll interval when settled.")
    poll_jitter: float = Field(default=0.2, ge=0, lt=1, description="Relative jitter, 0.2 = +-20 %.")

    rate_limit_per_second: float = Field(default=20.0, gt=0, description="AWS calls per second per region.")
    rate_limit_burst: int = Field(default=40, ge=1, description="Token bucket size per region.")
    rate_limit_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a call waits for a token before it counts as throttled."
    )
    aws_max_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "botocore standard-mode attempts of a read (Describe*/List*); mutating calls are sent once."
        ),
    )

    watch_namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Namespaces to watch (comma-separated); empty = all."
    )

    metrics_port: int = Field(default=9090, ge=0, le=65535, description="Prometheus port; 0 disables.")
    health_port: int = Field(
        default=8080, ge=0, le=65535, description="Liveness port (/healthz); 0 disables."
    )
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    max_workers: int = Field(default=20, ge=1, description="Reconcile worker threads (and AWS pools).")

    leader_election: bool = Field(
        default=False, description="Elect one reconciling replica through a Lease (for several replicas)."
    )
    leader_election_namespace: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "leader_election_namespace", f"{ENV_PREFIX}LEADER_ELECTION_NAMESPACE", "POD_NAMESPACE"
        ),
        description="Namespace of the Lease; default: the pod's namespace (POD_NAMESPACE), else 'default'.",
    )
    leader_election_lease_name: str = Field(
        default="sagemaker-guardrails", min_length=1, description="Name of the Lease."
    )
    lease_duration_seconds: float = Field(default=15.0, gt=0, description="How long a Lease holds unrenewed.")
    lease_renew_deadline_seconds: float = Field(
        default=10.0, gt=0, description="A leader that cannot renew for this long stops."
    )
    lease_retry_period_seconds: float = Field(default=2.0, gt=0, description="How often the Lease is tried.")

    liveness_stall_factor: float = Field(
        default=4.0,
        gt=0,
        description="/healthz fails when no pass finished for this many active polls while keys are overdue.",
    )
    pass_timeout_seconds: float = Field(
        default=300.0, gt=0, description="/healthz fails when one pass runs longer than this."
    )
    error_backoff_base_seconds: float = Field(
        default=1.0, gt=0, description="First retry after a failed pass or write; doubles per failure."
    )
    error_backoff_max_seconds: float = Field(
        default=15.0, gt=0, description="Cap of the retry backoff (keep it at most the active poll)."
    )
    resync_seconds: float = Field(
        default=600.0, gt=0, description="How often every GuardedEndpoint is listed again (safety net)."
    )
    kube_request_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout of one Kubernetes API request."
    )

    guardrail_exclusions: Literal["warn", "refuse"] = Field(
        default="warn",
        description=(
            "What to do with a spec SageMaker excludes from deployment guardrails (Inf1, Marketplace, "
            "serverless): warn (condition GuardrailsNotApplied and a Warning Event) or refuse (Stalled, "
            "nothing deployed)."
        ),
    )
    guardrails_excluded_instance_prefixes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["ml.inf1."],
        description="Instance types SageMaker runs without guardrails (comma-separated prefixes).",
    )
    guardrails_excluded_image_prefixes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Container images of AWS Marketplace (comma-separated prefixes); empty = none known.",
    )

    orphan_sweep_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often the leader looks for SageMaker resources of deleted GuardedEndpoints; 0 = never.",
    )
    orphan_sweep_delete: bool = Field(
        default=False, description="Delete the orphans found (default: only report them)."
    )
    orphan_sweep_calls_per_second: float = Field(
        default=2.0,
        gt=0,
        description="The orphan sweep's AWS calls per second at most, besides the shared rate limit.",
    )
    orphan_min_age_seconds: float = Field(
        default=3600.0, ge=0, description="A SageMaker resource younger than this is never an orphan."
    )
    orphan_sweep_regions: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Regions swept besides default_region and every spec.region in use (comma-separated).",
    )

    @field_validator(
        "watch_namespaces",
        "guardrails_excluded_instance_prefixes",
        "guardrails_excluded_image_prefixes",
        "orphan_sweep_regions",
        mode="before",
    )
    @classmethod
    def _split_namespaces(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("leader_election_namespace", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value
