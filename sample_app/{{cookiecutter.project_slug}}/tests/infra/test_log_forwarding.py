"""SIEM forwarding, off by default and on in settings: every log group of the stack is
subscribed to the destination, through a role that may only put records into it."""

from __future__ import annotations

import dataclasses

import pytest

from {{ cookiecutter.package_name }}.settings import AWS_REGION, Settings
from tests.infra.conftest import Synth, synthesize

STREAM_ARN = f"arn:aws:kinesis:{AWS_REGION}:111122223333:stream/central-siem"
FUNCTIONS = ("GetItem", "CreateItem", "ShareLink", "RotateSigningKey", "ImportItems")
FORWARDING = "SecureConstructsLogForwarding"


@pytest.fixture(scope="module")
def forwarded(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    settings = dataclasses.replace(Settings(), log_destination_arn=STREAM_ARN)
    return synthesize(tmp_path_factory.mktemp("forwarded"), settings)


def test_logs_are_not_forwarded_by_default(synth: Synth) -> None:
    assert Settings().log_destination_arn == ""
    assert synth.resources("AWS::Logs::SubscriptionFilter") == {}


def test_forwarding_is_clean_under_every_pack_of_the_app(forwarded: Synth) -> None:
    assert forwarded.open_findings == []
    assert not forwarded.failed


def test_every_log_group_the_library_made_is_subscribed(forwarded: Synth) -> None:
    role = forwarded.logical_id("AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    subscribed = {}
    for props in (
        r["Properties"] for r in forwarded.resources("AWS::Logs::SubscriptionFilter").values()
    ):
        assert props["DestinationArn"] == STREAM_ARN
        assert props["RoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
        subscribed[props["LogGroupName"]["Ref"]] = props
    library_made = [f"{fn}LogGroup/Resource" for fn in FUNCTIONS] + [
        "Api/AccessLogs/Resource",
        "Api/WebAcl/LogGroup/Resource",
    ]
    for path in library_made:
        assert forwarded.logical_id("AWS::Logs::LogGroup", path) in subscribed, path
    assert set(subscribed) == set(forwarded.resources("AWS::Logs::LogGroup"))


def test_the_forwarding_role_may_only_put_records_into_the_stream(forwarded: Synth) -> None:
    role = forwarded.logical_id("AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    props = forwarded.template["Resources"][role]["Properties"]
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert "aws:SourceArn" in trust["Condition"]["StringLike"]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in forwarded.resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role} in p["Properties"].get("Roles", [])
    ]
    assert policies == [
        [
            {
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": STREAM_ARN,
            }
        ]
    ]


@pytest.mark.parametrize(
    "bad", ["central-siem", "arn:aws:s3:::bucket", "arn:aws:sqs:eu-west-1:111122223333:q"]
)
def test_fails_when_the_destination_is_not_a_logs_kinesis_or_firehose_arn(bad: str) -> None:
    with pytest.raises(ValueError, match="log_destination_arn"):
        Settings(log_destination_arn=bad)
