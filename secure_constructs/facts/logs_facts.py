"""CloudWatch Logs subscription facts, shared by `forward_logs` and the `LogForwarding` rule.

Sources (CloudWatch Logs User Guide and API Reference):
- "Real-time processing of log data with subscriptions" and the `PutSubscriptionFilter` API:
  each log group can have up to two subscription filters; a filter pattern is at most 1024
  characters. https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Subscriptions.html,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutSubscriptionFilter.html
- "Example 1: Subscription filters with Kinesis Data Streams" / "... with Amazon Data Firehose":
  the role CloudWatch Logs assumes trusts `logs.amazonaws.com` with an `aws:SourceArn` condition
  (`arn:aws:logs:region:account:*`, "to help prevent the confused deputy security problem") and
  may put records into exactly the destination stream.
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
- "Cross-account cross-Region subscriptions": for a logical destination of another account the
  subscription filter has no role (the destination's own access policy and role govern), and
  "the sender account's log groups and the destination must be in the same AWS Region".
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilter-Account.html
- Kinesis Data Streams, "Permissions to use user-generated KMS keys": a producer of a stream
  encrypted with a customer-managed key needs `kms:GenerateDataKey` on that key; Kinesis passes
  the stream ARN as encryption context `aws:kinesis:arn`.
  https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html

Pure data (no aws_cdk import).
"""

from __future__ import annotations

import re

SUBSCRIPTION_FILTERS_PER_LOG_GROUP = 2
"""At most two subscription filters per log group (a third fails the deployment)."""
MAX_FILTER_PATTERN_LENGTH = 1024
"""`FilterPattern` is at most 1024 characters."""

LOGS_PRINCIPAL = "logs.amazonaws.com"
"""The service principal CloudWatch Logs assumes a subscription's role as."""
SOURCE_ARN_CONDITION = "aws:SourceArn"
"""The confused-deputy guard AWS's examples put on that trust (StringLike, this account's
CloudWatch Logs ARNs)."""

KINESIS_PUT_ACTIONS = ("kinesis:PutRecord", "kinesis:PutRecords")
"""What the role may do on the Kinesis stream (nothing else: no reads, no describe)."""
FIREHOSE_PUT_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")
"""What the role may do on the Firehose stream."""
KINESIS_PRODUCER_KEY_ACTIONS = ("kms:GenerateDataKey",)
"""What a producer needs on the customer-managed key of an encrypted Kinesis stream."""
KINESIS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:kinesis:arn"
"""The condition key that ties a use of the key to one stream."""
FIREHOSE_DIRECT_PUT = "DirectPut"
"""The only Firehose source type that accepts PutRecord (a Kinesis-sourced stream refuses it)."""

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
"""An AWS region name (us-east-1, ap-southeast-2, us-gov-west-1, cn-north-1)."""
DESTINATION_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):logs:(?P<region>[^:]*):(?P<account>[^:]*)"
    r":destination:(?P<name>[^:]+)$"
)
"""A CloudWatch Logs destination ARN: arn:<partition>:logs:<region>:<account>:destination:<name>."""
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")

FORWARDING_METADATA = "SecureConstructs::LogForwarding"
"""Template Metadata that says the stack forwards its logs: {"DestinationArn": <the ARN>}.
`forward_logs` writes it; a hand-written template writes it to have the `LogForwarding` rule
check that every log group is subscribed to that destination."""
