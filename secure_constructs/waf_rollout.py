"""What a WafProfile must say when it weakens a web ACL: a reason per excluded managed rule, and
a reason and an end date for count-only mode (a rollout, not a state).

Kept apart from `waf.py` so the reviewer-facing rules live in one small place; the limits come
from `checks.waf_facts`, which the ApiStageWafRules rule reads too.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from secure_constructs.checks.waf_facts import MAX_COUNT_ONLY_DAYS
from secure_constructs.errors import ValidationError
from secure_constructs.validation import check_reason


@dataclass(frozen=True)
class CountOnly:
    """A count-only rollout: why, and the last day it may stay that way."""

    reason: str
    until: datetime.date

    def metadata(self) -> dict[str, str]:
        return {"until": self.until.isoformat(), "reason": self.reason}


def check_count_only(
    count_only: object, reason: str | None, until: datetime.date | None
) -> CountOnly | None:
    """The rollout when count_only=True with a reason and an end date; refusals otherwise."""
    if not isinstance(count_only, bool):
        raise ValidationError(
            "count_only", count_only, "True or False", "pass count_only=True only for rollout"
        )
    if not count_only:
        for prop, value in (("count_only_reason", reason), ("count_only_until", until)):
            if value is not None:
                raise ValidationError(prop, value, "only with count_only=True", f"remove {prop}")
        return None
    if reason is None or until is None:
        raise ValidationError(
            "count_only",
            True,
            "count mode only with count_only_reason='...' and count_only_until=datetime.date(...)"
            " (a web ACL that blocks nothing must say why and until when)",
            "pass count_only_reason='first rollout: watching false positives in the WAF logs', "
            f"count_only_until=<a date within {MAX_COUNT_ONLY_DAYS} days>, or drop count_only",
        )
    check_reason("count_only_reason", reason, about="the web ACL counts instead of blocking")
    if not isinstance(until, datetime.date) or isinstance(until, datetime.datetime):
        raise ValidationError(
            "count_only_until", until, "a datetime.date", "pass e.g. datetime.date(2027, 1, 31)"
        )
    today = datetime.date.today()
    if not today <= until <= today + datetime.timedelta(days=MAX_COUNT_ONLY_DAYS):
        raise ValidationError(
            "count_only_until",
            until.isoformat(),
            f"a date from today ({today.isoformat()}) to {MAX_COUNT_ONLY_DAYS} days ahead",
            "finish the rollout (remove count_only) or set a new, near end date with the reason "
            "the rollout still needs count mode",
        )
    return CountOnly(reason, until)


def check_exclusion_reasons(excluded_rules: object) -> dict[str, str]:
    """`excluded_rules` as {rule: reason}: a bare list of names is refused."""
    if not isinstance(excluded_rules, Mapping):
        if isinstance(excluded_rules, list | tuple) and not excluded_rules:
            return {}
        raise ValidationError(
            "excluded_rules",
            excluded_rules,
            "a dict of rule name -> the reason it is set to COUNT (a false positive seen in the "
            "WAF logs), one reason per rule",
            "pass e.g. excluded_rules={'SizeRestrictions_BODY': 'uploads of up to 1 MB are "
            "legitimate (seen in WAF logs 2026-11)'}",
        )
    reasons: dict[str, str] = {}
    for name, reason in excluded_rules.items():
        check_reason(f"excluded_rules[{name!r}]", reason, about="this managed rule is set to COUNT")
        reasons[name] = reason
    return reasons
