"""fn.add_schedule (EventBridge Scheduler) and CDK's own Scheduler target on a SecureFunction:
dead-letter queue Scheduler can write to, bounded retries, every refused input (issue 16)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.shared import security_key
from tests.constructs.trigger_helpers import secure_function
from tests.synth import arn, synth

HOURLY = scheduler.ScheduleExpression.rate(cdk.Duration.hours(1))


def _function(stack: cdk.Stack) -> SecureFunction:
    return secure_function(stack)


def _policy_statements(result: Any, role_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in result.resources("AWS::IAM::ManagedPolicy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    for policy in result.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _dlq_key_statement(result: Any, role_id: str, dlq_id: str) -> dict[str, Any]:
    (statement,) = [
        s
        for s in _policy_statements(result, role_id)
        if s.get("Condition", {}).get("StringEquals", {}).get("kms:EncryptionContext:aws:sqs:arn")
        == arn(dlq_id)
    ]
    return statement


def _shared_dlq(result: Any) -> str:
    (dlq_id,) = [k for k in result.resources("AWS::SQS::Queue") if "DeadLetter" in k]
    return dlq_id


def test_add_schedule_defaults_and_zero_findings() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack).add_schedule("Hourly", HOURLY)

    result = synth(build)
    assert not result.failed and result.violations == [], result.violations
    props = result.props("AWS::Scheduler::Schedule")
    dlq_id = _shared_dlq(result)
    (fn_id,) = result.resources("AWS::Lambda::Function")
    target = props["Target"]
    assert target["Arn"] == arn(fn_id)
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": arn(dlq_id)}
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["ScheduleExpression"] == "rate(1 hour)"
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = result.template["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    conditions = trust["Condition"]["StringEquals"]
    assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert conditions["aws:SourceArn"]["Fn::Join"][1][-1] == ":schedule-group/default"
    statements = _policy_statements(result, role_id)
    assert [s["Resource"] for s in statements if s["Action"] == "lambda:InvokeFunction"] == [
        arn(fn_id)
    ]
    assert [s["Resource"] for s in statements if s["Action"] == "sqs:SendMessage"] == [arn(dlq_id)]
    key_statement = _dlq_key_statement(result, role_id, dlq_id)
    (key_id,) = result.resources("AWS::KMS::Key")
    assert sorted(key_statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key_statement["Resource"] == arn(key_id)
    assert len(statements) == 3


def test_add_schedule_passes_its_options() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        queue = sqs.Queue(stack, "Missed", encryption_master_key=security_key(stack))
        fn.add_schedule(
            "Nightly",
            scheduler.ScheduleExpression.cron(hour="2", minute="0"),
            dead_letter_queue=queue,
            retry_attempts=0,
            max_event_age=cdk.Duration.hours(24),
            flexible_time_window=cdk.Duration.minutes(15),
            description="nightly report",
        )

    result = synth(build, checks=False)
    props = result.props("AWS::Scheduler::Schedule")
    (missed_id,) = [k for k in result.resources("AWS::SQS::Queue") if "Missed" in k]
    assert props["Target"]["DeadLetterConfig"] == {"Arn": arn(missed_id)}
    assert props["Target"]["RetryPolicy"] == {
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 86400,
    }
    assert props["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert props["Description"] == "nightly report"


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("retry_attempts", -1),
        ("retry_attempts", 186),
        ("max_event_age", cdk.Duration.seconds(59)),
        ("max_event_age", cdk.Duration.hours(25)),
        ("max_event_age", cdk.Duration.seconds(cdk.Token.as_number({"Ref": "Age"}))),
        ("flexible_time_window", cdk.Duration.minutes(cdk.Token.as_number({"Ref": "Win"}))),
        ("flexible_time_window", cdk.Duration.seconds(30)),
        ("flexible_time_window", cdk.Duration.seconds(90)),
        ("flexible_time_window", cdk.Duration.minutes(1441)),
    ],
)
def test_fails_when_a_schedule_option_is_out_of_range(prop: str, value: object) -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    with pytest.raises(ValidationError, match=rf"^{prop}="):
        fn.add_schedule("S", HOURLY, **{prop: value})  # type: ignore[arg-type]


def test_cdks_lambda_invoke_with_the_shared_dlq_gets_the_key_through_sqs() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        scheduler.Schedule(
            stack,
            "Hourly",
            schedule=HOURLY,
            target=scheduler_targets.LambdaInvoke(
                fn, dead_letter_queue=fn.dead_letter_queue, retry_attempts=2
            ),
        )

    result = synth(build, checks=False)
    role_id = result.props("AWS::Scheduler::Schedule")["Target"]["RoleArn"]["Fn::GetAtt"][0]
    key_statement = _dlq_key_statement(result, role_id, _shared_dlq(result))
    assert key_statement["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }


def test_fails_when_a_schedule_target_has_no_dead_letter_queue() -> None:
    def build(stack: cdk.Stack) -> None:
        scheduler.Schedule(
            stack,
            "Hourly",
            schedule=HOURLY,
            target=scheduler_targets.LambdaInvoke(_function(stack)),
        )

    result = synth(build)
    assert result.failed
    found = {r for p, r, _ in result.violations if p == "SecureServerless"}
    assert "EventTargetFailureHandling[DeadLetterConfig]" in found
