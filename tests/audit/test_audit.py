"""`secure-constructs audit`: merged findings, scorecard, acknowledgement integrity, formats."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secure_constructs.audit.report import audit, reason_problem
from secure_constructs.audit.sources import load
from secure_constructs.checks.engine import run_rules
from secure_constructs.checks.gate_ids import BYPASS, GATE_RULES
from secure_constructs.checks.model import Practice, Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import ASSEMBLY, ORDERS_JSON, ORDERS_YAML, SARIF_SCHEMA, run
from tests.checks.templates import make_rule_crash

LOOP = "AuditFixture/NightlyExport"


@pytest.fixture(scope="module")
def assembly_report() -> Any:
    return audit(load([ASSEMBLY]))


def test_our_rules_run_on_a_hand_written_template_exactly_as_the_engine_runs_them() -> None:
    report = audit(load([ORDERS_JSON]))
    body = json.loads(ORDERS_JSON.read_text())
    expected = {(f.granular_id, f.logical_id) for f in run_rules(Template(body))}
    assert {(f.rule_name, f.logical_id) for f in report.findings} == expected
    timeout = next(f for f in report.findings if f.rule_id == "LambdaTimeout")
    assert timeout.logical_id == "OrdersFunction" and timeout.severity == "error"
    assert timeout.pointer == "/Resources/OrdersFunction/Properties/Timeout"


def test_acknowledgements_match_our_findings_as_cdk_does(assembly_report: Any) -> None:
    """Our re-run of the pack agrees with the SecureServerless section CDK wrote at synth."""
    synth = json.loads((ASSEMBLY / "validation-report.json").read_text())
    (ours,) = [p for p in synth["pluginReports"] if p["pluginName"] == "SecureServerless"]
    at_synth_open = {v["ruleName"] for v in ours["violations"]} - set(GATE_RULES)  # the gate's
    at_synth_acked = {v["ruleName"] for v in ours["suppressedViolations"]}
    mine = [f for f in assembly_report.findings if f.tool == "SecureServerless"]
    assert {f.rule_name for f in mine if f.open} == at_synth_open
    assert {f.rule_name for f in mine if not f.open} == at_synth_acked
    timeout = next(f for f in mine if f.rule_id == "LambdaTimeout")
    assert timeout.acknowledgement is not None and timeout.acknowledgement.at == LOOP
    assert "nightly export" in timeout.acknowledgement.reason


def test_cdk_nag_findings_are_merged_open_and_acknowledged(assembly_report: Any) -> None:
    by_rule = {(f.tool, f.rule_name, f.open) for f in assembly_report.findings}
    assert ("AwsSolutions", "AwsSolutions-SMG4", True) in by_rule
    assert ("AwsSolutions", "AwsSolutions-IAM5[Resource::*]", False) in by_rule
    smg4 = next(f for f in assembly_report.findings if f.rule_name == "AwsSolutions-SMG4")
    assert smg4.logical_id == "LegacySecret1E36CFA1"
    assert smg4.practice is Practice.SECRETS


def test_a_stale_acknowledgement_with_a_boilerplate_reason_is_flagged(assembly_report: Any) -> None:
    statuses = {(s.ack.rule_id, s.ack.at): s for s in assembly_report.acknowledgements}
    stale = statuses[("AwsSolutions::AwsSolutions-IAM4", LOOP)]
    assert stale.matched == 0
    assert any(p.startswith("matches no finding") for p in stale.problems)
    assert "boilerplate reason: 'CDK managed resource'" in stale.problems
    good = statuses[("SecureServerless::LambdaTimeout", LOOP)]
    assert good.ok and good.matched == 1


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("", "empty reason"),
        ("   ", "empty reason"),
        ("N/A", "boilerplate"),
        ("false positive", "boilerplate"),
        ("TODO: explain why this is fine", "placeholder"),
        ("needed for prod", "too short"),
        (
            "The SQS queue does not have a redrive policy configured.",
            "repeats the rule's description",
        ),
    ],
)
def test_fails_when_a_reason_would_not_convince_a_reviewer(reason: str, problem: str) -> None:
    from secure_constructs.checks.nag_rules import NAG_RULES

    descriptions = [text.lower() for rules in NAG_RULES.values() for _, text in rules.values()]
    found = reason_problem(reason, descriptions)
    assert found is not None and problem in found


def test_a_reviewer_grade_reason_passes() -> None:
    assert (
        reason_problem("X-Ray's PutTraceSegments has no resource-level permissions at all") is None
    )


def test_an_acknowledgement_for_a_pack_that_did_not_run_is_dormant_not_a_problem(
    tmp_path: Path,
) -> None:
    for name in ("manifest.json", "AuditFixture.template.json", "validation-report.json"):
        (tmp_path / name).write_bytes((ASSEMBLY / name).read_bytes())
    metadata = json.loads((ASSEMBLY / "AuditFixture.metadata.json").read_text())
    metadata[f"/{LOOP}"].append(
        {
            "type": "secure-constructs:acknowledge",  # what acknowledge() records
            "data": {
                "id": "HIPAA.Security::HIPAA.Security-LambdaDLQ",
                "reason": "The dead-letter queue is configured in the shared messaging stack.",
                "targets": [],
            },
        }
    )
    (tmp_path / "AuditFixture.metadata.json").write_text(json.dumps(metadata))
    report = audit(load([tmp_path]))
    (hipaa,) = [s for s in report.acknowledgements if s.ack.namespace == "HIPAA.Security"]
    assert hipaa.ok and hipaa.label == "dormant"
    assert hipaa.notes == [
        "dormant: pack HIPAA.Security did not run; the acknowledgement applies only when it does"
    ]


def test_scorecard_derives_pass_partial_fail_and_not_checked(assembly_report: Any) -> None:
    row = assembly_report.scorecard()["AuditFixture"]
    assert row[Practice.SECRETS].status == "fail"  # open AwsSolutions-SMG4 error
    assert row[Practice.EXECUTION_TIME].status == "pass"  # only acknowledged findings
    assert row[Practice.EXECUTION_TIME].acknowledged >= 1
    yaml_row = audit(load([ORDERS_YAML])).scorecard()["orders"]
    checked = {r.practice for r in RULES.values()}
    for practice in set(Practice) - checked:
        assert yaml_row[practice].status == "not checked"
    assert yaml_row[Practice.EXECUTION_TIME].status == "fail"


def test_scorecard_is_partial_and_fail_on_error_passes_when_only_warnings_are_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A secret on the AWS managed key in a stack that has a customer-managed key: a warning.
    path = tmp_path / "warn.json"
    key = {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}}
    secret = {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {}}}
    path.write_text(json.dumps({"Resources": {"Key": key, "Secret": secret}}))
    report = audit(load([path]))
    assert {(f.rule_id, f.severity) for f in report.open_findings()} == {
        ("SecretCustomerKey", "warning")
    }
    assert report.scorecard()["warn"][Practice.SECRETS].status == "partial"
    assert run(capsys, "audit", path).code == 0
    assert run(capsys, "audit", path, "--fail-on", "warning").code == 1


def test_fail_on_decides_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "audit", ASSEMBLY).code == 1  # an open error
    assert run(capsys, "audit", ASSEMBLY, "--fail-on", "warning").code == 1
    assert run(capsys, "audit", ASSEMBLY, "--fail-on", "never").code == 0


def test_fail_on_error_passes_with_only_warnings_open_and_warning_fails(
    assembly_report: Any,
) -> None:
    for finding in assembly_report.findings:
        if finding.severity == "error":
            finding.severity = "info"
    problems = [a for a in assembly_report.acknowledgements if not a.ok]
    assert problems  # the fixture's acknowledgement made around the gate fails on its own
    assert assembly_report.failed("error")
    saved = [list(status.problems) for status in problems]
    for status in problems:
        status.problems.clear()
    assert not assembly_report.failed("error")
    assert assembly_report.failed("warning")
    assert not assembly_report.failed("never")
    for status, kept in zip(problems, saved, strict=True):  # the fixture is shared
        status.problems.extend(kept)


def test_an_acknowledgement_made_around_the_gate_is_a_problem(assembly_report: Any) -> None:
    statuses = {(s.ack.rule_id, s.ack.at): s for s in assembly_report.acknowledgements}
    native = statuses[("AwsSolutions::AwsSolutions-IAM4", LOOP)]
    assert any(
        p.startswith("not made through secure_constructs.acknowledge()") for p in native.problems
    )
    # the one made through acknowledge() is not
    timeout = statuses[("SecureServerless::LambdaTimeout", LOOP)]
    assert timeout.ok and timeout.matched == 1
    # the synth's refusal of the same acknowledgement (in the validation report) is not repeated
    refused = [s for s in assembly_report.acknowledgements if s.ack.at == LOOP and not s.ok]
    assert len(refused) == 1


def test_an_acknowledgement_on_the_app_refused_at_synth_is_a_problem(tmp_path: Path) -> None:
    for name in ("manifest.json", "AuditFixture.template.json", "AuditFixture.metadata.json"):
        (tmp_path / name).write_bytes((ASSEMBLY / name).read_bytes())
    report = json.loads((ASSEMBLY / "validation-report.json").read_text())
    (ours,) = [p for p in report["pluginReports"] if p["pluginName"] == "SecureServerless"]
    ours["violations"].append(
        {
            "ruleName": BYPASS,
            "description": "AwsSolutions::AwsSolutions-IAM5[Resource::*] at (the App) was ...",
            "severity": "fatal",
            "violatingConstructs": [{"constructPath": ""}],
        }
    )
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    result = audit(load([tmp_path]))
    (app,) = [s for s in result.acknowledgements if s.ack.at == "(the App)"]
    assert app.problems[0].startswith("refused at synth: AwsSolutions::AwsSolutions-IAM5")
    assert result.failed("error")


def test_unknown_resource_types_and_functions_are_still_audited(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "audit", ORDERS_YAML, "--format", "json")
    assert result.code == 1 and result.err == ""
    data = json.loads(result.out)
    assert data["stacks"] == [
        {"name": "orders", "template": data["stacks"][0]["template"], "resources": 12}
    ]
    assert data["rule_errors"] == []


def test_a_rule_that_crashes_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_rule_crash(monkeypatch, "LambdaTimeout")
    report = audit(load([ORDERS_JSON]))
    assert any("LambdaTimeout failed on orders" in e for e in report.rule_errors)
    # the crash is an open ERROR finding of that rule, as at synth, and the other rules still ran
    (crash,) = [f for f in report.findings if f.rule_id == "LambdaTimeout"]
    assert crash.rule_name == "LambdaTimeout[RuleError]" and crash.severity == "error"
    assert crash.open and "KeyError" in crash.message
    assert any(f.rule_id == "LambdaAlarms" for f in report.findings)


CLEAN = {"Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": "x"}}}}


def test_fails_when_a_rule_crashes_on_a_template_that_otherwise_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(CLEAN))
    assert run(capsys, "audit", path).code == 0
    make_rule_crash(monkeypatch, "LambdaTimeout")
    result = run(capsys, "audit", path)
    assert result.code == 1 and "LambdaTimeout" in result.out
    assert audit(load([path])).failed("warning")


# -- formats ----------------------------------------------------------------------------------


def test_text_starts_with_the_scorecard_and_groups_by_stack_and_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(capsys, "audit", ASSEMBLY).out
    assert out.index("Practices scorecard") < out.index("== AuditFixture")
    assert out.index("  ERROR (1)") < out.index("  WARNING (1)") < out.index("  ACKNOWLEDGED")
    assert "fix: use SecureSecret" in out
    assert "result: FAIL (--fail-on error)" in out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_markdown_has_the_scorecard_findings_and_acknowledgements_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(capsys, "audit", ASSEMBLY, "--format", "markdown").out
    assert (
        out.index("## Practices scorecard")
        < out.index("## Findings")
        < out.index("## Acknowledgements")
    )
    assert "| secrets | FAIL (1 open error, 1 open warning) |" in out
    assert "| **problem** | `AwsSolutions::AwsSolutions-IAM4` |" in out


def test_json_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(run(capsys, "audit", ASSEMBLY, "--format", "json").out)
    assert set(data) == {
        "summary",
        "stacks",
        "scorecard",
        "findings",
        "acknowledgements",
        "rule_errors",
        "file_errors",
    }
    smg4 = next(f for f in data["findings"] if f["rule"] == "AwsSolutions-SMG4")
    assert smg4["pointer"] == "/Resources/LegacySecret1E36CFA1"
    assert data["scorecard"]["AuditFixture"]["secrets"]["status"] == "fail"


def _sarif(capsys: pytest.CaptureFixture[str], *paths: Path) -> dict[str, Any]:
    result = run(capsys, "audit", *paths, "--format", "sarif", "--fail-on", "never")
    assert result.code == 0
    data: dict[str, Any] = json.loads(result.out)
    return data


@pytest.mark.parametrize("paths", [(ASSEMBLY,), (ORDERS_YAML,), (ORDERS_JSON,)])
def test_sarif_validates_against_the_sarif_2_1_0_schema(
    capsys: pytest.CaptureFixture[str], paths: tuple[Path, ...]
) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(_sarif(capsys, *paths))


def test_sarif_schema_rejects_a_broken_log() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, schema)


def test_sarif_has_one_run_per_tool_with_rule_help(capsys: pytest.CaptureFixture[str]) -> None:
    data = _sarif(capsys, ASSEMBLY)
    assert data["version"] == "2.1.0"
    runs = {r["tool"]["driver"]["name"]: r for r in data["runs"]}
    assert set(runs) == {"SecureServerless", "AwsSolutions", "Serverless"}
    rules = {r["id"]: r for r in runs["SecureServerless"]["tool"]["driver"]["rules"]}
    assert rules["LambdaTimeout"]["help"]["text"] == RULES["LambdaTimeout"].explanation
    for run_ in data["runs"]:
        ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
        for result in run_["results"]:
            assert ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_locates_results_at_the_template_line_and_json_pointer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for path in (ORDERS_JSON, ORDERS_YAML):
        data = _sarif(capsys, path)
        (ours,) = data["runs"]
        result = next(r for r in ours["results"] if r["ruleId"] == "LambdaTimeout")
        location = result["locations"][0]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.endswith(path.name) and not uri.startswith("/")
        line = location["physicalLocation"]["region"]["startLine"]
        assert re.match(r'^\s*"?OrdersFunction"?:', path.read_text().splitlines()[line - 1])
        assert location["logicalLocations"][0]["fullyQualifiedName"] == (
            "/Resources/OrdersFunction/Properties/Timeout"
        )


def test_sarif_acknowledged_findings_are_suppressed_with_their_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _sarif(capsys, ASSEMBLY)
    ours = next(r for r in data["runs"] if r["tool"]["driver"]["name"] == "SecureServerless")
    timeout = next(r for r in ours["results"] if r["ruleId"] == "LambdaTimeout")
    (suppression,) = timeout["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["status"] == "accepted"
    assert "nightly export" in suppression["justification"]
    nag = next(r for r in data["runs"] if r["tool"]["driver"]["name"] == "AwsSolutions")
    smg4 = next(r for r in nag["results"] if r["ruleId"] == "AwsSolutions-SMG4")
    assert "suppressions" not in smg4 and smg4["level"] == "error"
    iam5 = next(r for r in nag["results"] if r["ruleId"] == "AwsSolutions-IAM5")
    assert iam5["properties"]["granularRule"] == "AwsSolutions-IAM5[Resource::*]"
    assert iam5["suppressions"][0]["justification"].startswith("Holds only actions")


def test_html_is_one_self_contained_page_with_findings_permissions_and_cost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "audit.html"
    result = run(capsys, "audit", ORDERS_YAML, "--format", "html", "--output", target)
    assert result.code == 1
    assert f"html report written to {target}" in result.out
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert "url(" not in page and "@import" not in page
    for heading in (
        "Practices scorecard",
        "Findings",
        "Permissions",
        "Who can reach each resource, and become each role",
        "Cost of the security baseline",
    ):
        assert f">{heading}</h2>" in page
    assert "who can become role OrdersRole" in page  # trust policies, not only grants
    assert "<code>Service lambda.amazonaws.com</code>" in page
    assert "who can reach AppKey (AWS::KMS::Key" in page
    assert "<code>iam:PassRole</code>" in page and "privilege escalation" in page
    assert "$22.50" in page
    assert "overflow-wrap: anywhere" in page and "table-layout: fixed" in page


def test_output_writes_the_report_and_prints_the_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "audit.sarif"
    result = run(
        capsys, "audit", ASSEMBLY, "--format", "sarif", "--output", target, "--fail-on", "never"
    )
    assert result.code == 0
    assert result.out.startswith("secure-constructs audit: 1 stack")
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "secure_constructs", "cost", str(ORDERS_JSON), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["monthly_total"] == 22.5


def test_bad_input_through_python_dash_m_is_one_line_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "secure_constructs", "audit", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_html_markup_is_balanced(capsys: pytest.CaptureFixture[str]) -> None:
    from html.parser import HTMLParser

    class Balance(HTMLParser):
        void = {"meta", "br", "col"}

        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in self.void:
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

    for path in (ASSEMBLY, ORDERS_YAML):
        parser = Balance()
        parser.feed(run(capsys, "audit", path, "--format", "html").out)
        assert parser.stack == []
