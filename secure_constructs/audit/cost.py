"""The fixed monthly cost of a stack's security baseline, from the price table in `prices`.

Counts web ACLs, their rules and paid managed rule groups, CloudWatch alarms (an anomaly band
as three metrics), dashboards and the custom metrics of metric filters, KMS keys, Secrets
Manager secrets, Cognito user pools and the Kinesis streams of log forwarding. What is billed
per request, per GB or per user is listed separately (rates only: the template says nothing
about traffic); subscription filters are listed as a rate of $0 (CloudWatch Logs charges
nothing per filter, the receiving stream bills what it receives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secure_constructs.audit.sources import StackSource
from secure_constructs.facts.prices import FIXED, PRICES_AS_OF, REGION, USAGE, Price

_BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
_FRAUD_CONTROL = ("AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet")
_COGNITO_TIERS = {"LITE": "cognito_lite_mau", "ESSENTIALS": "cognito_essentials_mau"}


class _Priced:
    """`price` and `monthly` of anything with a `price_key` and a `quantity`."""

    price_key: str
    quantity: float

    @property
    def price(self) -> Price:
        return FIXED[self.price_key]

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.price.usd, 4)


@dataclass(frozen=True)
class CostLine(_Priced):
    """`quantity` x `price` for one resource (or group of resources) of one stack."""

    stack: str
    item: str
    resource: str
    quantity: float
    price_key: str


@dataclass
class CostGroup(_Priced):
    """Lines of one stack with the same item and price, merged."""

    item: str
    price_key: str
    quantity: float = 0
    resources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UsageRate:
    """A per-request (or per-user) rate that applies because the stack has such a resource."""

    item: str
    price_key: str
    resources: tuple[str, ...]

    @property
    def price(self) -> Price:
        return USAGE[self.price_key]


@dataclass
class CostReport:
    lines: list[CostLine] = field(default_factory=list)
    rates: dict[str, list[UsageRate]] = field(default_factory=dict)  # stack -> rates
    stacks: list[str] = field(default_factory=list)

    def grouped(self, stack: str) -> list[CostGroup]:
        """The stack's lines with the same item and price merged (for reading)."""
        groups: dict[tuple[str, str], CostGroup] = {}
        for line in self.lines:
            if line.stack != stack:
                continue
            group = groups.setdefault(
                (line.item, line.price_key), CostGroup(line.item, line.price_key)
            )
            group.quantity += line.quantity
            group.resources.append(line.resource)
        return list(groups.values())

    def total(self, stack: str | None = None) -> float:
        return round(sum(c.monthly for c in self.lines if stack is None or c.stack == stack), 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "prices_as_of": PRICES_AS_OF,
            "region": REGION,
            "currency": "USD",
            "stacks": [
                {
                    "stack": stack,
                    "monthly_total": self.total(stack),
                    "lines": [
                        {
                            "item": c.item,
                            "resource": c.resource,
                            "quantity": c.quantity,
                            "unit_price": c.price.usd,
                            "unit": c.price.unit,
                            "monthly": c.monthly,
                            "source": c.price.source,
                            "note": c.price.note,
                        }
                        for c in self.lines
                        if c.stack == stack
                    ],
                    "usage_rates": [
                        {
                            "item": r.item,
                            "rate": r.price.usd,
                            "unit": r.price.unit,
                            "resources": list(r.resources),
                            "source": r.price.source,
                            "note": r.price.note,
                        }
                        for r in self.rates.get(stack, [])
                    ],
                }
                for stack in self.stacks
            ],
            "monthly_total": self.total(),
        }


def cost(stacks: Iterable[StackSource]) -> CostReport:
    """The cost report of every stack."""
    report = CostReport()
    for stack in stacks:
        report.stacks.append(stack.name)
        rates: dict[str, list[str]] = {}
        for logical_id, resource in stack.resources.items():
            _resource_cost(stack.name, logical_id, resource, report.lines, rates)
        report.rates[stack.name] = [
            UsageRate(_USAGE_LABELS[key], key, tuple(ids)) for key, ids in rates.items()
        ]
    return report


_USAGE_LABELS = {
    "waf_requests": "WAF requests inspected",
    "waf_bot_control_requests": "Bot Control requests inspected",
    "waf_fraud_control_requests": "Fraud Control attempts analysed",
    "alarm_notifications": "alarm email notifications",
    "sns_publish": "SNS publishes",
    "sqs_requests": "SQS requests",
    "kms_requests": "KMS requests",
    "secret_api_calls": "Secrets Manager API calls",
    "lambda_requests": "Lambda requests",
    "lambda_duration_arm": "Lambda duration (Arm)",
    "lambda_duration_x86": "Lambda duration (x86)",
    "xray_traces": "X-Ray traces recorded",
    "logs_ingestion": "CloudWatch Logs ingestion",
    "logs_storage": "CloudWatch Logs storage",
    "rest_api_requests": "API Gateway REST API requests",
    "http_api_requests": "API Gateway HTTP API requests",
    "cognito_lite_mau": "Cognito monthly active users",
    "cognito_essentials_mau": "Cognito monthly active users",
    "cognito_plus_mau": "Cognito monthly active users",
    "kinesis_put_units": "Kinesis PUT payload units",
    "kinesis_on_demand_data_in": "Kinesis data written (on-demand)",
    "firehose_ingestion": "Firehose data ingested",
    "logs_subscription_delivery": "CloudWatch Logs subscription delivery (no charge)",
}


Line = Callable[[str, float, str], None]
"""Adds a fixed cost line: (item, quantity, price key)."""
Rate = Callable[[str], None]
"""Lists the resource under a usage rate (price key)."""
Pricer = Callable[[Mapping[str, Any], Line, Rate], None]


def _resource_cost(
    stack: str,
    logical_id: str,
    resource: Mapping[str, Any],
    lines: list[CostLine],
    rates: dict[str, list[str]],
) -> None:
    """Price one resource by its type's pricer; types with no pricer cost nothing fixed."""
    pricer = _PRICERS.get(str(resource.get("Type")))
    if pricer is None:
        return
    props = resource.get("Properties")

    def line(item: str, quantity: float, key: str) -> None:
        lines.append(CostLine(stack, item, logical_id, quantity, key))

    def rate(key: str) -> None:
        rates.setdefault(key, []).append(logical_id)

    pricer(props if isinstance(props, Mapping) else {}, line, rate)


def _web_acl(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    """The ACL, its rules, and the paid managed rule groups (Bot Control, Fraud Control)."""
    rules = _as_list(props.get("Rules"))
    line("WAF web ACL", 1, "waf_web_acl")
    if rules:
        line(f"WAF rules ({len(rules)})", len(rules), "waf_rule")
    groups = _managed_groups(rules)
    rate("waf_requests")
    if _BOT_CONTROL in groups:
        line("WAF Bot Control", 1, "waf_bot_control")
        rate("waf_bot_control_requests")
    fraud = [g for g in groups if g in _FRAUD_CONTROL]
    if fraud:
        line(f"WAF Fraud Control ({', '.join(fraud)})", len(fraud), "waf_fraud_control")
        rate("waf_fraud_control_requests")


def _rule_group(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    rules = _as_list(props.get("Rules"))
    if rules:
        line(f"WAF rule group rules ({len(rules)})", len(rules), "waf_rule")


def _alarm(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    metrics, high_resolution = _alarm_metrics(props)
    key = "alarm_high_resolution" if high_resolution else "alarm_standard"
    label = "CloudWatch alarm" + (" (high resolution)" if high_resolution else "")
    line(label if metrics == 1 else f"{label}, {metrics} metrics", metrics, key)


def _metric_filter(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    # Each transformation publishes one custom metric (no dimensions of ours: one series).
    metrics = max(len(_as_list(props.get("MetricTransformations"))), 1)
    line("CloudWatch custom metric (metric filter)", metrics, "custom_metric")


def _kms_key(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    rotation = props.get("EnableKeyRotation") in (True, "true", "True")
    line("KMS key" + (" (rotation on)" if rotation else ""), 1, "kms_key")
    rate("kms_requests")


def _secret(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    replicas = len(_as_list(props.get("ReplicaRegions")))  # each replica is billed as a secret
    label = "Secrets Manager secret" + (f" (+{replicas} replicas)" if replicas else "")
    line(label, 1 + replicas, "secret")
    rate("secret_api_calls")


def _user_pool(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    tier = str(props.get("UserPoolTier", "ESSENTIALS")).upper()
    line(f"Cognito user pool ({tier.title()} plan)", 1, "user_pool")
    rate(_COGNITO_TIERS.get(tier, "cognito_plus_mau"))


def _subscription(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    if props.get("Protocol") == "email":
        rate("alarm_notifications")


def _function(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    rate("lambda_requests")
    arm = "arm64" in (props.get("Architectures") or [])
    rate("lambda_duration_arm" if arm else "lambda_duration_x86")
    tracing = props.get("TracingConfig")
    if isinstance(tracing, Mapping) and tracing.get("Mode") == "Active":
        rate("xray_traces")


def _kinesis_stream(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
    """Log forwarding's stream: its shards (or the on-demand stream) are fixed, its data a rate."""
    mode = props.get("StreamModeDetails")
    if isinstance(mode, Mapping) and mode.get("StreamMode") == "ON_DEMAND":
        line("Kinesis stream (on-demand)", 1, "kinesis_on_demand_stream")
        rate("kinesis_on_demand_data_in")
        return
    shards = props.get("ShardCount", 1)  # CloudFormation's default: one shard
    count = shards if isinstance(shards, int) and not isinstance(shards, bool) else 1
    line(f"Kinesis stream ({count} shard{'s' if count != 1 else ''})", count, "kinesis_shard")
    rate("kinesis_put_units")


def _fixed(item: str, key: str) -> Pricer:
    """A pricer for one fixed line of quantity 1."""
    return lambda props, line, rate: line(item, 1, key)


def _rates(*keys: str) -> Pricer:
    """A pricer that only lists the resource under usage rates."""

    def price(props: Mapping[str, Any], line: Line, rate: Rate) -> None:
        for key in keys:
            rate(key)

    return price


_PRICERS: dict[str, Pricer] = {
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::WAFv2::RuleGroup": _rule_group,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _fixed("CloudWatch composite alarm", "alarm_composite"),
    "AWS::CloudWatch::Dashboard": _fixed("CloudWatch dashboard", "dashboard"),
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::ReplicaKey": _kms_key,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::SNS::Topic": _rates("sns_publish"),
    "AWS::SNS::Subscription": _subscription,
    "AWS::SQS::Queue": _rates("sqs_requests"),
    "AWS::Lambda::Function": _function,
    "AWS::Logs::LogGroup": _rates("logs_ingestion", "logs_storage"),
    # Log forwarding: the subscription filters' delivery costs nothing (the receiving stream
    # bills what it receives), a Firehose stream's ingestion is a rate.
    "AWS::Kinesis::Stream": _kinesis_stream,
    "AWS::KinesisFirehose::DeliveryStream": _rates("firehose_ingestion"),
    "AWS::Logs::SubscriptionFilter": _rates("logs_subscription_delivery"),
    "AWS::ApiGateway::RestApi": _rates("rest_api_requests"),
    "AWS::ApiGatewayV2::Api": _rates("http_api_requests"),
}
"""Each resource type with a cost, and how it is priced."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _managed_groups(rules: list[Any]) -> list[str]:
    names = []
    for rule in rules:
        statement = rule.get("Statement") if isinstance(rule, Mapping) else None
        managed = (
            statement.get("ManagedRuleGroupStatement") if isinstance(statement, Mapping) else None
        )
        if isinstance(managed, Mapping) and isinstance(managed.get("Name"), str):
            names.append(managed["Name"])
    return names


def _alarm_metrics(props: Mapping[str, Any]) -> tuple[int, bool]:
    """(number of metrics billed, high resolution) of a metric alarm."""
    metrics = props.get("Metrics")
    high = False
    if isinstance(metrics, list) and metrics:
        count = 0
        for query in metrics:
            if not isinstance(query, Mapping):
                continue
            stat = query.get("MetricStat")
            if isinstance(stat, Mapping):
                count += 1
                period = stat.get("Period")
                high = high or (isinstance(period, int) and period < 60)
            expression = query.get("Expression")
            if isinstance(expression, str) and "ANOMALY_DETECTION_BAND" in expression:
                count += 2  # an anomaly detection alarm is billed as three metrics
        return max(count, 1), high
    period = props.get("Period")
    return 1, isinstance(period, int) and period < 60
