"""An alarm counts as notifying only when every deploy the template allows enables its actions
(attacker review): LambdaAlarms and ApiServerErrorAlarm through `alarm_facts`, in dicts,
hand-written YAML through `secure-constructs audit`, and CDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction, apply_checks
from tests.audit.helpers import run as run_cli
from tests.checks.templates import alarm, function, granular, run

PAGE = {"Ref": "Page"}
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.mark.parametrize(
    ("errors_alarm", "page", "silent"),
    [
        ({"ActionsEnabled": PAGE}, {"Type": "String", "Default": "false"}, True),
        ({"ActionsEnabled": PAGE}, {"Type": "String", "Default": "true"}, True),
        ({"ActionsEnabled": PAGE}, {"Type": "String", "AllowedValues": ["true", "false"]}, True),
        ({"ActionsEnabled": {"Fn::If": ["Prod", True, False]}}, None, True),
        ({"ActionsEnabled": {"Fn::ImportValue": "Paging"}}, None, True),
        ({"AlarmActions": {"Fn::If": ["Prod", [{"Ref": "Topic"}], NO_VALUE]}}, None, True),
        ({"AlarmActions": [{"Fn::If": ["Prod", {"Ref": "Topic"}, NO_VALUE]}]}, None, True),
        ({"ActionsEnabled": PAGE}, {"Type": "String", "AllowedValues": ["true"]}, False),
        ({"ActionsEnabled": {"Fn::If": ["Prod", True, "true"]}}, None, False),
        (
            {"AlarmActions": {"Fn::If": ["Prod", [{"Ref": "Topic"}], [{"Ref": "Other"}]]}},
            None,
            False,
        ),
    ],
)
def test_an_alarm_notifies_only_if_every_deploy_enables_its_actions(
    errors_alarm: dict[str, Any], page: dict[str, Any] | None, silent: bool
) -> None:
    resources = {
        "Fn": function(),
        "FnErrors": alarm("Fn", "Errors", **errors_alarm),
        "FnThrottles": alarm("Fn", "Throttles"),
    }
    findings = run("LambdaAlarms", resources, parameters={"Page": page} if page else None)
    assert granular(findings) == ([("Fn", "Errors")] if silent else [])


YAML = """
Parameters:
  Page: {Type: String, Default: "false"ALLOWED}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::111122223333:role/fn
      Runtime: python3.14
      Handler: index.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Timeout: 10
  Topic: {Type: AWS::SNS::Topic}
  FnErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
      ActionsEnabled: !Ref Page
"""


@pytest.mark.parametrize(("allowed", "silent"), [("", True), (", AllowedValues: [true]", False)])
def test_hand_written_yaml_through_the_audit(
    allowed: str, silent: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "alarm.yaml"
    text = YAML.replace("ALLOWED", allowed)
    if not silent:
        text = text.replace('Default: "false"', 'Default: "true"')
    path.write_text(text)
    result = run_cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert ("LambdaAlarms[Errors]" in rules) is silent


@pytest.mark.parametrize("silent", [True, False])
def test_cdk_alarm_actions_enabled_from_a_parameter(silent: bool) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111122223333", region="us-east-1"))
    SecureFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        alarm_emails=["ops@example.com"],
    )
    if silent:
        page = cdk.CfnParameter(stack, "Page", default="false", allowed_values=["true", "false"])
        for child in stack.node.find_all():
            if isinstance(child, cloudwatch.CfnAlarm):
                child.add_property_override("ActionsEnabled", page.value_as_string)
    apply_checks(app)
    if silent:
        with pytest.raises(Exception, match=r"LambdaAlarms\[Errors\]"):
            app.synth()
    else:
        assert app.synth().get_stack_by_name("S").template
