"""A SecureApi's alarms: 5XX errors, the 4XX rate, and p99 latency against the longest
integration timeout of its routes."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns

from secure_constructs.api.props import MAX_INTEGRATION_TIMEOUT_SECONDS
from secure_constructs.defaults import API_LATENCY_ALARM_RATIO
from secure_constructs.monitoring import alarm

LATENCY_ALARM_RATIO = API_LATENCY_ALARM_RATIO


@dataclass(frozen=True)
class ApiAlarms:
    server_error: cloudwatch.Alarm
    client_error_rate: cloudwatch.Alarm
    latency: cloudwatch.Alarm


def latency_threshold_ms(threshold: cdk.Duration | None, longest_seconds: float) -> float:
    """The p99 latency threshold: `threshold` when given and concrete, else 80% of the
    longest integration timeout (29 s before any route)."""
    if threshold is not None and not threshold.is_unresolved():
        return float(threshold.to_milliseconds())
    seconds = longest_seconds or MAX_INTEGRATION_TIMEOUT_SECONDS
    return round(seconds * 1000 * LATENCY_ALARM_RATIO)


def integration_seconds(handler_seconds: float | None) -> float:
    """How long API Gateway waits for a handler: its timeout, at most 29 s."""
    seconds = float(MAX_INTEGRATION_TIMEOUT_SECONDS)
    if handler_seconds is not None:
        seconds = min(seconds, handler_seconds)
    return seconds


def set_threshold(target: cloudwatch.Alarm, threshold: float) -> None:
    cfn_alarm: cloudwatch.CfnAlarm = target.node.default_child  # type: ignore[assignment]
    cfn_alarm.threshold = threshold


def add_alarms(
    api: apigateway.RestApi,
    topic: sns.ITopic,
    *,
    client_error_rate: float,
    latency_ms: float,
) -> ApiAlarms:
    """The API's three alarms (children of `api`), each notifying `topic`."""
    minute = cdk.Duration.minutes(1)
    server_error = alarm(
        api,
        "ServerErrorAlarm",
        metric=api.metric_server_error(period=minute, statistic="Sum"),
        threshold=0,
        description="The API returned 5XX errors",
        topic=topic,
    )
    client_error = alarm(
        api,
        "ClientErrorRateAlarm",
        metric=api.metric_client_error(period=cdk.Duration.minutes(5), statistic="Average"),
        threshold=client_error_rate,
        description=(
            f"More than {client_error_rate:.0%} of requests in 5 minutes ended in a 4XX "
            "(probing, broken clients, or WAF / authorizer rejections)"
        ),
        topic=topic,
    )
    latency = alarm(
        api,
        "LatencyAlarm",
        metric=api.metric_latency(period=minute, statistic="p99"),
        threshold=latency_ms,
        description="p99 latency above 80% of the longest integration timeout",
        topic=topic,
    )
    return ApiAlarms(server_error, client_error, latency)
