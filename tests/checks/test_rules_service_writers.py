"""ServiceWriterKeyAccess: a service writing to a queue or topic as its service principal needs the
queue's or topic's key to allow it; in dicts, hand-written YAML through `secure-constructs audit`,
and CDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs

from secure_constructs.checks.model import Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as run_cli
from tests.checks.templates import granular, resource, run
from tests.synth import synth

RULE_ID = "ServiceWriterKeyAccess"
KEY_ARN = {"Fn::GetAtt": ["Key", "Arn"]}


def _statement(principal: Any, actions_: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": actions_, "Resource": "*", **extra}


ROOT = _statement(
    {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "kms:*"
)


def _key(*statements: dict[str, Any]) -> dict[str, Any]:
    return resource(
        "AWS::KMS::Key",
        EnableKeyRotation=True,
        KeyPolicy={"Version": "2012-10-17", "Statement": [ROOT, *statements]},
    )


def _sns(actions_: Any = ("kms:GenerateDataKey", "kms:Decrypt")) -> dict[str, Any]:
    return _statement(
        {"Service": "sns.amazonaws.com"},
        list(actions_),
        Condition={"ArnEquals": {"aws:SourceArn": {"Ref": "Topic"}}},
    )


def _queue(key: Any = KEY_ARN) -> dict[str, Any]:
    return resource("AWS::SQS::Queue", KmsMasterKeyId=key)


def _subscription(**props: Any) -> dict[str, Any]:
    defaults = {
        "Protocol": "email",
        "Endpoint": "ops@example.com",
        "TopicArn": {"Ref": "Topic"},
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
    }
    return resource("AWS::SNS::Subscription", **{**defaults, **props})


def _with(key: dict[str, Any], **resources: Any) -> list[tuple[str, str | None]]:
    base = {"Key": key, "Topic": resource("AWS::SNS::Topic"), "Dlq": _queue()}
    return granular(run(RULE_ID, {**base, **resources}))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (_key(), [("Key", "sns.amazonaws.com")]),
        (_key(_sns(["kms:Decrypt"])), [("Key", "sns.amazonaws.com")]),
        (_key(_sns(["kms:GenerateDataKey"])), [("Key", "sns.amazonaws.com")]),
        # another service's statement does not count
        (
            _key(
                _statement(
                    {"Service": "events.amazonaws.com"}, ["kms:GenerateDataKey", "kms:Decrypt"]
                )
            ),
            [("Key", "sns.amazonaws.com")],
        ),
        (_key(_sns()), []),
        (_key(_sns(["kms:GenerateDataKey*", "kms:Decrypt"])), []),
        (_key(_sns("kms:*")), []),
        (
            _key(
                _statement(
                    {"Service": ["sns.amazonaws.com"]}, ["kms:GenerateDataKey", "kms:Decrypt"]
                )
            ),
            [],
        ),
    ],
)
def test_a_subscription_dead_letter_queue_key_must_allow_sns(
    key: dict[str, Any], expected: list[tuple[str, str | None]]
) -> None:
    assert _with(key, Sub=_subscription()) == expected


def test_a_deny_is_not_an_allow_and_not_action_covers_what_it_leaves_out() -> None:
    deny = {**_sns(), "Effect": "Deny"}
    assert _with(_key(deny), Sub=_subscription()) == [("Key", "sns.amazonaws.com")]
    not_action = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "NotAction": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
        "Resource": "*",
    }
    assert _with(_key(not_action), Sub=_subscription()) == []
    leaves_decrypt_out = {**not_action, "NotAction": "kms:Decrypt"}
    assert _with(_key(leaves_decrypt_out), Sub=_subscription()) == [("Key", "sns.amazonaws.com")]


def test_an_aws_managed_key_is_reported_on_the_queue() -> None:
    findings = _with(_key(), Sub=_subscription(), Dlq=_queue("alias/aws/sqs"))
    assert findings == [("Dlq", "AwsManagedKey::sns.amazonaws.com")]
    arn = {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/sqs"}
    assert _with(_key(), Sub=_subscription(), Dlq=_queue(arn)) == [
        ("Dlq", "AwsManagedKey::sns.amazonaws.com")
    ]


def test_a_key_named_through_an_alias_is_read() -> None:
    alias = resource("AWS::KMS::Alias", AliasName="alias/orders", TargetKeyId={"Ref": "Key"})
    for key in ({"Ref": "Alias"}, "alias/orders"):
        assert _with(_key(), Sub=_subscription(), Alias=alias, Dlq=_queue(key)) == [
            ("Key", "sns.amazonaws.com")
        ]


def test_a_key_outside_the_template_or_an_unencrypted_queue_is_not_judged_here() -> None:
    outside = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _with(_key(), Sub=_subscription(), Dlq=_queue(outside)) == []
    assert _with(_key(), Sub=_subscription(), Dlq=resource("AWS::SQS::Queue")) == []


def test_each_branch_of_a_condition_is_judged() -> None:
    branchy = {"Fn::If": ["Encrypt", KEY_ARN, "alias/aws/sqs"]}
    assert _with(_key(_sns()), Sub=_subscription(), Dlq=_queue(branchy)) == [
        ("Dlq", "AwsManagedKey::sns.amazonaws.com")
    ]


def test_sqs_subscriptions_rule_targets_alarms_and_s3_notifications_are_writers() -> None:
    sqs_subscription = resource(
        "AWS::SNS::Subscription",
        Protocol="sqs",
        TopicArn={"Ref": "Topic"},
        Endpoint={"Fn::GetAtt": ["Dlq", "Arn"]},
    )
    inline = resource(
        "AWS::SNS::Topic",
        Subscription=[{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Dlq", "Arn"]}}],
    )
    rule = resource(
        "AWS::Events::Rule",
        ScheduleExpression="rate(1 hour)",
        Targets=[{"Id": "T", "Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}}],
    )
    rule_dlq = resource(
        "AWS::Events::Rule",
        ScheduleExpression="rate(1 hour)",
        Targets=[
            {
                "Id": "T",
                "Arn": "arn:aws:lambda:eu-west-1:111122223333:function:f",
                "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
            }
        ],
    )
    encrypted_topic = resource("AWS::SNS::Topic", KmsMasterKeyId={"Ref": "Key"})
    alarm = resource(
        "AWS::CloudWatch::Alarm",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        ComparisonOperator="GreaterThanThreshold",
        EvaluationPeriods=1,
        Threshold=0,
        AlarmActions=[{"Ref": "Alarms"}],
    )
    bucket = resource(
        "AWS::S3::Bucket",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["Dlq", "Arn"]}}
            ]
        },
    )
    budget = resource(
        "AWS::Budgets::Budget",
        Budget={"BudgetType": "COST", "TimeUnit": "MONTHLY"},
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "ComparisonOperator": "GREATER_THAN",
                    "NotificationType": "ACTUAL",
                    "Threshold": 80,
                },
                "Subscribers": [
                    {"SubscriptionType": "EMAIL", "Address": "ops@example.com"},
                    {"SubscriptionType": "SNS", "Address": {"Ref": "Alarms"}},
                ],
            }
        ],
    )
    trail = resource(
        "AWS::CloudTrail::Trail",
        IsLogging=True,
        S3BucketName="logs",
        SnsTopicName={"Fn::GetAtt": ["Alarms", "TopicName"]},
    )
    vault = resource(
        "AWS::Backup::BackupVault",
        BackupVaultName="v",
        Notifications={
            "BackupVaultEvents": ["BACKUP_JOB_FAILED"],
            "SNSTopicArn": {"Ref": "Alarms"},
        },
    )
    cases = [
        ({"Alarms": encrypted_topic, "Budget": budget}, "budgets.amazonaws.com"),
        ({"Alarms": encrypted_topic, "Trail": trail}, "cloudtrail.amazonaws.com"),
        ({"Alarms": encrypted_topic, "Vault": vault}, "backup.amazonaws.com"),
        ({"Sub": sqs_subscription}, "sns.amazonaws.com"),
        ({"Inline": inline}, "sns.amazonaws.com"),
        ({"Rule": rule}, "events.amazonaws.com"),
        ({"Rule": rule_dlq}, "events.amazonaws.com"),
        ({"Alarms": encrypted_topic, "Alarm": alarm}, "cloudwatch.amazonaws.com"),
        ({"Bucket": bucket}, "s3.amazonaws.com"),
    ]
    for extra, principal in cases:
        assert _with(_key(), **extra) == [("Key", principal)], extra
        allowed = _statement({"Service": principal}, ["kms:GenerateDataKey", "kms:Decrypt"])
        assert _with(_key(allowed), **extra) == [], extra


IF_FALSE = {"Fn::Equals": ["a", "b"]}


def _if(then: Any, otherwise: Any = None) -> dict[str, Any]:
    return {"Fn::If": ["C", then, {"Ref": "AWS::NoValue"} if otherwise is None else otherwise]}


def _with_condition(key: dict[str, Any], **resources: Any) -> list[tuple[str, str | None]]:
    base = {"Key": key, "Topic": resource("AWS::SNS::Topic"), "Dlq": _queue()}
    body = {"Conditions": {"C": IF_FALSE}, "Resources": {**base, **resources}}
    return granular(RULES[RULE_ID].run(Template(body)))


@pytest.mark.parametrize(
    "statement",
    [
        # only one branch of a condition has the statement, the principal or the action
        _if(_sns()),
        _statement(
            {"Service": _if("sns.amazonaws.com", "events.amazonaws.com")},
            ["kms:GenerateDataKey", "kms:Decrypt"],
        ),
        _statement(
            {"Service": "sns.amazonaws.com"},
            [_if("kms:GenerateDataKey", "kms:Encrypt"), "kms:Decrypt"],
        ),
        # an unreadable NotAction may exclude what SNS needs
        {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "NotAction": _if("kms:Decrypt", "kms:Encrypt"),
            "Resource": "*",
        },
    ],
)
def test_an_allow_counts_only_when_every_branch_has_it(statement: dict[str, Any]) -> None:
    assert _with_condition(_key(statement), Sub=_subscription()) == [("Key", "sns.amazonaws.com")]


@pytest.mark.parametrize(
    "statement",
    [
        _statement(
            {"Service": "sns.amazonaws.com"},
            _if(["kms:Decrypt", "kms:GenerateDataKey"], ["kms:*"]),
        ),
        _statement(
            _if(
                {"Service": "sns.amazonaws.com"},
                {"Service": ["sns.amazonaws.com", "events.amazonaws.com"]},
            ),
            ["kms:GenerateDataKey", "kms:Decrypt"],
        ),
    ],
)
def test_an_allow_every_branch_has_is_counted(statement: dict[str, Any]) -> None:
    assert _with_condition(_key(statement), Sub=_subscription()) == []


def test_a_deny_naming_the_service_or_everyone_blocks_whatever_its_condition() -> None:
    for principal in ({"Service": "sns.amazonaws.com"}, "*", {"AWS": "*"}):
        deny = {
            **_statement(principal, "kms:*"),
            "Effect": "Deny",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}},
        }
        assert _with(_key(_sns(), deny), Sub=_subscription()) == [("Key", "sns.amazonaws.com")]
    other = {**_statement({"Service": "events.amazonaws.com"}, "kms:*"), "Effect": "Deny"}
    assert _with(_key(_sns(), other), Sub=_subscription()) == []


def test_writes_under_a_condition_are_judged() -> None:
    queue_arn = {"Fn::GetAtt": ["Dlq", "Arn"]}
    rule = resource(
        "AWS::Events::Rule",
        ScheduleExpression="rate(1 hour)",
        Targets=[_if({"Id": "T", "Arn": queue_arn})],
    )
    whole = resource(
        "AWS::Events::Rule",
        ScheduleExpression="rate(1 hour)",
        Targets=_if([{"Id": "T", "Arn": queue_arn}]),
    )
    alarm = resource("AWS::CloudWatch::Alarm", AlarmActions=_if([{"Ref": "Alarms"}]))
    bucket = resource(
        "AWS::S3::Bucket",
        NotificationConfiguration=_if(
            {"QueueConfigurations": [_if({"Event": "s3:ObjectCreated:*", "Queue": queue_arn})]}
        ),
    )
    topic = resource(
        "AWS::SNS::Topic", Subscription=[_if({"Protocol": "sqs", "Endpoint": queue_arn})]
    )
    protocol = resource(
        "AWS::SNS::Subscription",
        Protocol=_if("sqs", "email"),
        TopicArn={"Ref": "Topic"},
        Endpoint=queue_arn,
    )
    encrypted = resource("AWS::SNS::Topic", KmsMasterKeyId={"Ref": "Key"})
    cases = [
        ({"Rule": rule}, "events.amazonaws.com"),
        ({"Rule": whole}, "events.amazonaws.com"),
        ({"Alarms": encrypted, "Alarm": alarm}, "cloudwatch.amazonaws.com"),
        ({"Bucket": bucket}, "s3.amazonaws.com"),
        ({"Inline": topic}, "sns.amazonaws.com"),
        ({"Sub": protocol}, "sns.amazonaws.com"),
    ]
    for extra, principal in cases:
        assert _with_condition(_key(), **extra) == [("Key", principal)], extra


def test_cdk_bucket_notifications_name_the_queue_by_queue_arn() -> None:
    custom = resource(
        "Custom::S3BucketNotifications",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Events": ["s3:ObjectCreated:*"], "QueueArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
            ],
            "TopicConfigurations": [
                {"Events": ["s3:ObjectCreated:*"], "TopicArn": {"Ref": "Uploads"}}
            ],
        },
    )
    uploads = resource("AWS::SNS::Topic", KmsMasterKeyId={"Fn::GetAtt": ["Key", "Arn"]})
    assert _with(_key(), Notifications=custom, Uploads=uploads) == [("Key", "s3.amazonaws.com")]


def test_a_composite_alarm_is_a_writer() -> None:
    alarm = resource(
        "AWS::CloudWatch::CompositeAlarm", AlarmRule="ALARM(a)", AlarmActions=[{"Ref": "Alarms"}]
    )
    encrypted = resource("AWS::SNS::Topic", KmsMasterKeyId={"Ref": "Key"})
    assert _with(_key(), Alarm=alarm, Alarms=encrypted) == [("Key", "cloudwatch.amazonaws.com")]


def test_a_replica_key_is_read() -> None:
    replica = resource(
        "AWS::KMS::ReplicaKey",
        PrimaryKeyArn="arn:aws:kms:us-east-1:111122223333:key/mrk-1",
        KeyPolicy={"Statement": [ROOT]},
    )
    assert _with(replica, Sub=_subscription()) == [("Key", "sns.amazonaws.com")]


@pytest.mark.parametrize(
    "key",
    [
        {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"},
        "arn:aws:kms:eu-west-1:111122223333:alias/orders",
        {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:${Alias}"},
    ],
)
def test_a_key_named_by_an_arn_of_the_template_is_read(key: Any) -> None:
    alias = resource("AWS::KMS::Alias", AliasName="alias/orders", TargetKeyId={"Ref": "Key"})
    assert _with(_key(), Sub=_subscription(), Alias=alias, Dlq=_queue(key)) == [
        ("Key", "sns.amazonaws.com")
    ]


@pytest.mark.parametrize(
    "target",
    [
        {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Dlq.QueueName}"},
        {
            "Fn::Join": [
                ":",
                [
                    "arn:aws:sqs",
                    {"Ref": "AWS::Region"},
                    {"Ref": "AWS::AccountId"},
                    {"Fn::GetAtt": ["Dlq", "QueueName"]},
                ],
            ]
        },
        "arn:aws:sqs:eu-west-1:111122223333:orders-dlq",
    ],
)
def test_a_queue_named_by_an_arn_of_the_template_is_read(target: Any) -> None:
    named = resource("AWS::SQS::Queue", QueueName="orders-dlq", KmsMasterKeyId=KEY_ARN)
    subscription = _subscription(RedrivePolicy={"deadLetterTargetArn": target})
    assert _with(_key(), Sub=subscription, Dlq=named) == [("Key", "sns.amazonaws.com")]


def test_an_aws_managed_key_from_a_parameter_default_is_reported() -> None:
    body = {
        "Parameters": {"QueueKey": {"Type": "String", "Default": "alias/aws/sqs"}},
        "Resources": {
            "Topic": resource("AWS::SNS::Topic"),
            "Dlq": _queue({"Ref": "QueueKey"}),
            "Sub": _subscription(),
        },
    }
    findings = granular(RULES[RULE_ID].run(Template(body)))
    assert findings == [("Dlq", "AwsManagedKey::sns.amazonaws.com")]


def test_deeply_nested_json_text_is_a_missing_policy_not_a_crash() -> None:
    deep = "[" * 100_000
    key = resource("AWS::KMS::Key", KeyPolicy=deep)
    assert _with(key, Sub=_subscription()) == [("Key", "sns.amazonaws.com")]
    assert _with(_key(), Sub=_subscription(RedrivePolicy=deep)) == []


_YAML = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
EXTRA
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !Ref Key
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: !GetAtt Key.Arn
  Sub:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: email
      Endpoint: ops@example.com
      TopicArn: !Ref Topic
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn}
"""
_YAML_ALLOW = """\
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: [kms:GenerateDataKey, kms:Decrypt]
            Resource: "*"
            Condition: {ArnEquals: {aws:SourceArn: !Ref Topic}}
"""


@pytest.mark.parametrize("compliant", [False, True])
def test_hand_written_yaml_through_the_audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, compliant: bool
) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text(_YAML.replace("EXTRA\n", _YAML_ALLOW if compliant else ""))
    result = run_cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    found = {
        (f["logical_id"], f["rule"])
        for f in json.loads(result.out)["findings"]
        if f["rule"].startswith(RULE_ID)
    }
    assert found == (set() if compliant else {("Key", f"{RULE_ID}[sns.amazonaws.com]")})


def _ours(result: Any) -> list[tuple[str, str]]:
    return sorted(
        (r, path)
        for p, r, path in result.violations
        if p == "SecureServerless" and r.startswith(RULE_ID)
    )


@pytest.mark.parametrize("compliant", [False, True])
def test_cdk_email_subscription_with_a_dead_letter_queue_on_the_users_key(compliant: bool) -> None:
    def build(stack: cdk.Stack) -> None:
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
        dlq = sqs.Queue(stack, "Dlq", encryption_master_key=key, enforce_ssl=True)
        topic.add_subscription(subs.EmailSubscription("ops@example.com", dead_letter_queue=dlq))
        alarm = cloudwatch.Alarm(
            stack,
            "Alarm",
            metric=cloudwatch.Metric(namespace="AWS/Lambda", metric_name="Errors"),
            threshold=0,
            evaluation_periods=1,
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        if compliant:
            for service in ("sns.amazonaws.com", "cloudwatch.amazonaws.com"):
                key.add_to_resource_policy(
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal(service)],
                        actions=["kms:GenerateDataKey", "kms:Decrypt"],
                        resources=["*"],
                        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                    )
                )

    result = synth(build)
    if compliant:
        assert _ours(result) == []
    else:
        assert _ours(result) == [
            (f"{RULE_ID}[cloudwatch.amazonaws.com]", "Test/Key/Resource"),
            (f"{RULE_ID}[sns.amazonaws.com]", "Test/Key/Resource"),
        ]
