"""Each way an ordinary CDK call opens a resource or a role to the world fails the synth, and
the same cases written by hand in YAML fail `secure-constructs audit`."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecretRotation, SecureFunction, SecureSecret
from secure_constructs.shared import security_key
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
    secret.grant_read(iam.AnyPrincipal())
    fn.alarm_topic.grant_publish(iam.AnyPrincipal())
    fn.dead_letter_queue.grant_send_messages(iam.AnyPrincipal())
    security_key(stack).grant_decrypt(iam.AnyPrincipal())
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
        ("ResourcePolicyPublic[Principal::*]", "Test/Token/Policy"),
        ("ResourcePolicyPublic[Principal::*]", "Test/SecureConstructsAlarmTopic/Policy"),
        ("ResourcePolicyPublic[Principal::*]", "Test/SecureConstructsDeadLetterQueue/Policy"),
        ("ResourcePolicyPublic[Principal::*]", "Test/SecureConstructsKey"),
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
    ):
        assert finding in result.out, finding
    assert "8 open errors" in result.out
    # Every scoped variant (Ok*: a service with aws:SourceArn, the account root with kms:*, a
    # TLS-only deny, a GitHub trust pinned to one repository) passes.
    assert "at Ok" not in result.out
