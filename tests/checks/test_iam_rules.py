"""The SecureServerless IAM rules on small template dicts (no synth)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_constructs.audit.sources import load_template_file
from secure_constructs.checks.engine import run_rules
from secure_constructs.checks.iam_facts import STAR_ONLY_ACTIONS
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import ORDERS_YAML
from tests.checks.templates import (
    allow,
    function,
    granular,
    policy,
    resource,
    run,
    well_configured_function,
)

XRAY = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]

# --- IAMWildcard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "finding_ids"),
    [
        (allow("*"), ["Action::*"]),
        (allow("s3:*"), ["Action::s3:*"]),
        (allow(["s3:GetObject", "dynamodb:*"]), ["Action::dynamodb:*"]),
        (allow("s3:GetObject", "*"), ["Resource::*"]),
        (allow(["s3:GetObject"], ["arn:aws:s3:::b/*", "*"]), ["Resource::*"]),
        (allow("*", "*"), ["Action::*", "Resource::*"]),
        (allow([*XRAY, "s3:GetObject"], "*"), ["Resource::*"]),
        (allow(["xray:*"], "*"), ["Action::xray:*", "Resource::*"]),
        (allow({"Fn::If": ["C", "s3:GetObject", "xray:PutTraceSegments"]}, "*"), ["Resource::*"]),
        (
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"},
            ["NotAction"],
        ),
        (
            {"Effect": "Allow", "NotAction": XRAY, "Resource": "*"},
            ["NotAction", "Resource::*"],
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"},
            ["NotResource"],
        ),
    ],
)
def test_fails_when_an_allow_statement_has_a_wildcard(
    statement: dict[str, Any], finding_ids: list[str]
) -> None:
    findings = run("IAMWildcard", {"Policy": policy(allow("sqs:SendMessage"), statement)})
    assert granular(findings) == [("Policy", f) for f in finding_ids]
    assert all(f.path.startswith("Properties/PolicyDocument/Statement/1/") for f in findings)
    assert all("grant_" in f.fix for f in findings)


@pytest.mark.parametrize(
    "type_",
    [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    ],
)
def test_fails_on_every_identity_policy_type(type_: str) -> None:
    findings = run("IAMWildcard", {"P": policy(allow("s3:GetObject", "*"), type_=type_)})
    assert granular(findings) == [("P", "Resource::*")]


@pytest.mark.parametrize("type_", ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"])
def test_fails_on_inline_policies_of_roles_users_and_groups(type_: str) -> None:
    document = {"Version": "2012-10-17", "Statement": allow("dynamodb:*")}
    entity = resource(
        type_,
        Policies=[
            {"PolicyName": "ok", "PolicyDocument": {"Statement": [allow("s3:GetObject")]}},
            {"PolicyName": "wide", "PolicyDocument": document},
        ],
    )
    (finding,) = run("IAMWildcard", {"Entity": entity})
    assert finding.finding_id == "Action::dynamodb:*"
    assert finding.path == "Properties/Policies/1/PolicyDocument/Statement/Action"


def test_the_message_names_the_actions_granted_on_star() -> None:
    statement = allow([f"s3:Action{i}" for i in range(8)], "*")
    (finding,) = run("IAMWildcard", {"Policy": policy(statement)})
    assert "s3:Action0" in finding.message and "(+3 more)" in finding.message


@pytest.mark.parametrize(
    "statement",
    [
        allow(XRAY, "*"),
        allow(sorted(STAR_ONLY_ACTIONS), "*"),
        allow("XRay:PutTraceSegments", "*"),
        allow("s3:Get*", "arn:aws:s3:::bucket/*"),
        allow("kms:Decrypt", {"Fn::GetAtt": ["Key", "Arn"]}),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
    ],
)
def test_scoped_and_star_only_statements_pass(statement: dict[str, Any]) -> None:
    key = resource("AWS::KMS::Key", KeyPolicy={})
    assert run("IAMWildcard", {"Policy": policy(statement), "Key": key}) == []


@pytest.mark.parametrize(
    "resource_",
    [
        {"Fn::ImportValue": "EverySecret"},  # an export may hold "*"
        {"Fn::GetAtt": ["Param", "Value"]},  # an SSM parameter's value
        {"Fn::FindInMap": ["M", "K", "V"]},  # a mapping the template lacks
        {"Ref": "Who"},  # a parameter with no default
    ],
)
def test_a_sensitive_grant_on_a_resource_that_cannot_be_read_fails(resource_: Any) -> None:
    param = resource("AWS::SSM::Parameter", Type="String", Value="*")
    statement = allow(["secretsmanager:GetSecretValue"], resource_)
    findings = run("IAMWildcard", {"Policy": policy(statement), "Param": param})
    assert [(f.finding_id, f.path.rsplit("/", 1)[-1]) for f in findings] == [
        ("Resource::unknown", "Resource")
    ]
    assert "cannot be read" in findings[0].message


@pytest.mark.parametrize(
    "resource_",
    [
        {"Ref": "Topic"},  # a resource of the template names itself
        {"Fn::GetAtt": ["Key", "Arn"]},
        {"Fn::Join": ["", ["arn:aws:secretsmanager:", {"Ref": "AWS::Region"}, ":1:secret:x"]]},
    ],
)
def test_a_grant_on_a_resource_of_the_template_passes(resource_: Any) -> None:
    extra = {"Topic": resource("AWS::SNS::Topic"), "Key": resource("AWS::KMS::Key", KeyPolicy={})}
    statement = allow(["kms:Decrypt", "sns:Publish"], resource_)
    assert run("IAMWildcard", {"Policy": policy(statement), **extra}) == []


def test_resource_policies_and_trust_policies_are_not_identity_policies() -> None:
    key = resource(
        "AWS::KMS::Key",
        KeyPolicy={"Statement": [allow("kms:*", "*", Principal={"AWS": "arn:aws:iam::1:root"})]},
    )
    role = resource(
        "AWS::IAM::Role",
        AssumeRolePolicyDocument={
            "Statement": [allow("sts:AssumeRole", Principal={"Service": "lambda.amazonaws.com"})]
        },
    )
    assert run("IAMWildcard", {"Key": key, "Role": role}) == []


_service = st.sampled_from(["s3", "dynamodb", "sqs", "kms", "secretsmanager", "sns"])
_specific_action = st.builds(
    lambda s, n: f"{s}:{n}",
    _service,
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij", min_size=1, max_size=12),
)
_star_only = st.lists(st.sampled_from(sorted(STAR_ONLY_ACTIONS)), min_size=1, max_size=6)


@given(actions=_star_only, as_list=st.booleans(), single=st.booleans())
def test_star_only_actions_on_star_never_fail(
    actions: list[str], as_list: bool, single: bool
) -> None:
    statement = allow(actions if as_list or len(actions) > 1 else actions[0], "*")
    document: Any = statement if single else [statement]
    body = resource("AWS::IAM::Policy", PolicyDocument={"Statement": document})
    assert run("IAMWildcard", {"P": body}) == []


@given(
    star_only=st.lists(st.sampled_from(sorted(STAR_ONLY_ACTIONS)), max_size=4),
    other=st.lists(_specific_action, min_size=1, max_size=4),
    resources=st.lists(st.just("arn:aws:s3:::bucket/*"), max_size=2),
    single=st.booleans(),
)
def test_any_other_action_on_star_fails_once_per_statement(
    star_only: list[str], other: list[str], resources: list[str], single: bool
) -> None:
    statement = allow([*star_only, *other], [*resources, "*"])
    document: Any = statement if single else [statement]
    body = resource("AWS::IAM::Policy", PolicyDocument={"Statement": document})
    assert [f.finding_id for f in run("IAMWildcard", {"P": body})] == ["Resource::*"]


@given(
    actions=st.lists(st.one_of(_specific_action, st.just("*"), _service.map(lambda s: s + ":*"))),
    resources=st.lists(st.sampled_from(["*", "arn:aws:s3:::b"]), max_size=3),
    not_action=st.booleans(),
)
def test_deny_statements_never_fail(
    actions: list[str], resources: list[str], not_action: bool
) -> None:
    statement = {"Effect": "Deny", "NotAction" if not_action else "Action": actions}
    statement["Resource"] = resources
    assert run("IAMWildcard", {"P": policy(statement)}) == []


@given(actions=st.lists(st.one_of(_specific_action, _service.map(lambda s: s + ":*")), min_size=1))
def test_every_service_wildcard_is_its_own_finding(actions: list[str]) -> None:
    findings = run("IAMWildcard", {"P": policy(allow(actions))})
    wildcards = sorted({a for a in actions if a.endswith(":*")})
    assert sorted(f.finding_id or "" for f in findings) == [f"Action::{a}" for a in wildcards]


@pytest.mark.parametrize(
    ("statement", "finding_ids"),
    [
        (
            allow("sqs:SendMessage", {"Fn::If": ["IsProd", "arn:aws:sqs:eu-west-1:1:q", "*"]}),
            ["Resource::*"],
        ),
        (allow("sqs:SendMessage", {"Fn::Join": ["", ["*"]]}), ["Resource::*"]),
        (allow("sqs:SendMessage", [{"Fn::Sub": "*"}]), ["Resource::*"]),
        (allow({"Fn::If": ["C", "s3:GetObject", "*"]}), ["Action::*"]),
        (allow({"Fn::Join": [":", ["dynamodb", "*"]]}), ["Action::dynamodb:*"]),
        (
            allow({"Fn::If": ["C", XRAY[0], "s3:GetObject"]}, {"Fn::If": ["C", "*", "*"]}),
            ["Resource::*"],
        ),
    ],
)
def test_fails_when_an_intrinsic_can_produce_a_wildcard(
    statement: dict[str, Any], finding_ids: list[str]
) -> None:
    findings = run("IAMWildcard", {"Policy": policy(statement)})
    assert granular(findings) == [("Policy", f) for f in finding_ids]
    assert all(f.severity is Severity.ERROR for f in findings)


def test_a_star_only_action_behind_an_intrinsic_may_still_use_star() -> None:
    statement = allow({"Fn::If": ["C", XRAY[0], XRAY[1]]}, {"Fn::If": ["C", "*", "*"]})
    assert run("IAMWildcard", {"Policy": policy(statement)}) == []


def test_fails_on_the_orders_template_where_one_fn_if_branch_is_star() -> None:
    stack = load_template_file(ORDERS_YAML)
    findings = run_rules(Template(stack.body, path=stack.path))
    role = [(f.path, f.finding_id) for f in findings if f.rule_id == "IAMWildcard"]
    sqs = "Properties/Policies/0/PolicyDocument/Statement/6/Resource"
    assert (sqs, "Resource::*") in role
    (finding,) = [f for f in findings if f.rule_id == "IAMWildcard" and f.path == sqs]
    assert finding.logical_id == "OrdersRole" and "sqs:SendMessage" in finding.message


@pytest.mark.parametrize(
    "action", ["iam:Put*", "kms:*Key*", "sts:AssumeRole*", "secretsmanager:Get*", "Lambda:Invoke?"]
)
def test_warns_when_a_sensitive_service_has_a_partial_action_wildcard(action: str) -> None:
    (finding,) = run("IAMWildcard", {"Policy": policy(allow(["s3:GetObject", action]))})
    assert finding.finding_id == f"Action::{action}"
    assert finding.severity is Severity.WARNING
    assert action in finding.message


@pytest.mark.parametrize("action", ["s3:Get*", "dynamodb:Query*", "logs:Put*", "kms:Decrypt"])
def test_partial_wildcards_of_other_services_and_named_actions_pass(action: str) -> None:
    assert run("IAMWildcard", {"Policy": policy(allow(action))}) == []


@pytest.mark.parametrize("action", ["kms:*", "iam:*", "*"])
def test_whole_service_wildcards_stay_errors(action: str) -> None:
    (finding,) = run("IAMWildcard", {"Policy": policy(allow(action))})
    assert finding.severity is Severity.ERROR and finding.finding_id == f"Action::{action}"


# --- IAMSharedRole --------------------------------------------------------------------------


def test_fails_when_two_functions_share_a_role() -> None:
    role = {"Fn::GetAtt": ["SharedRole", "Arn"]}
    resources = {
        "A": function(Role=role),
        "B": function(Role=role),
        "C": function(Role={"Fn::GetAtt": ["OwnRole", "Arn"]}),
    }
    findings = run("IAMSharedRole", resources)
    assert granular(findings) == [("A", None), ("B", None)]
    assert all(f.path == "Properties/Role" for f in findings)
    messages = {f.logical_id: f.message for f in findings}
    assert "SharedRole" in messages["A"] and "B" in messages["A"]
    assert all("SecureFunction" in f.fix for f in findings)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("arn:aws:iam::123456789012:role/shared", "arn:aws:iam::123456789012:role/shared"),
        ({"Fn::GetAtt": "Shared.Arn"}, {"Fn::GetAtt": ["Shared", "Arn"]}),
        ({"Fn::ImportValue": "SharedRoleArn"}, {"Fn::ImportValue": "SharedRoleArn"}),
        ({"Ref": "RoleArnParameter"}, {"Ref": "RoleArnParameter"}),
    ],
)
def test_fails_when_two_functions_name_the_same_role_in_any_form(first: Any, second: Any) -> None:
    findings = run("IAMSharedRole", {"A": function(Role=first), "B": function(Role=second)})
    assert granular(findings) == [("A", None), ("B", None)]


def test_a_long_list_of_sharers_is_shortened() -> None:
    role = {"Fn::GetAtt": ["SharedRole", "Arn"]}
    findings = run("IAMSharedRole", {f"Fn{i}": function(Role=role) for i in range(20)})
    assert len(findings) == 20
    assert "(+14 more)" in findings[0].message


def test_one_role_per_function_passes() -> None:
    resources = {
        "A": function(Role={"Fn::GetAtt": ["RoleA", "Arn"]}),
        "B": function(Role={"Fn::GetAtt": ["RoleB", "Arn"]}),
        "C": function(Role="arn:aws:iam::123456789012:role/c"),
        "D": function(Role="arn:aws:iam::123456789012:role/d"),
    }
    assert run("IAMSharedRole", resources) == []


# --- scale (speed is measured in benchmarks/, never by a timed unit test) --------------------


def test_the_rules_report_every_finding_on_a_500_resource_template() -> None:
    resources: dict[str, Any] = {}
    shared = {"Fn::GetAtt": ["SharedRole", "Arn"]}
    for i in range(100):
        resources.update(well_configured_function(f"Fn{i}", Role=shared))
        resources[f"Policy{i}"] = policy(*[allow([f"s3:Get{j}" for j in range(10)], "*")] * 5)
    template = Template({"Resources": resources})
    ours = [
        "LambdaEnvironmentSecret",
        "LambdaTimeout",
        "LambdaAsyncFailureHandling",
        "LambdaAlarms",
        "LambdaPublicAccess",
        "IAMWildcard",
        "IAMSharedRole",
    ]
    counts = {rule_id: len(RULES[rule_id].run(template)) for rule_id in ours}
    assert counts["IAMSharedRole"] == 100 and counts["IAMWildcard"] == 500
