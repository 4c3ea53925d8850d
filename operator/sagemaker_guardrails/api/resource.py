"""Rules on the whole GuardedEndpoint object: its name, and what an update may not change.

Two things cannot be checked on ``spec`` alone:

- ``spec.endpointName`` defaults to ``metadata.name``, and a Kubernetes name (up to 253
  characters, dots allowed) is not always a SageMaker name (up to 63, no dots). The CRD checks it
  with a CEL rule at the schema root, the only place CEL can see ``metadata.name``.
- Some fields must never change after creation, and only an update knows the old object.
  Changing the endpoint name or the Region would silently point the resource at another endpoint
  and orphan the first one; SageMaker refuses to remove ``AsyncInferenceConfig`` from an endpoint,
  so removing ``asyncInference`` could only ever fail. Blue/green and rolling updates require the
  new endpoint config to have the same production variant names as the running one, so renaming,
  adding or removing a variant is refused at admission instead of failing every UpdateEndpoint.
  These are CEL transition rules (``oldSelf``) at the root and
  :class:`~sagemaker_guardrails.api.base.TransitionRule` checks here.

:func:`validate_manifest` runs all of it in Python, for the operator and for tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_guardrails.api.base import SAGEMAKER_NAME_PATTERN, Rule, TransitionRule, failed_messages
from sagemaker_guardrails.api.spec import GuardedEndpointSpec


class InvalidResourceError(ValueError):
    """A GuardedEndpoint breaks an object-level or update rule; ``messages`` lists which."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class GuardedEndpointResource:
    """A validated GuardedEndpoint: its Kubernetes name and its spec."""

    name: str
    spec: GuardedEndpointSpec

    @property
    def endpoint_name(self) -> str:
        """The SageMaker endpoint name: ``spec.endpointName``, else ``metadata.name``."""
        return self.spec.endpoint_name or self.name


ROOT_RULES: tuple[Rule[GuardedEndpointResource], ...] = (
    Rule(
        cel=f"has(self.spec.endpointName) || self.metadata.name.matches(r'{SAGEMAKER_NAME_PATTERN}')",
        check=lambda r: (
            r.spec.endpoint_name is not None or re.fullmatch(SAGEMAKER_NAME_PATTERN, r.name) is not None
        ),
        message=(
            "spec.endpointName is required when metadata.name is not a valid SageMaker endpoint name "
            "(at most 63 letters, digits and hyphens)"
        ),
        field_path=".spec.endpointName",
        reason="FieldValueRequired",
    ),
)

TRANSITION_RULES: tuple[TransitionRule[GuardedEndpointResource], ...] = (
    TransitionRule(
        cel=(
            "(has(self.spec.endpointName) ? self.spec.endpointName : self.metadata.name) == "
            "(has(oldSelf.spec.endpointName) ? oldSelf.spec.endpointName : oldSelf.metadata.name)"
        ),
        check=lambda old, new: old.endpoint_name == new.endpoint_name,
        message="spec.endpointName is immutable (it defaults to metadata.name)",
        field_path=".spec.endpointName",
    ),
    TransitionRule(
        cel=(
            "has(self.spec.region) == has(oldSelf.spec.region) && "
            "(!has(self.spec.region) || self.spec.region == oldSelf.spec.region)"
        ),
        check=lambda old, new: old.spec.region == new.spec.region,
        message="spec.region is immutable: it cannot be added, changed or removed after creation",
        field_path=".spec.region",
    ),
    TransitionRule(
        cel=(
            "size(self.spec.variants) == size(oldSelf.spec.variants) && "
            "self.spec.variants.all(v, oldSelf.spec.variants.exists(o, o.name == v.name))"
        ),
        check=lambda old, new: (
            sorted(v.name for v in old.spec.variants) == sorted(v.name for v in new.spec.variants)
        ),
        message=(
            "spec.variants[].name cannot change: blue/green and rolling updates need the same variant "
            "names as the running endpoint, so a variant cannot be renamed, added or removed; create a "
            "new GuardedEndpoint (another endpointName) instead"
        ),
        field_path=".spec.variants",
    ),
    TransitionRule(
        cel="!has(oldSelf.spec.asyncInference) || has(self.spec.asyncInference)",
        check=lambda old, new: old.spec.async_inference is None or new.spec.async_inference is not None,
        message="spec.asyncInference cannot be removed once set (SageMaker refuses it); recreate the resource",
        field_path=".spec.asyncInference",
        reason="FieldValueRequired",
    ),
)


def _parse(manifest: Mapping[str, Any]) -> GuardedEndpointResource:
    metadata = manifest.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidResourceError(["metadata.name is required"])
    return GuardedEndpointResource(name=name, spec=GuardedEndpointSpec.model_validate(manifest.get("spec")))


def validate_manifest(
    manifest: Mapping[str, Any], old: Mapping[str, Any] | None = None
) -> GuardedEndpointResource:
    """Validate a GuardedEndpoint as the API server would; with ``old``, as an update of it.

    Raises :class:`pydantic.ValidationError` for a bad spec and :class:`InvalidResourceError` for a
    broken object-level or update rule (both are ``ValueError``).
    """
    resource = _parse(manifest)
    failed = failed_messages(ROOT_RULES, resource)
    if old is not None:
        previous = _parse(old)
        failed += [rule.message for rule in TRANSITION_RULES if not rule.check(previous, resource)]
    if failed:
        raise InvalidResourceError(failed)
    return resource
