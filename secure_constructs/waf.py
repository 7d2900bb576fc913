"""SecureWebAcl and WafProfile: a REGIONAL web ACL with AWS managed rules, a per-IP rate limit,
redacted logging and a blocked-requests alarm, ready to associate with an API stage."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from secure_constructs.checks.guard import ensure_checked
from secure_constructs.checks.waf_facts import (
    COUNT_ONLY_METADATA,
    EXCLUSIONS_METADATA,
    GROUPS,
    MAX_RATE_LIMIT,
    REQUIRED_GROUPS,
)
from secure_constructs.defaults import (
    LOG_RETENTION,
    WAF_BASELINE_RATE_LIMIT,
    WAF_BLOCKED_REQUESTS_THRESHOLD,
    WAF_STRICT_RATE_LIMIT,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.prices import FIXED
from secure_constructs.monitoring import alarm
from secure_constructs.observability.security_signals import add_blocked_rate_alarm
from secure_constructs.prop_types import check_args
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.shared import security_key
from secure_constructs.validation import check_number, check_retention
from secure_constructs.waf_rollout import check_count_only, check_exclusion_reasons

__all__ = ["SecureWebAcl", "WafProfile", "resolve_waf", "web_acl_for"]

RATE_LIMIT_RANGE = (10, MAX_RATE_LIMIT)
"""Allowed rate limits, requests per source IP per 5 minutes. 10 is AWS WAF's minimum; the upper
bound is `checks.waf_facts.MAX_RATE_LIMIT` (100,000: why there, see its docstring)."""
RATE_WINDOW_SECONDS = 300
RATE_RULE_NAME = "RateLimitPerSourceIp"
LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF only delivers logs to CloudWatch log groups whose name starts with this prefix."""
REDACTED_HEADERS = ("authorization", "cookie")
DEFAULT_WEB_ACL_ID = "WebAcl"


_RULE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_WEB_ACL_ARN = re.compile(
    r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w\-]{1,128}/[0-9a-f\-]{36}$"
)


# In priority order: the rate rule first (it counts every request, including those a later rule
# blocks), then the cheap IP lists (known-bad sources are dropped before any inspection), then
# content inspection, and Bot Control last because it is billed per request it inspects.
_BASELINE = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
_STRICT = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesBotControlRuleSet",
)
RATE_RULE_WCU = 2


class WafProfile:
    """What a web ACL blocks: AWS managed rule groups plus a rate limit per source IP.

    Build one with `WafProfile.baseline()` or `WafProfile.strict()`; a profile is immutable and
    can be shared between web ACLs.

    Attributes: `name` ("baseline" or "strict"), `managed_rule_groups` (AWS managed rule group
    names in priority order; the rate rule comes before them), `rate_limit`, `excluded_rules`
    (qualified "Group:Rule" names set to COUNT) and `count_only`.
    """

    def __init__(
        self,
        *,
        name: str,
        managed_rule_groups: Sequence[str],
        rate_limit: int,
        excluded_rules: Mapping[str, str],
        count_only: bool,
        count_only_reason: str | None = None,
        count_only_until: datetime.date | None = None,
    ) -> None:
        check_args(WafProfile.__init__, locals())
        _check_rate_limit(rate_limit)
        self.rollout = check_count_only(count_only, count_only_reason, count_only_until)
        reasons = check_exclusion_reasons(excluded_rules)
        self.name = name
        self.managed_rule_groups: tuple[str, ...] = tuple(managed_rule_groups)
        self.rate_limit = rate_limit
        self.count_only = count_only
        self._exclusions = _resolve_exclusions(list(reasons), self.managed_rule_groups)
        self.excluded_rules: tuple[str, ...] = tuple(
            f"{group}:{rule}" for group, rules in self._exclusions.items() for rule in rules
        )
        self.exclusion_reasons: dict[str, str] = {
            qualified: reasons[entry]
            for entry in reasons
            for qualified in self.excluded_rules
            if qualified == entry or qualified.endswith(f":{entry}")
        }
        """Qualified "Group:Rule" -> why it is set to COUNT."""
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(
                f"WafProfile is immutable; build another one, e.g. "
                f"WafProfile.{self.name}({name}=...)"
            )
        super().__setattr__(name, value)

    @staticmethod
    def baseline(
        *,
        rate_limit: int = WAF_BASELINE_RATE_LIMIT,
        excluded_rules: Mapping[str, str] | None = None,
        count_only: bool = False,
        count_only_reason: str | None = None,
        count_only_until: datetime.date | None = None,
    ) -> WafProfile:
        """AWS managed Common, KnownBadInputs, SQLi and Amazon IP reputation rule groups, and a
        rate-based rule blocking a source IP above `rate_limit` requests per 5 minutes.

        :param rate_limit: requests per source IP per 5 minutes, 10 to 100,000. Default: 1,000.
        :param excluded_rules: managed rules to set to COUNT (false positives), rule name
            ("SizeRestrictions_BODY") or qualified
            ("AWSManagedRulesCommonRuleSet:SizeRestrictions_BODY") -> the reason (one per
            rule; excluding every rule of a required group is refused).
            Default: every rule keeps its managed action.
        :param count_only: every rule counts instead of blocking (for a first rollout); needs
            `count_only_reason` and `count_only_until`, adds a warning, and fails the synth
            once the date has passed. Default: rules block.
        :param count_only_reason: why the web ACL may block nothing for now. Default: none.
        :param count_only_until: the last day of count mode, at most 90 days ahead.
            Default: none.
        """
        check_args(WafProfile.baseline, locals())
        return WafProfile(
            name="baseline",
            managed_rule_groups=_BASELINE,
            rate_limit=rate_limit,
            excluded_rules={} if excluded_rules is None else excluded_rules,
            count_only=count_only,
            count_only_reason=count_only_reason,
            count_only_until=count_only_until,
        )

    @staticmethod
    def strict(
        *,
        rate_limit: int = WAF_STRICT_RATE_LIMIT,
        excluded_rules: Mapping[str, str] | None = None,
        count_only: bool = False,
        count_only_reason: str | None = None,
        count_only_until: datetime.date | None = None,
    ) -> WafProfile:
        """`baseline()` plus the Anonymous IP list and Bot Control (common inspection level),
        with a lower rate limit. Bot Control has a monthly subscription fee.

        :param rate_limit: requests per source IP per 5 minutes, 10 to 100,000. Default: 300.
        :param excluded_rules: as for `baseline()`. Default: none.
        :param count_only: as for `baseline()` (with `count_only_reason` and
            `count_only_until`). Default: rules block.
        :param count_only_reason: as for `baseline()`. Default: none.
        :param count_only_until: as for `baseline()`. Default: none.
        """
        check_args(WafProfile.strict, locals())
        return WafProfile(
            name="strict",
            managed_rule_groups=_STRICT,
            rate_limit=rate_limit,
            excluded_rules={} if excluded_rules is None else excluded_rules,
            count_only=count_only,
            count_only_reason=count_only_reason,
            count_only_until=count_only_until,
        )

    @property
    def rule_count(self) -> int:
        """Rules in the web ACL: one per managed rule group plus the rate-based rule."""
        return len(self.managed_rule_groups) + 1

    @property
    def capacity_wcu(self) -> int:
        """Web ACL capacity units used (above 1,500 WCU AWS charges more per request)."""
        return sum(GROUPS[g].wcu for g in self.managed_rule_groups) + RATE_RULE_WCU

    def monthly_fixed_cost_usd(self) -> float:
        """Fixed monthly list price (web ACL, rules, Bot Control subscription), before requests.

        Prices are read from the one dated table of `secure-constructs cost`
        (`secure_constructs.facts.prices.FIXED`, as of `PRICES_AS_OF`); WAF's are the same in
        every commercial region.
        """
        cost = FIXED["waf_web_acl"].usd + FIXED["waf_rule"].usd * self.rule_count
        if any(GROUPS[g].bot_control for g in self.managed_rule_groups):
            cost += FIXED["waf_bot_control"].usd
        return cost

    def rules(self) -> list[wafv2.CfnWebACL.RuleProperty]:
        """The web ACL rules of this profile, in priority order (rate rule first)."""
        rules = [self._rate_rule(0)]
        for priority, group in enumerate(self.managed_rule_groups, start=1):
            rules.append(self._managed_rule(priority, group))
        return rules

    def _rate_rule(self, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        action = (
            wafv2.CfnWebACL.RuleActionProperty(count={})
            if self.count_only
            else wafv2.CfnWebACL.RuleActionProperty(block={})
        )
        return wafv2.CfnWebACL.RuleProperty(
            name=RATE_RULE_NAME,
            priority=priority,
            action=action,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP",
                    limit=self.rate_limit,
                    evaluation_window_sec=RATE_WINDOW_SECONDS,
                )
            ),
            visibility_config=_visibility(RATE_RULE_NAME),
        )

    def _managed_rule(self, priority: int, group: str) -> wafv2.CfnWebACL.RuleProperty:
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
            )
            for rule in self._exclusions.get(group, ())
        ]
        configs = None
        if GROUPS[group].bot_control:
            configs = [
                wafv2.CfnWebACL.ManagedRuleGroupConfigProperty(
                    aws_managed_rules_bot_control_rule_set=wafv2.CfnWebACL.AWSManagedRulesBotControlRuleSetProperty(
                        inspection_level="COMMON"
                    )
                )
            ]
        override = (
            wafv2.CfnWebACL.OverrideActionProperty(count={})
            if self.count_only
            else wafv2.CfnWebACL.OverrideActionProperty(none={})
        )
        return wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=override,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name=group,
                    rule_action_overrides=overrides or None,
                    managed_rule_group_configs=configs,
                )
            ),
            visibility_config=_visibility(group),
        )

    def __repr__(self) -> str:
        return (
            f"WafProfile.{self.name}(rate_limit={self.rate_limit!r}, "
            f"excluded_rules={self.exclusion_reasons!r}, count_only={self.count_only!r})"
        )


class SecureWebAcl(Construct):
    """A REGIONAL web ACL (default action allow) with the rules of a `WafProfile`, logging to a
    KMS-encrypted `aws-waf-logs-` log group with the `authorization` and `cookie` headers
    redacted, and an alarm on blocked requests.

    Associate it with an API Gateway stage (or ALB, AppSync, Cognito user pool) with
    `associate(...)`.

    :param profile: what to block. Default: `WafProfile.baseline()`.
    :param alarm_topic: where the blocked-requests alarm goes. Default: the stack's alarm topic.
    :param blocked_requests_threshold: alarm when more requests than this are blocked in 5
        minutes. Default: 100.
    :param log_retention: how long WAF logs are kept; `INFINITE` is refused. Default: one year.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: WafProfile | None = None,
        alarm_topic: sns.ITopic | None = None,
        blocked_requests_threshold: int = WAF_BLOCKED_REQUESTS_THRESHOLD,
        log_retention: logs.RetentionDays = logs.RetentionDays[LOG_RETENTION],
    ) -> None:
        check_args(SecureWebAcl.__init__, locals())
        super().__init__(scope, construct_id)
        ensure_checked(self)  # warns at synth when apply_checks was never called
        profile = _checked_profile(profile)
        _check_threshold(blocked_requests_threshold)
        check_retention("log_retention", log_retention)
        self.profile = profile
        self._build_web_acl(profile)
        self._build_logging(log_retention)
        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(self)
        self._add_alarms(profile, blocked_requests_threshold)

    def _build_web_acl(self, profile: WafProfile) -> None:
        """The regional web ACL with the profile's rules and its rollout/exclusion metadata."""
        self.web_acl_name: str = cdk.Names.unique_resource_name(self, max_length=128, separator="-")
        self.web_acl = wafv2.CfnWebACL(
            self,
            "Resource",
            name=self.web_acl_name,
            scope="REGIONAL",
            description=f"secure-constructs WafProfile.{profile.name}",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=profile.rules(),
            visibility_config=_visibility(self.web_acl_name),
        )
        self.web_acl_arn: str = self.web_acl.attr_arn
        if profile.rollout is not None:
            self.web_acl.add_metadata(COUNT_ONLY_METADATA, profile.rollout.metadata())
        if profile.exclusion_reasons:
            self.web_acl.add_metadata(EXCLUSIONS_METADATA, dict(profile.exclusion_reasons))

    def _build_logging(self, log_retention: logs.RetentionDays) -> None:
        """WAF logs to an encrypted `aws-waf-logs-*` group, authorization and cookie redacted."""
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=LOG_GROUP_PREFIX
            + cdk.Names.unique_resource_name(self, max_length=100, separator="-"),
            retention=log_retention,
            encryption_key=security_key(self),
        )
        self.logging_configuration = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl_arn,
            log_destination_configs=[self.log_group.log_group_arn],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )

    def _add_alarms(self, profile: WafProfile, threshold: int) -> None:
        """Blocked requests (count and rate); a count-only web ACL's counted requests too."""
        self.blocked_requests_alarm = alarm(
            self,
            "BlockedRequestsAlarm",
            metric=self.metric("BlockedRequests"),
            threshold=threshold,
            description=(
                f"The web ACL blocked more than {threshold} requests in 5 minutes "
                "(an attack, or a false positive locking out users)"
            ),
            topic=self.alarm_topic,
        )
        self.blocked_rate_alarm: cloudwatch.Alarm = add_blocked_rate_alarm(
            self, self.metric("BlockedRequests"), self.metric("AllowedRequests"), self.alarm_topic
        )
        """Blocked / (allowed + blocked) above 10% in 5 minutes (observability/)."""
        self.counted_requests_alarm: cloudwatch.Alarm | None = None
        if profile.count_only:
            self._warn_and_alarm_count_only(profile, threshold)

    def _warn_and_alarm_count_only(self, profile: WafProfile, threshold: int) -> None:
        rollout = profile.rollout
        cdk.Annotations.of(self).add_warning_v2(
            "secure-constructs:waf-count-only",
            "count_only=True until "
            f"{rollout.until.isoformat() if rollout else '?'}: the web ACL "
            "counts matching requests but blocks nothing "
            f"({rollout.reason if rollout else ''}); review the "
            "CountedRequests metric and WAF logs, then remove count_only",
        )
        self.counted_requests_alarm = alarm(
            self,
            "CountedRequestsAlarm",
            metric=self.metric("CountedRequests"),
            threshold=threshold,
            description=(
                f"The count-only web ACL would have blocked more than "
                f"{threshold} requests in 5 minutes"
            ),
            topic=self.alarm_topic,
        )

    def metric(self, metric_name: str, *, rule: str = "ALL") -> cloudwatch.Metric:
        """A 5-minute Sum of an AWS/WAFV2 metric of this web ACL (e.g. BlockedRequests)."""
        check_args(SecureWebAcl.metric, locals())
        return cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name=metric_name,
            dimensions_map={
                "WebACL": self.web_acl_name,
                "Region": cdk.Stack.of(self).region,
                "Rule": rule,
            },
            statistic="Sum",
            period=cdk.Duration.minutes(5),
        )

    def associate(self, construct_id: str, resource_arn: str) -> wafv2.CfnWebACLAssociation:
        """Protect a regional resource (e.g. an API Gateway stage ARN) with this web ACL."""
        check_args(SecureWebAcl.associate, locals())
        if not isinstance(resource_arn, str) or not resource_arn:
            raise ValidationError(
                "resource_arn",
                resource_arn,
                "the ARN of an API Gateway stage, ALB, AppSync API or Cognito user pool",
                "pass e.g. api.deployment_stage.stage_arn",
            )
        return wafv2.CfnWebACLAssociation(
            self, construct_id, resource_arn=resource_arn, web_acl_arn=self.web_acl_arn
        )


def web_acl_for(
    scope: Construct, waf: WafProfile | str | None, *, alarm_topic: sns.ITopic | None = None
) -> tuple[SecureWebAcl | None, str]:
    """The web ACL to associate for a `waf=` prop: (the SecureWebAcl created, or None for an
    existing one; its ARN).

    A `WafProfile` (or None, meaning `WafProfile.baseline()`) creates a `SecureWebAcl` with id
    "WebAcl" under `scope`, its blocked-requests alarm going to `alarm_topic` (default: the
    stack's alarm topic); a string must be the ARN of an existing REGIONAL web ACL.
    """
    if waf is None:
        waf = WafProfile.baseline()
    if isinstance(waf, WafProfile):
        created = SecureWebAcl(scope, DEFAULT_WEB_ACL_ID, profile=waf, alarm_topic=alarm_topic)
        return created, created.web_acl_arn
    if isinstance(waf, str) and (cdk.Token.is_unresolved(waf) or _WEB_ACL_ARN.match(waf)):
        return None, waf
    raise ValidationError(
        "waf",
        waf,
        "a WafProfile, or the ARN of an existing REGIONAL web ACL "
        "(arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)",
        "pass waf=WafProfile.baseline(), WafProfile.strict(), or the web ACL's ARN",
    )


def resolve_waf(
    scope: Construct, waf: WafProfile | str | None, *, alarm_topic: sns.ITopic | None = None
) -> str:
    """The ARN of the web ACL to associate, for a `waf=` prop (see `web_acl_for`)."""
    return web_acl_for(scope, waf, alarm_topic=alarm_topic)[1]


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )


def _check_rate_limit(rate_limit: int) -> None:
    low, high = RATE_LIMIT_RANGE
    check_number(
        "rate_limit",
        rate_limit,
        low,
        high,
        whole=True,
        allowed=(
            f"a whole number of requests per source IP per 5 minutes from {low:,} (AWS WAF's "
            f"minimum) to {high:,} (about 333 requests per second from one address; above "
            "that a per-IP limit stops no flood)"
        ),
        fix="pass e.g. rate_limit=1000",
    )


def _check_threshold(threshold: int) -> None:
    check_number(
        "blocked_requests_threshold",
        threshold,
        0,
        math.inf,
        whole=True,
        allowed="a whole number of blocked requests per 5 minutes >= 0",
        fix="pass e.g. blocked_requests_threshold=100",
    )


def _resolve_exclusions(
    excluded_rules: Sequence[str], groups: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """group -> excluded rule names, each checked against the groups of the profile."""
    if isinstance(excluded_rules, str):
        raise ValidationError(
            "excluded_rules",
            excluded_rules,
            "a list of rule names",
            f"pass excluded_rules=[{excluded_rules!r}]",
        )
    found: dict[str, list[str]] = {}
    for entry in excluded_rules:
        group, rule = _resolve_exclusion(entry, groups)
        if rule not in found.setdefault(group, []):
            found[group].append(rule)
    for group, rules in found.items():
        if group in REQUIRED_GROUPS and GROUPS[group].rules <= set(rules):
            # Every rule set to COUNT: the group blocks nothing, yet looks present in the web
            # ACL (ApiStageWafRules reports it as counting-only). count_only is the honest switch.
            raise ValidationError(
                "excluded_rules",
                f"every rule of {group}",
                f"excluding some rules of {group}, not all of them: the group is part of the "
                "baseline every API needs, and with all its rules excluded it blocks nothing",
                "exclude only the rules with false positives (see the WAF logs), or pass "
                "count_only=True for a first rollout in count mode",
            )
    return {group: tuple(rules) for group, rules in found.items()}


def _resolve_exclusion(entry: str, groups: tuple[str, ...]) -> tuple[str, str]:
    if not isinstance(entry, str) or cdk.Token.is_unresolved(entry):
        raise _bad_exclusion(entry, groups)
    if ":" in entry:
        group, rule = entry.split(":", 1)
        if group in groups and _RULE_NAME.match(rule):
            return group, rule
        raise _bad_exclusion(entry, groups)
    owners = [g for g in groups if entry in GROUPS[g].rules]
    if len(owners) != 1:
        raise _bad_exclusion(entry, groups)
    return owners[0], entry


def _bad_exclusion(entry: object, groups: tuple[str, ...]) -> ValidationError:
    return ValidationError(
        "excluded_rules",
        entry,
        "the name of a rule of this profile's managed rule groups ("
        + ", ".join(groups)
        + "), e.g. 'SizeRestrictions_BODY', or 'GroupName:RuleName' for a rule AWS added later",
        "copy the rule name from the WAF logs (terminatingRuleMatchDetails / ruleGroupList) or "
        "the AWS Managed Rules documentation; the rate limit is changed with rate_limit=",
    )


def _checked_profile(profile: object) -> WafProfile:
    """The profile given, or `WafProfile.baseline()` when None."""
    profile = WafProfile.baseline() if profile is None else profile
    if not isinstance(profile, WafProfile):
        raise ValidationError(
            "profile",
            profile,
            "a WafProfile",
            "pass profile=WafProfile.baseline() or .strict()",
        )
    return profile
