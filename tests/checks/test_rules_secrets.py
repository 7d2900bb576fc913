"""The SecureServerless secret rules on small template dicts (no synth): dynamic references,
literal values, customer-managed keys, wildcard reads and caches that outlive rotation."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.model import Finding, Severity, Template
from secure_constructs.checks.registry import RULES
from tests.checks.templates import allow, function, policy, resource

SM_REF = "{{resolve:secretsmanager:prod/db:SecretString:password}}"
SSM_SECURE_REF = "{{resolve:ssm-secure:/prod/db/password:1}}"
SM_JOIN = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Db"}, ":SecretString:::}}"]]}
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"


def run(rule_id: str, body: dict[str, Any]) -> list[Finding]:
    return RULES[rule_id].run(Template(body))


def found(rule_id: str, body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((f.logical_id, f.finding_id) for f in run(rule_id, body))


# --- SecretDynamicReference -----------------------------------------------------------------


LEAKS: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    (
        "output",
        {"Resources": {}, "Outputs": {"DbPassword": {"Value": SM_REF}}},
        ("DbPassword", "Outputs/Value"),
    ),
    (
        "output built with Fn::Join",
        {"Resources": {}, "Outputs": {"Conn": {"Value": SM_JOIN}}},
        ("Conn", "Outputs/Value/Fn::Join/1/0"),
    ),
    (
        "parameter default",
        {"Resources": {}, "Parameters": {"Token": {"Type": "String", "Default": SSM_SECURE_REF}}},
        ("Token", "Parameters/Default"),
    ),
    (
        "tag",
        {
            "Resources": {
                "Bucket": resource("AWS::S3::Bucket", Tags=[{"Key": "pw", "Value": SM_REF}])
            }
        },
        ("Bucket", "Properties/Tags/0/Value"),
    ),
    (
        "API Gateway stage variable",
        {
            "Resources": {
                "Stage": resource(
                    "AWS::ApiGateway::Stage", RestApiId="api", Variables={"key": SM_REF}
                )
            }
        },
        ("Stage", "Properties/Variables/key"),
    ),
    (
        "API Gateway v2 stage variable",
        {
            "Resources": {
                "Stage": resource(
                    "AWS::ApiGatewayV2::Stage", ApiId="api", StageVariables={"key": SM_REF}
                )
            }
        },
        ("Stage", "Properties/StageVariables/key"),
    ),
    (
        "API Gateway deployment stage description",
        {
            "Resources": {
                "Deploy": resource(
                    "AWS::ApiGateway::Deployment",
                    RestApiId="api",
                    StageDescription={"Variables": {"key": SSM_SECURE_REF}},
                )
            }
        },
        ("Deploy", "Properties/StageDescription/Variables/key"),
    ),
    (
        "Step Functions definition",
        {
            "Resources": {
                "Machine": resource(
                    "AWS::StepFunctions::StateMachine",
                    DefinitionString={"Fn::Join": ["", ['{"Token":"', SM_REF, '"}']]},
                )
            }
        },
        ("Machine", "Properties/DefinitionString/Fn::Join/1/1"),
    ),
    (
        "Step Functions substitutions",
        {
            "Resources": {
                "Machine": resource(
                    "AWS::StepFunctions::StateMachine",
                    DefinitionString="{}",
                    DefinitionSubstitutions={"token": SM_REF},
                )
            }
        },
        ("Machine", "Properties/DefinitionSubstitutions/token"),
    ),
    (
        "custom resource",
        {"Resources": {"Setup": resource("Custom::Setup", ServiceToken="arn", Key=SM_REF)}},
        ("Setup", "Properties/Key"),
    ),
    (
        "EC2 user data",
        {
            "Resources": {
                "Box": resource("AWS::EC2::Instance", UserData={"Fn::Base64": SSM_SECURE_REF})
            }
        },
        ("Box", "Properties/UserData/Fn::Base64"),
    ),
    (
        "resource metadata",
        {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Metadata": {"note": SM_REF}}}},
        ("Bucket", "Metadata/note"),
    ),
]


@pytest.mark.parametrize(("where", "body", "expected"), LEAKS, ids=[c[0] for c in LEAKS])
def test_fails_when_a_dynamic_reference_is_in(
    where: str, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    findings = run("SecretDynamicReference", body)
    assert len(findings) == 1, where
    finding = findings[0]
    logical_id, path = expected
    assert finding.logical_id == logical_id
    assert finding.severity is Severity.ERROR
    # The finding id is the location (granular acknowledgement of exactly this one).
    section, _, rest = path.partition("/")
    if section in ("Outputs", "Parameters"):
        assert finding.finding_id == path
        assert finding.path == f"{section}/{logical_id}/{rest}"
    else:
        assert finding.finding_id == path == finding.path
    assert "resolve:" in finding.message
    assert SM_REF not in finding.message and SSM_SECURE_REF not in finding.message


DESIGNED: list[tuple[str, dict[str, Any]]] = [
    (
        "RDS master password",
        resource("AWS::RDS::DBInstance", Engine="postgres", MasterUserPassword=SM_JOIN),
    ),
    (
        "RDS user name from the generated secret",
        resource("AWS::RDS::DBInstance", MasterUsername=SM_JOIN, MasterUserPassword=SM_JOIN),
    ),
    ("RDS cluster", resource("AWS::RDS::DBCluster", MasterUserPassword=SSM_SECURE_REF)),
    ("DocumentDB", resource("AWS::DocDB::DBCluster", MasterUserPassword=SM_REF)),
    ("Redshift", resource("AWS::Redshift::Cluster", MasterUserPassword=SM_REF)),
    ("ElastiCache auth token", resource("AWS::ElastiCache::ReplicationGroup", AuthToken=SM_REF)),
    (
        "Amazon MQ user",
        resource("AWS::AmazonMQ::Broker", Users=[{"Username": "app", "Password": SM_REF}]),
    ),
    (
        "OpenSearch master user",
        resource(
            "AWS::OpenSearchService::Domain",
            AdvancedSecurityOptions={"MasterUserOptions": {"MasterUserPassword": SM_REF}},
        ),
    ),
    (
        "Events connection",
        resource(
            "AWS::Events::Connection",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x", "ApiKeyValue": SM_REF}},
        ),
    ),
    (
        "CodePipeline GitHub OAuth token",
        resource(
            "AWS::CodePipeline::Pipeline",
            Stages=[{"Actions": [{"Configuration": {"OAuthToken": SM_REF}}]}],
        ),
    ),
    ("secret copied into a secret", resource("AWS::SecretsManager::Secret", SecretString=SM_REF)),
]


@pytest.mark.parametrize(("what", "res"), DESIGNED, ids=[c[0] for c in DESIGNED])
def test_a_dynamic_reference_in_a_property_designed_for_secrets_passes(
    what: str, res: dict[str, Any]
) -> None:
    assert run("SecretDynamicReference", {"Resources": {"R": res}}) == [], what


def test_lambda_environment_is_left_to_lambda_environment_secret() -> None:
    body = {"Resources": {"Fn": function(Environment={"Variables": {"DB": SM_REF}})}}
    assert run("SecretDynamicReference", body) == []
    # ... which reports it, so the leak is reported exactly once.
    assert [f.rule_id for f in run("LambdaEnvironmentSecret", body)] == ["LambdaEnvironmentSecret"]


def test_a_designed_property_of_one_resource_does_not_excuse_another_property() -> None:
    body = {
        "Resources": {
            "Db": resource(
                "AWS::RDS::DBInstance",
                MasterUserPassword=SM_REF,
                Tags=[{"Key": "copy", "Value": SM_REF}],
            )
        }
    }
    assert found("SecretDynamicReference", body) == [("Db", "Properties/Tags/0/Value")]


def test_plain_ssm_references_and_secret_arns_pass() -> None:
    body = {
        "Resources": {
            "Bucket": resource(
                "AWS::S3::Bucket", Tags=[{"Key": "v", "Value": "{{resolve:ssm:/app/version}}"}]
            )
        },
        "Outputs": {"SecretArn": {"Value": {"Ref": "Db"}}},
        "Parameters": {"Name": {"Type": "String", "Default": "prod/db"}},
    }
    assert run("SecretDynamicReference", body) == []


# --- SecretLiteralValue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "correct-horse-battery-staple",
        '{"username":"app","password":"correct-horse-battery-staple"}',
        {"Fn::Join": ["", ['{"password":"', "correct-horse", '"}']]},
    ],
    ids=["string", "json", "literal join"],
)
def test_fails_when_a_secret_string_is_literal(value: Any) -> None:
    body = {"Resources": {"Db": resource("AWS::SecretsManager::Secret", SecretString=value)}}
    findings = run("SecretLiteralValue", body)
    assert [(f.logical_id, f.path) for f in findings] == [("Db", "Properties/SecretString")]
    assert "correct-horse" not in findings[0].message


@pytest.mark.parametrize(
    "props",
    [
        {"GenerateSecretString": {}},
        {"SecretString": {"Ref": "DbPasswordParameter"}},
        {"SecretString": {"Fn::GetAtt": ["AccessKey", "SecretAccessKey"]}},
        {"SecretString": {"Fn::Join": ["", ['{"password":"', {"Ref": "Pw"}, '"}']]}},
        {"SecretString": SSM_SECURE_REF},
    ],
    ids=["generated", "parameter", "attribute", "join with a ref", "dynamic reference"],
)
def test_a_generated_or_token_secret_string_passes(props: dict[str, Any]) -> None:
    body = {"Resources": {"Db": resource("AWS::SecretsManager::Secret", **props)}}
    assert run("SecretLiteralValue", body) == []


# --- SecretCustomerKey ----------------------------------------------------------------------


KEY = resource("AWS::KMS::Key", EnableKeyRotation=True)


@pytest.mark.parametrize(
    "props", [{}, {"KmsKeyId": "alias/aws/secretsmanager"}], ids=["no key", "AWS managed key"]
)
def test_warns_when_a_secret_skips_the_stacks_customer_managed_key(props: dict[str, Any]) -> None:
    body = {"Resources": {"Key": KEY, "Db": resource("AWS::SecretsManager::Secret", **props)}}
    findings = run("SecretCustomerKey", body)
    assert [(f.logical_id, f.path) for f in findings] == [("Db", "Properties/KmsKeyId")]
    assert findings[0].severity is Severity.WARNING


def test_warns_on_the_aws_managed_key_even_when_the_template_has_no_kms_key() -> None:
    no_key_in_stack = {"Resources": {"Db": resource("AWS::SecretsManager::Secret")}}
    assert [f.logical_id for f in run("SecretCustomerKey", no_key_in_stack)] == ["Db"]


def test_a_secret_with_a_customer_managed_key_passes() -> None:
    with_key = {
        "Resources": {
            "Key": KEY,
            "Db": resource("AWS::SecretsManager::Secret", KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]}),
        }
    }
    assert run("SecretCustomerKey", with_key) == []
    imported = {
        "Resources": {
            "Db": resource(
                "AWS::SecretsManager::Secret", KmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/abc"
            )
        }
    }
    assert run("SecretCustomerKey", imported) == []


# --- SecretReadWildcard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "resource_", "finding_id"),
    [
        ("secretsmanager:GetSecretValue", "*", "Resource::*"),
        ("secretsmanager:GetSecretValue", SECRET_ARN + "*", f"Resource::{SECRET_ARN}*"),
        (
            "secretsmanager:GetSecretValue",
            SECRET_ARN + "prod/*",
            f"Resource::{SECRET_ARN}prod/*",
        ),
        ("secretsmanager:Get*", SECRET_ARN + "prod-??", f"Resource::{SECRET_ARN}prod-??"),
        (
            ["secretsmanager:DescribeSecret", "secretsmanager:*"],
            "arn:aws:secretsmanager:*:111122223333:secret:db-??????",
            "Resource::arn:aws:secretsmanager:*:111122223333:secret:db-??????",
        ),
        (
            "secretsmanager:GetSecretValue",
            {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":secretsmanager:eu-west-1:1:secret:app/*"],
                ]
            },
            "Resource::arn:aws:secretsmanager:eu-west-1:1:secret:app/*",
        ),
        (
            "SecretsManager:GetSecretValue",
            {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:1:secret:*"},
            "Resource::arn:aws:secretsmanager:<token>:1:secret:*",
        ),
    ],
    ids=["star", "secret:*", "prefix", "question marks", "region wildcard", "join", "sub"],
)
def test_fails_when_get_secret_value_matches_more_than_named_secrets(
    action: Any, resource_: Any, finding_id: str
) -> None:
    body = {"Resources": {"Policy": policy(allow(action, resource_))}}
    assert found("SecretReadWildcard", body) == [("Policy", finding_id)]


def test_fails_when_get_secret_value_uses_not_resource() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "NotResource": SECRET_ARN + "admin-AbCdEf",
    }
    body = {"Resources": {"Policy": policy(statement)}}
    assert found("SecretReadWildcard", body) == [("Policy", "NotResource")]


def test_fails_in_inline_and_managed_policies_too() -> None:
    statement = allow("secretsmanager:GetSecretValue", "*")
    body = {
        "Resources": {
            "Managed": policy(statement, type_="AWS::IAM::ManagedPolicy"),
            "Role": resource(
                "AWS::IAM::Role",
                AssumeRolePolicyDocument={},
                Policies=[{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}],
            ),
        }
    }
    assert found("SecretReadWildcard", body) == [
        ("Managed", "Resource::*"),
        ("Role", "Resource::*"),
    ]


@pytest.mark.parametrize(
    ("action", "resource_"),
    [
        ("secretsmanager:GetSecretValue", {"Ref": "Db"}),
        ("secretsmanager:GetSecretValue", SECRET_ARN + "prod/db-AbCdEf"),
        # CDK's Secret.from_secret_name_v2: exactly one secret (six random characters).
        ("secretsmanager:GetSecretValue", SECRET_ARN + "prod/db-??????"),
        (
            "secretsmanager:GetSecretValue",
            {"Fn::Join": ["", [{"Ref": "DbArnParameter"}, "-??????"]]},
        ),
        ("secretsmanager:ListSecrets", "*"),
        ("secretsmanager:GetRandomPassword", "*"),
        # A bare '*' action is IAMWildcard's finding, not this rule's.
        ("*", "*"),
    ],
    ids=["ref", "full arn", "name suffix", "ref suffix", "list", "random", "admin"],
)
def test_get_secret_value_on_named_secrets_passes(action: Any, resource_: Any) -> None:
    body = {"Resources": {"Policy": policy(allow(action, resource_))}}
    assert run("SecretReadWildcard", body) == []


def test_a_deny_statement_passes() -> None:
    statement = {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    assert run("SecretReadWildcard", {"Resources": {"Policy": policy(statement)}}) == []


# --- SecretCacheOutlivesRotation ------------------------------------------------------------


def rotating(rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "Db": resource("AWS::SecretsManager::Secret", GenerateSecretString={}),
        "DbRotation": resource(
            "AWS::SecretsManager::RotationSchedule",
            SecretId={"Ref": "Db"},
            RotationLambdaARN={"Fn::GetAtt": ["Rotator", "Arn"]},
            RotationRules=rules,
        ),
    }


def reader(**variables: Any) -> dict[str, Any]:
    return function(Environment={"Variables": {"DB_SECRET_ARN": {"Ref": "Db"}, **variables}})


@pytest.mark.parametrize(
    ("rules", "variables", "finding_id"),
    [
        (
            {"ScheduleExpression": "rate(4 hours)"},
            {"POWERTOOLS_PARAMETERS_MAX_AGE": "18000"},
            "POWERTOOLS_PARAMETERS_MAX_AGE::Db",
        ),
        (
            {"AutomaticallyAfterDays": 1},
            {"POWERTOOLS_PARAMETERS_MAX_AGE": 86401},
            "POWERTOOLS_PARAMETERS_MAX_AGE::Db",
        ),
        (
            {"ScheduleExpression": "rate(1 day)"},
            {"SECRETS_MANAGER_TTL": "90000"},
            "SECRETS_MANAGER_TTL::Db",
        ),
    ],
    ids=["powertools hours", "powertools days", "extension"],
)
def test_fails_when_a_cache_outlives_the_rotation(
    rules: dict[str, Any], variables: dict[str, Any], finding_id: str
) -> None:
    body = {"Resources": {**rotating(rules), "Fn": reader(**variables)}}
    findings = run("SecretCacheOutlivesRotation", body)
    assert [(f.logical_id, f.finding_id) for f in findings] == [("Fn", finding_id)]
    variable = finding_id.split("::")[0]
    assert findings[0].path == f"Properties/Environment/Variables/{variable}"


@pytest.mark.parametrize(
    ("rules", "variables"),
    [
        ({"ScheduleExpression": "rate(4 hours)"}, {"POWERTOOLS_PARAMETERS_MAX_AGE": "300"}),
        ({"AutomaticallyAfterDays": 30}, {"SECRETS_MANAGER_TTL": "300"}),
        ({"ScheduleExpression": "rate(1 day)"}, {"POWERTOOLS_PARAMETERS_MAX_AGE": "86400"}),
        (
            {"ScheduleExpression": "rate(4 hours)"},
            {"SECRETS_MANAGER_TTL": "90000", "PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED": "false"},
        ),
        ({"ScheduleExpression": "cron(0 4 ? * MON *)"}, {"POWERTOOLS_PARAMETERS_MAX_AGE": "90000"}),
    ],
    ids=["shorter", "extension default", "equal", "extension cache off", "cron not judged"],
)
def test_a_cache_within_the_rotation_passes(
    rules: dict[str, Any], variables: dict[str, Any]
) -> None:
    body = {"Resources": {**rotating(rules), "Fn": reader(**variables)}}
    assert run("SecretCacheOutlivesRotation", body) == []


def test_a_cache_of_a_function_not_reading_the_rotating_secret_passes() -> None:
    body = {
        "Resources": {
            **rotating({"ScheduleExpression": "rate(4 hours)"}),
            "Fn": function(Environment={"Variables": {"POWERTOOLS_PARAMETERS_MAX_AGE": "90000"}}),
        }
    }
    assert run("SecretCacheOutlivesRotation", body) == []
