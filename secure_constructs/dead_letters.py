"""The failure path of SecureFunctions: the stack's shared dead-letter queue, the one depth alarm
per queue and stack, and the send grants (sqs:SendMessage and the key through SQS only)."""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from secure_constructs import durations
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import is_kind, path_of
from secure_constructs.monitoring import alarm, notify, terminal_queue
from secure_constructs.shared import StackIds, per_stack

DEAD_LETTER_QUEUE_ID = StackIds.DEAD_LETTER_QUEUE
MAX_ALARM_ACTIONS = 5  # CloudWatch's limit of actions per alarm state
_TERMINAL_DLQ_REASON = (
    "This queue is the terminal dead-letter queue and on-failure destination of the stack's "
    "functions; its depth alarm pages a person, and a dead-letter queue of a dead-letter queue "
    "only moves the problem."
)
# stack -> queue path -> (its depth alarm, the paths of the topics it notifies): one alarm per
# queue and stack, however many functions send to it, notifying each function's alarm topic
# once. Keyed by construct path, not by Python object: jsii hands out a new Python object for
# a queue or topic read from a CDK property, and the same queue must find the same alarm.
_QUEUE_ALARMS: weakref.WeakKeyDictionary[
    cdk.Stack, dict[str, tuple[cloudwatch.Alarm, list[str]]]
] = weakref.WeakKeyDictionary()


@jsii.implements(lambda_.IDestination)
class QueueArnDestination:
    """An on-failure destination that only points at the queue; the grant is ours."""

    def __init__(self, queue_arn: str) -> None:
        self._queue_arn = queue_arn

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue_arn)


def shared_dead_letter_queue(scope: IConstruct) -> sqs.Queue:
    """The stack's dead-letter queue for SecureFunctions, created on first use.

    A terminal queue (`monitoring.terminal_queue`): encrypted with the stack key, TLS-only,
    messages kept 14 days. It is the `DeadLetterConfig` target and the on-failure destination
    of every SecureFunction of the stack that brings no queue of its own: one queue and one
    depth alarm per stack instead of three resources per function. Its construct id
    (`SecureConstructsDeadLetterQueue`) is part of the public contract.
    """
    return per_stack(scope, StackIds.DEAD_LETTER_QUEUE, _new_dead_letter_queue, sqs.Queue)


def _new_dead_letter_queue(stack: cdk.Stack, construct_id: str) -> sqs.Queue:
    return terminal_queue(stack, construct_id, reason=_TERMINAL_DLQ_REASON)


def dead_letter_alarm(
    fn: Construct, queue: sqs.IQueue, topic: sns.ITopic, stack: cdk.Stack
) -> cloudwatch.Alarm:
    """The queue's depth alarm, created once per queue and stack, notifying each function's
    topic once.

    The shared queue's alarm is its `NotEmptyAlarm` child; a queue the user brings gets a
    `<id>/DeadLetterQueueAlarm` under the first function of each stack that uses it (the
    queue may be imported or live in another stack: an alarm in one stack notifying the
    topics of another would make the stacks depend on each other both ways).

    Queues and topics are told apart by construct path, so a queue read from a CDK property
    (a new Python object on every read) still finds its alarm.
    """
    alarms = _QUEUE_ALARMS.setdefault(stack, {})
    queue_path = path_of(queue)
    entry = alarms.get(queue_path)
    if entry is None:
        shared = queue_path == f"{stack.node.path}/{StackIds.DEAD_LETTER_QUEUE}"
        created = alarm(
            queue if shared else fn,  # type: ignore[arg-type]
            "NotEmptyAlarm" if shared else "DeadLetterQueueAlarm",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=durations.minutes(1), statistic="Maximum"
            ),
            threshold=0,
            description=(
                "Failed asynchronous events are waiting in the dead-letter queue (the "
                "on-failure records name the function in requestContext.functionArn)"
            ),
            topic=topic,
        )
        alarms[queue_path] = (created, [path_of(topic)])
        return created
    created, topics = entry
    topic_path = path_of(topic)
    if topic_path not in topics:
        if len(topics) >= MAX_ALARM_ACTIONS:
            raise ValidationError(
                "alarm_topic",
                topic.node.path if isinstance(topic, Construct) else topic,
                f"at most {MAX_ALARM_ACTIONS} different alarm topics among the functions that "
                "share a dead-letter queue (its one depth alarm notifies each of them, and an "
                f"alarm takes {MAX_ALARM_ACTIONS} actions)",
                "send these functions' alarms to fewer topics, or pass dead_letter_queue= with "
                "a queue of their own",
            )
        topics.append(topic_path)
        notify(created, topic)
    return created


# queue -> (its ARN, its KMS key's ARN or None); stack -> its region: read once, not per function.
_QUEUE_FACTS: weakref.WeakKeyDictionary[sqs.IQueue, tuple[str, str | None]] = (
    weakref.WeakKeyDictionary()
)
_REGIONS: weakref.WeakKeyDictionary[cdk.Stack, str] = weakref.WeakKeyDictionary()


def queue_facts(queue: sqs.IQueue) -> tuple[str, str | None]:
    facts = _QUEUE_FACTS.get(queue)
    if facts is None:
        key = queue.encryption_master_key
        facts = _QUEUE_FACTS[queue] = (queue.queue_arn, None if key is None else key.key_arn)
    return facts


def region_of(stack: cdk.Stack) -> str:
    region = _REGIONS.get(stack)
    if region is None:
        region = _REGIONS[stack] = stack.region
    return region


def send_statements(queue_arn: str, key_arn: str | None, region: str) -> list[iam.PolicyStatement]:
    statements = [iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue_arn])]
    if key_arn is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key_arn],
                conditions=through_sqs_for(queue_arn, region),
            )
        )
    return statements


def through_sqs_for(queue_arn: str, region: str) -> dict[str, Any]:
    """The condition limiting a role's use of a queue's key to SQS acting on that queue: the
    call comes through SQS (`kms:ViaService`) with the queue's ARN as encryption context, which
    SQS passes on every data key it asks for (SQS Developer Guide, "Key management": "Amazon
    SQS uses the queue ARN as the encryption context", `aws:sqs:arn`)."""
    return {
        "StringEquals": {
            "kms:ViaService": f"sqs.{region}.amazonaws.com",
            "kms:EncryptionContext:aws:sqs:arn": queue_arn,
        }
    }


def stack_key_queue_arns(stack: cdk.Stack, key: Any) -> dict[str, sqs.Queue]:
    """The stack's queues encrypted with the stack key, by their resolved ARN (as JSON text)."""
    found: dict[str, sqs.Queue] = {}
    for construct in stack.node.find_all():
        if (
            is_kind(construct, sqs.Queue)
            and (queue_key := construct.encryption_master_key) is not None
            and stack.resolve(queue_key.key_arn) == stack.resolve(key.key_arn)
        ):
            found[json.dumps(stack.resolve(construct.queue_arn), sort_keys=True)] = construct
    return found


def struct_field(struct: Mapping[str, Any], name: str) -> Any:
    """A field of a resolved L1 struct, in CloudFormation's or jsii's casing."""
    return struct.get(name, struct.get(name[0].lower() + name[1:]))
