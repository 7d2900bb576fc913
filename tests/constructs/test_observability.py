"""Stack monitoring (secure_constructs.observability): by default a SecureFunction behind a
SecureApi gets the traffic anomaly alarms, the cold-start metric, the denial and WAF-block rate
alarms and a dashboard row, each asserted on the template; the knobs and every refusal."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_

from secure_constructs import ApiAuth, SecureFunction, ValidationError
from secure_constructs.api import SecureApi
from secure_constructs.checks.intrinsics import Resolver
from secure_constructs.observability import (
    TrafficAnomaly,
    add_dashboard_row,
    configure_monitoring,
    disable_dashboard,
)
from tests.synth import Synthesized, ref, synth

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"


def _function(stack: cdk.Stack, construct_id: str, **options: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **options
    )


def _behind_api(stack: cdk.Stack) -> None:
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    api.add_route("GET", "/items", _function(stack, "Items"))


@pytest.fixture(scope="module")
def default() -> Synthesized:
    return synth(_behind_api)


def _by_path(s: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return {
        r["Metadata"]["aws:cdk:path"].removeprefix("Test/"): r.get("Properties", {})
        for r in s.resources(type_).values()
    }


def _logical_id(s: Synthesized, type_: str) -> str:
    return s.only(type_)[0]


def _queries(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["Id"]: m for m in alarm["Metrics"]}


def _assert_anomaly_alarm(alarm: dict[str, Any], topic: str) -> dict[str, dict[str, Any]]:
    """The shape every traffic anomaly alarm has by default; returns its queries by id."""
    queries = _queries(alarm)
    assert alarm["ThresholdMetricId"] == "band"
    assert queries["band"]["Expression"] == "ANOMALY_DETECTION_BAND(traffic, 3)"
    assert alarm["ComparisonOperator"] == "GreaterThanUpperThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 3)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [ref(topic)]
    assert queries["traffic"]["ReturnData"] is True
    assert "Threshold" not in alarm
    return queries


def test_the_function_and_api_template_stays_clean(default: Synthesized) -> None:
    assert not default.failed
    assert default.violations == []


def test_invocations_anomaly_alarm_sums_the_functions_behind_a_guard(default: Synthesized) -> None:
    topic = _logical_id(default, "AWS::SNS::Topic")
    fn = _logical_id(default, "AWS::Lambda::Function")
    alarm = _by_path(default, "AWS::CloudWatch::Alarm")[
        "SecureConstructsMonitoring/InvocationsAnomalyAlarm/Resource"
    ]
    queries = _assert_anomaly_alarm(alarm, topic)
    assert queries["traffic"]["Expression"] == "IF(m0 >= 100, m0, 0)"
    stat = queries["m0"]["MetricStat"]
    assert stat["Metric"] == {
        "Namespace": "AWS/Lambda",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "FunctionName", "Value": ref(fn)}],
    }
    assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
    assert queries["m0"]["ReturnData"] is False


def test_requests_anomaly_alarm_watches_the_api_count(default: Synthesized) -> None:
    topic = _logical_id(default, "AWS::SNS::Topic")
    alarm = _by_path(default, "AWS::CloudWatch::Alarm")["Api/RequestsAnomalyAlarm/Resource"]
    queries = _assert_anomaly_alarm(alarm, topic)
    assert queries["traffic"]["Expression"] == "IF(m0 >= 100, m0, 0)"
    assert queries["m0"]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/ApiGateway",
        "MetricName": "Count",
        # the dimensions the API's 5XX / 4XX / latency alarms use
        "Dimensions": [{"Name": "ApiName", "Value": "Api"}],
    }


def test_cold_start_metric_filter_reads_platform_report(default: Synthesized) -> None:
    fn_id, fn = default.only("AWS::Lambda::Function")
    assert fn["Properties"]["LoggingConfig"]["SystemLogLevel"] == "INFO"  # report records
    cold = _by_path(default, "AWS::Logs::MetricFilter")["Items/ColdStartFilter/Resource"]
    assert cold["FilterPattern"] == (
        '{ ($.type = "platform.report") && ($.record.metrics.initDurationMs >= 0) }'
    )
    assert cold["LogGroupName"] == fn["Properties"]["LoggingConfig"]["LogGroup"]
    assert cold["MetricTransformations"] == [
        {
            "MetricNamespace": "SecureConstructs/Lambda/InitDuration",
            "MetricName": ref(fn_id),
            "MetricValue": "$.record.metrics.initDurationMs",
            "Unit": "Milliseconds",
        }
    ]
    # the p99 init-duration alarm is off by default
    assert not any("InitDuration" in p for p in _by_path(default, "AWS::CloudWatch::Alarm"))


def test_denial_rate_alarm_divides_access_log_denials_by_requests(default: Synthesized) -> None:
    topic = _logical_id(default, "AWS::SNS::Topic")
    api = _logical_id(default, "AWS::ApiGateway::RestApi")
    filters = _by_path(default, "AWS::Logs::MetricFilter")
    denials = filters["Api/DenialsFilter/Resource"]
    assert denials["FilterPattern"] == (
        '{ (($.status = "401") || ($.status = "403")) && ($.errorResponseType != "WAF_FILTERED") }'
    )
    access_logs = [
        k
        for k, r in default.resources("AWS::Logs::LogGroup").items()
        if r["Metadata"]["aws:cdk:path"] == "Test/Api/AccessLogs/Resource"
    ]
    assert denials["LogGroupName"] == ref(access_logs[0])
    [transformation] = denials["MetricTransformations"]
    assert transformation["MetricNamespace"] == "SecureConstructs/ApiGateway/Denials"
    assert transformation["MetricName"] == ref(api)
    assert transformation["MetricValue"] == "1"

    alarm = _by_path(default, "AWS::CloudWatch::Alarm")["Api/DenialRateAlarm/Resource"]
    queries = _queries(alarm)
    [rate] = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert rate["Expression"] == "IF(requests >= 20, FILL(denials, 0) / requests, 0)"
    assert queries["denials"]["MetricStat"]["Metric"] == {
        "MetricName": ref(api),
        "Namespace": "SecureConstructs/ApiGateway/Denials",
    }
    assert queries["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert queries["requests"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "ApiName", "Value": "Api"}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.1, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [ref(topic)]


def test_waf_blocked_rate_alarm_divides_blocked_by_all_requests(default: Synthesized) -> None:
    topic = _logical_id(default, "AWS::SNS::Topic")
    acl_name = default.props("AWS::WAFv2::WebACL")["Name"]
    alarm = _by_path(default, "AWS::CloudWatch::Alarm")["Api/WebAcl/BlockedRateAlarm/Resource"]
    queries = _queries(alarm)
    [rate] = [q for q in alarm["Metrics"] if q["ReturnData"]]
    total = "FILL(allowed, 0) + FILL(blocked, 0)"
    assert rate["Expression"] == f"IF({total} >= 50, FILL(blocked, 0) / ({total}), 0)"
    for query_id, name in (("blocked", "BlockedRequests"), ("allowed", "AllowedRequests")):
        metric = queries[query_id]["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/WAFV2", name)
        assert sorted(metric["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "Region", "Value": {"Ref": "AWS::Region"}},
            {"Name": "Rule", "Value": "ALL"},
            {"Name": "WebACL", "Value": acl_name},
        ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.1, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [ref(topic)]


def dashboard_body(s: Synthesized) -> dict[str, Any]:
    """The stack dashboard's body, its Fn::Join rendered by the project's intrinsic evaluator."""
    body = s.props("AWS::CloudWatch::Dashboard")["DashboardBody"]
    return json.loads(Resolver(s.template).text(body))


def _metrics_of(widget: dict[str, Any]) -> list[list[Any]]:
    return [m[:-1] if isinstance(m[-1], dict) else m for m in widget["properties"]["metrics"]]


def test_dashboard_has_a_row_for_the_function_and_one_for_the_api(default: Synthesized) -> None:
    widgets = dashboard_body(default)["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles == ["### API Test/Api", "### Function Test/Items"]  # construct order
    graphs = {w["properties"]["title"]: w for w in widgets if w["type"] == "metric"}
    # the resolver renders a Ref by the resource's logical id
    fn = next(k for k in default.resources("AWS::Lambda::Function"))
    api_id = next(k for k in default.resources("AWS::ApiGateway::RestApi"))
    assert _metrics_of(graphs["Invocations / cold starts"]) == [
        ["AWS/Lambda", "Invocations", "FunctionName", fn],
        ["SecureConstructs/Lambda/InitDuration", fn],
    ]
    assert _metrics_of(graphs["Errors / throttles"]) == [
        ["AWS/Lambda", "Errors", "FunctionName", fn],
        ["AWS/Lambda", "Throttles", "FunctionName", fn],
    ]
    duration = graphs["p99 duration vs timeout (ms)"]
    assert _metrics_of(duration)[0] == ["AWS/Lambda", "Duration", "FunctionName", fn]
    annotations = duration["properties"]["annotations"]["horizontal"]
    assert {a["label"]: a["value"] for a in annotations} == {
        "timeout": 10000,
        "duration alarm": 8000,
    }
    [queue_metric] = _metrics_of(graphs["Dead-letter queue depth"])
    assert queue_metric[:3] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"]
    assert _metrics_of(graphs["Requests / WAF allowed, blocked"])[0] == [
        "AWS/ApiGateway",
        "Count",
        "ApiName",
        "Api",
    ]
    waf = _metrics_of(graphs["Requests / WAF allowed, blocked"])[1:]
    assert [m[:2] for m in waf] == [
        ["AWS/WAFV2", "AllowedRequests"],
        ["AWS/WAFV2", "BlockedRequests"],
    ]
    assert [m[1] for m in _metrics_of(graphs["4XX / 5XX"])] == ["4XXError", "5XXError"]
    assert [m[1] for m in _metrics_of(graphs["p99 latency (ms)"])] == [
        "Latency",
        "IntegrationLatency",
    ]
    rates = graphs["Denial / blocked rate"]["properties"]["metrics"]
    expressions = [m[0]["expression"] for m in rates if "expression" in m[0]]
    assert "IF(requests >= 20, FILL(denials, 0) / requests, 0)" in expressions
    assert ["SecureConstructs/ApiGateway/Denials", api_id] in [
        m[:2] for m in _metrics_of(graphs["Denial / blocked rate"])
    ]


def _many(stack: cdk.Stack) -> None:
    for i in range(11):
        _function(stack, f"Fn{i}")
    add_dashboard_row(
        stack,
        "Orders workflow",
        [
            cloudwatch.GraphWidget(
                title="Executions",
                left=[cloudwatch.Metric(namespace="AWS/States", metric_name="ExecutionsFailed")],
            )
        ],
    )
    configure_monitoring(
        stack,
        function_traffic=TrafficAnomaly(
            band_width=4,
            evaluation_periods=6,
            datapoints_to_alarm=4,
            min_requests=500,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
        ),
        init_duration_alarm=cdk.Duration.seconds(2),
    )


@pytest.fixture(scope="module")
def many() -> Synthesized:
    return synth(_many, checks=False)


def test_eleven_functions_take_two_anomaly_alarms_of_at_most_ten(many: Synthesized) -> None:
    alarms = _by_path(many, "AWS::CloudWatch::Alarm")
    first = alarms["SecureConstructsMonitoring/InvocationsAnomalyAlarm/Resource"]
    second = alarms["SecureConstructsMonitoring/InvocationsAnomalyAlarm2/Resource"]
    summed = [[q for q in a["Metrics"] if "MetricStat" in q] for a in (first, second)]
    assert [len(s) for s in summed] == [10, 1]
    assert _queries(first)["traffic"]["Expression"] == (
        f"IF(SUM([{', '.join(f'm{i}' for i in range(10))}]) >= 500, "
        f"SUM([{', '.join(f'm{i}' for i in range(10))}]), 0)"
    )
    # settings given after the functions apply to both alarms
    for alarm in (first, second):
        assert _queries(alarm)["band"]["Expression"] == "ANOMALY_DETECTION_BAND(traffic, 4)"
        assert alarm["ComparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (6, 4)
    functions = set(many.resources("AWS::Lambda::Function"))
    dims = {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for s in summed for q in s}
    assert dims == functions


def test_init_duration_alarm_when_configured(many: Synthesized) -> None:
    topic = _logical_id(many, "AWS::SNS::Topic")
    alarms = {
        p: a
        for p, a in _by_path(many, "AWS::CloudWatch::Alarm").items()
        if p.endswith("/InitDurationAlarm/Resource")
    }
    assert len(alarms) == 11
    alarm = alarms["Fn0/InitDurationAlarm/Resource"]
    [query] = alarm["Metrics"]
    fn0 = next(
        k
        for k, r in many.resources("AWS::Lambda::Function").items()
        if r["Metadata"]["aws:cdk:path"] == "Test/Fn0/Resource"
    )
    assert query["MetricStat"]["Metric"] == {
        "MetricName": ref(fn0),
        "Namespace": "SecureConstructs/Lambda/InitDuration",
    }
    assert (query["MetricStat"]["Stat"], alarm["Threshold"]) == ("p99", 2000)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [ref(topic)]


def test_add_dashboard_row_appends_a_titled_row(many: Synthesized) -> None:
    widgets = dashboard_body(many)["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles[-1] == "### Orders workflow"
    last = widgets[-1]
    assert last["properties"]["title"] == "Executions"
    assert _metrics_of(last) == [["AWS/States", "ExecutionsFailed"]]
    assert widgets.index(last) > max(
        i
        for i, w in enumerate(widgets)
        if w["type"] == "text" and "Fn10" in w["properties"]["markdown"]
    )


def test_disable_dashboard_keeps_the_alarms() -> None:
    def build(stack: cdk.Stack) -> None:
        _function(stack, "Fn")
        disable_dashboard(stack)
        _function(stack, "Later")

    s = synth(build, checks=False)
    assert s.resources("AWS::CloudWatch::Dashboard") == {}
    assert "SecureConstructsMonitoring/InvocationsAnomalyAlarm/Resource" in _by_path(
        s, "AWS::CloudWatch::Alarm"
    )


def test_context_key_turns_the_dashboard_off() -> None:
    app = cdk.App(context={"secure_constructs:dashboard": "false"})
    stack = cdk.Stack(app, "Test")
    _function(stack, "Fn")
    template = app.synth().get_stack_by_name("Test").template
    assert not [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"band_width": 0}, "band_width"),
        ({"band_width": 11}, "band_width"),
        ({"evaluation_periods": 0}, "evaluation_periods"),
        ({"evaluation_periods": 2.5}, "evaluation_periods"),
        ({"evaluation_periods": 2, "datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        ({"datapoints_to_alarm": 0}, "datapoints_to_alarm"),
        ({"min_requests": -1}, "min_requests"),
        ({"period": cdk.Duration.minutes(2)}, "period"),
        ({"period": cdk.Duration.seconds(90)}, "period"),
        ({"comparison": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD}, "comparison"),
    ],
)
def test_fails_when_traffic_anomaly_is_out_of_range(props: dict[str, Any], prop: str) -> None:
    with pytest.raises(ValidationError) as error:
        TrafficAnomaly(**props)
    assert error.value.prop == prop


def test_traffic_anomaly_accepts_its_range() -> None:
    anomaly = TrafficAnomaly(
        band_width=2,
        evaluation_periods=1,
        period=cdk.Duration.hours(1),
        min_requests=0,
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
    )
    assert (anomaly.datapoints_to_alarm, anomaly.period_seconds) == (1, 3600)
    assert anomaly.comparison_operator == "LessThanLowerThreshold"


def test_fails_when_init_duration_alarm_is_zero() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError) as error:
        configure_monitoring(stack, init_duration_alarm=cdk.Duration.seconds(0))
    assert error.value.prop == "init_duration_alarm"


def test_fails_when_a_dashboard_row_is_empty() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError) as error:
        add_dashboard_row(stack, " ", [cloudwatch.TextWidget(markdown="x")])
    assert error.value.prop == "heading"
    with pytest.raises(ValidationError) as error:
        add_dashboard_row(stack, "Orders", [])
    assert error.value.prop == "widgets"
