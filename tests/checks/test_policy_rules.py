"""The resource-based, KMS, trust-policy and privilege-wildcard rules on small template dicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secure_constructs.checks.policy_facts import (
    RESTRICTING_CONDITION_KEYS,
    arn_matches_any_account,
    is_restricting_condition,
)
from tests.checks.templates import allow, granular, policy, resource, run

ANY = {"AWS": "*"}
ROOT = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(principal: Any, action: Any = "sqs:SendMessage", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def holder(type_: str, document: dict[str, Any]) -> dict[str, Any]:
    """A resource of `type_` holding `document` where that type keeps its policy."""
    if type_ == "AWS::KMS::Key":
        return resource(type_, KeyPolicy=document)
    if type_ == "AWS::SecretsManager::ResourcePolicy":
        return resource(type_, SecretId={"Ref": "S"}, ResourcePolicy=document)
    if type_ == "AWS::ApiGateway::RestApi":
        return resource(type_, Policy=document)
    if type_ == "AWS::ECR::Repository":
        return resource(type_, RepositoryPolicyText=document)
    if type_ == "AWS::Logs::ResourcePolicy":
        return resource(type_, PolicyName="p", PolicyDocument=json.dumps(document))
    return resource(type_, PolicyDocument=document)


TYPES = [
    "AWS::KMS::Key",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::ApiGateway::RestApi",
    "AWS::Logs::ResourcePolicy",
    "AWS::ECR::Repository",
]

# --- the facts table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "restricts"),
    [
        ({"ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/r"}}, True),
        ({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, True),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, True),
        ({"StringEquals": {"kms:CallerAccount": "111122223333"}}, True),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
        ({"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, False),
        ({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}, False),
        ({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, False),
        ({"Null": {"aws:SourceArn": "false"}}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:execute-api:*:*:*"}}, False),
        ({"StringLike": {"aws:SourceAccount": "*"}}, False),
        ({"StringLike": {"aws:PrincipalOrgID": "o-????????"}}, False),
        (None, False),
    ],
)
def test_which_conditions_restrict_the_caller(condition: Any, restricts: bool) -> None:
    assert is_restricting_condition(condition) is restricts


def test_the_facts_table_names_the_documented_keys_and_not_kms_via_service() -> None:
    assert {"aws:sourcearn", "aws:sourceaccount", "aws:principalorgid", "kms:calleraccount"} <= set(
        RESTRICTING_CONDITION_KEYS
    )
    assert "kms:viaservice" not in RESTRICTING_CONDITION_KEYS


@pytest.mark.parametrize(
    ("arn", "open_"),
    [
        ("*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:execute-api:*:*:*", True),
        ("arn:aws:sns:eu-west-1:????????????:t", True),
        ("arn:aws:s3:::my-bucket", False),
        ("arn:aws:execute-api:eu-west-1:111122223333:abc/*/GET/", False),
    ],
)
def test_arn_patterns_matching_every_account(arn: str, open_: bool) -> None:
    assert arn_matches_any_account(arn) is open_


# --- ResourcePolicyPublic ----------------------------------------------------------------------


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize(
    "principal",
    [
        "*",
        ANY,
        {"AWS": ["arn:aws:iam::111122223333:root", "*"]},
        {"AWS": {"Fn::Join": ["", ["*"]]}},
    ],
)
def test_fails_when_a_resource_policy_allows_everyone(type_: str, principal: Any) -> None:
    findings = run("ResourcePolicyPublic", {"P": holder(type_, doc(stmt(principal)))})
    assert granular(findings) == [("P", "Principal::*")]
    assert "restricts the caller" in findings[0].message


def test_fails_when_a_key_grants_decrypt_to_everyone_behind_via_service_only() -> None:
    s = stmt(
        ANY,
        "kms:Decrypt",
        Condition={"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}},
    )
    assert granular(run("ResourcePolicyPublic", {"K": holder("AWS::KMS::Key", doc(s))})) == [
        ("K", "Principal::*")
    ]


def test_fails_on_not_principal_and_on_an_open_source_arn() -> None:
    not_principal = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
        "Action": "sns:Publish",
        "Resource": "*",
    }
    open_source = stmt(
        {"Service": "events.amazonaws.com"},
        "sns:Publish",
        Condition={"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/*"}},
    )
    findings = run(
        "ResourcePolicyPublic",
        {"T": holder("AWS::SNS::TopicPolicy", doc(not_principal, open_source))},
    )
    assert granular(findings) == [
        ("T", "NotPrincipal"),
        ("T", "SourceArn::arn:aws:events:*:*:rule/*"),
    ]


def test_fails_on_an_event_bus_policy_for_everyone() -> None:
    bus = resource(
        "AWS::Events::EventBusPolicy", StatementId="s", Statement=stmt("*", "events:PutEvents")
    )
    legacy = resource(
        "AWS::Events::EventBusPolicy", StatementId="l", Action="events:PutEvents", Principal="*"
    )
    assert granular(run("ResourcePolicyPublic", {"B": bus, "L": legacy})) == [
        ("B", "Principal::*"),
        ("L", "Principal::*"),
    ]


@pytest.mark.parametrize(
    "statement",
    [
        stmt(
            {"Service": "events.amazonaws.com"},
            "kms:Decrypt",
            Condition={"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}},
        ),
        stmt(ROOT, "kms:*"),
        stmt(
            ANY,
            "sqs:SendMessage",
            Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        ),
        stmt(
            ANY,
            "kms:Decrypt",
            Condition={
                "StringEquals": {
                    "kms:ViaService": "sqs.x.amazonaws.com",
                    "kms:CallerAccount": "111122223333",
                }
            },
        ),
        {
            "Effect": "Deny",
            "Principal": ANY,
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
)
def test_passes_scoped_or_deny_statements(statement: dict[str, Any]) -> None:
    for type_ in TYPES:
        assert run("ResourcePolicyPublic", {"P": holder(type_, doc(statement))}) == []


# --- KmsKeyPolicyFullAccess --------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [{"AWS": "arn:aws:iam::111122223333:role/app"}, {"Service": "events.amazonaws.com"}, ANY],
)
@pytest.mark.parametrize("action", ["kms:*", "*", "kms:?*"])
def test_fails_when_a_key_policy_gives_full_control_to_a_non_root(
    principal: Any, action: str
) -> None:
    findings = run(
        "KmsKeyPolicyFullAccess", {"K": holder("AWS::KMS::Key", doc(stmt(principal, action)))}
    )
    assert granular(findings) == [("K", "Action::kms:*")]


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": ROOT},
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        {"AWS": {"Ref": "AWS::AccountId"}},
        {"AWS": {"Fn::Sub": "${AWS::AccountId}"}},
        {"AWS": {"Fn::Join": [":", ["arn:aws:iam:", {"Ref": "AWS::AccountId"}, "root"]]}},
    ],
)
def test_passes_kms_star_for_this_accounts_root_in_every_intrinsic_form(principal: Any) -> None:
    assert (
        run("KmsKeyPolicyFullAccess", {"K": holder("AWS::KMS::Key", doc(stmt(principal, "kms:*")))})
        == []
    )


LITERAL_ROOTS = [{"AWS": "arn:aws:iam::111122223333:root"}, {"AWS": "111122223333"}]


@pytest.mark.parametrize("principal", LITERAL_ROOTS)
def test_fails_kms_star_for_a_literal_root_not_known_to_be_this_account(principal: Any) -> None:
    key = {"K": holder("AWS::KMS::Key", doc(stmt(principal, "kms:*")))}

    (finding,) = run("KmsKeyPolicyFullAccess", key)
    # another account's root could take the key over: unknown is another account (fail closed)
    assert "111122223333" in finding.message
    assert "${AWS::AccountId}" in finding.fix and "--account 111122223333" in finding.fix
    # the stack's known account (env at synth, audit --account) is this account
    assert run("KmsKeyPolicyFullAccess", key, accounts=frozenset({"111122223333"})) == []
    assert run("KmsKeyPolicyFullAccess", key, accounts=frozenset({"999999999999"})) != []


def test_fails_kms_star_for_a_root_whose_account_is_a_parameter() -> None:
    principal = {"AWS": {"Fn::Sub": "arn:aws:iam::${Owner}:root"}}
    key = {"K": holder("AWS::KMS::Key", doc(stmt(principal, "kms:*")))}

    assert granular(run("KmsKeyPolicyFullAccess", key)) == [("K", "Action::kms:*")]


# --- LambdaPermissionScope ---------------------------------------------------------------------


def permission(**props: Any) -> dict[str, Any]:
    base = {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "Fn"},
        "Principal": "s3.amazonaws.com",
    }
    base.update(props)
    return resource("AWS::Lambda::Permission", **base)


@pytest.mark.parametrize(
    ("props", "finding"),
    [
        ({"SourceArn": "arn:aws:s3:::*"}, "SourceArn::arn:aws:s3:::*"),
        ({"SourceArn": "*"}, "SourceArn::*"),
        ({"SourceArn": "arn:aws:execute-api:*:*:*"}, "SourceArn::arn:aws:execute-api:*:*:*"),
        ({"Principal": "111122223333", "Action": "lambda:*"}, "Action::lambda:*"),
        ({"Action": "*", "SourceArn": "arn:aws:s3:::b"}, "Action::*"),
        ({"SourceArn": "arn:aws:s3:::b", "SourceAccount": "*"}, "SourceAccount"),
    ],
)
def test_fails_when_a_lambda_permission_is_not_scoped(props: dict[str, Any], finding: str) -> None:
    assert granular(run("LambdaPermissionScope", {"P": permission(**props)})) == [("P", finding)]


def test_passes_a_permission_with_a_named_source() -> None:
    ok = permission(
        SourceArn={"Fn::GetAtt": ["Bucket", "Arn"]}, SourceAccount={"Ref": "AWS::AccountId"}
    )
    assert run("LambdaPermissionScope", {"P": ok}) == []


# --- TrustPolicyOpen ---------------------------------------------------------------------------


def role(*statements: dict[str, Any]) -> dict[str, Any]:
    return resource("AWS::IAM::Role", AssumeRolePolicyDocument=doc(*statements))


def trust(principal: Any, action: str = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


GITHUB = {
    "Federated": {
        "Fn::Sub": "arn:aws:iam::${AWS::AccountId}:oidc-provider/"
        "token.actions.githubusercontent.com"
    }
}


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        (trust("*"), "Principal::*"),
        (trust(ANY), "Principal::*"),
        (trust({"AWS": {"Fn::If": ["C", "*", ROOT]}}), "Principal::*"),
        (trust({"AWS": "arn:aws:iam::444455556666:root"}), "Account::444455556666"),
        (trust({"AWS": "444455556666"}), "Account::444455556666"),
        (trust(GITHUB, "sts:AssumeRoleWithWebIdentity"), "Federated"),
        (
            trust(
                GITHUB,
                "sts:AssumeRoleWithWebIdentity",
                Condition={
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
                },
            ),
            "Federated",
        ),
        (
            trust(
                GITHUB,
                "sts:AssumeRoleWithWebIdentity",
                Condition={
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                    },
                    "StringLike": {"token.actions.githubusercontent.com:sub": "*"},
                },
            ),
            "Federated",
        ),
        (trust({"Service": "lambda.evil.example.com"}), "Service::lambda.evil.example.com"),
    ],
)
def test_fails_when_a_trust_policy_is_open(statement: dict[str, Any], finding: str) -> None:
    findings = run("TrustPolicyOpen", {"R": role(statement)})
    assert granular(findings) == [("R", finding)]


@pytest.mark.parametrize(
    "statement",
    [
        trust({"Service": "lambda.amazonaws.com"}),
        trust({"Service": {"Fn::Join": ["", ["states.", {"Ref": "AWS::URLSuffix"}]]}}),
        trust({"AWS": ROOT}),
        trust(
            {"AWS": "arn:aws:iam::444455556666:root"},
            Condition={"StringEquals": {"sts:ExternalId": "x-1"}},
        ),
        trust(ANY, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        trust(
            GITHUB,
            "sts:AssumeRoleWithWebIdentity",
            Condition={
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": "repo:org/app:ref:refs/heads/main"
                },
            },
        ),
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"},
    ],
)
def test_passes_a_guarded_trust_policy(statement: dict[str, Any]) -> None:
    assert run("TrustPolicyOpen", {"R": role(statement)}) == []


# --- IAMPrivilegeWildcard and `?` --------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        (
            allow("iam:PassRole", "arn:aws:iam::111122223333:role/????????"),
            "Resource::arn:aws:iam::111122223333:role/????????",
        ),
        (
            allow("iam:PassRole", "arn:aws:iam::111122223333:role/*"),
            "Resource::arn:aws:iam::111122223333:role/*",
        ),
        (allow("sts:AssumeRole", "arn:aws:iam::*:role/app"), "Resource::arn:aws:iam::*:role/app"),
        (
            allow("iam:Pass*", "arn:aws:iam::111122223333:role/app-*"),
            "Resource::arn:aws:iam::111122223333:role/app-*",
        ),
        (
            allow("kms:*", "arn:aws:kms:eu-west-1:111122223333:key/*"),
            "Resource::arn:aws:kms:eu-west-1:111122223333:key/*",
        ),
    ],
)
def test_fails_on_role_and_key_patterns(statement: dict[str, Any], finding: str) -> None:
    assert granular(run("IAMPrivilegeWildcard", {"P": policy(statement)})) == [("P", finding)]


@pytest.mark.parametrize(
    "statement",
    [
        allow("iam:PassRole", {"Fn::GetAtt": ["Role", "Arn"]}),
        allow("iam:PassRole", "arn:aws:iam::111122223333:role/app"),
        allow("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/*"),
        allow("s3:GetObject", "arn:aws:s3:::b/*"),
    ],
)
def test_passes_named_roles_and_keys(statement: dict[str, Any]) -> None:
    assert run("IAMPrivilegeWildcard", {"P": policy(statement)}) == []


@pytest.mark.parametrize(
    ("statement", "finding"),
    [(allow("s3:GetObject", "?*"), "Resource::*"), (allow("s3:??*"), "Action::s3:??*")],
)
def test_iam_wildcard_treats_question_marks_as_wildcards(
    statement: dict[str, Any], finding: str
) -> None:
    assert granular(run("IAMWildcard", {"P": policy(statement)})) == [("P", finding)]
