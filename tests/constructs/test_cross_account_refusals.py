"""Another account's principals on the stack key, alarm topic and dead-letter queue (issue 11).

GIVEN a stack of account 123456789012 with a SecureFunction (which creates all three), WHEN a
grant or a statement reaches another account (its roles and users, a wildcard or token
account, a condition naming that account) or hands the key's administration to anyone but
this account's root, THEN the call is refused; WHEN a policy is written past the guarded
methods (TopicPolicy, QueuePolicy, the L1s, a KeyPolicy override), THEN the synth fails.
A role of this account, the account root and a service with a scoped aws:SourceArn pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from secure_constructs import SecureFunction
from secure_constructs.errors import ValidationError
from secure_constructs.shared import security_key

OURS = "123456789012"
OTHER = "111122223333"
CODE = "def handler(event, context):\n    return None\n"
Build = Callable[[cdk.Stack, SecureFunction], object]


def _stack(account: str | None = OURS) -> tuple[cdk.App, cdk.Stack, SecureFunction]:
    app = cdk.App()
    env = cdk.Environment(account=account, region="us-east-1") if account else None
    stack = cdk.Stack(app, "S", env=env)
    fn = SecureFunction(stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler")
    return app, stack, fn


def _role_arn(kind: str = "role/Admin") -> iam.IPrincipal:
    return iam.ArnPrincipal(f"arn:aws:iam::{OTHER}:{kind}")


def _key(stack: cdk.Stack) -> kms.Key:
    return security_key(stack)  # type: ignore[return-value]


def _param_account(stack: cdk.Stack) -> iam.IPrincipal:
    return iam.AccountPrincipal(cdk.CfnParameter(stack, "Acct", default=OTHER).value_as_string)


def _statement(principal: iam.IPrincipal, *actions: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(principals=[principal], actions=list(actions), resources=["*"])


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}

REFUSED: dict[str, tuple[Build, str]] = {
    "topic publish to another account's role": (
        lambda s, fn: fn.alarm_topic.grant_publish(_role_arn()),
        "grant_publish",
    ),
    "key decrypt to another account's user": (
        lambda s, fn: _key(s).grant_decrypt(_role_arn("user/bob")),
        "grant_decrypt",
    ),
    "queue consume to another account's role": (
        lambda s, fn: fn.dead_letter_queue.grant_consume_messages(_role_arn()),
        "grant_consume_messages",
    ),
    "kms:* to another account inside the organization": (
        lambda s, fn: _key(s).add_to_resource_policy(
            _statement(iam.AccountPrincipal(OTHER).with_conditions(ORG), "kms:*")
        ),
        "add_to_resource_policy",
    ),
    "kms:PutKeyPolicy to a role of this account": (
        lambda s, fn: _key(s).add_to_resource_policy(
            _statement(iam.ArnPrincipal(f"arn:aws:iam::{OURS}:role/Ops"), "kms:Put*")
        ),
        "add_to_resource_policy",
    ),
    "grant_admin to another account inside the organization": (
        lambda s, fn: _key(s).grant_admin(iam.AccountPrincipal(OTHER).with_conditions(ORG)),
        "grant_admin",
    ),
    "kms:CreateGrant through grant() to the organization": (
        lambda s, fn: _key(s).grant(iam.AnyPrincipal().with_conditions(ORG), "kms:CreateGrant"),
        "grant",
    ),
    "aws:PrincipalAccount naming the other account": (
        lambda s, fn: fn.alarm_topic.grant_publish(
            iam.AccountPrincipal(OTHER).with_conditions(
                {"StringEquals": {"aws:PrincipalAccount": OTHER}}
            )
        ),
        "grant_publish",
    ),
    "kms:CallerAccount naming the other account": (
        lambda s, fn: _key(s).grant_decrypt(
            iam.AnyPrincipal().with_conditions({"StringEquals": {"kms:CallerAccount": OTHER}})
        ),
        "grant_decrypt",
    ),
    "an account from a parameter": (
        lambda s, fn: fn.alarm_topic.grant_publish(_param_account(s)),
        "grant_publish",
    ),
    "AccountPrincipal('*')": (
        lambda s, fn: fn.dead_letter_queue.grant_send_messages(iam.AccountPrincipal("*")),
        "grant_send_messages",
    ),
    "arn:aws:iam::*:root": (
        lambda s, fn: _key(s).grant_encrypt(iam.ArnPrincipal("arn:aws:iam::*:root")),
        "grant_encrypt",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_fails_when_a_call_reaches_another_account(case: str) -> None:
    build, method = REFUSED[case]
    _, stack, fn = _stack()

    with pytest.raises(ValidationError) as error:
        build(stack, fn)

    assert f".{method}(" in error.value.prop
    assert "a role of this account" in error.value.fix or "root" in error.value.fix


def test_fails_when_an_env_agnostic_stack_grants_a_literal_account() -> None:
    *_, fn = _stack(account=None)

    with pytest.raises(ValidationError) as error:
        fn.alarm_topic.grant_publish(iam.AccountPrincipal(OURS))

    assert f"account {OURS}" in error.value.allowed
    assert "assumes" in error.value.fix  # a role here that the other account's role assumes


def _open(principal: str = OTHER, action: str = "sns:Publish") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}
        ],
    }


def _override(stack: cdk.Stack) -> None:
    key = _key(stack).node.default_child
    assert isinstance(key, kms.CfnKey)
    key.add_property_override(
        "KeyPolicy.Statement.1",
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
    )


PAST_THE_METHODS: dict[str, Build] = {
    "TopicPolicy": lambda s, fn: sns.TopicPolicy(
        s, "TP", topics=[fn.alarm_topic]
    ).document.add_statements(_statement(iam.AccountPrincipal(OTHER), "sns:Publish")),
    "QueuePolicy": lambda s, fn: sqs.QueuePolicy(
        s, "QP", queues=[fn.dead_letter_queue]
    ).document.add_statements(_statement(iam.AccountPrincipal(OTHER), "sqs:SendMessage")),
    "CfnQueuePolicy": lambda s, fn: sqs.CfnQueuePolicy(
        s, "CQP", queues=[fn.dead_letter_queue.queue_url], policy_document=_open(action="sqs:*")
    ),
    "CfnTopicInlinePolicy": lambda s, fn: sns.CfnTopicInlinePolicy(
        s, "CTP", topic_arn=fn.alarm_topic.topic_arn, policy_document=_open()
    ),
    "KeyPolicy override": lambda s, fn: _override(s),
    "override of the topic's own policy": lambda s, fn: (
        fn.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.AccountRootPrincipal()], actions=["sns:Publish"], resources=["*"]
            )
        ),
        _topic_policy(fn).add_property_override("PolicyDocument", _open()),
    ),
}


def _topic_policy(fn: SecureFunction) -> cdk.CfnResource:
    policy = fn.alarm_topic.node.find_child("Policy").node.default_child
    assert isinstance(policy, cdk.CfnResource)
    return policy


@pytest.mark.parametrize("case", list(PAST_THE_METHODS))
def test_fails_the_synth_when_a_policy_past_the_methods_reaches_another_account(
    case: str,
) -> None:
    app, stack, fn = _stack()
    PAST_THE_METHODS[case](stack, fn)

    with pytest.raises(RuntimeError) as error:  # jsii's error for a failed validation
        app.synth()

    message = str(error.value)
    assert "Validation failed" in message or "ValidationFailed" in message
    assert OTHER in message or "SecureConstructs" in message


COMPLIANT: dict[str, Build] = {
    "a role of this account": lambda s, fn: fn.alarm_topic.grant_publish(
        iam.Role(s, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    ),
    "this account's root": lambda s, fn: _key(s).grant_decrypt(iam.AccountRootPrincipal()),
    "a service with a scoped aws:SourceArn": lambda s, fn: fn.dead_letter_queue.grant_send_messages(
        iam.ServicePrincipal(
            "events.amazonaws.com",
            conditions={"ArnEquals": {"aws:SourceArn": f"arn:aws:events:us-east-1:{OURS}:rule/r"}},
        )
    ),
    "a role ARN of this account": lambda s, fn: fn.alarm_topic.grant_subscribe(
        iam.ArnPrincipal(f"arn:aws:iam::{OURS}:role/Reader")
    ),
    "the organization for decrypt only": lambda s, fn: _key(s).grant_decrypt(
        iam.AccountPrincipal(OTHER).with_conditions(ORG)
    ),
    "a TopicPolicy for this account's root": lambda s, fn: sns.TopicPolicy(
        s, "TP", topics=[fn.alarm_topic]
    ).document.add_statements(_statement(iam.AccountRootPrincipal(), "sns:Publish")),
}


@pytest.mark.parametrize("case", list(COMPLIANT))
def test_a_principal_of_this_account_passes_the_call_and_the_synth(case: str) -> None:
    app, stack, fn = _stack()
    COMPLIANT[case](stack, fn)

    app.synth()

    assert Template.from_stack(stack).to_json()["Resources"]
