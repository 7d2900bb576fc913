"""AWS Step Functions' documented limits and names (Step Functions Developer Guide: "Step
Functions service quotas", "Handling errors in Step Functions workflows", "Monitoring Step
Functions metrics using Amazon CloudWatch", "Data at rest encryption in Step Functions")."""

from __future__ import annotations

STANDARD_MAX_EXECUTION_SECONDS = 365 * 24 * 3600
"""The longest a Standard workflow execution may run: one year."""
EXPRESS_MAX_EXECUTION_SECONDS = 300
"""The longest an Express workflow execution may run: five minutes."""

LAMBDA_TRANSIENT_ERRORS: tuple[str, ...] = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""The errors of Lambda's Invoke API that are transient, which AWS's best practice says a
Lambda task should retry ("Handle transient Lambda service exceptions")."""

DEFAULT_RETRY_MAX_ATTEMPTS = 3
"""A retrier's MaxAttempts when it leaves it out (Amazon States Language, "Retrying after an
error": MaxAttempts defaults to 3; 0 means the error is never retried)."""
RETRIED_ERRORS: tuple[str, ...] = ("States.ALL", "States.TaskFailed", *LAMBDA_TRANSIENT_ERRORS)
"""A Task's Retry absorbs transient errors when one retrier names one of these: every error
(States.ALL), every task failure but a timeout (States.TaskFailed), or a Lambda transient one."""

KMS_DATA_KEY_REUSE_RANGE_SECONDS = (60, 900)
"""`EncryptionConfiguration.KmsDataKeyReusePeriodSeconds`: 1 to 15 minutes."""
CUSTOMER_MANAGED_KEY_TYPE = "CUSTOMER_MANAGED_KMS_KEY"
"""`EncryptionConfiguration.Type` of a state machine encrypted with a customer managed key."""

LOG_DELIVERY_PRINCIPAL = "delivery.logs.amazonaws.com"
"""The CloudWatch Logs delivery service, which decrypts an encrypted state machine's log
events before writing them to the log group ("Data at rest encryption in Step Functions",
step 3: allow delivery.logs.amazonaws.com kms:Decrypt in the key policy)."""

LOG_DELIVERY_ACTIONS: tuple[str, ...] = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
"""What a state machine's role needs to deliver its logs to CloudWatch Logs, on Resource "*"
only ("IAM policies for logging to CloudWatch Logs"; CDK's StateMachine grants exactly these)."""
XRAY_ACTIONS: tuple[str, ...] = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
"""What a traced state machine's role needs, on Resource "*" only (CDK grants exactly these)."""

METRICS_NAMESPACE = "AWS/States"
EXECUTIONS_FAILED = "ExecutionsFailed"
EXECUTIONS_TIMED_OUT = "ExecutionsTimedOut"
EXECUTION_THROTTLED = "ExecutionThrottled"
STATE_MACHINE_DIMENSION = "StateMachineArn"
"""Execution metrics of `AWS/States` carry the state machine's ARN in this dimension."""

TASK_TIMEOUT_FIELDS = ("TimeoutSeconds", "TimeoutSecondsPath")
"""A Task state bounds each attempt with one of these (without, it waits up to the execution's
own limit: a year for a Standard workflow)."""
NESTED_STATE_TYPES = ("Parallel", "Map")
"""State types that hold further states: `Branches` (Parallel), `ItemProcessor` or `Iterator`
(Map)."""
