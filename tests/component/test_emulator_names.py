"""Emulator conformance: SageMaker names are unique regardless of case, and ARNs carry them in lower case.

DescribeEndpoint("case-clash") returns the endpoint created as ``Case-Clash`` (with its own spelling),
and a second create that differs only in case is refused as already existing; the same holds for
endpoint configs and models. The operator's ownership and immutability checks rely on this.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.component

ARN = "arn:aws:sagemaker:us-east-1:123456789012"


def test_endpoint_names_are_case_insensitive_like_sagemaker(endpoints: Any) -> None:
    sagemaker = endpoints.sagemaker
    endpoints.endpoint("Case-Clash")
    described = sagemaker.describe_endpoint(EndpointName="case-clash")
    assert described["EndpointName"] == "Case-Clash"
    assert described["EndpointArn"] == f"{ARN}:endpoint/case-clash"
    assert sagemaker.describe_endpoint(EndpointName="CASE-CLASH")["EndpointArn"] == described["EndpointArn"]
    with pytest.raises(
        ClientError, match=r'Cannot create already existing endpoint "arn:.*:endpoint/case-clash"'
    ):
        sagemaker.create_endpoint(EndpointName="case-clash", EndpointConfigName="Case-Clash-v2")
    tags = sagemaker.list_tags(ResourceArn=described["EndpointArn"])["Tags"]
    assert tags == []
    listed = sagemaker.list_endpoints(NameContains="CASE-clash")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == ["Case-Clash"]


def test_config_and_model_names_are_case_insensitive_like_sagemaker(endpoints: Any) -> None:
    sagemaker = endpoints.sagemaker
    endpoints.model("Mixed-Model")
    endpoints.config("Mixed-Config", "mixed-model")
    assert sagemaker.describe_model(ModelName="mixed-model")["ModelName"] == "Mixed-Model"
    config = sagemaker.describe_endpoint_config(EndpointConfigName="MIXED-config")
    assert (config["EndpointConfigName"], config["EndpointConfigArn"]) == (
        "Mixed-Config",
        f"{ARN}:endpoint-config/mixed-config",
    )
    with pytest.raises(ClientError, match="Cannot create already existing model"):
        endpoints.model("mixed-MODEL")
    with pytest.raises(ClientError, match="Cannot create already existing endpoint configuration"):
        endpoints.config("mixed-config", "Mixed-Model")
