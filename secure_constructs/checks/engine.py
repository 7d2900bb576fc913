"""Run the SecureServerless rules over one template."""

from __future__ import annotations

import json
from pathlib import Path

from secure_constructs.checks.model import CheckOptions, Finding, Template
from secure_constructs.checks.registry import all_rules


def run_rules(template: Template) -> list[Finding]:
    """Every finding of every rule of the pack, in rule order."""
    findings: list[Finding] = []
    for rule in all_rules():
        findings.extend(rule.run(template))
    return findings


def check_template_file(path: Path, options: CheckOptions | None = None) -> list[Finding]:
    """Load a JSON template from disk and run the pack over it."""
    body = json.loads(path.read_text(encoding="utf-8"))
    template = Template(
        body, path=path, assembly_dir=path.parent, options=options or CheckOptions()
    )
    return run_rules(template)
