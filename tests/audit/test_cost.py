"""`secure-constructs cost`: the fixed monthly cost of the security baseline, sourced and dated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.cost import cost
from secure_constructs.audit.sources import load
from secure_constructs.facts.prices import FIXED, PRICES_AS_OF, USAGE
from tests.audit.helpers import ORDERS_YAML, SHARED_YAML, run


def _lines(path: Path) -> dict[str, float]:
    report = cost(load([path]).stacks)
    return {f"{c.item}: {c.resource}": c.monthly for c in report.lines}


def test_every_price_names_its_source() -> None:
    for price in (*FIXED.values(), *USAGE.values()):
        assert price.source.startswith("https://aws.amazon.com/"), price
    assert PRICES_AS_OF[:2] == "20"


def test_web_acl_rules_bot_control_key_secret_alarm_dashboard_and_user_pool_are_priced() -> None:
    lines = _lines(ORDERS_YAML)
    assert lines == {
        "KMS key (rotation on): AppKey": 1.00,
        "Secrets Manager secret: DbSecret": 0.40,
        "CloudWatch alarm: OrdersErrorsAlarm": 0.10,
        "CloudWatch dashboard: OrdersDashboard": 3.00,
        "WAF web ACL: EdgeAcl": 5.00,
        "WAF rules (3): EdgeAcl": 3.00,
        "WAF Bot Control: EdgeAcl": 10.00,
        "Cognito user pool (Plus plan): Users": 0.00,
    }
    assert cost(load([ORDERS_YAML]).stacks).total() == 22.50


def test_per_request_rates_are_listed_apart_and_not_added(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(run(capsys, "cost", ORDERS_YAML, "--format", "json").out)
    (stack,) = data["stacks"]
    rates = {r["item"]: r for r in stack["usage_rates"]}
    assert rates["WAF requests inspected"]["rate"] == 0.60
    assert rates["Bot Control requests inspected"]["resources"] == ["EdgeAcl"]
    assert rates["Cognito monthly active users"]["rate"] == USAGE["cognito_plus_mau"].usd
    assert stack["monthly_total"] == sum(line["monthly"] for line in stack["lines"]) == 22.5
    assert all(line["source"].startswith("https://aws.amazon.com/") for line in stack["lines"])
    assert data["prices_as_of"] == PRICES_AS_OF and data["region"] == "us-east-1"


def test_alarm_resolution_metric_math_composite_replicas_and_fraud_control(tmp_path: Path) -> None:
    def alarm(**props: Any) -> dict[str, Any]:
        return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}

    metric = {
        "Id": "m",
        "MetricStat": {"Metric": {"MetricName": "Errors"}, "Period": 60, "Stat": "Sum"},
    }
    resources = {
        "Fast": alarm(Period=10),
        "Math": alarm(Metrics=[metric, {**metric, "Id": "n"}, {"Id": "e", "Expression": "m+n"}]),
        "Anomaly": alarm(
            Metrics=[metric, {"Id": "ad", "Expression": "ANOMALY_DETECTION_BAND(m, 2)"}]
        ),
        "Both": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}},
        "ColdStarts": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {"MetricTransformations": [{"MetricName": "Fn", "MetricValue": "1"}]},
        },
        "Replicated": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"ReplicaRegions": [{"Region": "eu-west-1"}, {"Region": "us-west-2"}]},
        },
        "Acl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Rules": [
                    {
                        "Statement": {
                            "ManagedRuleGroupStatement": {
                                "VendorName": "AWS",
                                "Name": "AWSManagedRulesATPRuleSet",
                            }
                        }
                    }
                ]
            },
        },
    }
    path = tmp_path / "alarms.json"
    path.write_text(json.dumps({"Resources": resources}))
    lines = _lines(path)
    assert lines["CloudWatch alarm (high resolution): Fast"] == 0.30
    assert lines["CloudWatch alarm, 2 metrics: Math"] == 0.20
    assert lines["CloudWatch alarm, 3 metrics: Anomaly"] == 0.30
    assert lines["CloudWatch composite alarm: Both"] == 0.50
    assert lines["CloudWatch custom metric (metric filter): ColdStarts"] == 0.30
    assert lines["Secrets Manager secret (+2 replicas): Replicated"] == 1.20
    assert lines["WAF Fraud Control (AWSManagedRulesATPRuleSet): Acl"] == 10.00


def test_totals_per_stack_and_overall(capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, "cost", ORDERS_YAML, SHARED_YAML).out
    assert "$22.50  total for orders per month" in text
    assert "$0.00  total for shared per month" in text
    assert "$22.50  total per month, all stacks" in text
    assert "usage rates (not in the total)" in text
    markdown = run(capsys, "cost", ORDERS_YAML, "--format", "markdown").out
    assert (
        "| WAF Bot Control | EdgeAcl | 1 | $10.00 / web ACL-month | $10.00 | "
        "https://aws.amazon.com/waf/pricing/ |" in markdown
    )


def test_log_forwarding_prices_the_stream_and_lists_delivery_as_rates(tmp_path: Path) -> None:
    resources = {
        "Siem": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}},
        "Default": {"Type": "AWS::Kinesis::Stream", "Properties": {}},
        "OnDemand": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
        },
        "ToS3": {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {}},
        "Forward": {
            "Type": "AWS::Logs::SubscriptionFilter",
            "Properties": {"LogGroupName": "x", "DestinationArn": "y", "FilterPattern": ""},
        },
    }
    path = tmp_path / "forwarding.json"
    path.write_text(json.dumps({"Resources": resources}))
    assert _lines(path) == {
        "Kinesis stream (2 shards): Siem": 21.90,
        "Kinesis stream (1 shard): Default": 10.95,
        "Kinesis stream (on-demand): OnDemand": 29.20,
    }
    report = cost(load([path]).stacks)
    rates = {r.item: (r.price.usd, r.resources) for r in report.rates[report.stacks[0]]}
    assert rates["CloudWatch Logs subscription delivery (no charge)"] == (0.0, ("Forward",))
    assert rates["Firehose data ingested"] == (0.029, ("ToS3",))
    assert rates["Kinesis PUT payload units"] == (0.014, ("Siem", "Default"))
    assert rates["Kinesis data written (on-demand)"][1] == ("OnDemand",)
