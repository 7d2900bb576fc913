"""Shared helpers of the CLI tests: fixture paths and an in-process command runner."""

from __future__ import annotations

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
