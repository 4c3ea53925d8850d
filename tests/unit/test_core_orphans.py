"""What is an orphan (tags, cluster id, namespaces, existing GuardedEndpoints, age), and the order
of deletion: endpoints first, an owner's configs and models only once no endpoint of it exists."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.corekit import T0

from sagemaker_guardrails.core import naming, orphans
from sagemaker_guardrails.core.orphans import Candidate, orphan_of, plan

pytestmark = pytest.mark.unit

CLUSTER = "prod"
OURS = naming.Owner(CLUSTER, "ml", "gone").tags()
HOUR = timedelta(hours=1)


def candidate(tags: dict[str, str], *, age: timedelta = 2 * HOUR, kind: str = orphans.ENDPOINT) -> Candidate:
    return Candidate(kind, "fraud", f"arn:aws:sagemaker:us-east-1:1:{kind}/fraud", T0 - age, tags)


def judge(
    c: Candidate,
    *,
    existing: frozenset[tuple[str, str]] = frozenset({("ml", "alive")}),
    namespaces: tuple[str, ...] = (),
    min_age: timedelta = HOUR,
) -> orphans.Orphan | None:
    return orphan_of(c, cluster_id=CLUSTER, existing=existing, namespaces=namespaces, now=T0, min_age=min_age)


@pytest.mark.parametrize(
    ("case", "c", "options", "orphan"),
    [
        ("ours, GuardedEndpoint gone, old enough", candidate(OURS), {}, True),
        ("untagged", candidate({}), {}, False),
        ("only user tags", candidate({"team": "fraud"}), {}, False),
        (
            "partial ownership tags",
            candidate({naming.TAG_CLUSTER: CLUSTER, naming.TAG_NAMESPACE: "ml"}),
            {},
            False,
        ),
        ("another cluster id", candidate(naming.Owner("staging", "ml", "gone").tags()), {}, False),
        ("its GuardedEndpoint exists", candidate(naming.Owner(CLUSTER, "ml", "alive").tags()), {}, False),
        (
            "same name, other namespace exists",
            candidate(naming.Owner(CLUSTER, "ml2", "alive").tags()),
            {},
            True,
        ),
        ("younger than the minimum age", candidate(OURS, age=HOUR - timedelta(seconds=1)), {}, False),
        ("exactly the minimum age", candidate(OURS, age=HOUR), {}, True),
        ("created in the future (clock skew)", candidate(OURS, age=-HOUR), {}, False),
        ("no minimum age", candidate(OURS, age=-HOUR), {"min_age": timedelta(0)}, True),
        ("namespace not watched", candidate(OURS), {"namespaces": ("team-*",)}, False),
        ("namespace watched by pattern", candidate(OURS), {"namespaces": ("m*",)}, True),
    ],
)
def test_orphan_of(case: str, c: Candidate, options: dict[str, object], orphan: bool) -> None:
    found = judge(c, **options)  # type: ignore[arg-type]
    assert (found is not None) is orphan, case
    if found is not None:
        assert found.owner == naming.Owner(CLUSTER, c.tags[naming.TAG_NAMESPACE], c.tags[naming.TAG_NAME])
        assert (found.kind, found.name, found.arn) == (c.kind, c.name, c.arn)


def test_unknown_creation_time_is_never_old_enough() -> None:
    c = Candidate(orphans.MODEL, "m", "arn:m", None, OURS)
    assert judge(c) is None
    assert judge(c, min_age=timedelta(0)) is not None


def _orphan(kind: str, name: str, owner: naming.Owner) -> orphans.Orphan:
    return orphans.Orphan(kind, name, f"arn:{kind}/{name}", owner, T0)


def test_plan_deletes_endpoints_first_and_holds_configs_and_models_while_an_endpoint_exists() -> None:
    gone = naming.Owner(CLUSTER, "ml", "gone")
    done = naming.Owner(CLUSTER, "ml", "done")
    items = [
        _orphan(orphans.MODEL, "gone-m", gone),
        _orphan(orphans.ENDPOINT_CONFIG, "gone-c", gone),
        _orphan(orphans.ENDPOINT, "gone", gone),
        _orphan(orphans.MODEL, "done-m", done),
        _orphan(orphans.ENDPOINT_CONFIG, "done-c", done),
    ]
    result = plan(items, endpoint_owners=[gone])
    assert [o.name for o in result.endpoints] == ["gone"]
    assert [o.name for o in result.leftovers] == ["done-c", "done-m"]
    assert [o.name for o in result.waiting] == ["gone-c", "gone-m"]


def test_an_endpoint_too_young_to_be_an_orphan_still_holds_back_its_configs() -> None:
    gone = naming.Owner(CLUSTER, "ml", "gone")
    result = plan([_orphan(orphans.MODEL, "gone-m", gone)], endpoint_owners=[gone])
    assert result.leftovers == () and [o.name for o in result.waiting] == ["gone-m"]


@pytest.mark.parametrize(
    ("created", "min_age", "old"),
    [
        (T0 - timedelta(hours=1), timedelta(hours=1), True),  # exactly min_age: old enough
        (T0 - timedelta(minutes=59), timedelta(hours=1), False),
        (None, timedelta(hours=1), False),
        (T0 + timedelta(minutes=1), timedelta(hours=1), False),  # in the future of now
        (None, timedelta(0), True),  # 0 turns the guard off
        (T0 + timedelta(minutes=1), timedelta(0), True),
    ],
)
def test_old_enough_is_the_age_rule_of_orphan_of(
    created: datetime | None, min_age: timedelta, old: bool
) -> None:
    """The sweep skips ListTags by ``old_enough``; it must agree with ``orphan_of`` on every case."""
    assert orphans.old_enough(created, now=T0, min_age=min_age) is old
    tags = naming.Owner("c", "ml", "gone").tags()
    candidate = Candidate(orphans.MODEL, "m", "arn:m", created, tags)
    found = orphan_of(candidate, cluster_id="c", existing=frozenset(), namespaces=[], now=T0, min_age=min_age)
    assert (found is not None) is old
