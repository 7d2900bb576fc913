"""How much of the baseline a web ACL's `Rules` really enforce (read by the WAF rules).

A web ACL "has" a managed rule group or a rate-based rule only if that rule can block what it
matches. Each way of having the rule in name only is read here, once, for ApiStageWafRules and
WebAclBaseline alike:

- a managed group in count mode (`OverrideAction: Count`), or with every documented rule
  overridden to Count/Allow or excluded;
- a managed group or rate rule behind a `ScopeDownStatement`: it inspects only the requests the
  scope-down matches (possibly none), so it is a warning, never a pass;
- a rate rule whose action is `Allow` (it blocks nothing), whose limit is above
  `waf_facts.MAX_RATE_LIMIT` or comes from a parameter with no upper bound, or whose
  aggregation is not per source IP (`CONSTANT`, `CUSTOM_KEYS` with a key the caller chooses:
  a header, cookie, query argument or path the attacker varies to get a fresh bucket per
  request; `FORWARDED_IP`, a header any client can set unless a proxy in front rewrites it);
- an `Allow` rule evaluated before (lower `Priority` than) a required rule: AWS WAF stops at the
  first terminating action, so whatever the Allow rule matches skips the baseline. AWS WAF
  Developer Guide, "Rule action" and "Setting rule priority"
  (https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-processing-order.html).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from secure_constructs.checks.cfn import as_list, number
from secure_constructs.checks.model import Severity
from secure_constructs.checks.parameter_bounds import parameter_bounds, referenced_parameter
from secure_constructs.checks.waf_facts import GROUPS, MAX_RATE_LIMIT, REQUIRED_GROUPS

RATE_FINDING = "RateBasedRule"
ALLOW_BEFORE_FINDING = "AllowBeforeBaseline"

PER_IP_KEYS = frozenset({"IP", "HTTPMethod", "LabelNamespace"})
"""CUSTOM_KEYS a rate rule may aggregate on and stay per source IP: the caller cannot pick a
fresh value of these per request (HTTP methods are a handful; labels are set by WAF rules).
Every other key (Header, Cookie, QueryArgument, QueryString, UriPath, ForwardedIP, ...) lets a
flood spread itself over as many buckets as it likes."""

TERMINATING_BLOCKS = ("Block", "Captcha", "Challenge")
"""Rule actions that stop a request that fails them (Captcha/Challenge block non-solvers)."""


@dataclass(frozen=True)
class Shortfall:
    """Why a required rule is present but does not enforce the baseline."""

    message: str
    severity: Severity


@dataclass
class Coverage:
    """Per required rule (managed group name or RATE_FINDING): blocking, or why not."""

    blocking: set[str] = field(default_factory=set)
    shortfalls: dict[str, Shortfall] = field(default_factory=dict)
    counting: set[str] = field(default_factory=set)
    overridden: set[str] = field(default_factory=set)
    bypasses: list[Shortfall] = field(default_factory=list)

    def weaker(self, name: str, shortfall: Shortfall) -> None:
        """Record a shortfall unless a blocking copy of the rule exists."""
        if name not in self.blocking:
            self.shortfalls.setdefault(name, shortfall)


def coverage(acl: Mapping[str, Any], parameters: Mapping[str, Any]) -> Coverage:
    """Read every rule of a web ACL's properties."""
    found = Coverage()
    rules = [item for item in as_list(acl.get("Rules")) if isinstance(item, Mapping)]
    for item in rules:
        statement = item.get("Statement")
        if not isinstance(statement, Mapping):
            continue
        group = statement.get("ManagedRuleGroupStatement")
        if isinstance(group, Mapping) and group.get("VendorName") == "AWS":
            _read_group(found, item, group)
        rate = statement.get("RateBasedStatement")
        if isinstance(rate, Mapping):
            _read_rate(found, item, rate, parameters)
    for name in list(found.shortfalls):
        if name in found.blocking:
            del found.shortfalls[name]
    found.bypasses.extend(_allow_bypasses(rules))
    return found


def _read_group(found: Coverage, item: Mapping[str, Any], group: Mapping[str, Any]) -> None:
    name = group.get("Name")
    if not isinstance(name, str):
        return
    override = item.get("OverrideAction")
    if isinstance(override, Mapping) and "Count" in override:
        found.counting.add(name)
    elif _all_rules_overridden(name, group):
        found.overridden.add(name)
        found.counting.add(name)
    elif "ScopeDownStatement" in group:
        found.weaker(name, _scoped(f"the {name} managed rule group"))
    else:
        found.blocking.add(name)


def _read_rate(
    found: Coverage, item: Mapping[str, Any], rate: Mapping[str, Any], parameters: Mapping[str, Any]
) -> None:
    action = item.get("Action")
    actions = set(action) if isinstance(action, Mapping) else set()
    if "Count" in actions:
        found.counting.add(RATE_FINDING)
        return
    shortfall = (
        _not_blocking(actions)
        or _limit_shortfall(rate.get("Limit"), parameters)
        or _aggregation_shortfall(rate)
        or (_scoped("a rate-based rule") if "ScopeDownStatement" in rate else None)
    )
    if shortfall is None:
        found.blocking.add(RATE_FINDING)
    else:
        found.weaker(RATE_FINDING, shortfall)


def _scoped(what: str) -> Shortfall:
    return Shortfall(
        f"has {what} behind a ScopeDownStatement: it inspects only the requests the "
        "scope-down matches, which may be none",
        Severity.WARNING,
    )


def _not_blocking(actions: set[str]) -> Shortfall | None:
    if actions & set(TERMINATING_BLOCKS):
        return None
    shown = ", ".join(sorted(actions)) or "none"
    return Shortfall(
        f"has a rate-based rule whose action is {shown}, not Block (it blocks nothing)",
        Severity.ERROR,
    )


def _limit_shortfall(limit: Any, parameters: Mapping[str, Any]) -> Shortfall | None:
    worst = _worst_limit(limit, parameters)
    if worst is None:
        return Shortfall(
            "has a rate-based rule whose Limit cannot be read from the template (a parameter "
            "with no MaxValue or AllowedValues, or another intrinsic): it may be any value up "
            "to 2,000,000,000",
            Severity.ERROR,
        )
    if worst > MAX_RATE_LIMIT:
        return Shortfall(
            f"has a rate-based rule with a limit of {worst:,.0f} requests per 5 minutes per "
            f"IP, above {MAX_RATE_LIMIT:,} (it stops no flood)",
            Severity.ERROR,
        )
    return None


def _worst_limit(limit: Any, parameters: Mapping[str, Any]) -> float | None:
    """The highest value the Limit can take: a number, or a parameter's upper bound."""
    value = number(limit)
    if value is not None:
        return value
    return parameter_bounds(referenced_parameter(limit, parameters))[1]


def _aggregation_shortfall(rate: Mapping[str, Any]) -> Shortfall | None:
    key = rate.get("AggregateKeyType", "IP")
    if key == "IP":
        return None
    if key == "FORWARDED_IP":
        return Shortfall(
            "has a rate-based rule that aggregates on a forwarded-IP header, which any client "
            "can set to a fresh value per request unless a proxy in front overwrites it",
            Severity.WARNING,
        )
    if key == "CUSTOM_KEYS":
        names = {
            name
            for custom in as_list(rate.get("CustomKeys"))
            if isinstance(custom, Mapping)
            for name in custom
        }
        if "IP" in names and names <= PER_IP_KEYS:
            return None
        chosen = ", ".join(sorted(names - PER_IP_KEYS)) or "no IP key"
        return Shortfall(
            f"has a rate-based rule aggregating on CUSTOM_KEYS the caller chooses ({chosen}): "
            "a flood varies them to get a fresh bucket per request",
            Severity.ERROR,
        )
    return Shortfall(
        f"has a rate-based rule aggregating on {key!r}, not per source IP",
        Severity.ERROR,
    )


def _allow_bypasses(rules: list[Mapping[str, Any]]) -> Iterator[Shortfall]:
    """Allow rules evaluated before a required rule (a priority that is not a number counts as
    first: fail closed)."""
    required = [
        priority
        for item in rules
        if _required(item) and (priority := number(item.get("Priority"))) is not None
    ]
    last_required = max(required, default=None)
    if last_required is None:
        return
    for item in rules:
        action = item.get("Action")
        if not (isinstance(action, Mapping) and "Allow" in action):
            continue
        priority = number(item.get("Priority"))
        if priority is not None and priority > last_required:
            continue
        statement = item.get("Statement")
        by_ip = isinstance(statement, Mapping) and set(statement) == {"IPSetReferenceStatement"}
        yield Shortfall(
            f"has the Allow rule {item.get('Name')!r} at priority {item.get('Priority')} "
            "evaluated before the baseline rules: every request it matches is allowed without "
            "them" + (" (an IP set: trusted callers skip the baseline)" if by_ip else ""),
            Severity.WARNING if by_ip else Severity.ERROR,
        )


def _required(item: Mapping[str, Any]) -> bool:
    statement = item.get("Statement")
    if not isinstance(statement, Mapping):
        return False
    group = statement.get("ManagedRuleGroupStatement")
    if isinstance(group, Mapping):
        return group.get("VendorName") == "AWS" and group.get("Name") in REQUIRED_GROUPS
    return "RateBasedStatement" in statement


def _all_rules_overridden(name: str, group: Mapping[str, Any]) -> bool:
    """Whether RuleActionOverrides (to Count or Allow) and ExcludedRules cover every documented
    rule of a known managed group, leaving it nothing to block."""
    known = GROUPS.get(name)
    if known is None:
        return False
    covered: set[str] = set()
    for override in as_list(group.get("RuleActionOverrides")):
        if not isinstance(override, Mapping):
            continue
        action = override.get("ActionToUse")
        if isinstance(action, Mapping) and ("Count" in action or "Allow" in action):
            rule_name = override.get("Name")
            if isinstance(rule_name, str):
                covered.add(rule_name)
    for excluded in as_list(group.get("ExcludedRules")):
        rule_name = excluded.get("Name") if isinstance(excluded, Mapping) else None
        if isinstance(rule_name, str):
            covered.add(rule_name)
    return known.rules <= covered
