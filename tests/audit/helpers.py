"""Shared helpers of the CLI tests: fixture paths and an in-process command runner."""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from secure_constructs.audit.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ASSEMBLY = FIXTURES / "assembly"
TEMPLATES = FIXTURES / "templates"
ORDERS_JSON = TEMPLATES / "orders.json"
ORDERS_YAML = TEMPLATES / "orders.yaml"
SHARED_YAML = TEMPLATES / "shared.yaml"
SARIF_SCHEMA = FIXTURES / "sarif-schema-2.1.0.json"


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Result:
    """Run `secure-constructs ARGS...` in-process and capture what it printed."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:  # argparse's own exits (--help, usage errors)
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Exit code 2, exactly one line on stderr naming the problem, and no traceback."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert lines[0].startswith("secure-constructs: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def probe_findings(
    template: Path, rules: tuple[str, ...], *args: str
) -> tuple[dict[str, set[str]], list[dict[str, object]]]:
    """Audit a probe template (`--format json`): logical id -> the finding ids of `rules`
    (a rule id or its prefix), and the raw findings. The audit must fail and read cleanly."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", str(template), "--format", "json", *args])
    assert code == 1
    report = json.loads(out.getvalue())
    assert report["rule_errors"] == [] and report["file_errors"] == []
    found: dict[str, set[str]] = defaultdict(set)
    for finding in report["findings"]:
        if str(finding["rule"]).startswith(rules):
            found[str(finding["logical_id"])].add(str(finding["rule"]))
    return found, list(report["findings"])
