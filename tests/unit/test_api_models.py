"""The spec models: valid edge cases that the rules must not over-reject, and the rule machinery."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from tests import crdkit
from tests.unit.test_examples_invalid import example, merge_patch

from sagemaker_guardrails.api import spec as spec_module
from sagemaker_guardrails.api.base import CamelModel
from sagemaker_guardrails.api.crd import openapi_schema
from sagemaker_guardrails.api.resource import GuardedEndpointResource, InvalidResourceError, validate_manifest
from sagemaker_guardrails.api.schema import structural_schema
from sagemaker_guardrails.api.spec import DeletionPolicy, GuardedEndpointSpec, TrafficRoutingType

pytestmark = pytest.mark.unit

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def variant(
    name: str = "AllTraffic", model: str = "xgb", count: int | None = 4, **extra: Any
) -> dict[str, Any]:
    v: dict[str, Any] = {"name": name, "model": model, **extra}
    if count is not None:
        v |= {"instanceType": "ml.m5.xlarge", "initialInstanceCount": count}
    return v


SERVERLESS = {"memorySizeInMB": 2048, "maxConcurrency": 20}

# (id, base example, merge patch): each must be accepted by pydantic and by the CRD schema.
VALID_EDGE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "serverless-all-at-once",
        "all-at-once",
        {"spec": {"variants": [variant(model="distilbert", count=None, serverless=SERVERLESS)]}},
    ),
    (
        "serverless-canary-percent",
        "canary",
        {"spec": {"variants": [variant(count=None, serverless=SERVERLESS)]}},
    ),
    (
        "serverless-with-provisioned-equal-to-max",
        "canary",
        {
            "spec": {
                "variants": [variant(count=None, serverless={**SERVERLESS, "provisionedConcurrency": 20})]
            }
        },
    ),
    (
        "canary-percent-50",
        "canary",
        {"spec": {"deployment": {"blueGreen": {"trafficRouting": {"canarySize": {"value": 50}}}}}},
    ),
    (
        "canary-percent-1",
        "canary",
        {"spec": {"deployment": {"blueGreen": {"trafficRouting": {"canarySize": {"value": 1}}}}}},
    ),
    (
        "canary-instances-half",
        "async",
        {"spec": {"deployment": {"blueGreen": {"trafficRouting": {"canarySize": {"value": 2}}}}}},
    ),
    (
        "canary-instances-two-variants",
        "async",
        {"spec": {"variants": [variant("A", "ocr", 4), variant("B", "ocr", 6)]}},
    ),
    (
        "canary-instances-ignore-serverless-variant",
        "async",
        {"spec": {"variants": [variant("A", "ocr", 2), variant("B", "ocr", None, serverless=SERVERLESS)]}},
    ),
    (
        "linear-percent-10",
        "linear",
        {"spec": {"deployment": {"blueGreen": {"trafficRouting": {"linearStepSize": {"value": 10}}}}}},
    ),
    (
        "linear-percent-50",
        "linear",
        {"spec": {"deployment": {"blueGreen": {"trafficRouting": {"linearStepSize": {"value": 50}}}}}},
    ),
    (
        "linear-instances-10-percent",
        "linear",
        {
            "spec": {
                "deployment": {
                    "blueGreen": {"trafficRouting": {"linearStepSize": {"type": "InstanceCount", "value": 1}}}
                }
            }
        },
    ),
    (
        "linear-instances-50-percent",
        "linear",
        {
            "spec": {
                "deployment": {
                    "blueGreen": {"trafficRouting": {"linearStepSize": {"type": "InstanceCount", "value": 5}}}
                }
            }
        },
    ),
    (
        "rolling-percent-5",
        "rolling",
        {"spec": {"deployment": {"rolling": {"maximumBatchSize": {"value": 5}}}}},
    ),
    (
        "rolling-percent-50",
        "rolling",
        {"spec": {"deployment": {"rolling": {"maximumBatchSize": {"value": 50}}}}},
    ),
    (
        "rolling-instances-5-percent",
        "rolling",
        {
            "spec": {
                "variants": [variant(model="llama", count=20)],
                "deployment": {"rolling": {"maximumBatchSize": {"type": "InstanceCount", "value": 1}}},
            }
        },
    ),
    (
        "rolling-instances-half",
        "rolling",
        {"spec": {"deployment": {"rolling": {"maximumBatchSize": {"type": "InstanceCount", "value": 4}}}}},
    ),
    (
        "rolling-rollback-whole-fleet-in-instances",
        "rolling",
        {
            "spec": {
                "deployment": {"rolling": {"rollbackMaximumBatchSize": {"type": "InstanceCount", "value": 8}}}
            }
        },
    ),
    (
        "rolling-without-timeout",
        "rolling",
        {"spec": {"deployment": {"rolling": {"maximumExecutionTimeoutSeconds": None}}}},
    ),
    (
        "waits-at-maximum",
        "canary",
        {
            "spec": {
                "deployment": {
                    "blueGreen": {
                        "trafficRouting": {"waitIntervalSeconds": 3600},
                        "terminationWaitSeconds": 3600,
                        "maximumExecutionTimeoutSeconds": 28800,
                    }
                }
            }
        },
    ),
    (
        "timeout-one-second-above-waits",
        "all-at-once",
        {
            "spec": {
                "deployment": {
                    "blueGreen": {"terminationWaitSeconds": 599, "maximumExecutionTimeoutSeconds": 600}
                }
            }
        },
    ),
    (
        "blue-green-without-timeout",
        "canary",
        {"spec": {"deployment": {"blueGreen": {"maximumExecutionTimeoutSeconds": None}}}},
    ),
    (
        "all-at-once-without-waits",
        "all-at-once",
        {
            "spec": {
                "deployment": {
                    "blueGreen": {
                        "trafficRouting": {"waitIntervalSeconds": None},
                        "terminationWaitSeconds": None,
                    }
                }
            }
        },
    ),
    ("no-auto-rollback", "all-at-once", {"spec": {"deployment": {"autoRollback": None}}}),
    (
        "ten-alarms",
        "canary",
        {"spec": {"deployment": {"autoRollback": {"alarms": [f"alarm-{i}" for i in range(10)]}}}},
    ),
    (
        "alarm-name-with-spaces",
        "canary",
        {"spec": {"deployment": {"autoRollback": {"alarms": ["Fraud detector 5XX (prod)"]}}}},
    ),
    ("endpoint-name-63", "canary", {"spec": {"endpointName": "e" * 63}}),
    ("names-with-double-hyphens", "canary", {"spec": {"variants": [variant("all--traffic")]}}),
    (
        "unused-second-model",
        "canary",
        {
            "spec": {
                "models": [
                    {"name": "xgb", "executionRoleArn": ROLE, "containers": [{"image": IMAGE}]},
                    {"name": "shadow", "executionRoleArn": ROLE, "containers": [{"image": IMAGE}]},
                ]
            }
        },
    ),
    (
        "pipeline-of-15-containers",
        "canary",
        {
            "spec": {
                "models": [{"name": "xgb", "executionRoleArn": ROLE, "containers": [{"image": IMAGE}] * 15}]
            }
        },
    ),
    (
        "environment-underscore-key",
        "canary",
        {
            "spec": {
                "models": [
                    {
                        "name": "xgb",
                        "executionRoleArn": ROLE,
                        "containers": [{"image": IMAGE, "environment": {"_X1": ""}}],
                    }
                ]
            }
        },
    ),
    ("tag-with-aws-inside", "canary", {"spec": {"tags": {"team:aws": "x", "owner": ""}}}),
    ("govcloud-region", "canary", {"spec": {"region": "us-gov-west-1"}}),
    (
        "capture-disabled-single-mode",
        "canary",
        {"spec": {"dataCapture": {"enableCapture": False, "captureModes": ["Output"]}}},
    ),
    (
        "async-minimal",
        "async",
        {
            "spec": {
                "asyncInference": {
                    "outputConfig": {"s3FailurePath": None, "notificationConfig": None},
                    "clientConfig": None,
                }
            }
        },
    ),
    ("retain-and-adopt", "linear", {"spec": {"deletionPolicy": "Retain", "adoptExisting": True}}),
]

# (id, base example, merge patch) applied as an update of the example: all allowed.
VALID_UPDATES: list[tuple[str, str, dict[str, Any]]] = [
    ("endpoint-name-set-to-metadata-name", "all-at-once", {"spec": {"endpointName": "sentiment-api"}}),
    ("endpoint-name-removed-equal-to-metadata-name", "canary", {"spec": {"endpointName": None}}),
    (
        "new-image",
        "canary",
        {
            "spec": {
                "models": [{"name": "xgb", "executionRoleArn": ROLE, "containers": [{"image": IMAGE + "1"}]}]
            }
        },
    ),
    (
        "canary-to-rolling",
        "canary",
        {
            "spec": {
                "deployment": {
                    "blueGreen": None,
                    "rolling": {
                        "maximumBatchSize": {"type": "CapacityPercent", "value": 25},
                        "waitIntervalSeconds": 300,
                    },
                }
            }
        },
    ),
    (
        "async-added",
        "canary",
        {"spec": {"asyncInference": {"outputConfig": {"s3OutputPath": "s3://bucket/out"}}}},
    ),
    ("scale-out", "rolling", {"spec": {"variants": [variant(model="llama", count=16)]}}),
]


@pytest.mark.parametrize(("base", "patch"), [pytest.param(b, p, id=i) for i, b, p in VALID_EDGE_CASES])
def test_valid_edge_case_is_accepted_by_pydantic_and_the_crd_schema(base: str, patch: dict[str, Any]) -> None:
    manifest = merge_patch(example(base), patch)
    validate_manifest(manifest)
    crdkit.validator().validate(manifest)


@pytest.mark.parametrize(("base", "patch"), [pytest.param(b, p, id=i) for i, b, p in VALID_UPDATES])
def test_valid_update_is_accepted(base: str, patch: dict[str, Any]) -> None:
    old = example(base)
    validate_manifest(merge_patch(old, patch), old=old)


def test_every_rule_field_path_exists_in_its_schema() -> None:
    """The API server refuses a CRD whose fieldPath does not resolve; catch that without one."""
    models = [getattr(spec_module, n) for n in spec_module.__all__]
    checked = 0
    for model in (m for m in models if isinstance(m, type) and issubclass(m, CamelModel) and m.rules):
        schema = structural_schema(model)
        for rule in model.rules:
            node = schema
            for part in (rule.field_path or "").split(".")[1:]:
                node = node["properties"][part]
            checked += 1
    assert checked >= 20


def test_rule_messages_are_the_same_in_pydantic_and_the_crd() -> None:
    with pytest.raises(ValidationError) as rejected:
        GuardedEndpointSpec.model_validate(
            merge_patch(
                example("canary")["spec"],
                {"deployment": {"blueGreen": {"trafficRouting": {"canarySize": None}}}},
            )
        )
    crd_rules = openapi_schema()["properties"]["spec"]["properties"]["deployment"]["properties"]["blueGreen"]
    messages = [r["message"] for r in crd_rules["properties"]["trafficRouting"]["x-kubernetes-validations"]]
    assert "canarySize is required when type is Canary" in messages
    assert "canarySize is required when type is Canary" in str(rejected.value)


def test_several_broken_rules_are_reported_together() -> None:
    with pytest.raises(ValidationError) as rejected:
        GuardedEndpointSpec.model_validate(
            merge_patch(
                example("canary")["spec"],
                {"variants": [variant("A", "nope"), variant("A", "xgb")]},
            )
        )
    assert "variants[].name must be unique" in str(rejected.value)
    assert "every variants[].model must name a model declared in models" in str(rejected.value)


@pytest.mark.parametrize("key", ["AWS:x", "Sagemaker-Guardrails.dev/cluster", "aws:"])
def test_reserved_tag_prefixes_ignore_ascii_case(key: str) -> None:
    with pytest.raises(ValidationError, match="reserved key prefixes"):
        GuardedEndpointSpec.model_validate(merge_patch(example("canary")["spec"], {"tags": {key: "y"}}))


def test_reserved_tag_prefix_check_folds_ascii_only_like_cel() -> None:
    # U+212A KELVIN SIGN lowers to "k" in Python but not in CEL's lowerAscii.
    spec = GuardedEndpointSpec.model_validate(
        merge_patch(example("canary")["spec"], {"tags": {"sagema\u212aer-guardrails.dev/x": "y"}})
    )
    assert len(spec.tags) == 3


def test_spec_reads_camel_case_and_snake_case_and_is_frozen() -> None:
    spec = GuardedEndpointSpec.model_validate(example("canary")["spec"])
    assert spec.deletion_policy is DeletionPolicy.RETAIN
    assert spec.deployment.blue_green is not None
    assert spec.deployment.blue_green.traffic_routing.type is TrafficRoutingType.CANARY
    assert spec.deployment.strategy == "Canary"
    with pytest.raises(ValidationError):
        spec.region = "eu-west-1"  # type: ignore[misc]
    snake = GuardedEndpointSpec.model_validate(spec.model_dump())
    assert snake == spec


def test_defaults_match_the_crd_defaults() -> None:
    spec = GuardedEndpointSpec.model_validate(example("all-at-once")["spec"])
    assert spec.deletion_policy is DeletionPolicy.DELETE
    assert spec.adopt_existing is False
    assert spec.variants[0].initial_variant_weight == 1.0
    schema = openapi_schema()["properties"]["spec"]["properties"]
    assert schema["deletionPolicy"]["default"] == "Delete"
    assert schema["adoptExisting"]["default"] is False
    assert schema["variants"]["items"]["properties"]["initialVariantWeight"]["default"] == 1.0


def test_resource_endpoint_name_defaults_to_metadata_name() -> None:
    assert validate_manifest(example("all-at-once")).endpoint_name == "sentiment-api"
    resource = validate_manifest(merge_patch(example("canary"), {"metadata": {"name": "x"}}))
    assert isinstance(resource, GuardedEndpointResource)
    assert resource.endpoint_name == "fraud-detector"


def test_manifest_without_a_name_is_invalid() -> None:
    with pytest.raises(InvalidResourceError) as rejected:
        validate_manifest(merge_patch(example("canary"), {"metadata": {"name": None}}))
    assert rejected.value.messages == ["metadata.name is required"]


def test_transition_errors_list_every_broken_rule() -> None:
    old = example("async")
    new = merge_patch(old, {"spec": {"region": "eu-west-1", "asyncInference": None, "endpointName": "other"}})
    with pytest.raises(InvalidResourceError) as rejected:
        validate_manifest(new, old=old)
    assert len(rejected.value.messages) == 3
