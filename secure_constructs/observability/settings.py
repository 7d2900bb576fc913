"""The knobs of a stack's monitoring: how wide the traffic anomaly band is, how long traffic
must stay outside it, the minimum-traffic guard, and the optional cold-start alarm."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

from secure_constructs.defaults import (
    ANOMALY_BAND_WIDTH,
    ANOMALY_DATAPOINTS_TO_ALARM,
    ANOMALY_EVALUATION_PERIODS,
    ANOMALY_MIN_REQUESTS,
    ANOMALY_PERIOD_MINUTES,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.cloudwatch_facts import ANOMALY_COMPARISONS
from secure_constructs.prop_types import check_args
from secure_constructs.validation import check_number

_MAX_BAND_WIDTH = 10.0
"""Wider than 10 standard deviations the band never breaches: refused as a mistake."""
_MAX_EVALUATION_PERIODS = 288
"""A day of 5-minute periods."""
_PERIODS_MINUTES = (1, 5, 10, 15, 30, 60)


class TrafficAnomaly:
    """When unusual traffic pages a person: an anomaly detection band around the request or
    invocation count, with a minimum-traffic guard.

    The alarm's value is `IF(count >= min_requests, count, 0)` and its threshold the band of
    that value, `ANOMALY_DETECTION_BAND(value, band_width)`. CloudWatch trains the model on up
    to two weeks of history; until then the band is missing and the alarm stays
    INSUFFICIENT_DATA, which notifies nobody (only the ALARM state has an action). Missing data
    is not breaching, and a period below `min_requests` reads 0, so a new or quiet service does
    not page on its first requests, however unusual they look to a model with no history.

    :param band_width: standard deviations of the band, above 0 and up to 10. Default: 3.
    :param evaluation_periods: periods evaluated, 1-288. Default: 3.
    :param datapoints_to_alarm: of those, how many must be outside the band, 1 to
        `evaluation_periods`. Default: 3.
    :param period: 1, 5, 10, 15, 30 or 60 minutes. Default: 5 minutes.
    :param min_requests: requests (or invocations) per period below which the value is 0.
        Default: 100.
    :param comparison: `GREATER_THAN_UPPER_THRESHOLD` (surges: abuse, scraping, a retry storm),
        `LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD` (also drops: clients cut off) or
        `LESS_THAN_LOWER_THRESHOLD`. Default: surges only, because a drop at night is ordinary
        for a small service and outages already fire the error and 5XX alarms.
    """

    def __init__(
        self,
        *,
        band_width: float = ANOMALY_BAND_WIDTH,
        evaluation_periods: int = ANOMALY_EVALUATION_PERIODS,
        datapoints_to_alarm: int | None = None,
        period: cdk.Duration | None = None,
        min_requests: int = ANOMALY_MIN_REQUESTS,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD
        ),
    ) -> None:
        check_args(TrafficAnomaly.__init__, locals())
        check_number("band_width", band_width, 0.1, _MAX_BAND_WIDTH, tokens=False)
        check_number(
            "evaluation_periods",
            evaluation_periods,
            1,
            _MAX_EVALUATION_PERIODS,
            whole=True,
            tokens=False,
        )
        if datapoints_to_alarm is None:
            datapoints_to_alarm = min(ANOMALY_DATAPOINTS_TO_ALARM, evaluation_periods)
        check_number(
            "datapoints_to_alarm",
            datapoints_to_alarm,
            1,
            evaluation_periods,
            whole=True,
            tokens=False,
            allowed=f"a whole number from 1 to evaluation_periods ({evaluation_periods})",
            fix="pass datapoints_to_alarm <= evaluation_periods",
        )
        check_number("min_requests", min_requests, 0, 10**9, whole=True, tokens=False)
        operator = "".join(w.capitalize() for w in str(comparison.name).split("_"))
        if operator not in ANOMALY_COMPARISONS:
            raise ValidationError(
                "comparison",
                comparison.name,
                f"an anomaly band comparison: {', '.join(ANOMALY_COMPARISONS)}",
                "pass comparison=ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD",
            )
        self.band_width: float = float(band_width)
        self.evaluation_periods: int = evaluation_periods
        self.datapoints_to_alarm: int = datapoints_to_alarm
        self.period_seconds: int = _period_seconds(period)
        self.min_requests: int = min_requests
        self.comparison: cloudwatch.ComparisonOperator = comparison
        self.comparison_operator: str = operator
        """The CloudFormation value, e.g. GreaterThanUpperThreshold."""


def _period_seconds(period: cdk.Duration | None) -> int:
    if period is None:
        return ANOMALY_PERIOD_MINUTES * 60
    allowed = "1, 5, 10, 15, 30 or 60 minutes"
    if period.is_unresolved():
        raise ValidationError("period", "a token", allowed, "pass e.g. Duration.minutes(5)")
    seconds = period.to_seconds()
    if seconds % 60 or seconds // 60 not in _PERIODS_MINUTES:
        raise ValidationError(
            "period", period.to_human_string(), allowed, "pass e.g. Duration.minutes(5)"
        )
    return int(seconds)
