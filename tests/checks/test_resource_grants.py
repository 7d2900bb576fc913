"""Whom a resource policy names: another account (ResourcePolicyCrossAccount), a service for any
source (ResourcePolicyServiceSource); and the policy facts both lean on (this account in every
intrinsic form, ForAllValues, account-less ARN wildcards, parameter values)."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.accounts import (
    OURS,
    UNKNOWN_ACCOUNT,
    account_of,
    is_root_of_ours,
    mark_own,
)
from secure_constructs.checks.cfn import renderings
from secure_constructs.checks.model import Template
from secure_constructs.checks.policy_facts import (
    arn_matches_any_account,
    has_source_condition,
    is_positive_operator,
    is_restricting_condition,
)
from secure_constructs.checks.rules.policy_documents import (
    parameter_values,
    with_parameter_defaults,
)
from tests.checks.templates import granular, resource, run

OTHER = "111122223333"
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


def topic_policy(principal: Any, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sns:Publish"}
    statement.update({"Resource": {"Ref": "T"}, **extra})
    return resource(
        "AWS::SNS::TopicPolicy",
        Topics=[{"Ref": "T"}],
        PolicyDocument={"Version": "2012-10-17", "Statement": [statement]},
    )


# --- this account, in every intrinsic form ------------------------------------------------------

OWN_FORMS = [
    {"Ref": "AWS::AccountId"},
    {"Fn::Sub": "${AWS::AccountId}"},
    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
    {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":role/app"]]},
    {"Fn::If": ["C", {"Ref": "AWS::AccountId"}, {"Fn::Sub": "${AWS::AccountId}"}]},
    {"Fn::GetAtt": ["Role", "Arn"]},
]


ROLE = resource("AWS::IAM::Role", AssumeRolePolicyDocument={})
TYPES = {"Role": "AWS::IAM::Role", "P": "AWS::SSM::Parameter", "C": "Custom::Thing"}


@pytest.mark.parametrize("value", OWN_FORMS)
def test_this_account_is_recognised_in_every_intrinsic_form(value: Any) -> None:
    assert all(account_of(t) == OURS for t in renderings(mark_own(value, TYPES)))


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::ImportValue": "PartnerPrincipal"},  # an export may hold "*"
        {"Fn::GetAtt": ["P", "Value"]},  # an SSM parameter's value
        {"Fn::GetAtt": ["C", "Arn"]},  # a custom resource returns what its handler says
        {"Fn::GetAtt": ["Missing", "Arn"]},  # not a resource of this template
        {"Fn::GetAtt": ["Role", "RoleId"]},  # not an ARN
    ],
)
def test_what_only_deploy_knows_is_not_this_account(value: Any) -> None:
    assert [account_of(t) for t in renderings(mark_own(value, TYPES))] == [UNKNOWN_ACCOUNT]


@pytest.mark.parametrize(
    ("text", "accounts", "judged"),
    [
        (f"arn:aws:iam::{OTHER}:root", (), OTHER),
        (OTHER, (), OTHER),
        (OTHER, (OTHER,), OURS),
        ("arn:aws:iam::\x00:root", (), UNKNOWN_ACCOUNT),  # an account from a parameter
    ],
)
def test_a_literal_account_is_this_one_only_when_known(
    text: str, accounts: tuple[str, ...], judged: str
) -> None:
    assert account_of(text, accounts) == judged


# --- ResourcePolicyCrossAccount ------------------------------------------------------------------

CROSS = [
    {"AWS": OTHER},
    {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": [{"Fn::GetAtt": ["Role", "Arn"]}, f"arn:aws:iam::{OTHER}:role/x"]},
    {"AWS": {"Fn::Sub": "arn:aws:iam::${Partner}:root"}},  # no Default: unknown
]


@pytest.mark.parametrize("principal", CROSS)
def test_fails_when_a_resource_policy_allows_another_account_without_a_pin(principal: Any) -> None:
    findings = run("ResourcePolicyCrossAccount", {"P": topic_policy(principal), "Role": ROLE})

    assert [f.logical_id for f in findings] == ["P"]
    assert all(f.finding_id and f.finding_id.startswith("Account::") for f in findings)


@pytest.mark.parametrize(
    "condition",
    [
        ORG,
        {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        # ForAnyValue keeps the positive meaning
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/*"}},
    ],
)
def test_passes_another_account_pinned_to_an_organization_or_network(condition: Any) -> None:
    policy = topic_policy({"AWS": OTHER}, Condition=condition)
    assert run("ResourcePolicyCrossAccount", {"P": policy}) == []


@pytest.mark.parametrize(
    "condition",
    [
        # the account key names the other account, not this one: no pin of ours
        {"StringEquals": {"aws:PrincipalAccount": OTHER}},
        # ForAllValues is true when the key is absent; a misspelt qualifier is no operator
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"ForAllValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    ],
)
def test_fails_another_account_whose_condition_pins_nothing_of_ours(condition: Any) -> None:
    policy = topic_policy({"AWS": OTHER}, Condition=condition)
    assert granular(run("ResourcePolicyCrossAccount", {"P": policy})) == [
        ("P", f"Account::{OTHER}")
    ]


@pytest.mark.parametrize("principal", [{"AWS": f} for f in OWN_FORMS] + [{"AWS": "*"}])
def test_passes_this_accounts_principals_and_leaves_star_to_resource_policy_public(
    principal: Any,
) -> None:
    assert run("ResourcePolicyCrossAccount", {"P": topic_policy(principal), "Role": ROLE}) == []


def test_passes_a_literal_account_known_to_be_this_one() -> None:
    policy = {"P": topic_policy({"AWS": f"arn:aws:iam::{OTHER}:root"})}
    assert run("ResourcePolicyCrossAccount", policy, accounts=frozenset({OTHER})) == []


def test_fails_a_lambda_permission_for_another_account_without_an_org() -> None:
    base = {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"}, "Principal": OTHER}
    open_ = resource("AWS::Lambda::Permission", **base)
    pinned = resource("AWS::Lambda::Permission", **base, PrincipalOrgID="o-a1b2c3d4e5")
    service = resource("AWS::Lambda::Permission", **{**base, "Principal": "s3.amazonaws.com"})

    findings = run("ResourcePolicyCrossAccount", {"Open": open_, "Org": pinned, "Svc": service})

    assert granular(findings) == [("Open", f"Account::{OTHER}")]


# --- ResourcePolicyServiceSource -----------------------------------------------------------------

SERVICE = {"Service": "events.amazonaws.com"}


@pytest.mark.parametrize(
    "condition",
    [
        None,
        {"StringEquals": {"aws:SourceAccount": "*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my*"}},  # bucket names are global
        {"StringEqualsIfExists": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        {"StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}},
    ],
)
def test_warns_when_a_service_may_act_for_any_source(condition: Any) -> None:
    extra = {"Condition": condition} if condition else {}
    findings = run("ResourcePolicyServiceSource", {"P": topic_policy(SERVICE, **extra)})

    assert granular(findings) == [("P", "Service::events.amazonaws.com")]
    assert findings[0].severity.value == "warning"
    assert "aws:SourceArn" in findings[0].fix


@pytest.mark.parametrize(
    "condition",
    [
        {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}},
        {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        {"StringEquals": {"AWS:SourceOwner": "123456789012"}},
        {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": {
                    "Fn::Sub": "arn:aws:logs:eu-west-1:${AWS::AccountId}:log-group:*"
                }
            }
        },
    ],
)
def test_passes_a_service_tied_to_its_source(condition: Any) -> None:
    policy = topic_policy(SERVICE, Condition=condition)
    assert run("ResourcePolicyServiceSource", {"P": policy}) == []


def test_does_not_read_deny_statements_for_a_service() -> None:
    policy = topic_policy(SERVICE)
    policy["Properties"]["PolicyDocument"]["Statement"][0]["Effect"] = "Deny"
    assert run("ResourcePolicyServiceSource", {"P": policy}) == []


# --- the facts ---------------------------------------------------------------------------------


def test_forallvalues_never_restricts_and_forallvalue_is_no_operator() -> None:
    pin = {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    assert is_restricting_condition({"ForAnyValue:StringEquals": pin})
    assert not is_restricting_condition({"ForAllValues:StringEquals": pin})
    # the old regex (for(any|all)value:) took this misspelling for a restricting operator
    assert not is_restricting_condition({"ForAllValue:StringEquals": pin})
    assert not is_positive_operator("ForAnyValues:StringEquals")
    assert is_positive_operator("foranyvalue:arnlike")


@pytest.mark.parametrize(
    ("pattern", "open_"),
    [
        ("arn:aws:s3:::my*", True),
        ("arn:aws:s3:::my-bucket-?", True),
        ("arn:aws:s3:::\x00*", True),  # a deploy-time prefix then a wildcard
        ("arn:aws:s3:::my-bucket", False),
        ("arn:aws:s3:::my-bucket/*", False),  # objects of one bucket
        ("arn:aws:sns:*:123456789012:*", False),  # account pinned
        ("arn:aws:sns:eu-west-1:1234567890?2:t", True),
        ("arn:aws:events:eu-west-1:\x00:rule/r", False),  # this stack's account at deploy
    ],
)
def test_an_account_less_arn_with_a_wildcard_name_matches_other_accounts(
    pattern: str, open_: bool
) -> None:
    assert arn_matches_any_account(pattern) is open_
    condition = {"ArnLike": {"aws:SourceArn": pattern}}
    assert is_restricting_condition(condition) is not open_
    assert has_source_condition(condition) is not open_


def _template(parameters: dict[str, Any]) -> Template:
    return Template({"Parameters": parameters, "Resources": {}})


@pytest.mark.parametrize(
    "parameter",
    [
        {"Type": "String", "Default": "123456789012", "AllowedValues": ["123456789012", "*"]},
        {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/org/partner-account"},
        {"Type": "CommaDelimitedList", "Default": "123456789012,*"},
    ],
)
def test_a_parameter_is_judged_by_its_worst_value(parameter: dict[str, Any]) -> None:
    t = _template({"Who": parameter})

    assert "*" in parameter_values(parameter)
    assert "*" in renderings(with_parameter_defaults(t, {"Ref": "Who"}))
    subbed = with_parameter_defaults(t, {"Fn::Sub": "arn:aws:iam::${Who}:root"})
    assert "arn:aws:iam::*:root" in renderings(subbed)


def test_an_ssm_parameter_name_is_never_pasted_as_its_value() -> None:
    t = _template({"Who": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/a/b"}})
    assert "/a/b" not in renderings(with_parameter_defaults(t, {"Ref": "Who"}))


@pytest.mark.parametrize(
    "parameter",
    [
        {"Type": "String", "AllowedValues": ["123456789012", "*"]},
        {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/org/who"},
    ],
)
def test_fails_a_public_principal_hidden_in_allowed_values_or_ssm(
    parameter: dict[str, Any],
) -> None:
    findings = run(
        "ResourcePolicyPublic",
        {"P": topic_policy({"AWS": {"Ref": "Who"}})},
        parameters={"Who": parameter},
    )
    assert granular(findings) == [("P", "Principal::*")]


def test_a_replica_keys_policy_is_read_like_a_keys() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}
    replica = resource(
        "AWS::KMS::ReplicaKey",
        PrimaryKeyArn="arn:aws:kms:us-east-1:123456789012:key/mrk-1",
        KeyPolicy={"Statement": [{**statement, "Action": "kms:*", "Resource": "*"}]},
    )

    assert granular(run("KmsKeyPolicyFullAccess", {"R": replica})) == [("R", "Action::kms:*")]
    assert granular(run("ResourcePolicyCrossAccount", {"R": replica})) == [
        ("R", f"Account::{OTHER}")
    ]


def test_a_marker_written_literally_in_a_template_is_no_proof_of_this_account() -> None:
    forged = {"AWS": "arn:aws:iam::<this-account>:root"}
    key = resource(
        "AWS::KMS::Key",
        KeyPolicy={"Statement": [{"Effect": "Allow", "Principal": forged, "Action": "kms:*"}]},
    )

    assert granular(run("KmsKeyPolicyFullAccess", {"K": key})) == [("K", "Action::kms:*")]
    assert granular(run("ResourcePolicyCrossAccount", {"P": topic_policy(forged)})) == [
        ("P", "Account::unknown")
    ]


def test_a_cloudfront_origin_access_identity_is_no_other_account_nor_this_root() -> None:
    oai = {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"}

    assert run("ResourcePolicyCrossAccount", {"P": topic_policy(oai)}) == []
    assert not is_root_of_ours("arn:aws:iam::cloudfront:root")
