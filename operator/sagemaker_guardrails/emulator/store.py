"""In-memory SageMaker resources, one namespace per region, like the real service.

Models and endpoint configs are immutable records of the request that created them. An endpoint holds
what it serves right now (``live``) and, while a create/update/scale/delete runs, the ``operation`` the
deployment engine is stepping through. Times are simulated epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker_guardrails.emulator.engine import Operation
    from sagemaker_guardrails.emulator.plans import Fleet


def arn(region: str, account: str, kind: str, name: str) -> str:
    """SageMaker ARNs carry the resource name in lower case."""
    return f"arn:aws:sagemaker:{region}:{account}:{kind}/{name.lower()}"


@dataclass
class ModelRecord:
    name: str
    arn: str
    created: float
    spec: dict[str, Any]


@dataclass
class ConfigRecord:
    name: str
    arn: str
    created: float
    spec: dict[str, Any]


@dataclass
class VariantState:
    """A variant as it serves traffic now: its fleet and how much of it is live."""

    fleet: Fleet
    current_count: int
    current_weight: float
    resolved_at: float


@dataclass
class EndpointRecord:
    name: str
    arn: str
    region: str
    config_name: str
    status: str
    created: float
    modified: float
    live: tuple[VariantState, ...] = ()
    shadow: tuple[VariantState, ...] = ()
    failure_reason: str | None = None
    last_deployment_config: dict[str, Any] | None = None
    async_config: dict[str, Any] | None = None
    data_capture: dict[str, Any] | None = None
    operation: Operation | None = None


@dataclass
class RegionStore:
    models: dict[str, ModelRecord] = field(default_factory=dict)
    configs: dict[str, ConfigRecord] = field(default_factory=dict)
    endpoints: dict[str, EndpointRecord] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


class Store:
    """All regions. Callers hold the emulator lock."""

    def __init__(self) -> None:
        self._regions: dict[str, RegionStore] = {}

    def region(self, name: str) -> RegionStore:
        return self._regions.setdefault(name, RegionStore())

    def regions(self) -> list[tuple[str, RegionStore]]:
        return list(self._regions.items())

    def endpoints(self) -> list[EndpointRecord]:
        return [endpoint for _, store in self.regions() for endpoint in store.endpoints.values()]

    def clear(self) -> None:
        self._regions.clear()
