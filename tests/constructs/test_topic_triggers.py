"""SNS topics triggering a SecureFunction: CDK's LambdaSubscription and fn.add_topic_trigger get a
dead-letter queue SNS may write to (queue policy and key policy scoped to the topic), at 0
findings (issue 16)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs

from secure_constructs import SecureFunction
from secure_constructs.shared import security_key
from tests.constructs.trigger_helpers import secure_function
from tests.synth import arn, statements, synth


def _function(stack: cdk.Stack, **props: Any) -> SecureFunction:
    return secure_function(stack, **props)


def _topic(stack: cdk.Stack, **extra: Any) -> sns.Topic:
    return sns.Topic(stack, "Orders", master_key=security_key(stack), enforce_ssl=True, **extra)


def _sns_key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (key,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::KMS::Key"]
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "sns.amazonaws.com"
    ]


def _topic_arn(name: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sns:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{name}",
            ],
        ]
    }


def _orders(result: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in result.resources("AWS::SNS::Topic").items() if "Orders" in k]
    return found


def _assert_dead_letters_for_the_topic(result: Any) -> None:
    assert not result.failed and result.violations == [], result.violations
    topic_id, topic = _orders(result)
    name = topic["Properties"]["TopicName"]
    assert name.startswith("Test-Orders")
    (dlq_id,) = [k for k in result.resources("AWS::SQS::Queue") if "DeadLetter" in k]
    subscription = result.props("AWS::SNS::Subscription")
    assert subscription["Protocol"] == "lambda"
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": arn(dlq_id)}
    (statement,) = _sns_key_statements(result.template)
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": _topic_arn(name)}}
    (queue_policy_id,) = result.resources("AWS::SQS::QueuePolicy")
    (send,) = [
        s
        for s in statements(result.template, queue_policy_id)
        if s.get("Principal") == {"Service": "sns.amazonaws.com"}
    ]
    assert send["Action"] == ["sqs:SendMessage"]
    assert send["Resource"] == [arn(dlq_id)]
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}


def test_add_topic_trigger_gets_a_dead_letter_queue_sns_may_write_to() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack).add_topic_trigger(_topic(stack))

    _assert_dead_letters_for_the_topic(synth(build))


def test_cdks_lambda_subscription_with_the_functions_dlq_gets_the_key_statement() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        _topic(stack).add_subscription(
            subs.LambdaSubscription(fn, dead_letter_queue=fn.dead_letter_queue)
        )

    _assert_dead_letters_for_the_topic(synth(build))


def test_add_topic_trigger_keeps_a_named_topic_and_passes_the_filter() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack).add_topic_trigger(
            _topic(stack, topic_name="orders"),
            filter_policy={"kind": sns.SubscriptionFilter.string_filter(allowlist=["paid"])},
        )

    result = synth(build, checks=False)
    assert _orders(result)[1]["Properties"]["TopicName"] == "orders"
    assert result.props("AWS::SNS::Subscription")["FilterPolicy"] == {"kind": ["paid"]}
    (statement,) = _sns_key_statements(result.template)
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": _topic_arn("orders")}}


def test_fails_when_a_lambda_subscription_has_no_dead_letter_queue() -> None:
    def build(stack: cdk.Stack) -> None:
        _topic(stack).add_subscription(subs.LambdaSubscription(_function(stack)))

    result = synth(build)
    assert result.failed
    assert ("SecureServerless", "SnsSubscriptionRedrive") in {
        (p, r) for p, r, _ in result.violations
    }
    assert _sns_key_statements(result.template) == []
    assert "TopicName" not in _orders(result)[1]["Properties"]


def test_an_email_subscription_of_the_alarm_topic_gets_no_statement_and_no_topic_name() -> None:
    """Only function subscriptions are handled: naming a deployed topic would replace it."""

    def build(stack: cdk.Stack) -> None:
        _function(stack, alarm_emails="ops@example.com")

    result = synth(build, checks=False)
    (subscription,) = result.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert "deadLetterTargetArn" in subscription["Properties"]["RedrivePolicy"]
    assert _sns_key_statements(result.template) == []
    (topic,) = result.resources("AWS::SNS::Topic").values()
    assert "TopicName" not in topic["Properties"]


def test_add_topic_trigger_returns_the_subscription_it_made_not_an_earlier_one() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    topic = _topic(stack)
    first = _function(stack).add_topic_trigger(topic)
    other = SecureFunction(
        stack, "Other", code=lambda_.Code.from_inline("def handler(e, c): pass"), handler="i.h"
    )
    second = other.add_topic_trigger(topic)
    endpoints = [stack.resolve(s.node.default_child.endpoint) for s in (first, second)]  # type: ignore[union-attr]
    assert endpoints[0] != endpoints[1]
    assert endpoints[1] == stack.resolve(other.function_arn)
