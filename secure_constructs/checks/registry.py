"""The SecureServerless pack as a table: rule id -> rule, in the order of `checks.rules.PACK`.

Built once from the explicit table (no registration by import side effect); a rule id that
appears twice stops the import, so a pack with a shadowed rule never runs.
"""

from __future__ import annotations

from secure_constructs.checks.model import PACK_NAME, Rule
from secure_constructs.checks.rules import PACK

__all__ = ["GRANULAR_RULE_IDS", "NEVER_ACCEPTABLE", "PACK_NAME", "RULES"]


def _index(pack: tuple[Rule, ...]) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for rule in pack:
        if rule.rule_id in rules:
            raise RuntimeError(f"rule {rule.rule_id} is in the pack twice")
        rules[rule.rule_id] = rule
    return rules


RULES: dict[str, Rule] = _index(PACK)
"""Every rule of the pack by id, in pack order (the one table the engine runs)."""

GRANULAR_RULE_IDS: frozenset[str] = frozenset(r.rule_id for r in PACK if r.granular)
"""Our rules whose findings always carry a finding id (from each rule's `granular` flag)."""

NEVER_ACCEPTABLE: frozenset[str] = frozenset(
    f"{r.rule_id}[{finding}]" for r in PACK for finding in r.never_acceptable
)
"""`Rule[finding]` of every finding no acknowledgement may accept (each rule's
`never_acceptable`)."""
