"""The SecureServerless Lambda rules on small template dicts (no synth)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checks.templates import (
    alarm,
    event_invoke_config,
    function,
    granular,
    resource,
    run,
    well_configured_function,
)

# Fake credentials, built so that no scanner mistakes this file for a leak.
ACCESS_KEY = "AKIA" + "Q" * 16
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N"
SECRETS_MANAGER_JOIN = {
    "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:::}}"]]
}


def env(**variables: Any) -> dict[str, Any]:
    return {"Fn": function(Environment={"Variables": variables})}


# --- LambdaEnvironmentSecret ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("DB_PASSWORD", "hunter2-but-longer", "password name"),
        ("SMTP_PASS", "s3cr3t!", "password name"),
        ("UPSTREAM", ACCESS_KEY, "access key id"),
        ("SESSION", JWT, "JSON Web Token"),
        ("API_KEY", "Zx8kP2qL9mN4vB7wR1tY6uE3", "high-entropy"),
        ("DATABASE_URL", "postgres://admin:pa55word@db.internal:5432/app", "password in it"),
        ("DB", "{{resolve:secretsmanager:prod/db:SecretString:password}}", "secretsmanager"),
        ("DB", "{{resolve:ssm-secure:/prod/db/password:1}}", "ssm-secure"),
        ("DB", SECRETS_MANAGER_JOIN, "secretsmanager"),
        (
            "DB",
            {"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:password}}"},
            "secretsmanager",
        ),
        (
            "DB",
            {"Fn::Sub": ["{{resolve:${Kind}:${Secret}}}", {"Kind": "ssm-secure"}]},
            "ssm-secure",
        ),
        (
            "DB",
            {"Fn::If": ["Prod", {"Ref": "AWS::NoValue"}, SECRETS_MANAGER_JOIN]},
            "secretsmanager",
        ),
        ("DB_PASSWORD", "{{resolve:ssm:/prod/db/password}}", "resolve:ssm"),
        (
            "DB_URL",
            {"Fn::Join": ["", ["mysql://app:Xk9pL2", "qR@", {"Ref": "DbHost"}, "/app"]]},
            "password in it",
        ),
    ],
)
def test_fails_when_an_environment_variable_holds_a_secret(name: str, value: Any, why: str) -> None:
    # GIVEN a function with a secret in one variable and plain config in another
    # WHEN the rule runs
    findings = run("LambdaEnvironmentSecret", env(**{name: value, "LOG_LEVEL": "INFO"}))

    # THEN exactly that variable is flagged, granularly, with the SecureFunction fix
    assert granular(findings) == [("Fn", name)]
    (finding,) = findings
    assert finding.path == f"Properties/Environment/Variables/{name}"
    assert why in finding.message
    assert "SecureFunction(secrets=" in finding.fix


@pytest.mark.parametrize(
    "value",
    ["hunter2-but-longer", ACCESS_KEY, JWT, "Zx8kP2qL9mN4vB7wR1tY6uE3", "pa55word"],
)
def test_the_finding_never_repeats_the_secret(value: str) -> None:
    findings = run("LambdaEnvironmentSecret", env(API_KEY=value, DB_PASSWORD=value))
    assert findings
    for finding in findings:
        for text in (finding.message, finding.fix, finding.path):
            assert value not in text


def test_each_secret_variable_is_its_own_finding() -> None:
    findings = run(
        "LambdaEnvironmentSecret", env(DB_PASSWORD="hunter2-xyz", UPSTREAM_TOKEN=ACCESS_KEY)
    )
    assert granular(findings) == [("Fn", "DB_PASSWORD"), ("Fn", "UPSTREAM_TOKEN")]
    fixes = {f.finding_id: f.fix for f in findings}
    assert "secrets={'DB': secret}" in fixes["DB_PASSWORD"]
    assert "DB_SECRET_ARN" in fixes["DB_PASSWORD"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_SECRET_ARN", {"Ref": "Secret"}),
        ("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"),
        ("API_KEY_PARAMETER", "/prod/api/key"),
        ("DB_PASSWORD", "/prod/db/password"),
        ("TABLE_NAME", {"Ref": "Table"}),
        ("LOG_LEVEL", "INFO"),
        ("POWERTOOLS_SERVICE_NAME", "orders"),
        ("FEATURE_FLAGS", "{{resolve:ssm:/prod/flags}}"),
        ("AUTH_ENDPOINT", "https://auth.example.com/oauth2/token"),
        ("TOKEN_URL", {"Fn::Join": ["", ["https://", {"Ref": "Domain"}, "/token"]]}),
        ("SECRET_ID", "prod/orders/db-credentials"),
        ("DB_SECRET", "prod/orders/db-credentials"),
        ("TOKEN_TTL_SECONDS", "3600"),
        ("JWT_ALGORITHM", "RS256"),
        ("DB_PASSWORD", ""),
        ("MAX_RETRIES", 3),
        ("OAUTH_AUDIENCE", "api://orders-service-0f8e2d1c"),
        ("API_KEY", {"Fn::Join": ["", [{"Ref": "Prefix"}, "-key"]]}),
    ],
)
def test_plain_configuration_and_secret_references_pass(name: str, value: Any) -> None:
    assert run("LambdaEnvironmentSecret", env(**{name: value})) == []


def test_a_function_without_environment_passes() -> None:
    assert run("LambdaEnvironmentSecret", {"Fn": function()}) == []


# --- LambdaTimeout --------------------------------------------------------------------------


def test_fails_when_the_timeout_is_missing() -> None:
    (finding,) = run("LambdaTimeout", {"Fn": function(Timeout=None)})
    assert (finding.logical_id, finding.path) == ("Fn", "Properties/Timeout")
    assert "timeout=Duration.seconds(10)" in finding.fix


@pytest.mark.parametrize("timeout", [61, 900, "120", 60.5])
def test_fails_when_the_timeout_is_above_the_default_cap(timeout: Any) -> None:
    (finding,) = run("LambdaTimeout", {"Fn": function(Timeout=timeout)})
    assert "above the cap of 60 s" in finding.message
    assert "timeout=Duration.seconds(60)" in finding.fix
    assert "max_timeout" in finding.fix


def test_fails_when_the_timeout_is_above_a_lowered_cap() -> None:
    findings = run("LambdaTimeout", {"Fn": function(Timeout=30)}, max_timeout_seconds=29)
    assert [f.message for f in findings] == ["Timeout is 30 s, above the cap of 29 s"]


@pytest.mark.parametrize(
    ("timeout", "cap"), [(10, 60), (60, 60), (1, 60), (300, 300), ({"Ref": "Timeout"}, 60)]
)
def test_a_timeout_within_the_cap_passes(timeout: Any, cap: int) -> None:
    assert run("LambdaTimeout", {"Fn": function(Timeout=timeout)}, max_timeout_seconds=cap) == []


# --- LambdaAsyncFailureHandling -------------------------------------------------------------


def test_fails_when_a_function_has_no_async_configuration() -> None:
    findings = run("LambdaAsyncFailureHandling", {"Fn": function()})
    assert granular(findings) == [
        ("Fn", "MaximumEventAgeInSeconds"),
        ("Fn", "MaximumRetryAttempts"),
        ("Fn", "OnFailure"),
    ]
    assert all("configure_async_invoke" in f.fix and "SecureFunction" in f.fix for f in findings)


@pytest.mark.parametrize("field", ["MaximumRetryAttempts", "MaximumEventAgeInSeconds"])
def test_fails_when_the_event_invoke_config_leaves_a_bound_out(field: str) -> None:
    resources = {"Fn": function(), "Invoke": event_invoke_config(**{field: None})}
    (finding,) = run("LambdaAsyncFailureHandling", resources)
    # THEN the finding sits on the config (a child of the function in CDK), on that field
    assert (finding.logical_id, finding.path, finding.finding_id) == (
        "Invoke",
        f"Properties/{field}",
        field,
    )


def test_fails_when_failed_events_go_nowhere() -> None:
    resources = {"Fn": function(), "Invoke": event_invoke_config(DestinationConfig=None)}
    (finding,) = run("LambdaAsyncFailureHandling", resources)
    assert (finding.logical_id, finding.finding_id) == ("Fn", "OnFailure")
    assert "dropped" in finding.message


def test_fails_when_the_config_belongs_to_another_function() -> None:
    resources = {"Fn": function(), "Other": function(), "Invoke": event_invoke_config("Other")}
    assert {f.logical_id for f in run("LambdaAsyncFailureHandling", resources)} == {"Fn"}


@pytest.mark.parametrize(
    ("function_props", "config_props"),
    [
        ({}, {}),
        (
            {"DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
            {"DestinationConfig": None},
        ),
        ({}, {"FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}}),
        ({"FunctionName": "orders"}, {"FunctionName": "orders"}),
        (
            {"FunctionName": "orders"},
            {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:orders"},
        ),
        ({}, {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}),
    ],
)
def test_bounded_retries_and_a_failure_target_pass(
    function_props: dict[str, Any], config_props: dict[str, Any]
) -> None:
    resources = {"Fn": function(**function_props), "Invoke": event_invoke_config(**config_props)}
    assert run("LambdaAsyncFailureHandling", resources) == []


# --- LambdaAlarms ---------------------------------------------------------------------------


def test_fails_when_a_function_has_no_alarms() -> None:
    findings = run("LambdaAlarms", {"Fn": function()})
    assert granular(findings) == [("Fn", "Errors"), ("Fn", "Throttles")]
    assert all("alarm_topic=" in f.fix for f in findings)


@pytest.mark.parametrize(
    ("alarm_props", "why"),
    [
        ({"AlarmActions": None}, "no enabled AlarmActions"),
        ({"AlarmActions": []}, "no enabled AlarmActions"),
        ({"ActionsEnabled": False}, "no enabled AlarmActions"),
        ({"Namespace": "Custom/Orders"}, "no AWS::CloudWatch::Alarm"),
        ({"Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Other"}}]}, "no AWS::"),
        ({"Dimensions": []}, "no AWS::CloudWatch::Alarm"),
    ],
)
def test_fails_when_the_errors_alarm_does_not_notify_anyone(
    alarm_props: dict[str, Any], why: str
) -> None:
    resources = {
        "Fn": function(),
        "FnErrors": alarm("Fn", "Errors", **alarm_props),
        "FnThrottles": alarm("Fn", "Throttles"),
    }
    (finding,) = run("LambdaAlarms", resources)
    assert (finding.logical_id, finding.finding_id) == ("Fn", "Errors")
    assert why in finding.message


def test_an_alarm_on_another_function_does_not_count() -> None:
    resources = {"Fn": function(), "Other": function(), **well_configured_function("Other")}
    assert granular(run("LambdaAlarms", resources)) == [("Fn", "Errors"), ("Fn", "Throttles")]


def test_errors_and_throttles_alarms_with_actions_pass() -> None:
    assert run("LambdaAlarms", well_configured_function()) == []


def test_alarms_on_the_function_name_or_through_metric_math_pass() -> None:
    math_alarm = resource(
        "AWS::CloudWatch::Alarm",
        AlarmActions=["arn:aws:sns:eu-west-1:123456789012:pager"],
        Metrics=[
            {
                "Id": "m1",
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Throttles",
                        "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
            {"Id": "e1", "Expression": "m1", "ReturnData": True},
        ],
    )
    named_errors = alarm(Dimensions=[{"Name": "FunctionName", "Value": "orders"}])
    resources = {
        "Fn": function(FunctionName="orders"),
        "Errors": named_errors,
        "Throttles": math_alarm,
    }
    assert run("LambdaAlarms", resources) == []


# --- LambdaPublicAccess ---------------------------------------------------------------------


def permission(**props: Any) -> dict[str, Any]:
    return resource(
        "AWS::Lambda::Permission",
        Action="lambda:InvokeFunction",
        FunctionName={"Fn::GetAtt": ["Fn", "Arn"]},
        **props,
    )


def test_fails_when_a_function_url_has_no_auth() -> None:
    url = resource("AWS::Lambda::Url", AuthType="NONE", TargetFunctionArn={"Ref": "Fn"})
    (finding,) = run("LambdaPublicAccess", {"Fn": function(), "Url": url})
    assert (finding.logical_id, finding.path) == ("Url", "Properties/AuthType")
    assert "add_function_url()" in finding.fix


@pytest.mark.parametrize(
    ("props", "path"),
    [
        ({"Principal": "*"}, "Properties/Principal"),
        ({"Principal": {"AWS": "*"}}, "Properties/Principal"),
        ({"Principal": "*", "FunctionUrlAuthType": "NONE"}, "Properties/Principal"),
        ({"Principal": "s3.amazonaws.com"}, "Properties/SourceArn"),
        ({"Principal": "events.amazonaws.com", "SourceArn": ""}, "Properties/SourceArn"),
        (
            {"Principal": {"Fn::Join": ["", ["states.", {"Ref": "AWS::URLSuffix"}]]}},
            "Properties/SourceArn",
        ),
        # a principal that cannot be read before deploy may be "*" (fail closed)
        ({"Principal": {"Ref": "CallerPrincipal"}}, "Properties/Principal"),
        ({"Principal": {"Fn::ImportValue": "Caller"}}, "Properties/Principal"),
        ({"Principal": {"Fn::Select": [1, ["123456789012", "*"]]}}, "Properties/Principal"),
    ],
)
def test_fails_when_a_permission_is_open_to_anyone(props: dict[str, Any], path: str) -> None:
    (finding,) = run("LambdaPublicAccess", {"Fn": function(), "Allow": permission(**props)})
    assert (finding.logical_id, finding.path) == ("Allow", path)


@pytest.mark.parametrize(
    "props",
    [
        {"Principal": "123456789012"},
        {"Principal": "arn:aws:iam::123456789012:role/caller"},
        {"Principal": "s3.amazonaws.com", "SourceArn": "arn:aws:s3:::bucket"},
        {"Principal": "s3.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"}},
        {"Principal": "apigateway.amazonaws.com", "SourceArn": {"Fn::Join": ["", ["arn:"]]}},
        {"Principal": "*", "PrincipalOrgID": "o-abc123"},
        {"Principal": {"Fn::GetAtt": ["FnRole", "Arn"]}},
    ],
)
def test_permissions_for_named_or_scoped_principals_pass(props: dict[str, Any]) -> None:
    role = resource("AWS::IAM::Role", AssumeRolePolicyDocument={})
    resources = {"Fn": function(), "FnRole": role, "Allow": permission(**props)}
    assert run("LambdaPublicAccess", resources) == []


@pytest.mark.parametrize(
    "auth",
    [{"Fn::ImportValue": "Auth"}, {"Ref": "Auth"}, {"Fn::Select": [1, ["AWS_IAM", "NONE"]]}],
)
def test_a_function_url_whose_auth_type_cannot_be_read_or_may_be_none_fails(auth: Any) -> None:
    url = resource("AWS::Lambda::Url", AuthType=auth, TargetFunctionArn={"Ref": "Fn"})
    (finding,) = run("LambdaPublicAccess", {"Fn": function(), "Url": url})
    assert (finding.logical_id, finding.path) == ("Url", "Properties/AuthType")


def test_a_function_url_with_iam_auth_passes() -> None:
    url = resource("AWS::Lambda::Url", AuthType="AWS_IAM", TargetFunctionArn={"Ref": "Fn"})
    assert run("LambdaPublicAccess", {"Fn": function(), "Url": url}) == []


# --- all Lambda rules together --------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id",
    [
        "LambdaEnvironmentSecret",
        "LambdaTimeout",
        "LambdaAsyncFailureHandling",
        "LambdaAlarms",
        "LambdaPublicAccess",
    ],
)
def test_a_well_configured_function_passes_every_lambda_rule(rule_id: str) -> None:
    assert run(rule_id, well_configured_function()) == []


# --- custom-resource handlers ---------------------------------------------------------------


def custom_resource(handler: str = "Handler") -> dict[str, Any]:
    return resource(
        "Custom::S3BucketNotifications",
        ServiceToken={"Fn::GetAtt": [handler, "Arn"]},
        BucketName={"Ref": "Bucket"},
    )


@pytest.mark.parametrize("rule_id", ["LambdaTimeout", "LambdaAsyncFailureHandling", "LambdaAlarms"])
def test_a_custom_resource_handler_is_left_to_cloudformation(rule_id: str) -> None:
    # GIVEN CDK's S3-notifications handler: 300 s, no async config, no alarms
    resources = {"Handler": function(Timeout=300), "Notifications": custom_resource()}
    assert run(rule_id, resources) == []


@pytest.mark.parametrize("rule_id", ["LambdaTimeout", "LambdaAsyncFailureHandling", "LambdaAlarms"])
def test_fails_when_a_custom_resource_handler_is_also_invoked_otherwise(rule_id: str) -> None:
    invoke = resource(
        "AWS::Lambda::Permission",
        Action="lambda:InvokeFunction",
        FunctionName={"Fn::GetAtt": ["Handler", "Arn"]},
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
    )
    resources = {
        "Handler": function(Timeout=300),
        "Notifications": custom_resource(),
        "Invoke": invoke,
    }
    assert {f.logical_id for f in run(rule_id, resources)} == {"Handler"}


def test_a_custom_resource_handler_still_may_not_hold_secrets() -> None:
    resources = {
        "Handler": function(Environment={"Variables": {"UPSTREAM": "AKIA" + "Q" * 16}}),
        "Notifications": custom_resource(),
    }
    assert granular(run("LambdaEnvironmentSecret", resources)) == [("Handler", "UPSTREAM")]


def _api_method(uri: Any) -> dict[str, Any]:
    return resource(
        "AWS::ApiGateway::Method",
        HttpMethod="GET",
        Integration={
            "Type": "AWS_PROXY",
            "Credentials": {"Fn::GetAtt": ["InvokeRole", "Arn"]},
            "Uri": uri,
        },
    )


def _uri(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/",
                target,
                "/invocations",
            ],
        ]
    }


def _invoke_policy(*actions: str) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": [{"Fn::GetAtt": ["Handler", "Arn"]}],
    }
    return resource(
        "AWS::IAM::ManagedPolicy",
        PolicyDocument={"Version": "2012-10-17", "Statement": [statement]},
    )


@pytest.mark.parametrize(
    "invoker",
    [
        pytest.param(_api_method(_uri({"Fn::GetAtt": ["Handler", "Arn"]})), id="api-route"),
        pytest.param(_api_method(_uri({"Ref": "Live"})), id="api-route-to-an-alias"),
        pytest.param(
            resource(
                "AWS::ApiGateway::Authorizer",
                Type="TOKEN",
                AuthorizerUri=_uri({"Fn::GetAtt": ["Handler", "Arn"]}),
            ),
            id="authorizer",
        ),
        pytest.param(_invoke_policy("lambda:InvokeFunction"), id="invoke-policy"),
        pytest.param(_invoke_policy("lambda:Invoke*"), id="invoke-wildcard-policy"),
    ],
)
@pytest.mark.parametrize("rule_id", ["LambdaTimeout", "LambdaAsyncFailureHandling", "LambdaAlarms"])
def test_fails_when_a_custom_resource_handler_is_also_invoked_through_a_role(
    rule_id: str, invoker: dict[str, Any]
) -> None:
    # GIVEN a handler that a SecureApi route (invoke role, no Lambda permission) also calls
    resources = {
        "Handler": function(Timeout=300),
        "Live": resource(
            "AWS::Lambda::Alias", FunctionName={"Ref": "Handler"}, Name="live", FunctionVersion="1"
        ),
        "Notifications": custom_resource(),
        "Invoker": invoker,
    }
    assert {f.logical_id for f in run(rule_id, resources)} == {"Handler"}


def test_a_policy_that_does_not_invoke_leaves_the_handler_to_cloudformation() -> None:
    resources = {
        "Handler": function(Timeout=300),
        "Notifications": custom_resource(),
        "Reader": _invoke_policy("lambda:GetFunction"),
    }
    assert run("LambdaTimeout", resources) == []
