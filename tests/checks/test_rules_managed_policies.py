"""IAMManagedPolicy: AWS managed policies on roles, in SAM and hand-written templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_constructs.audit.sources import load_template_file
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as cli

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
  Writer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.14
      Handler: index.handler
      InlineCode: "def handler(e, c): pass"
      Timeout: 10
      Policies: [POLICIES]
"""


def sam_findings(tmp_path: Path, policies: str) -> list[tuple[str, str | None, Severity]]:
    path = tmp_path / "sam.yaml"
    path.write_text(SAM.replace("POLICIES", policies), encoding="utf-8")
    body = load_template_file(path).body
    found = RULES["IAMManagedPolicy"].run(Template(body))
    return sorted((f.logical_id, f.finding_id, f.severity) for f in found)


BASIC = ("WriterRole", "Policy::AWSLambdaBasicExecutionRole", Severity.WARNING)


def test_fails_when_a_sam_function_has_a_full_access_managed_policy(tmp_path: Path) -> None:
    assert sam_findings(tmp_path, "AmazonDynamoDBFullAccess") == [
        BASIC,
        ("WriterRole", "Policy::AmazonDynamoDBFullAccess", Severity.ERROR),
    ]


def test_a_read_only_managed_policy_is_a_warning_naming_it(tmp_path: Path) -> None:
    assert sam_findings(tmp_path, "AmazonS3ReadOnlyAccess") == [
        BASIC,
        ("WriterRole", "Policy::AmazonS3ReadOnlyAccess", Severity.WARNING),
    ]


def test_a_sam_policy_template_is_an_inline_policy_not_a_managed_one(tmp_path: Path) -> None:
    # DynamoDBCrudPolicy expands to an inline policy on the table's ARN: judged by IAMWildcard
    # (and clean there), never an IAMManagedPolicy finding.
    assert sam_findings(tmp_path, "{DynamoDBCrudPolicy: {TableName: !Ref Table}}") == [BASIC]
    body = load_template_file(tmp_path / "sam.yaml").body
    assert RULES["IAMWildcard"].run(Template(body)) == []


def role(*arns: object) -> dict[str, object]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": {}, "ManagedPolicyArns": list(arns)},
            },
            "Mine": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {}}},
        }
    }


def test_fails_on_every_form_of_an_aws_managed_policy_arn() -> None:
    body = role(
        "arn:aws:iam::aws:policy/AdministratorAccess",
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSQSFullAccess"},
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/job-function/ViewOnlyAccess"],
            ]
        },
    )
    found = RULES["IAMManagedPolicy"].run(Template(body))
    assert [(f.finding_id, f.severity, f.path) for f in found] == [
        ("Policy::AdministratorAccess", Severity.ERROR, "Properties/ManagedPolicyArns/0"),
        ("Policy::AmazonSQSFullAccess", Severity.ERROR, "Properties/ManagedPolicyArns/1"),
        ("Policy::ViewOnlyAccess", Severity.WARNING, "Properties/ManagedPolicyArns/2"),
    ]
    assert "AdministratorAccess" in found[0].message


def test_customer_managed_policies_are_judged_where_they_are_defined() -> None:
    body = role({"Ref": "Mine"}, "arn:aws:iam::123456789012:policy/team/Boundary")
    assert RULES["IAMManagedPolicy"].run(Template(body)) == []


def test_the_audit_of_a_sam_template_names_the_policy_on_the_sam_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sam.yaml"
    path.write_text(SAM.replace("POLICIES", "AmazonDynamoDBFullAccess"), encoding="utf-8")
    result = cli(capsys, "audit", path, "--format", "json")
    assert result.code == 1, result.err
    found = [
        f for f in json.loads(result.out)["findings"] if f["rule"].startswith("IAMManagedPolicy")
    ]
    full = [f for f in found if f["rule"] == "IAMManagedPolicy[Policy::AmazonDynamoDBFullAccess]"]
    assert len(full) == 1 and full[0]["severity"] == "error"
    assert full[0]["sam_resource"] == "Writer"


def test_fails_closed_on_a_managed_policy_named_at_deploy_time() -> None:
    arn = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/${PolicyName}"}
    chosen = {"Fn::If": ["Admin", "arn:aws:iam::aws:policy/AdministratorAccess", {"Ref": "Mine"}]}
    found = RULES["IAMManagedPolicy"].run(Template(role(arn, chosen)))
    assert [(f.finding_id, f.severity) for f in found] == [
        ("Policy::DeployTimeName", Severity.ERROR),
        ("Policy::AdministratorAccess", Severity.ERROR),
    ]
    assert "named only at deploy time" in found[0].message
