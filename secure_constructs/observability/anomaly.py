"""Traffic anomaly alarms: an ANOMALY_DETECTION_BAND around the sum of up to 10 count metrics,
behind a minimum-traffic guard, whose metrics grow as constructs are added (re-rendered into the
L1 alarm on each change). The alarm action is the topic's ARN, as `monitoring.notify`'s
SnsAction would write it (an L1 alarm, because its metric-math queries are written here).

One alarm covers at most `METRIC_MATH_ALARM_MAX_METRICS` (10) metrics, CloudWatch's hard limit
for an alarm's metric math; `AnomalyAlarmGroup` opens a new alarm for every further 10.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from secure_constructs.facts.cloudwatch_facts import METRIC_MATH_ALARM_MAX_METRICS
from secure_constructs.observability.settings import TrafficAnomaly

VALUE_ID = "traffic"
"""The id of the guarded count in the alarm's metrics (the series the band is built on)."""
BAND_ID = "band"
"""The id of the ANOMALY_DETECTION_BAND expression (the alarm's ThresholdMetricId)."""


@dataclass(frozen=True)
class CountMetric:
    """One count metric an anomaly alarm sums: namespace, name, dimensions, statistic Sum."""

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]

    def query(self, query_id: str, period_seconds: int) -> dict[str, object]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric_name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions.items()],
                },
                "Period": period_seconds,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }


def anomaly_queries(
    metrics: list[CountMetric], settings: TrafficAnomaly, label: str
) -> list[dict[str, object]]:
    """The alarm's Metrics: the band, the guarded sum, and the summed metrics (`m0`...)."""
    ids = [f"m{i}" for i in range(len(metrics))]
    total = ids[0] if len(ids) == 1 else f"SUM([{', '.join(ids)}])"
    return [
        {
            "Id": BAND_ID,
            "Expression": f"ANOMALY_DETECTION_BAND({VALUE_ID}, {settings.band_width:g})",
            "Label": "expected range",
            "ReturnData": True,
        },
        {
            "Id": VALUE_ID,
            "Expression": f"IF({total} >= {settings.min_requests}, {total}, 0)",
            "Label": label,
            "ReturnData": True,
        },
        *(m.query(i, settings.period_seconds) for i, m in zip(ids, metrics, strict=True)),
    ]


class AnomalyAlarm(Construct):
    """One anomaly detection alarm over a growing list of count metrics (at most 10), notifying
    `topic`. `render()` again after its settings change (`configure_monitoring` does)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Callable[[], TrafficAnomaly],
        description: str,
        label: str,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics: list[CountMetric] = []
        self._settings = settings
        self._label = label
        first = settings()
        self.alarm = cloudwatch.CfnAlarm(
            self,
            "Resource",
            alarm_description=description,
            comparison_operator=first.comparison_operator,
            evaluation_periods=first.evaluation_periods,
            datapoints_to_alarm=first.datapoints_to_alarm,
            threshold_metric_id=BAND_ID,
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[topic.topic_arn],
        )

    def add(self, metric: CountMetric) -> None:
        """Sum `metric` with the others (at most 10: `AnomalyAlarmGroup` opens the next alarm)."""
        if self.full:
            limit = METRIC_MATH_ALARM_MAX_METRICS
            raise ValueError(f"{self.node.path} already sums {limit} metrics")
        self.metrics.append(metric)
        self._write_metrics(self._settings())

    def render(self) -> None:
        """Write the current settings and metrics into the alarm (after the settings change:
        `configure_monitoring` calls it)."""
        settings = self._settings()
        self.alarm.comparison_operator = settings.comparison_operator
        self.alarm.evaluation_periods = settings.evaluation_periods
        self.alarm.datapoints_to_alarm = settings.datapoints_to_alarm
        self._write_metrics(settings)

    def _write_metrics(self, settings: TrafficAnomaly) -> None:
        """The metrics, after each one added: one jsii call, instead of lazy values CDK would
        call back into Python for at synthesis (the other settings change only through
        `render`)."""
        self.alarm.add_property_override(
            "Metrics", anomaly_queries(self.metrics, settings, self._label)
        )

    @property
    def full(self) -> bool:
        return len(self.metrics) >= METRIC_MATH_ALARM_MAX_METRICS


class AnomalyAlarmGroup:
    """Anomaly alarms under `scope` named `<base_id>`, `<base_id>2`, ...: each metric added
    goes to the last alarm, a new one is opened when it holds 10."""

    def __init__(
        self,
        scope: Construct,
        base_id: str,
        *,
        settings: Callable[[], TrafficAnomaly],
        description: str,
        label: str,
        topic: sns.ITopic,
    ) -> None:
        self._scope = scope
        self._base_id = base_id
        self._settings = settings
        self._description = description
        self._label = label
        self._topic = topic
        self.alarms: list[AnomalyAlarm] = []

    def add(self, metric: CountMetric) -> AnomalyAlarm:
        """Watch `metric` (summed with the others of its alarm); returns the alarm."""
        if not self.alarms or self.alarms[-1].full:
            number = len(self.alarms) + 1
            self.alarms.append(
                AnomalyAlarm(
                    self._scope,
                    self._base_id if number == 1 else f"{self._base_id}{number}",
                    settings=self._settings,
                    description=self._description + ("" if number == 1 else f" (group {number})"),
                    label=self._label,
                    topic=self._topic,
                )
            )
        self.alarms[-1].add(metric)
        return self.alarms[-1]
