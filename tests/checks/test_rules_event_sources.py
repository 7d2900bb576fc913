"""EventSourceFailureHandling and SqsVisibilityTimeout: per source type, in dicts, hand-written
YAML and CDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import DynamoEventSource, SqsDlq, SqsEventSource

from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.model import Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as run_cli
from tests.checks.templates import function, granular, resource, run
from tests.synth import synth

QUEUE_ARN = {"Fn::GetAtt": ["Jobs", "Arn"]}


def _queue(**props: Any) -> dict[str, Any]:
    return resource("AWS::SQS::Queue", **props)


def _mapping(source: Any, **props: Any) -> dict[str, Any]:
    return resource(
        "AWS::Lambda::EventSourceMapping",
        FunctionName={"Ref": "Fn"},
        EventSourceArn=source,
        **props,
    )


REDRIVE = {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}
STREAM_OK = {
    "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    "MaximumRetryAttempts": 3,
    "MaximumRecordAgeInSeconds": 3600,
    "BisectBatchOnFunctionError": True,
    "StartingPosition": "LATEST",
}
TABLE_STREAM = {"Fn::GetAtt": ["Table", "StreamArn"]}


def test_fails_when_the_sqs_source_queue_has_no_redrive_policy() -> None:
    findings = run(
        "EventSourceFailureHandling",
        {"Fn": function(), "Jobs": _queue(), "Map": _mapping(QUEUE_ARN)},
    )
    assert granular(findings) == [("Jobs", "RedrivePolicy")]


def test_fails_when_the_sqs_source_queue_is_not_in_the_template() -> None:
    findings = run(
        "EventSourceFailureHandling",
        {"Fn": function(), "Map": _mapping("arn:aws:sqs:us-east-1:111122223333:jobs")},
    )
    assert granular(findings) == [("Map", "QueueNotInTemplate")]


def test_an_sqs_source_with_a_redrive_policy_passes() -> None:
    resources = {
        "Fn": function(),
        "Jobs": _queue(RedrivePolicy=REDRIVE),
        "Map": _mapping(QUEUE_ARN),
    }
    assert run("EventSourceFailureHandling", resources) == []


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("DestinationConfig", "OnFailure"),
        ("MaximumRetryAttempts", "MaximumRetryAttempts"),
        ("MaximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds"),
    ],
)
def test_fails_when_a_stream_mapping_lacks(drop: str, expected: str) -> None:
    props = {k: v for k, v in STREAM_OK.items() if k != drop}
    resources = {
        "Fn": function(),
        "Table": resource("AWS::DynamoDB::Table"),
        "Map": _mapping(TABLE_STREAM, **props),
    }
    assert granular(run("EventSourceFailureHandling", resources)) == [("Map", expected)]


def test_fails_when_a_kinesis_mapping_retries_forever() -> None:
    props = {**STREAM_OK, "MaximumRetryAttempts": -1}
    arn = "arn:aws:kinesis:us-east-1:111122223333:stream/clicks"
    findings = run("EventSourceFailureHandling", {"Fn": function(), "Map": _mapping(arn, **props)})
    assert granular(findings) == [("Map", "MaximumRetryAttempts")]


def test_a_bounded_stream_mapping_with_a_destination_passes() -> None:
    resources = {
        "Fn": function(),
        "Table": resource("AWS::DynamoDB::Table"),
        "Map": _mapping(TABLE_STREAM, **STREAM_OK),
    }
    assert run("EventSourceFailureHandling", resources) == []


@pytest.mark.parametrize(("visibility", "timeout"), [(None, 60), (30, 31), (2, None)])
def test_fails_when_the_visibility_timeout_is_below_the_function_timeout(
    visibility: int | None, timeout: int | None
) -> None:
    queue = _queue(
        RedrivePolicy=REDRIVE, **({} if visibility is None else {"VisibilityTimeout": visibility})
    )
    resources = {"Fn": function(Timeout=timeout), "Jobs": queue, "Map": _mapping(QUEUE_ARN)}
    assert granular(run("SqsVisibilityTimeout", resources)) == [("Jobs", None)]


def test_a_visibility_timeout_at_least_the_function_timeout_passes() -> None:
    queue = _queue(RedrivePolicy=REDRIVE, VisibilityTimeout=60)
    resources = {"Fn": function(Timeout=10), "Jobs": queue, "Map": _mapping(QUEUE_ARN)}
    assert run("SqsVisibilityTimeout", resources) == []


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
      Timeout: 60
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: VISIBILITY
REDRIVE
  Map:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Jobs.Arn
"""
YAML_REDRIVE = """      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3"""


def _yaml(visibility: int, redrive: bool) -> Template:
    text = YAML.replace("VISIBILITY", str(visibility)).replace(
        "REDRIVE", YAML_REDRIVE if redrive else ""
    )
    return Template(parse_template_text(text, "test.yaml"))


def test_hand_written_yaml_non_compliant() -> None:
    template = _yaml(30, redrive=False)
    assert granular(RULES["EventSourceFailureHandling"].run(template)) == [
        ("Jobs", "RedrivePolicy")
    ]
    assert granular(RULES["SqsVisibilityTimeout"].run(template)) == [("Jobs", None)]


def test_hand_written_yaml_compliant() -> None:
    template = _yaml(360, redrive=True)
    assert RULES["EventSourceFailureHandling"].run(template) == []
    assert RULES["SqsVisibilityTimeout"].run(template) == []


def _fn(stack: cdk.Stack, timeout: int = 10) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        timeout=cdk.Duration.seconds(timeout),
    )


def _ours(result: Any) -> set[str]:
    return {r.split("[")[0] for p, r, _ in result.violations if p == "SecureServerless"}


def test_cdk_sqs_source_without_redrive_and_short_visibility_is_flagged() -> None:
    def build(stack: cdk.Stack) -> None:
        queue = sqs.Queue(stack, "Jobs", visibility_timeout=cdk.Duration.seconds(5))
        _fn(stack).add_event_source(SqsEventSource(queue))

    result = synth(build)
    assert {"EventSourceFailureHandling", "SqsVisibilityTimeout"} <= _ours(result)


def test_cdk_sqs_source_with_redrive_and_long_visibility_passes_our_rules() -> None:
    def build(stack: cdk.Stack) -> None:
        dlq = sqs.Queue(stack, "Dlq")
        queue = sqs.Queue(
            stack,
            "Jobs",
            visibility_timeout=cdk.Duration.seconds(60),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=3),
        )
        _fn(stack).add_event_source(SqsEventSource(queue))

    result = synth(build)
    assert not {"EventSourceFailureHandling", "SqsVisibilityTimeout"} & _ours(result)


@pytest.mark.parametrize("bounded", [False, True])
def test_cdk_dynamodb_stream_source(bounded: bool) -> None:
    def build(stack: cdk.Stack) -> None:
        table = dynamodb.Table(
            stack,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        extra: dict[str, Any] = {}
        if bounded:
            extra = {
                "on_failure": SqsDlq(sqs.Queue(stack, "Dlq")),
                "retry_attempts": 3,
                "max_record_age": cdk.Duration.hours(1),
                "bisect_batch_on_error": True,
            }
        _fn(stack).add_event_source(
            DynamoEventSource(table, starting_position=lambda_.StartingPosition.LATEST, **extra)
        )

    result = synth(build)
    assert ("EventSourceFailureHandling" in _ours(result)) is not bounded


# Sources not known by their type alone (attacker review): each is judged as a stream.
STREAM_SOURCES = {
    "import": {"Fn::ImportValue": "ClicksStreamArn"},
    "parameter": {"Ref": "StreamArn"},
    "sub": {"Fn::Sub": "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s"},
    "table_v2": {"Fn::GetAtt": ["TableV2", "StreamArn"]},
    "consumer": {"Fn::GetAtt": ["Consumer", "ConsumerARN"]},
}
_SOURCE_RESOURCES = {
    "TableV2": resource("AWS::DynamoDB::GlobalTable"),
    "Consumer": resource("AWS::Kinesis::StreamConsumer"),
}


@pytest.mark.parametrize("source", sorted(STREAM_SOURCES))
def test_a_stream_source_not_told_by_type_is_judged(source: str) -> None:
    unbounded = {"StartingPosition": "LATEST"}
    resources = {"Fn": function(), **_SOURCE_RESOURCES}
    resources["Map"] = _mapping(STREAM_SOURCES[source], **unbounded)
    assert granular(run("EventSourceFailureHandling", resources)) == [
        ("Map", "MaximumRecordAgeInSeconds"),
        ("Map", "MaximumRetryAttempts"),
        ("Map", "OnFailure"),
    ]
    resources["Map"] = _mapping(STREAM_SOURCES[source], **STREAM_OK)
    assert run("EventSourceFailureHandling", resources) == []


def test_a_source_of_unknown_kind_without_starting_position_is_a_queue_not_in_the_template() -> (
    None
):
    resources = {"Fn": function(), "Map": _mapping({"Fn::ImportValue": "QueueArn"})}
    assert granular(run("EventSourceFailureHandling", resources)) == [("Map", "QueueNotInTemplate")]


@pytest.mark.parametrize(
    "bound",
    [
        {"Fn::If": ["InProd", -1, 3]},
        {"Fn::If": ["InProd", 3, {"Ref": "AWS::NoValue"}]},
        {"Ref": "Bound"},
        {"Fn::ImportValue": "Bound"},
    ],
)
def test_every_branch_and_parameter_of_a_retry_bound_is_judged(bound: Any) -> None:
    props = {**STREAM_OK, "MaximumRetryAttempts": bound}
    template = Template(
        {
            "Parameters": {"Bound": {"Type": "Number", "Default": 3}},
            "Resources": {"Fn": function(), "Map": _mapping(STREAM_SOURCES["sub"], **props)},
        }
    )
    findings = RULES["EventSourceFailureHandling"].run(template)
    assert granular(findings) == [("Map", "MaximumRetryAttempts")]


@pytest.mark.parametrize(
    "declared",
    [{"Type": "Number", "MinValue": 0}, {"Type": "Number", "AllowedValues": [2, 3]}],
)
def test_a_parameter_that_rules_out_minus_one_is_a_bound(declared: dict[str, Any]) -> None:
    props = {**STREAM_OK, "MaximumRetryAttempts": {"Ref": "Bound"}}
    template = Template(
        {
            "Parameters": {"Bound": declared},
            "Resources": {"Fn": function(), "Map": _mapping(STREAM_SOURCES["sub"], **props)},
        }
    )
    assert RULES["EventSourceFailureHandling"].run(template) == []


STREAM_YAML = """
Parameters:
  StreamArn: {Type: String}
  Retries: {Type: Number, Default: 3EXTRA}
Resources:
  Map:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: f
      EventSourceArn: !Ref StreamArn
      StartingPosition: LATEST
      MaximumRetryAttempts: !Ref Retries
      MaximumRecordAgeInSeconds: 3600
      DestinationConfig: {OnFailure: {Destination: !ImportValue Dlq}}
"""


@pytest.mark.parametrize("bounded", [False, True])
def test_hand_written_yaml_stream_from_a_parameter_through_the_audit(
    bounded: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "stream.yaml"
    path.write_text(STREAM_YAML.replace("EXTRA", ", MinValue: 0" if bounded else ""))
    result = run_cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert ("EventSourceFailureHandling[MaximumRetryAttempts]" in rules) is not bounded


@pytest.mark.parametrize("bounded", [False, True])
def test_cdk_table_v2_stream_source(bounded: bool) -> None:
    def build(stack: cdk.Stack) -> None:
        table = dynamodb.TableV2(
            stack,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        extra: dict[str, Any] = {}
        if bounded:
            extra = {"retry_attempts": 3, "max_record_age": cdk.Duration.hours(1)}
        _fn(stack).add_event_source_mapping(
            "Orders",
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
            on_failure=SqsDlq(sqs.Queue(stack, "Dlq")),
            **extra,
        )

    result = synth(build)
    assert ("EventSourceFailureHandling" in _ours(result)) is not bounded
