"""A protective resource (alarm, async config, subscription filter, web ACL association) with a
CloudFormation Condition counts only when it exists whenever what it protects does: no
Condition, the same Condition, or one that literals make true (Template.exists_with)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from secure_constructs import SecureFunction
from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.model import Template, condition_always_true
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as cli
from tests.synth import synth

CONDITIONS = """
Parameters:
  Env: {Type: String, Default: prod}
Conditions:
  Never: !Equals [a, b]
  Always: !Equals [a, a]
  NotNever: !Not [!Condition Never]
  IsProd: !Equals [!Ref Env, prod]
"""
FUNCTION = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      Role: arn:aws:iam::111111111111:role/r
      Code: {ZipFile: "def handler(e, c): pass"}
      Timeout: 10
      DeadLetterConfig: {TargetArn: arn:aws:sqs:us-east-1:111111111111:dlq}
"""
ALARMS = """
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    CONDITION
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: [!Ref Topic]
  ThrottlesAlarm:
    Type: AWS::CloudWatch::Alarm
    CONDITION
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: [!Ref Topic]
"""
ASYNC = """
  Async:
    Type: AWS::Lambda::EventInvokeConfig
    CONDITION
    Properties:
      FunctionName: !Ref Fn
      Qualifier: $LATEST
      MaximumRetryAttempts: 2
      MaximumEventAgeInSeconds: 3600
"""


def template(body: str, condition: str | None, function_condition: str | None = None) -> str:
    text = CONDITIONS + FUNCTION + body
    text = text.replace("CONDITION", f"Condition: {condition}" if condition else "")
    if function_condition:
        text = text.replace(
            "    Type: AWS::Lambda::Function\n",
            f"    Type: AWS::Lambda::Function\n    Condition: {function_condition}\n",
        )
    return text


def findings(rule_id: str, text: str) -> list[str | None]:
    found = RULES[rule_id].run(Template(parse_template_text(text, "t.yaml")))
    return sorted(f.finding_id or f.logical_id for f in found)


@pytest.mark.parametrize("condition", ["Never", "IsProd"])
def test_a_conditional_alarm_does_not_cover_an_unconditional_function(condition: str) -> None:
    assert findings("LambdaAlarms", template(ALARMS, condition)) == ["Errors", "Throttles"]


@pytest.mark.parametrize(
    ("condition", "function_condition"),
    [(None, None), ("IsProd", "IsProd"), ("Always", None), ("NotNever", None), (None, "IsProd")],
)
def test_an_alarm_that_exists_whenever_the_function_does_counts(
    condition: str | None, function_condition: str | None
) -> None:
    assert findings("LambdaAlarms", template(ALARMS, condition, function_condition)) == []


def test_a_conditional_async_config_does_not_bound_retries() -> None:
    assert findings("LambdaAsyncFailureHandling", template(ASYNC, "Never")) == [
        "MaximumEventAgeInSeconds",
        "MaximumRetryAttempts",
    ]
    assert findings("LambdaAsyncFailureHandling", template(ASYNC, "IsProd", "IsProd")) == []
    assert findings("LambdaAsyncFailureHandling", template(ASYNC, None)) == []


FORWARDING = """
Metadata:
  SecureConstructs::LogForwarding:
    DestinationArn: arn:aws:logs:us-east-1:222222222222:destination:siem
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 365}
  Forward:
    Type: AWS::Logs::SubscriptionFilter
    CONDITION
    Properties:
      LogGroupName: !Ref Logs
      DestinationArn: arn:aws:logs:us-east-1:222222222222:destination:siem
      FilterPattern: ""
"""


def test_a_conditional_subscription_filter_does_not_forward_a_log_group() -> None:
    conditional = CONDITIONS + FORWARDING.replace("CONDITION", "Condition: Never")
    assert findings("LogForwarding", conditional) == ["Logs"]
    always = CONDITIONS + FORWARDING.replace("CONDITION", "Condition: Always")
    assert findings("LogForwarding", always) == []


STAGE = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, StageName: prod, DeploymentId: d}
  Association:
    Type: AWS::WAFv2::WebACLAssociation
    CONDITION
    Properties:
      ResourceArn: !Sub arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod
      WebACLArn: arn:aws:wafv2:us-east-1:111111111111:regional/webacl/existing/1
"""


def test_a_conditional_web_acl_association_does_not_protect_a_stage() -> None:
    conditional = CONDITIONS + STAGE.replace("CONDITION", "Condition: IsProd")
    assert findings("ApiStageWafRules", conditional) == ["WebACL"]
    assert findings("ApiStageWafRules", CONDITIONS + STAGE.replace("CONDITION", "")) == []


def test_only_literals_make_a_condition_always_true() -> None:
    body = parse_template_text(CONDITIONS, "t.yaml")
    assert [condition_always_true(body, c) for c in ("Never", "Always", "NotNever", "IsProd")] == [
        False,
        True,
        True,
        False,
    ]
    assert not condition_always_true(body, "Missing")


def test_the_audit_reports_a_conditional_alarm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text(template(ALARMS, "Never"), encoding="utf-8")
    result = cli(capsys, "audit", "--account", "111111111111", path)
    assert "LambdaAlarms[Errors]" in result.out, result
    assert "has a Condition the function does not share" in " ".join(result.out.split())
    path.write_text(template(ALARMS, "Always"), encoding="utf-8")
    assert "LambdaAlarms" not in cli(capsys, "audit", "--account", "111111111111", path).out


def _gated_function(stack: cdk.Stack, *, gate: bool) -> None:
    code = lambda_.Code.from_inline("def handler(e, c):\n    return None\n")
    fn = SecureFunction(stack, "W", code=code, handler="index.handler")
    never = cdk.CfnCondition(stack, "Never", expression=cdk.Fn.condition_equals("a", "b"))

    @jsii.implements(cdk.IAspect)
    class Gate:
        def visit(self, node: IConstruct) -> None:
            if isinstance(node, cw.CfnAlarm | lambda_.CfnEventInvokeConfig):
                node.cfn_options.condition = never
            if not gate and isinstance(node, lambda_.CfnFunction) and node.node.scope == fn:
                node.cfn_options.condition = never  # the same condition: still protected

    cdk.Aspects.of(stack).add(Gate(), priority=cdk.AspectPriority.MUTATING)


@pytest.mark.parametrize("gate", [True, False])
def test_cdk_an_aspect_making_the_alarms_conditional_fails_the_synth(gate: bool) -> None:
    result = synth(lambda stack: _gated_function(stack, gate=gate))
    ids = result.violation_ids()
    assert ("LambdaAlarms[Errors]" in ids) is gate, ids
    assert ("LambdaAsyncFailureHandling[MaximumRetryAttempts]" in ids) is gate, ids
