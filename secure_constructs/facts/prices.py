"""The one price table of `secure-constructs cost`: AWS list prices in us-east-1, in USD.

Dated and sourced line by line. The figures are the public list prices on the pages named in
`source` as compiled on PRICES_AS_OF (no free tier, no discounts, no taxes); AWS changes prices,
so check the page before budgeting and update this table (and its date) when one moves.
Fixed prices are per month (AWS prorates them hourly); usage prices are listed separately by the
command and never added to the fixed total.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-11-29"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    """One list price: `usd` per `unit`."""

    usd: float
    unit: str
    source: str
    note: str = ""


_WAF = "https://aws.amazon.com/waf/pricing/"
_CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
_KMS = "https://aws.amazon.com/kms/pricing/"
_SECRETS = "https://aws.amazon.com/secrets-manager/pricing/"
_COGNITO = "https://aws.amazon.com/cognito/pricing/"
_KINESIS = "https://aws.amazon.com/kinesis/data-streams/pricing/"
_FIREHOSE = "https://aws.amazon.com/firehose/pricing/"
_OFFLINE = "added 2026-12-03 from the list price as known offline, not re-read from the page"

# -- fixed monthly prices ---------------------------------------------------------------------
FIXED: dict[str, Price] = {
    "waf_web_acl": Price(5.00, "web ACL-month", _WAF),
    "waf_rule": Price(
        1.00, "rule-month", _WAF, "each rule of a web ACL, a managed rule group counts as one"
    ),
    "waf_bot_control": Price(
        10.00, "web ACL-month", _WAF, "Bot Control subscription (common or targeted level)"
    ),
    "waf_fraud_control": Price(
        10.00, "web ACL-month", _WAF, "Fraud Control subscription (ATP or ACFP), each"
    ),
    "alarm_standard": Price(0.10, "alarm metric-month", _CLOUDWATCH, "standard resolution"),
    "alarm_high_resolution": Price(
        0.30, "alarm metric-month", _CLOUDWATCH, "period under 60 seconds"
    ),
    "alarm_composite": Price(0.50, "alarm-month", _CLOUDWATCH),
    "dashboard": Price(
        3.00,
        "dashboard-month",
        _CLOUDWATCH,
        "the first 3 dashboards of an account (up to 50 metrics each) are free",
    ),
    "custom_metric": Price(
        0.30,
        "metric-month",
        _CLOUDWATCH,
        "first 10,000 metrics; a metric filter's metric is billed for the hours it publishes "
        "data (a function with no cold start in a month costs nothing)",
    ),
    "kms_key": Price(
        1.00,
        "key-month",
        _KMS,
        "with rotation on, the first and second rotations add $1/month each",
    ),
    "secret": Price(0.40, "secret-month", _SECRETS),
    "user_pool": Price(0.00, "user pool-month", _COGNITO, "charged per monthly active user"),
    "kinesis_shard": Price(
        10.95, "shard-month", _KINESIS, f"provisioned mode, $0.015 per shard-hour; {_OFFLINE}"
    ),
    "kinesis_on_demand_stream": Price(
        29.20, "stream-month", _KINESIS, f"on-demand mode, $0.04 per stream-hour; {_OFFLINE}"
    ),
}

# -- usage prices (listed, never added to the fixed total) ------------------------------------
USAGE: dict[str, Price] = {
    "waf_requests": Price(0.60, "million requests", _WAF),
    "waf_bot_control_requests": Price(
        1.00, "million requests", _WAF, "common level; targeted level: $10 per million"
    ),
    "waf_fraud_control_requests": Price(1.00, "thousand login or sign-up attempts", _WAF),
    "alarm_notifications": Price(
        2.00, "100,000 email notifications", "https://aws.amazon.com/sns/pricing/"
    ),
    "sns_publish": Price(0.50, "million publishes", "https://aws.amazon.com/sns/pricing/"),
    "sqs_requests": Price(0.40, "million requests", "https://aws.amazon.com/sqs/pricing/"),
    "kms_requests": Price(0.03, "10,000 requests", _KMS),
    "secret_api_calls": Price(0.05, "10,000 API calls", _SECRETS),
    "lambda_requests": Price(0.20, "million requests", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_duration_arm": Price(
        0.0000133334, "GB-second (Arm)", "https://aws.amazon.com/lambda/pricing/"
    ),
    "lambda_duration_x86": Price(
        0.0000166667, "GB-second (x86)", "https://aws.amazon.com/lambda/pricing/"
    ),
    "xray_traces": Price(5.00, "million traces recorded", "https://aws.amazon.com/xray/pricing/"),
    "logs_ingestion": Price(0.50, "GB ingested", _CLOUDWATCH, "standard log class"),
    "logs_storage": Price(0.03, "GB-month archived", _CLOUDWATCH),
    "rest_api_requests": Price(
        3.50, "million requests", "https://aws.amazon.com/api-gateway/pricing/", "first 333 M"
    ),
    "http_api_requests": Price(
        1.00, "million requests", "https://aws.amazon.com/api-gateway/pricing/", "first 300 M"
    ),
    "cognito_lite_mau": Price(0.0055, "monthly active user", _COGNITO, "Lite plan"),
    "cognito_essentials_mau": Price(0.015, "monthly active user", _COGNITO, "Essentials plan"),
    "cognito_plus_mau": Price(0.02, "monthly active user", _COGNITO, "Plus plan"),
    "kinesis_put_units": Price(
        0.014, "million PUT payload units (25 KB each)", _KINESIS, f"provisioned mode; {_OFFLINE}"
    ),
    "kinesis_on_demand_data_in": Price(
        0.08, "GB written", _KINESIS, f"on-demand mode, plus reads; {_OFFLINE}"
    ),
    "firehose_ingestion": Price(
        0.029,
        "GB ingested (Direct PUT, records rounded up to 5 KB)",
        _FIREHOSE,
        f"first 500 TB a month, plus the destination's own charges; {_OFFLINE}",
    ),
    "logs_subscription_delivery": Price(
        0.00,
        "GB delivered by a subscription filter",
        _CLOUDWATCH,
        "CloudWatch Logs lists no charge per subscription filter or per event delivered (the "
        "events were billed at ingestion); the receiving stream bills what it receives, and "
        f"delivery to another region is billed as data transfer; {_OFFLINE}",
    ),
}
