"""The per-stack dashboard's rows: one per SecureFunction, one per SecureApi, one per
SecureStateMachine, one per rotated SecureSecret, and any row a caller adds
(`add_dashboard_row`), in the order they are added.

Each row is a one-line title and up to four 6x6 graphs (a dashboard row is 24 units wide).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from secure_constructs import durations
from secure_constructs.defaults import DURATION_ALARM_RATIO
from secure_constructs.facts.cloudwatch_facts import DASHBOARD_GRID_WIDTH
from secure_constructs.observability import cold_starts, security_signals

if TYPE_CHECKING:  # type hints only: importing aws_stepfunctions costs every app ~50 ms
    from aws_cdk import aws_events as events
    from aws_cdk import aws_stepfunctions as sfn

WIDGET_HEIGHT = 6
TITLE_HEIGHT = 1


def title(text: str) -> cloudwatch.TextWidget:
    """A row's one-line title."""
    return cloudwatch.TextWidget(
        markdown=f"### {text}", width=DASHBOARD_GRID_WIDTH, height=TITLE_HEIGHT
    )


def graph(
    name: str,
    left: Sequence[cloudwatch.IMetric],
    right: Sequence[cloudwatch.IMetric] = (),
    *,
    width: int = DASHBOARD_GRID_WIDTH // 4,
    annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
) -> cloudwatch.GraphWidget:
    """A 6-unit graph (four to a row)."""
    return cloudwatch.GraphWidget(
        title=name,
        left=list(left),
        right=list(right),
        width=width,
        height=WIDGET_HEIGHT,
        left_annotations=list(annotations) or None,
    )


def _depth(name: str, queue: sqs.IQueue) -> cloudwatch.GraphWidget:
    """A queue's depth: the most messages visible in each minute."""
    return graph(
        name,
        [
            queue.metric_approximate_number_of_messages_visible(
                period=durations.minutes(1), statistic="Maximum"
            )
        ],
    )


def function_widgets(
    fn: lambda_.Function, timeout_seconds: float | None, queue: sqs.IQueue
) -> list[cloudwatch.IWidget]:
    """Invocations and cold starts; errors and throttles; p99 duration against the timeout
    (and the alarm line at 80%) with the p99 init duration; the dead-letter queue's depth."""
    annotations = []
    if timeout_seconds is not None:
        timeout_ms = timeout_seconds * 1000
        annotations = [
            cloudwatch.HorizontalAnnotation(value=timeout_ms, label="timeout"),
            cloudwatch.HorizontalAnnotation(
                value=round(timeout_ms * DURATION_ALARM_RATIO), label="duration alarm"
            ),
        ]
    return [
        graph(
            "Invocations / cold starts",
            [fn.metric_invocations(period=durations.minutes(1), statistic="Sum")],
            [cold_starts.cold_starts(fn)],
        ),
        graph(
            "Errors / throttles",
            [
                fn.metric_errors(period=durations.minutes(1), statistic="Sum"),
                fn.metric_throttles(period=durations.minutes(1), statistic="Sum"),
            ],
        ),
        graph(
            "p99 duration vs timeout (ms)",
            [fn.metric_duration(period=durations.minutes(1), statistic="p99")],
            [cold_starts.init_duration(fn)],
            annotations=annotations,
        ),
        _depth("Dead-letter queue depth", queue),
    ]


def api_widgets(
    api: apigateway.RestApi,
    waf_blocked: cloudwatch.IMetric | None,
    waf_allowed: cloudwatch.IMetric | None,
) -> list[cloudwatch.IWidget]:
    """Requests (and the web ACL's allowed / blocked); 4XX / 5XX; p99 latency; denial and
    blocked rates with the denial count."""
    waf = [m for m in (waf_allowed, waf_blocked) if m is not None]
    rates: list[cloudwatch.IMetric] = [security_signals.denial_rate(api)]
    if waf_blocked is not None and waf_allowed is not None:
        rates.append(security_signals.blocked_rate(waf_blocked, waf_allowed))
    return [
        graph(
            "Requests / WAF allowed, blocked",
            [api.metric_count(period=durations.minutes(1), statistic="Sum")],
            waf,
        ),
        graph(
            "4XX / 5XX",
            [
                api.metric_client_error(period=durations.minutes(1), statistic="Sum"),
                api.metric_server_error(period=durations.minutes(1), statistic="Sum"),
            ],
        ),
        graph(
            "p99 latency (ms)",
            [
                api.metric_latency(period=durations.minutes(1), statistic="p99"),
                api.metric_integration_latency(period=durations.minutes(1), statistic="p99"),
            ],
        ),
        graph("Denial / blocked rate", rates, [security_signals.denials(api)]),
    ]


def secret_widgets(rule: events.IRule) -> list[cloudwatch.IWidget]:
    """Rotation failures: the times the secret's RotationFailed rule matched (and failed to
    deliver to the alarm topic)."""

    def rule_metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name=name,
            dimensions_map={"RuleName": rule.rule_name},
            statistic="Sum",
            period=durations.minutes(5),
        )

    return [
        graph(
            "Rotation failures",
            [rule_metric("TriggeredRules")],
            [rule_metric("FailedInvocations")],
            width=DASHBOARD_GRID_WIDTH // 2,
        )
    ]


def workflow_widgets(machine: sfn.StateMachine, timeout_seconds: int) -> list[cloudwatch.IWidget]:
    """Started and succeeded executions; failed, timed-out and throttled ones (its three alarms'
    metrics); p99 execution time against the execution timeout."""
    return [
        graph(
            "Executions started / succeeded",
            [
                machine.metric_started(period=durations.minutes(1), statistic="Sum"),
                machine.metric_succeeded(period=durations.minutes(1), statistic="Sum"),
            ],
        ),
        graph(
            "Failed / timed out / throttled",
            [
                machine.metric_failed(period=durations.minutes(1), statistic="Sum"),
                machine.metric_timed_out(period=durations.minutes(1), statistic="Sum"),
                machine.metric_throttled(period=durations.minutes(1), statistic="Sum"),
            ],
        ),
        graph(
            "p99 execution time vs timeout (ms)",
            [machine.metric_time(period=durations.minutes(1), statistic="p99")],
            annotations=[
                cloudwatch.HorizontalAnnotation(value=timeout_seconds * 1000, label="timeout")
            ],
            width=DASHBOARD_GRID_WIDTH // 2,
        ),
    ]


def queue_trigger_widgets(
    queue: sqs.IQueue, redrive: sqs.IQueue | None
) -> list[cloudwatch.IWidget]:
    """A queue trigger's backlog: messages waiting, the oldest one's age, and the depth of
    `redrive` (the queue's redrive queue, when it has one)."""
    widgets: list[cloudwatch.IWidget] = [
        graph(
            "Messages waiting",
            [queue.metric_approximate_number_of_messages_visible(period=durations.minutes(1))],
        ),
        graph(
            "Age of the oldest message (s)",
            [
                queue.metric_approximate_age_of_oldest_message(
                    period=durations.minutes(1), statistic="Maximum"
                )
            ],
        ),
    ]
    if redrive is not None:
        widgets.append(_depth("Redrive queue depth", redrive))
    return widgets


def stream_trigger_widgets(
    fn: lambda_.Function, on_failure: sqs.IQueue
) -> list[cloudwatch.IWidget]:
    """A stream trigger's lag (the function's IteratorAge) and its on-failure queue."""
    return [
        graph(
            "Iterator age (ms)",
            [fn.metric("IteratorAge", period=durations.minutes(1), statistic="Maximum")],
        ),
        _depth("On-failure queue depth", on_failure),
    ]
