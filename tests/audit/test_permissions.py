"""`secure-constructs permissions`: grants per role and function, escalation flags, baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.cli import resolvers
from secure_constructs.audit.permissions import Principal, permissions
from secure_constructs.audit.sources import load
from tests.audit.helpers import (
    ASSEMBLY,
    ORDERS_JSON,
    ORDERS_YAML,
    SHARED_YAML,
    assert_one_line_error,
    run,
)


def _principals(*paths: Path) -> dict[str, Principal]:
    inputs = load(paths)
    report = permissions(inputs.stacks, resolvers(inputs.stacks))
    return {p.logical_id: p for p in report.principals}


def _template(tmp_path: Path, resources: dict[str, Any], name: str = "app.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Resources": resources}))
    return path


def _role(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]
        },
    }


def test_grants_of_the_hand_written_template_are_resolved_readably() -> None:
    role = _principals(ORDERS_YAML, SHARED_YAML)["OrdersRole"]
    allowed = role.allowed()
    assert allowed["dynamodb:GetItem"] == [
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders-${Stage}"
    ]
    assert allowed["secretsmanager:GetSecretValue"] == [
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:orders/db"
    ]
    # no BucketName: the name CloudFormation generates, marked, never the logical id as a name
    assert allowed["s3:GetObject"] == ["arn:${AWS::Partition}:s3:::<ArtifactsBucket>/*"]
    assert allowed["kms:Decrypt"] == [
        "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/<AppKey>"
        " if StringEquals kms:ViaService=secretsmanager.${AWS::Region}.amazonaws.com"
    ]
    # imported from shared.yaml's export
    assert allowed["sns:Publish"] == [
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:shared-alarms"
    ]
    assert role.functions == ["OrdersFunction"]


def test_what_the_template_does_not_determine_is_shown_unresolved() -> None:
    role = _principals(ORDERS_JSON)["OrdersRole"]
    allowed = role.allowed()
    assert allowed["sns:Publish"] == ["<unresolved Fn::ImportValue shared-alarm-topic-arn>"]
    assert allowed["ssm:GetParameter"] == [
        # the template writes the partition literally: shown as written
        "arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"
        "<unresolved Fn::FindInMap StageConfig>"
    ]
    (sqs,) = [g for g in role.grants if g.action == "sqs:SendMessage"]
    assert sqs.resources == (
        "<unresolved Fn::If IsProd: arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders-dlq | *>",
    )
    assert "unresolved resource" in sqs.flags


def test_aws_managed_policies_are_listed_as_not_in_the_template() -> None:
    role = _principals(ORDERS_YAML)["OrdersRole"]
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert role.allowed()["(managed policy)"] == [managed]
    assert any(managed in note and "not in the template" in note for note in role.notes)


@pytest.mark.parametrize(
    ("action", "resource", "escalation"),
    [
        ("iam:PassRole", "*", "iam:PassRole"),
        ("iam:*Policy*", "arn:aws:iam::123456789012:role/x", "iam:CreatePolicy"),
        ("sts:AssumeRole", "*", "sts:AssumeRole"),
        (
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:us-east-1:1:function:f",
            "lambda:UpdateFunctionCode",
        ),
        ("*", "*", "iam:PassRole"),
        ("iam:*", "*", "iam:PassRole"),
    ],
)
def test_privilege_escalation_capable_actions_are_flagged(
    tmp_path: Path, action: str, resource: str, escalation: str
) -> None:
    path = _template(
        tmp_path, {"R": _role([{"Effect": "Allow", "Action": action, "Resource": resource}])}
    )
    (grant,) = _principals(path)["R"].grants
    assert any(f.startswith(f"privilege escalation: {escalation} ") for f in grant.flags), (
        grant.flags
    )


def test_assume_role_on_a_named_role_and_plain_reads_are_not_escalation(tmp_path: Path) -> None:
    path = _template(
        tmp_path,
        {
            "R": _role(
                [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": "arn:aws:iam::1:role/x",
                    },
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"},
                ]
            )
        },
    )
    for grant in _principals(path)["R"].grants:
        assert not any(f.startswith("privilege escalation") for f in grant.flags), grant


def test_wildcards_not_action_and_not_resource_are_flagged(tmp_path: Path) -> None:
    path = _template(
        tmp_path,
        {
            "R": _role(
                [
                    {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
                    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "sqs:SendMessage",
                        "NotResource": "arn:aws:sqs:x",
                    },
                    {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
                ]
            )
        },
    )
    flags = {g.action: g.flags for g in _principals(path)["R"].grants}
    assert "wildcard action" in flags["s3:Get*"] and "wildcard in resource" in flags["s3:Get*"]
    assert "NotAction: allows every other action" in flags["NOT iam:*"]
    assert "resource *" in flags["NOT iam:*"]
    assert "NotResource: applies to every other resource" in flags["sqs:SendMessage"]
    assert flags["xray:PutTraceSegments"] == ("resource * (the action supports only *)",)


def test_policies_attach_through_every_route_and_deny_is_kept_apart(tmp_path: Path) -> None:
    doc = lambda action: {"Statement": [{"Effect": "Allow", "Action": action, "Resource": "arn:x"}]}  # noqa: E731
    path = _template(
        tmp_path,
        {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": "named-role", "ManagedPolicyArns": [{"Ref": "Managed"}]},
            },
            "Inline": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": doc("a:Policy")},
            },
            "ByName": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Roles": ["named-role"], "PolicyDocument": doc("a:ByName")},
            },
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": doc("a:Managed")},
            },
            "RolePolicy": {
                "Type": "AWS::IAM::RolePolicy",
                "Properties": {"RoleName": {"Ref": "R"}, "PolicyDocument": doc("a:RolePolicy")},
            },
            "Deny": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "R"}],
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Deny", "Action": "a:Denied", "Resource": "*"}]
                    },
                },
            },
        },
    )
    role = _principals(path)["R"]
    assert set(role.allowed()) == {"a:Policy", "a:ByName", "a:Managed", "a:RolePolicy"}
    (deny,) = [g for g in role.grants if g.effect == "Deny"]
    assert deny.action == "a:Denied" and deny.flags == ()


def test_functions_map_to_their_role_or_to_a_role_outside_the_template(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(
        tmp_path,
        {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": "arn:aws:iam::1:role/ext"},
            },
        },
    )
    result = run(capsys, "permissions", path)
    assert result.code == 0
    assert "Fn: arn:aws:iam::1:role/ext" in result.out


def test_the_assembly_fixture_shows_the_function_role_and_star_only_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "permissions", ASSEMBLY, "--format", "json")
    data = json.loads(result.out)
    roles = {p["logical_id"]: p for p in data["principals"]}
    export_role = next(p for p in roles.values() if p["functions"] == ["NightlyExportB8EB8125"])
    actions = {g["action"] for g in export_role["grants"]}
    assert {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"} <= actions
    assert not any(g["action"].endswith("*") for g in export_role["grants"])


def test_text_and_markdown_show_actions_resources_and_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = run(capsys, "permissions", ORDERS_YAML).out
    assert "role OrdersRole, used by function OrdersFunction" in text
    assert (
        "on arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:orders/db"
        in text
    )
    assert "! privilege escalation: iam:PassRole" in text
    markdown = run(capsys, "permissions", ORDERS_YAML, "--format", "markdown").out
    assert "| Allow | `iam:PassRole` | * |" in markdown


# -- baseline gate ----------------------------------------------------------------------------


def _baseline_case(tmp_path: Path, actions: list[str]) -> Path:
    return _template(
        tmp_path,
        {
            "R": _role(
                [{"Effect": "Allow", "Action": actions, "Resource": {"Fn::GetAtt": ["T", "Arn"]}}]
            ),
            "T": {"Type": "AWS::DynamoDB::Table"},
        },
    )


def test_baseline_gate_fails_when_a_role_gains_an_action_or_resource(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    template = _baseline_case(tmp_path, ["dynamodb:GetItem"])
    written = run(capsys, "permissions", template, "--write-baseline", baseline)
    assert written.code == 0 and baseline.exists()
    assert run(capsys, "permissions", template, "--baseline", baseline).code == 0

    _baseline_case(tmp_path, ["dynamodb:GetItem", "dynamodb:DeleteItem"])
    grown = run(capsys, "permissions", template, "--baseline", baseline)
    assert grown.code == 1
    assert "permissions GREW (1)" in grown.out
    table = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/<T>"
    assert f"+ app/R  dynamodb:DeleteItem  {table}" in grown.out


def test_baseline_gate_reports_shrinkage_and_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    template = _baseline_case(tmp_path, ["dynamodb:GetItem", "dynamodb:PutItem"])
    run(capsys, "permissions", template, "--write-baseline", baseline)
    _baseline_case(tmp_path, ["dynamodb:GetItem"])
    shrunk = run(capsys, "permissions", template, "--baseline", baseline)
    assert shrunk.code == 0
    assert "permissions shrank (1), reported, not failed" in shrunk.out
    assert "- app/R  dynamodb:PutItem" in shrunk.out


def test_baseline_gate_counts_a_removed_condition_as_growth(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    statement = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "arn:aws:kms:us-east-1:1:key/k",
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
    }
    template = _template(tmp_path, {"R": _role([statement])})
    run(capsys, "permissions", template, "--write-baseline", baseline)
    del statement["Condition"]
    _template(tmp_path, {"R": _role([statement])})
    result = run(capsys, "permissions", template, "--baseline", baseline, "--format", "json")
    assert result.code == 1
    growth = json.loads(result.out)["baseline"]["growth"]
    assert growth == [
        {"principal": "app/R", "action": "kms:Decrypt", "entry": "arn:aws:kms:us-east-1:1:key/k"}
    ]


def test_baseline_gate_fails_when_a_new_role_appears(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    template = _baseline_case(tmp_path, ["dynamodb:GetItem"])
    run(capsys, "permissions", template, "--write-baseline", baseline)
    data = json.loads(template.read_text())
    data["Resources"]["Other"] = _role(
        [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]
    )
    template.write_text(json.dumps(data))
    result = run(capsys, "permissions", template, "--baseline", baseline)
    assert result.code == 1 and "+ app/Other  s3:GetObject  arn:aws:s3:::b/k" in result.out


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 99, "principals": {}}', "not a permissions baseline"),
        (
            '{"version": 2, "principals": {"a/R": {"s3:GetObject": "not-a-list"}}, "reach": {}}',
            "not a permissions baseline",
        ),
        (
            '{"version": 2, "principals": {}, "reach": {"a/Q": [{"principal": "*"}]}}',
            "not a permissions baseline",
        ),
        ('{"version": 1, "principals": {}}', "version 1, written before resource-based grants"),
    ],
)
def test_fails_when_the_baseline_is_not_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, why: str
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    assert_one_line_error(run(capsys, "permissions", ORDERS_JSON, "--baseline", baseline), why)


def test_fails_when_the_baseline_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, "permissions", ORDERS_JSON, "--baseline", tmp_path / "none.json")
    assert_one_line_error(result, "no such baseline file", "--write-baseline")
