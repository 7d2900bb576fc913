"""SNS topics triggering a SecureFunction, with a dead-letter queue SNS can write to.

`topic.add_subscription(subs.LambdaSubscription(fn, dead_letter_queue=...))` (CDK's own call) and
`fn.add_topic_trigger(topic)` (the helper, which always sets the dead-letter queue) both end with:

- the subscription's `RedrivePolicy` naming the queue;
- the queue policy statement allowing `sns.amazonaws.com` `sqs:SendMessage` with `ArnEquals
  aws:SourceArn` = the topic (CDK's `Subscription` writes it);
- when the queue is encrypted with the stack key, a key policy statement for `sns.amazonaws.com`
  with exactly `kms:Decrypt` and `kms:GenerateDataKey`, on condition `ArnEquals aws:SourceArn` =
  the topic's ARN (`allow_sns_dead_letters`, run by the trigger Aspect of `triggers.py`). AWS:
  "To use an encrypted Amazon SQS queue as a dead-letter queue, you must use a custom KMS with a
  key policy that grants the Amazon SNS service principal access to AWS KMS API actions" (Amazon
  SNS Developer Guide, "Amazon SNS dead-letter queues"); the actions are those SQS lists for a
  service that sends to an encrypted queue (SQS Developer Guide, "Key management").

A subscription of a function without a redrive policy is the finding
`SecureServerless::SnsSubscriptionRedrive` (and cdk-nag's `Serverless-SNSRedrivePolicy`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from secure_constructs.dead_letters import stack_key_queue_arns
from secure_constructs.jsii_refs import ref
from secure_constructs.shared import allow_service_on_key, security_key
from secure_constructs.trigger_facts import SNS_DLQ_KEY_ACTIONS, SNS_PRINCIPAL


def add_topic_trigger(
    fn: lambda_.Function,
    topic: sns.ITopic,
    *,
    dead_letter_queue: sqs.IQueue,
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None,
) -> sns.Subscription:
    """The subscription behind `SecureFunction.add_topic_trigger` (see its docstring)."""
    from aws_cdk import aws_sns_subscriptions as subs

    before = {ref(child) for parent in (fn, topic) for child in parent.node.children} - {None}
    topic.add_subscription(
        subs.LambdaSubscription(
            fn, dead_letter_queue=dead_letter_queue, filter_policy=filter_policy
        )
    )
    # CDK puts the subscription under the function (its subscriberScope) or else under the
    # topic; either way the new child of one of them (not one the topic had before).
    for parent in (fn, topic):
        for child in parent.node.children:
            if isinstance(child, sns.Subscription) and ref(child) not in before:
                return child
    raise AssertionError("CDK's LambdaSubscription made no Subscription")  # pragma: no cover


def allow_sns_dead_letters(stack: cdk.Stack, subscription: sns.CfnSubscription) -> None:
    """Give SNS, for this function subscription's topic only, what it needs of the stack key to
    send to the subscription's dead-letter queue, when that queue is encrypted with the stack
    key."""
    # Function subscriptions only: naming the topic of another subscription (the stack's alarm
    # topic's email subscriptions) would replace a deployed topic and its confirmed endpoints.
    if subscription.protocol != "lambda":
        return
    redrive = stack.resolve(subscription.redrive_policy)
    if not isinstance(redrive, Mapping):
        return
    key = security_key(stack)
    target = json.dumps(redrive.get("deadLetterTargetArn"), sort_keys=True)
    if target not in stack_key_queue_arns(stack, key):
        return
    topic_arn = _topic_arn(stack, subscription)
    allow_service_on_key(
        key,
        f"AllowSnsDeadLetters{subscription.node.addr[:10]}",
        SNS_PRINCIPAL,
        SNS_DLQ_KEY_ACTIONS,
        topic_arn,
    )


def _topic_arn(stack: cdk.Stack, subscription: sns.CfnSubscription) -> Any:
    """The topic's ARN, built from its name rather than a reference to the topic: a topic
    encrypted with the stack key references the key, so the key's policy referencing the topic
    would be a cycle. A topic of this stack without a name gets a deterministic one."""
    arn = stack.resolve(subscription.topic_arn)
    logical_id = arn.get("Ref") if isinstance(arn, Mapping) else None
    topic = next(
        (
            c
            for c in stack.node.find_all()
            if isinstance(c, sns.CfnTopic) and stack.resolve(c.logical_id) == logical_id
        ),
        None,
    )
    if topic is None:
        return subscription.topic_arn  # an imported topic: its ARN does not reference the key
    name = topic.topic_name
    if not name or stack.resolve(name) is None:
        name = cdk.Names.unique_resource_name(topic, max_length=250, separator="-")
        if stack.resolve(topic.fifo_topic):
            name = f"{name}.fifo"
        topic.topic_name = name
    return stack.format_arn(service="sns", resource=name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)
