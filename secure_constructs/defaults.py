"""What a user gets when they pass nothing: every default of the constructs and the checks,
in one place (AWS's own limits are in `secure_constructs.facts`).

Plain numbers and names only (no aws_cdk import), so the rules and the CLI read the same
defaults as the constructs; each construct turns them into `Duration`s and enums.
"""

from __future__ import annotations

from secure_constructs.facts.lambda_facts import ASYNC_RETRY_RANGE

# -- SecureFunction ----------------------------------------------------------------------------
FUNCTION_TIMEOUT_SECONDS = 10
FUNCTION_MEMORY_MB = 256
FUNCTION_RETRY_ATTEMPTS = ASYNC_RETRY_RANGE[1]
"""Asynchronous retries: as many as Lambda allows (2), each failure then reaching the DLQ."""
FUNCTION_MAX_EVENT_AGE_SECONDS = 3600
DURATION_ALARM_RATIO = 0.8
"""The duration alarm fires at this share of the function's timeout."""

# -- logs (functions, APIs, web ACLs) ----------------------------------------------------------
LOG_RETENTION = "ONE_YEAR"
"""The member of `aws_logs.RetentionDays` every log group gets."""

# -- SecureApi and ApiAuth ---------------------------------------------------------------------
API_STAGE_NAME = "prod"
API_RATE_LIMIT = 100.0
"""Stage throttling: steady requests per second."""
API_BURST_LIMIT = 200
"""Stage throttling: the burst bucket, in requests."""
API_CLIENT_ERROR_RATE = 0.05
"""The 4XX alarm fires above this share of requests."""
API_LATENCY_ALARM_RATIO = 0.8
"""The latency alarm fires at this share of the longest integration timeout."""
AUTHORIZER_CACHE_TTL_SECONDS = 300
"""How long API Gateway caches a Lambda authorizer's decision."""

# -- SecureWebAcl and WafProfile ---------------------------------------------------------------
WAF_BASELINE_RATE_LIMIT = 1000
"""Requests per source IP per 5 minutes, `WafProfile.baseline()`."""
WAF_STRICT_RATE_LIMIT = 300
"""Requests per source IP per 5 minutes, `WafProfile.strict()`."""
WAF_BLOCKED_REQUESTS_THRESHOLD = 100
"""The blocked-requests alarm fires above this many per 5 minutes."""

# -- secrets -----------------------------------------------------------------------------------
ROTATION_DAYS = 30
SECRETS_CACHE_TTL_SECONDS = 300
"""How long `SecretsCache.extension()` / `.powertools()` keep a value."""

# -- the SecureServerless pack -----------------------------------------------------------------
CHECKS_MAX_TIMEOUT_SECONDS = 60
"""The LambdaTimeout rule's cap (`apply_checks(max_timeout=...)`)."""

# -- SecureStateMachine and its Lambda tasks ---------------------------------------------------
STATE_MACHINE_TIMEOUT_SECONDS = 300
"""The execution timeout (`TimeoutSeconds` of the definition) when none is passed: 5 minutes."""
STATE_MACHINE_MAX_TIMEOUT_SECONDS = 24 * 3600
"""Our cap on a SecureStateMachine's execution timeout: one day (AWS allows a year for Standard
workflows; a longer wait is a callback or a schedule, not one execution)."""
STATE_MACHINE_LOG_LEVEL = "ALL"
"""The member of `aws_stepfunctions.LogLevel` a state machine logs at."""
STATE_MACHINE_KEY_REUSE_SECONDS = 300
"""How long Step Functions reuses a data key of the stack key (`KmsDataKeyReusePeriodSeconds`)."""
LAMBDA_TASK_TIMEOUT_MARGIN_SECONDS = 5
"""A Lambda task's timeout, when none is passed: the function's timeout plus this margin, so the
function's own timeout (with its error) comes first."""
LAMBDA_TASK_RETRY_ATTEMPTS = 3
"""Retries of a Lambda task on Lambda's transient errors (`MaxAttempts`)."""
LAMBDA_TASK_RETRY_INTERVAL_SECONDS = 1
"""The first retry's wait (`IntervalSeconds`)."""
LAMBDA_TASK_RETRY_BACKOFF_RATE = 2.0
"""Each further wait is this many times the previous one (`BackoffRate`)."""
LAMBDA_TASK_RETRY_MAX_DELAY_SECONDS = 30
"""No wait is longer than this (`MaxDelaySeconds`); the jitter is FULL (`JitterStrategy`)."""

# -- log forwarding (forward_logs) -------------------------------------------------------------
LOG_FORWARDING_FILTER_PATTERN = ""
"""The subscription filters' pattern: the empty pattern matches every log event."""
LOG_STREAM_SHARD_COUNT = 1
"""Shards of the Kinesis stream `LogDestination.kinesis()` creates (1 MB/s or 1,000 records/s
in, provisioned mode)."""
LOG_STREAM_RETENTION_HOURS = 24
"""How long that stream keeps records (Kinesis's included retention; longer costs extra)."""

# -- stack monitoring (secure_constructs.observability) ----------------------------------------
ANOMALY_BAND_WIDTH = 3.0
"""Standard deviations of the traffic anomaly band (CloudWatch's console default is 2: wider,
so ordinary daily swings do not page)."""
ANOMALY_PERIOD_MINUTES = 5
ANOMALY_EVALUATION_PERIODS = 3
ANOMALY_DATAPOINTS_TO_ALARM = 3
"""Three 5-minute periods out of three above the band: a sustained surge, not one burst."""
ANOMALY_MIN_REQUESTS = 100
"""The minimum-traffic guard: below this many requests (or invocations) per period the alarm's
value is 0, so a quiet or new service never pages on its first requests."""
DENIAL_RATE_THRESHOLD = 0.1
"""The denial alarm fires when more than this share of an API's requests in 5 minutes were
refused with 401/403 by authorization (WAF blocks excluded)."""
DENIAL_MIN_REQUESTS = 20
"""The denial rate is 0 below this many requests per 5 minutes (one expired token is no attack)."""
WAF_BLOCKED_RATE_THRESHOLD = 0.1
"""The WAF alarm fires when the web ACL blocked more than this share of requests in 5 minutes."""
WAF_BLOCKED_RATE_MIN_REQUESTS = 50
"""The blocked rate is 0 below this many requests (allowed + blocked) per 5 minutes."""
DASHBOARD_CONTEXT_KEY = "secure_constructs:dashboard"
"""Context key: `false` turns off the per-stack dashboard for the whole app."""
