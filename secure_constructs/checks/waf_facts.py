"""Facts about AWS WAF's managed rule groups, shared by SecureWebAcl and the WAF rules.

Pure data (no aws_cdk import): `secure_constructs.waf` builds web ACLs from it, and the
`ApiStageWafRules` rule reads it to tell whether overrides leave a managed group blocking anything.
"""

from __future__ import annotations

from dataclasses import dataclass

REQUIRED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
"""The managed rule groups every API stage's web ACL must run, blocking (practice 3 and 7)."""

MAX_RATE_LIMIT = 100_000
"""The highest per-source-IP rate limit (requests per 5 minutes) secure-constructs accepts:
about 333 requests per second, sustained for five minutes, from one address. AWS WAF accepts
up to 2,000,000,000, but a limit a single client cannot reach without scripting is what makes
the rule stop floods and credential stuffing; callers behind one NAT that legitimately exceed
it need their own rule (a scoped-down statement or a custom aggregation key), not a limit that
protects nobody."""

MAX_COUNT_ONLY_DAYS = 90
"""A count-only (rollout) web ACL must name an end date at most this many days ahead."""

COUNT_ONLY_METADATA = "secure-constructs:count-only"
"""Web ACL resource Metadata: {"until": "YYYY-MM-DD", "reason": "..."} of a count-only rollout;
ApiStageWafRules shows it, and reports the web ACL as an error once the date has passed."""
EXCLUSIONS_METADATA = "secure-constructs:excluded-rules"
"""Web ACL resource Metadata: {"Group:Rule": "reason"} for each managed rule set to COUNT."""


@dataclass(frozen=True)
class ManagedGroup:
    """An AWS managed rule group: its name, capacity (WCU) and its documented rule names."""

    name: str
    wcu: int
    rules: frozenset[str]
    bot_control: bool = False


# Rule names as documented in the AWS WAF Developer Guide ("AWS Managed Rules rule groups list"),
# 2026-11. A bare name in `excluded_rules` must be one of these; a rule AWS adds later can be
# excluded with its qualified name "GroupName:RuleName".
GROUPS: dict[str, ManagedGroup] = {
    g.name: g
    for g in (
        ManagedGroup(
            "AWSManagedRulesCommonRuleSet",
            700,
            frozenset(
                {
                    "NoUserAgent_HEADER",
                    "UserAgent_BadBots_HEADER",
                    "SizeRestrictions_QUERYSTRING",
                    "SizeRestrictions_Cookie_HEADER",
                    "SizeRestrictions_BODY",
                    "SizeRestrictions_URIPATH",
                    "EC2MetaDataSSRF_BODY",
                    "EC2MetaDataSSRF_COOKIE",
                    "EC2MetaDataSSRF_URIPATH",
                    "EC2MetaDataSSRF_QUERYARGUMENTS",
                    "GenericLFI_QUERYARGUMENTS",
                    "GenericLFI_URIPATH",
                    "GenericLFI_BODY",
                    "RestrictedExtensions_URIPATH",
                    "RestrictedExtensions_QUERYARGUMENTS",
                    "GenericRFI_QUERYARGUMENTS",
                    "GenericRFI_BODY",
                    "GenericRFI_URIPATH",
                    "CrossSiteScripting_COOKIE",
                    "CrossSiteScripting_QUERYARGUMENTS",
                    "CrossSiteScripting_BODY",
                    "CrossSiteScripting_URIPATH",
                }
            ),
        ),
        ManagedGroup(
            "AWSManagedRulesKnownBadInputsRuleSet",
            200,
            frozenset(
                {
                    "JavaDeserializationRCE_HEADER",
                    "JavaDeserializationRCE_BODY",
                    "JavaDeserializationRCE_URIPATH",
                    "JavaDeserializationRCE_QUERYSTRING",
                    "Host_localhost_HEADER",
                    "PROPFIND_METHOD",
                    "ExploitablePaths_URIPATH",
                    "Log4JRCE_HEADER",
                    "Log4JRCE_QUERYSTRING",
                    "Log4JRCE_BODY",
                    "Log4JRCE_URIPATH",
                }
            ),
        ),
        ManagedGroup(
            "AWSManagedRulesSQLiRuleSet",
            200,
            frozenset(
                {
                    "SQLi_QUERYARGUMENTS",
                    "SQLiExtendedPatterns_QUERYARGUMENTS",
                    "SQLi_BODY",
                    "SQLiExtendedPatterns_BODY",
                    "SQLi_COOKIE",
                    "SQLi_URIPATH",
                }
            ),
        ),
        ManagedGroup(
            "AWSManagedRulesAmazonIpReputationList",
            25,
            frozenset(
                {
                    "AWSManagedIPReputationList",
                    "AWSManagedReconnaissanceList",
                    "AWSManagedIPDDoSList",
                }
            ),
        ),
        ManagedGroup(
            "AWSManagedRulesAnonymousIpList",
            50,
            frozenset({"AnonymousIPList", "HostingProviderIPList"}),
        ),
        ManagedGroup(
            "AWSManagedRulesBotControlRuleSet",
            50,
            frozenset(
                {
                    "CategoryAdvertising",
                    "CategoryArchiver",
                    "CategoryContentFetcher",
                    "CategoryEmailClient",
                    "CategoryHttpLibrary",
                    "CategoryLinkChecker",
                    "CategoryMiscellaneous",
                    "CategoryMonitoring",
                    "CategoryScrapingFramework",
                    "CategorySearchEngine",
                    "CategorySecurity",
                    "CategorySeo",
                    "CategorySocialMedia",
                    "CategoryAI",
                    "SignalAutomatedBrowser",
                    "SignalKnownBotDataCenter",
                    "SignalNonBrowserUserAgent",
                }
            ),
            bot_control=True,
        ),
    )
}
