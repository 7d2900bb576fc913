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


def _delivery_key(result: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, v)
        for k, v in result.resources("AWS::KMS::Key").items()
        if k.startswith("SecureConstructsAlarmDeliveryKey")
    ]
    return found


def _sns_statements_of(key: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "sns.amazonaws.com"
    ]


def test_alarm_emails_fail_over_to_a_queue_sns_can_encrypt_for_the_alarm_topic_only() -> None:
    """SNS needs a key policy statement to write to an encrypted DLQ; the stack key cannot name
    the alarm topic (the topic is encrypted with it), so the DLQ has its own key that does."""

    def build(stack: cdk.Stack) -> None:
        _function(stack, alarm_emails=["ops@example.com", "oncall@example.com"])

    result = synth(build, checks=False)
    topic_id, topic = result.only("AWS::SNS::Topic")
    assert "TopicName" not in topic["Properties"]
    key_id, key = _delivery_key(result)
    assert key["Properties"]["EnableKeyRotation"] is True
    dlqs = {
        s["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for s in result.resources("AWS::SNS::Subscription").values()
    }
    (dlq_id,) = dlqs
    dlq = result.template["Resources"][dlq_id]["Properties"]
    assert dlq["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (statement,) = _sns_statements_of(key)
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}
    # The stack key gives SNS nothing.
    assert _sns_key_statements_of_stack_key(result) == []


def test_each_topic_with_alarm_emails_gets_its_own_statement_once() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack, alarm_emails="ops@example.com")
        other = sns.Topic(stack, "Pager", master_key=security_key(stack), enforce_ssl=True)
        for name, emails in (
            ("Other", ["ops@example.com", "pager@example.com"]),
            ("Third", "pager@example.com"),
        ):
            SecureFunction(
                stack,
                name,
                code=lambda_.Code.from_inline("def handler(e, c): pass"),
                handler="index.handler",
                alarm_topic=other,
                alarm_emails=emails,
            )

    result = synth(build, checks=False)
    sources = sorted(
        s["Condition"]["ArnEquals"]["aws:SourceArn"]["Ref"]
        for s in _sns_statements_of(_delivery_key(result)[1])
    )
    assert len(sources) == 2
    assert sources == sorted(result.resources("AWS::SNS::Topic"))


def _sns_key_statements_of_stack_key(result: Any) -> list[dict[str, Any]]:
    (key,) = [
        v
        for k, v in result.resources("AWS::KMS::Key").items()
        if k.startswith("SecureConstructsKey")
    ]
    return _sns_statements_of(key)


def test_alarm_emails_with_their_delivery_key_are_clean_under_the_packs() -> None:
    result = synth(lambda stack: _function(stack, alarm_emails="ops@example.com"))
    assert not result.failed and result.violations == [], result.violations


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
