"""The SecureServerless API Gateway rules on small template dicts (no synth)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secure_constructs.checks.model import Severity
from tests.checks.templates import alarm, function, granular, resource, run

LAMBDA_URI = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":apigateway:",
            {"Ref": "AWS::Region"},
            ":lambda:path/2015-03-31/functions/",
            {"Fn::GetAtt": ["Fn", "Arn"]},
            "/invocations",
        ],
    ]
}


def method(verb: str = "POST", **props: Any) -> dict[str, Any]:
    """A method as SecureApi writes it: validator, model, Lambda proxy integration."""
    base: dict[str, Any] = {
        "HttpMethod": verb,
        "RestApiId": {"Ref": "Api"},
        "ResourceId": {"Ref": "ApiItems"},
        "AuthorizationType": "AWS_IAM",
        "RequestValidatorId": {"Ref": "Validator"},
        "RequestModels": {"application/json": {"Ref": "Model"}},
        "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": LAMBDA_URI},
    }
    base.update(props)
    return resource("AWS::ApiGateway::Method", **{k: v for k, v in base.items() if v is not None})


def validator(body: Any = True) -> dict[str, Any]:
    props: dict[str, Any] = {"RestApiId": {"Ref": "Api"}, "ValidateRequestParameters": True}
    if body is not None:
        props["ValidateRequestBody"] = body
    return resource("AWS::ApiGateway::RequestValidator", **props)


def api_resources(**method_props: Any) -> dict[str, Any]:
    return {
        "Api": resource("AWS::ApiGateway::RestApi", Name="Items"),
        "Validator": validator(),
        "Fn": function(Timeout=10),
        "Method": method(**method_props),
    }


# --- ApiRequestValidation -------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["POST", "PUT", "PATCH", "ANY", "post"])
def test_body_method_with_validator_and_model_is_compliant(verb: str) -> None:
    assert run("ApiRequestValidation", api_resources(HttpMethod=verb)) == []


@pytest.mark.parametrize("verb", ["GET", "DELETE", "HEAD", "OPTIONS"])
def test_methods_without_a_body_are_not_checked(verb: str) -> None:
    resources = api_resources(HttpMethod=verb, RequestValidatorId=None, RequestModels=None)
    assert run("ApiRequestValidation", resources) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"RequestValidatorId": None}, "no RequestValidatorId"),
        ({"RequestModels": None}, "no RequestModels"),
        ({"RequestModels": {}}, "no RequestModels"),
        ({"RequestValidatorId": None, "RequestModels": None}, "no RequestValidatorId and no"),
    ],
)
def test_fails_when_a_body_method_lacks_validator_or_model(
    changes: dict[str, Any], expected: str
) -> None:
    findings = run("ApiRequestValidation", api_resources(**changes))
    assert granular(findings) == [("Method", None)]
    assert expected in findings[0].message


@pytest.mark.parametrize("body", [False, "false", None])
def test_fails_when_the_validator_does_not_validate_bodies(body: Any) -> None:
    resources = api_resources()
    resources["Validator"] = validator(body)
    findings = run("ApiRequestValidation", resources)
    assert granular(findings) == [("Method", None)]
    assert "ValidateRequestBody" in findings[0].message


def test_a_validator_outside_the_template_is_trusted() -> None:
    resources = api_resources(RequestValidatorId="abc123")
    assert run("ApiRequestValidation", resources) == []


# --- ApiLambdaTimeout -----------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [1, 10, 29, None])
def test_function_within_the_integration_timeout_is_compliant(timeout: Any) -> None:
    resources = api_resources()
    resources["Fn"] = function(Timeout=timeout)
    assert run("ApiLambdaTimeout", resources) == []


@pytest.mark.parametrize("timeout", [30, 60, 900, "120"])
def test_fails_when_the_function_outlives_the_integration(timeout: Any) -> None:
    resources = api_resources()
    resources["Fn"] = function(Timeout=timeout)
    findings = run("ApiLambdaTimeout", resources)
    assert granular(findings) == [("Method", "Fn")]
    assert "29 s" in findings[0].message


def test_fails_through_an_alias() -> None:
    resources = api_resources()
    resources["Fn"] = function(Timeout=60)
    resources["Live"] = resource(
        "AWS::Lambda::Alias", FunctionName={"Ref": "Fn"}, FunctionVersion="1", Name="live"
    )
    uri = {"Fn::Join": ["", ["arn:aws:apigateway:", {"Ref": "Live"}, "/invocations"]]}
    resources["Method"] = method(
        Integration={"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri}
    )
    assert granular(run("ApiLambdaTimeout", resources)) == [("Method", "Fn")]


def test_a_raised_integration_timeout_is_the_limit() -> None:
    resources = api_resources()
    resources["Fn"] = function(Timeout=45)
    integration = {"Type": "AWS_PROXY", "Uri": LAMBDA_URI, "TimeoutInMillis": 50000}
    resources["Method"] = method(Integration=integration)
    assert run("ApiLambdaTimeout", resources) == []
    integration["TimeoutInMillis"] = 20000
    resources["Fn"] = function(Timeout=25)
    assert granular(run("ApiLambdaTimeout", resources)) == [("Method", "Fn")]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ({"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/${Fn.Arn}/invocations"}, "Fn"),
        ({"Fn::Sub": ["arn:${AWS::Partition}:apigateway:x:lambda:path/${ Fn.Arn }/i", {}]}, "Fn"),
        ({"Fn::Sub": ["arn:aws:apigateway:x:lambda:path/${Target}/i", {"Target": "x"}]}, None),
        ({"Fn::Sub": ["path/${Fn}/i", {"Fn": {"Fn::GetAtt": ["Slow", "Arn"]}}]}, "Slow"),
    ],
)
def test_a_sub_uri_is_read_by_the_one_reference_reader(uri: Any, expected: str | None) -> None:
    """`${Id}` and `${Id.Arn}` in a Fn::Sub URI name the function; a name bound in the
    variables map stands for that value instead (cfn.references)."""
    resources = api_resources()
    resources["Fn"] = function(Timeout=60)
    resources["Slow"] = function(Timeout=60)
    resources["Method"] = method(Integration={"Type": "AWS_PROXY", "Uri": uri})
    flagged = [finding_id for _, finding_id in granular(run("ApiLambdaTimeout", resources))]
    assert flagged == ([expected] if expected else [])


def test_non_lambda_integrations_are_not_checked() -> None:
    resources = api_resources()
    resources["Fn"] = function(Timeout=300)
    resources["Method"] = method(Integration={"Type": "MOCK"})
    assert run("ApiLambdaTimeout", resources) == []


# --- ApiServerErrorAlarm --------------------------------------------------------------------


def api_alarm(api_name: Any = "Items", **props: Any) -> dict[str, Any]:
    return alarm(
        **{
            "Namespace": "AWS/ApiGateway",
            "MetricName": "5XXError",
            "Dimensions": [{"Name": "ApiName", "Value": api_name}],
            **props,
        }
    )


def test_api_with_a_notifying_5xx_alarm_is_compliant() -> None:
    resources = {"Api": resource("AWS::ApiGateway::RestApi", Name="Items"), "A": api_alarm()}
    assert run("ApiServerErrorAlarm", resources) == []


def test_a_5xx_alarm_in_metric_math_counts() -> None:
    query = {
        "Id": "m1",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": [{"Name": "ApiName", "Value": "Items"}],
            },
            "Period": 60,
            "Stat": "Sum",
        },
    }
    math_alarm = api_alarm(Namespace=None, MetricName=None, Dimensions=None, Metrics=[query])
    resources = {"Api": resource("AWS::ApiGateway::RestApi", Name="Items"), "A": math_alarm}
    assert run("ApiServerErrorAlarm", resources) == []


@pytest.mark.parametrize(
    ("alarms", "expected"),
    [
        ({}, "no AWS::CloudWatch::Alarm"),
        ({"A": api_alarm(AlarmActions=None)}, "the 5XXError alarm A has no enabled"),
        ({"A": api_alarm(ActionsEnabled=False)}, "the 5XXError alarm A has no enabled"),
        (
            {"A": api_alarm(ActionsEnabled={"Fn::If": ["Prod", True, False]})},
            "the 5XXError alarm A has no enabled",
        ),
        ({"A": api_alarm(api_name="Other")}, "no AWS::CloudWatch::Alarm"),
        ({"A": api_alarm(MetricName="4XXError")}, "no AWS::CloudWatch::Alarm"),
        ({"A": api_alarm(Namespace="AWS/Lambda")}, "no AWS::CloudWatch::Alarm"),
    ],
)
def test_fails_when_no_5xx_alarm_notifies_anyone(alarms: dict[str, Any], expected: str) -> None:
    resources = {"Api": resource("AWS::ApiGateway::RestApi", Name="Items"), **alarms}
    findings = run("ApiServerErrorAlarm", resources)
    assert granular(findings) == [("Api", None)]
    assert expected in findings[0].message


# --- ApiCorsWildcardCredentials -------------------------------------------------------------


def preflight(origin: str, credentials: str | None) -> dict[str, Any]:
    parameters = {"method.response.header.Access-Control-Allow-Origin": origin}
    if credentials is not None:
        parameters["method.response.header.Access-Control-Allow-Credentials"] = credentials
    return method(
        "OPTIONS",
        AuthorizationType="NONE",
        Integration={
            "Type": "MOCK",
            "IntegrationResponses": [{"StatusCode": "204", "ResponseParameters": parameters}],
        },
    )


def gateway_response(origin: str, credentials: str | None) -> dict[str, Any]:
    parameters = {"gatewayresponse.header.Access-Control-Allow-Origin": origin}
    if credentials is not None:
        parameters["gatewayresponse.header.Access-Control-Allow-Credentials"] = credentials
    return resource(
        "AWS::ApiGateway::GatewayResponse",
        RestApiId={"Ref": "Api"},
        ResponseType="DEFAULT_4XX",
        ResponseParameters=parameters,
    )


@pytest.mark.parametrize(
    ("origin", "credentials"),
    [
        ("'https://app.example.com'", "'true'"),
        ("'*'", None),
        ("'*'", "'false'"),
        ("'https://app.example.com'", None),
    ],
)
def test_explicit_origins_or_no_credentials_are_compliant(
    origin: str, credentials: str | None
) -> None:
    resources = {
        "Preflight": preflight(origin, credentials),
        "Response": gateway_response(origin, credentials),
    }
    assert run("ApiCorsWildcardCredentials", resources) == []


@pytest.mark.parametrize("credentials", ["'true'", "'TRUE'", "' true '"])
def test_fails_when_any_origin_is_allowed_with_credentials(credentials: str) -> None:
    resources = {
        "Preflight": preflight("'*'", credentials),
        "Response": gateway_response("'*'", credentials),
    }
    findings = run("ApiCorsWildcardCredentials", resources)
    assert granular(findings) == [("Preflight", None), ("Response", None)]
    assert all(f.severity is Severity.ERROR for f in findings)


# --- Robustness: arbitrary property values never crash the API and WAF rules ----------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["Ref", "Fn::GetAtt", "Fn::Join", "Name", "Type", "Uri", "Statement", "Count"]
            )
            | st.text(max_size=6),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)
_TYPES = (
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::Function",
    "AWS::Lambda::Alias",
)
_PROPS = st.dictionaries(
    st.sampled_from(
        [
            "HttpMethod",
            "RequestValidatorId",
            "RequestModels",
            "Integration",
            "RestApiId",
            "StageName",
            "ResourceArn",
            "WebACLArn",
            "Rules",
            "RedactedFields",
            "Dimensions",
            "Metrics",
            "AlarmActions",
            "Namespace",
            "MetricName",
            "Name",
            "Timeout",
            "FunctionName",
            "ResponseParameters",
            "ValidateRequestBody",
        ]
    ),
    _JSON,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["A", "B", "Fn", "Api", "Stage", "Acl"]),
        st.tuples(st.sampled_from(_TYPES), _PROPS),
        max_size=6,
    )
)
def test_api_and_waf_rules_never_crash_on_arbitrary_properties(
    resources: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    template = {k: {"Type": t, "Properties": p} for k, (t, p) in resources.items()}
    for rule_id in (
        "ApiRequestValidation",
        "ApiLambdaTimeout",
        "ApiServerErrorAlarm",
        "ApiCorsWildcardCredentials",
        "ApiStageWafRules",
        "WafLogRedaction",
    ):
        for finding in run(rule_id, template):
            assert finding.logical_id in template


# --- ApiMethodAuthorization -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"AuthorizationType": "NONE"}, "AuthorizationType NONE"),
        ({"AuthorizationType": "none"}, "AuthorizationType NONE"),
        ({"AuthorizationType": None}, "no AuthorizationType"),
        ({"AuthorizationType": "NONE", "ApiKeyRequired": True}, "AuthorizationType NONE"),
    ],
)
def test_fails_when_a_method_has_no_authorization(props: dict[str, Any], expected: str) -> None:
    (finding,) = run("ApiMethodAuthorization", api_resources(**props))
    assert finding.logical_id == "Method" and finding.path == "Properties/AuthorizationType"
    assert expected in finding.message and "POST" in finding.message
    assert "ApiAuth.none(reason=" in finding.fix and finding.severity is Severity.ERROR


@pytest.mark.parametrize(
    "props",
    [
        {"AuthorizationType": "AWS_IAM"},
        {"AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "Authorizer"}},
        {"AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "Authorizer"}},
        {"AuthorizationType": {"Fn::If": ["Strict", "COGNITO_USER_POOLS", "AWS_IAM"]}},
        {"HttpMethod": "OPTIONS", "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}},
        {"HttpMethod": "options", "AuthorizationType": None, "Integration": {"Type": "mock"}},
    ],
)
def test_authorized_methods_and_cors_preflight_pass(props: dict[str, Any]) -> None:
    assert run("ApiMethodAuthorization", api_resources(**props)) == []


# --- ApiStageThrottling ---------------------------------------------------------------------


def stage(*settings: dict[str, Any], **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"RestApiId": {"Ref": "Api"}, "StageName": "prod"}
    if settings:
        base["MethodSettings"] = list(settings)
    base.update(props)
    return resource("AWS::ApiGateway::Stage", **base)


def setting(path: str = "/*", verb: str = "*", **limits: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ResourcePath": path,
        "HttpMethod": verb,
        "ThrottlingRateLimit": 100,
        "ThrottlingBurstLimit": 200,
    }
    base.update(limits)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ((), "no MethodSettings entry throttles every method"),
        ((setting("/~1items", "GET"),), "no MethodSettings entry throttles every method"),
        ((setting("/*", "GET"),), "no MethodSettings entry throttles every method"),
        ((setting(ThrottlingBurstLimit=None),), "does not set ThrottlingBurstLimit"),
        ((setting(ThrottlingRateLimit=None),), "does not set ThrottlingRateLimit"),
        (
            (setting(ThrottlingRateLimit=-1, ThrottlingBurstLimit=None),),
            "does not set ThrottlingRateLimit and ThrottlingBurstLimit",
        ),
        ((setting(ThrottlingRateLimit=None, MetricsEnabled=True),), "ThrottlingRateLimit"),
    ],
)
def test_fails_when_a_stage_does_not_throttle_every_method(
    settings: tuple[dict[str, Any], ...], expected: str
) -> None:
    (finding,) = run("ApiStageThrottling", {"Stage": stage(*settings)})
    assert finding.logical_id == "Stage" and finding.path == "Properties/MethodSettings"
    assert expected in finding.message
    assert "throttle_rate_limit" in finding.fix and finding.severity is Severity.ERROR


@pytest.mark.parametrize(
    "settings",
    [
        (setting(),),
        (setting("/~1items", "GET", ThrottlingRateLimit=5), setting()),
        (setting(ThrottlingRateLimit="50.5", ThrottlingBurstLimit="100"),),
        (setting(ThrottlingRateLimit={"Ref": "Rate"}),),
        (setting(ThrottlingRateLimit=0, ThrottlingBurstLimit=0),),
    ],
)
def test_a_stage_throttling_every_method_passes(settings: tuple[dict[str, Any], ...]) -> None:
    assert run("ApiStageThrottling", {"Stage": stage(*settings)}) == []
