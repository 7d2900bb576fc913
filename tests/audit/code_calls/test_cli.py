"""`secure-constructs permissions`: the code section in text/JSON/Markdown, --code and the
--fail-on-unused gate against the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_constructs.audit.cli import main
from tests.audit.code_calls.helpers import TABLE, allow, template, write_asset

PUT = {
    "handler.py": "import os, boto3\n"
    "table = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n"
    "def handler(e, c):\n    table.put_item(Item={})\n"
}


def _template_file(tmp_path: Path, statements: list) -> Path:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(template(None, statements)))
    return path


def test_code_folder_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = write_asset(tmp_path / "src", PUT)
    path = _template_file(tmp_path, [allow(["dynamodb:PutItem", "dynamodb:Scan"], [TABLE])])
    assert main(["permissions", str(path), "--code", f"Fn={code}", "--format", "json"]) == 0
    (fn,) = json.loads(capsys.readouterr().out)["code"]
    assert fn["analysed"] and fn["called"] == ["dynamodb:PutItem"]
    assert [u["action"] for u in fn["unused"]] == ["dynamodb:Scan"]
    assert fn["calls"][0]["where"] == "handler.py:4"


def test_without_code_the_function_is_not_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _template_file(tmp_path, [allow(["dynamodb:PutItem"], [TABLE])])
    assert main(["permissions", str(path)]) == 0
    assert "function Fn (role Role): NOT ANALYSED" in capsys.readouterr().out


def test_fails_on_new_unused_grants_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = write_asset(tmp_path / "src", PUT)
    path = _template_file(tmp_path, [allow(["dynamodb:PutItem", "dynamodb:Scan"], [TABLE])])
    args = ["permissions", str(path), "--code", f"Fn={code}", "--fail-on-unused"]
    assert main(args) == 1
    assert "+ stack/Fn  dynamodb:Scan @ Policy Statement[0]" in capsys.readouterr().out
    baseline = tmp_path / "baseline.json"
    assert main([*args, "--write-baseline", str(baseline)]) == 1
    assert json.loads(baseline.read_text())["unused"] == {
        "stack/Fn": ["dynamodb:Scan @ Policy Statement[0]"]
    }
    assert main([*args, "--baseline", str(baseline)]) == 0  # recorded: not new
    path.write_text(
        json.dumps(
            template(
                None, [allow(["dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query"], [TABLE])]
            )
        )
    )
    assert main([*args, "--baseline", str(baseline)]) == 1
    assert "dynamodb:Query @ Policy Statement[0]" in capsys.readouterr().out


def test_markdown_has_the_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = write_asset(tmp_path / "src", PUT)
    path = _template_file(tmp_path, [allow(["dynamodb:Scan"], [TABLE])])
    assert main(["permissions", str(path), "--code", f"Fn={code}", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "## Code against grants" in out and "`dynamodb:PutItem` at handler.py:4" in out


def test_fails_when_code_is_not_function_equals_dir(tmp_path: Path) -> None:
    path = _template_file(tmp_path, [])
    assert main(["permissions", str(path), "--code", "nodir"]) == 2
    assert main(["permissions", str(path), "--code", f"Fn={tmp_path / 'none'}"]) == 2
