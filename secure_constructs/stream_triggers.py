"""Stream triggers (DynamoDB streams, Kinesis) on a SecureFunction, with failures bounded and kept.

`add_stream_trigger` is the checked helper behind `SecureFunction.add_stream_trigger`;
`stream_bounds.refuse_unbounded_stream_source` is what `SecureFunction.add_event_source` runs
after CDK's own `DynamoEventSource` / `KinesisEventSource` made its mapping. Defaults and limits
live in `secure_constructs.trigger_facts`.

Who writes the on-failure record: Lambda sends it with the function's execution role ("Your
execution role must have permissions for the destination: For an SQS destination:
sqs:SendMessage", Lambda Developer Guide, "Retain discarded batch records for a Kinesis Data
Streams event source" and "Retain discarded records for a DynamoDB event source"). A queue
encrypted with a customer managed key also needs kms:GenerateDataKey and kms:Decrypt from its
producer (SQS Developer Guide, "Key management": permissions of a producer); both are granted
to the role on exactly that queue, the key only through SQS for that queue
(`dead_letters.send_statements`), never through CDK's `SqsDlq`, which grants the whole key.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from secure_constructs.dead_letters import queue_facts, region_of, send_statements
from secure_constructs.errors import ValidationError
from secure_constructs.observability.stack import observe_stream_trigger
from secure_constructs.prop_types import provides
from secure_constructs.role import LambdaExecutionRole
from secure_constructs.shared import stack_of
from secure_constructs.trigger_facts import (
    STREAM_TRIGGER_BATCH_SIZE_RANGE,
    STREAM_TRIGGER_MAX_RECORD_AGE_RANGE_SECONDS,
    STREAM_TRIGGER_RETRY_ATTEMPTS_RANGE,
)
from secure_constructs.triggers import add_mapping
from secure_constructs.validation import check_number, whole_seconds

StreamSource = dynamodb.ITable | kinesis.IStream
"""What `add_stream_trigger` reads: a DynamoDB table with a stream, or a Kinesis data stream."""


@jsii.implements(lambda_.IEventSourceDlq)
class _QueueArnDlq:
    """An on-failure destination that only names the queue; the role's grant is ours."""

    def __init__(self, queue_arn: str) -> None:
        self._queue_arn = queue_arn

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue_arn)


def add_stream_trigger(
    fn: lambda_.Function,
    role: LambdaExecutionRole,
    source: Any,
    *,
    on_failure: sqs.IQueue,
    granted_queue_arn: str,
    starting_position: lambda_.StartingPosition,
    batch_size: int,
    retry_attempts: int,
    max_record_age: cdk.Duration,
    bisect_batch_on_error: bool,
) -> lambda_.EventSourceMapping:
    """The checked stream trigger behind `SecureFunction.add_stream_trigger`."""
    from aws_cdk.aws_lambda_event_sources import DynamoEventSource, KinesisEventSource

    check_number("batch_size", batch_size, *STREAM_TRIGGER_BATCH_SIZE_RANGE, whole=True)
    check_number("retry_attempts", retry_attempts, *STREAM_TRIGGER_RETRY_ATTEMPTS_RANGE, whole=True)
    _check_record_age(max_record_age)
    queue_arn, key_arn = queue_facts(on_failure)
    settings: dict[str, Any] = {
        "starting_position": starting_position,
        "batch_size": batch_size,
        "retry_attempts": retry_attempts,
        "max_record_age": max_record_age,
        "bisect_batch_on_error": bisect_batch_on_error,
        "report_batch_item_failures": True,
        "on_failure": _QueueArnDlq(queue_arn),
    }
    event_source: lambda_.IEventSource
    if provides(source, kinesis.IStream):
        event_source = KinesisEventSource(source, **settings)
    elif provides(source, dynamodb.ITable):
        if source.table_stream_arn is None:
            raise ValidationError(
                "source",
                source.node.path if isinstance(source, Construct) else source,
                "a DynamoDB table with a stream (its table_stream_arn), or a Kinesis stream",
                "create the table with stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES (or "
                "dynamo_stream= on TableV2)",
            )
        event_source = DynamoEventSource(source, **settings)
    else:
        raise ValidationError(
            "source",
            source,
            "a dynamodb.ITable with a stream or a kinesis.IStream",
            "pass the table or the stream itself",
        )
    # The function's own dead-letter queue is granted already; another queue is granted here.
    if queue_arn != granted_queue_arn:
        role.add_scoped_statements(*send_statements(queue_arn, key_arn, region_of(stack_of(fn))))
    mapping = add_mapping(fn, event_source)
    observe_stream_trigger(fn, source, on_failure)  # its row on the stack dashboard
    return mapping


def _check_record_age(age: cdk.Duration) -> None:
    seconds = whole_seconds("max_record_age", age)
    low, high = STREAM_TRIGGER_MAX_RECORD_AGE_RANGE_SECONDS
    if seconds is None or not low <= seconds <= high:
        raise ValidationError(
            "max_record_age",
            "a token" if seconds is None else f"{seconds:g} seconds",
            f"{low} seconds to {high // 86400} days, known at synth (Lambda's limits; "
            "unbounded is refused: a failing batch would block its shard)",
            "pass e.g. max_record_age=Duration.hours(1)",
        )
