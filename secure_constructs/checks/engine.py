"""Run the SecureServerless rules over one template."""

from __future__ import annotations

import json
from pathlib import Path

from secure_constructs.checks.model import CheckOptions, Finding, Rule, Severity, Template
from secure_constructs.checks.registry import all_rules

RULE_ERROR = "RuleError"


def run_rules(template: Template) -> list[Finding]:
    """Every finding of every rule of the pack, in rule order.

    A rule that raises does not stop the others: it fails closed, with one ERROR finding
    (finding id `RuleError`) naming the exception, so the template is never passed unchecked.
    """
    findings: list[Finding] = []
    for rule in all_rules():
        findings.extend(run_rule(rule, template))
    return findings


def run_rule(rule: Rule, template: Template) -> list[Finding]:
    """The findings of one rule, or one ERROR `RuleError` finding when the rule raises.

    The synth plugin and `secure-constructs audit` both run rules through here, so a rule that
    crashes fails both closed in the same way.
    """
    try:
        return list(rule.run(template))
    except Exception as error:  # a bug in one rule must not hide the others
        return [rule_error(rule, error)]


def rule_error(rule: Rule, error: Exception) -> Finding:
    """The finding that stands for a rule which could not check the template."""
    return Finding(
        rule_id=rule.rule_id,
        logical_id="(template)",
        path="Resources",
        message=f"the rule failed with {type(error).__name__}: {error}",
        fix="report a bug; the rule could not check this template",
        severity=Severity.ERROR,
        finding_id=RULE_ERROR,
    )


def check_template_file(path: Path, options: CheckOptions | None = None) -> list[Finding]:
    """Load a JSON template from disk and run the pack over it."""
    body = json.loads(path.read_text(encoding="utf-8"))
    template = Template(
        body, path=path, assembly_dir=path.parent, options=options or CheckOptions()
    )
    return run_rules(template)
