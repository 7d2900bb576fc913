"""The three standard CDK trigger calls on a SecureFunction end at 0 open findings, with no
acknowledgement written by the user (issue 16)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SqsEventSource

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.shared import security_key
from secure_constructs.trigger_facts import BUCKET_NOTIFICATIONS_HANDLER_ID
from secure_constructs.triggers import added_mappings
from tests.constructs.trigger_helpers import secure_function
from tests.synth import arn, statements, synth

HANDLER_PATH = f"Test/{BUCKET_NOTIFICATIONS_HANDLER_ID}"


def _function(stack: cdk.Stack) -> SecureFunction:
    return secure_function(stack)


def _bucket(stack: cdk.Stack, construct_id: str, **extra: Any) -> s3.Bucket:
    return s3.Bucket(
        stack,
        construct_id,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=True,
        **extra,
    )


def _s3_stack(stack: cdk.Stack) -> None:
    fn = _function(stack)
    bucket = _bucket(stack, "Uploads", server_access_logs_bucket=_bucket(stack, "AccessLogs"))
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn))


def test_s3_notification_is_clean_without_acknowledgement() -> None:
    result = synth(_s3_stack)
    assert not result.failed and result.violations == []
    assert [a for a in result.acknowledged if a[2].startswith(HANDLER_PATH)] == []


def test_s3_notifications_handler_writes_only_to_its_own_encrypted_log_group() -> None:
    result = synth(_s3_stack, checks=False)
    resources = result.template["Resources"]
    (role_id,) = [k for k in result.resources("AWS::IAM::Role") if "BucketNotifications" in k]
    assert "ManagedPolicyArns" not in resources[role_id]["Properties"]
    (group_id,) = [k for k in result.resources("AWS::Logs::LogGroup") if "BucketNotif" in k]
    group = resources[group_id]["Properties"]
    assert group["RetentionInDays"] == 365
    (key_id,) = result.resources("AWS::KMS::Key")
    assert group["KmsKeyId"] == arn(key_id)
    (policy_id,) = [
        k for k in result.resources("AWS::IAM::ManagedPolicy") if "BucketNotifications" in k
    ]
    assert resources[policy_id]["Properties"]["Roles"] == [{"Ref": role_id}]
    assert [
        (s["Effect"], sorted(s["Action"]), s["Resource"])
        for s in resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    ] == [("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], arn(group_id))]
    (handler_id,) = [
        k for k in result.resources("AWS::Lambda::Function") if "BucketNotifications" in k
    ]
    handler = resources[handler_id]
    assert handler["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    assert policy_id in handler["DependsOn"]


def _sqs_stack(redrive: bool) -> Any:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        queue = sqs.Queue(
            stack,
            "Jobs",
            encryption_master_key=security_key(stack),
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(60),
            # The function's own (terminal, alarmed) dead-letter queue takes the poison messages.
            dead_letter_queue=sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3)
            if redrive
            else None,
        )
        fn.add_event_source(SqsEventSource(queue))

    return build


def test_sqs_source_with_redrive_policy_is_clean_without_acknowledgement() -> None:
    result = synth(_sqs_stack(redrive=True))
    assert not result.failed and result.violations == []
    (mapping_ack,) = [
        a for a in result.acknowledged if a[1] == "Serverless-LambdaEventSourceMappingDestination"
    ]
    assert mapping_ack[2].startswith("Test/Fn/SqsEventSource:")
    assert "redrive policy" in mapping_ack[3]
    queue = next(v for k, v in result.resources("AWS::SQS::Queue").items() if "Jobs" in k)
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3


def test_fails_when_the_sqs_source_queue_has_no_redrive_policy() -> None:
    result = synth(_sqs_stack(redrive=False))
    assert result.failed
    assert ("Serverless", "Serverless-LambdaEventSourceMappingDestination") in {
        (p, r) for p, r, _ in result.violations
    }
    assert not [a for a in result.acknowledged if a[2].startswith("Test/Fn/SqsEventSource:")]


def _rule_stack(dlq: bool) -> Any:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        events.Rule(
            stack,
            "Nightly",
            schedule=events.Schedule.rate(cdk.Duration.hours(24)),
            targets=[
                targets.LambdaFunction(fn, dead_letter_queue=fn.dead_letter_queue if dlq else None)
            ],
        )

    return build


def _eventbridge_key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (key,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::KMS::Key"]
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "events.amazonaws.com"
    ]


def test_eventbridge_rule_to_the_shared_dlq_gets_exactly_its_key_statement() -> None:
    result = synth(_rule_stack(dlq=True))
    assert not result.failed and result.violations == []
    rule_id, rule = result.only("AWS::Events::Rule")
    name = rule["Properties"]["Name"]
    assert name.startswith("Test-Nightly-") and len(name) <= 64
    (statement,) = _eventbridge_key_statements(result.template)
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":events:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        f":rule/{name}",
                    ],
                ]
            }
        }
    }
    # CDK's target class allows the rule on the queue policy, with the rule's own ARN.
    (queue_policy_id,) = result.resources("AWS::SQS::QueuePolicy")
    sends = [
        s
        for s in statements(result.template, queue_policy_id)
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert sends and sends[0]["Condition"] == {"ArnEquals": {"aws:SourceArn": arn(rule_id)}}


def test_eventbridge_rule_target_on_a_secure_function_gets_bounded_retries() -> None:
    result = synth(_rule_stack(dlq=True), checks=False)
    (target,) = result.props("AWS::Events::Rule")["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}


def test_eventbridge_rule_target_keeps_the_users_retry_policy() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        events.Rule(
            stack,
            "Nightly",
            schedule=events.Schedule.rate(cdk.Duration.hours(24)),
            targets=[
                targets.LambdaFunction(
                    fn,
                    dead_letter_queue=fn.dead_letter_queue,
                    retry_attempts=5,
                    max_event_age=cdk.Duration.minutes(10),
                )
            ],
        )

    (target,) = synth(build, checks=False).props("AWS::Events::Rule")["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 600}


def test_fails_when_an_eventbridge_target_on_a_secure_function_has_no_dlq() -> None:
    result = synth(_rule_stack(dlq=False))
    assert result.failed
    assert ("SecureServerless", "EventTargetFailureHandling[DeadLetterConfig]") in {
        (p, r) for p, r, _ in result.violations
    }


def test_eventbridge_rule_without_dlq_gets_no_key_statement() -> None:
    result = synth(_rule_stack(dlq=False), checks=False)
    assert _eventbridge_key_statements(result.template) == []
    assert "Name" not in result.only("AWS::Events::Rule")[1]["Properties"]


def _jobs(stack: cdk.Stack, fn: SecureFunction, visibility: int, redrive: bool = True) -> sqs.Queue:
    return sqs.Queue(
        stack,
        "Jobs",
        encryption_master_key=security_key(stack),
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.seconds(visibility),
        dead_letter_queue=sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3)
        if redrive
        else None,
    )


def test_add_queue_trigger_defaults_and_zero_findings() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_queue_trigger(_jobs(stack, fn, visibility=60))

    result = synth(build)
    assert not result.failed and result.violations == []
    props = result.props("AWS::Lambda::EventSourceMapping")
    assert props["BatchSize"] == 10
    assert props["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # its dashboard row: the backlog, the oldest message's age, the redrive queue
    from tests.constructs.test_observability import _metrics_of, dashboard_body

    widgets = dashboard_body(result)["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles[-1] == f"### Queue trigger Test/Jobs -> {titles[-1].rsplit(' ', 1)[-1]}"
    graphs = {w["properties"]["title"]: w for w in widgets if w["type"] == "metric"}
    assert [
        m[1]
        for g in ("Messages waiting", "Age of the oldest message (s)", "Redrive queue depth")
        for m in _metrics_of(graphs[g])
    ] == [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
    ]


def test_add_queue_trigger_passes_its_options() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_queue_trigger(_jobs(stack, fn, visibility=60), batch_size=5, max_concurrency=50)

    props = synth(build, checks=False).props("AWS::Lambda::EventSourceMapping")
    assert props["BatchSize"] == 5 and props["ScalingConfig"] == {"MaximumConcurrency": 50}


def test_fails_when_the_queue_trigger_visibility_is_below_six_times_the_timeout() -> None:
    stack = cdk.Stack()
    fn = _function(stack)  # 10 s timeout: 60 s needed
    with pytest.raises(ValidationError, match="at least 6x the function timeout"):
        fn.add_queue_trigger(_jobs(stack, fn, visibility=59))


def test_fails_when_the_queue_trigger_queue_has_no_redrive_policy() -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    with pytest.raises(ValidationError, match="redrive policy"):
        fn.add_queue_trigger(_jobs(stack, fn, visibility=60, redrive=False))


def test_fails_when_the_queue_trigger_queue_is_imported() -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    queue = sqs.Queue.from_queue_arn(stack, "Ext", "arn:aws:sqs:us-east-1:111122223333:jobs")
    with pytest.raises(ValidationError, match="redrive policy"):
        fn.add_queue_trigger(queue)


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 11),
        ("max_concurrency", 1),
        ("max_concurrency", 1001),
        ("batch_size", True),
    ],
)
def test_fails_when_a_queue_trigger_option_is_out_of_range(prop: str, value: object) -> None:
    stack = cdk.Stack()
    fn = _function(stack)
    with pytest.raises(ValidationError, match=prop):
        fn.add_queue_trigger(_jobs(stack, fn, visibility=60), **{prop: value})  # type: ignore[arg-type]


def test_added_mappings_are_those_the_call_made_and_only_those() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    fn = _function(stack)
    dlq = fn.dead_letter_queue
    first = sqs.Queue(
        stack, "First", dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=3)
    )
    second = sqs.Queue(
        stack, "Second", dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=3)
    )
    (made,) = added_mappings(fn, lambda: fn.add_event_source(SqsEventSource(first)))
    (later,) = added_mappings(fn, lambda: fn.add_event_source(SqsEventSource(second)))
    assert made.node.path != later.node.path  # the first mapping is not taken for a new one
    source_arn = stack.resolve(later.node.default_child.event_source_arn)  # type: ignore[union-attr]
    assert source_arn == stack.resolve(second.queue_arn)
    assert added_mappings(fn, lambda: None) == []


def _key_statements(result: Any) -> list[dict[str, Any]]:
    """Every statement of the function's policies that grants KMS actions."""
    found = []
    for logical_id in result.resources("AWS::IAM::ManagedPolicy"):
        if logical_id.startswith("FnServiceRolePolicy"):
            found += [
                s
                for s in statements(result.template, logical_id)
                if any(a.startswith("kms:") for a in s["Action"])
            ]
    return found


@pytest.mark.parametrize("helper", [True, False])
def test_a_queue_trigger_decrypts_only_through_sqs_for_its_queue(helper: bool) -> None:
    """CDK's SqsEventSource grants kms:Decrypt on the whole key, which for the stack key opens
    every log group, queue, topic and secret of the stack: the grant is kept to SQS reading
    the trigger's queue."""

    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        queue = _jobs(stack, fn, visibility=60)
        if helper:
            fn.add_queue_trigger(queue)
        else:
            fn.add_event_source(SqsEventSource(queue))

    result = synth(build, checks=False)
    (key_id,) = result.resources("AWS::KMS::Key")
    jobs = next(k for k in result.resources("AWS::SQS::Queue") if k.startswith("Jobs"))
    decrypts = [s for s in _key_statements(result) if s["Action"] == ["kms:Decrypt"]]
    assert decrypts == [
        {
            "Action": ["kms:Decrypt"],
            "Effect": "Allow",
            "Resource": [arn(key_id)],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {
                        "Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                    },
                    "kms:EncryptionContext:aws:sqs:arn": arn(jobs),
                }
            },
        }
    ]
    # and no KMS statement of the function's role is left without a condition
    assert all("Condition" in s for s in _key_statements(result))


@pytest.mark.parametrize("imported", [False, True])
def test_a_queue_on_an_alias_of_the_key_decrypts_only_through_sqs(imported: bool) -> None:
    """CDK's grant on an alias lands on the key it names (its ARN, not the alias's): that
    statement is scoped too, for an alias made in the app and one imported with its target."""

    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        key = security_key(stack)
        alias = (
            kms.Alias.from_alias_attributes(
                stack, "Imported", alias_name="alias/jobs", alias_target_key=key
            )
            if imported
            else key.add_alias("alias/jobs")
        )
        queue = sqs.Queue(
            stack,
            "Jobs",
            encryption_master_key=alias,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(60),
            dead_letter_queue=sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3),
        )
        fn.add_queue_trigger(queue)

    result = synth(build, checks=False)
    (key_id,) = result.resources("AWS::KMS::Key")
    decrypts = [s for s in _key_statements(result) if "kms:Decrypt" in s["Action"]]
    assert decrypts and all(s["Resource"] == [arn(key_id)] for s in decrypts)
    assert all(
        "kms:EncryptionContext:aws:sqs:arn" in s["Condition"]["StringEquals"]
        for s in _key_statements(result)
    )


def test_a_grant_of_the_key_outside_a_trigger_is_left_as_made() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_queue_trigger(_jobs(stack, fn, visibility=60))
        security_key(stack).grant_encrypt(fn)

    result = synth(build, checks=False)
    plain = [s for s in _key_statements(result) if "Condition" not in s]
    assert [s["Action"] for s in plain] == [
        [
            "kms:Encrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
        ]
    ]


def test_only_the_consume_grant_made_while_binding_is_scoped() -> None:
    """Another KMS grant on the queue's key made while the source binds stays as it was made."""

    class GrantingSource(SqsEventSource):
        def bind(self, target: Any) -> None:
            super().bind(target)
            security_key(cdk.Stack.of(target)).grant_encrypt(target)

    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        fn.add_event_source(GrantingSource(_jobs(stack, fn, visibility=60)))

    result = synth(build, checks=False)
    plain = [s for s in _key_statements(result) if "Condition" not in s]
    assert [s["Action"][0] for s in plain] == ["kms:Encrypt"]
    decrypts = [s for s in _key_statements(result) if s["Action"] == ["kms:Decrypt"]]
    assert len(decrypts) == 1 and "kms:ViaService" in decrypts[0]["Condition"]["StringEquals"]
