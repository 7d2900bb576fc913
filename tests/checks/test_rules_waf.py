"""The SecureServerless WAF rules on small template dicts (no synth)."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.model import Severity
from secure_constructs.checks.waf_facts import GROUPS
from tests.checks.templates import granular, resource, run

BASELINE = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
STAGE_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":apigateway:",
            {"Ref": "AWS::Region"},
            "::/restapis/",
            {"Ref": "Api"},
            "/stages/",
            {"Ref": "Stage"},
        ],
    ]
}


def managed(name: str, count: bool = False) -> dict[str, Any]:
    return {
        "Name": name,
        "Priority": 1,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
        "OverrideAction": {"Count": {}} if count else {"None": {}},
        "VisibilityConfig": {},
    }


def rate(count: bool = False) -> dict[str, Any]:
    return {
        "Name": "RateLimitPerSourceIp",
        "Priority": 0,
        "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}},
        "Action": {"Count": {}} if count else {"Block": {}},
        "VisibilityConfig": {},
    }


def web_acl(*rules: dict[str, Any]) -> dict[str, Any]:
    return resource(
        "AWS::WAFv2::WebACL",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=list(rules),
        VisibilityConfig={},
    )


def stack(acl: dict[str, Any] | None, arn: Any = STAGE_ARN, **extra: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Api": resource("AWS::ApiGateway::RestApi", Name="Items"),
        "Stage": resource(
            "AWS::ApiGateway::Stage",
            RestApiId={"Ref": "Api"},
            StageName="prod",
            DeploymentId={"Ref": "Deployment"},
        ),
        **extra,
    }
    if acl is not None:
        resources["Acl"] = acl
        resources["Association"] = resource(
            "AWS::WAFv2::WebACLAssociation",
            ResourceArn=arn,
            WebACLArn={"Fn::GetAtt": ["Acl", "Arn"]},
        )
    return resources


# --- ApiStageWafRules -----------------------------------------------------------------------


def test_baseline_web_acl_on_the_stage_is_compliant() -> None:
    acl = web_acl(
        rate(), *(managed(n) for n in BASELINE), managed("AWSManagedRulesAnonymousIpList")
    )
    assert run("ApiStageWafRules", stack(acl)) == []


def test_association_by_api_and_literal_stage_name_counts() -> None:
    arn = {
        "Fn::Join": [
            "",
            ["arn:aws:apigateway:eu-west-1::/restapis/", {"Ref": "Api"}, "/stages/prod"],
        ]
    }
    acl = web_acl(rate(), *(managed(n) for n in BASELINE))
    assert run("ApiStageWafRules", stack(acl, arn=arn)) == []


def test_an_existing_web_acl_by_arn_is_accepted() -> None:
    resources = stack(None)
    resources["Association"] = resource(
        "AWS::WAFv2::WebACLAssociation",
        ResourceArn=STAGE_ARN,
        WebACLArn="arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shared/abc",
    )
    assert run("ApiStageWafRules", resources) == []


def test_fails_when_the_stage_has_no_web_acl() -> None:
    findings = run("ApiStageWafRules", stack(None))
    assert granular(findings) == [("Stage", "WebACL")]


def test_fails_when_the_association_protects_another_stage() -> None:
    arn = {
        "Fn::Join": [
            "",
            ["arn:aws:apigateway:eu-west-1::/restapis/", {"Ref": "Api"}, "/stages/dev"],
        ]
    }
    acl = web_acl(rate(), *(managed(n) for n in BASELINE))
    assert granular(run("ApiStageWafRules", stack(acl, arn=arn))) == [("Stage", "WebACL")]


@pytest.mark.parametrize("missing", [*BASELINE, "RateBasedRule"])
def test_fails_when_the_web_acl_lacks_a_baseline_rule(missing: str) -> None:
    rules = [managed(n) for n in BASELINE if n != missing]
    if missing != "RateBasedRule":
        rules.append(rate())
    findings = run("ApiStageWafRules", stack(web_acl(*rules)))
    assert granular(findings) == [("Stage", missing)]
    assert findings[0].severity is Severity.ERROR


def test_fails_on_every_missing_rule_of_an_empty_web_acl() -> None:
    findings = run("ApiStageWafRules", stack(web_acl()))
    assert granular(findings) == sorted(("Stage", n) for n in (*BASELINE, "RateBasedRule"))


def test_a_group_from_another_vendor_does_not_count() -> None:
    fake = managed("AWSManagedRulesSQLiRuleSet")
    fake["Statement"]["ManagedRuleGroupStatement"]["VendorName"] = "SomeVendor"
    rules = [rate(), managed(BASELINE[0]), managed(BASELINE[1]), fake]
    findings = run("ApiStageWafRules", stack(web_acl(*rules)))
    assert granular(findings) == [("Stage", "AWSManagedRulesSQLiRuleSet")]


def test_count_mode_rules_are_warnings() -> None:
    rules = [rate(count=True), *(managed(n, count=True) for n in BASELINE)]
    findings = run("ApiStageWafRules", stack(web_acl(*rules)))
    assert granular(findings) == sorted(("Stage", n) for n in (*BASELINE, "RateBasedRule"))
    assert all(f.severity is Severity.WARNING for f in findings)
    assert all("count mode" in f.message for f in findings)


def overridden(name: str, rules: list[str], *, excluded: bool = False) -> dict[str, Any]:
    """A blocking managed group whose `rules` are set to Count (or excluded, the old way)."""
    item = managed(name)
    statement = item["Statement"]["ManagedRuleGroupStatement"]
    if excluded:
        statement["ExcludedRules"] = [{"Name": r} for r in rules]
    else:
        statement["RuleActionOverrides"] = [
            {"Name": r, "ActionToUse": {"Count": {}}} for r in rules
        ]
    return item


@pytest.mark.parametrize("excluded", [False, True])
def test_a_group_with_every_rule_overridden_to_count_is_a_warning(excluded: bool) -> None:
    sqli = "AWSManagedRulesSQLiRuleSet"
    every_rule = sorted(GROUPS[sqli].rules)
    acl = web_acl(
        rate(),
        *(managed(n) for n in BASELINE if n != sqli),
        overridden(sqli, every_rule, excluded=excluded),
    )
    findings = run("ApiStageWafRules", stack(acl))
    assert granular(findings) == [("Stage", sqli)]
    assert findings[0].severity is Severity.WARNING
    assert "every rule overridden to Count" in findings[0].message


def test_a_group_with_rules_split_between_overrides_and_exclusions_blocks_nothing() -> None:
    common = "AWSManagedRulesCommonRuleSet"
    every_rule = sorted(GROUPS[common].rules)
    item = overridden(common, every_rule[:5])
    statement = item["Statement"]["ManagedRuleGroupStatement"]
    statement["ExcludedRules"] = [{"Name": r} for r in every_rule[5:]]
    acl = web_acl(rate(), *(managed(n) for n in BASELINE if n != common), item)
    assert granular(run("ApiStageWafRules", stack(acl))) == [("Stage", common)]


def test_a_group_with_some_rules_overridden_still_blocks() -> None:
    sqli = "AWSManagedRulesSQLiRuleSet"
    every_rule = sorted(GROUPS[sqli].rules)
    acl = web_acl(
        rate(), *(managed(n) for n in BASELINE if n != sqli), overridden(sqli, every_rule[1:])
    )
    assert run("ApiStageWafRules", stack(acl)) == []


def test_overrides_to_a_blocking_action_do_not_make_a_group_counting() -> None:
    sqli = "AWSManagedRulesSQLiRuleSet"
    item = managed(sqli)
    item["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] = [
        {"Name": r, "ActionToUse": {"Block": {}}} for r in GROUPS[sqli].rules
    ]
    acl = web_acl(rate(), *(managed(n) for n in BASELINE if n != sqli), item)
    assert run("ApiStageWafRules", stack(acl)) == []


# --- WafLogRedaction ------------------------------------------------------------------------


def logging(*headers: str) -> dict[str, Any]:
    return {
        "Logging": resource(
            "AWS::WAFv2::LoggingConfiguration",
            ResourceArn={"Fn::GetAtt": ["Acl", "Arn"]},
            LogDestinationConfigs=[{"Fn::GetAtt": ["Logs", "Arn"]}],
            RedactedFields=[{"SingleHeader": {"Name": h}} for h in headers],
        )
    }


@pytest.mark.parametrize("headers", [("authorization", "cookie"), ("Authorization", "Cookie")])
def test_logging_that_redacts_authorization_and_cookie_is_compliant(
    headers: tuple[str, str],
) -> None:
    assert run("WafLogRedaction", logging(*headers)) == []


def test_fails_when_authorization_is_logged() -> None:
    findings = run("WafLogRedaction", logging("cookie"))
    assert granular(findings) == [("Logging", "authorization")]
    assert findings[0].severity is Severity.ERROR


def test_unredacted_cookies_are_a_warning() -> None:
    findings = run("WafLogRedaction", logging("authorization"))
    assert granular(findings) == [("Logging", "cookie")]
    assert findings[0].severity is Severity.WARNING


def test_fails_when_nothing_is_redacted() -> None:
    resources = logging()
    del resources["Logging"]["Properties"]["RedactedFields"]
    findings = run("WafLogRedaction", resources)
    assert granular(findings) == [("Logging", "authorization"), ("Logging", "cookie")]
