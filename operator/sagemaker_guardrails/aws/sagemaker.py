"""The boto3 implementation of :class:`~sagemaker_guardrails.aws.ports.SageMakerPort`.

Each method makes one kind of SageMaker call by attribute (``self._client.<read>(...)`` for
Describe*/List*, ``self._write_client.<mutation>(...)`` for everything else, so a test can read the
IAM actions the operator needs straight off this file), takes a token from the region's shared
bucket first (Describe*/List* in its read lane, every mutating call in its write lane, which is
served first), and turns every botocore exception into the operator's taxonomy through
:func:`~sagemaker_guardrails.aws.translate.translate`.

The two clients differ in retries only: ``client`` retries (botocore's ``standard`` mode),
``write_client`` sends each call once (``aws.clients``), so a mutating call whose answer is lost
is never sent again by botocore; the write-ahead record resolves it.

SageMaker details handled here rather than in the reconciler:

- Describe* of a missing resource is a ``ValidationException`` ("Could not find ..."); the
  describe methods return ``None`` for it, mutating calls raise ``NotFound``.
- ``ListModels``/``ListEndpointConfigs``/``ListEndpoints`` only filter by ``NameContains``; the
  prefix match is done here, over every page (an empty prefix lists everything: the orphan sweep).
- ``ListTags`` refuses ``MaxResults`` below 50; all pages are read.
- ``DeleteTags`` is never sent for an ownership tag (``sagemaker-guardrails.dev/``) or an
  ``aws:`` tag: the core never asks for it, and this is the last place to make sure of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sagemaker_guardrails import errors
from sagemaker_guardrails.aws.ports import EndpointConfigInfo, ModelInfo, ResourceSummary
from sagemaker_guardrails.aws.ratelimit import Limiter, PacedLimiter, Pacer
from sagemaker_guardrails.aws.translate import guarded_call, guarded_pages
from sagemaker_guardrails.core.naming import TAG_PREFIX
from sagemaker_guardrails.core.observed import EndpointSnapshot, snapshot_from_describe

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

__all__ = ["SageMakerAdapter"]

_PAGE = 100
_RESERVED_TAG_PREFIXES = (TAG_PREFIX, "aws:")


def _contains(name_prefix: str) -> dict[str, Any]:
    """``NameContains`` must not be empty: an empty prefix lists everything."""
    return {"NameContains": name_prefix} if name_prefix else {}


class SageMakerAdapter:
    """SageMaker control-plane calls of one region, in the operator's own types."""

    def __init__(
        self,
        client: SageMakerClient,
        limiter: Limiter,
        *,
        write_client: SageMakerClient | None = None,
        acquire_timeout: float = 30.0,
    ) -> None:
        self._client = client
        self._write_client = client if write_client is None else write_client
        self._limiter = limiter
        self._timeout = acquire_timeout

    def paced(self, pacer: Pacer) -> SageMakerAdapter:
        """The same client and shared bucket, every request (each page) waiting for ``pacer`` first."""
        return SageMakerAdapter(
            self._client,
            PacedLimiter(self._limiter, pacer),
            write_client=self._write_client,
            acquire_timeout=self._timeout,
        )

    def _call(self, operation: str) -> AbstractContextManager[None]:
        return guarded_call(self._limiter.lane(operation), self._timeout, operation)

    # -- describe ------------------------------------------------------------------------------

    def describe_endpoint(self, name: str) -> EndpointSnapshot | None:
        try:
            with self._call("DescribeEndpoint"):
                response = self._client.describe_endpoint(EndpointName=name)
        except errors.NotFound:
            return None
        return snapshot_from_describe(dict(response))

    def describe_endpoint_config(self, name: str) -> EndpointConfigInfo | None:
        try:
            with self._call("DescribeEndpointConfig"):
                response = self._client.describe_endpoint_config(EndpointConfigName=name)
        except errors.NotFound:
            return None
        variants = response.get("ProductionVariants") or []
        return EndpointConfigInfo(
            name=response["EndpointConfigName"],
            arn=response["EndpointConfigArn"],
            creation_time=response.get("CreationTime"),
            variant_names=tuple(v["VariantName"] for v in variants),
            model_names=tuple(v["ModelName"] for v in variants if v.get("ModelName")),
            asynchronous=bool(response.get("AsyncInferenceConfig")),
        )

    def describe_model(self, name: str) -> ModelInfo | None:
        try:
            with self._call("DescribeModel"):
                response = self._client.describe_model(ModelName=name)
        except errors.NotFound:
            return None
        containers = list(response.get("Containers") or [])
        primary = response.get("PrimaryContainer")
        if primary:
            containers.insert(0, primary)
        return ModelInfo(
            name=response["ModelName"],
            arn=response["ModelArn"],
            creation_time=response.get("CreationTime"),
            execution_role_arn=response.get("ExecutionRoleArn"),
            images=tuple(c["Image"] for c in containers if c.get("Image")),
        )

    # -- create / update -------------------------------------------------------------------------

    def create_model(self, request: Mapping[str, Any]) -> str:
        with self._call("CreateModel"):
            return self._write_client.create_model(**request)["ModelArn"]

    def create_endpoint_config(self, request: Mapping[str, Any]) -> str:
        with self._call("CreateEndpointConfig"):
            return self._write_client.create_endpoint_config(**request)["EndpointConfigArn"]

    def create_endpoint(self, request: Mapping[str, Any]) -> str:
        with self._call("CreateEndpoint"):
            return self._write_client.create_endpoint(**request)["EndpointArn"]

    def update_endpoint(self, request: Mapping[str, Any]) -> str:
        with self._call("UpdateEndpoint"):
            return self._write_client.update_endpoint(**request)["EndpointArn"]

    # -- delete ------------------------------------------------------------------------------------

    def delete_endpoint(self, name: str) -> None:
        with self._call("DeleteEndpoint"):
            self._write_client.delete_endpoint(EndpointName=name)

    def delete_endpoint_config(self, name: str) -> None:
        with self._call("DeleteEndpointConfig"):
            self._write_client.delete_endpoint_config(EndpointConfigName=name)

    def delete_model(self, name: str) -> None:
        with self._call("DeleteModel"):
            self._write_client.delete_model(ModelName=name)

    # -- tags and lists ----------------------------------------------------------------------------

    def _pages(
        self, operation: str, fetch: Callable[[dict[str, Any]], Mapping[str, Any]]
    ) -> Iterator[Mapping[str, Any]]:
        return guarded_pages(self._limiter.lane(operation), self._timeout, operation, fetch)

    def list_tags(self, arn: str) -> dict[str, str]:
        pages = self._pages(
            "ListTags", lambda more: self._client.list_tags(ResourceArn=arn, MaxResults=_PAGE, **more)
        )
        return {t["Key"]: t.get("Value", "") for page in pages for t in page.get("Tags") or []}

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        with self._call("AddTags"):
            self._write_client.add_tags(
                ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    def delete_tags(self, arn: str, keys: Sequence[str]) -> None:
        reserved = sorted(k for k in keys if k.lower().startswith(_RESERVED_TAG_PREFIXES))
        if reserved:
            raise errors.InvalidRequest(
                f"refusing to delete reserved tags {reserved} of {arn}", operation="DeleteTags"
            )
        with self._call("DeleteTags"):
            self._write_client.delete_tags(ResourceArn=arn, TagKeys=list(keys))

    def list_endpoints(self, name_prefix: str = "") -> list[ResourceSummary]:
        pages = self._pages(
            "ListEndpoints",
            lambda more: self._client.list_endpoints(MaxResults=_PAGE, **_contains(name_prefix), **more),
        )
        return [
            ResourceSummary(e["EndpointName"], e["EndpointArn"], e["CreationTime"])
            for page in pages
            for e in page.get("Endpoints") or []
            if e["EndpointName"].startswith(name_prefix)
        ]

    def list_endpoint_configs(self, name_prefix: str) -> list[ResourceSummary]:
        pages = self._pages(
            "ListEndpointConfigs",
            lambda more: self._client.list_endpoint_configs(
                MaxResults=_PAGE, **_contains(name_prefix), **more
            ),
        )
        return [
            ResourceSummary(c["EndpointConfigName"], c["EndpointConfigArn"], c["CreationTime"])
            for page in pages
            for c in page.get("EndpointConfigs") or []
            if c["EndpointConfigName"].startswith(name_prefix)
        ]

    def list_models(self, name_prefix: str) -> list[ResourceSummary]:
        pages = self._pages(
            "ListModels",
            lambda more: self._client.list_models(MaxResults=_PAGE, **_contains(name_prefix), **more),
        )
        return [
            ResourceSummary(m["ModelName"], m["ModelArn"], m["CreationTime"])
            for page in pages
            for m in page.get("Models") or []
            if m["ModelName"].startswith(name_prefix)
        ]
