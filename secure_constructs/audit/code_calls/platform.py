"""Grants a function's role needs for Lambda itself, not for its code, and CDK's grant bundles.

Lambda writes the logs and the traces, sends to the dead-letter queue and on-failure
destinations, polls event sources and manages VPC network interfaces with the function's role
(Lambda developer guide: "Lambda execution role", "Event source mappings", "Configuring a VPC").
A KMS statement conditioned on kms:ViaService is used by that service on the function's behalf:
it counts as used when the code (or Lambda) uses that service.

CDK's `grant_*` methods grant bundles (a secret's grant_read adds DescribeSecret to
GetSecretValue). When a statement is exactly (a subset of) one bundle and the code calls one of
its actions, the rest are reported as "bundled", visible but not unused: they come from one
`grant_*` call the user cannot narrow. Grant single actions with `grant(fn, "service:Action")`
to get an exact role.
"""

from __future__ import annotations

LOGS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup"})
TRACING = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
)
VPC = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:GetSecurityGroupsForVpc",
    }
)
DESTINATION = frozenset(
    {"sqs:SendMessage", "sns:Publish", "lambda:InvokeFunction", "events:PutEvents"}
)
EVENT_SOURCE = frozenset(
    {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        # CDK's SqsEventSource grants grant_consume_messages, which adds GetQueueUrl; the user
        # cannot narrow that grant, and it reaches only the mapping's own source queue.
        "sqs:GetQueueUrl",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    }
)
# On the key of an encrypted source queue or stream: Lambda decrypts what it polls (Lambda
# Developer Guide, "Using Lambda with Amazon SQS": the execution role needs kms:Decrypt on a
# customer-managed key of the queue).
SOURCE_KEY = frozenset({"kms:Decrypt"})

BUNDLES: dict[str, frozenset[str]] = {
    "ISecret.grant_read": frozenset(
        {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    ),
    "ITable.grant_read_data": frozenset(
        {
            "dynamodb:BatchGetItem",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:Query",
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
        }
    ),
    "ITable.grant_write_data": frozenset(
        {
            "dynamodb:BatchWriteItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:DescribeTable",
        }
    ),
    "IQueue.grant_send_messages": frozenset(
        {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    ),
    "IQueue.grant_consume_messages": frozenset(
        {
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        }
    ),
    "IBucket.grant_read": frozenset({"s3:GetObject*", "s3:GetBucket*", "s3:List*"}),
    "IBucket.grant_put": frozenset(
        {
            "s3:PutObject",
            "s3:PutObjectLegalHold",
            "s3:PutObjectRetention",
            "s3:PutObjectTagging",
            "s3:PutObjectVersionTagging",
            "s3:Abort*",
        }
    ),
}


def bundle_of(actions: tuple[str, ...]) -> str | None:
    """The CDK grant bundle a statement's actions all belong to, if there is one."""
    wanted = set(actions)
    for name, members in BUNDLES.items():
        if len(wanted) > 1 and wanted <= members:
            return name
    return None
