"""Specs SageMaker deploys without their guardrails (spec §5): the notice, and how a pass reports it
(condition GuardrailsNotApplied, a Warning Event once per revision)."""

from __future__ import annotations

from typing import Any

import pytest
from tests import corekit

from sagemaker_guardrails.core import exclusions
from sagemaker_guardrails.core.desired import parse_spec

pytestmark = pytest.mark.unit

MARKETPLACE = "709825985650.dkr.ecr.us-east-1.amazonaws.com/"


def notice(raw: dict[str, Any], **options: Any) -> exclusions.Notice | None:
    return exclusions.notice(parse_spec(raw), "abcd1234", **options)


def serverless_spec(strategy: str = "Canary") -> dict[str, Any]:
    raw = corekit.spec(strategy=strategy)
    raw["variants"] = [
        {"name": "AllTraffic", "model": "xgb", "serverless": {"memorySizeInMB": 2048, "maxConcurrency": 5}}
    ]
    if strategy == "Canary":  # a canary size in percent needs no instance count
        raw["deployment"]["blueGreen"]["trafficRouting"]["canarySize"] = {
            "type": "CapacityPercent",
            "value": 25,
        }
    return raw


def test_inf1_instances_get_the_notice_with_variant_and_revision() -> None:
    found = notice(corekit.spec(strategy="Canary", instance_type="ml.inf1.xlarge"))
    assert found is not None
    assert found.reason == "InstanceTypeExcluded"
    assert "variant AllTraffic runs on ml.inf1.xlarge" in found.message
    assert "revision abcd1234" in found.message
    assert "without bakes and without alarm-based auto-rollback" in found.message


@pytest.mark.parametrize("instance_type", ["ml.m5.xlarge", "ml.inf2.xlarge", "ml.g5.xlarge"])
def test_guarded_instance_types_get_none(instance_type: str) -> None:
    assert notice(corekit.spec(strategy="Canary", instance_type=instance_type)) is None


def test_rolling_on_inf1_gets_the_notice() -> None:
    assert notice(corekit.spec(strategy="Rolling", instance_type="ml.inf1.2xlarge")) is not None


def test_a_policy_that_asks_for_nothing_more_than_the_fallback_gets_none() -> None:
    raw = corekit.spec(strategy="AllAtOnce", instance_type="ml.inf1.xlarge")
    raw["deployment"] = {"blueGreen": {"trafficRouting": {"type": "AllAtOnce", "waitIntervalSeconds": 0}}}
    assert notice(raw) is None
    raw["deployment"]["blueGreen"]["terminationWaitSeconds"] = 60  # a final bake is lost
    assert notice(raw) is not None


def test_marketplace_images_are_matched_by_the_configured_prefixes() -> None:
    raw = corekit.spec(image=f"{MARKETPLACE}vendor-model:1")
    assert notice(raw) is None  # no prefixes known by default
    found = notice(raw, image_prefixes=[MARKETPLACE])
    assert found is not None and found.reason == "MarketplaceContainer"
    assert "model xgb uses the AWS Marketplace image" in found.message


def test_serverless_blue_green_gets_the_notice() -> None:
    found = notice(serverless_spec())
    assert found is not None and found.reason == "ServerlessVariant"


def test_instance_prefixes_are_configurable() -> None:
    raw = corekit.spec(instance_type="ml.inf1.xlarge")
    assert notice(raw, instance_prefixes=[]) is None
    assert notice(corekit.spec(instance_type="ml.p4d.24xlarge"), instance_prefixes=["ml.p4d."]) is not None
