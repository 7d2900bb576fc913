"""Cold starts of a SecureFunction, from its own JSON logs: one metric filter on the function's
log group turns each `platform.report` record carrying `initDurationMs` (only a cold start's
report has it) into a datapoint of a custom metric named after the function.

One filter, one metric: its SampleCount is the number of cold starts, its p99 the init
duration. A metric filter publishes one metric and cannot set a literal dimension (dimension
values come from log fields, and the report record has no function name), so the metric is
named after the function in the `SecureConstructs/Lambda/InitDuration` namespace.
Lambda writes the report record at system log level INFO, which SecureFunction sets.
"""

from __future__ import annotations

from functools import cache

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from secure_constructs import durations
from secure_constructs.facts.cloudwatch_facts import (
    INIT_DURATION_NAMESPACE,
    LAMBDA_INIT_DURATION_FIELD,
    LAMBDA_REPORT_TYPE,
)
from secure_constructs.jsii_refs import read_once
from secure_constructs.monitoring import alarm

FILTER_ID = "ColdStartFilter"
"""The construct id of the metric filter, a child of the function."""
ALARM_ID = "InitDurationAlarm"
"""The construct id of the optional p99 init-duration alarm, a child of the function."""


@cache
def init_duration_pattern() -> logs.IFilterPattern:
    """`{ ($.type = "platform.report") && ($.record.metrics.initDurationMs >= 0) }` (made once
    per process: a pattern is immutable, and each part is a round trip to the jsii kernel)."""
    return logs.FilterPattern.all(
        logs.FilterPattern.string_value("$.type", "=", LAMBDA_REPORT_TYPE),
        logs.FilterPattern.number_value(LAMBDA_INIT_DURATION_FIELD, ">=", 0),
    )


# Read by each metric and the filter: once per function, by kernel reference (a subclass may
# define __eq__ / __hash__, so not by Python object).
_NAMES: dict[str, str] = {}


def function_name_of(fn: lambda_.IFunction) -> str:
    """`fn.function_name`, read from the jsii kernel once per function."""
    return read_once(fn, _NAMES, lambda: fn.function_name)


def add_cold_start_filter(fn: lambda_.Function, log_group: logs.ILogGroup) -> logs.MetricFilter:
    """The metric filter of `fn`'s cold starts on `log_group` (a child of `fn`)."""
    return logs.MetricFilter(
        fn,
        FILTER_ID,
        log_group=log_group,
        filter_pattern=init_duration_pattern(),
        metric_namespace=INIT_DURATION_NAMESPACE,
        metric_name=function_name_of(fn),
        metric_value=LAMBDA_INIT_DURATION_FIELD,
        unit=cloudwatch.Unit.MILLISECONDS,
    )


def init_duration(fn: lambda_.IFunction, statistic: str = "p99") -> cloudwatch.Metric:
    """The function's init duration (p99 by default) over 5 minutes."""
    return cloudwatch.Metric(
        namespace=INIT_DURATION_NAMESPACE,
        metric_name=function_name_of(fn),
        statistic=statistic,
        period=durations.minutes(5),
        unit=cloudwatch.Unit.MILLISECONDS,
        label="p99 init duration" if statistic == "p99" else statistic,
    )


def cold_starts(fn: lambda_.IFunction) -> cloudwatch.Metric:
    """The number of cold starts in 5 minutes (SampleCount of the init duration)."""
    return cloudwatch.Metric(
        namespace=INIT_DURATION_NAMESPACE,
        metric_name=function_name_of(fn),
        statistic="SampleCount",
        period=durations.minutes(5),
        label="cold starts",
    )


def add_init_duration_alarm(
    fn: lambda_.Function, threshold: cdk.Duration, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """An alarm when the p99 init duration of 5 minutes is above `threshold`."""
    ms = threshold.to_milliseconds()
    return alarm(
        fn,
        ALARM_ID,
        metric=init_duration(fn),
        threshold=ms,
        description=f"p99 cold-start init duration above {ms:g} ms",
        topic=topic,
    )
