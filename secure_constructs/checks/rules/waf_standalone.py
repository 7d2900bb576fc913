"""WebAclBaseline: every web ACL that no API stage of its template uses is judged on its own.

A web ACL is often made in one template and associated in another (a shared "security" stack,
an association done by Firewall Manager), or put in front of something other than a REST API
stage (a load balancer, an AppSync API, a CloudFront distribution). ApiStageWafRules judges only
the web ACL associated with a stage of the same template, so such a web ACL would never be
judged at all; this rule holds it to the same baseline (the managed groups of
`waf_facts.REQUIRED_GROUPS` and a rate-based rule), reusing ApiStageWafRules' reading of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.api_facts import stages
from secure_constructs.checks.cfn import referenced_ids
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.rules.waf import (
    ASSOCIATION,
    WEB_ACL,
    _missing_rules,
    _parameters,
    _protects_stage,
)
from secure_constructs.checks.waf_facts import COUNT_ONLY_METADATA

_FIX = (
    "add the AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet and "
    "AWSManagedRulesSQLiRuleSet managed rule groups (VendorName AWS, OverrideAction None) and a "
    "rule with a RateBasedStatement (Action Block, Limit at most 100,000) to the web ACL's Rules, "
    "or build it with SecureWebAcl(profile=WafProfile.baseline())"
)


def judged_with_a_stage(t: Template) -> set[str]:
    """Web ACLs an association puts in front of an API stage of the template (ApiStageWafRules
    judges those, on the stage)."""
    found: set[str] = set()
    all_stages = list(stages(t.resources))
    for _, association in t.of_type(ASSOCIATION):
        arn = association.get("ResourceArn")
        if any(_protects_stage(arn, stage) for stage in all_stages):
            found.update(referenced_ids(association.get("WebACLArn")))
    return found


@rule(
    "WebAclBaseline",
    practice=Practice.API_PROTECTION,
    applies_to=(WEB_ACL,),
    granular=True,
    summary="A web ACL that no API stage of its template uses lacks a baseline managed rule "
    "group or a rate-based rule",
    explanation=(
        "A web ACL made in one template is often associated from another (a shared security "
        "stack, Firewall Manager), or sits in front of a load balancer, an AppSync API or a "
        "CloudFront distribution; no stage rule sees inside it. Judged here instead: it must "
        "run AWS's Core rule set, Known bad inputs and the SQL database rule group, and a "
        "rate-based rule, blocking (a rule in count mode is a warning). A web ACL associated "
        "with an API stage of the template is judged on the stage (ApiStageWafRules)."
    ),
)
def web_acl_baseline(t: Template) -> Iterator[Violation]:
    """Every web ACL of the template that nothing in the template references."""
    with_stage = judged_with_a_stage(t)
    for acl_id, acl in t.of_type(WEB_ACL):
        if acl_id in with_stage:
            continue
        metadata = t.resources[acl_id].get("Metadata")
        rollout: Any = metadata.get(COUNT_ONLY_METADATA) if isinstance(metadata, Mapping) else None
        for v in _missing_rules(
            acl_id, acl_id, acl, _FIX, rollout, where="", parameters=_parameters(t)
        ):
            yield Violation(
                v.logical_id, "Properties/Rules", v.message, v.fix, v.finding_id, v.severity
            )


RULES = (web_acl_baseline,)
