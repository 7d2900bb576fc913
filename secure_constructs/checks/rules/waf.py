"""Rules over AWS WAF (v2): what the web ACL in front of an API Gateway stage inspects, and
whether WAF logs keep credentials out.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.api_facts import StageDecl, stages
from secure_constructs.checks.cfn import as_list, referenced_id, referenced_ids, renderings
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule
from secure_constructs.checks.waf_acl import ALLOW_BEFORE_FINDING, RATE_FINDING, coverage
from secure_constructs.checks.waf_facts import COUNT_ONLY_METADATA, MAX_RATE_LIMIT, REQUIRED_GROUPS

STAGE = "AWS::ApiGateway::Stage"
WEB_ACL = "AWS::WAFv2::WebACL"
ASSOCIATION = "AWS::WAFv2::WebACLAssociation"
NO_WEB_ACL_FINDING = "WebACL"
REDACTED_HEADERS = ("authorization", "cookie")


def _protects_stage(arn: Any, stage: StageDecl) -> bool:
    """Whether an association's ResourceArn names this stage (by Ref, or API Ref + stage name)."""
    refs = set(referenced_ids(arn))
    if stage.logical_id in refs and not stage.from_deployment:
        return True
    api = referenced_id(stage.rest_api)
    name = stage.name
    if api is None or api not in refs or not isinstance(name, str):
        return False
    return any(text.endswith(f"/stages/{name}") for text in renderings(arn))


# --- ApiStageWafRules -----------------------------------------------------------------------


@rule(
    "ApiStageWafRules",
    granular=True,
    practice=Practice.API_PROTECTION,
    applies_to=(STAGE, "AWS::ApiGateway::Deployment"),
    summary="An API stage has no web ACL, or its web ACL lacks a baseline managed rule group "
    "or a rate-based rule",
    explanation=(
        "AwsSolutions-APIG3 (a warning) and the compliance packs only ask that some web ACL is "
        "associated with the stage; an empty one passes. The baseline that stops common "
        "attacks before they reach a function is AWS's Core rule set (OWASP Top 10 patterns), "
        "Known bad inputs (Log4Shell, Java deserialization ...), the SQL database rule group, "
        "and a rate-based rule per source IP against floods and credential stuffing. Rule "
        "groups in count mode are reported as warnings: they inspect but block nothing. A group "
        "whose every documented rule is overridden to Count (or Allow), by RuleActionOverrides "
        "or ExcludedRules, blocks nothing either and is reported the same way, as a warning. A "
        "web ACL referenced by ARN from outside the template cannot be inspected and is "
        "accepted. Every stage counts: a Deployment with a StageName creates one too."
    ),
)
def api_stage_waf_rules(t: Template) -> Iterator[Violation]:
    """Per stage: an association, and (for a web ACL in the template) the baseline rules."""
    associations = list(t.of_type(ASSOCIATION))
    web_acls = dict(t.of_type(WEB_ACL))
    fix = (
        "use SecureApi (waf=WafProfile.baseline() by default), or add the "
        "AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet and "
        "AWSManagedRulesSQLiRuleSet managed rule groups and a RateBasedStatement rule to the "
        "web ACL associated with the stage"
    )
    for stage in stages(t.resources):
        stage_id = stage.logical_id
        acl_refs = [
            a.get("WebACLArn")
            for association_id, a in associations
            if _protects_stage(a.get("ResourceArn"), stage)
            and t.exists_with(association_id, stage.logical_id)
        ]
        if not acl_refs:
            where = (
                f" (stage {stage.name!r}, created by this Deployment's StageName)"
                if stage.from_deployment
                else ""
            )
            yield Violation(
                stage_id,
                "Properties",
                f"no AWS::WAFv2::WebACLAssociation protects this stage{where}",
                fix + "; a stage beside SecureApi's gets none of its protections: make it another "
                "SecureApi(stage_name=...) instead",
                finding_id=NO_WEB_ACL_FINDING,
            )
            continue
        for acl_ref in acl_refs:
            acl_id = referenced_id(acl_ref)
            if acl_id is None or acl_id not in web_acls:
                continue  # an existing web ACL by ARN: not inspectable here
            metadata = t.resources[acl_id].get("Metadata")
            rollout = metadata.get(COUNT_ONLY_METADATA) if isinstance(metadata, Mapping) else None
            yield from _missing_rules(
                stage_id, acl_id, web_acls[acl_id], fix, rollout, parameters=_parameters(t)
            )


def _missing_rules(
    stage_id: str,
    acl_id: str,
    acl: Mapping[str, Any],
    fix: str,
    rollout: Any = None,
    where: str = " in front of this stage",
    parameters: Mapping[str, Any] | None = None,
) -> Iterator[Violation]:
    found = coverage(acl, parameters or {})
    for name in (*REQUIRED_GROUPS, RATE_FINDING):
        if name in found.blocking:
            continue
        what = "a rate-based rule" if name == RATE_FINDING else f"the {name} managed rule group"
        shortfall = found.shortfalls.get(name)
        if name in found.overridden:
            yield Violation(
                stage_id,
                "Properties",
                f"web ACL {acl_id} has {what} with every rule overridden to Count (it blocks "
                "nothing)",
                "remove the RuleActionOverrides / ExcludedRules entries that do not answer a "
                "false positive seen in the WAF logs, so that the group blocks again",
                finding_id=name,
                severity=Severity.WARNING,
            )
        elif shortfall is not None and name not in found.counting:
            yield Violation(
                stage_id,
                "Properties",
                f"web ACL {acl_id} {shortfall.message}",
                _SHORTFALL_FIX[name == RATE_FINDING],
                finding_id=name,
                severity=shortfall.severity,
            )
        elif name in found.counting:
            yield _counting(stage_id, acl_id, what, name, rollout)
        else:
            yield Violation(
                stage_id,
                "Properties",
                f"web ACL {acl_id}{where} lacks {what}",
                fix,
                finding_id=name,
            )
    for bypass in found.bypasses:
        yield Violation(
            stage_id,
            "Properties",
            f"web ACL {acl_id} {bypass.message}",
            "give Allow rules a Priority after the managed rule groups and the rate-based rule "
            "(a higher number), or make them Count rules that add a label the later rules read",
            finding_id=ALLOW_BEFORE_FINDING,
            severity=bypass.severity,
        )


_SHORTFALL_FIX = {
    True: f"give the rate-based rule Action Block, a literal Limit of at most {MAX_RATE_LIMIT:,} "
    "(or a parameter with that MaxValue), AggregateKeyType IP and no ScopeDownStatement; give "
    "heavy callers their own additional scoped-down rule (WafProfile(rate_limit=...) builds one)",
    False: "remove the ScopeDownStatement so the group inspects every request, or add a second "
    "copy of the group without it",
}


def _parameters(t: Template) -> Mapping[str, Any]:
    declared = t.body.get("Parameters")
    return declared if isinstance(declared, Mapping) else {}


def _counting(stage_id: str, acl_id: str, what: str, name: str, rollout: Any) -> Violation:
    """A count-mode finding: a warning while a declared rollout lasts, an error after it."""
    until = rollout.get("until") if isinstance(rollout, Mapping) else None
    reason = rollout.get("reason") if isinstance(rollout, Mapping) else None
    expired = False
    declared = ""
    if isinstance(until, str):
        try:
            expired = datetime.date.fromisoformat(until) < datetime.date.today()
        except ValueError:
            expired = True
        declared = f"; count-only until {until}: {reason}"
    return Violation(
        stage_id,
        "Properties",
        f"web ACL {acl_id} has {what} in count mode only (it blocks nothing{declared})"
        + (" and the declared end date has passed" if expired else ""),
        "finish the rollout: remove count_only / the Count override once the logs show "
        "no false positives",
        finding_id=name,
        severity=Severity.ERROR if expired else Severity.WARNING,
    )


# --- WafLogRedaction ------------------------------------------------------------------------


@rule(
    "WafLogRedaction",
    granular=True,
    practice=Practice.SECRETS,
    applies_to=("AWS::WAFv2::LoggingConfiguration",),
    summary="WAF logging does not redact the authorization header",
    explanation=(
        "WAF logs every inspected request's headers. Without redaction the Authorization "
        "header (bearer tokens, SigV4 signatures, basic credentials) lands in the log group, "
        "where anyone who can read logs can replay a session. Cookies carry sessions too: "
        "leaving them unredacted is reported as a warning."
    ),
)
def waf_log_redaction(t: Template) -> Iterator[Violation]:
    """Logging configurations whose RedactedFields lack the authorization (and cookie) header."""
    for logical_id, props in t.of_type("AWS::WAFv2::LoggingConfiguration"):
        redacted: set[str] = set()
        for field in as_list(props.get("RedactedFields")):
            header = field.get("SingleHeader") if isinstance(field, Mapping) else None
            name = header.get("Name") if isinstance(header, Mapping) else None
            if isinstance(name, str):
                redacted.add(name.lower())
        for header_name in REDACTED_HEADERS:
            if header_name in redacted:
                continue
            yield Violation(
                logical_id,
                "Properties/RedactedFields",
                f"the {header_name} header is logged in clear",
                "use SecureWebAcl (redacts authorization and cookie), or add "
                f'{{"SingleHeader": {{"Name": "{header_name}"}}}} to RedactedFields',
                finding_id=header_name,
                severity=Severity.ERROR if header_name == "authorization" else Severity.WARNING,
            )


RULES = (api_stage_waf_rules, waf_log_redaction)
