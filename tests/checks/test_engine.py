"""run_rules: one rule that raises fails closed on its own and does not stop the others."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from secure_constructs.checks.engine import RULE_ERROR, run_rules
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.nested import StackTemplate
from secure_constructs.checks.plugin import _violation
from secure_constructs.checks.registry import RULES
from tests.checks.templates import function, make_rule_crash


def _template() -> Template:
    return Template({"Resources": {"Fn": function(Timeout=None)}})


def test_fails_when_a_rule_raises_with_one_error_finding_of_that_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_rule_crash(monkeypatch, "LambdaTimeout")
    findings = run_rules(_template())
    (error,) = [f for f in findings if f.rule_id == "LambdaTimeout"]
    assert error.finding_id == RULE_ERROR and error.severity is Severity.ERROR
    assert "KeyError" in error.message and "Properties" in error.message
    assert error.fix.startswith("report a bug")
    # the other rules still ran over the same template
    assert any(f.rule_id == "LambdaAlarms" and f.logical_id == "Fn" for f in findings)
    # the plugin still describes the finding with its rule's summary
    unit = StackTemplate("Test", Path("Test.template.json"), {}, "Test")
    violation = _violation(unit, error, None)
    assert RULES["LambdaTimeout"].summary in violation.description


def test_rules_that_do_not_raise_give_no_rule_error() -> None:
    findings = run_rules(_template())
    assert not [f for f in findings if f.finding_id == RULE_ERROR]
    assert [f.finding_id for f in findings if f.rule_id == "LambdaTimeout"] == [None]


def test_fails_when_a_rule_raises_the_synth_plugin_report_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from types import SimpleNamespace

    from secure_constructs.checks.plugin import SecureServerlessChecks

    path = tmp_path / "Clean.template.json"
    path.write_text(json.dumps({"Resources": {}}))
    context = SimpleNamespace(
        stack_templates=[SimpleNamespace(template_path=str(path), stack_construct_path="Clean")],
        app_construct=cdk.App(),
    )
    plugin = SecureServerlessChecks()
    assert plugin.validate(context).success  # type: ignore[arg-type]
    make_rule_crash(monkeypatch, "LambdaTimeout")
    report = plugin.validate(context)  # type: ignore[arg-type]
    assert not report.success
    (violation,) = report.violations
    assert violation.rule_name == "LambdaTimeout[RuleError]" and violation.severity == "fatal"
