"""Web ACLs that have the baseline rules in name only (checks/waf_acl.py): an Allow rule before
them, a scope-down, a rate rule that allows, is unbounded, or is not per source IP."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_wafv2 as wafv2

from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.registry import RULES
from tests.checks.templates import granular
from tests.checks.test_rules_waf import BASELINE, managed, rate, stack, web_acl
from tests.synth import synth

RATE = "RateBasedRule"


def allow(priority: Any, statement: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Name": "AllowEverything",
        "Priority": priority,
        "Statement": statement
        or {
            "ByteMatchStatement": {
                "FieldToMatch": {"UriPath": {}},
                "PositionalConstraint": "STARTS_WITH",
                "SearchString": "/",
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            }
        },
        "Action": {"Allow": {}},
        "VisibilityConfig": {},
    }


def ordered(*rules: dict[str, Any]) -> list[dict[str, Any]]:
    """The baseline at priorities 10, 11, ... (the rate rule first)."""
    out = [rate(), *(managed(n) for n in BASELINE)]
    for i, item in enumerate(out):
        item["Priority"] = 10 + i
    return [*rules, *out]


def findings_for(*rules: dict[str, Any], **parameters: Any) -> list[Any]:
    body: dict[str, Any] = {"Resources": stack(web_acl(*rules)), "Parameters": parameters}
    return RULES["ApiStageWafRules"].run(Template(body))


def test_the_ordered_baseline_is_compliant() -> None:
    assert findings_for(*ordered()) == []


def test_an_allow_rule_after_the_baseline_is_compliant() -> None:
    assert findings_for(*ordered(allow(99))) == []


@pytest.mark.parametrize("priority", [0, 10, {"Ref": "Priority"}])
def test_an_allow_rule_before_the_baseline_is_an_error(priority: Any) -> None:
    found = findings_for(*ordered(allow(priority)))
    assert granular(found) == [("Stage", "AllowBeforeBaseline")]
    assert found[0].severity is Severity.ERROR
    assert "AllowEverything" in found[0].message


def test_an_ip_set_allow_rule_before_the_baseline_is_a_warning() -> None:
    ip_set = {"IPSetReferenceStatement": {"Arn": {"Fn::GetAtt": ["Trusted", "Arn"]}}}
    found = findings_for(*ordered(allow(0, ip_set)))
    assert granular(found) == [("Stage", "AllowBeforeBaseline")]
    assert found[0].severity is Severity.WARNING


def test_a_scoped_down_group_is_a_warning() -> None:
    rules = ordered()
    group = rules[1]["Statement"]["ManagedRuleGroupStatement"]
    group["ScopeDownStatement"] = {"NotStatement": {"Statement": allow(0)["Statement"]}}
    found = findings_for(*rules)
    assert granular(found) == [("Stage", BASELINE[0])]
    assert found[0].severity is Severity.WARNING
    assert "ScopeDownStatement" in found[0].message


def test_a_scoped_down_group_beside_a_full_copy_is_compliant() -> None:
    scoped = managed(BASELINE[0])
    scoped["Statement"]["ManagedRuleGroupStatement"]["ScopeDownStatement"] = allow(0)["Statement"]
    scoped["Priority"] = 50
    assert findings_for(*ordered(), scoped) == []


def test_a_rate_rule_without_an_action_is_an_error() -> None:
    rules = ordered()
    rules[0]["Action"] = {}
    found = findings_for(*rules)
    assert granular(found) == [("Stage", RATE)]
    assert found[0].severity is Severity.ERROR
    assert "not Block" in found[0].message


def test_a_rate_rule_that_allows_is_an_error_and_lets_flooders_skip_the_groups() -> None:
    # the Allow applies to the sources above the limit: they then skip the managed groups
    rules = ordered()
    rules[0]["Action"] = {"Allow": {}}
    found = findings_for(*rules)
    assert granular(found) == [("Stage", "AllowBeforeBaseline"), ("Stage", RATE)]
    assert {f.severity for f in found} == {Severity.ERROR}


@pytest.mark.parametrize("action", ["Captcha", "Challenge"])
def test_a_rate_rule_that_challenges_is_compliant(action: str) -> None:
    rules = ordered()
    rules[0]["Action"] = {action: {}}
    assert findings_for(*rules) == []


def with_limit(limit: Any) -> list[dict[str, Any]]:
    rules = ordered()
    rules[0]["Statement"]["RateBasedStatement"]["Limit"] = limit
    return rules


@pytest.mark.parametrize(
    "parameter",
    [
        {"Type": "Number", "Default": 1000},
        {"Type": "Number", "Default": 1000, "MaxValue": 2_000_000},
        {"Type": "Number", "AllowedValues": [1000, 500000]},
    ],
)
def test_a_rate_limit_from_an_unbounded_parameter_is_an_error(parameter: dict[str, Any]) -> None:
    found = findings_for(*with_limit({"Ref": "Limit"}), Limit=parameter)
    assert granular(found) == [("Stage", RATE)]
    assert found[0].severity is Severity.ERROR


@pytest.mark.parametrize(
    "parameter",
    [
        {"Type": "Number", "Default": 1000, "MaxValue": 100000},
        {"Type": "Number", "AllowedValues": [1000, 2000]},
    ],
)
def test_a_rate_limit_from_a_bounded_parameter_is_compliant(parameter: dict[str, Any]) -> None:
    assert findings_for(*with_limit({"Ref": "Limit"}), Limit=parameter) == []


def test_a_rate_limit_from_another_intrinsic_is_an_error() -> None:
    limit = {"Fn::FindInMap": ["Limits", "prod", "rate"]}
    assert granular(findings_for(*with_limit(limit))) == [("Stage", RATE)]


def with_keys(kind: str, keys: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    rules = ordered()
    statement = rules[0]["Statement"]["RateBasedStatement"]
    statement["AggregateKeyType"] = kind
    if keys is not None:
        statement["CustomKeys"] = keys
    return rules


HEADER = {"Header": {"Name": "x-request-id", "TextTransformations": []}}


@pytest.mark.parametrize(
    "rules",
    [
        with_keys("CUSTOM_KEYS", [{"IP": {}}, HEADER]),
        with_keys("CUSTOM_KEYS", [HEADER]),
        with_keys("CUSTOM_KEYS", [{"QueryString": {"TextTransformations": []}}]),
        with_keys("CONSTANT"),
    ],
    ids=["ip-and-header", "header-only", "query-string", "constant"],
)
def test_a_rate_rule_not_per_source_ip_is_an_error(rules: list[dict[str, Any]]) -> None:
    found = findings_for(*rules)
    assert granular(found) == [("Stage", RATE)]
    assert found[0].severity is Severity.ERROR


def test_a_forwarded_ip_rate_rule_is_a_warning() -> None:
    found = findings_for(*with_keys("FORWARDED_IP"))
    assert [f.severity for f in found] == [Severity.WARNING]


@pytest.mark.parametrize(
    "keys", [[{"IP": {}}], [{"IP": {}}, {"HTTPMethod": {}}]], ids=["ip", "ip-and-method"]
)
def test_custom_keys_per_source_ip_are_compliant(keys: list[dict[str, Any]]) -> None:
    assert findings_for(*with_keys("CUSTOM_KEYS", keys)) == []


def _cdk_acl(rules: list[dict[str, Any]]) -> Any:
    def build(stack: cdk.Stack) -> None:
        acl = wafv2.CfnWebACL(
            stack,
            "Acl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="acl", sampled_requests_enabled=True
            ),
        )
        acl.add_property_override("Rules", rules)  # the escape hatch a user would reach for

    return synth(build)


def test_a_cdk_web_acl_with_an_allow_rule_first_fails_the_synth() -> None:
    result = _cdk_acl(ordered(allow(0)))
    assert result.failed
    ours = [rule for _, rule, _ in result.violations if rule.startswith("WebAclBaseline")]
    assert ours == ["WebAclBaseline[AllowBeforeBaseline]"], result.violations


def test_a_cdk_web_acl_with_the_ordered_baseline_passes_our_pack() -> None:
    result = _cdk_acl(ordered(allow(99)))
    assert not [v for v in result.violations if "WebAclBaseline" in v[1]], result.violations
