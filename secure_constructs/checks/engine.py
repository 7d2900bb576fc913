"""Run the SecureServerless rules over one template: the one rule runner.

The synth plugin (over every stack and nested stack template) and `secure-constructs audit`
both call `run_rules`; nothing else loops over the pack, so a rule that crashes fails closed the
same way everywhere.
"""

from __future__ import annotations

from secure_constructs.checks.model import (
    Finding,
    Practice,
    Rule,
    Severity,
    Template,
)
from secure_constructs.checks.registry import RULES

RULE_ERROR = "RuleError"


def run_rules(template: Template) -> list[Finding]:
    """Every finding of every rule of the pack, in rule order.

    A rule that raises does not stop the others: it fails closed, with one ERROR finding
    (finding id `RuleError`) naming the exception, so the template is never passed unchecked.
    """
    findings: list[Finding] = []
    for rule in RULES.values():
        findings.extend(_run_rule(rule, template))
    return findings


def inspected_practices(template: Template) -> set[Practice]:
    """The practices of the rules that apply to `template` (the audit's "n/a" otherwise).

    A rule whose applicability test raises counts as applying: a broken test must not turn a
    practice into "n/a".
    """
    return {rule.practice for rule in RULES.values() if _applies(rule, template)}


def _applies(rule: Rule, template: Template) -> bool:
    try:
        return rule.applies(template)
    except Exception:
        return True


def _run_rule(rule: Rule, template: Template) -> list[Finding]:
    """The findings of one rule, or one ERROR `RuleError` finding when the rule raises."""
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
