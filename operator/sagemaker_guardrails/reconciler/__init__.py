"""One reconcile path for GuardedEndpoints: every kopf handler and timer calls these two functions.

- :func:`reconcile`: observe SageMaker, decide (pure, :mod:`sagemaker_guardrails.core`), take at
  most one mutating step, and return the complete next status (written once by the caller,
  also when the pass failed), the Events to post and the metric transitions.
- :func:`finalize`: the deletion pass behind the finalizer.

Both are synchronous: kopf runs sync handlers in its thread pool, so blocking boto3 calls never
run on the event loop.
"""

from sagemaker_guardrails.reconciler.deletion import finalize
from sagemaker_guardrails.reconciler.passes import reconcile
from sagemaker_guardrails.reconciler.types import Deps, EventRecord, Outcome, Resource, Transition

__all__ = ["Deps", "EventRecord", "Outcome", "Resource", "Transition", "finalize", "reconcile"]
