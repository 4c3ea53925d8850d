"""The vocabulary of a decision: the closed set of actions, the memory a pass reads, the result.

See :mod:`.decide` for how one is chosen and :mod:`.resolve` for the write-ahead record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sagemaker_guardrails.api.status import GuardedEndpointStatus, RollbackRecord, stored_retry_token
from sagemaker_guardrails.core.conditions import Verdict
from sagemaker_guardrails.core.progress import Progress
from sagemaker_guardrails.core.resolve import Resolution

__all__ = [
    "RETRYABLE_PREFIX",
    "RETRY_ANNOTATION",
    "SUCCEEDED",
    "Action",
    "Adopt",
    "Collect",
    "Decision",
    "Issue",
    "MarkRolledBack",
    "Memory",
    "Nothing",
    "Prepare",
    "Stall",
    "SyncTags",
    "Wait",
]

RETRY_ANNOTATION = "sagemaker-guardrails.dev/retry"
RETRYABLE_PREFIX = "Request to service failed"
SUCCEEDED = "Succeeded"


@dataclass(frozen=True)
class Prepare:
    """Create the models and config of the desired revision, then record the intent to call ``operation``."""

    operation: str
    drift: bool = False


@dataclass(frozen=True)
class Issue:
    """Call ``operation`` (CreateEndpoint/UpdateEndpoint) for the recorded intent."""

    operation: str


@dataclass(frozen=True)
class Adopt:
    pass


@dataclass(frozen=True)
class Collect:
    """Delete our configs and models outside ``keep_configs`` / ``keep_revisions``."""

    keep_configs: tuple[str, ...]
    keep_revisions: tuple[str, ...]


@dataclass(frozen=True)
class SyncTags:
    """One tagging call on the endpoint: AddTags of ``add`` or DeleteTags of ``remove``, never both.

    Exactly one of them is non-empty, so a pass makes one mutating call like every other action;
    a change that both sets and removes tags takes two passes (see :mod:`.tagging`).
    """

    add: Mapping[str, str] = field(default_factory=dict)
    remove: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.add) == bool(self.remove):
            raise ValueError("SyncTags is either an AddTags or a DeleteTags call")


@dataclass(frozen=True)
class MarkRolledBack:
    """Tag the rolled-back endpoint config ``config_name`` with ``sagemaker-guardrails.dev/rolled-back``.

    ``value`` is the retry annotation's value the revision rolled back under, as a tag value
    (:func:`~sagemaker_guardrails.core.marks.mark_value`). One AddTags call, made by the pass
    after the one that recorded the rollback in status (see :mod:`.marks`).
    """

    config_name: str
    value: str


@dataclass(frozen=True)
class Wait:
    pass


@dataclass(frozen=True)
class Stall:
    pass


@dataclass(frozen=True)
class Nothing:
    pass


Action = Prepare | Issue | Adopt | Collect | SyncTags | MarkRolledBack | Wait | Stall | Nothing


@dataclass(frozen=True)
class Memory:
    """What the operator remembers: the previous status and the retry annotation's value now.

    A long annotation value is held as the digest the status stores for it
    (:func:`~sagemaker_guardrails.api.status.stored_retry_token`), so the two always compare alike.
    """

    status: GuardedEndpointStatus
    retry_token: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "retry_token", stored_retry_token(self.retry_token))


@dataclass(frozen=True)
class Decision:
    action: Action
    verdict: Verdict
    resolution: Resolution | None = None
    progress: Progress | None = None
    rollback: RollbackRecord | None = None  # a rollback (or failed rollback) detected by this pass
