"""Every knob of the emulator, including one setting per open question of the behaviour spec.

SageMaker leaves parts of deployment guardrails undocumented (spec section 12). Rather than hard-code a
guess, each guess is a setting whose default is the spec's "most plausible" reading, so a test or a user
can switch to the other reading and see whether their code still holds up. Durations are in *simulated*
seconds; ``speed`` says how many simulated seconds pass per real second.

Settings are read explicitly (``EmulatorSettings(...)``, ``from_env()``, command-line flags), never at
import time. A running emulator can be reconfigured through the admin API (``PATCH /_emulator/settings``).
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "SAGEMAKER_GUARDRAILS_EMULATOR_"

AlarmState = Literal["ALARM", "INSUFFICIENT_DATA", "OK"]


def _only_alarm() -> list[AlarmState]:
    return ["ALARM"]


BakeReading = Literal["termination-wait", "wait-interval-then-termination-wait"]


class EmulatorSettings(BaseModel):
    """Configuration of one emulator instance (see docs/emulator.md for the full table)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- server -------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(4566, ge=0, le=65535, description="Port to listen on; 0 picks a free port.")
    region: str = Field(
        "us-east-1", description="Region assumed when a request carries no SigV4 credential scope."
    )
    account_id: str = Field(
        "123456789012", pattern=r"^\d{12}$", description="Account id used in ARNs and for CloudWatch (moto)."
    )

    # --- clock and durations (simulated seconds) ------------------------------------------------------
    speed: float = Field(1.0, gt=0, description="Simulated seconds per real second.")
    provisioning_base_seconds: float = Field(
        120.0, ge=0, description="Fixed part of provisioning a fleet (launch, image pull, health check)."
    )
    provisioning_seconds_per_instance: float = Field(
        30.0, ge=0, description="Added to provisioning per instance launched."
    )
    activation_seconds: float = Field(30.0, ge=0, description="Length of one traffic-activation step.")
    termination_seconds: float = Field(60.0, ge=0, description="Time to terminate the old (blue) fleet.")
    rollback_seconds: float = Field(
        60.0, ge=0, description="Blue/green rollback: traffic back to blue and green torn down."
    )
    deletion_seconds: float = Field(30.0, ge=0, description="Time an endpoint stays Deleting.")
    update_summary_delay_seconds: float = Field(
        3.0,
        ge=0,
        description="After UpdateEndpoint the endpoint is Updating with no PendingDeploymentSummary and no "
        "VariantStatus for this long; the deployment's StartTime is the end of it (spec 13).",
    )
    config_read_delay_seconds: float = Field(
        0.0,
        ge=0,
        description="Eventual consistency (spec 8): a config younger than this is not yet visible to "
        "CreateEndpoint/UpdateEndpoint.",
    )

    # --- alarms (spec 4, 6; Q3, Q4, Q10, Q16) ---------------------------------------------------------
    alarm_poll_seconds: float = Field(
        30.0, gt=0, description="How often SageMaker reads the rollback alarms while monitoring (Q16)."
    )
    alarm_trip_states: list[AlarmState] = Field(
        default_factory=_only_alarm, description="Alarm states that trip a rollback (Q4)."
    )
    alarm_monitoring: Literal["bakes", "deployment"] = Field(
        "bakes",
        description="Watch alarms during bake phases only, or during the whole deployment (Q3).",
    )
    missing_alarm: Literal["rollback", "ignore", "reject"] = Field(
        "rollback",
        description="An alarm that DescribeAlarms does not return: roll back at the first check, ignore "
        "it, or reject UpdateEndpoint up front (Q10).",
    )
    new_alarm_state: Literal["INSUFFICIENT_DATA", "OK"] = Field(
        "INSUFFICIENT_DATA",
        description="State of a newly created alarm (CloudWatch: INSUFFICIENT_DATA; moto alone says OK).",
    )

    # --- open questions of the timeline (Q1, Q2, Q5, Q6, Q11-Q13) -------------------------------------
    final_bake: BakeReading = Field(
        "termination-wait",
        description="Canary/linear final bake after the 100 % shift: T only, or W then T (Q1).",
    )
    all_at_once_bake: BakeReading = Field(
        "termination-wait", description="ALL_AT_ONCE bake after the shift: T only, or W then T (Q1)."
    )
    default_execution_timeout_seconds: float | None = Field(
        None, description="Timeout when MaximumExecutionTimeoutInSeconds is omitted; none = no timeout (Q2)."
    )
    timeout_action: Literal["rollback", "fail"] = Field(
        "rollback", description="What a timed-out deployment does: roll back, or end Failed (Q2)."
    )
    rollback_status: Literal["Updating", "RollingBack"] = Field(
        "Updating", description="EndpointStatus shown while a guardrail rollback runs (Q5)."
    )
    canary_traffic: Literal["added", "replaced"] = Field(
        "added",
        description="Canary traffic share: C/(C+N) with blue fully active, or C/N (Q6). Only affects "
        "the traffic estimate in the timeline.",
    )
    capacity_rounding: Literal["floor", "ceil", "round"] = Field(
        "floor", description="CAPACITY_PERCENT to instances, with a minimum of 1 (Q11)."
    )
    single_instance: Literal["reject", "all-at-once"] = Field(
        "reject",
        description="A step size that cannot satisfy the percentage rules (e.g. canary on 1 instance): "
        "reject, or fall back to blue/green all-at-once (Q11).",
    )
    updating_config_name: Literal["old", "new"] = Field(
        "old", description="Top-level EndpointConfigName while Updating (Q12)."
    )
    pending_instance_count: Literal["traffic", "provisioned"] = Field(
        "traffic",
        description="Pending CurrentInstanceCount during bakes: green instances taking traffic, or all "
        "provisioned green instances (Q13).",
    )

    # --- validation and exclusions (spec 1.4, 5; Q8, Q14) ---------------------------------------------
    reject_retain_with_deployment_config: bool = Field(
        True, description="UpdateEndpoint with DeploymentConfig and RetainDeploymentConfig=true (Q14)."
    )
    reject_same_config: bool = Field(
        True, description="UpdateEndpoint to the config the endpoint already runs (Q14)."
    )
    serverless_blue_green: Literal["fallback", "reject"] = Field(
        "fallback",
        description="Blue/green DeploymentConfig on a serverless endpoint: fall back to plain "
        "all-at-once, or reject (Q8).",
    )
    excluded_instance_prefixes: list[str] = Field(
        default_factory=lambda: ["ml.inf1."],
        description="Instance types without guardrails; updates fall back to all-at-once (spec 5).",
    )
    marketplace_fallback: bool = Field(
        True,
        description="Models from Marketplace model packages get the all-at-once fallback (spec 5).",
    )

    # --- failure reasons (Q7) -------------------------------------------------------------------------
    alarm_failure_reason: str = Field(
        "One or more configured alarm for automatic rollback deployment is in ALARM state: [{alarms}].",
        description="FailureReason after an alarm rollback (spec 13); {alarms} = the tripped alarm names, "
        "joined by ', '.",
    )
    alarm_failure_alarms: Literal["all", "first"] = Field(
        "all",
        description="Which tripped alarms the alarm FailureReason names when several are in ALARM: all of "
        "them, in the configured order, or only the first (recordings show one alarm only).",
    )
    missing_alarm_failure_reason: str = Field(
        "Deployment rolled back: alarm(s) {alarms} could not be found",
        description="FailureReason when a rollback alarm does not exist (missing_alarm=rollback).",
    )
    rollback_failure_reason: Literal["text", "empty"] = Field(
        "text",
        description="FailureReason a rollback leaves: its text, or none of its own (an earlier rollback's "
        "reason stays), as reported after health-check or capacity rollbacks (spec 13).",
    )
    timeout_failure_reason: str = Field(
        "Deployment {outcome}: the deployment did not finish within MaximumExecutionTimeoutInSeconds "
        "({timeout} seconds)",
        description="FailureReason after an execution timeout; {timeout} = seconds, {outcome} = rolled back "
        "or failed.",
    )

    # --- bookkeeping ----------------------------------------------------------------------------------
    call_log_limit: int = Field(20000, ge=1, description="Calls kept in the call log (oldest dropped).")

    def updated(self, changes: Mapping[str, Any]) -> EmulatorSettings:
        """A validated copy with ``changes`` applied (unknown names are rejected)."""
        return EmulatorSettings.model_validate({**self.model_dump(), **changes})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EmulatorSettings:
        """Settings from ``SAGEMAKER_GUARDRAILS_EMULATOR_<NAME>`` variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        raw = {
            name: env[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in env
        }
        values = {name: parse_setting(name, text) for name, text in raw.items()}
        return cls.model_validate({**values, **overrides})


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


def _allows_none(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin in (Union, types.UnionType) and type(None) in get_args(annotation)


def parse_setting(name: str, text: str) -> Any:
    """Turn the text of a flag or environment variable into a value pydantic can validate."""
    annotation = EmulatorSettings.model_fields[name].annotation
    stripped = text.strip()
    if _allows_none(annotation) and stripped.lower() in ("", "none", "null"):
        return None
    if _is_list(annotation):
        return [item.strip() for item in stripped.split(",") if item.strip()]
    return stripped


def setting_type_name(name: str) -> str:
    """A short human name of a setting's type, for ``--help`` and the docs."""
    annotation = EmulatorSettings.model_fields[name].annotation
    if _is_list(annotation):
        return "list"
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return "|".join(str(a) for a in get_args(annotation))
    if args:
        return getattr(args[0], "__name__", str(args[0]))
    return getattr(annotation, "__name__", str(annotation))
