"""Rules over what EventBridge and SNS deliver to: rule and schedule targets without a
dead-letter queue or retry policy, and SNS subscriptions of functions without a redrive policy."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.model import Practice, Template, Violation, rule

RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"
SUBSCRIPTION = "AWS::SNS::Subscription"
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
    for logical_id, props in t.of_type(RULE):
        targets = props.get("Targets")
        if targets is None:
            continue
        if not isinstance(targets, list):
            yield _unreadable(logical_id, "Properties/Targets")
            continue
        for index, target in enumerate(targets):
            yield from _target_failures(logical_id, f"Properties/Targets/{index}", target)
    for logical_id, props in t.of_type(SCHEDULE):
        yield from _target_failures(logical_id, "Properties/Target", props.get("Target"))


def _unreadable(logical_id: str, path: str) -> Violation:
    return Violation(
        logical_id,
        path,
        "the targets are not a literal list, so their failure handling cannot be checked",
        "write the targets out in the template",
        finding_id="Unreadable",
    )


def _target_failures(logical_id: str, path: str, target: Any) -> Iterator[Violation]:
    if not isinstance(target, Mapping):
        yield _unreadable(logical_id, path)
        return
    name = target.get("Id")
    which = f"target {name}" if isinstance(name, str) else "the target"
    dlq = target.get("DeadLetterConfig")
    if not isinstance(dlq, Mapping) or dlq.get("Arn") is None:
        yield Violation(
            logical_id,
            f"{path}/DeadLetterConfig",
            f"{which} has no dead-letter queue: events that still fail are dropped",
            _TARGET_FIX,
            finding_id="DeadLetterConfig",
        )
    if not isinstance(target.get("RetryPolicy"), Mapping):
        yield Violation(
            logical_id,
            f"{path}/RetryPolicy",
            f"{which} has no retry policy: a failing target is retried for 24 hours, 185 times",
            _TARGET_FIX,
            finding_id="RetryPolicy",
        )


@rule(
    "SnsSubscriptionRedrive",
    practice=Practice.EXECUTION_TIME,
    applies_to=(SUBSCRIPTION,),
    summary="An SNS subscription of a Lambda function has no redrive policy",
    explanation=(
        "SNS retries delivery to a function that cannot be invoked (throttled, deleted, "
        "denied) and then drops the message, unless the subscription has a redrive policy "
        "naming a dead-letter queue."
    ),
)
def sns_subscription_redrive(t: Template) -> Iterator[Violation]:
    for logical_id, props in t.of_type(SUBSCRIPTION):
        protocol = props.get("Protocol")
        if not isinstance(protocol, str):
            yield Violation(
                logical_id,
                "Properties/Protocol",
                "the protocol is not a literal, so whether the subscription needs a redrive "
                "policy cannot be told",
                "write the protocol out in the template",
            )
            continue
        if protocol.lower() != "lambda":
            continue
        if _dead_letter_target(props.get("RedrivePolicy")) is None:
            yield Violation(
                logical_id,
                "Properties/RedrivePolicy",
                "the function's subscription has no redrive policy: messages SNS cannot "
                "deliver are dropped",
                "fn.add_topic_trigger(topic), or LambdaSubscription(fn, dead_letter_queue="
                "fn.dead_letter_queue)",
            )


def _dead_letter_target(redrive: Any) -> Any:
    """The redrive policy's deadLetterTargetArn (the policy may be JSON text in a template)."""
    if isinstance(redrive, str):
        try:
            redrive = json.loads(redrive)
        except ValueError:
            return None
    return redrive.get("deadLetterTargetArn") if isinstance(redrive, Mapping) else None


RULES = (event_target_failure_handling, sns_subscription_redrive)
