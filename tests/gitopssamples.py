"""GuardedEndpoints in every state the operator's own code can put them in, for the GitOps tests.

The statuses are made by :mod:`sagemaker_guardrails.core`: the conditions and phase of every
verdict the operator can reach (every condition reason, and every error mapped by
:func:`~sagemaker_guardrails.core.report.verdict_of_error`), dumped in camelCase the way the
operator writes them. Each sample says what kstatus, Flux and Argo CD must make of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.core.conditions import Reason, Verdict, conditions, phase
from sagemaker_guardrails.core.report import verdict_of_error
from sagemaker_guardrails.errors import (
    AccessDenied,
    Busy,
    InvalidRequest,
    InvalidSpec,
    NotFound,
    OperatorError,
    Retryable,
    Throttled,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GENERATION = 3
ALL_REASONS = sorted(v for k, v in vars(Reason).items() if k.isupper())
# What each judge says for each state: kstatus (and Flux's fork and Flux's CEL), and Argo CD.
KSTATUS = {"ready": "Current", "progressing": "InProgress", "stalled": "Failed"}
ARGOCD = {"ready": "Healthy", "progressing": "Progressing", "stalled": "Degraded"}


@dataclass(frozen=True)
class Sample:
    label: str
    obj: dict[str, Any]
    kstatus: str
    argocd: str
    argocd_message: str
    retry_enabled: bool = False


def resource(status: dict[str, Any] | None, generation: int = GENERATION, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sagemaker-guardrails.dev/v1alpha1",
        "kind": "GuardedEndpoint",
        "metadata": {
            "name": "fraud-detector",
            "namespace": "ml-prod",
            "generation": generation,
            "annotations": {"team": "fraud"},
            **metadata,
        },
        "spec": {"endpointName": "fraud-detector"},
    }
    if status is not None:
        obj["status"] = status
    return obj


def status_of(
    verdict: Verdict, previous: Verdict | None = None, generation: int = GENERATION
) -> dict[str, Any]:
    """The status the operator writes for ``verdict`` (after ``previous``, if given)."""
    before = conditions(previous, [], generation, NOW) if previous is not None else []
    made = conditions(verdict, before, generation, NOW)
    status = GuardedEndpointStatus(observed_generation=generation, conditions=made, phase=phase(made))
    dumped: dict[str, Any] = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


def _verdict_sample(label: str, verdict: Verdict, previous: Verdict | None = None) -> Sample:
    retry = verdict.state == "stalled" and verdict.reason == Reason.ROLLED_BACK
    message = f"{verdict.reason}: {verdict.message}" if verdict.message else verdict.reason
    return Sample(
        label,
        resource(status_of(verdict, previous)),
        KSTATUS[verdict.state],
        ARGOCD[verdict.state],
        message,
        retry,
    )


def _errors() -> list[BaseException]:
    return [
        Throttled("Rate exceeded", operation="DescribeEndpoint"),
        Retryable("InternalFailure", operation="UpdateEndpoint"),
        Busy("Cannot update in-progress endpoint", operation="UpdateEndpoint"),
        NotFound("Could not find endpoint config", operation="UpdateEndpoint"),
        AccessDenied("not authorized", operation="UpdateEndpoint"),
        InvalidSpec("spec.models[0].image: not an ECR image"),
        InvalidRequest("ValidationException: bad instance type", operation="CreateEndpointConfig"),
        OperatorError("the endpoint belongs to another cluster"),
        RuntimeError("boom"),
    ]


def samples() -> list[Sample]:
    out = [_verdict_sample("in-service", Verdict.in_service("Endpoint fraud-detector is InService."))]
    for reason in ALL_REASONS:
        out.append(_verdict_sample(f"progressing-{reason}", Verdict.progressing(reason, "step 1 of 2, 25 %")))
        out.append(_verdict_sample(f"stalled-{reason}", Verdict.stalled(reason, "needs a person")))
    in_service = Verdict.in_service("InService")
    for reason in (Reason.DRIFT, Reason.UPDATING_TAGS, Reason.DEPLOYING):
        verdict = Verdict.progressing(reason, "while serving", ready=True)
        out.append(_verdict_sample(f"ready-and-{reason}", verdict, previous=in_service))
    for error in _errors():
        verdict = verdict_of_error(error, ready=None)
        out.append(_verdict_sample(f"error-{type(error).__name__}", verdict, previous=in_service))
    rolled_back = "SageMaker rolled back revision 7b1e0d44: alarm fraud-5xx in ALARM during Baking"
    out.append(
        _verdict_sample("rolled-back", Verdict.stalled(Reason.ROLLED_BACK, rolled_back), previous=in_service)
    )
    behind = status_of(in_service, generation=GENERATION - 1)
    out.append(
        Sample(
            "spec-change-not-observed",
            resource(behind),
            "InProgress",
            "Progressing",
            f"Waiting for the operator to observe generation {GENERATION}",
        )
    )
    # What the API server serves before the operator's first write: the CRD's status default.
    out.append(
        Sample(
            "new-defaulted-status",
            resource({"observedGeneration": 0}, generation=1),
            "InProgress",
            "Progressing",
            "Waiting for the operator to observe generation 1",
        )
    )
    return out


def no_status() -> dict[str, Any]:
    """A resource as a CRD without the status default serves it before the operator's first write."""
    return resource(None, generation=1)
