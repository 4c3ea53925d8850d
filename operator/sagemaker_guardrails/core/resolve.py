"""What became of the operator's last mutating call: the write-ahead record, checked against SageMaker.

Why a write-ahead record
------------------------
``UpdateEndpoint`` starts a deployment that can take hours and that SageMaker may roll back.
Issuing it twice for the same revision would deploy a rolled-back revision again, which is
the one thing this operator promises never to do. The operator can crash (or lose its status
write) at any instant, so "did I already call it?" must be answerable from durable state plus
what SageMaker shows. The protocol:

1. **Record** (pass *n*): the models and the config exist; the pass writes
   ``status.pending = {operation, revision, configName, recordedAt, retryToken}`` and nothing
   else happens. The same status write stores the endpoint's ``LastModifiedTime`` and
   ``FailureReason`` as observed *before* any call (``status.endpoint``).
2. **Issue** (pass *n+1*): a pass that reads an intent without ``issuedAt`` and finds, by the
   rules below, that it was not issued, calls SageMaker and writes ``issuedAt``.

Every pass observes before it acts, so ``status.endpoint`` always holds a pre-call observation
whenever ``issuedAt`` is missing. Crash points:

- before the record is written: no intent, no call; the next pass starts over.
- after the record, before the call: the next pass sees the endpoint unchanged (same config,
  same ``LastModifiedTime``) and issues the call once.
- after the call, before ``issuedAt`` is written (the dangerous one): the next pass sees either
  the deployment in flight (``PendingDeploymentSummary`` targets the intent's config), or the
  endpoint ``InService`` on the intent's config (it succeeded), or ``InService`` on the config
  that served before, with a ``LastModifiedTime``, status or reason that differs from the stored
  observation (it ran and was rolled back, reason or not), unless that observation showed
  maintenance (``SystemUpdating``). Each of these counts as issued. If
  SageMaker has not yet made the accepted update visible, issuing again is refused as ``Busy``
  ("Cannot update in-progress endpoint"), which is harmless.
- after ``issuedAt``: the intent is known issued; only its fate is open.

Which fate
----------
An update records the config that served just before the call (``fromConfig``). Once SageMaker is
settled again:

- ``InService`` on the intent's config: it succeeded.
- ``InService`` on ``fromConfig``: it was **rolled back**, with or without a ``FailureReason``
  (spec §13: health-check and capacity rollbacks may leave none), provided SageMaker shows any
  change since the last stored observation (status, ``LastModifiedTime`` or reason). Without a
  change the accepted update is simply not visible yet, and it stays in flight.
- ``InService`` on a third config: someone else's change (``Superseded``), whatever
  ``FailureReason`` says. A reason from an earlier rollback stays on the endpoint through the
  next update and is cleared only by a successful one, so its presence is no evidence.
- ``Updating`` right after the call, possibly without a ``PendingDeploymentSummary`` yet (spec
  §13): an issued intent is in flight; an intent not known to be issued waits, and is neither
  issued again nor written off, until SageMaker is settled.
- ``UpdateRollbackFailed``: the update (or a recovery update that SageMaker already shows) failed.

The residual risk is biased the safe way: an intent that was *not* issued, whose endpoint was
modified by something else in the moment between the record and the call (a scaling change),
reads as "ran and rolled back": the revision is reported rolled back and waits for the retry
annotation, rather than being deployed twice.

``CreateEndpoint`` goes through the same record, although a second call would only fail with
``Cannot create already existing endpoint``: one protocol for both keeps the tracking uniform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sagemaker_guardrails.api.status import EndpointInfo, PendingCall
from sagemaker_guardrails.core.observed import EndpointSnapshot, EndpointStatus

__all__ = ["CREATE", "UPDATE", "Fate", "Resolution", "iso", "resolve", "served_before"]

CREATE = "CreateEndpoint"
UPDATE = "UpdateEndpoint"


class Fate(StrEnum):
    NOT_ISSUED = "NotIssued"  # never reached SageMaker; may be issued
    DROPPED = "Dropped"  # never reached SageMaker and no longer can; forget it
    IN_FLIGHT = "InFlight"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"  # endpoint Failed, or UpdateRollbackFailed
    SUPERSEDED = "Superseded"  # ran, but the endpoint ended on a third config without a FailureReason
    LOST = "Lost"  # ran, but the endpoint is gone

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset({Fate.SUCCEEDED, Fate.ROLLED_BACK, Fate.FAILED, Fate.SUPERSEDED, Fate.LOST})


@dataclass(frozen=True)
class Resolution:
    fate: Fate
    pending: PendingCall
    reason: str | None = None


def iso(value: datetime | None) -> str | None:
    """The one time format of the status (and of comparisons against it)."""
    return value.isoformat() if value is not None else None


def _changed(endpoint: EndpointSnapshot, before: EndpointInfo | None) -> bool:
    """Whether SageMaker reports a modification since the last stored observation."""
    if before is None:
        return True
    if before.status is not None and before.status != endpoint.status.value:
        return True
    if iso(endpoint.last_modified_time) != before.last_modified:
        return True
    return endpoint.failure_reason != before.failure_reason


def served_before(pending: PendingCall, before: EndpointInfo | None) -> str | None:
    """The config that served when the update was called (``None``: not known).

    Recorded with the call (``fromConfig``); a record written before that field existed falls
    back to the last stored observation, whose top-level config is the old one during an update.
    """
    if pending.from_config:
        return pending.from_config
    if before is not None and before.config_name and before.config_name != pending.config_name:
        return before.config_name
    return None


def _could_be_ours(before: EndpointInfo | None) -> bool:
    """Whether the change since ``before`` may be the intent's own call (a crash before ``issuedAt``).

    It may unless the endpoint was last seen busy with something an UpdateEndpoint does not show:
    maintenance (``SystemUpdating``), creation or deletion.
    """
    return before is None or before.status in (None, *_OURS_OR_SETTLED)


_OURS_OR_SETTLED = ("InService", "UpdateRollbackFailed", "Updating", "RollingBack")


def _adopted_in_flight(endpoint: EndpointSnapshot, config_name: str, revision: str) -> Resolution | None:
    """A deployment of the desired config runs but no record of it survived: track it."""
    if not endpoint.busy or endpoint.pending is None or endpoint.pending.config_name != config_name:
        return None
    started = iso(endpoint.pending.start_time or endpoint.last_modified_time)
    operation = CREATE if endpoint.status is EndpointStatus.CREATING else UPDATE
    source = endpoint.config_name if endpoint.config_name != config_name else None
    pending = PendingCall(
        operation=operation,
        revision=revision,
        config_name=config_name,
        recorded_at=started or "",
        issued_at=started or "",
        from_config=source if operation == UPDATE else None,
    )
    return Resolution(Fate.IN_FLIGHT, pending)


def _rollback_failed(
    pending: PendingCall, endpoint: EndpointSnapshot, before: EndpointInfo | None
) -> Resolution:
    changed = _changed(endpoint, before)
    if pending.issued_at is not None:
        # A recovery UpdateEndpoint that SageMaker has not shown yet is still in flight.
        return Resolution(Fate.FAILED if changed else Fate.IN_FLIGHT, pending, endpoint.failure_reason)
    return Resolution(Fate.FAILED if changed else Fate.NOT_ISSUED, pending, endpoint.failure_reason)


def _settled(pending: PendingCall, endpoint: EndpointSnapshot, before: EndpointInfo | None) -> Resolution:
    issued = pending.issued_at is not None
    target = pending.config_name
    live = endpoint.config_name
    reason = endpoint.failure_reason
    if endpoint.status is EndpointStatus.FAILED:
        happened = issued or live == target
        return Resolution(Fate.FAILED if happened else Fate.NOT_ISSUED, pending, reason)
    if endpoint.status is EndpointStatus.UPDATE_ROLLBACK_FAILED:
        return _rollback_failed(pending, endpoint, before)
    if live == target:
        return Resolution(Fate.SUCCEEDED, pending)
    if pending.operation == CREATE:
        return Resolution(Fate.SUPERSEDED if issued else Fate.DROPPED, pending)
    source = served_before(pending, before)
    changed = _changed(endpoint, before)
    if source is None:  # nothing says where it came from: only a FailureReason tells a rollback
        if issued:
            return Resolution(Fate.ROLLED_BACK if reason else Fate.SUPERSEDED, pending, reason)
        rolled_back = bool(reason) and changed
        return Resolution(Fate.ROLLED_BACK if rolled_back else Fate.NOT_ISSUED, pending, reason)
    if live != source:
        # A third config: someone else's change, whatever FailureReason (maybe an earlier one) says.
        return Resolution(Fate.SUPERSEDED if issued else Fate.NOT_ISSUED, pending)
    if issued:
        # Back on the config that served before the call: a rollback, with or without a reason,
        # once SageMaker shows any change since the last look (else the update is not visible yet).
        return Resolution(Fate.ROLLED_BACK if changed else Fate.IN_FLIGHT, pending, reason)
    rolled_back = changed and _could_be_ours(before)
    return Resolution(Fate.ROLLED_BACK if rolled_back else Fate.NOT_ISSUED, pending, reason)


def resolve(
    pending: PendingCall | None,
    endpoint: EndpointSnapshot | None,
    before: EndpointInfo | None,
    desired_config: str,
    desired_revision: str,
) -> Resolution | None:
    """The fate of ``pending`` given the endpoint now and ``before`` (the last stored observation)."""
    if pending is None:
        if endpoint is None:
            return None
        return _adopted_in_flight(endpoint, desired_config, desired_revision)
    issued = pending.issued_at is not None
    if endpoint is None:
        if pending.operation == CREATE:
            return Resolution(Fate.LOST if issued else Fate.NOT_ISSUED, pending)
        return Resolution(Fate.LOST if issued else Fate.DROPPED, pending)
    if endpoint.busy:
        targets_ours = endpoint.pending is not None and endpoint.pending.config_name == pending.config_name
        return Resolution(Fate.IN_FLIGHT if targets_ours or issued else Fate.NOT_ISSUED, pending)
    return _settled(pending, endpoint, before)
