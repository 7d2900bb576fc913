"""LogForwarding on hand-written YAML templates (the CDK cases are in
tests/constructs/test_log_forwarding.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.model import Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as cli

MARKER = """
Metadata:
  SecureConstructs::LogForwarding:
    DestinationArn: !GetAtt Stream.Arn
"""
BASE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: logs.amazonaws.com}
            Action: sts:AssumeRole
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 365}
"""
FILTER = """
  Forward:
    Type: AWS::Logs::SubscriptionFilter
    Properties:
      LogGroupName: GROUP
      DestinationArn: DESTINATION
      FilterPattern: ""
      RoleArn: !GetAtt Role.Arn
"""
FUNCTION = """
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(e, c): pass"}
"""


def forwarding_filter(group: str = "!Ref Logs", destination: str = "!GetAtt Stream.Arn") -> str:
    return FILTER.replace("GROUP", group).replace("DESTINATION", destination)


def findings(text: str) -> list[tuple[str, str]]:
    template = Template(parse_template_text(text, "t.yaml"))
    return [(f.logical_id, f.path) for f in RULES["LogForwarding"].run(template)]


def test_a_template_whose_log_groups_are_all_forwarded_passes() -> None:
    assert findings(MARKER + BASE + forwarding_filter()) == []


def test_a_filter_on_the_literal_log_group_name_counts() -> None:
    named = BASE.replace("{RetentionInDays: 365}", "{LogGroupName: app-logs}")
    assert findings(MARKER + named + forwarding_filter(group="app-logs")) == []


def test_fails_when_a_log_group_has_no_subscription_filter() -> None:
    assert findings(MARKER + BASE) == [("Logs", "Properties/LogGroupName")]


def test_fails_when_the_filter_goes_elsewhere_than_the_declared_destination() -> None:
    elsewhere = forwarding_filter(destination="arn:aws:kinesis:eu-west-1:111122223333:stream/x")
    assert findings(MARKER + BASE + elsewhere) == [("Logs", "Properties/LogGroupName")]


def test_without_the_marker_the_rule_does_not_apply() -> None:
    template = Template(parse_template_text(BASE, "t.yaml"))
    assert not RULES["LogForwarding"].applies(template)
    assert findings(BASE) == []


def test_fails_closed_when_the_marker_names_no_destination() -> None:
    empty = "\nMetadata:\n  SecureConstructs::LogForwarding: {}\n"
    assert findings(empty + BASE + forwarding_filter()) == [
        ("Logs", "Metadata/SecureConstructs::LogForwarding")
    ]


def test_fails_when_a_function_logs_to_its_implicit_log_group() -> None:
    assert findings(MARKER + BASE + forwarding_filter() + FUNCTION) == [
        ("Fn", "Properties/LoggingConfig")
    ]


def test_a_function_with_its_own_forwarded_log_group_passes() -> None:
    own = FUNCTION + "      LoggingConfig: {LogGroup: !Ref Logs}\n"
    assert findings(MARKER + BASE + forwarding_filter() + own) == []


def test_a_filter_on_the_implicit_group_of_a_function_counts() -> None:
    implicit = forwarding_filter(group="!Sub /aws/lambda/${Fn}").replace("Forward:", "FnForward:")
    assert findings(MARKER + BASE + forwarding_filter() + FUNCTION + implicit) == []


def test_the_destinations_own_error_log_is_exempt() -> None:
    firehose = """
  Firehose:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        CloudWatchLoggingOptions: {Enabled: true, LogGroupName: !Ref Logs}
"""
    marker = MARKER.replace("Stream.Arn", "Firehose.Arn")
    assert findings(marker + BASE + firehose) == []


def test_the_audit_reports_a_log_group_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "forwarding.yaml"
    path.write_text(MARKER + BASE, encoding="utf-8")
    result = cli(capsys, "audit", path)
    assert result.code == 1, result
    assert "LogForwarding" in result.out
    path.write_text(MARKER + BASE + forwarding_filter(), encoding="utf-8")
    assert "LogForwarding" not in cli(capsys, "audit", path).out


OUTSIDE_ARN = "arn:aws:logs:us-east-1:111111111111:log-group:/legacy/outside:*"
STATE_MACHINE = """
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role.Arn
      DefinitionString: "{}"
      LoggingConfiguration:
        Level: ALL
        Destinations: [{CloudWatchLogsLogGroup: {LogGroupArn: GROUP}}]
"""
STAGE = """
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: api
      StageName: prod
      AccessLogSetting: {DestinationArn: GROUP, Format: "$context.requestId"}
"""
WAF_LOGGING = """
  WafLogging:
    Type: AWS::WAFv2::LoggingConfiguration
    Properties:
      ResourceArn: arn:aws:wafv2:us-east-1:111111111111:regional/webacl/a/1
      LogDestinationConfigs: [GROUP]
"""


@pytest.mark.parametrize(
    ("writer", "logical_id", "group"),
    [
        (FUNCTION + "      LoggingConfig: {LogGroup: /legacy/outside}\n", "Fn", "/legacy/outside"),
        (STATE_MACHINE, "Flow", OUTSIDE_ARN),
        (STAGE, "Stage", OUTSIDE_ARN),
        (WAF_LOGGING, "WafLogging", OUTSIDE_ARN),
    ],
)
def test_a_log_group_outside_the_template_needs_a_filter_on_its_name(
    writer: str, logical_id: str, group: str
) -> None:
    text = MARKER + BASE + forwarding_filter() + writer.replace("GROUP", f'"{group}"')
    assert [f[0] for f in findings(text)] == [logical_id]
    named = forwarding_filter(group="/legacy/outside").replace("Forward:", "Outside:")
    assert findings(text + named) == []


def test_a_log_group_of_the_template_written_by_arn_is_judged_as_a_log_group() -> None:
    text = MARKER + BASE + forwarding_filter() + STATE_MACHINE.replace("GROUP", "!GetAtt Logs.Arn")
    assert findings(text) == []


def test_a_log_group_named_by_a_parameter_fails_closed() -> None:
    parameter = "Parameters:\n  Group: {Type: String}\n"
    text = MARKER + parameter + BASE + forwarding_filter() + STAGE.replace("GROUP", "!Ref Group")
    assert findings(text) == [("Stage", "Properties/AccessLogSetting/DestinationArn")]


def test_a_firehose_access_log_destination_names_no_log_group() -> None:
    firehose = "arn:aws:firehose:us-east-1:111111111111:deliverystream/amazon-apigateway-x"
    assert findings(MARKER + BASE + forwarding_filter() + STAGE.replace("GROUP", firehose)) == []


def test_the_audit_reports_a_function_logging_outside_the_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = FUNCTION + "      LoggingConfig: {LogGroup: /legacy/outside}\n"
    path = tmp_path / "outside.yaml"
    path.write_text(MARKER + BASE + forwarding_filter() + own, encoding="utf-8")
    result = cli(capsys, "audit", path)
    assert "writes to log group /legacy/outside" in " ".join(result.out.split()), result
