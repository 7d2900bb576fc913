"""One synth of the stack, with every check on, shared by the infrastructure tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build
from {{ cookiecutter.package_name }}.settings import STACK_NAME, Settings

_NODE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))


@dataclass
class Synth:
    """The template, the validation report's open and acknowledged findings."""

    template: dict[str, Any]
    outdir: Path
    failed: bool
    open_findings: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def logical_id(self, type_: str, path: str) -> str:
        """The logical id of the resource of `type_` at construct path `path` (below the stack)."""
        wanted = f"{STACK_NAME}/{path}"
        found = [
            k
            for k, v in self.resources(type_).items()
            if v.get("Metadata", {}).get("aws:cdk:path") == wanted
        ]
        assert len(found) == 1, f"no single {type_} at {wanted}: {found}"
        return found[0]

    def role_statements(self, function_id: str) -> list[dict[str, Any]]:
        """Every statement of every policy attached to the function's role, lists normalised."""
        role = self.logical_id("AWS::IAM::Role", f"{function_id}ServiceRole/Resource")
        statements: list[dict[str, Any]] = []
        for policy in self.template["Resources"].values():
            if policy["Type"] not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                continue
            if {"Ref": role} not in policy["Properties"].get("Roles", []):
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                normalised = dict(statement)
                for key in ("Action", "Resource"):
                    if not isinstance(normalised.get(key), list):
                        normalised[key] = [normalised[key]]
                statements.append(normalised)
        return statements

    def actions(self, function_id: str, prefix: str) -> set[str]:
        return {
            action
            for s in self.role_statements(function_id)
            for action in s["Action"]
            if action.startswith(prefix)
        }


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk.out"), Settings())


def synthesize(outdir: Path, settings: Settings) -> Synth:
    """The app built with `settings`, synthesized with every check on, and its report."""
    app = cdk.App(
        outdir=str(outdir),
        context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True},
    )
    build(app, settings)
    failed = False
    try:
        app.synth()
    except RuntimeError as error:  # jsii raises the validation failure as a RuntimeError
        if "ValidationFailed" not in str(error) and "Validation failed" not in str(error):
            raise
        failed = True
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    result = Synth(template=template, outdir=outdir, failed=failed)
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            for v in plugin.get("violations", []):
                for c in v["violatingConstructs"]:
                    result.open_findings.append(f"{v['ruleName']} at {c['constructPath']}")
            for v in plugin.get("suppressedViolations") or []:
                for c in v["violatingConstructs"]:
                    result.acknowledged.append((v["ruleName"], c["constructPath"], v["reason"]))
    return result
