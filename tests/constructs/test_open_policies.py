"""Each way an ordinary CDK call opens a resource or a role to the world fails the synth, and
the same cases written by hand in YAML fail `secure-constructs audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from secure_constructs import SecretRotation, SecureFunction, SecureSecret
from secure_constructs.errors import ValidationError
from tests.audit.helpers import run as run_cli
from tests.synth import Synthesized, synth

CODE = "def handler(event, context):\n    return None\n"
OPEN_YAML = Path(__file__).parent / "open_policies.yaml"


def _function(stack: cdk.Stack) -> SecureFunction:
    return SecureFunction(stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler")


def build_open(stack: cdk.Stack) -> None:
    fn = _function(stack)
    secret = SecureSecret(
        stack,
        "Token",
        description="A token",
        rotation=SecretRotation.none(
            reason="an API token issued by a partner, renewed by hand each quarter"
        ),
    )
    # SecureSecret.grant_read(AnyPrincipal()) is refused (test_secret_refuses_...); the L1
    # escape hatch is still caught by the rule.
    secretsmanager.CfnResourcePolicy(
        stack,
        "TokenPolicy",
        secret_id=secret.secret_arn,
        resource_policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        },
    )
    # The shared topic, queue and key refuse these grants at the call, and policies made beside
    # them by hand fail the synth (tests/constructs/test_shared_refusals.py); the user's own
    # topic, queue and key are caught by the rule.
    open_to_all = {"principals": [iam.AnyPrincipal()], "resources": ["*"]}
    own_topic = sns.Topic(stack, "OwnTopic", master_key=fn.alarm_topic.master_key)
    own_queue = sqs.Queue(stack, "OwnQueue", enforce_ssl=True)
    sns.TopicPolicy(stack, "TopicByHand", topics=[own_topic]).document.add_statements(
        iam.PolicyStatement(actions=["sns:Publish"], **open_to_all)
    )
    queue_policy = sqs.QueuePolicy(stack, "QueueByHand", queues=[own_queue])
    queue_policy.document.add_statements(
        iam.PolicyStatement(actions=["sqs:SendMessage"], **open_to_all)
    )
    kms.Key(stack, "OwnKey", enable_key_rotation=True).grant_decrypt(iam.AnyPrincipal())
    role = iam.Role(stack, "Open", assumed_by=iam.AnyPrincipal())
    table = dynamodb.TableV2(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
    )
    table.grant_read_data(role)
    fn.add_permission(
        "FromAnyBucket",
        principal=iam.ServicePrincipal("s3.amazonaws.com"),
        source_arn="arn:aws:s3:::*",
    )
    fn.add_permission(
        "Everything", principal=iam.AccountPrincipal("444455556666"), action="lambda:*"
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"], resources=["arn:aws:iam::123456789012:role/????????"]
        )
    )


@pytest.fixture(scope="module")
def open_app() -> Synthesized:
    return synth(build_open)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("ResourcePolicyPublic[Principal::*]", "Test/TokenPolicy"),
        ("ResourcePolicyPublic[Principal::*]", "Test/TopicByHand"),
        ("ResourcePolicyPublic[Principal::*]", "Test/QueueByHand"),
        ("ResourcePolicyPublic[Principal::*]", "Test/OwnKey"),
        ("TrustPolicyOpen[Principal::*]", "Test/Open"),
        ("LambdaPermissionScope[SourceArn::arn:aws:s3:::*]", "Test/Fn/FromAnyBucket"),
        ("LambdaPermissionScope[Action::lambda:*]", "Test/Fn/Everything"),
        ("IAMPrivilegeWildcard", "Test/FnServiceRole"),
    ],
)
def test_fails_the_synth_when_a_grant_opens_a_resource_or_role(
    open_app: Synthesized, rule: str, path: str
) -> None:
    assert open_app.failed
    hits = [p for _, name, p in open_app.violations if rule in name]
    assert any(p.startswith(path) for p in hits), (rule, path, open_app.violations)


def test_the_same_cases_by_hand_fail_the_audit(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "audit", OPEN_YAML)
    assert result.code == 1
    for finding in (
        "ResourcePolicyPublic[Principal::*]",
        "KmsKeyPolicyFullAccess[Action::kms:*]",
        "TrustPolicyOpen[Principal::*]",
        "TrustPolicyOpen[Federated]",
        "LambdaPermissionScope[SourceArn::arn:aws:execute-api:*:*:*]",
        "LambdaPermissionScope[Action::lambda:*]",
        "IAMPrivilegeWildcard[Resource::arn:aws:iam::123456789012:role/????????]",
        # the lambda:* permission is for another account, with no organization pin
        "ResourcePolicyCrossAccount[Account::444455556666]",
    ):
        assert finding in result.out, finding
    assert "9 open errors" in result.out
    # Every scoped variant (Ok*: a service with aws:SourceArn, the account root with kms:*, a
    # TLS-only deny, a GitHub trust pinned to one repository) passes.
    assert "at Ok" not in result.out


# --- refusals: a SecureSecret cannot be opened through its public methods -------------------


def _secret(stack: cdk.Stack) -> SecureSecret:
    return SecureSecret(
        stack,
        "S",
        description="A token",
        rotation=SecretRotation.none(reason="an API token issued by a partner, renewed by hand"),
    )


@pytest.mark.parametrize(
    ("call", "principal"),
    [
        ("grant_read", iam.AnyPrincipal()),
        ("grant_read", iam.StarPrincipal()),
        ("grant_read", iam.AccountPrincipal("444455556666")),
        ("grant_write", iam.AnyPrincipal()),
    ],
)
def test_secret_refuses_a_grant_to_everyone_or_another_account(call: str, principal: Any) -> None:
    secret = _secret(cdk.Stack(cdk.App(), "S"))
    with pytest.raises(ValidationError) as error:
        getattr(secret, call)(principal)
    assert error.value.prop == f"SecureSecret.{call}(grantee)"
    assert "aws:SourceArn" in error.value.fix
    assert secret.node.try_find_child("Policy") is None  # nothing half-built


@pytest.mark.parametrize(
    "statement",
    [
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["secretsmanager:GetSecretValue"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            principals=[iam.ArnPrincipal("arn:aws:iam::444455556666:root")],
            actions=["secretsmanager:GetSecretValue"],
            resources=["*"],
        ),
    ],
)
def test_secret_refuses_an_open_resource_policy_statement(statement: iam.PolicyStatement) -> None:
    secret = _secret(cdk.Stack(cdk.App(), "S"))
    with pytest.raises(ValidationError) as error:
        secret.add_to_resource_policy(statement)
    assert error.value.prop == "SecureSecret.add_to_resource_policy(statement)"


def test_secret_accepts_a_scoped_statement_and_blocks_public_policies() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    secret = _secret(stack)
    secret.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["secretsmanager:GetSecretValue"],
            resources=["*"],
            conditions={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        )
    )
    secret.grant_read(iam.AccountRootPrincipal())
    policies = Template.from_stack(stack).find_resources("AWS::SecretsManager::ResourcePolicy")
    (policy,) = policies.values()
    assert policy["Properties"]["BlockPublicPolicy"] is True
