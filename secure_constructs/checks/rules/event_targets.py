"""Rules over what EventBridge and SNS deliver to: rule and schedule targets without a
dead-letter queue or retry policy, and SNS subscriptions of functions without a redrive policy."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.condition_branches import branches, every_branch
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.parameter_bounds import template_parameters, value_ranges
from secure_constructs.trigger_facts import (
    EVENT_TARGET_MAX_EVENT_AGE_LIMIT_SECONDS,
    EVENT_TARGET_MAX_RETRY_ATTEMPTS,
)

RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"
SUBSCRIPTION = "AWS::SNS::Subscription"
TOPIC = "AWS::SNS::Topic"
_SUBSCRIPTION_FIX = (
    "fn.add_topic_trigger(topic), or LambdaSubscription(fn, dead_letter_queue="
    "fn.dead_letter_queue) (an AWS::SNS::Subscription, not the topic's Subscription list)"
)
_RETRY_LIMITS = (
    ("MaximumRetryAttempts", EVENT_TARGET_MAX_RETRY_ATTEMPTS),
    ("MaximumEventAgeInSeconds", EVENT_TARGET_MAX_EVENT_AGE_LIMIT_SECONDS),
)
_TARGET_FIX = (
    "give each target a dead-letter queue and a retry policy: targets.LambdaFunction(fn, "
    "dead_letter_queue=fn.dead_letter_queue, retry_attempts=2, max_event_age=Duration.hours(1)); "
    "for a schedule, fn.add_schedule(...)"
)


@rule(
    "EventTargetFailureHandling",
    practice=Practice.EXECUTION_TIME,
    applies_to=(RULE, SCHEDULE),
    granular=True,
    summary="An EventBridge rule or Scheduler target has no dead-letter queue or retry policy",
    explanation=(
        "Without a RetryPolicy, EventBridge and EventBridge Scheduler retry a failing target "
        "for 24 hours, 185 times; without a DeadLetterConfig, the event is then dropped, and "
        "nobody learns that the work was never done."
    ),
)
def event_target_failure_handling(t: Template) -> Iterator[Violation]:
    parameters = template_parameters(t.body)
    for logical_id, props in t.of_type(RULE):
        targets = props.get("Targets")
        if targets is None:
            continue
        if not isinstance(targets, list):
            yield _unreadable(logical_id, "Properties/Targets")
            continue
        for index, target in enumerate(targets):
            yield from _target_failures(
                logical_id, f"Properties/Targets/{index}", target, parameters
            )
    for logical_id, props in t.of_type(SCHEDULE):
        yield from _target_failures(
            logical_id, "Properties/Target", props.get("Target"), parameters
        )


def _unreadable(logical_id: str, path: str) -> Violation:
    return Violation(
        logical_id,
        path,
        "the targets are not a literal list, so their failure handling cannot be checked",
        "write the targets out in the template",
        finding_id="Unreadable",
    )


def _target_failures(
    logical_id: str, path: str, target: Any, parameters: Mapping[str, Any]
) -> Iterator[Violation]:
    if not isinstance(target, Mapping):
        yield _unreadable(logical_id, path)
        return
    name = target.get("Id")
    which = f"target {name}" if isinstance(name, str) else "the target"
    if not every_branch(target.get("DeadLetterConfig"), lambda dlq: _has(dlq, "Arn")):
        yield Violation(
            logical_id,
            f"{path}/DeadLetterConfig",
            f"{which} has no dead-letter queue (in some branch of a condition): events that "
            "still fail are dropped",
            _TARGET_FIX,
            finding_id="DeadLetterConfig",
        )
    weak = _weak_retry(target.get("RetryPolicy"), parameters)
    if weak:
        yield Violation(
            logical_id,
            f"{path}/RetryPolicy",
            f"{which} {weak}: a failing target is retried for up to 24 hours, 185 times",
            _TARGET_FIX,
            finding_id="RetryPolicy",
        )


def _has(value: Any, key: str) -> bool:
    """Whether `value` is a mapping whose `key` is set in every branch of a condition."""
    return isinstance(value, Mapping) and every_branch(value.get(key), lambda v: v is not None)


def _weak_retry(policy: Any, parameters: Mapping[str, Any]) -> str | None:
    """Why a RetryPolicy bounds nothing, or None: it is absent, or (in some branch of a
    condition) neither of its fields is below AWS's maximum, which is also a missing field's
    default (`{}`, or CDK scheduler-targets' 185 attempts over 86,400 s). One field below its
    maximum bounds the retrying."""
    for p in branches(policy):
        if not isinstance(p, Mapping):
            return "has no retry policy"
        if not any(_below(p.get(field), limit, parameters) for field, limit in _RETRY_LIMITS):
            return (
                "has a retry policy that bounds nothing (MaximumRetryAttempts and "
                "MaximumEventAgeInSeconds absent or at AWS's most, 185 and 86,400 s)"
            )
    return None


def _below(value: Any, limit: int, parameters: Mapping[str, Any]) -> bool:
    """Whether every value a retry field can deploy as is below AWS's maximum."""
    ranges = value_ranges(value, parameters)
    return all(highest is not None and highest < limit for _, highest in ranges)


@rule(
    "SnsSubscriptionRedrive",
    practice=Practice.EXECUTION_TIME,
    applies_to=(SUBSCRIPTION, TOPIC),
    summary="An SNS subscription of a Lambda function has no redrive policy",
    explanation=(
        "SNS retries delivery to a function that cannot be invoked (throttled, deleted, "
        "denied) and then drops the message, unless the subscription has a redrive policy "
        "naming a dead-letter queue. A subscription written inline in the topic "
        "(AWS::SNS::Topic Subscription) cannot have one."
    ),
)
def sns_subscription_redrive(t: Template) -> Iterator[Violation]:
    for logical_id, props in t.of_type(SUBSCRIPTION):
        protocol = _protocol(props.get("Protocol"))
        if protocol is None:
            yield _unreadable_protocol(logical_id, "Properties/Protocol")
        elif protocol == "lambda" and not every_branch(props.get("RedrivePolicy"), _redrives):
            yield Violation(
                logical_id,
                "Properties/RedrivePolicy",
                "the function's subscription has no redrive policy (in some branch of a "
                "condition): messages SNS cannot deliver are dropped",
                _SUBSCRIPTION_FIX,
            )
    for logical_id, props in t.of_type(TOPIC):
        yield from _inline_subscriptions(logical_id, props.get("Subscription"))


def _inline_subscriptions(logical_id: str, listed: Any) -> Iterator[Violation]:
    if listed is None:
        return
    if not isinstance(listed, list):
        yield _unreadable_protocol(logical_id, "Properties/Subscription")
        return
    for index, entry in enumerate(listed):
        path = f"Properties/Subscription/{index}"
        protocol = _protocol(entry.get("Protocol") if isinstance(entry, Mapping) else None)
        if protocol is None:
            yield _unreadable_protocol(logical_id, path)
        elif protocol == "lambda":
            yield Violation(
                logical_id,
                path,
                "the topic subscribes a function inline, which cannot have a redrive policy: "
                "messages SNS cannot deliver are dropped",
                _SUBSCRIPTION_FIX,
            )


def _protocol(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _unreadable_protocol(logical_id: str, path: str) -> Violation:
    return Violation(
        logical_id,
        path,
        "the protocol is not a literal, so whether the subscription needs a redrive policy "
        "cannot be told",
        "write the subscription and its protocol out in the template",
    )


def _redrives(redrive: Any) -> bool:
    return every_branch(dead_letter_target(redrive), lambda arn: arn is not None)


def dead_letter_target(redrive: Any) -> Any:
    """The redrive policy's deadLetterTargetArn (the policy may be JSON text in a template)."""
    if isinstance(redrive, str):
        try:
            redrive = json.loads(redrive)
        except (ValueError, RecursionError):
            return None
    return redrive.get("deadLetterTargetArn") if isinstance(redrive, Mapping) else None


RULES = (event_target_failure_handling, sns_subscription_redrive)
