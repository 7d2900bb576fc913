"""A stack's monitoring, one per stack (`SecureConstructsMonitoring`): the dashboard built row
by row as secure constructs are added, the anomaly alarm(s) on the sum of the functions'
invocations, and the settings of both (`configure_monitoring`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from secure_constructs.defaults import DASHBOARD_CONTEXT_KEY
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import path_of
from secure_constructs.observability import cold_starts, dashboard, security_signals
from secure_constructs.observability.anomaly import AnomalyAlarm, AnomalyAlarmGroup, CountMetric
from secure_constructs.observability.settings import TrafficAnomaly
from secure_constructs.prop_types import check_args
from secure_constructs.shared import StackIds, alarm_topic, per_stack

if TYPE_CHECKING:  # type hints only: importing aws_stepfunctions costs every app ~50 ms
    from aws_cdk import aws_apigateway as apigateway
    from aws_cdk import aws_events as events
    from aws_cdk import aws_stepfunctions as sfn

DASHBOARD_ID = "Dashboard"
INVOCATIONS_ALARM_ID = "InvocationsAnomalyAlarm"
API_ALARM_ID = "RequestsAnomalyAlarm"
"""The child id of a SecureApi's anomaly alarm on its request count."""


class StackMonitoring(Construct):
    """The stack's dashboard and function-traffic anomaly alarms; `StackMonitoring.of(scope)`."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.function_traffic: TrafficAnomaly = TrafficAnomaly()
        self.api_traffic: TrafficAnomaly = TrafficAnomaly()
        self.init_duration_threshold: cdk.Duration | None = None
        self._dashboard_enabled = _context_allows_dashboard(self)
        self._dashboard: cloudwatch.Dashboard | None = None
        self._functions: list[tuple[lambda_.Function, sns.ITopic]] = []
        self.api_alarms: list[AnomalyAlarm] = []
        self._invocations: AnomalyAlarmGroup | None = None

    @property
    def invocations(self) -> AnomalyAlarmGroup:
        """The invocation anomaly alarms (the first is made with the first function, so a stack
        without functions gets no alarm topic from here)."""
        if self._invocations is None:
            self._invocations = AnomalyAlarmGroup(
                self,
                INVOCATIONS_ALARM_ID,
                settings=lambda: self.function_traffic,
                description=(
                    "The stack's functions were invoked far more (or less) than the anomaly "
                    "model expects from their history (a surge: abuse, scraping, a retry storm)"
                ),
                label="invocations of the stack's functions",
                topic=alarm_topic(self),
            )
        return self._invocations

    def anomaly_alarms(self) -> list[AnomalyAlarm]:
        """Every anomaly alarm of the stack: the functions' and each API's."""
        group = [] if self._invocations is None else self._invocations.alarms
        return [*group, *self.api_alarms]

    @staticmethod
    def of(scope: IConstruct) -> StackMonitoring:
        """The stack's monitoring, created on first use."""
        return per_stack(scope, StackIds.MONITORING, StackMonitoring, StackMonitoring)

    @property
    def dashboard(self) -> cloudwatch.Dashboard | None:
        """The dashboard (None until a row is added, or when turned off)."""
        return self._dashboard

    def add_row(self, heading: str, widgets: Sequence[cloudwatch.IWidget]) -> None:
        """A titled row of widgets at the bottom of the dashboard (nothing when it is off)."""
        if not self._dashboard_enabled:
            return
        if self._dashboard is None:
            self._dashboard = cloudwatch.Dashboard(self, DASHBOARD_ID)
        self._dashboard.add_widgets(dashboard.title(heading))
        self._dashboard.add_widgets(*widgets)

    def disable_dashboard(self) -> None:
        self._dashboard_enabled = False
        if self._dashboard is not None:
            self.node.try_remove_child(DASHBOARD_ID)
            self._dashboard = None

    def add_init_duration_alarms(self) -> None:
        for fn, topic in self._functions:
            if self.init_duration_threshold is not None and (
                fn.node.try_find_child(cold_starts.ALARM_ID) is None
            ):
                cold_starts.add_init_duration_alarm(fn, self.init_duration_threshold, topic)

    def observe_function(
        self,
        fn: lambda_.Function,
        *,
        log_group: logs.ILogGroup,
        timeout_seconds: float | None,
        queue: sqs.IQueue,
        topic: sns.ITopic,
    ) -> None:
        cold_starts.add_cold_start_filter(fn, log_group)
        self.invocations.add(
            CountMetric(
                "AWS/Lambda", "Invocations", {"FunctionName": cold_starts.function_name_of(fn)}
            )
        )
        self._functions.append((fn, topic))
        self.add_init_duration_alarms()
        self.add_row(
            f"Function {path_of(fn)}", dashboard.function_widgets(fn, timeout_seconds, queue)
        )


def _context_allows_dashboard(scope: IConstruct) -> bool:
    value = scope.node.try_get_context(DASHBOARD_CONTEXT_KEY)
    return value not in (False, "false", "False", "0", 0)


# -- the hooks our constructs call -------------------------------------------------------------


def observe_api(
    api: apigateway.RestApi,
    *,
    access_logs: logs.ILogGroup,
    topic: sns.ITopic,
    waf_blocked: cloudwatch.IMetric | None,
    waf_allowed: cloudwatch.IMetric | None,
) -> tuple[AnomalyAlarm, cloudwatch.Alarm]:
    """SecureApi's monitoring: the anomaly alarm on its request count, the denial-rate alarm
    (with its access-log metric filter) and its dashboard row."""
    monitoring = StackMonitoring.of(api)
    anomaly = AnomalyAlarm(
        api,
        API_ALARM_ID,
        settings=lambda: monitoring.api_traffic,
        description=(
            "The API received far more (or fewer) requests than the anomaly model expects from "
            "its history (a surge: abuse, scraping, a denial of service)"
        ),
        label="requests",
        topic=topic,
    )
    anomaly.add(CountMetric("AWS/ApiGateway", "Count", {"ApiName": api.rest_api_name}))
    monitoring.api_alarms.append(anomaly)
    denial = security_signals.add_denial_alarm(api, access_logs, topic)
    monitoring.add_row(f"API {api.node.path}", dashboard.api_widgets(api, waf_blocked, waf_allowed))
    return anomaly, denial


def observe_workflow(machine: sfn.StateMachine, timeout_seconds: int) -> None:
    """A SecureStateMachine's dashboard row (its alarms are its own)."""
    StackMonitoring.of(machine).add_row(
        f"Workflow {machine.node.path}", dashboard.workflow_widgets(machine, timeout_seconds)
    )


def observe_queue_trigger(
    fn: lambda_.Function, queue: sqs.IQueue, redrive: sqs.IQueue | None
) -> None:
    """A queue trigger's dashboard row: its backlog and `redrive`, the queue's redrive queue."""
    StackMonitoring.of(fn).add_row(
        f"Queue trigger {queue.node.path} -> {path_of(fn)}",
        dashboard.queue_trigger_widgets(queue, redrive),
    )


def observe_stream_trigger(
    fn: lambda_.Function, source: IConstruct, on_failure: sqs.IQueue
) -> None:
    """A stream trigger's dashboard row: the function's iterator age and on-failure queue."""
    StackMonitoring.of(fn).add_row(
        f"Stream trigger {source.node.path} -> {path_of(fn)}",
        dashboard.stream_trigger_widgets(fn, on_failure),
    )


def observe_secret(scope: Construct, rule: events.IRule) -> None:
    """A rotated SecureSecret's dashboard row: its rotation failures."""
    StackMonitoring.of(scope).add_row(f"Secret {scope.node.path}", dashboard.secret_widgets(rule))


# -- the public entry points -------------------------------------------------------------------


def configure_monitoring(
    scope: IConstruct,
    *,
    function_traffic: TrafficAnomaly | None = None,
    api_traffic: TrafficAnomaly | None = None,
    init_duration_alarm: cdk.Duration | None = None,
) -> StackMonitoring:
    """Tune the monitoring of `scope`'s stack; may be called before or after the constructs.

    :param function_traffic: the anomaly alarm on the sum of the stack's functions'
        invocations. Default: `TrafficAnomaly()` (3 standard deviations, 3 of 3 five-minute
        periods above the band, at least 100 invocations per period).
    :param api_traffic: each SecureApi's anomaly alarm on its request count. Default:
        `TrafficAnomaly()`.
    :param init_duration_alarm: alarm on each function's p99 cold-start init duration above
        this (one more alarm resource per function). Default: no such alarm.
    """
    check_args(configure_monitoring, locals())
    monitoring = StackMonitoring.of(scope)
    if function_traffic is not None:
        monitoring.function_traffic = function_traffic
    if api_traffic is not None:
        monitoring.api_traffic = api_traffic
    for anomaly in monitoring.anomaly_alarms():
        anomaly.render()
    if init_duration_alarm is not None:
        if init_duration_alarm.is_unresolved() or init_duration_alarm.to_milliseconds() <= 0:
            raise ValidationError(
                "init_duration_alarm",
                "a token" if init_duration_alarm.is_unresolved() else "0 ms",
                "a concrete Duration above 0",
                "pass e.g. init_duration_alarm=Duration.seconds(2)",
            )
        monitoring.init_duration_threshold = init_duration_alarm
        monitoring.add_init_duration_alarms()
    return monitoring


def disable_dashboard(scope: IConstruct) -> None:
    """No dashboard for `scope`'s stack (the alarms and metrics stay). For the whole app, set
    the context key `secure_constructs:dashboard` to `false` instead."""
    check_args(disable_dashboard, locals())
    StackMonitoring.of(scope).disable_dashboard()


def add_dashboard_row(
    scope: IConstruct, heading: str, widgets: Sequence[cloudwatch.IWidget]
) -> None:
    """Add a titled row of your own widgets (e.g. a workflow's or a trigger's metrics) to the
    dashboard of `scope`'s stack, below the rows already there."""
    check_args(add_dashboard_row, locals())
    if not isinstance(heading, str) or not heading.strip():
        raise ValidationError(
            "heading", heading, "a non-empty title", 'pass e.g. "Orders workflow"'
        )
    if not widgets:
        raise ValidationError("widgets", widgets, "at least one widget", "pass [GraphWidget(...)]")
    StackMonitoring.of(scope).add_row(heading, widgets)
