"""Defaults and AWS limits of event triggers, in one place (constructs and rules import them).

Pure Python: the rules import it, and `secure-constructs audit` never starts jsii.
"""

from __future__ import annotations

from secure_constructs.facts.lambda_facts import DEFAULT_TIMEOUT_SECONDS

# CDK's construct id of its per-stack S3 notifications handler (aws-s3/lib/notifications-resource).
BUCKET_NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

# What a service writing to a queue or topic as its service principal needs of the customer
# managed key encrypting it (SQS Developer Guide, "Key management", Configure KMS permissions for
# AWS services: kms:GenerateDataKey and kms:Decrypt for the service principal; the same for SNS
# topics, Amazon SNS Developer Guide, "Configuring AWS KMS permissions" for AWS services that
# publish). Read by the constructs that write such statements and by ServiceWriterKeyAccess.
SERVICE_WRITER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

EVENTBRIDGE_PRINCIPAL = "events.amazonaws.com"
# What EventBridge needs of a customer managed key to send to an encrypted dead-letter queue
# (EventBridge User Guide, "Using dead-letter queues to process undelivered events").
EVENTBRIDGE_DLQ_KEY_ACTIONS = SERVICE_WRITER_KEY_ACTIONS
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"  # alarm actions publishing to a topic
S3_PRINCIPAL = "s3.amazonaws.com"  # event notifications sent to a queue or topic
# Alerts other services publish to a topic as their service principal (an encrypted topic's key
# must allow them kms:GenerateDataKey and kms:Decrypt: AWS Budgets User Guide, "Creating an
# Amazon SNS topic for budget notifications"; AWS CloudTrail User Guide, "Configuring Amazon SNS
# notifications"; AWS Backup Developer Guide, "Backup vault events" / SNS notifications).
BUDGETS_PRINCIPAL = "budgets.amazonaws.com"
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
BACKUP_PRINCIPAL = "backup.amazonaws.com"

# AWS: set the source queue's visibility timeout to at least six times the function timeout
# (Lambda Developer Guide, "Using Lambda with Amazon SQS", configuring a queue).
SQS_VISIBILITY_TIMEOUT_RATIO = 6

# Lambda's and SQS's defaults when a template leaves the property out.
SQS_DEFAULT_VISIBILITY_SECONDS = 30
LAMBDA_DEFAULT_TIMEOUT_SECONDS = DEFAULT_TIMEOUT_SECONDS

# fn.add_queue_trigger: defaults, and Lambda's limits for SQS event sources
# (AWS::Lambda::EventSourceMapping ScalingConfig.MaximumConcurrency 2-1000; BatchSize 1-10
# without a batching window).
QUEUE_TRIGGER_BATCH_SIZE = 10
QUEUE_TRIGGER_BATCH_SIZE_RANGE = (1, 10)
QUEUE_TRIGGER_MAX_CONCURRENCY = 2
QUEUE_TRIGGER_MAX_CONCURRENCY_RANGE = (2, 1000)

# fn.add_stream_trigger (DynamoDB streams, Kinesis): defaults, and Lambda's limits for stream
# event sources (Lambda Developer Guide, "Lambda parameters for Amazon Kinesis Data Streams
# event source mappings" and the DynamoDB equivalent: BatchSize 1-10,000, MaximumRetryAttempts
# -1 (infinite) or 0-10,000, MaximumRecordAgeInSeconds -1 (infinite) or 60-604,800). -1 is
# refused: a failing batch would block its shard until the records expire (up to a year on
# Kinesis, a day on DynamoDB).
STREAM_UNBOUNDED = -1  # MaximumRetryAttempts / MaximumRecordAgeInSeconds: retry until expiry
STREAM_TRIGGER_BATCH_SIZE = 100
STREAM_TRIGGER_BATCH_SIZE_RANGE = (1, 10_000)
STREAM_TRIGGER_RETRY_ATTEMPTS = 2
STREAM_TRIGGER_RETRY_ATTEMPTS_RANGE = (0, 10_000)
STREAM_TRIGGER_MAX_RECORD_AGE_SECONDS = 3600
STREAM_TRIGGER_MAX_RECORD_AGE_RANGE_SECONDS = (60, 604_800)
STREAM_TRIGGER_BISECT_BATCH_ON_ERROR = True
# Read from the oldest retained record: a record written between the stream's creation and the
# mapping's is not skipped (LATEST would skip it).
STREAM_TRIGGER_STARTING_POSITION = "TRIM_HORIZON"

SNS_PRINCIPAL = "sns.amazonaws.com"
# What SNS needs of a customer managed key to send to an encrypted queue (here: a subscription's
# dead-letter queue): SQS Developer Guide, "Key management", Configure KMS permissions for AWS
# services (key policy statement for the service principal with kms:GenerateDataKey and
# kms:Decrypt); Amazon SNS Developer Guide, "Amazon SNS dead-letter queues" (an encrypted DLQ
# needs a customer managed key whose policy grants the SNS service principal).
SNS_DLQ_KEY_ACTIONS = SERVICE_WRITER_KEY_ACTIONS

# Targets of an EventBridge rule that invoke a SecureFunction and set no RetryPolicy get this one
# (EventBridge's own default is 185 attempts over 24 hours). EventBridge's limits:
# MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86,400.
EVENT_TARGET_RETRY_ATTEMPTS = 2
# The largest RetryPolicy EventBridge and Scheduler accept, which is also what they use for a
# field left out (EventBridge API Reference, RetryPolicy: MaximumRetryAttempts 0-185, default
# 185; MaximumEventAgeInSeconds 60-86400, default 86400; EventBridge Scheduler API Reference,
# RetryPolicy, the same). A policy at these values bounds nothing.
EVENT_TARGET_MAX_RETRY_ATTEMPTS = 185
EVENT_TARGET_MAX_EVENT_AGE_LIMIT_SECONDS = 86_400
EVENT_TARGET_MAX_EVENT_AGE_SECONDS = 3600

# fn.add_schedule (EventBridge Scheduler): defaults, and Scheduler's limits (AWS::Scheduler::
# Schedule RetryPolicy: MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86,400;
# FlexibleTimeWindow MaximumWindowInMinutes 1-1,440).
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
SCHEDULE_RETRY_ATTEMPTS = 2
SCHEDULE_RETRY_ATTEMPTS_RANGE = (0, 185)
SCHEDULE_MAX_EVENT_AGE_SECONDS = 3600
SCHEDULE_MAX_EVENT_AGE_RANGE_SECONDS = (60, 86_400)
SCHEDULE_FLEXIBLE_WINDOW_RANGE_MINUTES = (1, 1440)
