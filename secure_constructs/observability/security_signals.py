"""Security signals as rates, not only counts: the share of an API's requests refused by
authorization (401/403 from the access log: AWS/ApiGateway has no per-status metric), and the
share of a web ACL's requests it blocked. A spike in either is an attack signal (credential
stuffing, token probing, a scan) that a count threshold misses on a busy API and over-reports
on a quiet one; below a minimum number of requests the rate reads 0."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from secure_constructs import durations
from secure_constructs.defaults import (
    DENIAL_MIN_REQUESTS,
    DENIAL_RATE_THRESHOLD,
    WAF_BLOCKED_RATE_MIN_REQUESTS,
    WAF_BLOCKED_RATE_THRESHOLD,
)
from secure_constructs.facts.cloudwatch_facts import (
    DENIAL_STATUSES,
    DENIALS_NAMESPACE,
    WAF_FILTERED_RESPONSE_TYPE,
)
from secure_constructs.monitoring import alarm

DENIAL_FILTER_ID = "DenialsFilter"
DENIAL_ALARM_ID = "DenialRateAlarm"
BLOCKED_RATE_ALARM_ID = "BlockedRateAlarm"


def denial_pattern() -> logs.IFilterPattern:
    """Access-log records with status 401 or 403 that a web ACL did not block."""
    return logs.FilterPattern.all(
        logs.FilterPattern.any(
            *(logs.FilterPattern.string_value("$.status", "=", s) for s in DENIAL_STATUSES)
        ),
        logs.FilterPattern.string_value("$.errorResponseType", "!=", WAF_FILTERED_RESPONSE_TYPE),
    )


def denials(api: apigateway.IRestApi) -> cloudwatch.Metric:
    """Requests refused by authorization in 5 minutes (Sum of the access-log metric)."""
    return cloudwatch.Metric(
        namespace=DENIALS_NAMESPACE,
        metric_name=api.rest_api_id,
        statistic="Sum",
        period=durations.minutes(5),
        label="denials (401/403)",
    )


def denial_rate(api: apigateway.RestApi) -> cloudwatch.MathExpression:
    """denials / requests over 5 minutes; 0 below `DENIAL_MIN_REQUESTS` requests."""
    return cloudwatch.MathExpression(
        expression=(f"IF(requests >= {DENIAL_MIN_REQUESTS}, FILL(denials, 0) / requests, 0)"),
        using_metrics={
            "denials": denials(api),
            "requests": api.metric_count(period=durations.minutes(5), statistic="Sum"),
        },
        period=durations.minutes(5),
        label="denial rate",
    )


def add_denial_alarm(
    api: apigateway.RestApi, access_logs: logs.ILogGroup, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """The denial metric filter on the API's access log and its rate alarm (children of `api`)."""
    logs.MetricFilter(
        api,
        DENIAL_FILTER_ID,
        log_group=access_logs,
        filter_pattern=denial_pattern(),
        metric_namespace=DENIALS_NAMESPACE,
        metric_name=api.rest_api_id,
        metric_value="1",
        unit=cloudwatch.Unit.COUNT,
    )
    return alarm(
        api,
        DENIAL_ALARM_ID,
        metric=denial_rate(api),
        threshold=DENIAL_RATE_THRESHOLD,
        description=(
            f"More than {DENIAL_RATE_THRESHOLD:.0%} of requests in 5 minutes were refused by "
            f"authorization (401/403, at least {DENIAL_MIN_REQUESTS} requests): credential "
            "stuffing, token probing, or a client with broken credentials"
        ),
        topic=topic,
    )


def blocked_rate(
    blocked: cloudwatch.IMetric, allowed: cloudwatch.IMetric
) -> cloudwatch.MathExpression:
    """blocked / (allowed + blocked) over 5 minutes; 0 below the minimum number of requests."""
    total = "FILL(allowed, 0) + FILL(blocked, 0)"
    return cloudwatch.MathExpression(
        expression=(
            f"IF({total} >= {WAF_BLOCKED_RATE_MIN_REQUESTS}, FILL(blocked, 0) / ({total}), 0)"
        ),
        using_metrics={"blocked": blocked, "allowed": allowed},
        period=durations.minutes(5),
        label="blocked rate",
    )


def add_blocked_rate_alarm(
    scope: Construct,
    blocked: cloudwatch.IMetric,
    allowed: cloudwatch.IMetric,
    topic: sns.ITopic,
) -> cloudwatch.Alarm:
    """The web ACL's blocked-rate alarm (a child of `scope`)."""
    return alarm(
        scope,
        BLOCKED_RATE_ALARM_ID,
        metric=blocked_rate(blocked, allowed),
        threshold=WAF_BLOCKED_RATE_THRESHOLD,
        description=(
            f"The web ACL blocked more than {WAF_BLOCKED_RATE_THRESHOLD:.0%} of requests in 5 "
            f"minutes (at least {WAF_BLOCKED_RATE_MIN_REQUESTS} requests): an attack, or a "
            "false positive locking out users"
        ),
        topic=topic,
    )
