"""`secure-constructs --version`, and `secure-constructs rules`: every registered rule, its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_constructs import __version__
from secure_constructs.audit.cli import main
from secure_constructs.audit.rules_list import NO_FIX
from secure_constructs.checks.model import Practice, Rule, Severity
from secure_constructs.checks.registry import RULES
from secure_constructs.checks.rule_fixes import FIXES


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"secure-constructs {__version__}"


def test_rules_json_lists_every_registered_rule_with_its_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert list(rows) == [rule.rule_id for rule in RULES.values()]
    for rule in RULES.values():
        row = rows[rule.rule_id]
        assert row["acknowledge_as"] == f"SecureServerless::{rule.rule_id}"
        assert (row["practice"], row["severity"]) == (rule.practice.value, rule.severity.value)
        assert (row["flags"], row["why"]) == (rule.summary, rule.explanation)
        assert row["fix"] == FIXES[rule.rule_id]


def test_rules_markdown_has_one_row_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "md"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "| id | practice | severity | flags | fix |" in lines
    for rule in RULES.values():
        rows = [line for line in lines if line.startswith(f"| `{rule.rule_id}` |")]
        assert len(rows) == 1, rule.rule_id
        assert f"| {rule.practice.value} | {rule.severity.value} |" in rows[0]


def test_rules_text_is_the_default_and_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "rules.txt"
    assert main(["rules", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"{rule.rule_id} ({rule.practice.value}, {rule.severity.value})" in text


def test_a_newly_registered_rule_appears_without_an_edit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    new = Rule(
        "ZzNewRule", Practice.MONITORING, Severity.WARNING, "flags a thing", "why", lambda _: []
    )
    monkeypatch.setitem(RULES, new.rule_id, new)
    assert main(["rules", "--format", "json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["ZzNewRule"]["severity"] == "warning"
    assert rows["ZzNewRule"]["fix"] == NO_FIX


def test_fails_when_the_rules_format_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rules", "--format", "xml"])
    assert exited.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
