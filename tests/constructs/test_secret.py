"""SecureSecret, SecretRotation and SecretsCache: what the template promises, and refused input."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

from secure_constructs import LambdaExecutionRole, SecureFunction, ValidationError
from secure_constructs.secret import SecretRotation, SecureSecret
from secure_constructs.secrets_cache import SecretsCache
from tests.synth import ALL_COMPLIANCE, Synthesized, arn, cfn_lint, ref, statements, synth, walk
from tests.vpc import acknowledge_test_vpc, compliant_vpc

CODE = "def handler(event, context):\n    return None\n"
NONE_REASON = "Vendor API key: the vendor has no rotation API; renewed by hand every 90 days."
# A value that must never appear in a template (built so no scanner takes this file for a leak).
PLAIN = "correct-horse-" + "battery-staple"


def make(stack: cdk.Stack, construct_id: str, **props: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **props
    )


def path_of(result: Synthesized, type_: str, path: str) -> str:
    """The logical id of the resource of `type_` whose construct path is exactly `path`."""
    found = [
        k
        for k, v in result.resources(type_).items()
        if v.get("Metadata", {}).get("aws:cdk:path") == path
    ]
    assert len(found) == 1, (type_, path, found)
    return found[0]


VIA_SECRETS_MANAGER = {
    "StringEquals": {
        "kms:ViaService": {
            "Fn::Join": ["", ["secretsmanager.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
        }
    }
}


# --- GIVEN a rotated secret, readers through each cache, in a VPC, under all six packs -------


@pytest.fixture(scope="module")
def app() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        vpc = compliant_vpc(stack)
        in_vpc = {"vpc": vpc, "reserved_concurrent_executions": 2}
        rotator = make(stack, "Rotator", **in_vpc)
        secret = SecureSecret(
            stack, "Db", rotation=SecretRotation.function(rotator, every=cdk.Duration.days(30))
        )
        make(
            stack,
            "ExtensionReader",
            secrets={"DB": secret},
            secrets_cache=SecretsCache.extension(ttl=cdk.Duration.minutes(2)),
            **in_vpc,
        )
        make(
            stack,
            "PowertoolsReader",
            secrets={"DB": secret},
            secrets_cache=SecretsCache.powertools(max_age=cdk.Duration.minutes(10)),
            **in_vpc,
        )
        own_key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
        vendor = SecureSecret(
            stack,
            "VendorKey",
            rotation=SecretRotation.none(reason=NONE_REASON),
            encryption_key=own_key,
        )
        vendor.grant_read(LambdaExecutionRole(stack, "StagedReader"), version_stages=["AWSCURRENT"])
        acknowledge_test_vpc(stack)

    return synth(build, compliance=ALL_COMPLIANCE)


def test_clean_under_all_six_packs_and_ours(app: Synthesized) -> None:
    library = [v for v in app.violations if "/Vpc" not in v[2]]
    assert library == []
    assert not app.failed, app.violations


# What acknowledge_test_vpc accepts on the test's own VPC scaffolding, exactly.
TEST_VPC_ACKNOWLEDGED = {
    (f"{pack}-{rule}", path)
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    for rule, path in (
        ("IAMNoInlinePolicy", "Test/Vpc/FlowLog/IAMRole/DefaultPolicy/Resource"),
        ("VPCDefaultSecurityGroupClosed", "Test/Vpc/Resource"),
    )
}
STAR_ONLY = "AwsSolutions-IAM5[Resource::*]"
TERMINAL_DLQ = "Serverless-SQSRedrivePolicy"


def test_acknowledges_only_the_unavoidable(app: Synthesized) -> None:
    acknowledged = sorted((rule, path) for _, rule, path, _ in app.acknowledged)
    library = [a for a in acknowledged if a not in TEST_VPC_ACKNOWLEDGED]
    assert set(acknowledged) - set(library) == TEST_VPC_ACKNOWLEDGED
    assert library == sorted(
        [
            # GetRandomPassword (rotation) has no resource type: Resource "*" only.
            (STAR_ONLY, "Test/RotatorServiceRole/StarOnlyPolicy/Resource"),
            (STAR_ONLY, "Test/SecureConstructsVpcNetworkInterfacePolicy/Resource"),
            (STAR_ONLY, "Test/SecureConstructsXRayWritePolicy/Resource"),
            ("AwsSolutions-SMG4", "Test/VendorKey/Resource"),
            ("NIST.800.53.R5-SecretsManagerRotationEnabled", "Test/VendorKey/Resource"),
            ("HIPAA.Security-SecretsManagerRotationEnabled", "Test/VendorKey/Resource"),
            ("AwsSolutions-SQS3", "Test/SecureConstructsRotationEventsDlq/Resource"),
            (TERMINAL_DLQ, "Test/SecureConstructsRotationEventsDlq/Resource"),
            # The readers and the rotator share the stack's function dead-letter queue.
            (TERMINAL_DLQ, "Test/SecureConstructsDeadLetterQueue/Resource"),
        ]
    )
    reasons: dict[str, set[str]] = {}
    for _, _, path, reason in app.acknowledged:
        reasons.setdefault(path, set()).add(reason)
    assert reasons["Test/VendorKey/Resource"] == {NONE_REASON}
    (star_only,) = reasons["Test/RotatorServiceRole/StarOnlyPolicy/Resource"]
    assert "Secrets Manager GetRandomPassword for rotation" in star_only


def test_template_is_cfn_lint_clean(app: Synthesized) -> None:
    assert cfn_lint(app.template) == []


def test_no_secret_value_or_dynamic_reference_reaches_the_template(app: Synthesized) -> None:
    strings = [v for v in walk(app.template) if isinstance(v, str)]
    assert not any("{{resolve:secretsmanager" in v or "{{resolve:ssm-secure" in v for v in strings)
    secrets = app.resources("AWS::SecretsManager::Secret")
    assert all("SecretString" not in s["Properties"] for s in secrets.values())
    assert all(s["Properties"]["GenerateSecretString"] == {} for s in secrets.values())


def test_secret_is_retained_and_encrypted_with_the_stack_key_by_default(app: Synthesized) -> None:
    secret = app.template["Resources"][
        path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    ]
    key = path_of(app, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    assert secret["Properties"]["KmsKeyId"] == arn(key)
    assert secret["DeletionPolicy"] == "Retain"
    assert secret["UpdateReplacePolicy"] == "Retain"


def test_encryption_key_overrides_the_stack_key(app: Synthesized) -> None:
    vendor = path_of(app, "AWS::SecretsManager::Secret", "Test/VendorKey/Resource")
    own_key = path_of(app, "AWS::KMS::Key", "Test/OwnKey/Resource")
    assert app.template["Resources"][vendor]["Properties"]["KmsKeyId"] == arn(own_key)


def test_rotation_schedule_invokes_the_function_every_30_days(app: Synthesized) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    rotator = path_of(app, "AWS::Lambda::Function", "Test/Rotator/Resource")
    _, schedule = app.only("AWS::SecretsManager::RotationSchedule")
    assert schedule["Properties"] == {
        "SecretId": ref(secret),
        "RotationLambdaARN": arn(rotator),
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
    }
    permission = path_of(app, "AWS::Lambda::Permission", "Test/Db/RotationPermission")
    policies = {
        path_of(app, "AWS::IAM::ManagedPolicy", "Test/RotatorServiceRole/Policy/Resource"),
        path_of(app, "AWS::IAM::ManagedPolicy", "Test/RotatorServiceRole/StarOnlyPolicy/Resource"),
    }
    assert {permission, *policies} <= set(schedule["DependsOn"])


def test_only_secrets_manager_may_invoke_the_rotation_function_for_this_secret(
    app: Synthesized,
) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    rotator = path_of(app, "AWS::Lambda::Function", "Test/Rotator/Resource")
    permissions = [
        p["Properties"]
        for p in app.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == arn(rotator)
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": arn(rotator),
            "Principal": "secretsmanager.amazonaws.com",
            "SourceArn": ref(secret),
            "SourceAccount": {"Ref": "AWS::AccountId"},
        }
    ]


def test_rotation_function_gets_exactly_what_rotation_needs(app: Synthesized) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    key = path_of(app, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    scoped = path_of(app, "AWS::IAM::ManagedPolicy", "Test/RotatorServiceRole/Policy/Resource")
    on_secret = [s for s in statements(app.template, scoped) if s["Resource"] == [ref(secret)]]
    assert on_secret == [
        {
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": [ref(secret)],
        }
    ]
    via_secrets_manager = [
        s for s in statements(app.template, scoped) if "secretsmanager." in str(s.get("Condition"))
    ]
    assert via_secrets_manager == [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [arn(key)],
            "Condition": VIA_SECRETS_MANAGER,
        }
    ]
    star_only = path_of(
        app, "AWS::IAM::ManagedPolicy", "Test/RotatorServiceRole/StarOnlyPolicy/Resource"
    )
    random = [s for s in statements(app.template, star_only) if "secretsmanager" in s["Action"][0]]
    assert random == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetRandomPassword"], "Resource": ["*"]}
    ]


def test_grant_read_is_on_the_full_arn_with_decrypt_through_secrets_manager_only(
    app: Synthesized,
) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    key = path_of(app, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    policy = path_of(
        app, "AWS::IAM::ManagedPolicy", "Test/ExtensionReaderServiceRole/Policy/Resource"
    )
    on_secret = [s for s in statements(app.template, policy) if s["Resource"] == [ref(secret)]]
    assert on_secret == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [ref(secret)],
        }
    ]
    decrypt = [
        s for s in statements(app.template, policy) if "secretsmanager." in str(s.get("Condition"))
    ]
    assert decrypt == [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [arn(key)],
            "Condition": VIA_SECRETS_MANAGER,
        }
    ]
    assert not any(
        isinstance(v, str) and v.endswith("-??????") for v in walk(app.template["Resources"])
    )


def test_grant_read_with_version_stages_limits_the_stage(app: Synthesized) -> None:
    vendor = path_of(app, "AWS::SecretsManager::Secret", "Test/VendorKey/Resource")
    own_key = path_of(app, "AWS::KMS::Key", "Test/OwnKey/Resource")
    policy = path_of(app, "AWS::IAM::ManagedPolicy", "Test/StagedReader/Policy/Resource")
    assert statements(app.template, policy) == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [ref(vendor)],
            "Condition": {
                "ForAnyValue:StringEquals": {"secretsmanager:VersionStage": ["AWSCURRENT"]}
            },
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [arn(own_key)],
            "Condition": VIA_SECRETS_MANAGER,
        },
    ]


def test_a_rotation_failure_reaches_the_alarm_topic(app: Synthesized) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    topic = path_of(app, "AWS::SNS::Topic", "Test/SecureConstructsAlarmTopic/Resource")
    dlq = path_of(app, "AWS::SQS::Queue", "Test/SecureConstructsRotationEventsDlq/Resource")
    rule = path_of(app, "AWS::Events::Rule", "Test/Db/RotationFailedRule/Resource")
    props = app.template["Resources"][rule]["Properties"]
    assert props["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": ["RotationFailed"],
            "additionalEventData": {"SecretId": [ref(secret)]},
        },
    }
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == ref(topic)
    assert target["DeadLetterConfig"] == {"Arn": arn(dlq)}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    # A secret that does not rotate cannot fail to rotate: no rule.
    assert len(app.resources("AWS::Events::Rule")) == 1


def test_eventbridge_may_publish_to_the_encrypted_topic(app: Synthesized) -> None:
    key = app.template["Resources"][
        path_of(app, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    ]
    ours = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AllowEventBridgeToPublishEncrypted"
    ]
    # Ours covers the stack key (topic and dead-letter queue) whatever topic the secret uses;
    # CDK's SnsTopic target adds its own statement for the topic's key as well.
    assert ours == [
        {
            "Sid": "AllowEventBridgeToPublishEncrypted",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    topic_policies = [
        s
        for p in app.resources("AWS::SNS::TopicPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert [s["Action"] for s in topic_policies] == ["sns:Publish"]


def test_undeliverable_events_land_in_an_encrypted_tls_only_queue_with_an_alarm(
    app: Synthesized,
) -> None:
    dlq = path_of(app, "AWS::SQS::Queue", "Test/SecureConstructsRotationEventsDlq/Resource")
    key = path_of(app, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    topic = path_of(app, "AWS::SNS::Topic", "Test/SecureConstructsAlarmTopic/Resource")
    assert app.template["Resources"][dlq]["Properties"]["KmsMasterKeyId"] == arn(key)
    tls = [
        s
        for p in app.resources("AWS::SQS::QueuePolicy").values()
        if ref(dlq) in p["Properties"]["Queues"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
    ]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarm = app.template["Resources"][
        path_of(
            app,
            "AWS::CloudWatch::Alarm",
            "Test/SecureConstructsRotationEventsDlq/NotEmptyAlarm/Resource",
        )
    ]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}
    ]
    assert alarm["Threshold"] == 0
    assert alarm["AlarmActions"] == [ref(topic)]


def test_extension_cache_adds_the_layer_and_its_ttl(app: Synthesized) -> None:
    secret = path_of(app, "AWS::SecretsManager::Secret", "Test/Db/Resource")
    fn = app.template["Resources"][
        path_of(app, "AWS::Lambda::Function", "Test/ExtensionReader/Resource")
    ]["Properties"]
    variables = fn["Environment"]["Variables"]
    assert variables["DB_SECRET_ARN"] == ref(secret)
    assert variables["PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED"] == "true"
    assert variables["SECRETS_MANAGER_TTL"] == "120"
    (layer,) = fn["Layers"]
    mapping, _, version = layer["Fn::FindInMap"]
    assert version == "1x0x103xarm64"
    arns = app.template["Mappings"][mapping]
    assert arns["eu-west-1"][version].startswith("arn:aws:lambda:eu-west-1:")
    assert "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64" in arns["eu-west-1"][version]


def test_powertools_cache_adds_the_layer_from_the_public_ssm_parameter(app: Synthesized) -> None:
    fn = app.template["Resources"][
        path_of(app, "AWS::Lambda::Function", "Test/PowertoolsReader/Resource")
    ]["Properties"]
    assert fn["Environment"]["Variables"]["POWERTOOLS_PARAMETERS_MAX_AGE"] == "600"
    assert "SECRETS_MANAGER_TTL" not in fn["Environment"]["Variables"]
    (layer,) = fn["Layers"]
    parameter = app.template["Parameters"][layer["Ref"]]
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/aws/service/powertools/python/arm64/python3.14/latest",
    }


# --- GIVEN a hosted rotation --------------------------------------------------------------------


def test_hosted_rotation_schedules_the_hosted_function() -> None:
    def build(stack: cdk.Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
        SecureSecret(
            stack,
            "Db",
            rotation=SecretRotation.hosted(
                secretsmanager.HostedRotation.postgre_sql_single_user(vpc=vpc),
                every=cdk.Duration.hours(6),
            ),
        )

    result = synth(build, checks=False)
    props = result.props("AWS::SecretsManager::RotationSchedule")
    assert props["RotationRules"] == {"ScheduleExpression": "rate(6 hours)"}
    assert props["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
    key = path_of(result, "AWS::KMS::Key", "Test/SecureConstructsKey/Resource")
    assert props["HostedRotationLambda"]["KmsKeyArn"] == arn(key)
    assert len(result.resources("AWS::Events::Rule")) == 1


# --- Refused input --------------------------------------------------------------------------


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test")


@pytest.fixture
def rotator(stack: cdk.Stack) -> SecureFunction:
    return make(stack, "Rotator")


def test_fails_when_rotation_is_missing(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^rotation=None .*SecretRotation\.none"):
        SecureSecret(stack, "Db")


@pytest.mark.parametrize(
    "every",
    [
        cdk.Duration.hours(3),
        cdk.Duration.days(366),
        cdk.Duration.minutes(270),
        cdk.Duration.hours(30),
    ],
    ids=["under 4 hours", "over 365 days", "not whole hours", "not whole days"],
)
def test_fails_when_the_rotation_interval_is_out_of_range(
    rotator: SecureFunction, every: cdk.Duration
) -> None:
    with pytest.raises(ValidationError, match=r"^every=.*4 hours to 365 days"):
        SecretRotation.function(rotator, every=every)
    with pytest.raises(ValidationError, match=r"^every="):
        SecretRotation.hosted(secretsmanager.HostedRotation.mysql_single_user(), every=every)


def test_fails_when_the_rotation_function_is_not_a_secure_function(stack: cdk.Stack) -> None:
    plain = lambda_.Function(
        stack,
        "Plain",
        code=lambda_.Code.from_inline(CODE),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
    )
    with pytest.raises(ValidationError, match=r"^rotation_function='Function' .*SecureFunction"):
        SecretRotation.function(plain)  # type: ignore[arg-type]


def test_fails_when_hosted_rotation_is_not_a_hosted_rotation(rotator: SecureFunction) -> None:
    with pytest.raises(ValidationError, match=r"^hosted_rotation="):
        SecretRotation.hosted(rotator)  # type: ignore[arg-type]


@pytest.mark.parametrize("reason", ["", "   ", "too short", "not needed here", "false positive"])
def test_fails_when_no_rotation_has_no_reason(reason: str) -> None:
    with pytest.raises(ValidationError, match=r"^reason=.*at least 4 words and 10 characters"):
        SecretRotation.none(reason=reason)


def test_fails_when_no_rotation_reason_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^reason=.*not a token"):
        SecretRotation.none(reason=cdk.Fn.import_value("RotationReason"))


def test_fails_when_the_secret_value_is_a_literal(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^secret_string_value='<redacted") as error:
        SecureSecret(
            stack,
            "Db",
            rotation=SecretRotation.none(reason=NONE_REASON),
            secret_string_value=cdk.SecretValue.unsafe_plain_text(PLAIN),
        )
    assert PLAIN not in str(error.value)


def test_fails_when_a_secret_object_field_is_a_literal(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^secret_object_value\['password'\]=") as error:
        SecureSecret(
            stack,
            "Db",
            rotation=SecretRotation.none(reason=NONE_REASON),
            secret_object_value={
                "username": cdk.SecretValue.ssm_secure("/app/username"),
                "password": cdk.SecretValue.unsafe_plain_text(PLAIN),
            },
        )
    assert PLAIN not in str(error.value)


def test_fails_when_the_deprecated_secret_string_beta1_is_given(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^secret_string_beta1="):
        SecureSecret(
            stack,
            "Db",
            rotation=SecretRotation.none(reason=NONE_REASON),
            secret_string_beta1=secretsmanager.SecretStringValueBeta1.from_unsafe_plaintext(PLAIN),
        )


def test_a_token_secret_value_is_accepted(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Key")
    secret = SecureSecret(
        stack,
        "Db",
        rotation=SecretRotation.none(reason=NONE_REASON),
        secret_string_value=cdk.SecretValue.resource_attribute(key.key_arn),
    )
    assert secret.rotation_interval is None


def test_removal_policy_other_than_retain_warns(stack: cdk.Stack) -> None:
    SecureSecret(
        stack,
        "Db",
        rotation=SecretRotation.none(reason=NONE_REASON),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    warnings = cdk.assertions.Annotations.from_stack(stack).find_warning(
        "*", cdk.assertions.Match.string_like_regexp("removal_policy")
    )
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "ttl",
    [cdk.Duration.seconds(0), cdk.Duration.seconds(301), cdk.Duration.millis(1500)],
    ids=["zero", "over 300 s", "not whole seconds"],
)
def test_fails_when_the_extension_ttl_is_out_of_range(ttl: cdk.Duration) -> None:
    with pytest.raises(ValidationError, match=r"^ttl=.*1 to 300 seconds"):
        SecretsCache.extension(ttl=ttl)


def test_fails_when_the_powertools_max_age_is_zero() -> None:
    with pytest.raises(ValidationError, match=r"^max_age='0 seconds'"):
        SecretsCache.powertools(max_age=cdk.Duration.seconds(0))


def test_fails_when_the_powertools_version_is_not_a_release() -> None:
    with pytest.raises(ValidationError, match=r"^version="):
        SecretsCache.powertools(version="../latest")


def test_fails_when_the_cache_outlives_the_rotation(
    stack: cdk.Stack, rotator: SecureFunction
) -> None:
    secret = SecureSecret(
        stack, "Db", rotation=SecretRotation.function(rotator, every=cdk.Duration.hours(4))
    )
    with pytest.raises(
        ValidationError, match=r"^secrets_cache='a cache TTL of 18000 seconds' .*secrets\['DB'\]"
    ):
        make(
            stack,
            "Reader",
            secrets={"DB": secret},
            secrets_cache=SecretsCache.powertools(max_age=cdk.Duration.hours(5)),
        )


def test_fails_when_secrets_cache_is_not_a_secrets_cache(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^secrets_cache='Duration'"):
        make(stack, "Reader", secrets_cache=cdk.Duration.minutes(5))


def test_fails_when_powertools_cache_is_asked_for_a_non_python_runtime(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^secrets_cache=.*nodejs.*Python runtime"):
        make(
            stack,
            "Reader",
            runtime=lambda_.Runtime.NODEJS_22_X,
            secrets_cache=SecretsCache.powertools(),
        )


def test_fails_when_params_and_secrets_is_given_with_secrets_cache(stack: cdk.Stack) -> None:
    layer = lambda_.ParamsAndSecretsLayerVersion.from_version(
        lambda_.ParamsAndSecretsVersions.V1_0_103
    )
    with pytest.raises(ValidationError, match=r"^params_and_secrets=.*not both"):
        make(
            stack,
            "Reader",
            params_and_secrets=layer,
            secrets_cache=SecretsCache.extension(),
        )


def test_fails_when_max_age_is_also_set_in_environment(stack: cdk.Stack) -> None:
    with pytest.raises(ValidationError, match=r"^environment\['POWERTOOLS_PARAMETERS_MAX_AGE'\]="):
        make(
            stack,
            "Reader",
            environment={"POWERTOOLS_PARAMETERS_MAX_AGE": "5"},
            secrets_cache=SecretsCache.powertools(),
        )
