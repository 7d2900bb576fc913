"""SecureApi: the promise on the synthesized template (authorizer, validation, throttling, logs,
web ACL, alarms), nag-clean under all six packs for Cognito, IAM and Lambda-authorizer APIs, the
OpenAPI document, and every refused input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from secure_constructs import (
    ApiAuth,
    SecureFunction,
    SecureUserPool,
    ValidationError,
    WafProfile,
)
from secure_constructs.api import (
    ACCESS_LOG_PREFIX,
    EXECUTION_LOG_PREFIX,
    FUNCTIONS_PER_INVOKE_POLICY,
    MANAGED_POLICY_MAX_CHARACTERS,
    MAX_INVOKE_POLICIES,
    MAX_UNQUALIFIED_FUNCTION_ARN,
    ApiCache,
    SecureApi,
)
from secure_constructs.checks.model import Template
from secure_constructs.checks.rules.apigateway import api_lambda_timeout
from tests.synth import ALL_COMPLIANCE, Synthesized, arn, cfn_lint, ref, statements, synth
from tests.vpc import acknowledge_test_vpc, compliant_vpc

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"
ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 100}},
    "required": ["name"],
    "additionalProperties": False,
}
EXISTING_ACL = (
    "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shared-acl/"
    "a1b2c3d4-5678-90ab-cdef-0123456789ab"
)
PUBLIC_REASON = "Public health check; returns no data"
APIS = ("CognitoApi", "IamApi", "TokenApi")
BASELINE_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}


def make_function(stack: cdk.Stack, construct_id: str, **options: Any) -> SecureFunction:
    return SecureFunction(
        stack,
        construct_id,
        code=lambda_.Code.from_inline(CODE),
        handler="index.handler",
        **options,
    )


def by_path(s: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    """cdk path (without the stack name) -> properties, for every resource of `type_`."""
    return {
        r["Metadata"]["aws:cdk:path"].removeprefix("Test/"): r.get("Properties", {})
        for r in s.resources(type_).values()
    }


def logical_id(s: Synthesized, type_: str, path: str) -> str:
    for key, r in s.resources(type_).items():
        if r["Metadata"]["aws:cdk:path"] == f"Test/{path}":
            return key
    raise AssertionError(f"no {type_} at {path}")


# --- GIVEN three APIs (Cognito with CORS, IAM, Lambda TOKEN) with VPC functions -------------

BUILT: dict[str, SecureApi] = {}


def build_three_apis(stack: cdk.Stack) -> None:
    vpc = compliant_vpc(stack)
    handler = make_function(stack, "Handler", vpc=vpc, reserved_concurrent_executions=5)
    authorizer = make_function(stack, "Authorizer", vpc=vpc, reserved_concurrent_executions=5)
    pool = SecureUserPool(stack, "Users")
    for name, auth in (
        ("CognitoApi", ApiAuth.cognito(pool)),
        ("IamApi", ApiAuth.iam()),
        ("TokenApi", ApiAuth.lambda_token(authorizer)),
    ):
        api = SecureApi(
            stack,
            name,
            auth=auth,
            cors_allow_origins=["https://app.example.com"] if name == "CognitoApi" else (),
        )
        api.add_route("GET", "/items/{id}", handler, query_parameters={"fields": False})
        api.add_route("POST", "/items", handler, request_schema=ITEM_SCHEMA)
        api.add_route("GET", "/health", handler, auth=ApiAuth.none(reason=PUBLIC_REASON))
        BUILT[name] = api
    acknowledge_test_vpc(stack)


@pytest.fixture(scope="module")
def apis() -> Synthesized:
    return synth(build_three_apis, compliance=ALL_COMPLIANCE)


def test_cognito_iam_and_lambda_authorizer_apis_are_clean_under_all_six_packs(
    apis: Synthesized,
) -> None:
    assert not apis.failed, apis.violations
    assert apis.violations == []


def test_template_is_cfn_lint_clean(apis: Synthesized) -> None:
    assert cfn_lint(apis.template) == []


def test_acknowledges_only_the_unavoidable_with_reasons(apis: Synthesized) -> None:
    library = {
        (rule, path.removeprefix("Test/"))
        for _, rule, path, _ in apis.acknowledged
        if "/Vpc/" not in path and not path.endswith("/Vpc/Resource")
    }
    expected: set[tuple[str, str]] = set()
    for api in APIS:
        stage = f"{api}/DeploymentStage.prod/Resource"
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
            expected.add((f"{pack}-APIGWCacheEnabledAndEncrypted", stage))
            expected.add((f"{pack}-APIGWSSLEnabled", stage))
        expected.add(("AwsSolutions-APIG4", f"{api}/Default/health/GET/Resource"))
        expected.add(("AwsSolutions-COG4", f"{api}/Default/health/GET/Resource"))
        expected.add(("ApiMethodAuthorization", f"{api}/Default/health/GET/Resource"))
    for api in ("IamApi", "TokenApi"):
        for route in ("items/{id}/GET", "items/POST"):
            expected.add(("AwsSolutions-COG4", f"{api}/Default/{route}/Resource"))
    policy = "SecureConstructsApiGatewayAccount/Policy/Resource"
    for prefix in ("API-Gateway-Execution-Logs_", "API-Gateway-Access-Logs_"):
        for suffix in ("*", "*:log-stream:*"):
            expected.add(
                (
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                    f"<AWS::AccountId>:log-group:{prefix}{suffix}]",
                    policy,
                )
            )
    api_related = {a for a in library if a[1].split("/")[0] in (*APIS, policy.split("/")[0])}
    assert api_related == expected
    reasons = {rule: reason for _, rule, path, reason in apis.acknowledged}
    assert (
        "cache key does not include the caller"
        in reasons["NIST.800.53.R5-APIGWCacheEnabledAndEncrypted"]
    )
    assert PUBLIC_REASON in reasons["AwsSolutions-APIG4"]
    assert reasons["ApiMethodAuthorization"] == reasons["AwsSolutions-APIG4"]
    assert "Lambda TOKEN authorizer" in next(
        r for _, rule, p, r in apis.acknowledged if rule == "AwsSolutions-COG4" and "TokenApi" in p
    )


def test_endpoints_are_regional(apis: Synthesized) -> None:
    for props in apis.resources("AWS::ApiGateway::RestApi").values():
        assert props["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_stage_is_traced_logs_errors_without_data_and_is_throttled(apis: Synthesized) -> None:
    stages = by_path(apis, "AWS::ApiGateway::Stage")
    assert len(stages) == 3
    for props in stages.values():
        assert props["StageName"] == "prod"
        assert props["TracingEnabled"] is True
        assert props["MethodSettings"] == [
            {
                "HttpMethod": "*",
                "ResourcePath": "/*",
                "LoggingLevel": "ERROR",
                "DataTraceEnabled": False,
                "MetricsEnabled": True,
                "ThrottlingRateLimit": 100,
                "ThrottlingBurstLimit": 200,
                "CachingEnabled": False,
            }
        ]
        assert props.get("CacheClusterEnabled") is False


def test_access_logs_are_json_with_the_forensic_fields_in_an_encrypted_group(
    apis: Synthesized,
) -> None:
    groups = apis.resources("AWS::Logs::LogGroup")
    for props in by_path(apis, "AWS::ApiGateway::Stage").values():
        setting = props["AccessLogSetting"]
        fields = json.loads(setting["Format"])
        assert {
            "requestId": "$context.requestId",
            "xrayTraceId": "$context.xrayTraceId",
            "sourceIp": "$context.identity.sourceIp",
            "caller": "$context.identity.caller",
            "principalId": "$context.authorizer.principalId",
            "httpMethod": "$context.httpMethod",
            "resourcePath": "$context.resourcePath",
            "status": "$context.status",
            "responseLatency": "$context.responseLatency",
            "integrationErrorMessage": "$context.integrationErrorMessage",
            "wafResponseCode": "$context.wafResponseCode",
        }.items() <= fields.items()
        group = groups[setting["DestinationArn"]["Fn::GetAtt"][0]]["Properties"]
        assert group["LogGroupName"].startswith(ACCESS_LOG_PREFIX)
        assert group["RetentionInDays"] == 365
        assert group["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"


def test_account_cloudwatch_role_uses_one_customer_managed_policy(apis: Synthesized) -> None:
    account_id, account = apis.only("AWS::ApiGateway::Account")
    assert account["DeletionPolicy"] == "Retain"
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = apis.template["Resources"][role_id]
    assert role["DeletionPolicy"] == "Retain"
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    policy_id = logical_id(
        apis, "AWS::IAM::ManagedPolicy", "SecureConstructsApiGatewayAccount/Policy/Resource"
    )
    assert apis.template["Resources"][policy_id]["Properties"]["Roles"] == [{"Ref": role_id}]
    (statement,) = statements(apis.template, policy_id)
    assert sorted(statement["Action"]) == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    tails = sorted(r["Fn::Join"][1][-1] for r in statement["Resource"])
    assert tails == [
        ":log-group:API-Gateway-Access-Logs_*",
        ":log-group:API-Gateway-Access-Logs_*:log-stream:*",
        ":log-group:API-Gateway-Execution-Logs_*",
        ":log-group:API-Gateway-Execution-Logs_*:log-stream:*",
    ]
    assert not any(
        p.get("Roles") == [{"Ref": role_id}] for p in by_path(apis, "AWS::IAM::Policy").values()
    )
    for stage in apis.resources("AWS::ApiGateway::Stage").values():
        assert account_id in stage["DependsOn"]


def test_each_method_has_the_authorizer_of_its_route(apis: Synthesized) -> None:
    methods = by_path(apis, "AWS::ApiGateway::Method")
    authorizers = by_path(apis, "AWS::ApiGateway::Authorizer")
    kinds = {"CognitoApi": "COGNITO_USER_POOLS", "IamApi": "AWS_IAM", "TokenApi": "CUSTOM"}
    for api, kind in kinds.items():
        for route in ("items/{id}/GET", "items/POST"):
            assert methods[f"{api}/Default/{route}/Resource"]["AuthorizationType"] == kind
        assert methods[f"{api}/Default/health/GET/Resource"]["AuthorizationType"] == "NONE"
    assert authorizers["CognitoApi/CognitoAuthorizer/Resource"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizers["TokenApi/TokenAuthorizer/Resource"]["Type"] == "TOKEN"
    preflights = {p: m for p, m in methods.items() if m["HttpMethod"] == "OPTIONS"}
    assert preflights and all(p.startswith("CognitoApi/") for p in preflights)
    assert all(m["AuthorizationType"] == "NONE" for m in preflights.values())
    origins = {
        m["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Origin"
        ]
        for m in preflights.values()
    }
    assert origins == {"'https://app.example.com'"}


def test_every_method_is_validated_and_bodies_against_a_draft4_model(apis: Synthesized) -> None:
    validators = apis.resources("AWS::ApiGateway::RequestValidator")
    assert {v["Properties"]["ValidateRequestBody"] for v in validators.values()} == {True}
    assert {v["Properties"]["ValidateRequestParameters"] for v in validators.values()} == {True}
    models = apis.resources("AWS::ApiGateway::Model")
    for path, method in by_path(apis, "AWS::ApiGateway::Method").items():
        if method["HttpMethod"] == "OPTIONS":
            continue
        assert method["RequestValidatorId"]["Ref"] in validators, path
        if method["HttpMethod"] == "POST":
            model = models[method["RequestModels"]["application/json"]["Ref"]]["Properties"]
            assert model["ContentType"] == "application/json"
            assert model["Schema"] == {
                **ITEM_SCHEMA,
                "$schema": "http://json-schema.org/draft-04/schema#",
            }
        if path.endswith("items/{id}/GET/Resource"):
            assert method["RequestParameters"] == {
                "method.request.path.id": True,
                "method.request.querystring.fields": False,
            }


def test_the_stage_is_associated_with_a_baseline_web_acl(apis: Synthesized) -> None:
    acls = apis.resources("AWS::WAFv2::WebACL")
    for api in APIS:
        association = by_path(apis, "AWS::WAFv2::WebACLAssociation")[f"{api}/WebAclAssociation"]
        stage = logical_id(apis, "AWS::ApiGateway::Stage", f"{api}/DeploymentStage.prod/Resource")
        rest_api = logical_id(apis, "AWS::ApiGateway::RestApi", f"{api}/Resource")
        parts = association["ResourceArn"]["Fn::Join"][1]
        assert parts[-4:] == ["::/restapis/", {"Ref": rest_api}, "/stages/", {"Ref": stage}]
        acl = acls[association["WebACLArn"]["Fn::GetAtt"][0]]["Properties"]
        groups = {
            r["Statement"]["ManagedRuleGroupStatement"]["Name"]
            for r in acl["Rules"]
            if "ManagedRuleGroupStatement" in r["Statement"]
        }
        assert groups == BASELINE_GROUPS
        assert any("RateBasedStatement" in r["Statement"] for r in acl["Rules"])


def test_alarms_on_5xx_4xx_rate_and_p99_latency_reach_the_alarm_topic(apis: Synthesized) -> None:
    topic = logical_id(apis, "AWS::SNS::Topic", "SecureConstructsAlarmTopic/Resource")
    alarms = by_path(apis, "AWS::CloudWatch::Alarm")
    for api in APIS:
        server = alarms[f"{api}/ServerErrorAlarm/Resource"]
        client = alarms[f"{api}/ClientErrorRateAlarm/Resource"]
        latency = alarms[f"{api}/LatencyAlarm/Resource"]
        for alarm, metric in ((server, "5XXError"), (client, "4XXError"), (latency, "Latency")):
            assert alarm["Namespace"] == "AWS/ApiGateway"
            assert alarm["MetricName"] == metric
            assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": api}]
            assert alarm["AlarmActions"] == [{"Ref": topic}]
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert (server["Statistic"], server["Period"], server["Threshold"]) == ("Sum", 60, 0)
        assert (client["Statistic"], client["Period"], client["Threshold"]) == (
            "Average",
            300,
            0.05,
        )
        # 80% of the handler's 10 s timeout (below API Gateway's 29 s)
        assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", 8000)


def test_api_gateway_invokes_the_routed_function_as_one_invoke_role_per_api(
    apis: Synthesized,
) -> None:
    handler = logical_id(apis, "AWS::Lambda::Function", "Handler/Resource")
    authorizer = logical_id(apis, "AWS::Lambda::Function", "Authorizer/Resource")
    # No Lambda permission for the routes: only CDK's TOKEN authorizer grants API Gateway its
    # authorizer function in that function's resource policy.
    granted = {
        json.dumps(p["Properties"]["FunctionName"])
        for p in apis.resources("AWS::Lambda::Permission").values()
    }
    assert granted == {json.dumps(arn(authorizer))}
    methods = by_path(apis, "AWS::ApiGateway::Method")
    for api in APIS:
        role = logical_id(apis, "AWS::IAM::Role", f"{api}/InvokeRole/Resource")
        role_props = apis.template["Resources"][role]["Properties"]
        assert role_props["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
            }
        ]
        assert "Policies" not in role_props and "ManagedPolicyArns" not in role_props
        assert "invoke the Lambda functions" in role_props["Description"]
        attached = [
            key
            for key, r in apis.resources("AWS::IAM::ManagedPolicy").items()
            if ref(role) in r["Properties"].get("Roles", [])
        ]
        assert attached == [
            logical_id(apis, "AWS::IAM::ManagedPolicy", f"{api}/InvokePolicy/Resource")
        ]
        # Three routes share the handler: its ARN once, and nothing else.
        assert statements(apis.template, attached[0]) == [
            {"Action": ["lambda:InvokeFunction"], "Effect": "Allow", "Resource": [arn(handler)]}
        ]
        routed = {p: v for p, v in methods.items() if p.startswith(f"{api}/Default/")}
        routed = {p: v for p, v in routed.items() if v["HttpMethod"] != "OPTIONS"}
        assert len(routed) == 3
        for path, props in routed.items():
            integration = props["Integration"]
            assert integration["Type"] == "AWS_PROXY", path
            assert integration["IntegrationHttpMethod"] == "POST"
            assert integration["Credentials"] == arn(role)
            parts = integration["Uri"]["Fn::Join"][1]
            assert parts[-3:] == [
                ":lambda:path/2015-03-31/functions/",
                arn(handler),
                "/invocations",
            ]


def test_api_lambda_timeout_still_finds_the_function_from_the_integration_uri(
    apis: Synthesized,
) -> None:
    handler = logical_id(apis, "AWS::Lambda::Function", "Handler/Resource")
    body = json.loads(json.dumps(apis.template))
    body["Resources"][handler]["Properties"]["Timeout"] = 60
    flagged = {v.finding_id for v in api_lambda_timeout(Template(body))}
    assert flagged == {handler}


def test_openapi_document_describes_routes_schemas_and_security(
    apis: Synthesized, tmp_path: Path
) -> None:
    document = BUILT["CognitoApi"].openapi_document()
    assert document["openapi"].startswith("3.0")
    assert document["servers"][0]["url"].endswith(".amazonaws.com/prod")
    paths = document["paths"]
    assert set(paths) == {"/items/{id}", "/items", "/health"}
    get_item = paths["/items/{id}"]["get"]
    assert {(p["name"], p["in"], p["required"]) for p in get_item["parameters"]} == {
        ("id", "path", True),
        ("fields", "query", False),
    }
    assert get_item["security"] == [{"cognito_Users": []}]
    post = paths["/items"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert document["components"]["schemas"][ref.rsplit("/", 1)[1]] == ITEM_SCHEMA
    assert paths["/health"]["get"]["security"] == []
    schemes = document["components"]["securitySchemes"]
    assert schemes["cognito_Users"]["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert BUILT["IamApi"].openapi_document()["paths"]["/items"]["post"]["security"] == [
        {"sigv4": []}
    ]
    written = BUILT["TokenApi"].write_openapi(tmp_path / "out" / "api.json")
    assert json.loads(written.read_text()) == BUILT["TokenApi"].openapi_document()


# --- GIVEN cache, a REQUEST authorizer, an existing web ACL, overrides and API keys ----------

VARIANT: dict[str, Any] = {}
UPLOAD_REASON = "Opaque binary upload, checked by the handler's own parser"
LEGACY_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:legacy-reports:prod"


def build_variant(stack: cdk.Stack) -> None:
    vpc = compliant_vpc(stack)
    handler = make_function(stack, "Handler", vpc=vpc, reserved_concurrent_executions=5)
    authorizer = make_function(stack, "Authorizer", vpc=vpc, reserved_concurrent_executions=5)
    auth = ApiAuth.lambda_request(
        authorizer, identity_sources=[apigateway.IdentitySource.header("X-Session")]
    )
    api = SecureApi(
        stack,
        "Api",
        auth=auth,
        stage_name="v1",
        cache=ApiCache(ttl=cdk.Duration.minutes(2)),
        waf=EXISTING_ACL,
        throttle_rate_limit=50,
        throttle_burst_limit=80,
        cors_allow_origins=["*"],
    )
    api.add_route("GET", "/reports/{id}", handler)
    api.add_route(
        "POST",
        "/reports",
        handler,
        request_schema=ITEM_SCHEMA,
        throttle_rate_limit=5,
        throttle_burst_limit=10,
        api_key_required=True,
    )
    api.add_route("ANY", "/uploads/{key+}", handler, unvalidated_body_reason=UPLOAD_REASON)
    live = lambda_.Alias(
        stack, "Live", alias_name="live", version=lambda_.Version(stack, "V1", lambda_=handler)
    )
    api.add_route("GET", "/live", live)
    legacy = lambda_.Function.from_function_arn(stack, "Legacy", LEGACY_ARN)
    api.add_route("GET", "/legacy", legacy)
    VARIANT["plan"] = api.add_usage_plan(
        "Partners", quota=apigateway.QuotaSettings(limit=1000, period=apigateway.Period.DAY)
    )
    VARIANT["api"] = api
    acknowledge_test_vpc(stack)


@pytest.fixture(scope="module")
def variant() -> Synthesized:
    return synth(build_variant, compliance=ALL_COMPLIANCE)


# What acknowledge_test_vpc accepts on the test's own VPC scaffolding, exactly.
TEST_VPC_ACKNOWLEDGED = {
    (f"{pack}-{rule}", path)
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    for rule, path in (
        ("IAMNoInlinePolicy", "Vpc/FlowLog/IAMRole/DefaultPolicy/Resource"),
        ("VPCDefaultSecurityGroupClosed", "Vpc/Resource"),
    )
}


def test_variant_api_is_clean_under_all_six_packs(variant: Synthesized) -> None:
    # Every open finding of the stack: the API, the account-level logging role, the shared
    # key and topic, the functions (in the test's VPC) and their queues.
    assert variant.violations == []
    assert not variant.failed


def test_variant_acknowledges_only_the_unavoidable(variant: Synthesized) -> None:
    acknowledged = sorted(
        (rule, path.removeprefix("Test/")) for _, rule, path, _ in variant.acknowledged
    )
    library = [a for a in acknowledged if a not in TEST_VPC_ACKNOWLEDGED]
    assert set(acknowledged) - set(library) == TEST_VPC_ACKNOWLEDGED
    logs_resources = [
        f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{prefix}*{stream}"
        for prefix in (ACCESS_LOG_PREFIX, EXECUTION_LOG_PREFIX)
        for stream in ("", ":log-stream:*")
    ]
    expected = [
        ("ApiRequestValidation", "Api/Default/uploads/{key+}/ANY/Resource"),
        *(
            ("AwsSolutions-COG4", f"Api/Default/{route}/Resource")
            for route in (
                "reports/POST",
                "reports/{id}/GET",
                "uploads/{key+}/ANY",
                "live/GET",
                "legacy/GET",
            )
        ),
        ("AwsSolutions-IAM5[Resource::*]", "SecureConstructsVpcNetworkInterfacePolicy/Resource"),
        ("AwsSolutions-IAM5[Resource::*]", "SecureConstructsXRayWritePolicy/Resource"),
        *(
            (
                f"AwsSolutions-IAM5[Resource::{arn}]",
                "SecureConstructsApiGatewayAccount/Policy/Resource",
            )
            for arn in logs_resources
        ),
        *(
            (f"{pack}-APIGWSSLEnabled", "Api/DeploymentStage.v1/Resource")
            for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
        ),
        # The handler and the authorizer share the stack's function dead-letter queue.
        ("Serverless-SQSRedrivePolicy", "SecureConstructsDeadLetterQueue/Resource"),
    ]
    assert library == sorted(expected)
    # The cache is enabled and encrypted: nothing to acknowledge for it.
    assert not any("APIGWCacheEnabledAndEncrypted" in rule for rule, _ in acknowledged)


def test_variant_template_is_cfn_lint_clean(variant: Synthesized) -> None:
    assert cfn_lint(variant.template) == []


def test_cache_is_encrypted_and_keyed_by_the_caller(variant: Synthesized) -> None:
    stage = variant.props("AWS::ApiGateway::Stage")
    assert stage["StageName"] == "v1"
    assert (stage["CacheClusterEnabled"], stage["CacheClusterSize"]) == (True, "0.5")
    default = stage["MethodSettings"][0]
    assert (default["HttpMethod"], default["ResourcePath"]) == ("*", "/*")
    assert default["CachingEnabled"] is True
    assert default["CacheDataEncrypted"] is True
    assert default["CacheTtlInSeconds"] == 120
    methods = by_path(variant, "AWS::ApiGateway::Method")
    get = methods["Api/Default/reports/{id}/GET/Resource"]
    assert sorted(get["Integration"]["CacheKeyParameters"]) == [
        "method.request.header.Authorization",
        "method.request.header.X-Session",
        "method.request.path.id",
    ]
    assert get["RequestParameters"]["method.request.header.Authorization"] is False


def test_per_route_throttle_overrides_the_stage(variant: Synthesized) -> None:
    settings = variant.props("AWS::ApiGateway::Stage")["MethodSettings"]
    assert (settings[0]["ThrottlingRateLimit"], settings[0]["ThrottlingBurstLimit"]) == (50, 80)
    override = next(s for s in settings if s["ResourcePath"] == "/~1reports")
    assert override["HttpMethod"] == "POST"
    assert (override["ThrottlingRateLimit"], override["ThrottlingBurstLimit"]) == (5, 10)
    assert (override["LoggingLevel"], override["DataTraceEnabled"]) == ("ERROR", False)


def test_an_existing_web_acl_is_associated_by_arn(variant: Synthesized) -> None:
    assert variant.props("AWS::WAFv2::WebACLAssociation")["WebACLArn"] == EXISTING_ACL
    assert variant.resources("AWS::WAFv2::WebACL") == {}


def test_request_authorizer_and_api_keys_with_a_quota(variant: Synthesized) -> None:
    (authorizer,) = variant.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    methods = by_path(variant, "AWS::ApiGateway::Method")
    assert methods["Api/Default/reports/POST/Resource"]["ApiKeyRequired"] is True
    assert methods["Api/Default/reports/{id}/GET/Resource"]["ApiKeyRequired"] is False
    plan = variant.props("AWS::ApiGateway::UsagePlan")
    assert plan["Quota"] == {"Limit": 1000, "Period": "DAY"}
    assert plan["Throttle"] == {"RateLimit": 50, "BurstLimit": 80}
    assert plan["ApiStages"][0]["Stage"] == {
        "Ref": logical_id(variant, "AWS::ApiGateway::Stage", "Api/DeploymentStage.v1/Resource")
    }


def test_an_unvalidated_body_is_acknowledged_with_the_routes_reason(variant: Synthesized) -> None:
    acknowledged = [
        (rule, path, reason)
        for _, rule, path, reason in variant.acknowledged
        if rule == "ApiRequestValidation"
    ]
    assert acknowledged == [
        (
            "ApiRequestValidation",
            "Test/Api/Default/uploads/{key+}/ANY/Resource",
            f"Request body deliberately not validated: {UPLOAD_REASON}",
        )
    ]


def test_alias_and_imported_handlers_are_invoked_by_their_qualified_arn(
    variant: Synthesized,
) -> None:
    handler = logical_id(variant, "AWS::Lambda::Function", "Handler/Resource")
    alias = logical_id(variant, "AWS::Lambda::Alias", "Live/Resource")
    role = logical_id(variant, "AWS::IAM::Role", "Api/InvokeRole/Resource")
    policy = logical_id(variant, "AWS::IAM::ManagedPolicy", "Api/InvokePolicy/Resource")
    # The alias's Ref is its qualified ARN: the role may invoke the alias, not $LATEST.
    assert statements(variant.template, policy) == [
        {
            "Action": ["lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": [arn(handler), ref(alias), LEGACY_ARN],
        }
    ]
    authorizer = logical_id(variant, "AWS::Lambda::Function", "Authorizer/Resource")
    assert [
        p["Properties"]["FunctionName"]
        for p in variant.resources("AWS::Lambda::Permission").values()
    ] == [arn(authorizer)]
    methods = by_path(variant, "AWS::ApiGateway::Method")
    live = methods["Api/Default/live/GET/Resource"]["Integration"]
    assert live["Credentials"] == arn(role)
    assert live["Uri"]["Fn::Join"][1][-3:] == [
        ":lambda:path/2015-03-31/functions/",
        ref(alias),
        "/invocations",
    ]
    # An imported function is invoked in its own region, by the ARN it was imported with.
    legacy = methods["Api/Default/legacy/GET/Resource"]["Integration"]
    assert legacy["Credentials"] == arn(role)
    assert legacy["Uri"]["Fn::Join"][1][-1] == (
        f":apigateway:eu-west-1:lambda:path/2015-03-31/functions/{LEGACY_ARN}/invocations"
    )


def test_any_route_is_spread_over_the_standard_methods_in_openapi(variant: Synthesized) -> None:
    document = VARIANT["api"].openapi_document()
    upload = document["paths"]["/uploads/{key}"]
    assert set(upload) == {"get", "post", "put", "patch", "delete"}
    assert document["paths"]["/reports"]["post"]["security"] == [
        {next(iter(document["components"]["securitySchemes"])): [], "api_key": []}
    ]


# --- Refused input (no synth) ---------------------------------------------------------------


def new_api(**props: Any) -> tuple[cdk.Stack, SecureApi, SecureFunction]:
    stack = cdk.Stack(cdk.App(), "Test")
    handler = make_function(stack, "Handler")
    props.setdefault("auth", ApiAuth.iam())
    return stack, SecureApi(stack, "Api", **props), handler


def test_fails_when_the_api_has_no_auth() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^auth=None is not allowed"):
        SecureApi(stack, "Api")


def test_fails_when_the_api_level_auth_is_public() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^auth=.*only on single routes"):
        SecureApi(stack, "Api", auth=ApiAuth.none(reason=PUBLIC_REASON))


@pytest.mark.parametrize(
    "path",
    [
        "items",
        "",
        "/items/",
        "//items",
        "/items/{",
        "/items/{id",
        "/items/{1id}",
        "/items/{}",
        "/it ems",
        "/{key+}/more",
        "/a/{id}/b/{id}",
        None,
    ],
)
def test_fails_when_the_path_is_malformed(path: Any) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^path="):
        api.add_route("GET", path, handler)


@pytest.mark.parametrize("method", ["FETCH", "OPTIONS", "", None, "GET POST"])
def test_fails_when_the_method_is_unknown(method: Any) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^method="):
        api.add_route(method, "/items", handler)


def test_fails_when_a_route_is_added_twice() -> None:
    _, api, handler = new_api()
    api.add_route("GET", "/items/{id}", handler)
    with pytest.raises(ValidationError, match=r"^path='GET /items/\{id\}'.*one route per"):
        api.add_route("get", "/items/{id}", handler)


def test_fails_when_sibling_path_parameters_differ() -> None:
    _, api, handler = new_api()
    api.add_route("GET", "/items/{id}", handler)
    with pytest.raises(ValidationError, match=r"^path=.*one path parameter per level"):
        api.add_route("DELETE", "/items/{name}", handler)


@pytest.mark.parametrize(
    ("rate", "burst", "prop"),
    [
        (0, 200, "throttle_rate_limit"),
        (-5, 200, "throttle_rate_limit"),
        (100, 0, "throttle_burst_limit"),
        (100, -1, "throttle_burst_limit"),
        (100, 50, "throttle_burst_limit"),
        (100, 99.5, "throttle_burst_limit"),
        # Type and finiteness are checked before any jsii call (NaN used to kill the kernel).
        (float("nan"), 200, "throttle_rate_limit"),
        (float("inf"), 200, "throttle_rate_limit"),
        ("100", 200, "throttle_rate_limit"),
        (100, float("nan"), "throttle_burst_limit"),
        (100, "200", "throttle_burst_limit"),
    ],
)
def test_fails_when_stage_throttling_is_not_positive_or_burst_below_rate(
    rate: Any, burst: Any, prop: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=rf"^{prop}="):
        SecureApi(
            stack,
            "Api",
            auth=ApiAuth.iam(),
            throttle_rate_limit=rate,
            throttle_burst_limit=burst,
        )


@pytest.mark.parametrize(
    ("rate", "burst", "prop"),
    [
        (0, None, "throttle_rate_limit"),
        (10, 5, "throttle_burst_limit"),
        (None, 0, "throttle_burst"),
        (float("nan"), None, "throttle_rate_limit"),
        (float("-inf"), 20, "throttle_rate_limit"),
        (10, float("nan"), "throttle_burst_limit"),
    ],
)
def test_fails_when_route_throttling_is_not_positive_or_burst_below_rate(
    rate: Any, burst: Any, prop: str
) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=rf"^{prop}"):
        api.add_route(
            "GET", "/items", handler, throttle_rate_limit=rate, throttle_burst_limit=burst
        )


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nope"},
        {"type": "object", "required": "name"},
        {"properties": {"a": {"minLength": -1}}},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
        {"type": "object", "default": {1, 2}},
        ["not", "a", "dict"],
    ],
)
def test_fails_when_the_request_schema_is_not_valid_draft4(schema: Any) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^request_schema="):
        api.add_route("POST", "/items", handler, request_schema=schema)


def test_fails_when_a_body_route_has_no_schema_and_no_reason() -> None:
    _, api, handler = new_api()
    for verb in ("POST", "PUT", "PATCH", "ANY"):
        with pytest.raises(ValidationError, match=r"^request_schema=None .*unvalidated_body"):
            api.add_route(verb, "/items", handler)


@pytest.mark.parametrize(
    ("verb", "schema", "reason"),
    [
        ("POST", ITEM_SCHEMA, "Binary upload, no schema possible"),
        ("GET", None, "Binary upload, no schema possible"),
        ("POST", None, "short"),
    ],
)
def test_fails_when_the_unvalidated_body_reason_contradicts_the_route(
    verb: str, schema: Any, reason: str
) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^unvalidated_body_reason="):
        api.add_route(
            verb, "/items", handler, request_schema=schema, unvalidated_body_reason=reason
        )


@pytest.mark.parametrize("reason", ["false positive", "Binary upload", "  n/a  "])
def test_fails_when_the_unvalidated_body_reason_would_not_convince_a_reviewer(
    reason: str,
) -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^unvalidated_body_reason=.*at least 4 words"):
        api.add_route("POST", "/items", handler, unvalidated_body_reason=reason)


def test_fails_when_the_unvalidated_body_reason_is_a_token() -> None:
    _, api, handler = new_api()
    token = cdk.Fn.import_value("UploadReason")
    with pytest.raises(ValidationError, match=r"^unvalidated_body_reason=.*not a token"):
        api.add_route("POST", "/items", handler, unvalidated_body_reason=token)


def test_fails_when_a_get_route_has_a_body_schema() -> None:
    _, api, handler = new_api()
    with pytest.raises(ValidationError, match=r"^request_schema=.*GET and HEAD"):
        api.add_route("GET", "/items", handler, request_schema=ITEM_SCHEMA)


@pytest.mark.parametrize(
    ("origins", "credentials"),
    [(["*"], True), (["*", "https://app.example.com"], False)],
)
def test_fails_when_any_origin_is_allowed_with_credentials_or_mixed(
    origins: list[str], credentials: bool
) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^cors_allow_origins="):
        SecureApi(
            stack,
            "Api",
            auth=ApiAuth.iam(),
            cors_allow_origins=origins,
            cors_allow_credentials=credentials,
        )


@pytest.mark.parametrize("origin", ["app.example.com", "https://app.example.com/path", "null"])
def test_fails_when_an_origin_is_malformed(origin: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^cors_allow_origins="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), cors_allow_origins=[origin])


def test_fails_when_the_function_outlives_the_integration_timeout() -> None:
    stack, api, _ = new_api()
    slow = make_function(stack, "Slow", timeout=cdk.Duration.seconds(30))
    with pytest.raises(ValidationError, match=r"^handler.timeout='30 seconds'.*at most 29"):
        api.add_route("GET", "/slow", slow)
    api.add_route("GET", "/ok", make_function(stack, "Ok", timeout=cdk.Duration.seconds(29)))


@pytest.mark.parametrize("kind", ["alias", "version"])
def test_fails_when_an_alias_or_version_runs_a_function_that_outlives_the_integration(
    kind: str,
) -> None:
    stack, api, _ = new_api()
    slow = make_function(stack, "Slow", timeout=cdk.Duration.seconds(60))
    handler: lambda_.IFunction = (
        lambda_.Alias(stack, "Live", alias_name="live", version=slow.current_version)
        if kind == "alias"
        else slow.current_version
    )
    with pytest.raises(ValidationError, match=r"^handler.timeout='60 seconds'.*at most 29"):
        api.add_route("GET", "/slow", handler)


def test_fails_when_the_handler_is_not_a_function() -> None:
    _, api, _ = new_api()
    with pytest.raises(ValidationError, match=r"^handler="):
        api.add_route("GET", "/items", "arn:aws:lambda:eu-west-1:123456789012:function:x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("cloud_watch_role", True),
        ("deploy", False),
        ("deploy_options", apigateway.StageOptions(stage_name="x")),
        ("default_method_options", apigateway.MethodOptions()),
        ("default_cors_preflight_options", apigateway.CorsOptions(allow_origins=["*"])),
    ],
)
def test_fails_when_a_fixed_rest_api_option_is_overridden(option: str, value: Any) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=rf"^{option}="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), **{option: value})


@pytest.mark.parametrize(
    ("cache", "prop"),
    [
        (ApiCache(ttl=cdk.Duration.hours(2)), "cache.ttl"),
        (ApiCache(cluster_size="1"), "cache.cluster_size"),
        ("yes", "cache"),
    ],
)
def test_fails_when_the_cache_is_misconfigured(cache: Any, prop: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=rf"^{prop}="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), cache=cache)


@pytest.mark.parametrize("rate", [0, 1, 1.5, -0.1])
def test_fails_when_the_client_error_rate_is_not_a_fraction(rate: float) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^client_error_rate_threshold="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), client_error_rate_threshold=rate)


def test_fails_when_a_usage_plan_has_no_quota() -> None:
    _, api, _ = new_api()
    with pytest.raises(ValidationError, match=r"^quota=None"):
        api.add_usage_plan("Plan")


def test_fails_when_the_web_acl_is_neither_a_profile_nor_an_arn() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^waf="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), waf="my-acl")


def test_latency_alarm_follows_the_longest_route_timeout() -> None:
    stack, api, handler = new_api()
    api.add_route("GET", "/fast", handler)
    threshold = stack.resolve(api.latency_alarm.node.default_child.threshold)  # type: ignore[union-attr]
    assert threshold == 8000
    api.add_route("GET", "/slow", make_function(stack, "Slow", timeout=cdk.Duration.seconds(25)))
    threshold = stack.resolve(api.latency_alarm.node.default_child.threshold)  # type: ignore[union-attr]
    assert threshold == 20000


def test_fails_when_two_routes_would_share_an_operation_id() -> None:
    _, api, handler = new_api()
    api.add_route("GET", "/items-x", handler)
    with pytest.raises(ValidationError, match=r"^operation_id='getItemsX'"):
        api.add_route("GET", "/items/x", handler)
    api.add_route("GET", "/items/x", handler, operation_id="getItemX")


def test_fails_when_the_waf_rate_limit_is_outside_wafs_range() -> None:
    for rate_limit in (9, 2_000_001):
        with pytest.raises(ValidationError, match=r"^rate_limit="):
            new_api(waf=WafProfile.baseline(rate_limit=rate_limit))


def test_a_route_rate_above_the_stage_burst_raises_its_own_burst() -> None:
    _, api, handler = new_api()
    api.add_route("GET", "/", handler, throttle_rate_limit=250.5)
    assert api.routes[0].path == "/"
    setting = api.stage_resource.method_settings[-1]  # type: ignore[index]
    assert (setting.resource_path, setting.http_method) == ("/", "GET")  # type: ignore[union-attr]
    assert setting.throttling_burst_limit == 251  # type: ignore[union-attr]


def test_openapi_security_requirements_are_valid_for_api_key_schemes() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    handler = make_function(stack, "Handler")
    pool = SecureUserPool(stack, "Users")
    api = SecureApi(stack, "Api", auth=ApiAuth.cognito(pool, scopes=["items-api/items.read"]))
    api.add_route("GET", "/items", handler)
    operation = api.openapi_document()["paths"]["/items"]["get"]
    # OpenAPI 3.0: scopes only for oauth2/openIdConnect; the Cognito scheme is an apiKey one.
    assert operation["security"] == [{"cognito_Users": []}]
    assert operation["x-oauth-scopes"] == ["items-api/items.read"]


@pytest.mark.parametrize("threshold", [cdk.Duration.seconds(30), cdk.Duration.millis(0), 3000])
def test_fails_when_the_latency_threshold_could_never_fire(threshold: Any) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=r"^latency_alarm_threshold="):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), latency_alarm_threshold=threshold)


def test_an_explicit_latency_threshold_is_kept_as_routes_are_added() -> None:
    stack, api, handler = new_api(latency_alarm_threshold=cdk.Duration.seconds(3))
    api.add_route("GET", "/items", handler)
    threshold = stack.resolve(api.latency_alarm.node.default_child.threshold)  # type: ignore[union-attr]
    assert threshold == 3000


# --- The invoke role: created with the first route, split over policies, bounded ----------


def test_the_invoke_role_exists_only_once_a_route_is_added() -> None:
    _, api, handler = new_api()
    assert api.invoke_role is None and api.invoke_policies == []
    api.add_route("GET", "/items", handler)
    assert isinstance(api.invoke_role, iam.Role)
    assert [p.node.id for p in api.invoke_policies] == ["InvokePolicy"]


def test_an_invoke_policy_holds_functions_whose_longest_arns_fit_iams_limit() -> None:
    # The bound: FUNCTIONS_PER_INVOKE_POLICY of the longest ARNs a generated name can give.
    longest = "arn:aws-us-gov:lambda:" + "r" * 20 + ":123456789012:function:" + "f" * 64
    assert len(longest) == MAX_UNQUALIFIED_FUNCTION_ARN == 129
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": [longest] * FUNCTIONS_PER_INVOKE_POLICY,
            }
        ],
    }
    assert len(json.dumps(document, separators=(",", ":"))) <= MANAGED_POLICY_MAX_CHARACTERS
    assert FUNCTIONS_PER_INVOKE_POLICY == 45


def test_a_second_invoke_policy_starts_after_the_bound() -> None:
    stack, api, _ = new_api()
    functions = [
        lambda_.Function(
            stack,
            f"Fn{index}",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(CODE),
        )
        for index in range(FUNCTIONS_PER_INVOKE_POLICY + 1)
    ]
    for index, fn in enumerate(functions):
        api.add_route("GET", f"/f{index}", fn)
    first, second = api.invoke_policies
    assert second.node.id == "InvokePolicy2"
    arns = [stack.resolve(fn.function_arn) for fn in functions]
    for policy, expected in ((first, arns[:-1]), (second, arns[-1:])):
        (statement,) = stack.resolve(policy.document.to_json())["Statement"]
        assert statement["Action"] == "lambda:InvokeFunction"
        assert (statement["Resource"] if len(expected) > 1 else [statement["Resource"]]) == (
            expected
        )


def test_fails_when_the_invoke_role_would_need_more_than_ten_policies() -> None:
    stack, api, _ = new_api()
    # The longest literal ARNs (an alias name of 128 characters): 24 per policy.
    qualifier = "a" * 128
    refused = None
    for index in range(MAX_INVOKE_POLICIES * FUNCTIONS_PER_INVOKE_POLICY):
        name = f"fn-{index:04d}".ljust(64, "x")
        fn = lambda_.Function.from_function_arn(
            stack,
            f"Fn{index}",
            f"arn:aws:lambda:us-east-1:123456789012:function:{name}:{qualifier}",
        )
        try:
            api.add_route("GET", f"/f{index}", fn)
        except ValidationError as error:
            refused = (index, str(error))
            break
    assert refused is not None
    index, message = refused
    assert index == MAX_INVOKE_POLICIES * 24
    assert message.startswith(f"handler='Test/Fn{index}' is not allowed: at most 10 invoke")
    assert "split the routes over a second SecureApi" in message
    assert len(api.invoke_policies) == MAX_INVOKE_POLICIES
    # The refused route left nothing behind.
    assert api.root.get_resource(f"f{index}") is None
    assert len(api.routes) == index
