"""Alarms that reach a person: the metric alarms of our constructs and the alarm topic wiring."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from secure_constructs.errors import ValidationError
from secure_constructs.guarded import GuardedKey, GuardedQueue
from secure_constructs.prop_types import check_args
from secure_constructs.shared import StackIds, allow_service_on_key, per_stack, security_key
from secure_constructs.trigger_facts import SNS_DLQ_KEY_ACTIONS, SNS_PRINCIPAL

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
SUBSCRIPTION_DLQ_ID = StackIds.ALARM_SUBSCRIPTION_DLQ
# topic -> its alarm action: one SnsAction per topic instead of one jsii object per alarm.
_ACTIONS: weakref.WeakKeyDictionary[sns.ITopic, cloudwatch_actions.SnsAction] = (
    weakref.WeakKeyDictionary()
)
# alarm-delivery key -> the node addresses of the topics SNS may use it for.
_DELIVERY_TOPICS: weakref.WeakKeyDictionary[kms.Key, set[str]] = weakref.WeakKeyDictionary()


def alarm(
    scope: Construct,
    construct_id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    topic: sns.ITopic,
    comparison: cloudwatch.ComparisonOperator | None = None,
) -> cloudwatch.Alarm:
    """An alarm that fires on one breaching period and notifies `topic` (missing data is OK).

    `comparison` defaults to GREATER_THAN_THRESHOLD.
    """
    check_args(alarm, locals())
    created = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison or cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    notify(created, topic)
    return created


def notify(target: cloudwatch.Alarm, topic: sns.ITopic) -> None:
    """Add `topic` to the alarm's actions (one SnsAction object per topic)."""
    action = _ACTIONS.get(topic)
    if action is None:
        action = _ACTIONS[topic] = cloudwatch_actions.SnsAction(topic)
    target.add_alarm_action(action)


def validate_emails(prop: str, emails: Iterable[str]) -> list[str]:
    """The e-mail addresses, or a ValidationError naming the first malformed one.

    One address given as a plain string is one address (not its characters).
    """
    if isinstance(emails, str):
        emails = [emails]
    elif not isinstance(emails, Iterable):
        raise ValidationError(
            prop,
            emails,
            "an e-mail address or a list of them",
            f'pass e.g. {prop}=["ops@example.com"]',
        )
    checked: list[str] = []
    for email in emails:
        if not isinstance(email, str) or (
            not cdk.Token.is_unresolved(email) and not _EMAIL.match(email)
        ):
            raise ValidationError(
                prop, email, "e-mail addresses like ops@example.com", "correct the address"
            )
        checked.append(email)
    return checked


def subscribe_emails(topic: sns.ITopic, emails: Iterable[str]) -> None:
    """Subscribe each address once to `topic`, with a dead-letter queue for failed deliveries.

    The queue (one per stack) is encrypted with its own key, `_alarm_delivery_key`, not the
    stack key: SNS needs a key policy statement naming the topic to write to an encrypted
    dead-letter queue, and the stack key's policy cannot name a topic encrypted with that key
    (the key would depend on the topic that depends on it).
    """
    emails = list(emails)
    if not emails:
        return
    from aws_cdk import aws_sns_subscriptions as subscriptions

    def create(stack: cdk.Stack, construct_id: str) -> sqs.Queue:
        # AwsSolutions-SQS3 does not recognise an SNS subscription's DLQ as a DLQ.
        # Undelivered alarm e-mails: the alarm shows in the console and on any other
        # subscription of the topic (a chat or pager endpoint), not just in the queue.
        return terminal_queue(
            stack,
            construct_id,
            reason=_TERMINAL_DLQ_REASON,
            also_acknowledge=("AwsSolutions-SQS3",),
            alarm_topic=topic,
            alarm_description="Alarm notifications could not be delivered to an e-mail address",
            key=_alarm_delivery_key(stack),
        )

    stack = cdk.Stack.of(topic)
    for email in emails:
        if isinstance(topic, Construct) and topic.node.try_find_child(email) is not None:
            continue
        dlq = per_stack(stack, StackIds.ALARM_SUBSCRIPTION_DLQ, create)
        _allow_sns_dead_letters(_alarm_delivery_key(stack), topic)
        topic.add_subscription(
            subscriptions.EmailSubscription(email, dead_letter_queue=dlq)  # type: ignore[arg-type]
        )


_ALARM_DELIVERY_KEY = (
    "the stack's alarm-delivery key encrypts the alarm e-mails SNS could not deliver, for every "
    "alarm topic of the stack"
)


def _alarm_delivery_key(scope: Construct) -> kms.Key:
    """The key of the stack's alarm-subscription dead-letter queue (rotation on), created on
    first use; its policy lets SNS use it for the topics whose e-mails fail over to the queue.
    Private: a topic encrypted with it would make the key's policy, which names the topic,
    depend on the topic that depends on the key."""
    return per_stack(scope, StackIds.ALARM_DELIVERY_KEY, _new_alarm_delivery_key, kms.Key)


def _new_alarm_delivery_key(stack: cdk.Stack, construct_id: str) -> kms.Key:
    return GuardedKey(
        stack,
        construct_id,
        description="secure-constructs: encrypts the alarm e-mails SNS could not deliver",
        shared=_ALARM_DELIVERY_KEY,
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def _allow_sns_dead_letters(key: kms.Key, topic: sns.ITopic) -> None:
    """Once per topic: SNS may use `key` (kms:Decrypt, kms:GenerateDataKey) for `topic` only.

    AWS: "To use an encrypted Amazon SQS queue as a dead-letter queue, you must use a custom
    KMS key with a key policy that grants the Amazon SNS service principal access to AWS KMS API
    actions" (Amazon SNS Developer Guide, "Amazon SNS dead-letter queues"); the actions and the
    `aws:SourceArn` condition are those of `trigger_facts.SNS_DLQ_KEY_ACTIONS`.
    """
    allowed = _DELIVERY_TOPICS.setdefault(key, set())
    if topic.node.addr in allowed:
        return
    allowed.add(topic.node.addr)
    allow_service_on_key(
        key,
        f"AllowSnsDeadLetters{topic.node.addr[:10]}",
        SNS_PRINCIPAL,
        SNS_DLQ_KEY_ACTIONS,
        topic.topic_arn,
    )


def terminal_queue(
    scope: Construct,
    construct_id: str,
    *,
    reason: str,
    also_acknowledge: Iterable[str] = (),
    alarm_topic: sns.ITopic | None = None,
    alarm_description: str = "Messages are waiting in a terminal dead-letter queue",
    key: kms.IKey | None = None,
) -> sqs.Queue:
    """A terminal dead-letter queue: encrypted with `key` (default: the stack key), TLS-only,
    kept 14 days.

    A dead-letter queue of a dead-letter queue only moves the problem, so its
    Serverless-SQSRedrivePolicy finding is acknowledged with `reason` (and `also_acknowledge`,
    for rules that do not recognise the queue as a DLQ). With `alarm_topic`, a `NotEmptyAlarm`
    child notifies it when a message arrives; without, the caller adds the depth alarm.
    """
    from secure_constructs.checks.packs import acknowledge_made

    queue = GuardedQueue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key or security_key(scope),
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    for rule_id in ("Serverless-SQSRedrivePolicy", *also_acknowledge):
        acknowledge_made(queue, rule_id, reason)
    if alarm_topic is not None:
        alarm(
            queue,
            "NotEmptyAlarm",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic="Maximum"
            ),
            threshold=0,
            description=alarm_description,
            topic=alarm_topic,
        )
    return queue


_TERMINAL_DLQ_REASON = (
    "This queue holds the alarm e-mails SNS could not deliver; it is itself a terminal "
    "dead-letter queue with a depth alarm, and a dead-letter queue of a dead-letter queue only "
    "moves the problem."
)
