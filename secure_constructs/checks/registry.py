"""The SecureServerless pack as a table: every rule registers itself here with its metadata."""

from __future__ import annotations

from collections.abc import Callable

from secure_constructs.checks.model import Check, Practice, Rule, Severity, Template

PACK_NAME = "SecureServerless"

RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    practice: Practice,
    summary: str,
    explanation: str,
    severity: Severity = Severity.ERROR,
    applies_to: tuple[str, ...] = (),
    applies_if: Callable[[Template], bool] | None = None,
) -> Callable[[Check], Check]:
    """Register a check function as a rule of the pack.

    `applies_to` names the CloudFormation resource types the rule inspects (default: it reads
    the whole template, so it always applies); `applies_if` narrows that further. The audit's
    scorecard says "n/a" for a practice none of whose rules applies to a stack, instead of a
    vacuous "pass".
    """

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise RuntimeError(f"rule {rule_id} is registered twice")
        RULES[rule_id] = Rule(
            rule_id, practice, severity, summary, explanation, check, applies_to, applies_if
        )
        return check

    return register


def all_rules() -> list[Rule]:
    """Every rule of the pack, in registration order (importing the rule modules first)."""
    import secure_constructs.checks.rules  # noqa: F401  (registers the rules)

    return list(RULES.values())
