"""`audit PATH...` over folders and many files: recursive, per-file errors, exit 2 at the end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.audit.helpers import ASSEMBLY, ORDERS_JSON, ORDERS_YAML, TEMPLATES, run

BROKEN = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n  Topic:\n    Type: AWS::SNS::Topic\n"


def folder(tmp_path: Path) -> Path:
    """A project: a broken template deep down, two plain templates, a cdk.out, a package.json."""
    root = tmp_path / "project"
    (root / "infra" / "nested").mkdir(parents=True)
    (root / "infra" / "nested" / "broken.yaml").write_text(BROKEN)
    shutil.copy(ORDERS_YAML, root / "infra" / "orders.yaml")
    shutil.copy(ORDERS_JSON, root / "orders.json")
    shutil.copy(TEMPLATES / "sam" / "function.yaml", root / "infra" / "sam.yaml")
    shutil.copytree(ASSEMBLY, root / "cdk.out")
    (root / "package.json").write_text(json.dumps({"name": "not-a-template"}))
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "broken.yaml").write_text(BROKEN)
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html", "markdown"])
def test_a_folder_is_searched_recursively_and_a_broken_file_exits_2_after_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    root = folder(tmp_path)
    result = run(capsys, "audit", root, "--format", fmt)
    assert result.code == 2
    assert "broken.yaml" in result.err and "Duplicate" in result.err
    assert "node_modules" not in result.err and "package.json" not in result.err
    assert "broken.yaml" in result.out  # every format reports the file it could not evaluate
    if fmt == "json":
        report = json.loads(result.out)
        assert [e for e in report["file_errors"] if "broken.yaml" in e]
        assert len(report["scorecard"]) >= 4  # orders.yaml/.json, SAM, the assembly's stack
        assert any(f["sam_resource"] == "MyFn" for f in report["findings"])
    if fmt == "sarif":
        invocation = json.loads(result.out)["runs"][0]["invocations"][0]
        assert invocation["executionSuccessful"] is False
        uri = invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
        assert uri["artifactLocation"]["uri"].endswith("broken.yaml")


def test_the_folder_report_covers_the_templates_and_the_assembly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from secure_constructs.audit.sources import load

    inputs = load([folder(tmp_path)])
    assert len(inputs.assemblies) == 1
    paths = sorted(s.path.name for s in inputs.stacks)
    assert "orders.yaml" in paths and "orders.json" in paths and "sam.yaml" in paths
    assert any(s.assembly is not None for s in inputs.stacks)
    assert len(inputs.file_errors) == 1 and "broken.yaml" in inputs.file_errors[0]


def test_a_missing_path_beside_a_good_one_is_reported_and_the_other_audited(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, "audit", ORDERS_JSON, tmp_path / "missing.yaml", "--format", "json")
    assert result.code == 2
    report = json.loads(result.out)
    assert any("missing.yaml" in e and "no such file" in e for e in report["file_errors"])
    assert report["findings"]  # orders.json was still judged


def test_the_line_number_is_said_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = run(capsys, "audit", path)
    assert result.code == 2
    assert result.err.count("line ") == 1, result.err
