"""The SecureServerless pack as a table: every rule registers itself here with its metadata."""

from __future__ import annotations

from collections.abc import Callable

from secure_constructs.checks.model import Check, Practice, Rule, Severity

PACK_NAME = "SecureServerless"

RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    practice: Practice,
    summary: str,
    explanation: str,
    severity: Severity = Severity.ERROR,
) -> Callable[[Check], Check]:
    """Register a check function as a rule of the pack."""

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise RuntimeError(f"rule {rule_id} is registered twice")
        RULES[rule_id] = Rule(rule_id, practice, severity, summary, explanation, check)
        return check

    return register


def all_rules() -> list[Rule]:
    """Every rule of the pack, in registration order (importing the rule modules first)."""
    import secure_constructs.checks.rules  # noqa: F401  (registers the rules)

    return list(RULES.values())
