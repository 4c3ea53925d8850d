"""The endpoint's tags: when the operator reads them, and how ``spec.tags`` is kept on the endpoint.

When to read them
-----------------
Ownership lives in the endpoint's tags, and reading them is a ``ListTags`` call of its own. The
tags of an endpoint change only when someone retags it, so the operator remembers in
``status.endpoint`` (``tagsCheckedAt``) that it verified *this incarnation* of the endpoint as its
own. An incarnation is the ARN plus ``CreationTime``: SageMaker derives the ARN from the name, so
an endpoint deleted and created again under the same name has the same ARN, and only the
creation time tells the two apart. A pass reads the tags (:func:`tags_due`):

- when the incarnation is new or unverified (a new endpoint, a lost status, an endpoint that was
  not ours: adoption and "owned by another resource" are decided on tags read in that pass);
- when the endpoint is InService on the desired config and ``spec.tags`` differs from the tags
  the operator has applied (a tag change to sync);
- on the periodic re-check, every :data:`RECHECK_POLLS` settled polls (about an hour with the
  default 5-minute poll), which notices an endpoint retagged behind the operator's back and puts
  back user tags changed outside it;
- never while the endpoint is busy: an active poll during a deployment is one DescribeEndpoint.

Deletions do not rely on this memory: the finalizer and garbage collection read the tags of
whatever they delete right before deleting it.

How tags are synced
-------------------
Only the endpoint is retagged. Models and endpoint configs are immutable records of one revision
(the revision deliberately leaves tags out, so a tag change never redeploys); they carry
``spec.tags`` as it was when the revision was created, the next revision gets the new tags, and
garbage collection removes them once they are two revisions old. The endpoint is the resource
that bills, that people look up and that tag-based access policies name; re-tagging configs and
models as well would cost a ListTags per resource and per check, for resources that go away.

The sync is three-way, like ``kubectl apply``: tags in ``spec.tags`` are added or overwritten, and
a tag is removed only if the operator applied it before (``status.endpoint.tags``) and it left
``spec.tags``. A tag someone else put on the endpoint, or that an adopted endpoint already had,
stays. Ownership tags (``sagemaker-guardrails.dev/``) and ``aws:`` tags are never touched, and the
IAM policy denies the operator removing ownership tags too. Each pass makes one call: AddTags
first, then DeleteTags on a later pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sagemaker_guardrails.api.status import EndpointInfo
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.actions import SyncTags
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import EndpointSnapshot, EndpointStatus
from sagemaker_guardrails.core.resolve import iso

__all__ = [
    "RECHECK_POLLS",
    "RESERVED_PREFIXES",
    "applied_after",
    "applied_tags",
    "describe",
    "remembered",
    "same_incarnation",
    "settled_on_desired",
    "tag_sync",
    "tags_due",
    "user_tags",
    "verified",
]

RECHECK_POLLS = 12
RESERVED_PREFIXES = (naming.TAG_PREFIX, "aws:")


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags a user may manage: everything but ownership and ``aws:`` tags (any case)."""
    return {k: v for k, v in tags.items() if not k.lower().startswith(RESERVED_PREFIXES)}


def same_incarnation(before: EndpointInfo | None, endpoint: EndpointSnapshot) -> bool:
    """Whether ``before`` describes this endpoint, not an earlier one of the same name."""
    return (
        before is not None
        and naming.same_name(before.arn, endpoint.arn)
        and before.creation_time == iso(endpoint.creation_time)
    )


def verified(before: EndpointInfo | None, endpoint: EndpointSnapshot) -> bool:
    """Whether the status remembers that this incarnation carries the resource's ownership tags."""
    return same_incarnation(before, endpoint) and before is not None and before.tags_checked_at is not None


def settled_on_desired(desired: Desired, endpoint: EndpointSnapshot) -> bool:
    return endpoint.status is EndpointStatus.IN_SERVICE and endpoint.config_name == desired.config_name


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def tags_due(
    desired: Desired,
    endpoint: EndpointSnapshot,
    before: EndpointInfo | None,
    now: datetime,
    recheck: timedelta,
) -> bool:
    """Whether this pass must call ListTags on ``endpoint`` (see the module docstring)."""
    if before is None or not verified(before, endpoint):
        return True
    if endpoint.busy:
        return False
    if settled_on_desired(desired, endpoint) and before.tags != dict(desired.spec.tags):
        return True
    checked = _parse(before.tags_checked_at)
    if checked is None or checked.tzinfo is None:
        return True
    return now - checked >= recheck


def tag_sync(
    wanted: Mapping[str, str], present: Mapping[str, str], applied: Mapping[str, str] | None
) -> SyncTags | None:
    """The next tagging call that brings ``present`` (all tags) towards ``wanted``, or ``None``.

    ``applied`` is what the operator applied before (``None``: unknown, so nothing is removed).
    """
    mine = user_tags(present)
    add = {k: v for k, v in user_tags(wanted).items() if mine.get(k) != v}
    if add:
        return SyncTags(add=add)
    remove = tuple(sorted(k for k in user_tags(applied or {}) if k in mine and k not in wanted))
    return SyncTags(remove=remove) if remove else None


def applied_tags(before: EndpointInfo | None, endpoint: EndpointSnapshot) -> Mapping[str, str] | None:
    """The user tags the operator has applied to this incarnation (``None``: not known)."""
    return before.tags if before is not None and same_incarnation(before, endpoint) else None


def describe(sync: SyncTags) -> str:
    if sync.add:
        return "setting " + ", ".join(f"{k}={v}" for k, v in sorted(sync.add.items()))
    return "removing " + ", ".join(sync.remove)


def applied_after(applied: Mapping[str, str] | None, action: SyncTags) -> dict[str, str]:
    """What the operator has applied once ``action`` succeeded."""
    after = {**(applied or {}), **action.add}
    for key in action.remove:
        after.pop(key, None)
    return after


def remembered(
    info: EndpointInfo,
    *,
    before: EndpointInfo | None,
    endpoint: EndpointSnapshot,
    tags: Mapping[str, str] | None,
    desired: Desired,
    synced: SyncTags | None,
    now: datetime,
) -> EndpointInfo:
    """``info`` (this pass's observation) with the tag memory carried over and updated.

    ``tags`` are the tags read this pass (``None``: not read); ``synced`` is the tagging call
    that succeeded this pass, if any.
    """
    checked_at = before.tags_checked_at if before is not None and same_incarnation(before, endpoint) else None
    applied = applied_tags(before, endpoint)
    if tags is not None:
        if naming.owner_from_tags(tags) != desired.identity.owner:
            checked_at, applied = None, None
        else:
            checked_at = iso(now)
            wanted = dict(desired.spec.tags)
            if settled_on_desired(desired, endpoint) and tag_sync(wanted, tags, applied) is None:
                applied = wanted
    if synced is not None:
        applied = applied_after(applied, synced)
    return info.model_copy(update={"tags_checked_at": checked_at, "tags": applied})
