"""Defaults and AWS limits of event triggers, in one place (constructs and rules import them).

Pure Python: the rules import it, and `secure-constructs audit` never starts jsii.
"""

from __future__ import annotations

from secure_constructs.facts.lambda_facts import DEFAULT_TIMEOUT_SECONDS

# CDK's construct id of its per-stack S3 notifications handler (aws-s3/lib/notifications-resource).
BUCKET_NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

EVENTBRIDGE_PRINCIPAL = "events.amazonaws.com"
# What EventBridge needs of a customer managed key to send to an encrypted dead-letter queue
# (EventBridge User Guide, "Using dead-letter queues to process undelivered events").
EVENTBRIDGE_DLQ_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

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
