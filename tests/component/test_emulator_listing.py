"""Conformance of the listing calls the orphan sweep makes, through boto3 (every response checked
against botocore's output shapes): ListEndpoints, ListEndpointConfigs and ListModels without
``NameContains`` over several pages, ListTags of each kind, and the adapter's whole-account lists."""

from __future__ import annotations

from typing import Any

import pytest
from tests.reconcilerkit import World

from sagemaker_guardrails.aws.clients import ClientFactory

pytestmark = pytest.mark.component

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
COUNT = 3


def _create(sagemaker: Any, index: int) -> None:
    tags = [{"Key": "sagemaker-guardrails.dev/cluster", "Value": f"c{index}"}]
    sagemaker.create_model(
        ModelName=f"m{index}",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
        Tags=tags,
    )
    variant = {"VariantName": "AllTraffic", "ModelName": f"m{index}", "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"c{index}", ProductionVariants=[{**variant, "InitialInstanceCount": 1}], Tags=tags
    )
    sagemaker.create_endpoint(EndpointName=f"e{index}", EndpointConfigName=f"c{index}", Tags=tags)


def _all(sagemaker: Any, operation: str, key: str, field: str) -> list[str]:
    names: list[str] = []
    for page in sagemaker.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2}):
        names.extend(item[field] for item in page[key])
    return names


def test_lists_without_a_name_filter_page_through_everything_and_tags_read_back(sagemaker: Any) -> None:
    for index in range(COUNT):
        _create(sagemaker, index)
    expected = {f"{p}{i}" for p in "emc" for i in range(COUNT)}
    endpoints = _all(sagemaker, "list_endpoints", "Endpoints", "EndpointName")
    configs = _all(sagemaker, "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName")
    models = _all(sagemaker, "list_models", "Models", "ModelName")
    assert sorted(endpoints + configs + models) == sorted(expected)
    first = sagemaker.list_endpoints(MaxResults=2)
    assert len(first["Endpoints"]) == 2 and first["NextToken"]
    assert {"CreationTime", "LastModifiedTime", "EndpointStatus"} <= set(first["Endpoints"][0])
    for arn in (
        sagemaker.describe_endpoint(EndpointName="e1")["EndpointArn"],
        sagemaker.describe_endpoint_config(EndpointConfigName="c1")["EndpointConfigArn"],
        sagemaker.describe_model(ModelName="m1")["ModelArn"],
    ):
        tags = sagemaker.list_tags(ResourceArn=arn, MaxResults=50)["Tags"]
        assert tags == [{"Key": "sagemaker-guardrails.dev/cluster", "Value": "c1"}]


def test_adapter_lists_the_whole_account_with_an_empty_prefix(world: World) -> None:
    for index in range(COUNT):
        _create(world.sagemaker, index)
    factory: ClientFactory = world.factory
    port = factory("us-east-1").sagemaker
    assert sorted(s.name for s in port.list_endpoints("")) == ["e0", "e1", "e2"]
    assert sorted(s.name for s in port.list_endpoints("e1")) == ["e1"]
    assert sorted(s.name for s in port.list_endpoint_configs("")) == ["c0", "c1", "c2"]
    assert sorted(s.name for s in port.list_models("")) == ["m0", "m1", "m2"]
    assert all(s.creation_time is not None for s in port.list_models(""))
    calls = world.calls("ListEndpoints")
    assert calls, "ListEndpoints went through the adapter"
