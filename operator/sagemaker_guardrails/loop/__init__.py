"""The reconcile loop the operator owns (controller-runtime's shape, in threads).

- :mod:`.queue`: keys with due times, one worker per key, capped exponential backoff; a key
  leaves only when its object is gone.
- :mod:`.controller`: the watch cache, one pass per key (read, finalizer, reconcile, confirmed
  status write, Events), workers, resync, liveness from progress.
- :mod:`.kube`: the Kubernetes calls, fenced by ``resourceVersion``, with one error type.
- :mod:`.leader`: Lease leader election for several replicas.
- :mod:`.health`: ``/healthz`` and ``/readyz``.

Nothing here imports kopf: ``handlers.py`` feeds the loop from kopf's watch.
"""

from sagemaker_guardrails.loop.controller import FINALIZER, RETRY_ANNOTATION, Controller, PassFn, merge_patch
from sagemaker_guardrails.loop.health import HealthServer, serve_health
from sagemaker_guardrails.loop.kube import Kube, KubeApi, KubeError
from sagemaker_guardrails.loop.leader import LeaderElector
from sagemaker_guardrails.loop.queue import QueueStats, WorkQueue

__all__ = [
    "FINALIZER",
    "RETRY_ANNOTATION",
    "Controller",
    "HealthServer",
    "Kube",
    "KubeApi",
    "KubeError",
    "LeaderElector",
    "PassFn",
    "QueueStats",
    "WorkQueue",
    "merge_patch",
    "serve_health",
]
