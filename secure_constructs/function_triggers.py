"""The trigger methods of SecureFunction: CDK's `add_event_source` checked, and the helpers
`add_queue_trigger`, `add_stream_trigger`, `add_topic_trigger` and `add_schedule` (issue 16).

A mixin, so that function.py stays one concept; each helper's logic lives in its own module
(triggers.py, stream_triggers.py, topic_triggers.py, schedules.py), imported when first called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from secure_constructs.dead_letters import queue_facts
from secure_constructs.prop_types import check_args
from secure_constructs.role import LambdaExecutionRole
from secure_constructs.trigger_facts import (
    QUEUE_TRIGGER_BATCH_SIZE,
    QUEUE_TRIGGER_MAX_CONCURRENCY,
    SCHEDULE_MAX_EVENT_AGE_SECONDS,
    SCHEDULE_RETRY_ATTEMPTS,
    STREAM_TRIGGER_BATCH_SIZE,
    STREAM_TRIGGER_BISECT_BATCH_ON_ERROR,
    STREAM_TRIGGER_MAX_RECORD_AGE_SECONDS,
    STREAM_TRIGGER_RETRY_ATTEMPTS,
    STREAM_TRIGGER_STARTING_POSITION,
)
from secure_constructs.triggers import add_checked_source, add_queue_trigger

if TYPE_CHECKING:  # only in annotations: importing them costs the jsii kernel time
    from aws_cdk import aws_scheduler as scheduler

    from secure_constructs.stream_triggers import StreamSource


class FunctionTriggers:
    """Trigger methods of `SecureFunction` (which sets the attributes below)."""

    execution_role: LambdaExecutionRole
    timeout_seconds: float | None

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        raise NotImplementedError  # SecureFunction's property

    def _as_function(self) -> lambda_.Function:
        assert isinstance(self, lambda_.Function)
        return self

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """As `aws_lambda.Function.add_event_source`; an SQS mapping whose queue has a redrive
        policy is accepted by cdk-nag's mapping-destination rule (secure_constructs/triggers.py);
        a DynamoDB or Kinesis source without an on-failure destination, bounded retries and a
        maximum record age is refused (ValidationError; use `add_stream_trigger`)."""
        check_args(FunctionTriggers.add_event_source, locals())
        add_checked_source(self._as_function(), source)

    def add_stream_trigger(
        self,
        source: StreamSource,
        *,
        on_failure: sqs.IQueue | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition[
            STREAM_TRIGGER_STARTING_POSITION
        ],
        batch_size: int = STREAM_TRIGGER_BATCH_SIZE,
        retry_attempts: int = STREAM_TRIGGER_RETRY_ATTEMPTS,
        max_record_age: cdk.Duration | None = None,
        bisect_batch_on_error: bool = STREAM_TRIGGER_BISECT_BATCH_ON_ERROR,
    ) -> lambda_.EventSourceMapping:
        """Process a DynamoDB stream or a Kinesis stream with this function, failures bounded
        and kept (secure_constructs/stream_triggers.py).

        The mapping reports batch item failures, and a batch that still fails after the
        retries or the record age goes, as an on-failure record, to `on_failure`; the
        function's role may send to exactly that queue (and use its key through SQS only).

        :param source: a `dynamodb.ITable` with a stream, or a `kinesis.IStream`.
        :param on_failure: the queue for on-failure records. Default: the function's
            dead-letter queue (`fn.dead_letter_queue`).
        :param starting_position: Default: `TRIM_HORIZON` (no record written before the
            mapping is skipped).
        :param batch_size: 1-10,000 records per invocation. Default: 100.
        :param retry_attempts: 0-10,000 (unbounded is refused). Default: 2.
        :param max_record_age: 60 s to 7 days (unbounded is refused). Default: 1 hour.
        :param bisect_batch_on_error: split a failing batch to isolate the bad record.
            Default: True.
        """
        check_args(FunctionTriggers.add_stream_trigger, locals())
        from secure_constructs.stream_triggers import add_stream_trigger

        return add_stream_trigger(
            self._as_function(),
            self.execution_role,
            source,
            on_failure=on_failure or self.dead_letter_queue,
            granted_queue_arn=queue_facts(self.dead_letter_queue)[0],
            starting_position=starting_position,
            batch_size=batch_size,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age
            or cdk.Duration.seconds(STREAM_TRIGGER_MAX_RECORD_AGE_SECONDS),
            bisect_batch_on_error=bisect_batch_on_error,
        )

    def add_queue_trigger(
        self,
        queue: sqs.IQueue,
        *,
        batch_size: int = QUEUE_TRIGGER_BATCH_SIZE,
        max_concurrency: int = QUEUE_TRIGGER_MAX_CONCURRENCY,
    ) -> lambda_.EventSourceMapping:
        """Process `queue` with this function, with failures bounded and kept.

        The queue must be an `sqs.Queue` of this app with a redrive policy, and its visibility
        timeout at least 6x the function timeout (AWS's guidance); otherwise ValidationError.
        The mapping reports batch item failures (only the failed messages are retried).

        :param batch_size: 1-10 messages per invocation. Default: 10.
        :param max_concurrency: 2-1000 concurrent invocations for this queue. Default: 2.
        """
        check_args(FunctionTriggers.add_queue_trigger, locals())
        return add_queue_trigger(
            self._as_function(),
            queue,
            timeout_seconds=self.timeout_seconds,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
        )

    def add_topic_trigger(
        self,
        topic: sns.ITopic,
        *,
        dead_letter_queue: sqs.IQueue | None = None,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
    ) -> sns.Subscription:
        """Subscribe this function to `topic`, with a dead-letter queue for the messages SNS
        cannot deliver (secure_constructs/topic_triggers.py).

        SNS may send to the queue for this topic only (queue policy, `aws:SourceArn`); when the
        queue is encrypted with the stack key, the key policy gets the statement SNS needs,
        scoped to the topic the same way.

        :param dead_letter_queue: the subscription's redrive target (a standard queue of the
            same account and region). Default: the function's dead-letter queue.
        :param filter_policy: which messages the function receives. Default: all.
        """
        check_args(FunctionTriggers.add_topic_trigger, locals())
        from secure_constructs.topic_triggers import add_topic_trigger

        return add_topic_trigger(
            self._as_function(),
            topic,
            dead_letter_queue=dead_letter_queue or self.dead_letter_queue,
            filter_policy=filter_policy,
        )

    def add_schedule(
        self,
        construct_id: str,
        schedule: scheduler.ScheduleExpression,
        *,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = SCHEDULE_RETRY_ATTEMPTS,
        max_event_age: cdk.Duration | None = None,
        flexible_time_window: cdk.Duration | None = None,
        description: str | None = None,
    ) -> scheduler.Schedule:
        """Invoke this function on `schedule` with EventBridge Scheduler, failures bounded and
        kept (secure_constructs/schedules.py).

        The schedule's execution role may invoke exactly this function and send to exactly the
        dead-letter queue (its key only through SQS for that queue); its trust policy is
        conditioned on this account and the default schedule group.

        :param construct_id: the schedule's id (under the function); its role and policy are
            `<id>Role` and `<id>Role/SecureConstructsPolicy`.
        :param schedule: e.g. `ScheduleExpression.rate(Duration.hours(1))` or `.cron(...)`.
        :param dead_letter_queue: where Scheduler writes an invocation that still fails.
            Default: the function's dead-letter queue.
        :param retry_attempts: 0-185. Default: 2.
        :param max_event_age: 60 s to 24 h. Default: 1 hour.
        :param flexible_time_window: 1-1,440 whole minutes. Default: off (on time).
        :param description: Default: none.
        """
        check_args(FunctionTriggers.add_schedule, locals())
        from secure_constructs.schedules import add_schedule

        return add_schedule(
            self._as_function(),
            construct_id,
            schedule,
            dead_letter_queue=dead_letter_queue or self.dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age or cdk.Duration.seconds(SCHEDULE_MAX_EVENT_AGE_SECONDS),
            flexible_time_window=flexible_time_window,
            description=description,
        )
