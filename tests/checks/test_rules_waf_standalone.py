"""WebAclBaseline: a web ACL no resource of its template uses, on hand-written YAML templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as cli
from tests.checks.templates import granular

RATE = """
        - Name: RatePerIp
          Priority: 0
          Action: ACTION
          Statement:
            RateBasedStatement: {Limit: LIMIT, AggregateKeyType: IP}
          VisibilityConfig: {SampledRequestsEnabled: true, MetricName: rate}
"""
GROUP = """
        - Name: NAME
          Priority: 1
          OverrideAction: OVERRIDE
          Statement:
            ManagedRuleGroupStatement: {VendorName: AWS, Name: NAME}
          VisibilityConfig: {SampledRequestsEnabled: true, MetricName: NAME}
"""
HEAD = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  SharedAcl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Scope: REGIONAL
      DefaultAction: {Allow: {}}
      VisibilityConfig: {SampledRequestsEnabled: true, MetricName: acl}
      Rules:
"""
OUTPUTS = """
Outputs:
  AclArn:
    Value: !GetAtt SharedAcl.Arn
    Export: {Name: shared-acl-arn}
"""
ALL_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


def acl_yaml(
    groups: tuple[str, ...] = ALL_GROUPS,
    *,
    rate: bool = True,
    limit: int = 2000,
    count: tuple[str, ...] = (),
    extra: str = "",
) -> str:
    rules = ""
    if rate:
        action = "{Count: {}}" if "RateBasedRule" in count else "{Block: {}}"
        rules += RATE.replace("ACTION", action).replace("LIMIT", str(limit))
    for name in groups:
        override = "{Count: {}}" if name in count else "{None: {}}"
        rules += GROUP.replace("NAME", name).replace("OVERRIDE", override)
    return HEAD + rules.rstrip("\n") + "\n" + extra + OUTPUTS


def findings(text: str) -> list[tuple[str, str | None]]:
    body = parse_template_text(text, "test.yaml")
    return granular(RULES["WebAclBaseline"].run(Template(body)))


def test_a_compliant_standalone_web_acl_passes() -> None:
    assert findings(acl_yaml()) == []


def test_fails_when_a_standalone_web_acl_is_empty() -> None:
    text = HEAD.replace("      Rules:\n", "      Rules: []\n") + OUTPUTS
    assert findings(text) == [("SharedAcl", g) for g in sorted((*ALL_GROUPS, "RateBasedRule"))]


@pytest.mark.parametrize("missing", ALL_GROUPS)
def test_fails_when_a_standalone_web_acl_lacks_a_managed_group(missing: str) -> None:
    groups = tuple(g for g in ALL_GROUPS if g != missing)
    assert findings(acl_yaml(groups)) == [("SharedAcl", missing)]


def test_fails_when_a_standalone_web_acl_has_no_rate_rule() -> None:
    assert findings(acl_yaml(rate=False)) == [("SharedAcl", "RateBasedRule")]


def test_fails_when_the_rate_limit_stops_no_flood() -> None:
    found = RULES["WebAclBaseline"].run(
        Template(parse_template_text(acl_yaml(limit=2_000_000), "t.yaml"))
    )
    assert [(f.finding_id, f.severity) for f in found] == [("RateBasedRule", Severity.ERROR)]
    assert "2,000,000" in found[0].message


def test_a_group_in_count_mode_is_a_warning() -> None:
    found = RULES["WebAclBaseline"].run(
        Template(parse_template_text(acl_yaml(count=("AWSManagedRulesSQLiRuleSet",)), "t.yaml"))
    )
    assert [(f.finding_id, f.severity) for f in found] == [
        ("AWSManagedRulesSQLiRuleSet", Severity.WARNING)
    ]


def test_another_vendors_group_does_not_count() -> None:
    text = acl_yaml().replace(
        "{VendorName: AWS, Name: AWSManagedRulesSQLiRuleSet}",
        "{VendorName: Fortinet, Name: AWSManagedRulesSQLiRuleSet}",
    )
    assert findings(text) == [("SharedAcl", "AWSManagedRulesSQLiRuleSet")]


ASSOCIATION = """
  Association:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      WebACLArn: !GetAtt SharedAcl.Arn
      ResourceArn: RESOURCE
"""
STAGE = """
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: items}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, StageName: prod, DeploymentId: d}
"""
EMPTY = HEAD.replace("      Rules:\n", "      Rules: []\n")


def test_a_web_acl_in_front_of_something_else_than_a_stage_is_judged() -> None:
    alb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/lb/1"
    text = EMPTY + ASSOCIATION.replace("RESOURCE", alb) + OUTPUTS
    assert [g for _, g in findings(text)] == sorted((*ALL_GROUPS, "RateBasedRule"))


def test_a_web_acl_in_front_of_a_stage_is_judged_on_the_stage() -> None:
    arn = "!Sub arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod"
    text = EMPTY + ASSOCIATION.replace("RESOURCE", arn) + STAGE + OUTPUTS
    assert findings(text) == []
    body = parse_template_text(text, "t.yaml")
    on_stage = granular(RULES["ApiStageWafRules"].run(Template(body)))
    assert on_stage == [("Stage", g) for g in sorted((*ALL_GROUPS, "RateBasedRule"))]


def test_the_audit_reports_a_standalone_web_acl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shared-waf.yaml"
    path.write_text(acl_yaml(groups=ALL_GROUPS[:2]), encoding="utf-8")
    result = cli(capsys, "audit", path)
    assert result.code == 1, result
    assert "WebAclBaseline[AWSManagedRulesSQLiRuleSet]" in result.out
    path.write_text(acl_yaml(), encoding="utf-8")
    assert "WebAclBaseline" not in cli(capsys, "audit", path).out
