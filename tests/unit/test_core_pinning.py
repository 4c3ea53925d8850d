"""core.pinning and core.migration: the Region and names a resource keeps once SageMaker has them."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit

from sagemaker_guardrails.core import migration, pinning
from sagemaker_guardrails.core.desired import build_desired, parse_spec
from sagemaker_guardrails.errors import InvalidSpec

pytestmark = pytest.mark.unit

D = corekit.desired()
LEGACY = build_desired(D.spec, D.identity, "us-east-1", legacy=True)
CHANGED = corekit.desired(corekit.spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:9"))
EU_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-detector"


def endpoint_info(
    arn: str = EU_ARN, name: str = "fraud-detector", config: str | None = None
) -> dict[str, Any]:
    return {"name": name, "arn": arn, "status": "InService", "configName": config}


def unpinned(region: str = "us-east-1") -> Any:
    raw = corekit.spec()
    del raw["region"]
    return build_desired(parse_spec(raw), corekit.IDENTITY, region)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({}, None),
        ({"region": "eu-central-1", "endpoint": endpoint_info()}, "eu-central-1"),
        ({"endpoint": endpoint_info()}, "eu-west-1"),
        ({"endpoint": endpoint_info(arn="arn:x")}, None),
    ],
    ids=["nothing", "recorded", "from-the-endpoint-arn", "unreadable-arn"],
)
def test_recorded_region(status: dict[str, Any], expected: str | None) -> None:
    assert pinning.recorded_region(corekit.status(**status)) == expected


def test_a_resource_without_spec_region_keeps_its_recorded_region() -> None:
    assert pinning.default_region_for(corekit.status(), "ap-south-1") == "ap-south-1"
    assert pinning.default_region_for(corekit.status(region="eu-west-1"), "ap-south-1") == "eu-west-1"
    assert pinning.default_region_for(corekit.status(endpoint=endpoint_info()), "ap-south-1") == "eu-west-1"


def test_the_region_is_pinned_once_something_exists_there() -> None:
    empty = corekit.status()
    assert pinning.pinned_after(empty, D, None, created=False) is None
    assert pinning.pinned_after(empty, D, None, created=True) == "us-east-1"
    seen = corekit.status(endpoint=endpoint_info()).endpoint
    assert pinning.pinned_after(empty, D, seen, created=False) == "us-east-1"
    assert pinning.pinned_after(corekit.status(region="eu-west-1"), D, None, created=True) == "eu-west-1"


def test_a_region_that_differs_from_the_recorded_one_is_an_invalid_spec() -> None:
    with pytest.raises(InvalidSpec) as caught:
        pinning.check(D, corekit.status(region="eu-west-1", endpoint=endpoint_info()))
    assert caught.value.field == "spec.region"
    message = str(caught.value)
    assert "eu-west-1 (status.region)" in message and "Set spec.region back to eu-west-1" in message
    with pytest.raises(InvalidSpec, match=r"spec\.region"):
        pinning.check(D, corekit.status(endpoint=endpoint_info()))
    pinning.check(D, corekit.status(region="us-east-1"))


def test_an_endpoint_name_that_differs_only_in_case_is_the_same_endpoint() -> None:
    us_arn = EU_ARN.replace("eu-west-1", "us-east-1")
    pinning.check(D, corekit.status(endpoint=endpoint_info(arn=us_arn, name="Fraud-Detector")))
    with pytest.raises(InvalidSpec) as caught:
        pinning.check(D, corekit.status(endpoint=endpoint_info(arn=us_arn, name="fraud-detector-2")))
    assert caught.value.field == "spec.endpointName"


@pytest.mark.parametrize(
    ("status", "served", "legacy"),
    [
        ({}, None, False),
        ({"endpoint": endpoint_info(config=LEGACY.config_name)}, None, True),
        ({"endpoint": endpoint_info(config=LEGACY.config_name.upper())}, None, True),
        ({"endpoint": endpoint_info(config=D.config_name)}, None, False),
        (
            {
                "pending": {
                    "operation": "UpdateEndpoint",
                    "revision": LEGACY.revision,
                    "configName": LEGACY.config_name,
                    "recordedAt": "2026-11-26T12:00:00+00:00",
                }
            },
            None,
            True,
        ),
        ({"lastRollback": {"revision": LEGACY.revision, "configName": LEGACY.config_name}}, None, True),
        ({}, LEGACY.config_name, True),
        ({"revision": {"desired": LEGACY.revision, "desiredConfig": LEGACY.config_name}}, None, False),
    ],
    ids=[
        "new-resource",
        "serving-the-old-name",
        "serving-the-old-name-in-other-case",
        "serving-the-new-name",
        "deploying-the-old-name",
        "old-name-rolled-back",
        "lost-status-serving-the-old-name",
        "only-desired-before-never-created",
    ],
)
def test_old_scheme_names_are_kept_while_in_use(
    status: dict[str, Any], served: str | None, legacy: bool
) -> None:
    chosen = migration.in_use(D, corekit.status(**status), served)
    assert chosen == (LEGACY if legacy else D)


def test_a_new_revision_uses_the_new_scheme() -> None:
    serving_old = corekit.status(endpoint=endpoint_info(config=LEGACY.config_name))
    assert migration.in_use(CHANGED, serving_old) == CHANGED


def test_an_unpinned_spec_gets_the_same_names_in_the_pinned_region() -> None:
    assert unpinned("us-east-1").config_name == D.config_name
    assert unpinned("eu-west-1").config_name != D.config_name
