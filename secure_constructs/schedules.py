"""Schedules invoking a SecureFunction through EventBridge Scheduler, failures bounded and kept.

`add_schedule` is the checked helper behind `SecureFunction.add_schedule`. Its target is our own
(`_FunctionTarget`), not CDK's `aws_scheduler_targets.LambdaInvoke`, because of what the
schedule's execution role must hold:

- EventBridge Scheduler invokes the target and writes the dead-letter event with the schedule's
  execution role ("To allow EventBridge Scheduler to deliver dead-letter events to Amazon SQS,
  your schedule execution role needs sqs:SendMessage", EventBridge Scheduler User Guide,
  "Configuring a dead-letter queue for a schedule"). A queue encrypted with a customer managed
  key also needs kms:GenerateDataKey and kms:Decrypt from its producer (SQS Developer Guide,
  "Key management"): granted on the stack key only through SQS for exactly that queue
  (`dead_letters.send_statements`). No key policy statement: the role is an identity of the
  account, which the key policy lets IAM policies grant to. CDK's target grants
  `sqs:SendMessage` only, so Scheduler could not write to a stack-key queue
  (`allow_scheduler_dead_letters` adds the key grant to the role of a CDK target, run by the
  trigger Aspect of `triggers.py`).
- the role may invoke exactly the function (CDK's `grant_invoke` adds every version, `:*`);
- its trust policy names `scheduler.amazonaws.com` on condition `aws:SourceAccount` and
  `aws:SourceArn` of the schedule group (the confused-deputy conditions of the EventBridge
  Scheduler User Guide, "Setting up the execution role").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from secure_constructs.dead_letters import (
    queue_facts,
    region_of,
    send_statements,
    stack_key_queue_arns,
    struct_field,
)
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import is_kind
from secure_constructs.shared import security_key, stack_of
from secure_constructs.trigger_facts import (
    SCHEDULE_FLEXIBLE_WINDOW_RANGE_MINUTES,
    SCHEDULE_MAX_EVENT_AGE_RANGE_SECONDS,
    SCHEDULE_RETRY_ATTEMPTS_RANGE,
    SCHEDULER_PRINCIPAL,
)
from secure_constructs.validation import check_number, whole_seconds

_DEFAULT_GROUP = "default"
_POLICY_ID = "SecureConstructsPolicy"  # the role's one policy of ours (Aspect: done when present)


@jsii.implements(scheduler.IScheduleTarget)
class _FunctionTarget:
    """Invoke one function with a role that may do exactly that and write the dead letter."""

    def __init__(
        self,
        fn: lambda_.IFunction,
        role: iam.IRole,
        queue_arn: str,
        retry_attempts: int,
        max_event_age_seconds: float,
    ) -> None:
        self._fn = fn
        self._role = role
        self._queue_arn = queue_arn
        self._retry = scheduler.CfnSchedule.RetryPolicyProperty(
            maximum_retry_attempts=retry_attempts,
            maximum_event_age_in_seconds=max_event_age_seconds,
        )

    def bind(self, _schedule: scheduler.ISchedule) -> scheduler.ScheduleTargetConfig:
        return scheduler.ScheduleTargetConfig(
            arn=self._fn.function_arn,
            role=self._role,
            retry_policy=self._retry,
            dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self._queue_arn),
        )


def add_schedule(
    fn: lambda_.Function,
    construct_id: str,
    schedule: scheduler.ScheduleExpression,
    *,
    dead_letter_queue: sqs.IQueue,
    retry_attempts: int,
    max_event_age: cdk.Duration,
    flexible_time_window: cdk.Duration | None,
    description: str | None,
) -> scheduler.Schedule:
    """The checked schedule behind `SecureFunction.add_schedule` (see its docstring)."""
    check_number("retry_attempts", retry_attempts, *SCHEDULE_RETRY_ATTEMPTS_RANGE, whole=True)
    age = _checked_seconds("max_event_age", max_event_age, SCHEDULE_MAX_EVENT_AGE_RANGE_SECONDS)
    window = scheduler.TimeWindow.off()
    if flexible_time_window is not None:
        low, high = SCHEDULE_FLEXIBLE_WINDOW_RANGE_MINUTES
        seconds = _checked_seconds("flexible_time_window", flexible_time_window, (60, high * 60))
        if seconds % 60:
            raise ValidationError(
                "flexible_time_window",
                f"{seconds:g} seconds",
                f"whole minutes from {low} to {high} (Scheduler's limits)",
                "pass e.g. flexible_time_window=Duration.minutes(15)",
            )
        window = scheduler.TimeWindow.flexible(flexible_time_window)
    stack = stack_of(fn)
    queue_arn, key_arn = queue_facts(dead_letter_queue)
    role = _execution_role(fn, construct_id, stack)
    iam.ManagedPolicy(
        role,
        _POLICY_ID,
        description="EventBridge Scheduler: invoke this function, write its dead letters",
        statements=[
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn]),
            *send_statements(queue_arn, key_arn, region_of(stack)),
        ],
        roles=[role],
    )
    return scheduler.Schedule(
        fn,
        construct_id,
        schedule=schedule,
        target=_FunctionTarget(fn, role, queue_arn, retry_attempts, age),
        time_window=window,
        description=description,
    )


def _execution_role(fn: Construct, construct_id: str, stack: cdk.Stack) -> iam.Role:
    group_arn = stack.format_arn(
        service="scheduler",
        resource="schedule-group",
        resource_name=_DEFAULT_GROUP,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )
    return iam.Role(
        fn,
        f"{construct_id}Role",
        description="EventBridge Scheduler's execution role for one schedule of one function",
        assumed_by=iam.ServicePrincipal(
            SCHEDULER_PRINCIPAL,
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group_arn}
            },
        ),
    )


def _checked_seconds(prop: str, duration: cdk.Duration, bounds: tuple[int, int]) -> float:
    seconds = whole_seconds(prop, duration)
    low, high = bounds
    if seconds is None or not low <= seconds <= high:
        raise ValidationError(
            prop,
            "a token" if seconds is None else f"{seconds:g} seconds",
            f"{low} to {high} seconds, known at synth (EventBridge Scheduler's limits)",
            f"pass e.g. {prop}=Duration.minutes(15)",
        )
    return seconds


def allow_scheduler_dead_letters(stack: cdk.Stack, schedule: scheduler.CfnSchedule) -> None:
    """Give the execution role of a schedule made with CDK's own target (which grants only
    sqs:SendMessage) the stack key through SQS for its dead-letter queue, when that queue is
    encrypted with the stack key."""
    target = stack.resolve(schedule.target)
    dlq = struct_field(target, "DeadLetterConfig") if isinstance(target, Mapping) else None
    arn = struct_field(dlq, "Arn") if isinstance(dlq, Mapping) else None
    key = security_key(stack)
    queue = stack_key_queue_arns(stack, key).get(json.dumps(arn, sort_keys=True))
    if queue is None or not isinstance(target, Mapping):
        return
    role = _role_of(stack, struct_field(target, "RoleArn"))
    if role is None or role.node.try_find_child(_POLICY_ID) is not None:
        return  # not a role of this stack (nothing to add here), or done already
    _, key_statement = send_statements(queue.queue_arn, key.key_arn, region_of(stack))
    iam.ManagedPolicy(
        role,
        _POLICY_ID,
        description="EventBridge Scheduler: the stack key through SQS, for the DLQ only",
        statements=[key_statement],
        roles=[role],
    )


def _role_of(stack: cdk.Stack, role_arn: Any) -> iam.Role | None:
    if not (isinstance(role_arn, Mapping) and "Fn::GetAtt" in role_arn):
        return None
    logical_id = role_arn["Fn::GetAtt"][0]
    for construct in stack.node.find_all():
        if is_kind(construct, iam.Role):
            cfn = construct.node.default_child
            if isinstance(cfn, iam.CfnRole) and stack.resolve(cfn.logical_id) == logical_id:
                return construct
    return None
