"""CodeGrantsMatch: the role against the code, as a rule (a warning; an error when asked)."""

from __future__ import annotations

from pathlib import Path

from secure_constructs.checks.model import CheckOptions, Severity, Template
from secure_constructs.checks.registry import RULES
from tests.audit.code_calls.helpers import TABLE, allow, template, write_asset

PUT = {
    "handler.py": "import os, boto3\n"
    "table = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n"
    "def handler(e, c):\n    table.put_item(Item={})\n"
}


def _run(tmp_path: Path, statements: list, **options: bool) -> list:
    asset = write_asset(tmp_path / "asset", PUT)
    body = template(asset, statements)
    t = Template(
        body,
        path=tmp_path / "S.template.json",
        assembly_dir=tmp_path,
        options=CheckOptions(**options),
    )
    return RULES["CodeGrantsMatch"].run(t)


def test_fails_when_a_grant_is_unused_and_a_call_is_not_granted(tmp_path: Path) -> None:
    findings = _run(tmp_path, [allow(["dynamodb:DeleteItem"], [TABLE])])
    assert {f.finding_id for f in findings} == {
        "Unused::dynamodb:DeleteItem",
        "Missing::dynamodb:PutItem",
    }
    assert all(f.severity is Severity.WARNING and f.logical_id == "Fn" for f in findings)
    missing = next(f for f in findings if f.finding_id == "Missing::dynamodb:PutItem")
    assert "handler.py:4" in missing.message
    unused = next(f for f in findings if f.finding_id == "Unused::dynamodb:DeleteItem")
    assert "Policy Statement[0]" in unused.message


def test_findings_are_errors_with_the_option(tmp_path: Path) -> None:
    findings = _run(tmp_path, [allow(["dynamodb:DeleteItem"], [TABLE])], code_grants_error=True)
    assert findings and all(f.severity is Severity.ERROR for f in findings)


def test_exact_grant_is_compliant(tmp_path: Path) -> None:
    assert _run(tmp_path, [allow(["dynamodb:PutItem"], [TABLE])]) == []


def test_does_not_apply_without_a_cloud_assembly() -> None:
    assert not RULES["CodeGrantsMatch"].applies(Template(template(None, [])))
