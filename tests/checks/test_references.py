"""The one reference resolver (checks.cfn.references) and the rules that follow references,
on hand-written YAML in the short forms template authors use (`!Sub`, `!GetAtt`, `!If`)."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.cfn import Reference, reference, references
from secure_constructs.checks.model import CheckOptions, Template
from secure_constructs.checks.registry import RULES


def findings(rule_id: str, yaml: str) -> list[tuple[str, str | None]]:
    body = parse_template_text(yaml, "test.yaml")
    found = RULES[rule_id].run(Template(body, options=CheckOptions()))
    return sorted((f.logical_id, f.finding_id) for f in found)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Fn"}, [Reference("Fn")]),
        ({"Ref": "AWS::Region"}, []),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, [Reference("Fn", "Arn")]),
        ({"Fn::GetAtt": "Fn.Arn"}, [Reference("Fn", "Arn")]),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:x:${Api}/${Fn.Arn}/${!Literal}"},
            [Reference("Api"), Reference("Fn", "Arn")],
        ),
        (
            {"Fn::Sub": ["${Name}-${Api}", {"Name": {"Ref": "Fn"}}]},
            [Reference("Fn"), Reference("Api")],
        ),
        ({"Fn::Sub": ["${Name}", {"Name": "literal"}]}, []),
        (
            {"Fn::Join": ["", ["a", {"Ref": "A"}, {"Fn::Sub": "${B}"}]]},
            [Reference("A"), Reference("B")],
        ),
        ({"Fn::If": ["UseA", {"Ref": "A"}, {"Ref": "B"}]}, [Reference("A"), Reference("B")]),
        ("${NotASub}", []),
    ],
)
def test_references_reads_every_form(value: Any, expected: list[Reference]) -> None:
    assert list(references(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Sub": "${Fn}"}, Reference("Fn")),
        ({"Fn::Sub": "${Fn.Arn}"}, Reference("Fn", "Arn")),
        ({"Fn::Sub": ["${X}", {"X": {"Ref": "Fn"}}]}, Reference("Fn")),
        ({"Fn::Sub": "fn-${Fn}"}, None),
        ({"Fn::If": ["C", {"Ref": "Fn"}, {"Fn::Sub": "${Fn}"}]}, Reference("Fn")),
        ({"Fn::If": ["C", {"Ref": "A"}, {"Ref": "B"}]}, None),
    ],
)
def test_reference_is_a_value_that_is_one_reference_as_a_whole(
    value: Any, expected: Reference | None
) -> None:
    assert reference(value) == expected


WAF = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {{Name: api}}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      StageName: prod
      DeploymentId: !Ref Deployment
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {{RestApiId: !Ref Api}}
  Acl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Scope: REGIONAL
      DefaultAction: {{Allow: {{}}}}
      VisibilityConfig:
        {{SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: acl}}
      Rules: []
  Association:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: {arn}
      WebACLArn: !GetAtt Acl.Arn
"""


@pytest.mark.parametrize(
    "arn",
    [
        "!Sub arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod",
        "!Sub 'arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}'",
        "!Sub [ 'arn:aws:apigateway:eu-west-1::/restapis/${Id}/stages/prod', {Id: !Ref Api} ]",
    ],
)
def test_a_sub_association_protects_the_stage_and_its_web_acl_is_judged(arn: str) -> None:
    # The ACL is empty: found through the !Sub association, it is judged (no "WebACL" finding).
    found = findings("ApiStageWafRules", WAF.format(arn=arn))
    assert ("Stage", "WebACL") not in found
    assert ("Stage", "RateBasedRule") in found


def test_a_sub_association_naming_another_stage_does_not_protect_it() -> None:
    arn = "!Sub arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/dev"
    assert findings("ApiStageWafRules", WAF.format(arn=arn)) == [("Stage", "WebACL")]


TIMEOUT = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.14
      Handler: index.handler
      Role: !GetAtt FnRole.Arn
      Code: {{ZipFile: "def handler(e, c): pass"}}
      Timeout: {timeout}
  Method:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: GET
      ResourceId: !GetAtt Api.RootResourceId
      RestApiId: !Ref Api
      AuthorizationType: AWS_IAM
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: {uri}
"""
URIS = [
    "!Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations",
    "!Sub [ 'arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${A}/invocations',"
    " {A: !GetAtt Fn.Arn} ]",
]


@pytest.mark.parametrize("uri", URIS)
def test_fails_when_a_sub_integration_uri_names_a_function_over_29_s(uri: str) -> None:
    assert findings("ApiLambdaTimeout", TIMEOUT.format(timeout=60, uri=uri)) == [("Method", "Fn")]


@pytest.mark.parametrize("uri", URIS)
def test_a_sub_integration_uri_to_a_short_function_is_compliant(uri: str) -> None:
    assert findings("ApiLambdaTimeout", TIMEOUT.format(timeout=10, uri=uri)) == []


ALARMS = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.14
      Handler: index.handler
      Role: !GetAtt FnRole.Arn
      Code: {{ZipFile: "def handler(e, c): pass"}}
  Topic:
    Type: AWS::SNS::Topic
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{{Name: FunctionName, Value: {value}}}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
  Throttles:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions: [{{Name: FunctionName, Value: {value}}}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
"""


@pytest.mark.parametrize("value", ['!Sub "${Fn}"', "!Ref Fn", "!Sub ['${Name}', {Name: !Ref Fn}]"])
def test_sub_alarm_dimensions_count_as_the_functions_alarms(value: str) -> None:
    assert findings("LambdaAlarms", ALARMS.format(value=value)) == []


def test_fails_when_the_alarms_watch_another_function() -> None:
    assert findings("LambdaAlarms", ALARMS.format(value='!Sub "${Other}"')) != []


def test_the_code_grants_reader_is_the_one_reference_reader() -> None:
    """audit/code_calls/grants.references is cfn.references: a Fn::Sub variable bound in the
    map stands for its value, not for a resource of the same name."""
    from secure_constructs.audit.code_calls.grants import references as grant_references

    value = {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", {"Bucket": {"Ref": "Other"}}]}
    assert grant_references(value) == {"Other"}
    assert grant_references({"Fn::GetAtt": "Table.Arn"}) == {"Table"}
    assert grant_references([{"Ref": "A"}, {"Fn::Sub": "${ B.Arn }"}]) == {"A", "B"}
