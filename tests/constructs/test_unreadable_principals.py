"""Principals the template cannot show before deploy are refused, or fail the synth (issue 11).

GIVEN a grantee or a statement principal built from an export (`Fn.import_value`), an SSM
parameter's value (`StringParameter.string_value`) or a mapping (`CfnMapping.find_in_map`),
any of which may be "*" at deploy, WHEN it is granted the stack key, a SecureSecret, or put in
a topic's policy, THEN the library refuses it at the call (ValidationError) or the synth fails
(ResourcePolicyPublic); a role of the stack passes.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm

from secure_constructs import SecretRotation, SecureSecret
from secure_constructs.errors import ValidationError
from secure_constructs.shared import security_key
from tests.synth import Synthesized, synth

_REASON = "Static partner token issued by the partner, rotated by them out of band quarterly"


def _imported(stack: cdk.Stack) -> iam.IPrincipal:
    return iam.ArnPrincipal(cdk.Fn.import_value("PartnerPrincipal"))


def _ssm_value(stack: cdk.Stack) -> iam.IPrincipal:
    return iam.ArnPrincipal(ssm.StringParameter(stack, "P", string_value="*").string_value)


def _mapped(stack: cdk.Stack) -> iam.IPrincipal:
    mapping = cdk.CfnMapping(stack, "M", mapping={"Partners": {"Principal": "*"}})
    return iam.ArnPrincipal(mapping.find_in_map("Partners", "Principal"))


PRINCIPALS = [_imported, _ssm_value, _mapped]


@pytest.mark.parametrize("who", PRINCIPALS)
def test_refuses_the_stack_key_to_a_principal_it_cannot_read(
    who: Callable[[cdk.Stack], iam.IPrincipal],
) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValidationError, match=r"grant_decrypt.*cannot be read before deploy"):
        security_key(stack).grant_decrypt(who(stack))


@pytest.mark.parametrize("who", PRINCIPALS)
def test_refuses_a_secret_to_a_principal_it_cannot_read(
    who: Callable[[cdk.Stack], iam.IPrincipal],
) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    secret = SecureSecret(stack, "S", rotation=SecretRotation.none(reason=_REASON))
    with pytest.raises(ValidationError, match=r"grant_read.*cannot be read before deploy"):
        secret.grant_read(who(stack))


def test_the_key_still_goes_to_a_role_of_the_stack() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    security_key(stack).grant_decrypt(role)  # no refusal


def _topic_for(who: Callable[[cdk.Stack], iam.IPrincipal]) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        topic = sns.Topic(stack, "T", enforce_ssl=True)
        statement = iam.PolicyStatement(
            principals=[who(stack)], actions=["sns:Publish"], resources=[topic.topic_arn]
        )
        topic.add_to_resource_policy(statement)

    return build


@pytest.mark.parametrize(
    ("who", "finding"),
    [
        (_imported, "Principal::unknown"),
        (_ssm_value, "Principal::unknown"),
        (_mapped, "Principal::*"),
    ],
)
def test_fails_the_synth_when_a_topic_policy_names_a_principal_that_may_be_everyone(
    who: Callable[[cdk.Stack], iam.IPrincipal], finding: str
) -> None:
    result = synth(_topic_for(who))
    assert result.failed
    assert any(rule == f"ResourcePolicyPublic[{finding}]" for _, rule, _ in result.violations)


def _role(stack: cdk.Stack) -> iam.IPrincipal:
    return iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


@pytest.fixture(scope="module")
def compliant() -> Synthesized:
    return synth(_topic_for(_role))


def test_a_topic_policy_for_a_role_of_the_stack_passes(compliant: Synthesized) -> None:
    rules = [rule for _, rule, _ in compliant.violations]
    assert not [r for r in rules if r.startswith(("ResourcePolicy", "Trust"))], rules


def _trusting(who: Callable[[cdk.Stack], iam.IPrincipal]) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        iam.Role(stack, "Assumed", assumed_by=who(stack))

    return build


def test_fails_the_synth_when_a_role_trusts_a_principal_it_cannot_read() -> None:
    result = synth(_trusting(_imported))
    assert result.failed
    assert any(rule == "TrustPolicyOpen[Principal::unknown]" for _, rule, _ in result.violations)


def test_a_role_trusting_a_role_of_the_stack_passes() -> None:
    result = synth(_trusting(_role))
    assert not [r for _, r, _ in result.violations if r.startswith("TrustPolicyOpen")]


def test_fails_the_synth_when_a_sensitive_grant_names_a_resource_it_cannot_read() -> None:
    def build(stack: cdk.Stack) -> None:
        role = _role(stack)
        assert isinstance(role, iam.Role)
        actions = ["iam:PassRole", "secretsmanager:GetSecretValue"]
        imported = cdk.Fn.import_value("EveryRole")
        role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[imported]))

    result = synth(build)
    assert result.failed
    assert any(rule == "IAMWildcard[Resource::unknown]" for _, rule, _ in result.violations)


def test_a_sensitive_grant_on_a_resource_of_the_stack_passes() -> None:
    def build(stack: cdk.Stack) -> None:
        role = _role(stack)
        assert isinstance(role, iam.Role)
        secret = SecureSecret(stack, "S", rotation=SecretRotation.none(reason=_REASON))
        secret.grant_read(role)

    result = synth(build)
    assert not [r for _, r, _ in result.violations if r.startswith("IAMWildcard")]
