"""fn.add_stream_trigger (DynamoDB streams, Kinesis) and CDK's own stream sources on a
SecureFunction: failures bounded and kept, 0 findings, every refused input (issue 16)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import DynamoEventSource, KinesisEventSource, SqsDlq

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.shared import security_key
from tests.constructs.trigger_helpers import orders_table, secure_function
from tests.synth import arn, synth


def _function(stack: cdk.Stack) -> SecureFunction:
    return secure_function(stack)


def _table(stack: cdk.Stack, stream: bool = True) -> dynamodb.Table:
    return orders_table(stack, stream=stream)


def _stream(stack: cdk.Stack) -> kinesis.Stream:
    return kinesis.Stream(
        stack,
        "Clicks",
        # AwsSolutions-KDS3 asks for the AWS managed key of Kinesis.
        encryption=kinesis.StreamEncryption.MANAGED,
    )


def _mapping(result: Any) -> dict[str, Any]:
    return result.props("AWS::Lambda::EventSourceMapping")


@pytest.mark.parametrize("kind", ["table", "stream"])
def test_add_stream_trigger_defaults_and_zero_findings(kind: str) -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_stream_trigger(_table(stack) if kind == "table" else _stream(stack))

    result = synth(build)
    assert not result.failed and result.violations == [], result.violations
    props = _mapping(result)
    (dlq_id,) = [k for k in result.resources("AWS::SQS::Queue") if "DeadLetter" in k]
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": arn(dlq_id)}}
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 100
    assert props["StartingPosition"] == "TRIM_HORIZON"
    _assert_stream_row(result, dlq_id)


def _assert_stream_row(result: Any, dlq_id: str) -> None:
    """The trigger's dashboard row: the function's iterator age and its on-failure queue."""
    from tests.constructs.test_observability import _metrics_of, dashboard_body

    widgets = dashboard_body(result)["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles[-1].startswith("### Stream trigger ") and titles[-1].endswith(" -> Test/Fn")
    graphs = {w["properties"]["title"]: w for w in widgets if w["type"] == "metric"}
    fn_id = next(iter(result.resources("AWS::Lambda::Function")))
    [age] = _metrics_of(graphs["Iterator age (ms)"])
    assert age == ["AWS/Lambda", "IteratorAge", "FunctionName", fn_id]
    [depth] = _metrics_of(graphs["On-failure queue depth"])
    assert depth[:3] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"]
    assert dlq_id in str(depth[3])


def _role_statements(result: Any) -> list[dict[str, Any]]:
    found = []
    for policy in result.resources("AWS::IAM::ManagedPolicy").values():
        if {"Ref": "FnServiceRole"} in [r for r in policy["Properties"].get("Roles", [])] or any(
            "FnServiceRole" in str(r) for r in policy["Properties"].get("Roles", [])
        ):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    for policy in result.resources("AWS::IAM::Policy").values():
        if any("FnServiceRole" in str(r) for r in policy["Properties"].get("Roles", [])):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_add_stream_trigger_grants_send_on_exactly_a_given_queue_and_its_key_through_sqs() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        failures = sqs.Queue(
            stack, "Failures", encryption_master_key=security_key(stack), enforce_ssl=True
        )
        fn.add_stream_trigger(_table(stack), on_failure=failures)

    result = synth(build, checks=False)
    (failures_id,) = [k for k in result.resources("AWS::SQS::Queue") if "Failures" in k]
    assert _mapping(result)["DestinationConfig"] == {"OnFailure": {"Destination": arn(failures_id)}}
    statements = _role_statements(result)
    sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert arn(failures_id) in [s["Resource"] for s in sends]
    (key_id,) = result.resources("AWS::KMS::Key")
    (kms,) = [
        s
        for s in statements
        if s.get("Condition", {}).get("StringEquals", {}).get("kms:EncryptionContext:aws:sqs:arn")
        == arn(failures_id)
    ]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Resource"] == arn(key_id)
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }


def test_add_stream_trigger_passes_its_options() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack).add_stream_trigger(
            _stream(stack),
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=500,
            retry_attempts=0,
            max_record_age=cdk.Duration.days(7),
            bisect_batch_on_error=False,
        )

    props = _mapping(synth(build, checks=False))
    assert props["StartingPosition"] == "LATEST" and props["BatchSize"] == 500
    assert props["MaximumRetryAttempts"] == 0
    assert props["MaximumRecordAgeInSeconds"] == 604800
    assert props["BisectBatchOnFunctionError"] is False


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 10_001),
        ("retry_attempts", -1),
        ("retry_attempts", 10_001),
        ("max_record_age", cdk.Duration.seconds(59)),
        ("max_record_age", cdk.Duration.days(8)),
        ("max_record_age", cdk.Duration.millis(60_500)),
        ("max_record_age", cdk.Duration.seconds(cdk.Token.as_number({"Ref": "Age"}))),
    ],
)
def test_fails_when_a_stream_trigger_option_is_out_of_range(prop: str, value: object) -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    with pytest.raises(ValidationError, match=rf"^{prop}="):
        fn.add_stream_trigger(_stream(stack), **{prop: value})  # type: ignore[arg-type]


def test_fails_when_the_stream_trigger_table_has_no_stream() -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    with pytest.raises(ValidationError, match=r"^source=.*with a stream"):
        fn.add_stream_trigger(_table(stack, stream=False))


def test_fails_when_the_stream_trigger_source_is_neither_table_nor_stream() -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    queue = sqs.Queue(stack, "Q")
    with pytest.raises(ValidationError, match=r"^source="):
        fn.add_stream_trigger(queue)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("missing", "settings"),
    [
        ("on_failure", {"retry_attempts": 2, "max_record_age": cdk.Duration.hours(1)}),
        ("retry_attempts", {"max_record_age": cdk.Duration.hours(1)}),
        ("max_record_age", {"retry_attempts": 2}),
    ],
)
def test_fails_when_cdks_stream_source_has_no_failure_handling(
    missing: str, settings: dict[str, Any]
) -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    if missing != "on_failure":
        settings["on_failure"] = SqsDlq(fn.dead_letter_queue)
    with pytest.raises(ValidationError, match=rf"^{missing}=.*add_stream_trigger"):
        fn.add_event_source(
            KinesisEventSource(
                _stream(stack), starting_position=lambda_.StartingPosition.LATEST, **settings
            )
        )


def test_cdks_stream_source_with_failure_handling_is_accepted_and_clean() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_event_source(
            DynamoEventSource(
                _table(stack),
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                on_failure=SqsDlq(fn.dead_letter_queue),
                retry_attempts=3,
                max_record_age=cdk.Duration.hours(2),
                bisect_batch_on_error=True,
            )
        )

    result = synth(build)
    assert _mapping(result)["MaximumRetryAttempts"] == 3
    assert not result.failed and result.violations == [], result.violations
