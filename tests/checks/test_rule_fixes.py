"""The fix table `secure-constructs rules` prints is docs/RULES.md's, and covers every rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from secure_constructs.checks.registry import RULES
from secure_constructs.checks.rule_fixes import FIXES

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
