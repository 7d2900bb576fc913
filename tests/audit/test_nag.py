"""`audit --nag` / `--packs`: cdk-nag's packs on a hand-written template, beside our findings.

Each run starts jsii and Node.js in a child process (several seconds): few runs, shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.nag import PACKS, node_problem, parse_packs
from secure_constructs.audit.sources import InputError
from tests.audit.helpers import ASSEMBLY, FIXTURES, TEMPLATES, run

CONCERNS = FIXTURES / "nag" / "concerns.yaml"

# The concerns of issue 15 we have no rule for, and the cdk-nag rule (pack, rule, resource)
# that reports each on CONCERNS.
EXPECTED = {
    "KMS rotation": ("AwsSolutions", "AwsSolutions-KMS5", "Key"),
    "KMS rotation (NIST)": ("NIST.800.53.R5", "NIST.800.53.R5-KMSBackingKeyRotationEnabled", "Key"),
    "SQS encryption": ("AwsSolutions", "AwsSolutions-SQS2", "Queue"),
    "SNS encryption": ("NIST.800.53.R5", "NIST.800.53.R5-SNSEncryptedKMS", "Topic"),
    "log retention": ("Serverless", "Serverless-CloudWatchLogGroupRetentionPeriod", "Logs"),
    "log KMS": ("NIST.800.53.R5", "NIST.800.53.R5-CloudWatchLogGroupEncrypted", "Logs"),
    "API access logs": ("AwsSolutions", "AwsSolutions-APIG1", "Stage"),
    "API access logs (Serverless)": ("Serverless", "Serverless-APIGWAccessLogging", "Stage"),
    "API X-Ray": ("Serverless", "Serverless-APIGWXrayEnabled", "Stage"),
}


@pytest.fixture(scope="module")
def concerns_json() -> dict[str, Any]:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "secure_constructs", "audit", str(CONCERNS)),
            *("--format", "json", "--packs", "AwsSolutions,Serverless,NIST"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr
    assert "Acknowledge with" not in out.stderr  # CDK's own printout stays in the child
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_nag_reports_the_concerns_we_have_no_rule_for(concerns_json: dict[str, Any]) -> None:
    found = {(f["tool"], f["rule"], f["logical_id"]) for f in concerns_json["findings"]}
    missing = {k: v for k, v in EXPECTED.items() if v not in found}
    assert missing == {}, sorted(found)


def test_nag_findings_sit_beside_ours_in_one_report(concerns_json: dict[str, Any]) -> None:
    tools = {f["tool"] for f in concerns_json["findings"]}
    assert {"SecureServerless", "AwsSolutions", "Serverless", "NIST.800.53.R5"} <= tools
    ours = {f["rule"] for f in concerns_json["findings"] if f["tool"] == "SecureServerless"}
    assert "ApiStageWafRules[WebACL]" in ours and "ApiStageTracing" in ours
    nag = [f for f in concerns_json["findings"] if f["tool"] != "SecureServerless"]
    # located on the template's own resources, not on the throw-away app's construct paths
    assert all(f["construct_path"] is None for f in nag)
    assert all(f["pointer"].startswith("/Resources/") for f in nag)
    assert concerns_json["file_errors"] == []


def test_default_nag_in_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    sarif = run(capsys, "audit", CONCERNS, "--nag", "--format", "sarif")
    assert sarif.code == 1, sarif.err
    results = json.loads(sarif.out)["runs"]
    rules = {r["ruleId"] for each in results for r in each["results"]}
    assert "AwsSolutions-KMS5" in rules and "ApiStageTracing" in rules, rules
    assert not any(r.startswith("NIST") for r in rules)  # --nag alone: AwsSolutions, Serverless


def test_a_template_cfn_include_refuses_is_a_per_file_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "dangling.yaml"
    broken.write_text(
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        "    Properties: {KmsMasterKeyId: !Ref NoSuchKey}\n",
        encoding="utf-8",
    )
    result = run(capsys, "audit", broken, CONCERNS, "--nag", "--format", "json")
    assert result.code == 2, result.err
    assert f"{broken}: cdk-nag not run: CfnInclude cannot load the template" in result.err
    data = json.loads(result.out)
    assert any("cdk-nag not run" in e for e in data["file_errors"])
    tools = {(f["stack"], f["tool"]) for f in data["findings"]}
    assert ("concerns", "AwsSolutions") in tools  # the other template was judged by cdk-nag
    assert {st["name"] for st in data["stacks"]} == {"dangling", "concerns"}  # ours judged both


def test_a_sam_template_is_judged_in_its_translated_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "audit", TEMPLATES / "sam" / "function.yaml", "--nag", "--format", "json")
    assert result.code == 1, result.err
    nag = [f for f in json.loads(result.out)["findings"] if f["tool"] == "AwsSolutions"]
    iam4 = [f for f in nag if f["rule"].startswith("AwsSolutions-IAM4")]
    assert iam4 and {f["logical_id"] for f in iam4} == {"MyFnRole"}
    assert {f["sam_resource"] for f in iam4} == {"MyFn"}


def test_without_node_nag_fails_clearly_never_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    env["PATH"] = str(tmp_path)  # no node there
    result = subprocess.run(
        [sys.executable, "-m", "secure_constructs", "audit", str(CONCERNS), "--nag"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "--nag needs Node.js" in result.stderr and "no `node` on PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_jsii_node_that_is_not_there_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_NODE", "/nonexistent/node")
    problem = node_problem()
    assert problem is not None and "JSII_NODE=/nonexistent/node" in problem


def test_packs_are_named_and_checked() -> None:
    assert parse_packs("AwsSolutions, PCI,AwsSolutions") == ["AwsSolutions", "PCI"]
    assert set(PACKS) == {"AwsSolutions", "Serverless", "NIST", "HIPAA", "PCI"}
    with pytest.raises(InputError, match="unknown pack Sox; choose from AwsSolutions"):
        parse_packs("Sox")
    with pytest.raises(InputError, match="no pack"):
        parse_packs(" , ")


def test_cdk_nag_metadata_in_the_template_acknowledges_its_findings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = CONCERNS.read_text(encoding="utf-8").replace(
        "  Queue:\n    Type: AWS::SQS::Queue\n",
        "  Queue:\n    Type: AWS::SQS::Queue\n    Metadata:\n      cdk_nag:\n"
        "        rules_to_suppress:\n"
        "          - id: AwsSolutions-SQS3\n"
        "            reason: This queue is the terminal dead-letter queue of the orders function\n"
        "          - id: AwsSolutions-SQS4\n"
        "            reason: ok\n"
        "          - id: AwsSolutions-S1\n"
        "            reason: The bucket was removed from this template in the last refactoring\n",
    )
    path = tmp_path / "acked.yaml"
    path.write_text(text, encoding="utf-8")
    result = run(capsys, "audit", path, "--nag", "--format", "json")
    data = json.loads(result.out)
    queue = {f["rule"]: f for f in data["findings"] if f["logical_id"] == "Queue"}
    assert queue["AwsSolutions-SQS3"]["acknowledged"] is True
    assert "terminal dead-letter" in queue["AwsSolutions-SQS3"]["reason"]
    acks = {a["id"]: a for a in data["acknowledgements"]}
    assert acks["AwsSolutions::AwsSolutions-SQS4"]["problems"]  # a weak reason is a problem
    assert any("matches no finding" in p for p in acks["AwsSolutions::AwsSolutions-S1"]["problems"])
    assert result.code == 1


def test_a_node_that_does_not_work_fails_the_run_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho 'node: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "JSII_NODE": str(fake)}
    result = subprocess.run(
        [sys.executable, "-m", "secure_constructs", "audit", str(CONCERNS), "--nag"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 2, result
    assert "--nag: cdk-nag could not run" in result.stderr
    assert "result: pass" not in result.stdout


def test_an_assembly_with_a_validation_report_is_not_run_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plain = json.loads(run(capsys, "audit", ASSEMBLY, "--format", "json").out)
    nag = json.loads(run(capsys, "audit", ASSEMBLY, "--nag", "--format", "json").out)
    assert nag["findings"] == plain["findings"]


BUCKET_TEMPLATE = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }
}


def _assembly_with_report(tmp_path: Path, plugin_names: list[str]) -> Path:
    """A cloud assembly holding BUCKET_TEMPLATE and a validation report naming `plugin_names`
    (no violations), as an app with other plugins than cdk-nag's writes it."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "Bucket.template.json").write_text(json.dumps(BUCKET_TEMPLATE), encoding="utf-8")
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "Bucket": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "Bucket.template.json"},
                "displayName": "Bucket",
            }
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    report = {
        "title": "Validation Report",
        "pluginReports": [
            {"pluginName": name, "summary": {"status": "success"}, "violations": []}
            for name in plugin_names
        ],
    }
    (out / "validation-report.json").write_text(json.dumps(report), encoding="utf-8")
    return out


def test_fails_when_a_report_of_other_plugins_makes_nag_skip_the_assembly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = _assembly_with_report(tmp_path, ["MyOrgPlugin"])
    result = run(capsys, "audit", out, "--nag", "--format", "json")
    assert result.code == 1, result.err
    data = json.loads(result.out)
    found = {(f["tool"], f["rule"], f["logical_id"]) for f in data["findings"]}
    assert ("AwsSolutions", "AwsSolutions-S1", "Bucket") in found, sorted(found)
    assert ("Serverless", "Serverless-CloudWatchLogGroupRetentionPeriod", "Logs") in found
    text = run(capsys, "audit", out, "--nag")
    packs = next(line for line in text.out.splitlines() if line.startswith("packs: "))
    assert {"AwsSolutions", "Serverless", "MyOrgPlugin"} <= set(packs[7:].split(", ")), packs


def test_only_the_packs_a_report_lacks_run_and_only_those_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # the report says AwsSolutions ran (and found nothing): it is not run again, Serverless is
    out = _assembly_with_report(tmp_path, ["AwsSolutions", "SecureServerless"])
    result = run(capsys, "audit", out, "--nag", "--format", "json")
    assert result.code == 0, result.err  # Serverless' log retention finding is a warning
    tools = {f["tool"] for f in json.loads(result.out)["findings"]}
    assert "Serverless" in tools and "AwsSolutions" not in tools, tools
    # without --nag nothing runs, and no pack the report does not name is listed
    plain = run(capsys, "audit", out)
    packs = next(line for line in plain.out.splitlines() if line.startswith("packs: "))
    assert set(packs[7:].split(", ")) == {"SecureServerless", "AwsSolutions"}, packs
