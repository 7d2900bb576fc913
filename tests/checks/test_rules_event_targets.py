"""EventTargetFailureHandling and SnsSubscriptionRedrive: in dicts, hand-written YAML through
`secure-constructs audit`, and CDK (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs

from tests.audit.helpers import run as run_cli
from tests.checks.templates import function, granular, resource, run
from tests.synth import synth

DLQ = {"Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
RETRY = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
FN_ARN = {"Fn::GetAtt": ["Fn", "Arn"]}


def _rule(*targets_: dict[str, Any]) -> dict[str, Any]:
    return resource("AWS::Events::Rule", ScheduleExpression="rate(1 hour)", Targets=list(targets_))


def _target(**props: Any) -> dict[str, Any]:
    return {"Id": "Fn", "Arn": FN_ARN, **props}


def _schedule(**target: Any) -> dict[str, Any]:
    return resource(
        "AWS::Scheduler::Schedule",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": FN_ARN, "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}, **target},
    )


def _subscription(**props: Any) -> dict[str, Any]:
    return resource(
        "AWS::SNS::Subscription",
        Protocol="lambda",
        TopicArn={"Ref": "Topic"},
        Endpoint=FN_ARN,
        **props,
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (_target(), ["DeadLetterConfig", "RetryPolicy"]),
        (_target(DeadLetterConfig=DLQ), ["RetryPolicy"]),
        (_target(RetryPolicy=RETRY), ["DeadLetterConfig"]),
        (_target(DeadLetterConfig={}, RetryPolicy=RETRY), ["DeadLetterConfig"]),
        (_target(DeadLetterConfig=DLQ, RetryPolicy=RETRY), []),
    ],
)
def test_rule_targets_without_dlq_or_retry_policy(
    target: dict[str, Any], expected: list[str]
) -> None:
    findings = run("EventTargetFailureHandling", {"Fn": function(), "Nightly": _rule(target)})
    assert granular(findings) == [("Nightly", e) for e in expected]


def test_every_target_of_a_rule_is_judged() -> None:
    good = _target(DeadLetterConfig=DLQ, RetryPolicy=RETRY)
    findings = run("EventTargetFailureHandling", {"Nightly": _rule(good, _target(Id="Two"))})
    assert sorted(f.path for f in findings) == [
        "Properties/Targets/1/DeadLetterConfig",
        "Properties/Targets/1/RetryPolicy",
    ]


def test_fails_closed_when_the_targets_are_not_a_list() -> None:
    rule = resource("AWS::Events::Rule", Targets={"Fn::If": ["C", [], []]})
    findings = run("EventTargetFailureHandling", {"Nightly": rule})
    assert granular(findings) == [("Nightly", "Unreadable")]


def test_a_rule_without_targets_is_not_judged() -> None:
    rule = resource("AWS::Events::Rule", EventPattern={"source": ["aws.s3"]})
    assert run("EventTargetFailureHandling", {"Nightly": rule}) == []


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({}, ["DeadLetterConfig", "RetryPolicy"]),
        ({"DeadLetterConfig": DLQ}, ["RetryPolicy"]),
        ({"DeadLetterConfig": DLQ, "RetryPolicy": RETRY}, []),
    ],
)
def test_schedule_targets_without_dlq_or_retry_policy(
    target: dict[str, Any], expected: list[str]
) -> None:
    findings = run("EventTargetFailureHandling", {"Hourly": _schedule(**target)})
    assert granular(findings) == [("Hourly", e) for e in expected]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, [("Sub", None)]),
        ({"RedrivePolicy": {}}, [("Sub", None)]),
        ({"RedrivePolicy": '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"}'}, []),
        ({"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}, []),
        ({"Protocol": "sqs"}, []),
        ({"Protocol": {"Ref": "Proto"}}, [("Sub", None)]),
    ],
)
def test_sns_subscriptions_of_functions_need_a_redrive_policy(
    props: dict[str, Any], expected: list[tuple[str, None]]
) -> None:
    subscription = _subscription(**{k: v for k, v in props.items() if k != "Protocol"})
    if "Protocol" in props:
        subscription["Properties"]["Protocol"] = props["Protocol"]
    findings = run("SnsSubscriptionRedrive", {"Sub": subscription})
    assert granular(findings) == expected


YAML = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt FnRole.Arn
      Runtime: python3.14
      Handler: index.handler
      Code: {ZipFile: "def handler(e, c): pass"}
  Dlq:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - Id: Fn
          Arn: !GetAtt Fn.Arn
RULE_EXTRA
  Hourly:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 hour)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target:
        Arn: !GetAtt Fn.Arn
        RoleArn: !GetAtt SchedulerRole.Arn
SCHEDULE_EXTRA
  Sub:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: lambda
      TopicArn: !Ref Topic
      Endpoint: !GetAtt Fn.Arn
SUB_EXTRA
"""


def _audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, compliant: bool
) -> set[tuple[str, str]]:
    text = YAML.replace(
        "RULE_EXTRA",
        "          DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}\n"
        "          RetryPolicy: {MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600}"
        if compliant
        else "",
    )
    text = text.replace(
        "SCHEDULE_EXTRA",
        "        DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}\n"
        "        RetryPolicy: {MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600}"
        if compliant
        else "",
    )
    text = text.replace(
        "SUB_EXTRA",
        "      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn}" if compliant else "",
    )
    path = tmp_path / "events.yaml"
    path.write_text(text)
    result = run_cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    return {
        (f["logical_id"], f["rule"])
        for f in json.loads(result.out)["findings"]
        if f["rule"].startswith(("EventTargetFailureHandling", "SnsSubscriptionRedrive"))
    }


def test_hand_written_yaml_non_compliant_through_the_audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _audit(capsys, tmp_path, compliant=False) == {
        ("Nightly", "EventTargetFailureHandling[DeadLetterConfig]"),
        ("Nightly", "EventTargetFailureHandling[RetryPolicy]"),
        ("Hourly", "EventTargetFailureHandling[DeadLetterConfig]"),
        ("Hourly", "EventTargetFailureHandling[RetryPolicy]"),
        ("Sub", "SnsSubscriptionRedrive"),
    }


def test_hand_written_yaml_compliant_through_the_audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _audit(capsys, tmp_path, compliant=True) == set()


def _plain_function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
    )


def _ours(result: Any, rule_id: str) -> list[str]:
    return [r for p, r, _ in result.violations if p == "SecureServerless" and r.startswith(rule_id)]


@pytest.mark.parametrize("compliant", [False, True])
def test_cdk_rule_target_and_subscription_of_a_plain_function(compliant: bool) -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _plain_function(stack)
        dlq = sqs.Queue(stack, "Dlq")
        extra: dict[str, Any] = (
            {"dead_letter_queue": dlq, "retry_attempts": 2, "max_event_age": cdk.Duration.hours(1)}
            if compliant
            else {}
        )
        events.Rule(
            stack,
            "Nightly",
            schedule=events.Schedule.rate(cdk.Duration.days(1)),
            targets=[targets.LambdaFunction(fn, **extra)],
        )
        sns.Topic(stack, "Topic").add_subscription(
            subs.LambdaSubscription(fn, dead_letter_queue=dlq if compliant else None)
        )

    result = synth(build)
    if compliant:
        assert _ours(result, "EventTargetFailureHandling") == []
        assert _ours(result, "SnsSubscriptionRedrive") == []
    else:
        assert sorted(_ours(result, "EventTargetFailureHandling")) == [
            "EventTargetFailureHandling[DeadLetterConfig]",
            "EventTargetFailureHandling[RetryPolicy]",
        ]
        assert _ours(result, "SnsSubscriptionRedrive") == ["SnsSubscriptionRedrive"]


# Retry values and every branch of a DLQ (attacker review).
NO_DLQ_BRANCH = {"Fn::If": ["InProd", DLQ, {"Ref": "AWS::NoValue"}]}
NO_ARN_BRANCH = {"Arn": {"Fn::If": ["InProd", DLQ["Arn"], {"Ref": "AWS::NoValue"}]}}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (_target(DeadLetterConfig=DLQ, RetryPolicy={}), ["RetryPolicy"]),
        (
            _target(
                DeadLetterConfig=DLQ,
                RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
            ),
            ["RetryPolicy"],
        ),
        (
            _target(
                DeadLetterConfig=DLQ,
                RetryPolicy={"Fn::If": ["InProd", RETRY, {"Ref": "AWS::NoValue"}]},
            ),
            ["RetryPolicy"],
        ),
        (
            _target(DeadLetterConfig=DLQ, RetryPolicy={"MaximumRetryAttempts": {"Ref": "N"}}),
            ["RetryPolicy"],
        ),
        (_target(DeadLetterConfig=NO_DLQ_BRANCH, RetryPolicy=RETRY), ["DeadLetterConfig"]),
        (_target(DeadLetterConfig=NO_ARN_BRANCH, RetryPolicy=RETRY), ["DeadLetterConfig"]),
        (_target(DeadLetterConfig=DLQ, RetryPolicy={"MaximumRetryAttempts": 2}), []),
        (_target(DeadLetterConfig=DLQ, RetryPolicy={"MaximumEventAgeInSeconds": 3600}), []),
    ],
)
def test_a_retry_policy_must_bound_and_every_branch_needs_a_dlq(
    target: dict[str, Any], expected: list[str]
) -> None:
    findings = run("EventTargetFailureHandling", {"Nightly": _rule(target)})
    assert granular(findings) == [("Nightly", e) for e in expected]


def test_a_subscription_redrive_policy_is_needed_in_every_branch() -> None:
    redrive = {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
    either = {"Fn::If": ["InProd", redrive, {"Ref": "AWS::NoValue"}]}
    assert granular(run("SnsSubscriptionRedrive", {"Sub": _subscription(RedrivePolicy=either)}))
    both = {"Fn::If": ["InProd", redrive, redrive]}
    assert run("SnsSubscriptionRedrive", {"Sub": _subscription(RedrivePolicy=both)}) == []


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"Protocol": "lambda", "Endpoint": FN_ARN}], ["Properties/Subscription/0"]),
        ([{"Protocol": {"Ref": "P"}, "Endpoint": FN_ARN}], ["Properties/Subscription/0"]),
        ({"Ref": "Subs"}, ["Properties/Subscription"]),
        ([{"Protocol": "email", "Endpoint": "ops@example.com"}], []),
    ],
)
def test_inline_topic_subscriptions_of_functions_are_reported(
    entries: Any, expected: list[str]
) -> None:
    findings = run(
        "SnsSubscriptionRedrive", {"Topic": resource("AWS::SNS::Topic", Subscription=entries)}
    )
    assert [f.path for f in findings] == expected


INLINE_YAML = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription:
        - {Protocol: PROTOCOL, Endpoint: ENDPOINT}
"""


@pytest.mark.parametrize(
    ("protocol", "endpoint", "flagged"),
    [
        ("lambda", "arn:aws:lambda:us-east-1:111122223333:function:f", True),
        ("email", "a@b.c", False),
    ],
)
def test_hand_written_yaml_inline_subscription_through_the_audit(
    protocol: str, endpoint: str, flagged: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "topic.yaml"
    path.write_text(INLINE_YAML.replace("PROTOCOL", protocol).replace("ENDPOINT", endpoint))
    result = run_cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert ("SnsSubscriptionRedrive" in rules) is flagged


@pytest.mark.parametrize("compliant", [False, True])
def test_cdk_inline_subscription_and_scheduler_default_retry(compliant: bool) -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _plain_function(stack)
        dlq = sqs.Queue(stack, "Dlq")
        retry: dict[str, Any] = (
            {"retry_attempts": 2, "max_event_age": cdk.Duration.hours(1)} if compliant else {}
        )
        scheduler.Schedule(
            stack,
            "Hourly",
            schedule=scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)),
            target=scheduler_targets.LambdaInvoke(fn, dead_letter_queue=dlq, **retry),
        )
        protocol = "email" if compliant else "lambda"
        endpoint = "ops@example.com" if compliant else fn.function_arn
        sns.CfnTopic(
            stack,
            "Topic",
            subscription=[sns.CfnTopic.SubscriptionProperty(protocol=protocol, endpoint=endpoint)],
        )

    result = synth(build)
    expected = [] if compliant else ["EventTargetFailureHandling[RetryPolicy]"]
    assert _ours(result, "EventTargetFailureHandling") == expected
    assert bool(_ours(result, "SnsSubscriptionRedrive")) is not compliant
