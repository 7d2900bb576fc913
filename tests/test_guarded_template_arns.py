"""How guarded_template tells that a topic or queue policy names a shared resource by ARN
(pure functions; the synth-level cases are in tests/constructs/test_shared_scoping.py)."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.guarded_template import names_by_arn

TOPIC = "arn:*:sns:eu-west-1:123456789012:*"  # a generated name: any name may be it
NAMED = "arn:*:sns:eu-west-1:123456789012:alarms"
QUEUE = "arn:*:sqs:eu-west-1:123456789012:*"
RESOURCES = {"Other": {}, "Mine": {}}


@pytest.mark.parametrize(
    ("value", "pattern", "named"),
    [
        (["arn:aws:sns:eu-west-1:123456789012:alarms"], NAMED, True),
        (["arn:aws:sns:eu-west-1:123456789012:al*"], NAMED, True),
        (["arn:aws:sns:*:*:*"], NAMED, True),
        ("*", NAMED, True),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:alarms"},
            NAMED,
            True,
        ),
        (["arn:aws:sns:eu-west-1:123456789012:other"], NAMED, False),
        (["arn:aws:sns:us-east-1:123456789012:alarms"], NAMED, False),
        (["arn:aws:sns:eu-west-1:999999999999:alarms"], NAMED, False),
        (["arn:aws:sns:eu-west-1:123456789012:Stack-Topic-1A2B"], TOPIC, True),
        (["https://sqs.eu-west-1.amazonaws.com/123456789012/Stack-Dlq-1A2B"], QUEUE, True),
        (["https://sqs.us-east-1.amazonaws.com/123456789012/q"], QUEUE, False),
        # a reference to another resource of the template is not an ARN of ours
        ([{"Ref": "Other"}], NAMED, False),
        ([{"Fn::GetAtt": ["Other", "Arn"]}], NAMED, False),
        # a parameter may hold our ARN: fail closed
        ([{"Ref": "TopicArnParameter"}], NAMED, True),
    ],
)
def test_names_the_shared_resource_by_arn(value: Any, pattern: str, named: bool) -> None:
    assert names_by_arn(value, pattern, RESOURCES) is named
