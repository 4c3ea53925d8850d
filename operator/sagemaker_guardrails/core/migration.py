"""Names of the first naming scheme, kept for endpoints that still serve them.

The first naming scheme (``sagemaker-guardrails/v1``) hashed a spec's SageMaker content alone, so
two endpoints whose names agree in the part that survives truncation got the same model and
config names, and the second was Stalled for good. Revisions now also hash the endpoint name and
the Region (:func:`~.naming.revision_of`), which gives every existing spec a new revision and new
names. Deploying them would redeploy every endpoint on an operator upgrade, with nothing changed.

So a spec keeps its first-scheme names (:func:`in_use`) as long as the status (or this pass's
DescribeEndpoint) shows them in use for the spec as it is: the config SageMaker serves, the one
an intent or a deployment in flight targets, or the one whose rollback is remembered (so that a
rolled-back revision stays blocked). Nothing is renamed behind a live endpoint. The first spec
change yields a new revision, which is named by the current scheme and deployed as usual; the
old config stays as the previous revision until garbage collection removes it, like any other.
"""

from __future__ import annotations

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.core import naming
from sagemaker_guardrails.core.desired import Desired, build_desired

__all__ = ["in_use", "recorded_configs"]


def recorded_configs(status: GuardedEndpointStatus) -> tuple[str, ...]:
    """The config names the status records as serving, targeted or rolled back."""
    names = (
        status.endpoint.config_name if status.endpoint is not None else None,
        status.pending.config_name if status.pending is not None else None,
        status.last_rollback.config_name if status.last_rollback is not None else None,
    )
    return tuple(name for name in names if name)


def in_use(desired: Desired, status: GuardedEndpointStatus, served: str | None = None) -> Desired:
    """``desired``, or the same spec under first-scheme names when those are in use.

    ``served`` is the config the endpoint serves according to this pass's DescribeEndpoint (it
    covers a status that was lost).
    """
    legacy = build_desired(desired.spec, desired.identity, desired.region, legacy=True)
    names = (*recorded_configs(status), *((served,) if served else ()))
    if any(naming.same_name(legacy.config_name, name) for name in names):
        return legacy
    return desired
