"""forward_logs: every log group of the stack subscribed to the destination, with a
least-privilege role for Kinesis and Firehose and none for a CloudWatch Logs destination."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from secure_constructs import (
    ApiAuth,
    LogDestination,
    SecureApi,
    SecureFunction,
    ValidationError,
    forward_logs,
)
from secure_constructs.shared import security_key
from tests.synth import ALL_COMPLIANCE, Synthesized, arn, cfn_lint, ref, statements, synth
from tests.vpc import acknowledge_test_vpc, compliant_vpc

CODE = "def handler(event, context):\n    return None\n"
SIEM_ARN = "arn:aws:logs:eu-west-1:111122223333:destination:central-siem"
EU = cdk.Environment(account="444455556666", region="eu-west-1")
FORWARDING = "SecureConstructsLogForwarding"


def make_function(stack: cdk.Stack, construct_id: str, **options: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **options
    )


def service(stack: cdk.Stack) -> None:
    """A function behind an API (function, access and web ACL log groups) in the test VPC, and a
    log group of the user's own, made after forward_logs in `forwarded`."""
    vpc = compliant_vpc(stack)
    handler = make_function(stack, "Handler", vpc=vpc, reserved_concurrent_executions=5)
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    api.add_route("GET", "/items/{id}", handler)
    acknowledge_test_vpc(stack)


def forwarded(destination: LogDestination) -> Any:
    def build(stack: cdk.Stack) -> None:
        service(stack)
        forward_logs(stack, destination=destination)
        logs.LogGroup(  # made after the call: still forwarded
            stack,
            "Audit",
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=security_key(stack),
        )

    return build


def by_type(s: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return s.resources(type_)


def filters_by_group(s: Synthesized) -> dict[str, dict[str, Any]]:
    """log group logical id -> its subscription filter's properties (one each)."""
    found: dict[str, dict[str, Any]] = {}
    for resource in by_type(s, "AWS::Logs::SubscriptionFilter").values():
        props = resource["Properties"]
        group = props["LogGroupName"]["Ref"]
        assert group not in found, f"{group} has two forwarding filters"
        found[group] = {**props, "DependsOn": resource.get("DependsOn", [])}
    return found


def logical_id(s: Synthesized, type_: str, path: str) -> str:
    (found,) = [
        k
        for k, v in by_type(s, type_).items()
        if v.get("Metadata", {}).get("aws:cdk:path") == f"Test/{path}"
    ]
    return found


@pytest.fixture(scope="module")
def to_kinesis() -> Synthesized:
    return synth(forwarded(LogDestination.kinesis()), compliance=ALL_COMPLIANCE)


@pytest.fixture(scope="module")
def to_siem() -> Synthesized:
    return synth(
        forwarded(LogDestination.cloudwatch_destination(SIEM_ARN)),
        compliance=ALL_COMPLIANCE,
        env=EU,
    )


# -- Kinesis (a stream of our own) ----------------------------------------------------------


def test_kinesis_forwarding_is_clean_under_all_six_packs(to_kinesis: Synthesized) -> None:
    assert not to_kinesis.failed, to_kinesis.violations
    assert to_kinesis.violations == []


def test_kinesis_forwarding_template_is_cfn_lint_clean(to_kinesis: Synthesized) -> None:
    assert cfn_lint(to_kinesis.template) == []


def test_every_log_group_of_the_stack_is_subscribed_to_the_stream(to_kinesis: Synthesized) -> None:
    stream = logical_id(to_kinesis, "AWS::Kinesis::Stream", f"{FORWARDING}/Stream/Resource")
    role = logical_id(to_kinesis, "AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    policy = logical_id(to_kinesis, "AWS::IAM::ManagedPolicy", f"{FORWARDING}/Policy/Resource")
    groups = set(by_type(to_kinesis, "AWS::Logs::LogGroup"))
    filters = filters_by_group(to_kinesis)
    # function, API access log, web ACL log, VPC flow log (the user's), and one made afterwards
    assert set(filters) == groups and len(groups) == 5
    for props in filters.values():
        assert props["DestinationArn"] == arn(stream)
        assert props["RoleArn"] == arn(role)
        assert props["FilterPattern"] == ""
        assert policy in props["DependsOn"]  # the role can put records before the filter exists
    assert to_kinesis.template["Metadata"]["SecureConstructs::LogForwarding"] == {
        "DestinationArn": arn(stream)
    }


def test_only_cloudwatch_logs_of_this_account_and_region_can_assume_the_role(
    to_kinesis: Synthesized,
) -> None:
    role = logical_id(to_kinesis, "AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    props = to_kinesis.template["Resources"][role]["Properties"]
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringLike": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":*",
                    ],
                ]
            }
        }
    }
    assert "Policies" not in props and "ManagedPolicyArns" not in props


def test_the_role_may_only_put_records_into_the_stream_with_its_key(
    to_kinesis: Synthesized,
) -> None:
    stream = logical_id(to_kinesis, "AWS::Kinesis::Stream", f"{FORWARDING}/Stream/Resource")
    role = logical_id(to_kinesis, "AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    policy = logical_id(to_kinesis, "AWS::IAM::ManagedPolicy", f"{FORWARDING}/Policy/Resource")
    key = logical_id(to_kinesis, "AWS::KMS::Key", "SecureConstructsKey/Resource")
    assert to_kinesis.template["Resources"][policy]["Properties"]["Roles"] == [ref(role)]
    put, use_key = statements(to_kinesis.template, policy)
    assert put == {
        "Effect": "Allow",
        "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
        "Resource": [arn(stream)],
    }
    assert use_key == {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey"],
        "Resource": [arn(key)],
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:kinesis:arn": arn(stream)}},
    }
    stream_props = to_kinesis.template["Resources"][stream]["Properties"]
    assert stream_props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": arn(key)}


def test_the_stack_key_policy_is_not_widened_for_the_stream(to_kinesis: Synthesized) -> None:
    # The role's IAM policy is what lets CloudWatch Logs use the key (the key policy already
    # delegates to IAM): the key policy is the same as without forwarding.
    plain = synth(service, checks=False)
    key = logical_id(to_kinesis, "AWS::KMS::Key", "SecureConstructsKey/Resource")
    policy = to_kinesis.template["Resources"][key]["Properties"]["KeyPolicy"]
    assert policy == plain.template["Resources"][key]["Properties"]["KeyPolicy"]
    assert "kinesis" not in str(policy)


# -- CloudWatch Logs destination (another account) ------------------------------------------


def test_a_logs_destination_gets_every_group_and_no_role(to_siem: Synthesized) -> None:
    assert not to_siem.failed, to_siem.violations
    assert to_siem.violations == []
    filters = filters_by_group(to_siem)
    assert set(filters) == set(by_type(to_siem, "AWS::Logs::LogGroup"))
    for props in filters.values():
        assert props["DestinationArn"] == SIEM_ARN
        assert "RoleArn" not in props
    assert not [
        k
        for k, v in by_type(to_siem, "AWS::IAM::Role").items()
        if FORWARDING in v["Metadata"]["aws:cdk:path"]
    ]


# -- a stream of the user's --------------------------------------------------------------------


def test_a_given_stream_with_its_own_key_gets_exactly_that_stream_and_key() -> None:
    def build(stack: cdk.Stack) -> None:
        key = kms.Key(stack, "SiemKey", enable_key_rotation=True)
        stream = kinesis.Stream(
            stack, "Siem", encryption=kinesis.StreamEncryption.KMS, encryption_key=key
        )
        make_function(stack, "Fn")
        forward_logs(stack, destination=LogDestination.kinesis(stream), filter_pattern="ERROR")

    s = synth(build, checks=False)
    stream = logical_id(s, "AWS::Kinesis::Stream", "Siem/Resource")
    key = logical_id(s, "AWS::KMS::Key", "SiemKey/Resource")
    policy = logical_id(s, "AWS::IAM::ManagedPolicy", f"{FORWARDING}/Policy/Resource")
    put, use_key = statements(s.template, policy)
    assert put["Resource"] == [arn(stream)]
    assert use_key["Resource"] == [arn(key)]
    (props,) = filters_by_group(s).values()
    assert props["FilterPattern"] == "ERROR" and props["DestinationArn"] == arn(stream)


def test_an_imported_stream_without_a_key_gets_only_the_put_actions() -> None:
    stream_arn = "arn:aws:kinesis:us-east-1:444455556666:stream/siem"

    def build(stack: cdk.Stack) -> None:
        stream = kinesis.Stream.from_stream_arn(stack, "Siem", stream_arn)
        make_function(stack, "Fn")
        forward_logs(stack, destination=LogDestination.kinesis(stream))

    s = synth(build, checks=False)
    policy = logical_id(s, "AWS::IAM::ManagedPolicy", f"{FORWARDING}/Policy/Resource")
    assert statements(s.template, policy) == [
        {
            "Effect": "Allow",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
            "Resource": [stream_arn],
        }
    ]


# -- Firehose ----------------------------------------------------------------------------------


def _delivery_stream(stack: cdk.Stack, **options: Any) -> firehose.DeliveryStream:
    bucket = s3.Bucket(stack, "Archive", enforce_ssl=True)
    return firehose.DeliveryStream(
        stack, "ToSiem", destination=firehose.S3Bucket(bucket), **options
    )


def test_firehose_gets_put_record_and_batch_on_exactly_that_stream() -> None:
    def build(stack: cdk.Stack) -> None:
        stream = _delivery_stream(
            stack, encryption=firehose.StreamEncryption.customer_managed_key(security_key(stack))
        )
        make_function(stack, "Fn")
        forward_logs(stack, destination=LogDestination.firehose(stream))

    s = synth(build, checks=False)
    delivery = logical_id(s, "AWS::KinesisFirehose::DeliveryStream", "ToSiem/Resource")
    role = logical_id(s, "AWS::IAM::Role", f"{FORWARDING}/Role/Resource")
    policy = logical_id(s, "AWS::IAM::ManagedPolicy", f"{FORWARDING}/Policy/Resource")
    assert statements(s.template, policy) == [
        {
            "Effect": "Allow",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": [arn(delivery)],
        }
    ]
    trust = s.template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "logs.amazonaws.com"}
    assert "aws:SourceArn" in trust["Statement"][0]["Condition"]["StringLike"]
    filters = filters_by_group(s)
    assert filters and all(p["DestinationArn"] == arn(delivery) for p in filters.values())
    # the delivery stream's own error log is never forwarded into it
    own = [
        k
        for k, v in by_type(s, "AWS::Logs::LogGroup").items()
        if v["Metadata"]["aws:cdk:path"].startswith("Test/ToSiem/")
    ]
    assert own and not set(own) & set(filters)
    assert set(filters) | set(own) == set(by_type(s, "AWS::Logs::LogGroup"))


# -- the LogForwarding rule on a CDK stack ----------------------------------------------------


def test_the_rule_reports_a_plain_function_logging_to_its_implicit_group() -> None:
    def build(stack: cdk.Stack) -> None:
        lambda_.Function(
            stack,
            "Plain",
            code=lambda_.Code.from_inline(CODE),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
        )
        make_function(stack, "Fn")
        forward_logs(stack, destination=LogDestination.kinesis())

    s = synth(build)
    found = [path for _, rule_id, path in s.violations if rule_id.endswith("LogForwarding")]
    assert found == ["Test/Plain/Resource"]  # the SecureFunction's own group is forwarded


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "central-siem",
        "arn:aws:kinesis:eu-west-1:111122223333:stream/siem",
        "arn:aws:logs:eu-west-1:111122223333:log-group:x",
        "arn:aws:logs:EU_WEST:111122223333:destination:siem",
        "arn:aws:logs::111122223333:destination:siem",
        "arn:aws:logs:eu-west-1:1111:destination:siem",
    ],
)
def test_fails_when_the_destination_arn_is_not_a_logs_destination_arn(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LogDestination.cloudwatch_destination(bad)
    assert refused.value.prop == "arn"


def test_fails_when_the_destination_arn_is_a_token() -> None:
    token = cdk.Fn.import_value("SiemDestinationArn")
    with pytest.raises(ValidationError) as refused:
        LogDestination.cloudwatch_destination(token)
    assert refused.value.prop == "arn"


def test_fails_when_the_destination_is_in_another_region_than_the_stack() -> None:
    stack = cdk.Stack(cdk.App(), "Us", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ValidationError) as refused:
        forward_logs(stack, destination=LogDestination.cloudwatch_destination(SIEM_ARN))
    assert refused.value.prop == "destination" and "us-east-1" in str(refused.value)


def test_fails_when_forwarding_twice() -> None:
    stack = cdk.Stack()
    forward_logs(stack, destination=LogDestination.kinesis())
    with pytest.raises(ValidationError) as refused:
        forward_logs(stack, destination=LogDestination.kinesis())
    assert refused.value.prop == "scope"


@pytest.mark.parametrize("pattern", [5, None, ["ERROR"]])
def test_fails_when_the_filter_pattern_is_not_a_string(pattern: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        forward_logs(cdk.Stack(), destination=LogDestination.kinesis(), filter_pattern=pattern)
    assert refused.value.prop == "filter_pattern"


def test_fails_when_the_filter_pattern_is_too_long() -> None:
    with pytest.raises(ValidationError) as refused:
        forward_logs(cdk.Stack(), destination=LogDestination.kinesis(), filter_pattern="x" * 1025)
    assert refused.value.prop == "filter_pattern"


@pytest.mark.parametrize("destination", ["arn:aws:kinesis:::stream/x", None, 5])
def test_fails_when_the_destination_is_not_a_log_destination(destination: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        forward_logs(cdk.Stack(), destination=destination)
    assert refused.value.prop == "destination"


def test_fails_when_the_given_kinesis_stream_is_unencrypted() -> None:
    stack = cdk.Stack()
    stream = kinesis.Stream(stack, "Plain", encryption=kinesis.StreamEncryption.UNENCRYPTED)
    with pytest.raises(ValidationError) as refused:
        forward_logs(stack, destination=LogDestination.kinesis(stream))
    assert refused.value.prop == "stream"


def test_fails_when_the_given_firehose_stream_is_unencrypted() -> None:
    stack = cdk.Stack()
    with pytest.raises(ValidationError) as refused:
        forward_logs(stack, destination=LogDestination.firehose(_delivery_stream(stack)))
    assert refused.value.prop == "delivery_stream" and "encryption" in str(refused.value)


def test_fails_when_the_given_firehose_stream_reads_a_kinesis_stream() -> None:
    stack = cdk.Stack()
    source = kinesis.Stream(stack, "Source", encryption=kinesis.StreamEncryption.MANAGED)
    stream = _delivery_stream(stack, source=firehose.KinesisStreamSource(source))
    with pytest.raises(ValidationError) as refused:
        forward_logs(stack, destination=LogDestination.firehose(stream))
    assert refused.value.prop == "delivery_stream" and "Direct PUT" in str(refused.value)


def test_fails_at_synth_when_a_log_group_would_have_three_subscription_filters() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Crowded")
    group = logs.LogGroup(stack, "Busy")
    for index in range(2):
        logs.SubscriptionFilter(
            stack,
            f"Existing{index}",
            log_group=group,
            destination=_LambdaTarget(stack, f"Target{index}"),
            filter_pattern=logs.FilterPattern.all_events(),
        )
    forward_logs(stack, destination=LogDestination.kinesis())
    with pytest.raises(RuntimeError, match="3 subscription filters"):
        app.synth()


def _LambdaTarget(stack: cdk.Stack, construct_id: str) -> Any:  # noqa: N802
    from aws_cdk import aws_logs_destinations as destinations

    return destinations.LambdaDestination(make_function(stack, construct_id))


def test_the_s3_notifications_handler_and_a_workflow_log_group_are_forwarded_too() -> None:
    from aws_cdk import aws_s3_notifications as s3n
    from aws_cdk import aws_stepfunctions as sfn

    def build(stack: cdk.Stack) -> None:
        forward_logs(stack, destination=LogDestination.kinesis())  # before the constructs
        handler = make_function(stack, "OnUpload")
        bucket = s3.Bucket(stack, "Uploads", enforce_ssl=True)
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(handler))
        workflow_logs = logs.LogGroup(stack, "WorkflowLogs", encryption_key=security_key(stack))
        sfn.StateMachine(
            stack,
            "Workflow",
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Noop")),
            logs=sfn.LogOptions(destination=workflow_logs, level=sfn.LogLevel.ALL),
        )

    s = synth(build, checks=False)
    paths = {v["Metadata"]["aws:cdk:path"]: k for k, v in by_type(s, "AWS::Logs::LogGroup").items()}
    handler_groups = [p for p in paths if p.startswith("Test/BucketNotificationsHandler")]
    assert handler_groups, sorted(paths)
    assert set(filters_by_group(s)) == set(paths.values())


def test_a_refused_destination_leaves_nothing_behind() -> None:
    stack = cdk.Stack(cdk.App(), "Us", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ValidationError):
        forward_logs(stack, destination=LogDestination.cloudwatch_destination(SIEM_ARN))
    assert stack.node.try_find_child(FORWARDING) is None
    forward_logs(stack, destination=LogDestination.kinesis())  # a second try is not "twice"
