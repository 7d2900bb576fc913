"""CloudWatch's documented limits and formats that the monitoring of our constructs relies on
(CloudWatch User Guide: "Limits" of alarms, "Using CloudWatch anomaly detection", dashboard body
structure; CloudWatch Logs: metric filters; Lambda: JSON system logs; API Gateway: gateway
response types)."""

from __future__ import annotations

METRIC_MATH_ALARM_MAX_METRICS = 10
"""An alarm on a metric math expression can reference at most 10 metrics, a hard limit
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html)."""

ANOMALY_MODEL_TRAINING_DAYS = 14
"""An anomaly detection model trains on up to two weeks of the metric's history; until it has
enough data the band is missing and the alarm stays INSUFFICIENT_DATA
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Anomaly_Detection.html)."""

ANOMALY_COMPARISONS = (
    "GreaterThanUpperThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
)
"""The comparison operators an alarm on an ANOMALY_DETECTION_BAND threshold may use."""

ANOMALY_METRICS_PER_ALARM = 3
"""CloudWatch bills an anomaly detection alarm as three standard-resolution alarm metrics (the
metric and the band's upper and lower bounds; https://aws.amazon.com/cloudwatch/pricing/)."""

METRIC_FILTER_MAX_TRANSFORMATIONS = 1
"""A metric filter publishes exactly one metric (AWS::Logs::MetricFilter MetricTransformations
"currently you can specify only one"); its dimension values can only come from fields of the
log event, never literals."""

DASHBOARD_GRID_WIDTH = 24
"""A dashboard row is 24 grid units wide."""

# -- Lambda's JSON system logs -----------------------------------------------------------------
LAMBDA_REPORT_TYPE = "platform.report"
"""The `type` of the per-invocation report record of a function with JSON logs; Lambda sends it
at system log level INFO or more detailed, not at WARN
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html)."""
LAMBDA_INIT_DURATION_FIELD = "$.record.metrics.initDurationMs"
"""The report record's init duration, present only on the first invocation of an execution
environment, i.e. a cold start (Telemetry API `platform.report` schema,
https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-report)."""

# -- API Gateway access logs ------------------------------------------------------------------
DENIAL_STATUSES = ("401", "403")
"""The statuses of requests refused by an authorizer, IAM authorization or a missing / invalid
token or API key ($context.status in the access log; gateway response types UNAUTHORIZED,
ACCESS_DENIED, MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE, EXPIRED_TOKEN,
INVALID_API_KEY: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)."""
WAF_FILTERED_RESPONSE_TYPE = "WAF_FILTERED"
"""The gateway response type of a request a web ACL blocked (a 403 counted by the WAF alarm,
not as an authorizer denial)."""

# -- our custom metrics ------------------------------------------------------------------------
INIT_DURATION_NAMESPACE = "SecureConstructs/Lambda/InitDuration"
"""Namespace of the cold-start metrics: one metric per function, named after the function (a
metric filter cannot set a literal FunctionName dimension); its SampleCount is the number of
cold starts, its p99 the init duration."""
DENIALS_NAMESPACE = "SecureConstructs/ApiGateway/Denials"
"""Namespace of the denial counts: one metric per REST API, named after its id."""
