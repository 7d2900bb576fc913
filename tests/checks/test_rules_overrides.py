"""Issue 14's rules on small template dicts: every stage (Deployment StageName too), request
models that validate nothing, OpenAPI bodies, HTTP integrations, data trace, X-Ray, log group
keys, authorizer timeouts and the WAF rollout/limit checks; compliant and non-compliant."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secure_constructs.checks.model import Severity
from secure_constructs.checks.waf_facts import COUNT_ONLY_METADATA, MAX_RATE_LIMIT
from tests.checks.templates import function, granular, resource, run
from tests.checks.test_rules_waf import BASELINE, managed, rate, web_acl

BETA_ARN = {
    "Fn::Join": ["", ["arn:aws:apigateway:eu-west-1::/restapis/", {"Ref": "Api"}, "/stages/beta"]]
}


def deployment(**description: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"RestApiId": {"Ref": "Api"}, "StageName": "beta"}
    if description:
        props["StageDescription"] = description
    return resource("AWS::ApiGateway::Deployment", **props)


GOOD_STAGE = {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200, "TracingEnabled": True}


def test_a_deployment_stage_is_judged_like_a_stage() -> None:
    bare = {"Api": resource("AWS::ApiGateway::RestApi"), "Dep": deployment()}
    assert granular(run("ApiStageThrottling", bare)) == [("Dep", None)]
    assert granular(run("ApiStageWafRules", bare)) == [("Dep", "WebACL")]
    assert granular(run("ApiStageTracing", bare)) == [("Dep", None)]
    good = {
        "Api": resource("AWS::ApiGateway::RestApi"),
        "Dep": deployment(**GOOD_STAGE),
        "Acl": web_acl(rate(), *(managed(g) for g in BASELINE)),
        "Assoc": resource(
            "AWS::WAFv2::WebACLAssociation",
            ResourceArn=BETA_ARN,
            WebACLArn={"Fn::GetAtt": ["Acl", "Arn"]},
        ),
    }
    for rule_id in ("ApiStageThrottling", "ApiStageWafRules", "ApiStageTracing", "ApiDataTrace"):
        assert run(rule_id, good) == [], rule_id
    # A deployment without StageName makes no stage (CDK's own deployments).
    plain = resource("AWS::ApiGateway::Deployment", RestApiId={"Ref": "Api"})
    assert run("ApiStageThrottling", {"Dep": plain}) == []


@pytest.mark.parametrize("value", [True, "true", {"Fn::If": ["Debug", True, False]}])
def test_fails_when_data_trace_can_be_on(value: Any) -> None:
    stage = resource(
        "AWS::ApiGateway::Stage",
        RestApiId={"Ref": "Api"},
        StageName="prod",
        MethodSettings=[{"ResourcePath": "/*", "HttpMethod": "*", "DataTraceEnabled": value}],
    )
    (finding,) = run("ApiDataTrace", {"Stage": stage})
    assert finding.finding_id == "/* *" and finding.severity is Severity.ERROR
    assert run("ApiDataTrace", {"Dep": deployment(DataTraceEnabled=value)})


def test_data_trace_off_passes() -> None:
    stage = resource(
        "AWS::ApiGateway::Stage",
        MethodSettings=[{"ResourcePath": "/*", "HttpMethod": "*", "DataTraceEnabled": False}],
    )
    assert run("ApiDataTrace", {"Stage": stage}) == []


@pytest.mark.parametrize(
    "config", [None, {"Mode": "PassThrough"}, {"Fn::If": ["X", {"Mode": "Active"}, {}]}]
)
def test_fails_when_a_function_is_not_traced(config: Any) -> None:
    fn = function()
    fn["Properties"].pop("TracingConfig", None)
    if config is not None:
        fn["Properties"]["TracingConfig"] = config
    assert granular(run("FunctionTracing", {"Fn": fn})) == [("Fn", None)]
    fn["Properties"]["TracingConfig"] = {"Mode": "Active"}
    assert run("FunctionTracing", {"Fn": fn}) == []


def test_fails_when_a_log_group_drops_the_stacks_key() -> None:
    key = resource("AWS::KMS::Key", EnableKeyRotation=True)
    bare = resource("AWS::Logs::LogGroup", RetentionInDays=365)
    assert granular(run("LogGroupEncryption", {"Key": key, "Logs": bare})) == [("Logs", None)]
    keyed = resource("AWS::Logs::LogGroup", KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]})
    assert run("LogGroupEncryption", {"Key": key, "Logs": keyed}) == []
    assert run("LogGroupEncryption", {"Logs": bare}) == []  # no key in the stack


def method(**props: Any) -> dict[str, Any]:
    base = {"HttpMethod": "GET", "AuthorizationType": "AWS_IAM", **props}
    return resource("AWS::ApiGateway::Method", **base)


@pytest.mark.parametrize(
    ("integration", "expected"),
    [
        ({"Type": "HTTP_PROXY", "Uri": "http://legacy.internal/x"}, ["ExternalHost", "PlainHttp"]),
        ({"Type": "HTTP", "Uri": "https://partner.example.com/x"}, ["ExternalHost"]),
        (
            {"Type": "HTTP_PROXY", "Uri": "http://10.0.0.1/x", "ConnectionType": "VPC_LINK"},
            ["PlainHttp"],
        ),
        ({"Type": "HTTP_PROXY", "Uri": "https://x.internal", "ConnectionType": "VPC_LINK"}, []),
        ({"Type": "AWS_PROXY", "Uri": "arn:aws:apigateway:...:lambda:path/..."}, []),
        ({"Type": "MOCK"}, []),
    ],
)
def test_http_integrations(integration: dict[str, Any], expected: list[str]) -> None:
    findings = run("ApiHttpIntegration", {"M": method(Integration=integration)})
    assert sorted(f.finding_id or "" for f in findings) == expected


def test_openapi_operations_need_security() -> None:
    open_body = {
        "openapi": "3.0.1",
        "paths": {
            "/a": {"get": {}, "options": {"x-amazon-apigateway-integration": {"type": "mock"}}},
            "/b": {"post": {"security": [{}]}},
            "/c": {"get": {"security": [{"key": []}]}},
            "/d": {"get": {"x-amazon-apigateway-auth": {"type": "NONE"}}},
            "/e": {"options": {"x-amazon-apigateway-integration": {"type": "aws_proxy"}}},
        },
        "components": {"securitySchemes": {"key": {"type": "apiKey", "name": "x-api-key"}}},
    }
    findings = run(
        "ApiMethodAuthorization", {"Api": resource("AWS::ApiGateway::RestApi", Body=open_body)}
    )
    assert sorted(f.finding_id or "" for f in findings) == [
        "GET /a",
        "GET /c",
        "GET /d",
        "OPTIONS /e",
        "POST /b",
    ]
    secured = {
        "swagger": "2.0",
        "security": [{"cognito": []}],
        "securityDefinitions": {
            "cognito": {"type": "apiKey", "x-amazon-apigateway-authtype": "cognito_user_pools"}
        },
        "paths": {
            "/a": {"get": {}},
            "/b": {"get": {"security": [{"cognito": ["items/read"]}]}},
            "/c": {"get": {"x-amazon-apigateway-auth": {"type": "AWS_IAM"}}},
        },
    }
    assert (
        run("ApiMethodAuthorization", {"Api": resource("AWS::ApiGateway::RestApi", Body=secured)})
        == []
    )


@pytest.mark.parametrize(
    ("models", "schema", "finding"),
    [
        ({"application/json": "Empty"}, None, None),
        ({"application/json": {"Ref": "Model"}}, {}, None),
        ({"application/json": {"Ref": "Model"}}, {"type": "object"}, None),
        ({"application/json": {"Ref": "Model"}}, '{"type": "object", "properties": {}}', None),
        (
            {"application/json": {"Ref": "Model"}},
            {"type": "object", "properties": {"a": {"type": "string"}}},
            "additionalProperties",
        ),
    ],
)
def test_fails_when_the_request_model_accepts_anything(
    models: dict[str, Any], schema: Any, finding: str | None
) -> None:
    resources: dict[str, Any] = {
        "Validator": resource("AWS::ApiGateway::RequestValidator", ValidateRequestBody=True),
        "M": method(
            HttpMethod="POST", RequestValidatorId={"Ref": "Validator"}, RequestModels=models
        ),
    }
    if schema is not None:
        resources["Model"] = resource("AWS::ApiGateway::Model", Schema=schema)
    (found,) = run("ApiRequestValidation", resources)
    assert found.finding_id == finding and found.path == "Properties/RequestModels/application/json"
    resources["Model"] = resource(
        "AWS::ApiGateway::Model",
        Schema={"type": "object", "properties": {"a": {}}, "additionalProperties": False},
    )
    resources["M"]["Properties"]["RequestModels"] = {"application/json": {"Ref": "Model"}}
    assert run("ApiRequestValidation", resources) == []


def authorizer_uri() -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:eu-west-1:lambda:path/",
                {"Fn::GetAtt": ["Fn", "Arn"]},
                "/invocations",
            ],
        ]
    }


def test_fails_when_an_authorizer_function_can_outlive_the_authorizer_limit() -> None:
    auth = resource("AWS::ApiGateway::Authorizer", AuthorizerUri=authorizer_uri())
    assert granular(run("ApiLambdaTimeout", {"Fn": function(Timeout=11), "A": auth})) == [
        ("A", "Fn")
    ]
    assert run("ApiLambdaTimeout", {"Fn": function(Timeout=10), "A": auth}) == []


def stage_with(acl: dict[str, Any]) -> dict[str, Any]:
    return {
        "Stage": resource("AWS::ApiGateway::Stage", RestApiId={"Ref": "Api"}, StageName="prod"),
        "Acl": acl,
        "Assoc": resource(
            "AWS::WAFv2::WebACLAssociation",
            ResourceArn={"Ref": "Stage"},
            WebACLArn={"Fn::GetAtt": ["Acl", "Arn"]},
        ),
    }


def test_fails_when_the_rate_limit_is_above_the_bound() -> None:
    too_high = rate()
    too_high["Statement"]["RateBasedStatement"]["Limit"] = MAX_RATE_LIMIT + 1
    (finding,) = run(
        "ApiStageWafRules", stage_with(web_acl(too_high, *(managed(g) for g in BASELINE)))
    )
    assert finding.finding_id == "RateBasedRule" and finding.severity is Severity.ERROR


@pytest.mark.parametrize(("days", "severity"), [(10, Severity.WARNING), (-1, Severity.ERROR)])
def test_a_declared_count_only_rollout_shows_and_expires(days: int, severity: Severity) -> None:
    acl = web_acl(rate(count=True), *(managed(g, count=True) for g in BASELINE))
    until = (datetime.date.today() + datetime.timedelta(days=days)).isoformat()
    acl["Metadata"] = {COUNT_ONLY_METADATA: {"until": until, "reason": "First rollout week"}}
    findings = run("ApiStageWafRules", stage_with(acl))
    assert findings and all(f.severity is severity for f in findings)
    assert all(f"count-only until {until}: First rollout week" in f.message for f in findings)
