"""Per-stack shared resources: one customer-managed KMS key and one alarm topic per stack.

They are found or created on first use, never one per function (cost, and CloudFormation's
500-resource limit). Their construct ids are part of the public contract.
"""

from __future__ import annotations

import weakref

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import IConstruct

from secure_constructs.prop_types import check_args

KEY_ID = "SecureConstructsKey"
TOPIC_ID = "SecureConstructsAlarmTopic"

# stack -> key / topic: a look-up through the construct tree costs three jsii round trips
# (Stack.of, node, try_find_child), and every construct asks for both.
_KEYS: weakref.WeakKeyDictionary[cdk.Stack, kms.Key] = weakref.WeakKeyDictionary()
_TOPICS: weakref.WeakKeyDictionary[cdk.Stack, sns.Topic] = weakref.WeakKeyDictionary()


def stack_of(scope: IConstruct) -> cdk.Stack:
    """`Stack.of(scope)`, without a jsii round trip when `scope` is the stack itself."""
    return scope if isinstance(scope, cdk.Stack) else cdk.Stack.of(scope)


def security_key(scope: IConstruct) -> kms.Key:
    """The stack's customer-managed key (rotation on), created on first use.

    Its key policy lets CloudWatch Logs encrypt this account's log groups in this region and
    lets CloudWatch alarms publish to topics encrypted with it.
    """
    check_args(security_key, locals())
    stack = stack_of(scope)
    cached = _KEYS.get(stack)
    if cached is not None:
        return cached
    existing = stack.node.try_find_child(KEY_ID)
    if existing is not None:
        _KEYS[stack] = existing  # type: ignore[assignment]
        return existing  # type: ignore[return-value]
    key = kms.Key(
        stack,
        KEY_ID,
        description="secure-constructs: encrypts this stack's logs, queues, topics and secrets",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    _KEYS[stack] = key
    return key


def alarm_topic(scope: IConstruct) -> sns.Topic:
    """The stack's alarm topic (KMS-encrypted, TLS-only publish policy), created on first use."""
    check_args(alarm_topic, locals())
    stack = stack_of(scope)
    cached = _TOPICS.get(stack)
    if cached is not None:
        return cached
    existing = stack.node.try_find_child(TOPIC_ID)
    if existing is not None:
        _TOPICS[stack] = existing  # type: ignore[assignment]
        return existing  # type: ignore[return-value]
    topic = sns.Topic(
        stack,
        TOPIC_ID,
        display_name="secure-constructs alarms",
        master_key=security_key(stack),
        enforce_ssl=True,
    )
    _TOPICS[stack] = topic
    return topic
