"""The audit scorecard claims only what was inspected: "n/a" for a practice none of whose rules
applies to the stack, "pass (N acknowledged)" for a pass that rests on acknowledgements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.report import audit
from secure_constructs.audit.sources import load
from secure_constructs.checks.model import Practice
from tests.audit.helpers import ASSEMBLY, ORDERS_YAML, run

NOTHING_TO_INSPECT = {Practice.DEPENDENCIES, Practice.INPUT_VALIDATION}


@pytest.fixture(scope="module")
def orders() -> Any:
    return audit(load([ORDERS_YAML])).scorecard()["orders"]


def test_a_practice_with_nothing_to_inspect_is_not_applicable_not_a_pass(orders: Any) -> None:
    # orders.yaml: no API Gateway resources, no function with a local asset, no Lambda URL or
    # permission. Its web ACL is associated with nothing in the template, so it is judged on
    # its own (WebAclBaseline): API protection applies, and fails.
    for practice in NOTHING_TO_INSPECT:
        assert orders[practice].status == "n/a", practice
        assert orders[practice].label == "n/a"
    assert orders[Practice.SECRETS].status == "pass"  # a secret, inspected and clean
    assert orders[Practice.API_PROTECTION].status == "fail"
    assert orders[Practice.EXECUTION_TIME].status == "fail"


def test_a_pass_resting_on_acknowledgements_says_so() -> None:
    row = audit(load([ASSEMBLY])).scorecard()["AuditFixture"]
    execution = row[Practice.EXECUTION_TIME]
    assert (execution.status, execution.errors, execution.warnings) == ("pass", 0, 0)
    assert execution.acknowledged == 2
    assert execution.label == "pass (2 acknowledged)"
    assert row[Practice.MONITORING].label == "pass"  # inspected, nothing found


def test_findings_decide_even_where_no_rule_of_ours_applies(tmp_path: Path) -> None:
    # A public Lambda URL: API protection applies (LambdaPublicAccess) and fails.
    url = {"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE", "TargetFunctionArn": "x"}}
    path = tmp_path / "url.json"
    path.write_text(json.dumps({"Resources": {"Url": url}}))
    row = audit(load([path])).scorecard()["url"]
    assert row[Practice.API_PROTECTION].status == "fail"
    assert row[Practice.INPUT_VALIDATION].status == "n/a"


def test_every_format_shows_n_a_and_the_acknowledged_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = run(capsys, "audit", ORDERS_YAML, "--fail-on", "never").out
    assert any(line.split()[:3] == ["n/a", "input", "validation"] for line in text.splitlines()), (
        text
    )
    markdown = run(capsys, "audit", ASSEMBLY, "--format", "markdown", "--fail-on", "never").out
    assert "| execution time | pass (2 acknowledged) |" in markdown
    data = json.loads(run(capsys, "audit", ASSEMBLY, "--format", "json", "--fail-on", "never").out)
    execution = data["scorecard"]["AuditFixture"]["execution time"]
    assert execution["status"] == "pass" and execution["label"] == "pass (2 acknowledged)"
    assert execution["acknowledged"] == 2
    assert data["scorecard"]["AuditFixture"]["API protection"]["status"] == "n/a"
    html = run(capsys, "audit", ASSEMBLY, "--format", "html", "--fail-on", "never").out
    assert '<span class="na">n/a</span>' in html
    assert '<span class="pass">pass (2 acknowledged)</span>' in html
