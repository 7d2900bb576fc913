"""`secure-constructs rules`: every rule of the SecureServerless pack, from the pack's table.

Read from `checks.registry` (a rule added to the pack appears here with no edit) and its fix
from the table generated from docs/RULES.md; a rule whose fix is not in the table yet says so
instead of printing nothing.
"""

from __future__ import annotations

import json
from typing import Any

from secure_constructs.checks.registry import PACK_NAME, RULES
from secure_constructs.checks.rule_fixes import FIXES, TEMPLATE_FIXES

NO_FIX = "see docs/RULES.md (run scripts/gen_rule_fixes.py to copy its fix here)"


def rules_json() -> list[dict[str, Any]]:
    """One object per rule: id, acknowledgement id, practice, severity, flags, why, fixes (CDK,
    template)."""
    return [
        {
            "id": rule.rule_id,
            "acknowledge_as": f"{PACK_NAME}::{rule.rule_id}",
            "practice": rule.practice.value,
            "severity": rule.severity.value,
            "flags": rule.summary,
            "why": rule.explanation,
            "fix": FIXES.get(rule.rule_id, NO_FIX),
            "fix_template": TEMPLATE_FIXES.get(rule.rule_id, NO_FIX),
        }
        for rule in RULES.values()
    ]


def rules_markdown() -> str:
    """A table of every rule (id, practice, severity, what it flags, the fix)."""
    lines = [
        f"# The {PACK_NAME} rules",
        "",
        "| id | practice | severity | flags | fix |",
        "|---|---|---|---|---|",
    ]
    for row in rules_json():
        cells = [f"`{row['id']}`", row["practice"], row["severity"], row["flags"], row["fix"]]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def rules_text() -> str:
    """One block per rule, for a terminal."""
    blocks = []
    for row in rules_json():
        blocks.append(
            f"{row['id']} ({row['practice']}, {row['severity']})\n"
            f"  flags: {row['flags']}\n"
            f"  fix:   {row['fix']}\n"
            f"  fix (template): {row['fix_template']}\n"
        )
    return "\n".join(blocks)


def render_rules(fmt: str) -> str:
    """The rule list in `fmt` (text, md or json)."""
    if fmt == "json":
        return json.dumps(rules_json(), indent=2) + "\n"
    if fmt == "md":
        return rules_markdown()
    return rules_text()
