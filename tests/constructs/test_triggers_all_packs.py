"""Every trigger on a SecureFunction, CDK's standard calls and the helpers, under all six packs:
0 open findings, no acknowledgement written by the user (the compliance packs need the function
in a VPC: tests/vpc.py) (issue 16)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SqsEventSource

from secure_constructs import SecureFunction, acknowledge
from secure_constructs.shared import security_key
from tests.constructs.trigger_helpers import orders_table, secure_function
from tests.synth import ALL_COMPLIANCE, Synthesized, synth
from tests.vpc import acknowledge_test_vpc, compliant_vpc


def _function(stack: cdk.Stack) -> SecureFunction:
    return secure_function(
        stack,
        vpc=compliant_vpc(stack),
        reserved_concurrent_executions=5,
    )


def _bucket(stack: cdk.Stack, construct_id: str, **extra: object) -> s3.Bucket:
    return s3.Bucket(
        stack,
        construct_id,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=security_key(stack),
        versioned=True,
        object_lock_enabled=True,
        **extra,  # type: ignore[arg-type]
    )


_OWN = "Test scaffolding: the user's own {what}, whose {need} is the user's to set up."


def _acknowledge_own_bucket(bucket: s3.Bucket) -> None:
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        acknowledge(
            bucket,
            f"{pack}-S3BucketReplicationEnabled",
            _OWN.format(what="bucket", need="replication destination"),
        )


def _acknowledge_own_table(table: dynamodb.Table) -> None:
    for pack in ("NIST.800.53.R5", "HIPAA.Security"):
        for rule in ("DynamoDBAutoScalingEnabled", "DynamoDBInBackupPlan"):
            acknowledge(
                table, f"{pack}-{rule}", _OWN.format(what="table", need="backup plan and capacity")
            )


def _standard_calls(stack: cdk.Stack) -> None:
    """The three calls of the issue's "Why", with the user's own resources made compliant."""
    fn = _function(stack)
    logs_bucket = _bucket(stack, "AccessLogs")
    uploads = _bucket(stack, "Uploads", server_access_logs_bucket=logs_bucket)
    uploads.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn))
    _acknowledge_own_bucket(logs_bucket)
    _acknowledge_own_bucket(uploads)
    jobs = sqs.Queue(
        stack,
        "Jobs",
        encryption_master_key=security_key(stack),
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.seconds(60),
        dead_letter_queue=sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3),
    )
    fn.add_event_source(SqsEventSource(jobs))
    events.Rule(
        stack,
        "Nightly",
        schedule=events.Schedule.rate(cdk.Duration.hours(24)),
        targets=[targets.LambdaFunction(fn, dead_letter_queue=fn.dead_letter_queue)],
    )
    acknowledge_test_vpc(stack)


def _helpers(stack: cdk.Stack) -> None:
    """Every helper, and CDK's LambdaSubscription with the function's dead-letter queue."""
    fn = _function(stack)
    table = orders_table(stack, deletion_protection=True)
    fn.add_stream_trigger(table)
    _acknowledge_own_table(table)
    fn.add_stream_trigger(
        kinesis.Stream(stack, "Clicks", encryption=kinesis.StreamEncryption.MANAGED)
    )
    topic = sns.Topic(stack, "Events", master_key=security_key(stack), enforce_ssl=True)
    fn.add_topic_trigger(topic)
    other = sns.Topic(stack, "Other", master_key=security_key(stack), enforce_ssl=True)
    other.add_subscription(subs.LambdaSubscription(fn, dead_letter_queue=fn.dead_letter_queue))
    fn.add_schedule("Hourly", scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)))
    acknowledge_test_vpc(stack)


@pytest.fixture(scope="module", params=[_standard_calls, _helpers], ids=["standard", "helpers"])
def checked(request: pytest.FixtureRequest) -> Synthesized:
    return synth(request.param, compliance=ALL_COMPLIANCE)


def test_triggers_are_clean_under_all_six_packs(checked: Synthesized) -> None:
    library = [v for v in checked.violations if "/Vpc" not in v[2]]
    assert library == []
    assert not checked.failed, checked.violations


def test_only_the_library_and_the_test_vpc_acknowledge(checked: Synthesized) -> None:
    """No acknowledgement of a finding the library causes: apart from the library's own (on its
    resources and CDK's trigger plumbing), only the test's VPC and the user's own bucket and
    table settings, and cfn-lint notes CDK writes itself."""
    own = ("/Vpc", "Test/Uploads/Resource", "Test/AccessLogs/Resource", "Test/Orders/Resource")
    library = ("Test/SecureConstructs", "Test/Fn", "Test/BucketNotificationsHandler")
    user = [
        a
        for a in checked.acknowledged
        if a[0] != "CloudFormation Validate"
        and not any(part in a[2] for part in own)
        and not a[2].startswith(library)
        and not a[2].startswith("Test/Uploads/Notifications/HandlerPolicy")
    ]
    assert user == []
    own_reasons = [
        a
        for a in checked.acknowledged
        if a[0] != "CloudFormation Validate" and any(p in a[2] for p in own[1:])
    ]
    assert all(
        a[1].endswith(
            ("S3BucketReplicationEnabled", "DynamoDBAutoScalingEnabled", "DynamoDBInBackupPlan")
        )
        for a in own_reasons
    ), own_reasons


def test_cdks_per_bucket_handler_policy_is_acknowledged_for_inline_policies_only() -> None:
    result = synth(_standard_calls, compliance=ALL_COMPLIANCE)
    on_policy = sorted(a[1] for a in result.acknowledged if "/Notifications/HandlerPolicy" in a[2])
    assert on_policy == [
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    ]
    assert all(
        "s3:PutBucketNotification on exactly this bucket" in a[3]
        for a in result.acknowledged
        if "/Notifications/HandlerPolicy" in a[2]
    )
