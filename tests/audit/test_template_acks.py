"""Acknowledgements in a plain template's resource Metadata (ours and cdk-nag's key)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.helpers import TEMPLATES, run

GOOD = "The value is a public test fixture key that AWS documents as an example, not a credential"
TEMPLATE = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Metadata:
{metadata}
    Properties:
      Runtime: python3.14
      Handler: index.handler
      Role: !GetAtt FnRole.Arn
      Code: {{ZipFile: "def handler(e, c): pass"}}
      Timeout: 10
      Environment:
        Variables: {{AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE}}
"""
RULE = "LambdaEnvironmentSecret[AWS_ACCESS_KEY_ID]"


def ours(rule_id: str, reason: str) -> str:
    return (
        "      secure-constructs:\n        acknowledge:\n"
        f"          - id: {json.dumps(rule_id)}\n            reason: {json.dumps(reason)}"
    )


def nag(rule_id: str, reason: str) -> str:
    return (
        "      cdk_nag:\n        rules_to_suppress:\n"
        f"          - id: {json.dumps(rule_id)}\n            reason: {json.dumps(reason)}"
    )


def audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, metadata: str, fmt: str = "json"
) -> tuple[int, str]:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE.format(metadata=metadata))
    result = run(capsys, "audit", path, "--format", fmt)
    return result.code, result.out


def secret_finding(out: str) -> dict[str, object]:
    return next(f for f in json.loads(out)["findings"] if f["rule"] == RULE)


@pytest.mark.parametrize(
    "metadata",
    [
        ours(f"SecureServerless::{RULE}", GOOD),
        ours(RULE, GOOD),
        nag(f"SecureServerless::{RULE}", GOOD),
    ],
)
def test_metadata_acknowledgement_moves_the_finding_to_acknowledged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, metadata: str
) -> None:
    _, out = audit(capsys, tmp_path, metadata)
    finding = secret_finding(out)
    assert finding["acknowledged"] is True, finding
    acks = json.loads(out)["acknowledgements"]
    assert len(acks) == 1 and acks[0]["matched"] == 1 and acks[0]["problems"] == []
    _, sarif = audit(capsys, tmp_path, metadata, "sarif")
    results = [r for run_ in json.loads(sarif)["runs"] for r in run_["results"]]
    secret = next(r for r in results if r["ruleId"].startswith("LambdaEnvironmentSecret"))
    assert secret["suppressions"][0]["justification"] == GOOD


def test_without_metadata_the_finding_is_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = audit(capsys, tmp_path, "      Other: {}")
    assert code == 1
    assert secret_finding(out)["acknowledged"] is False


def test_a_weak_reason_in_metadata_is_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out = audit(capsys, tmp_path, ours(RULE, "false positive"))
    (ack,) = json.loads(out)["acknowledgements"]
    assert any("boilerplate" in p for p in ack["problems"]), ack


def test_a_stale_metadata_acknowledgement_is_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out = audit(capsys, tmp_path, ours("LambdaTimeout", GOOD))
    (ack,) = json.loads(out)["acknowledgements"]
    assert ack["matched"] == 0 and any("matches no finding" in p for p in ack["problems"])
    assert secret_finding(out)["acknowledged"] is False


def test_an_acknowledgement_on_a_sam_resource_covers_what_it_generates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (TEMPLATES / "sam" / "function.yaml").read_text()
    text = text.replace(
        "    Type: AWS::Serverless::Function\n",
        "    Type: AWS::Serverless::Function\n    Metadata:\n" + ours(RULE, GOOD) + "\n",
    )
    path = tmp_path / "sam.yaml"
    path.write_text(text)
    out = run(capsys, "audit", path, "--format", "json").out
    assert secret_finding(out)["acknowledged"] is True


CDK_MADE = {
    "metadata-resource": (
        "  CDKMetadata:\n    Type: AWS::CDK::Metadata\n    Properties: {Analytics: v2}\n"
    ),
    "path-metadata": (
        "  Other:\n    Type: AWS::SQS::Queue\n    Metadata: {aws:cdk:path: App/Queue/Resource}\n"
    ),
}


@pytest.mark.parametrize("marker", sorted(CDK_MADE))
@pytest.mark.parametrize("metadata", [ours(RULE, GOOD), nag(f"SecureServerless::{RULE}", GOOD)])
def test_metadata_acknowledgement_in_a_cdk_made_template_is_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, marker: str, metadata: str
) -> None:
    # CDK users write it with CfnResource.add_metadata: around acknowledge() and the gate
    path = tmp_path / "cdk.yaml"
    path.write_text(TEMPLATE.format(metadata=metadata) + CDK_MADE[marker])
    result = run(capsys, "audit", path, "--format", "json")
    (ack,) = json.loads(result.out)["acknowledgements"]
    assert any("written as resource Metadata in a template CDK made" in p for p in ack["problems"])
    assert result.code == 1


def test_metadata_acknowledgement_in_a_synthesized_assembly_fails_the_audit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sns as sns

    from tests.synth import synth

    rule_id = "SecureServerless::ResourcePolicyPublic[Principal::*]"

    def build(stack: cdk.Stack) -> None:
        topic = sns.Topic(stack, "Topic", enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"], principals=[iam.AnyPrincipal()], resources=["*"]
            )
        )
        policy = topic.node.find_child("Policy").node.default_child
        assert isinstance(policy, cdk.CfnResource)
        for key, entry in (
            ("cdk_nag", {"rules_to_suppress": [{"id": rule_id, "reason": GOOD}]}),
            ("secure-constructs", {"acknowledge": [{"id": rule_id, "reason": GOOD}]}),
        ):
            policy.add_metadata(key, entry)

    result = synth(build)
    assert result.failed  # the synth's gate does not read Metadata: the finding is open there
    audited = run(capsys, "audit", result.outdir, "--format", "json")
    report = json.loads(audited.out)
    acks = [a for a in report["acknowledgements"] if a["id"] == rule_id]
    assert len(acks) == 2
    assert all(any("template CDK made" in p for p in a["problems"]) for a in acks), acks
    assert audited.code == 1
