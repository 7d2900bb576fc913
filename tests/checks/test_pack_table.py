"""The pack is one explicit table (`checks.rules.PACK`), and everything that lists rules lists
exactly it: no rule defined in a rule module is left out (a check that is never run would pass
every template), no id appears twice, and the docs, the fix table and `secure-constructs rules`
name the same rules."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import secure_constructs.checks.rules as rules_package
from secure_constructs.audit.cli import main
from secure_constructs.checks import registry
from secure_constructs.checks.model import Practice, Rule, Template, rule
from secure_constructs.checks.nag_rules import NAG_RULE_IDS
from secure_constructs.checks.packs import NAG_GRANULAR_ONLY, granular_only
from secure_constructs.checks.registry import GRANULAR_RULE_IDS, RULES
from secure_constructs.checks.rule_fixes import FIXES
from secure_constructs.checks.rules import PACK
from tests.checks.test_rules_applicability import corpus

DOC = Path(__file__).resolve().parents[2] / "docs" / "RULES.md"
PACK_IDS = [r.rule_id for r in PACK]


def rule_modules() -> list[ModuleType]:
    """Every module of the rules package, found on disk (not from the table under test)."""
    return [
        importlib.import_module(f"{rules_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(rules_package.__path__)
    ]


def defined_rules(module: ModuleType) -> list[Rule]:
    """The rules a module defines (`@rule` makes a Rule), in definition order."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, Rule) and value.check.__module__ == module.__name__
    ]


@pytest.mark.parametrize("module", rule_modules(), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_rule_a_module_defines_is_in_its_table_and_in_the_pack(module: ModuleType) -> None:
    defined = defined_rules(module)
    listed = list(getattr(module, "RULES", ()))
    assert listed == defined, f"{module.__name__}.RULES must list its rules in definition order"
    missing = [r.rule_id for r in defined if r not in PACK]
    assert missing == [], f"never run (add the module to checks/rules/__init__.py): {missing}"


def test_the_pack_has_no_duplicate_ids_and_the_index_keeps_its_order() -> None:
    assert len(PACK_IDS) == len(set(PACK_IDS))
    assert list(RULES) == PACK_IDS
    assert all(RULES[r.rule_id] is r for r in PACK)


def test_fails_when_an_id_is_in_the_pack_twice() -> None:
    with pytest.raises(RuntimeError, match="LambdaTimeout is in the pack twice"):
        registry._index((RULES["LambdaTimeout"], RULES["LambdaTimeout"]))


def test_making_a_rule_registers_nothing() -> None:
    @rule("ZzNotInThePack", practice=Practice.CURRENCY, summary="s" * 21, explanation="e")
    def probe(t: Template) -> list[object]:
        return []

    assert isinstance(probe, Rule) and probe(Template({})) == []
    assert "ZzNotInThePack" not in RULES and probe not in PACK


def test_the_rules_doc_lists_exactly_the_pack() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    rows = [m.group(1) for line in lines if (m := re.match(r"^\| \[(\w+)\]\(#", line))]
    sections = [m.group(1) for line in lines if (m := re.match(r"^## (\w+) \(", line))]
    assert sorted(rows) == sorted(PACK_IDS) and len(rows) == len(set(rows))
    assert sorted(sections) == sorted(PACK_IDS) and len(sections) == len(set(sections))


def test_the_generated_fix_table_lists_exactly_the_pack() -> None:
    assert sorted(FIXES) == sorted(PACK_IDS)


def test_the_rules_command_lists_exactly_the_pack_in_its_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "--format", "json"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == PACK_IDS


def test_granular_only_is_derived_from_the_rules_metadata() -> None:
    assert {r.rule_id for r in PACK if r.granular} == GRANULAR_RULE_IDS
    assert granular_only() == NAG_GRANULAR_ONLY | GRANULAR_RULE_IDS
    assert not NAG_GRANULAR_ONLY & set(PACK_IDS)


def test_our_rule_ids_and_cdk_nags_are_disjoint() -> None:
    """qualify_rule_id tells a cdk-nag id from its table before loading ours: an id in both
    would be taken for cdk-nag's."""
    assert not set(PACK_IDS) & set().union(*NAG_RULE_IDS.values())


@pytest.mark.parametrize("checked", PACK, ids=lambda r: r.rule_id)
def test_the_granular_flag_says_what_the_rule_reports(checked: Rule) -> None:
    """Over the audit fixtures: a granular rule never reports a bare finding (its bare id would
    be refused yet needed); a rule not flagged granular that reports anything reports at least
    one bare finding (else a bare acknowledgement would silently match nothing)."""
    findings = [f for template in corpus() for f in checked.run(template)]
    bare = [f for f in findings if f.finding_id is None]
    if checked.granular:
        assert bare == []
    elif findings:
        assert bare, f"{checked.rule_id}: every finding carries an id: mark it granular=True"


def test_only_the_engine_runs_the_pack() -> None:
    """A second loop over the rules (one that might not fail closed on a crash) cannot hide: no
    module but checks/engine.py both reads the table and runs or checks a rule."""
    import ast

    import secure_constructs

    root = Path(secure_constructs.__file__).resolve().parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "engine.py" and path.parent.name == "checks":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = list(ast.walk(tree))
        reads_table = any(
            isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in ("RULES", "PACK")
            for n in nodes
        )
        runs_a_rule = any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("run", "check")
            for n in nodes
        )
        if reads_table and runs_a_rule:
            offenders.append(str(path.relative_to(root)))
    assert offenders == [], f"run the pack through checks.engine.run_rules: {offenders}"
