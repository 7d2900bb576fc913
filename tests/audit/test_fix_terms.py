"""A finding's fix is in template terms for a template CDK did not make, CDK terms otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.fix_terms import made_by_cdk
from secure_constructs.audit.report import audit
from secure_constructs.audit.sources import load
from secure_constructs.checks.rule_fixes import FIXES, TEMPLATE_FIXES
from tests.audit.helpers import ASSEMBLY, run

FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "Runtime": "python3.14",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c): pass"},
        "Role": "arn:aws:iam::123456789012:role/fn",
    },
}


def fixes_by_rule(path: Path) -> dict[str, str]:
    report = audit(load([path]))
    return {f.rule_id: f.fix for f in report.findings if f.tool == "SecureServerless"}


def template(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "fn.json"
    path.write_text(json.dumps({"Resources": {"Fn": FUNCTION, **extra}}), encoding="utf-8")
    return path


def test_a_hand_written_template_gets_template_fixes(tmp_path: Path) -> None:
    found = fixes_by_rule(template(tmp_path))
    assert found["LambdaTimeout"] == TEMPLATE_FIXES["LambdaTimeout"]
    assert found["FunctionTracing"] == TEMPLATE_FIXES["FunctionTracing"]
    assert "TracingConfig: {Mode: Active}" in found["FunctionTracing"]
    assert all(fix == TEMPLATE_FIXES[rule] for rule, fix in found.items())


@pytest.mark.parametrize(
    "marker",
    [
        {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:x"}}},
        {"Topic": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "S/Topic/Resource"}}},
    ],
)
def test_a_template_cdk_made_gets_the_rules_own_fixes(
    tmp_path: Path, marker: dict[str, Any]
) -> None:
    path = template(tmp_path, **marker)
    assert made_by_cdk(load([path]).stacks[0])
    found = fixes_by_rule(path)
    assert "Duration.seconds" in found["LambdaTimeout"]  # the rule's CDK-terms fix
    assert found["FunctionTracing"] != TEMPLATE_FIXES["FunctionTracing"]


def test_a_cloud_assembly_gets_cdk_fixes() -> None:
    report = audit(load([ASSEMBLY]))
    ours = [f for f in report.findings if f.tool == "SecureServerless"]
    assert ours and not any(f.fix == TEMPLATE_FIXES.get(f.rule_id) for f in ours)


def test_the_rules_command_lists_both_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r["id"]: r for r in json.loads(run(capsys, "rules", "--format", "json").out)}
    assert rows["LambdaTimeout"]["fix"] == FIXES["LambdaTimeout"]
    assert rows["LambdaTimeout"]["fix_template"] == TEMPLATE_FIXES["LambdaTimeout"]
