"""The reconciler's interface with the kopf handlers: plain data in, plain data out.

The handlers (``handlers.py``) turn what kopf hands them into a :class:`Resource`, call
:func:`~sagemaker_guardrails.reconciler.reconcile` or
:func:`~sagemaker_guardrails.reconciler.finalize`, then write ``Outcome.status`` once, post
``Outcome.events``, record ``Outcome.transitions`` as metrics, and schedule the next pass after
``Outcome.requeue_after`` seconds. Nothing here knows about kopf.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagemaker_guardrails.aws.ports import AwsClients
from sagemaker_guardrails.core.report import EventRecord, Transition
from sagemaker_guardrails.reconciler.memo import DesiredMemo
from sagemaker_guardrails.settings import Settings

__all__ = ["Deps", "EventRecord", "Outcome", "Resource", "Transition"]


@dataclass(frozen=True)
class Resource:
    """A GuardedEndpoint as kopf hands it over, as plain data."""

    namespace: str
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    annotations: Mapping[str, str]
    deleting: bool = False


@dataclass(frozen=True)
class Outcome:
    """The result of one pass; ``status`` is the complete new ``.status`` (camelCase, JSON-ready)."""

    status: dict[str, Any]
    events: tuple[EventRecord, ...] = ()
    transitions: tuple[Transition, ...] = ()
    requeue_after: float | None = None
    finished: bool = True
    error: Exception | None = None
    result: str = "ok"


@dataclass
class Deps:
    """What a pass needs from the composition root: settings and ``region -> AwsClients``.

    ``rng`` jitters the poll intervals (``settings.poll_jitter``) so a thousand resources
    created together do not poll SageMaker in lockstep. ``desired`` keeps each object's derived
    spec per generation (:mod:`~sagemaker_guardrails.reconciler.memo`).
    """

    settings: Settings
    clients: Callable[[str], AwsClients]
    rng: random.Random = field(default_factory=random.Random)
    desired: DesiredMemo = field(default_factory=DesiredMemo)

    def jittered(self, seconds: float) -> float:
        """``seconds`` spread by ``poll_jitter``: busy polls (up to one active interval) only
        downwards, so a deployment is never looked at later than asked; longer waits both ways,
        so their mean stays at the setting."""
        spread = self.settings.poll_jitter
        if seconds <= self.settings.active_poll_seconds:
            return seconds * self.rng.uniform(1 - spread, 1)
        return seconds * self.rng.uniform(1 - spread, 1 + spread)
