"""The fix tables `secure-constructs rules` prints are docs/RULES.md's, and cover every rule:
one in CDK terms, one in template terms."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from secure_constructs.checks.registry import RULES
from secure_constructs.checks.rule_fixes import FIXES, TEMPLATE_FIXES

ROOT = Path(__file__).resolve().parents[2]


def test_the_fix_table_is_generated_from_the_rules_doc() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rule_fixes.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "secure_constructs/checks/rule_fixes.py differs from docs/RULES.md: run "
        f"`python scripts/gen_rule_fixes.py`\n{result.stdout}{result.stderr}"
    )


def test_every_rule_has_a_fix() -> None:
    missing = [r.rule_id for r in RULES.values() if len(FIXES.get(r.rule_id, "")) < 20]
    assert missing == [], (
        f"give these rules a **Fix.** paragraph in docs/RULES.md, then run "
        f"scripts/gen_rule_fixes.py: {missing}"
    )


# What a template author cannot write: secure-constructs constructs and calls, CDK's API.
_CDK_TERMS = re.compile(
    r"\bSecure(?:Api|Function|Secret|WebAcl|StateMachine|UserPool)\b|\bgrant_\w+|\badd_\w+\("
    r"|Duration\.|secure_constructs\.|\b(?:WafProfile|ApiAuth|SecretsCache)\b|\b[a-z]+_[a-z_]+="
    r"|\bfn\.|\backnowledge\("
)


def test_every_rule_has_a_fix_in_template_terms() -> None:
    missing = [r.rule_id for r in RULES.values() if len(TEMPLATE_FIXES.get(r.rule_id, "")) < 20]
    assert missing == [], (
        "give these rules a **Fix (template).** paragraph in docs/RULES.md (what to change in a "
        f"CloudFormation template), then run scripts/gen_rule_fixes.py: {missing}"
    )


@pytest.mark.parametrize("rule_id", sorted(TEMPLATE_FIXES))
def test_a_template_fix_names_no_cdk_api(rule_id: str) -> None:
    found = _CDK_TERMS.findall(TEMPLATE_FIXES[rule_id])
    assert found == [], f"{rule_id}'s **Fix (template).** names CDK terms: {found}"
