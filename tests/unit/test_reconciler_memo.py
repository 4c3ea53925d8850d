"""A settled object's spec is derived once per generation, not on every poll."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sagemaker_guardrails.api.status import GuardedEndpointStatus
from sagemaker_guardrails.core.actions import Memory
from sagemaker_guardrails.errors import InvalidSpec
from sagemaker_guardrails.reconciler import Deps, Resource, passes
from sagemaker_guardrails.reconciler.memo import DesiredMemo
from sagemaker_guardrails.settings import Settings

pytestmark = pytest.mark.unit

SPEC = yaml.safe_load((Path(__file__).parents[2] / "examples" / "canary.yaml").read_text())["spec"]


def resource(generation: int = 1, spec: dict[str, Any] | None = None, uid: str = "u-1") -> Resource:
    return Resource(
        namespace="ml",
        name="fraud",
        uid=uid,
        generation=generation,
        spec=spec or SPEC,
        status={},
        annotations={},
    )


@pytest.fixture
def deps() -> Deps:
    def no_clients(region: str) -> Any:
        raise AssertionError("no AWS call is made here")

    return Deps(settings=Settings(cluster_id="c", default_region="us-east-1"), clients=no_clients)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = passes.parse_spec

    def counting(raw: Any) -> Any:
        calls.append(1)
        return real(raw)

    monkeypatch.setattr(passes, "parse_spec", counting)
    return calls


def test_an_unchanged_object_is_derived_once(deps: Deps, parses: list[int]) -> None:
    first = passes._desired(resource(), deps, Memory(GuardedEndpointStatus()))
    again = passes._desired(resource(), deps, Memory(GuardedEndpointStatus()))
    assert again is first and len(parses) == 1


def test_a_new_generation_is_derived_again(deps: Deps, parses: list[int]) -> None:
    first = passes._desired(resource(1), deps, Memory(GuardedEndpointStatus()))
    changed = {**SPEC, "variants": [{**SPEC["variants"][0], "initialInstanceCount": 7}]}
    second = passes._desired(resource(2, changed), deps, Memory(GuardedEndpointStatus()))
    assert len(parses) == 2 and second.revision != first.revision


def test_another_object_with_the_same_spec_is_its_own_entry(deps: Deps, parses: list[int]) -> None:
    passes._desired(resource(uid="u-1"), deps, Memory(GuardedEndpointStatus()))
    passes._desired(resource(uid="u-2"), deps, Memory(GuardedEndpointStatus()))
    assert len(parses) == 2


def test_a_spec_that_does_not_validate_is_refused_every_time(deps: Deps, parses: list[int]) -> None:
    bad = {**SPEC, "variants": []}
    for _ in range(2):
        with pytest.raises(InvalidSpec):
            passes._desired(resource(spec=bad), deps, Memory(GuardedEndpointStatus()))
    assert len(parses) == 2 and len(deps.desired) == 0


def test_the_memo_keeps_the_most_recently_used_entries() -> None:
    memo = DesiredMemo(size=2)
    built: list[str] = []

    def build(name: str) -> Any:
        built.append(name)
        return (name, name)

    memo.get("a", lambda: build("a"))
    memo.get("b", lambda: build("b"))
    memo.get("a", lambda: build("a"))  # a is used again: b is now the oldest
    memo.get("c", lambda: build("c"))  # evicts b
    memo.get("a", lambda: build("a"))
    memo.get("b", lambda: build("b"))
    assert built == ["a", "b", "c", "b"] and len(memo) == 2
