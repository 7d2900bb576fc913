"""SecureFunction: the security promise, asserted on the synthesized template."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns

from secure_constructs import SecureFunction, ValidationError, acknowledge
from secure_constructs.function import shared_dead_letter_queue
from secure_constructs.monitoring import terminal_queue
from secure_constructs.shared import security_key
from tests.synth import (
    ALL_COMPLIANCE,
    VPC_NETWORK_INTERFACE_ACTIONS,
    XRAY_WRITE_ACTIONS,
    Synthesized,
    arn,
    cfn_lint,
    ref,
    statements,
    synth,
    walk,
)
from tests.vpc import acknowledge_test_vpc, compliant_vpc

CODE = "def handler(event, context):\n    return {'ok': True}\n"


def make(stack: cdk.Stack, construct_id: str = "Fn", **props: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **props
    )


def logical_id_of(result: Synthesized, type_: str, path_part: str) -> str:
    """The logical id of the resource of `type_` whose construct path contains `path_part`."""
    found = [
        k
        for k, v in result.resources(type_).items()
        if path_part in v.get("Metadata", {}).get("aws:cdk:path", "")
    ]
    assert len(found) == 1, (type_, path_part, found)
    return found[0]


@pytest.fixture(scope="module")
def default() -> Synthesized:
    return synth(lambda stack: make(stack))


# --- GIVEN nothing but code and handler -------------------------------------------------------


def test_default_is_clean_under_awssolutions_serverless_and_ours(default: Synthesized) -> None:
    assert not default.failed
    assert default.violations == []


def test_default_acknowledges_only_the_unavoidable(default: Synthesized) -> None:
    acknowledged = sorted((pack, rule, path) for pack, rule, path, _ in default.acknowledged)
    assert acknowledged == [
        (
            "AwsSolutions",
            "AwsSolutions-IAM5[Resource::*]",
            "Test/SecureConstructsXRayWritePolicy/Resource",
        ),
        (
            "Serverless",
            "Serverless-SQSRedrivePolicy",
            "Test/SecureConstructsDeadLetterQueue/Resource",
        ),
    ]
    assert all(len(reason) > 40 for *_, reason in default.acknowledged)


def test_function_defaults(default: Synthesized) -> None:
    _, fn = default.only("AWS::Lambda::Function")
    props = fn["Properties"]
    key = default.only("AWS::KMS::Key")[0]
    queue = default.only("AWS::SQS::Queue")[0]
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == 256
    assert props["Timeout"] == 10
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["KmsKeyArn"] == arn(key)
    assert props["DeadLetterConfig"] == {"TargetArn": arn(queue)}
    logging = props["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == "INFO"
    assert logging["LogGroup"] == ref(default.only("AWS::Logs::LogGroup")[0])


def test_role_is_its_own_with_customer_managed_policies_only(default: Synthesized) -> None:
    role_id, role = default.only("AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    assert default.resources("AWS::IAM::Policy") == {}  # no inline policies at all
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]
    for policy in default.resources("AWS::IAM::ManagedPolicy").values():
        assert policy["Properties"]["Roles"] == [ref(role_id)]


def test_role_statements_are_scoped_to_named_resources(default: Synthesized) -> None:
    scoped = logical_id_of(default, "AWS::IAM::ManagedPolicy", "FnServiceRole/Policy/")
    log_group = default.only("AWS::Logs::LogGroup")[0]
    queue = default.only("AWS::SQS::Queue")[0]
    key = default.only("AWS::KMS::Key")[0]
    by_resource: dict[str, tuple[set[str], Any]] = {}
    for statement in statements(default.template, scoped):
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            actions, _ = by_resource.setdefault(str(resource), (set(), statement.get("Condition")))
            actions.update(statement["Action"])
    assert by_resource == {
        str(arn(log_group)): ({"logs:CreateLogStream", "logs:PutLogEvents"}, None),
        str(arn(queue)): ({"sqs:SendMessage"}, None),
        # The stack key also encrypts secrets: only what SQS needs, only through SQS, only for
        # messages of this queue.
        str(arn(key)): (
            {"kms:GenerateDataKey", "kms:Decrypt"},
            {
                "StringEquals": {
                    "kms:ViaService": {
                        "Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                    },
                    "kms:EncryptionContext:aws:sqs:arn": arn(queue),
                }
            },
        ),
    }


def test_only_xray_is_granted_on_star_in_a_policy_of_its_own(default: Synthesized) -> None:
    star_only = logical_id_of(default, "AWS::IAM::ManagedPolicy", "XRayWritePolicy")
    role = default.only("AWS::IAM::Role")[0]
    assert default.template["Resources"][star_only]["Properties"]["Roles"] == [ref(role)]
    assert statements(default.template, star_only) == [
        {
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Effect": "Allow",
            "Resource": ["*"],
        }
    ]


def test_log_group_keeps_logs_a_year_encrypted_with_the_stack_key(default: Synthesized) -> None:
    props = default.props("AWS::Logs::LogGroup")
    assert props["RetentionInDays"] == 365
    assert props["KmsKeyId"] == arn(default.only("AWS::KMS::Key")[0])


def test_stack_key_rotates_and_lets_logs_and_alarms_use_it(default: Synthesized) -> None:
    props = default.props("AWS::KMS::Key")
    assert props["EnableKeyRotation"] is True
    by_sid = {s.get("Sid"): s for s in props["KeyPolicy"]["Statement"]}
    logs_ = by_sid["AllowCloudWatchLogsOfThisAccount"]
    assert all("*" not in action for action in logs_["Action"])
    assert logs_["Principal"] == {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    }
    # Only log groups of this account and region may use the key through CloudWatch Logs.
    assert logs_["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":log-group:*",
                    ],
                ]
            }
        }
    }
    alarms = by_sid["AllowCloudWatchAlarmsToPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    # Only alarms of this account may publish through the key (no confused deputy).
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_async_invocation_is_bounded_with_an_on_failure_destination(default: Synthesized) -> None:
    props = default.props("AWS::Lambda::EventInvokeConfig")
    queue = default.only("AWS::SQS::Queue")[0]
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumEventAgeInSeconds"] == 3600
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": arn(queue)}}


def test_dead_letter_queue_is_encrypted_and_tls_only(default: Synthesized) -> None:
    queue_id, queue = default.only("AWS::SQS::Queue")
    assert queue["Properties"]["KmsMasterKeyId"] == arn(default.only("AWS::KMS::Key")[0])
    policy = default.props("AWS::SQS::QueuePolicy")
    assert policy["Queues"] == [ref(queue_id)]
    [deny] = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_topic_is_encrypted_and_tls_only(default: Synthesized) -> None:
    topic_id, topic = default.only("AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == arn(default.only("AWS::KMS::Key")[0])
    policy = default.props("AWS::SNS::TopicPolicy")
    assert policy["Topics"] == [ref(topic_id)]
    denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert denies and all(
        s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies
    )


def _health_alarms(result: Synthesized) -> dict[str, dict[str, Any]]:
    """Function logical id -> its metric-math alarm: expression, metrics by id, the rest."""
    found: dict[str, dict[str, Any]] = {}
    for props in (a["Properties"] for a in result.resources("AWS::CloudWatch::Alarm").values()):
        if "Metrics" not in props or "ThresholdMetricId" in props:
            continue  # the invocation anomaly alarm (test_observability.py)
        [expression] = [m for m in props["Metrics"] if m.get("ReturnData") is True]
        expressions = {m["Id"]: m["Expression"] for m in props["Metrics"] if "Expression" in m}
        stats = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
        [function] = {
            str(stat["Metric"]["Dimensions"][0]["Value"]["Ref"]) for stat in stats.values()
        }
        found[function] = {
            "expression": expression,
            "expressions": expressions,
            "stats": stats,
            "props": props,
        }
    return found


def _queue_alarm(result: Synthesized, queue: str) -> dict[str, Any]:
    [props] = [
        a["Properties"]
        for a in result.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    return props


def test_one_alarm_watches_errors_throttles_and_duration(default: Synthesized) -> None:
    topic = default.only("AWS::SNS::Topic")[0]
    fn = default.only("AWS::Lambda::Function")[0]
    [(function, health)] = _health_alarms(default).items()
    assert function == fn
    props = health["props"]
    assert props["AlarmActions"] == [ref(topic)]
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["Threshold"] == 0
    assert props["EvaluationPeriods"] == 1
    assert props.get("ActionsEnabled", True) is True
    # Any error or throttle in a minute, or a p99 above 80% of the 10 s timeout (in ms).
    assert health["expressions"] == {
        health["expression"]["Id"]: "MAX([errors, throttles, slow])",
        "slow": "IF(duration > 8000, 1, 0)",
    }
    stats = health["stats"]
    assert {k: (v["Metric"]["MetricName"], v["Stat"]) for k, v in stats.items()} == {
        "errors": ("Errors", "Sum"),
        "throttles": ("Throttles", "Sum"),
        "duration": ("Duration", "p99"),
    }
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/Lambda"
        assert stat["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": ref(fn)}]
        assert stat["Period"] == 60


def test_dead_letter_queue_alarm_reaches_the_topic(default: Synthesized) -> None:
    queue = default.only("AWS::SQS::Queue")[0]
    dlq = _queue_alarm(default, queue)
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Threshold"] == 0
    assert dlq["ComparisonOperator"] == "GreaterThanThreshold"
    assert dlq["AlarmActions"] == [ref(default.only("AWS::SNS::Topic")[0])]
    # the health alarm, the queue's, and the stack's invocation anomaly alarm
    assert len(default.resources("AWS::CloudWatch::Alarm")) == 3


def test_default_template_is_cfn_lint_clean(default: Synthesized) -> None:
    assert cfn_lint(default.template) == []


# --- GIVEN secrets, e-mails, a custom timeout and a second function -------------------------


@pytest.fixture(scope="module")
def with_secret() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        secret = secretsmanager.Secret(stack, "Db", encryption_key=security_key(stack))
        acknowledge(secret, "AwsSolutions-SMG4", "Rotation is the subject of another test module.")
        make(
            stack,
            secrets={"DB": secret},
            environment={"STAGE": "prod"},
            timeout=cdk.Duration.seconds(20),
            alarm_emails=["ops@example.com"],
        )
        make(stack, "Other", alarm_emails=["ops@example.com"])

    return synth(build)


def test_secret_is_passed_as_an_arn_and_read_is_granted_on_exactly_it(
    with_secret: Synthesized,
) -> None:
    assert with_secret.violations == []
    secret = with_secret.only("AWS::SecretsManager::Secret")[0]
    fn = logical_id_of(with_secret, "AWS::Lambda::Function", "Test/Fn/Resource")
    env = with_secret.template["Resources"][fn]["Properties"]["Environment"]["Variables"]
    assert env == {"STAGE": "prod", "DB_SECRET_ARN": ref(secret)}
    policy = logical_id_of(with_secret, "AWS::IAM::ManagedPolicy", "Test/FnServiceRole/Policy/")
    secret_statements = [
        s for s in statements(with_secret.template, policy) if s["Resource"] == [ref(secret)]
    ]
    assert len(secret_statements) == 1
    assert set(secret_statements[0]["Action"]) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }
    other = logical_id_of(with_secret, "AWS::IAM::ManagedPolicy", "Test/OtherServiceRole/Policy/")
    assert all(ref(secret) not in s["Resource"] for s in statements(with_secret.template, other))


def test_no_secret_value_or_dynamic_reference_reaches_the_template(
    with_secret: Synthesized,
) -> None:
    assert not any(isinstance(v, str) and "{{resolve:" in v for v in walk(with_secret.template))


def test_functions_share_one_key_and_one_topic_but_not_roles(with_secret: Synthesized) -> None:
    # One stack key for both functions; the second key is the alarm e-mails' delivery queue's.
    keys = sorted(with_secret.resources("AWS::KMS::Key"))
    assert [k[: -len("D37ED398")] for k in keys] == [
        "SecureConstructsAlarmDeliveryKey",
        "SecureConstructsKey",
    ], keys
    assert len(with_secret.resources("AWS::SNS::Topic")) == 1
    xray = logical_id_of(with_secret, "AWS::IAM::ManagedPolicy", "XRayWritePolicy")
    assert len(with_secret.template["Resources"][xray]["Properties"]["Roles"]) == 2
    roles = {
        str(f["Properties"]["Role"])
        for f in with_secret.resources("AWS::Lambda::Function").values()
    }
    assert len(roles) == 2


def test_alarm_emails_subscribe_once_with_a_dead_letter_queue(with_secret: Synthesized) -> None:
    topic = with_secret.only("AWS::SNS::Topic")[0]
    sub = with_secret.props("AWS::SNS::Subscription")
    assert sub["Protocol"] == "email"
    assert sub["Endpoint"] == "ops@example.com"
    assert sub["TopicArn"] == ref(topic)
    assert "deadLetterTargetArn" in sub["RedrivePolicy"]


def test_undelivered_alarm_emails_raise_an_alarm(with_secret: Synthesized) -> None:
    dlq = logical_id_of(with_secret, "AWS::SQS::Queue", "AlarmSubscriptionDlq/Resource")
    [watch] = [
        a["Properties"]
        for a in with_secret.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]
    ]
    assert watch["Threshold"] == 0
    assert watch["AlarmActions"] == [ref(with_secret.only("AWS::SNS::Topic")[0])]


def test_duration_alarm_follows_the_timeout(with_secret: Synthesized) -> None:
    slow = sorted(a["expressions"]["slow"] for a in _health_alarms(with_secret).values())
    assert slow == ["IF(duration > 16000, 1, 0)", "IF(duration > 8000, 1, 0)"]


def test_functions_share_one_dead_letter_queue_with_one_alarm(with_secret: Synthesized) -> None:
    queue = logical_id_of(with_secret, "AWS::SQS::Queue", "SecureConstructsDeadLetterQueue/")
    functions = with_secret.resources("AWS::Lambda::Function")
    assert len(functions) == 2
    for fn in functions.values():
        assert fn["Properties"]["DeadLetterConfig"] == {"TargetArn": arn(queue)}
    for config in with_secret.resources("AWS::Lambda::EventInvokeConfig").values():
        assert config["Properties"]["DestinationConfig"] == {
            "OnFailure": {"Destination": arn(queue)}
        }
    # One depth alarm for the queue, notifying the one topic once.
    assert _queue_alarm(with_secret, queue)["AlarmActions"] == [
        ref(with_secret.only("AWS::SNS::Topic")[0])
    ]
    # Each role may only send to it (and use the key through SQS for it).
    for name in ("Fn", "Other"):
        policy = logical_id_of(
            with_secret, "AWS::IAM::ManagedPolicy", f"Test/{name}ServiceRole/Policy/"
        )
        sends = [
            s for s in statements(with_secret.template, policy) if "sqs:SendMessage" in s["Action"]
        ]
        assert [(s["Action"], s["Resource"]) for s in sends] == [
            (["sqs:SendMessage"], [arn(queue)])
        ]


# --- GIVEN functions alarming to different topics, and one with a queue of its own ---------


@pytest.fixture(scope="module")
def topics() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        pager = sns.Topic(stack, "Pager", master_key=security_key(stack), enforce_ssl=True)
        make(stack, "Default")
        make(stack, "Paged", alarm_topic=pager)
        make(stack, "AlsoPaged", alarm_topic=pager)
        own = terminal_queue(stack, "OwnDlq", reason="Terminal queue of one function, alarmed.")
        make(stack, "Own", dead_letter_queue=own, alarm_topic=pager)
        make(stack, "SameOwn", dead_letter_queue=own, alarm_topic=pager)

    return synth(build)


def test_shared_queue_alarm_notifies_every_functions_topic_once(topics: Synthesized) -> None:
    assert topics.violations == []
    shared = logical_id_of(topics, "AWS::SQS::Queue", "SecureConstructsDeadLetterQueue/")
    pager = logical_id_of(topics, "AWS::SNS::Topic", "Test/Pager/")
    default_topic = logical_id_of(topics, "AWS::SNS::Topic", "SecureConstructsAlarmTopic")
    actions = _queue_alarm(topics, shared)["AlarmActions"]
    assert sorted(actions, key=str) == sorted([ref(default_topic), ref(pager)], key=str)


def test_a_queue_of_your_own_gets_one_alarm_to_its_functions_topic(topics: Synthesized) -> None:
    own = logical_id_of(topics, "AWS::SQS::Queue", "Test/OwnDlq/")
    pager = logical_id_of(topics, "AWS::SNS::Topic", "Test/Pager/")
    assert _queue_alarm(topics, own)["AlarmActions"] == [ref(pager)]
    for name in ("Own", "SameOwn"):
        fn = logical_id_of(topics, "AWS::Lambda::Function", f"Test/{name}/Resource")
        props = topics.template["Resources"][fn]["Properties"]
        assert props["DeadLetterConfig"] == {"TargetArn": arn(own)}


def test_a_queue_shared_across_stacks_gets_an_alarm_in_each_stack() -> None:
    # GIVEN a queue of stack A used by functions of A and B (each alarming to its own topic)
    app = cdk.App()
    first, second = cdk.Stack(app, "A"), cdk.Stack(app, "B")
    own = terminal_queue(first, "OwnDlq", reason="Terminal queue of two functions, alarmed.")
    make(first, "InA", dead_letter_queue=own)
    make(second, "InB", dead_letter_queue=own)
    # THEN it synthesizes (no A <-> B cycle) and each stack alarms to its own topic
    assembly = app.synth()
    for name in ("A", "B"):
        template = assembly.get_stack_by_name(name).template
        topics = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::SNS::Topic"]
        [alarm_props] = [
            v["Properties"]
            for v in template["Resources"].values()
            if v["Type"] == "AWS::CloudWatch::Alarm"
            and v["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        ]
        assert alarm_props["AlarmActions"] == [ref(topics[0])]


def test_fails_when_a_shared_queue_would_need_more_than_five_alarm_actions() -> None:
    stack = cdk.Stack()
    for i in range(5):
        make(stack, f"Fn{i}", alarm_topic=sns.Topic(stack, f"Topic{i}"))
    with pytest.raises(ValidationError, match=r"^alarm_topic=.*at most 5 different alarm topics"):
        make(stack, "Sixth", alarm_topic=sns.Topic(stack, "Topic5"))


# --- GIVEN a VPC and reserved concurrency: clean under all six packs -------------------------


@pytest.fixture(scope="module")
def in_vpc() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        vpc = compliant_vpc(stack)
        make(stack, vpc=vpc, reserved_concurrent_executions=5)
        acknowledge_test_vpc(stack)

    return synth(build, compliance=ALL_COMPLIANCE)


def test_vpc_function_is_clean_under_all_six_packs(in_vpc: Synthesized) -> None:
    library = [v for v in in_vpc.violations if "/Vpc" not in v[2]]
    assert library == []
    assert not in_vpc.failed, in_vpc.violations


def test_vpc_function_gets_exactly_the_network_interface_actions(in_vpc: Synthesized) -> None:
    actions = {
        a
        for name in ("XRayWritePolicy", "VpcNetworkInterfacePolicy")
        for s in statements(in_vpc.template, logical_id_of(in_vpc, "AWS::IAM::ManagedPolicy", name))
        for a in s["Action"]
    }
    assert actions == XRAY_WRITE_ACTIONS | VPC_NETWORK_INTERFACE_ACTIONS
    fn = logical_id_of(in_vpc, "AWS::Lambda::Function", "Test/Fn/Resource")
    props = in_vpc.template["Resources"][fn]["Properties"]
    assert props["ReservedConcurrentExecutions"] == 5
    assert "SubnetIds" in props["VpcConfig"]


# --- refused input: each names the prop ------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "prop_name"),
    [
        ({"timeout": cdk.Duration.seconds(0)}, "timeout"),
        ({"timeout": cdk.Duration.seconds(901)}, "timeout"),
        ({"memory_size": 127}, "memory_size"),
        ({"memory_size": 10241}, "memory_size"),
        ({"reserved_concurrent_executions": -1}, "reserved_concurrent_executions"),
        ({"retry_attempts": 3}, "retry_attempts"),
        ({"retry_attempts": -1}, "retry_attempts"),
        ({"max_event_age": cdk.Duration.seconds(59)}, "max_event_age"),
        ({"max_event_age": cdk.Duration.seconds(21601)}, "max_event_age"),
        ({"log_retention": logs.RetentionDays.INFINITE}, "log_retention"),
        ({"alarm_emails": ["not-an-email"]}, "alarm_emails"),
    ],
)
def test_fails_when_a_bound_is_broken(props: dict[str, Any], prop_name: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{prop_name}="):
        make(cdk.Stack(), **props)


def test_fails_when_a_role_is_passed() -> None:
    stack = cdk.Stack()
    from aws_cdk import aws_iam as iam

    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValidationError, match=r"^role=.*grant_\*"):
        make(stack, role=role)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow..."),
        ("SESSION", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
        ("DB_PASSWORD", "k9$Lq2!vZx7#Rm4pW8tB"),
        ("API_TOKEN", "{{resolve:secretsmanager:prod/api:SecretString:token}}"),
        ("ANY", "{{resolve:ssm-secure:/prod/db/password}}"),
    ],
)
def test_fails_when_environment_holds_a_secret(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=rf"^environment\['{name}'\]=") as error:
        make(cdk.Stack(), environment={name: value})
    assert value not in str(error.value)  # the refusal never echoes the secret
    assert "secrets=" in str(error.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STAGE", "prod"),
        ("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("TOKEN_TTL", "300"),
    ],
)
def test_plain_configuration_is_accepted(name: str, value: str) -> None:
    make(cdk.Stack(), environment={name: value})


def test_fails_when_a_secret_key_is_not_an_environment_variable_name() -> None:
    stack = cdk.Stack()
    secret = secretsmanager.Secret(stack, "S")
    with pytest.raises(ValidationError, match=r"^secrets='db-main'"):
        make(stack, secrets={"db-main": secret})


def test_fails_when_a_secret_variable_collides_with_environment() -> None:
    stack = cdk.Stack()
    secret = secretsmanager.Secret(stack, "S")
    with pytest.raises(ValidationError, match=r"^secrets='DB'.*DB_SECRET_ARN"):
        make(stack, secrets={"DB": secret}, environment={"DB_SECRET_ARN": "x"})


def test_fails_when_a_function_url_is_public() -> None:
    fn = make(cdk.Stack())
    with pytest.raises(ValidationError, match=r"^auth_type="):
        fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)


def test_function_url_defaults_to_iam_auth() -> None:
    stack = cdk.Stack()
    url = make(stack).add_function_url()
    cfn = url.node.default_child
    assert isinstance(cfn, lambda_.CfnUrl)
    assert cfn.auth_type == "AWS_IAM"


def test_signing_profiles_enforce_code_signing() -> None:
    from aws_cdk import aws_signer as signer

    stack = cdk.Stack()
    profile = signer.SigningProfile(
        stack, "Profile", platform=signer.Platform.AWS_LAMBDA_SHA384_ECDSA
    )
    fn = make(stack, signing_profiles=[profile])
    cfn = fn.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    assert cfn.code_signing_config_arn is not None
    config = stack.node.find_child("FnCodeSigning").node.default_child
    assert isinstance(config, lambda_.CfnCodeSigningConfig)
    policies = stack.resolve(config.code_signing_policies)
    assert policies == {"untrustedArtifactOnDeployment": "Enforce"}


def test_fails_when_signing_profiles_and_a_code_signing_config_are_both_given() -> None:
    from aws_cdk import aws_signer as signer

    stack = cdk.Stack()
    profile = signer.SigningProfile(
        stack, "Profile", platform=signer.Platform.AWS_LAMBDA_SHA384_ECDSA
    )
    config = lambda_.CodeSigningConfig(stack, "Config", signing_profiles=[profile])
    with pytest.raises(ValidationError, match=r"^signing_profiles="):
        make(stack, signing_profiles=[profile], code_signing_config=config)


@pytest.mark.parametrize(
    ("props", "prop_name"),
    [
        ({"timeout": cdk.Duration.millis(1500)}, "timeout"),
        ({"max_event_age": cdk.Duration.millis(90500)}, "max_event_age"),
        ({"memory_size": float("nan")}, "memory_size"),
        ({"reserved_concurrent_executions": float("nan")}, "reserved_concurrent_executions"),
        ({"logging_format": lambda_.LoggingFormat.TEXT}, "logging_format"),
        (
            {"application_log_level_v2": lambda_.ApplicationLogLevel.DEBUG},
            "application_log_level_v2",
        ),
        ({"dead_letter_queue_enabled": False}, "dead_letter_queue_enabled"),
    ],
)
def test_fails_when_a_prop_would_reach_jsii_broken_or_undo_a_default(
    props: dict[str, Any], prop_name: str
) -> None:
    with pytest.raises(ValidationError, match=rf"^{prop_name}="):
        make(cdk.Stack(), **props)


def test_fails_when_a_dead_letter_topic_replaces_the_queue() -> None:
    from aws_cdk import aws_sns as sns

    stack = cdk.Stack()
    with pytest.raises(ValidationError, match=r"^dead_letter_topic="):
        make(stack, dead_letter_topic=sns.Topic(stack, "T"))


def _intent_targets(construct: Any, rule_id: str) -> list[str]:
    """The companions' paths the acknowledge() intent on `construct` covers (checks.gate)."""
    (data,) = [
        m.data
        for m in construct.node.metadata
        if m.type == "secure-constructs:acknowledge" and m.data["id"] == rule_id
    ]
    return list(data["targets"])


def test_acknowledge_reaches_the_resources_made_for_the_function() -> None:
    stack = cdk.Stack()
    fn = make(stack)
    own = terminal_queue(stack, "OwnDlq", reason="Terminal queue of the test function, alarmed.")
    with_own = make(stack, "WithOwn", dead_letter_queue=own)
    reason = "Reviewed: this batch job is bounded upstream."
    for target in (fn, with_own):
        target.acknowledge("SecureServerless::LambdaTimeout", reason)
    covered = _intent_targets(fn, "SecureServerless::LambdaTimeout")
    assert fn.execution_role.node.path in covered
    assert fn.function_log_group.node.path in covered
    assert own.node.path in _intent_targets(with_own, "SecureServerless::LambdaTimeout")
    # Not the queue every function of the stack sends to.
    assert fn.dead_letter_queue is shared_dead_letter_queue(stack)
    assert fn.dead_letter_queue.node.path not in covered
    assert with_own.dead_letter_queue is own


def test_latest_python_runtime_is_the_newest_this_cdk_knows() -> None:
    from secure_constructs.function import latest_python_runtime

    assert latest_python_runtime().name == "python3.14"


def test_a_token_timeout_leaves_duration_out_of_the_alarm() -> None:
    stack = cdk.Stack()
    seconds = cdk.CfnParameter(stack, "Seconds", type="Number").value_as_number
    fn = make(stack, timeout=cdk.Duration.seconds(seconds))
    expression = fn.health_alarm.metric
    assert isinstance(expression, cloudwatch.MathExpression)
    assert expression.expression == "MAX([errors, throttles])"
    warnings = [m for m in fn.node.metadata if m.type == "aws:cdk:warning"]
    assert any("p99 duration" in str(m.data) for m in warnings)


def test_tokens_are_not_compared() -> None:
    stack = cdk.Stack()
    memory = cdk.CfnParameter(stack, "Memory", type="Number").value_as_number
    seconds = cdk.CfnParameter(stack, "Seconds", type="Number").value_as_number
    make(stack, memory_size=memory, timeout=cdk.Duration.seconds(seconds))


def test_tracing_downgrade_adds_a_warning() -> None:
    stack = cdk.Stack()
    fn = make(stack, tracing=lambda_.Tracing.DISABLED)
    warnings = [m for m in fn.node.metadata if m.type == "aws:cdk:warning"]
    assert any("tracing" in str(m.data) for m in warnings)


@pytest.mark.parametrize(
    ("tracing", "mode"),
    [
        (lambda_.Tracing.ACTIVE, "Active"),
        (lambda_.Tracing.PASS_THROUGH, "PassThrough"),
        (lambda_.Tracing.DISABLED, None),
    ],
)
def test_tracing_mode_and_its_xray_grant(tracing: lambda_.Tracing, mode: str | None) -> None:
    """The tracing mode on the function, and the X-Ray upload granted through the stack's one
    X-Ray policy (attached to the role of each traced function, never inline or AWS managed);
    an untraced function's role gets no X-Ray action at all."""

    def build(stack: cdk.Stack) -> None:
        make(stack, tracing=tracing)
        make(stack, "Other")  # traced (ACTIVE): shares the stack's policy

    result = synth(build, checks=False)
    functions = {
        v["Metadata"]["aws:cdk:path"].split("/")[1]: v["Properties"]
        for v in result.resources("AWS::Lambda::Function").values()
    }
    assert functions["Other"]["TracingConfig"] == {"Mode": "Active"}
    assert functions["Fn"].get("TracingConfig") == (None if mode is None else {"Mode": mode})
    roles = {
        v["Metadata"]["aws:cdk:path"].split("/")[1]: k
        for k, v in result.resources("AWS::IAM::Role").items()
    }
    assert result.resources("AWS::IAM::Policy") == {}
    assert all(
        "ManagedPolicyArns" not in r["Properties"]
        for r in result.resources("AWS::IAM::Role").values()
    )
    xray_id = logical_id_of(result, "AWS::IAM::ManagedPolicy", "SecureConstructsXRayWritePolicy")
    xray = result.template["Resources"][xray_id]["Properties"]
    (statement,) = xray["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert sorted(statement["Action"]) == sorted(XRAY_WRITE_ACTIONS)
    assert set(statement) == {"Action", "Effect", "Resource"}
    traced = ["FnServiceRole", "OtherServiceRole"] if mode else ["OtherServiceRole"]
    assert sorted(xray["Roles"], key=str) == sorted([ref(roles[r]) for r in traced], key=str)
    for other_id, policy in result.resources("AWS::IAM::ManagedPolicy").items():
        if other_id != xray_id:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                listed = actions if isinstance(actions, list) else [actions]
                assert not any(a.startswith("xray:") for a in listed)


def test_literal_statements_after_a_list_token_one_stay_in_the_managed_policy() -> None:
    """CDK's `add_to_role_policy` puts a statement whose resources are a list token apart
    from literal ones (an inline policy of its own) once the other kind was added first. The
    X-Ray grant CDK makes for `tracing=` is the function's first, literal statement, so a user's
    literal statements keep landing in the role's customer-managed policy whatever comes
    before them (writing the grant past CDK would send them inline)."""

    def build(stack: cdk.Stack) -> None:
        arns = cdk.CfnParameter(stack, "Arns", type="CommaDelimitedList").value_as_list
        fn = make(stack)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=arns))
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=["arn:aws:s3:::b/*"])
        )

    result = synth(build, checks=False)
    scoped = logical_id_of(result, "AWS::IAM::ManagedPolicy", "FnServiceRole/Policy/")
    actions = {
        a
        for s in statements(result.template, scoped)
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "s3:PutObject" in actions
    inline = [
        a
        for policy in result.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert "s3:PutObject" not in inline


def test_a_subclass_with_value_equality_gets_its_own_cold_start_metric() -> None:
    """The function's name is cached by jsii reference, not by Python object: a subclass that
    defines __eq__ (and so is unhashable) builds, and each function's metric filter publishes
    under its own name."""

    class Named(SecureFunction):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named)

    def build(stack: cdk.Stack) -> None:
        for construct_id in ("A", "B"):
            Named(
                stack,
                construct_id,
                code=lambda_.Code.from_inline(CODE),
                handler="index.handler",
            )

    result = synth(build, checks=False)
    functions = {
        v["Metadata"]["aws:cdk:path"].split("/")[1]: k
        for k, v in result.resources("AWS::Lambda::Function").items()
    }
    names = {
        v["Metadata"]["aws:cdk:path"].split("/")[1]: v["Properties"]["MetricTransformations"][0][
            "MetricName"
        ]
        for v in result.resources("AWS::Logs::MetricFilter").values()
    }
    assert names == {"A": ref(functions["A"]), "B": ref(functions["B"])}
