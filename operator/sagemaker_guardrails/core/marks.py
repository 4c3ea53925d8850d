"""The memory of a rollback that survives a lost status: a tag on the rolled-back endpoint config.

Why
---
The operator never deploys a rolled-back revision again until the spec or the retry annotation
changes (:mod:`.decide`). ``status.lastRollback`` holds that memory, but a status can be lost: a
backup restored without status, a resource deleted with ``deletionPolicy: Retain`` and created
again, or a later rollback of another revision overwriting ``lastRollback`` before the spec is
reverted. Without it the rolled-back revision would be deployed once more, and roll back once
more. SageMaker itself is the durable memory: the rolled-back config is kept (it is the desired
revision's config, which garbage collection never deletes while it is desired), and it can carry
a tag.

The mark
--------
When a rollback of revision R (config C) is in status and blocks R, the *next* pass adds the tag
``sagemaker-guardrails.dev/rolled-back`` to C (one AddTags call; the pass that detected the
rollback only writes status, so every pass makes at most one mutating call). Its value is the
retry annotation's value R rolled back under (:func:`mark_value`: empty when there was none, a
``sha256:`` digest when the value is too long or uses characters SageMaker refuses in tag values).
``lastRollback.taggedAt`` remembers that the tag is on. Both orders of loss are covered: if the
AddTags is lost (crash), the status still has the rollback and the next pass tags again; if the
status is lost after tagging, the tag has it.

The recall
----------
A pass reads C's tags (DescribeEndpointConfig for the ARN, then ListTags: DescribeEndpointConfig
does not return tags) only when it is about to prepare or issue an UpdateEndpoint of revision R
and the status has no rollback record of R (:func:`recall_due`), that is once per deployment,
never on a polling pass. A mark whose value equals the annotation's current value means "rolled
back, do not deploy again": the rollback record is restored into status (:func:`recalled`) and the
resource is Stalled ``RolledBack`` as if the status had never been lost.

Tokens are compared, the tag is never removed: a new annotation value (the documented way to retry)
never equals the mark, so the retried deployment goes ahead, and once R serves, no pass deploys R
and the mark is not read. Setting the annotation back to the old value blocks R again, exactly as
the status memory does. A restored record blocks regardless of ``status.history``, which a lost
status no longer has: a revision deployed successfully since the rollback normally has its old
config garbage-collected (and the mark with it), so the residual risk is a config that survived
collection, biased the safe way (Stalled, waiting for a retry annotation).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime

from sagemaker_guardrails.api.status import RollbackRecord
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.actions import RETRYABLE_PREFIX, Decision, Issue, Memory, Prepare
from sagemaker_guardrails.core.desired import Desired
from sagemaker_guardrails.core.observed import EndpointSnapshot
from sagemaker_guardrails.core.resolve import UPDATE, iso

__all__ = ["DIGEST_PREFIX", "RECALLED_REASON", "mark_value", "recall_due", "recalled", "remembering"]

DIGEST_PREFIX = "sha256:"
RECALLED_REASON = "recorded on the endpoint config's tags (the status that held SageMaker's reason was lost)"
# SageMaker's tag value rule is ([\p{L}\p{Z}\p{N}_.:/=+\-@]*), at most 256 characters; this is its
# ASCII part, so anything else is stored as a digest rather than refused.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]{0,256}")


def mark_value(token: str | None) -> str:
    """The tag value that stands for the retry annotation's value ``token`` (``None``: no annotation)."""
    if token is None:
        return ""
    if _PLAIN_VALUE.fullmatch(token) and not token.startswith(DIGEST_PREFIX):
        return token
    return DIGEST_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def recall_due(decision: Decision, desired: Desired, memory: Memory) -> bool:
    """Whether this pass must read the desired config's tags before acting on ``decision``."""
    action = decision.action
    deploys = isinstance(action, Prepare | Issue) and action.operation == UPDATE
    record = memory.status.last_rollback
    return deploys and (record is None or record.revision != desired.revision)


def recalled(
    desired: Desired,
    memory: Memory,
    endpoint: EndpointSnapshot | None,
    tags: Mapping[str, str] | None,
    now: datetime,
) -> RollbackRecord | None:
    """The rollback of the desired revision that the config's ``tags`` remember, if it blocks now.

    ``tags`` are the desired config's tags (``None``: the config does not exist). The mark counts
    only on a config of this resource and revision, and only if it was made under the annotation
    value of now.
    """
    if tags is None or naming.TAG_ROLLED_BACK not in tags:
        return None
    if (
        naming.owner_from_tags(tags) != desired.identity.owner
        or tags.get(naming.TAG_REVISION) != desired.revision
    ):
        return None
    if tags[naming.TAG_ROLLED_BACK] != mark_value(memory.retry_token):
        return None
    reason = endpoint.failure_reason if endpoint is not None else None
    if not reason or reason.startswith(RETRYABLE_PREFIX):
        reason = RECALLED_REASON
    return RollbackRecord(
        revision=desired.revision,
        config_name=desired.config_name,
        at=iso(now),
        reason=reason,
        retry_token=memory.retry_token,
        tagged_at=iso(now),
    )


def remembering(memory: Memory, record: RollbackRecord) -> Memory:
    """``memory`` with ``record`` as the last rollback, as if the status had never lost it."""
    status = memory.status.model_copy(update={"last_rollback": record})
    return Memory(status=status, retry_token=memory.retry_token)
