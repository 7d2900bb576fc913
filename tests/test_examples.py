"""The construct examples (every construct in one stack) stay clean with every check on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_examples_app_synthesizes_clean_with_one_route_per_auth_kind(tmp_path: Path) -> None:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "constructs_app.py")],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    report = json.loads((tmp_path / "validation-report.json").read_text())
    open_findings = [
        (plugin["pluginName"], v["ruleName"])
        for plugin in report["pluginReports"]
        for v in plugin.get("violations", [])
    ]
    assert open_findings == []
    template = json.loads((tmp_path / "SecureConstructsExample.template.json").read_text())
    kinds = sorted(
        r["Properties"]["AuthorizationType"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["HttpMethod"] != "OPTIONS"
    )
    assert kinds == ["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM", "CUSTOM", "NONE"]
    authorizer_types = sorted(
        r["Properties"]["Type"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Authorizer"
    )
    assert authorizer_types == ["COGNITO_USER_POOLS", "REQUEST", "TOKEN"]
    openapi = json.loads((tmp_path / "SecureConstructsExample.openapi.json").read_text())
    assert set(openapi["paths"]) == {"/items/{id}", "/items", "/reports", "/exports", "/health"}
