"""Rules over AWS::Lambda::EventSourceMapping: failure handling per source type, and the SQS
visibility timeout against the function's timeout."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, number, referenced_id, renderings
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.parameter_bounds import template_parameters, value_ranges
from secure_constructs.trigger_facts import (
    LAMBDA_DEFAULT_TIMEOUT_SECONDS,
    SQS_DEFAULT_VISIBILITY_SECONDS,
    STREAM_UNBOUNDED,
)

MAPPING = "AWS::Lambda::EventSourceMapping"
# What a mapping's EventSourceArn can point at in the template, per kind of source: a table's
# stream (Table and TableV2 = GlobalTable, GetAtt StreamArn), a Kinesis stream or its enhanced
# fan-out consumer (GetAtt ConsumerARN).
_STREAM_TYPES = (
    "AWS::Kinesis::Stream",
    "AWS::Kinesis::StreamConsumer",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
)


@dataclass(frozen=True)
class _Source:
    """A mapping's source, with its logical id when it is in the template. This base is a
    source these rules do not judge (Kafka, MQ, DocumentDB)."""

    logical_id: str | None

    def failures(
        self, t: Template, mapping_id: str, props: Mapping[str, Any]
    ) -> Iterator[Violation]:
        return iter(())


class _Queue(_Source):
    """An SQS source: its failures go to the queue's redrive policy (a mapping cannot have an
    on-failure destination)."""

    def failures(
        self, t: Template, mapping_id: str, props: Mapping[str, Any]
    ) -> Iterator[Violation]:
        return _sqs_failures(t, mapping_id, self.logical_id)


class _Stream(_Source):
    """A Kinesis or DynamoDB stream source: bounded retries and an on-failure destination."""

    def failures(
        self, t: Template, mapping_id: str, props: Mapping[str, Any]
    ) -> Iterator[Violation]:
        return _stream_failures(t, mapping_id, props)


_Other = _Source


def _source(t: Template, props: Mapping[str, Any]) -> _Source:
    """The mapping's source, with its logical id when it is in the template.

    A source not in the template is told by its ARN's service in every rendering; one whose
    service cannot be told is judged as a stream when StartingPosition is set (only stream and
    Kafka sources have one), as a queue not in the template otherwise: fail closed.
    """
    arn = props.get("EventSourceArn")
    target = referenced_id(arn)
    resource = t.resources.get(target) if target is not None else None
    if isinstance(resource, Mapping):
        type_ = resource.get("Type")
        if type_ == "AWS::SQS::Queue":
            return _Queue(target)
        if type_ in _STREAM_TYPES:
            return _Stream(target)
        return _Other(target)
    told = {_arn_source(text) for text in renderings(arn)}
    if told == {_Queue}:
        return _Queue(None)
    if told and told <= {_Stream, _Other} and _Stream in told:
        return _Stream(None)
    if told == {_Other}:
        return _Other(None)
    # the source cannot be told: a stream when StartingPosition is set, else most likely a queue
    # (both fail closed: a queue not in the template is a finding)
    return _Stream(None) if "StartingPosition" in props else _Queue(None)


def _arn_source(text: str) -> type[_Source] | None:
    """The kind of source an ARN names (None: the service is not literal)."""
    parts = text.split(":")
    service = parts[2] if len(parts) >= 6 and parts[0] == "arn" else UNKNOWN
    if UNKNOWN in service or not service:
        return None
    if service == "sqs":
        return _Queue
    if service == "kinesis" or (service == "dynamodb" and "/stream/" in text):
        return _Stream
    return _Other


@rule(
    "EventSourceFailureHandling",
    practice=Practice.EXECUTION_TIME,
    applies_to=(MAPPING,),
    summary="An event source mapping retries without bound or has nowhere to send failures",
    explanation=(
        "A stream mapping (Kinesis, DynamoDB) retries a failing batch until the records "
        "expire (up to a year on Kinesis), blocking the shard, unless MaximumRetryAttempts and "
        "MaximumRecordAgeInSeconds bound it; without an on-failure destination the records "
        "are then lost. An SQS mapping cannot have an on-failure destination: its failures go "
        "to the source queue's redrive policy, without which a poison message is received "
        "again and again until its retention ends."
    ),
)
def event_source_failure_handling(t: Template) -> Iterator[Violation]:
    for logical_id, props in t.of_type(MAPPING):
        yield from _source(t, props).failures(t, logical_id, props)


def _sqs_failures(t: Template, logical_id: str, source: str | None) -> Iterator[Violation]:
    fix = (
        "give the queue a redrive policy (sqs.Queue(..., dead_letter_queue=DeadLetterQueue("
        "queue=dlq, max_receive_count=3))), or use fn.add_queue_trigger(queue)"
    )
    if source is None:
        yield Violation(
            logical_id,
            "Properties/EventSourceArn",
            "the source queue is not in this template, so its redrive policy cannot be checked",
            fix,
            finding_id="QueueNotInTemplate",
        )
        return
    queue = t.resources[source].get("Properties")
    redrive = queue.get("RedrivePolicy") if isinstance(queue, Mapping) else None
    if not isinstance(redrive, Mapping) or redrive.get("deadLetterTargetArn") is None:
        yield Violation(
            source,
            "Properties/RedrivePolicy",
            f"queue {source} feeds {logical_id} but has no redrive policy: failing messages are "
            "received again until their retention ends",
            fix,
            finding_id="RedrivePolicy",
        )


def _stream_failures(t: Template, logical_id: str, props: Mapping[str, Any]) -> Iterator[Violation]:
    fix = (
        "set on_failure=, retry_attempts=, max_record_age= and bisect_batch_on_error=True on "
        "the DynamoEventSource / KinesisEventSource"
    )
    config = props.get("DestinationConfig")
    on_failure = config.get("OnFailure") if isinstance(config, Mapping) else None
    if not isinstance(on_failure, Mapping) or on_failure.get("Destination") is None:
        yield Violation(
            logical_id,
            "Properties/DestinationConfig/OnFailure",
            "records that still fail are dropped: no on-failure destination",
            fix,
            finding_id="OnFailure",
        )
    for field in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds"):
        if _may_be_unbounded(t, props.get(field)):
            yield Violation(
                logical_id,
                f"Properties/{field}",
                f"{field} may be unbounded (absent, -1, or a value the template does not "
                "bound): a failing batch blocks the shard",
                fix,
                finding_id=field,
            )


def _may_be_unbounded(t: Template, value: Any) -> bool:
    """Whether a retry bound can deploy as absent or -1 (infinite): either Fn::If branch, a
    parameter whose AllowedValues / MinValue do not rule out -1, any other intrinsic."""
    ranges = value_ranges(value, template_parameters(t.body))
    return any(lowest is None or lowest <= STREAM_UNBOUNDED for lowest, _ in ranges)


@rule(
    "SqsVisibilityTimeout",
    practice=Practice.EXECUTION_TIME,
    applies_to=(MAPPING,),
    summary="An SQS queue's visibility timeout is shorter than its consumer function's timeout",
    explanation=(
        "When the visibility timeout is shorter than the function timeout, a message still "
        "being processed becomes visible again and is processed twice, and counts towards the "
        "redrive policy's receive count. AWS recommends at least six times the function "
        "timeout (Lambda Developer Guide, Using Lambda with Amazon SQS)."
    ),
)
def sqs_visibility_timeout(t: Template) -> Iterator[Violation]:
    for _mapping_id, props in t.of_type(MAPPING):
        found = _source(t, props)
        source = found.logical_id if isinstance(found, _Queue) else None
        function_id = referenced_id(props.get("FunctionName"))
        if source is None or function_id is None:
            continue
        fn = t.resources.get(function_id)
        queue = t.resources[source].get("Properties") or {}
        fn_props = fn.get("Properties") if isinstance(fn, Mapping) else None
        if not isinstance(fn_props, Mapping) or not isinstance(queue, Mapping):
            continue
        visibility = number(queue.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_SECONDS))
        timeout = number(fn_props.get("Timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS))
        if visibility is not None and timeout is not None and visibility < timeout:
            yield Violation(
                source,
                "Properties/VisibilityTimeout",
                f"queue {source} hides a message for {visibility:g} s but {function_id} may run "
                f"{timeout:g} s: messages are processed twice",
                "set visibility_timeout= to at least 6x the function timeout (fn."
                "add_queue_trigger refuses less)",
            )


RULES = (event_source_failure_handling, sqs_visibility_timeout)
