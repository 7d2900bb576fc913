"""Every rule of the pack is registered with its metadata and documented in docs/RULES.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secure_constructs.checks.model import Practice, Severity
from secure_constructs.checks.registry import PACK_NAME, RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "RULES.md"
RULE_IDS = [r.rule_id for r in RULES.values()]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_its_metadata(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule_id), "rule ids are CamelCase words"
    assert isinstance(rule.practice, Practice) and isinstance(rule.severity, Severity)
    assert len(rule.summary) > 20 and len(rule.explanation) > 80


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_a_row_and_a_section_in_the_rules_doc(rule_id: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    rule = RULES[rule_id]
    heading = f"## {rule_id} ({rule.practice.value})"
    has_section = heading in text.splitlines()
    assert has_section, f"docs/RULES.md needs a section headed {heading!r}"
    rows = [line for line in text.splitlines() if line.startswith(f"| [{rule_id}](")]
    assert len(rows) == 1, f"docs/RULES.md's table needs one row for {rule_id}"
    assert f"| {rule.practice.value} | {rule.severity.value} |" in rows[0]


def test_the_doc_shows_the_acknowledgement_id_format() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule_id in ("LambdaEnvironmentSecret", "IAMWildcard", "LambdaAlarms"):
        assert f"`{PACK_NAME}::{rule_id}[" in text
