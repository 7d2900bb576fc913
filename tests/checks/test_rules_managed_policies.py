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


# Hand-written YAML: every intrinsic form ManagedPolicyArns can take. ADMIN is the ARN.
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
INTRINSIC_FORMS = f"""
Parameters:
  Admin: {{Type: String, Default: "{ADMIN}"}}
  Chosen: {{Type: String}}
  Many: {{Type: CommaDelimitedList, Default: "{ADMIN},arn:aws:iam::aws:policy/ReadOnlyAccess"}}
  FromSsm: {{Type: "AWS::SSM::Parameter::Value<String>", Default: /org/policy}}
  Env: {{Type: String, Default: prod}}
  Name: {{Type: String, Default: ReadOnlyAccess, AllowedValues: [ReadOnlyAccess, PowerUserAccess]}}
  ReadOnly: {{Type: String, Default: ReadOnlyAccess}}
  SsmName: {{Type: "AWS::SSM::Parameter::Value<String>", Default: /org/name}}
Conditions:
  Big: !Equals [!Ref Env, prod]
Mappings:
  Policies:
    prod: {{Arn: "{ADMIN}"}}
    dev: {{Arn: arn:aws:iam::aws:policy/ReadOnlyAccess}}
Resources:
  Mine:
    Type: AWS::IAM::ManagedPolicy
    Properties: {{PolicyDocument: {{Version: "2012-10-17", Statement: []}}}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
      ManagedPolicyArns: ARNS
"""


def intrinsic_findings(tmp_path: Path, arns: str) -> list[tuple[str | None, Severity, str]]:
    path = tmp_path / "role.yaml"
    path.write_text(INTRINSIC_FORMS.replace("ARNS", arns), encoding="utf-8")
    body = load_template_file(path).body
    found = RULES["IAMManagedPolicy"].run(Template(body))
    return sorted((f.finding_id, f.severity, f.path) for f in found)


ERROR = Severity.ERROR
AT = "Properties/ManagedPolicyArns"


@pytest.mark.parametrize(
    ("arns", "expected"),
    [
        pytest.param("[!Ref Admin]", [("Policy::AdministratorAccess", ERROR, f"{AT}/0")], id="ref"),
        pytest.param(
            "[!Ref Chosen]", [("Policy::DeployTimeName", ERROR, f"{AT}/0")], id="ref-no-default"
        ),
        pytest.param(
            "[!Ref FromSsm]", [("Policy::DeployTimeName", ERROR, f"{AT}/0")], id="ref-ssm"
        ),
        pytest.param(
            "!Ref Many",
            [
                ("Policy::AdministratorAccess", ERROR, AT),
                ("Policy::ReadOnlyAccess", Severity.WARNING, AT),
            ],
            id="comma-delimited-list",
        ),
        pytest.param(
            f'!If [Big, ["{ADMIN}"], []]', [("Policy::AdministratorAccess", ERROR, AT)], id="if"
        ),
        pytest.param(
            f'!Split [",", "{ADMIN}"]', [("Policy::AdministratorAccess", ERROR, AT)], id="split"
        ),
        pytest.param(
            "[!FindInMap [Policies, prod, Arn]]",
            [("Policy::AdministratorAccess", ERROR, f"{AT}/0")],
            id="find-in-map",
        ),
        pytest.param(
            "[!FindInMap [Policies, !Ref Env, Arn], !FindInMap [Policies, test, Arn]]",
            [
                ("Policy::AdministratorAccess", ERROR, f"{AT}/0"),
                ("Policy::DeployTimeName", ERROR, f"{AT}/1"),
            ],
            id="find-in-map-keyed-by-a-parameter-and-an-unknown-entry",
        ),
        pytest.param(
            "[!FindInMap [Policies, !Ref AWS::Region, Arn]]",
            [
                ("Policy::AdministratorAccess", ERROR, f"{AT}/0"),
                ("Policy::ReadOnlyAccess", Severity.WARNING, f"{AT}/0"),
            ],
            id="find-in-map-keyed-at-deploy-time",
        ),
        pytest.param(
            f'[!Select [0, ["{ADMIN}", !Ref Mine]]]',
            [("Policy::AdministratorAccess", ERROR, f"{AT}/0")],
            id="select",
        ),
        pytest.param(
            "[!ImportValue SharedPolicyArn]",
            [("Policy::DeployTimeName", ERROR, f"{AT}/0")],
            id="import-value",
        ),
        pytest.param(
            '[!Sub "${Admin}"]', [("Policy::AdministratorAccess", ERROR, f"{AT}/0")], id="sub"
        ),
        pytest.param(
            '[!Sub "arn:${AWS::Partition}:iam::aws:policy/${Name}"]',
            [
                ("Policy::PowerUserAccess", ERROR, f"{AT}/0"),
                ("Policy::ReadOnlyAccess", Severity.WARNING, f"{AT}/0"),
            ],
            id="sub-of-a-parameter-with-allowed-values",
        ),
        pytest.param(
            '[!Join ["", ["arn:", !Ref AWS::Partition, ":iam::aws:policy/", !Ref SsmName]]]',
            [("Policy::DeployTimeName", ERROR, f"{AT}/0")],
            id="join-of-an-ssm-parameter",
        ),
    ],
)
def test_fails_on_every_intrinsic_form_of_managed_policy_arns(
    tmp_path: Path, arns: str, expected: list[tuple[str, Severity, str]]
) -> None:
    assert intrinsic_findings(tmp_path, arns) == expected


def test_a_customer_managed_policy_of_the_template_is_not_flagged(tmp_path: Path) -> None:
    # CDK writes a Ref to an AWS::IAM::ManagedPolicy of the same stack on every role
    assert intrinsic_findings(tmp_path, "[!Ref Mine, !GetAtt Mine.PolicyArn]") == []
    assert intrinsic_findings(tmp_path, "[!Select [1, [!Ref Admin, !Ref Mine]]]") == []
    assert intrinsic_findings(tmp_path, "!If [Big, [!Ref Mine], !Ref AWS::NoValue]") == []


def test_a_read_only_managed_policy_in_an_intrinsic_is_a_warning(tmp_path: Path) -> None:
    assert intrinsic_findings(tmp_path, "[!FindInMap [Policies, dev, Arn]]") == [
        ("Policy::ReadOnlyAccess", Severity.WARNING, f"{AT}/0")
    ]
    # a parameter with a read-only default, in a Join: the default is judged, nothing else
    join = '[!Join ["", ["arn:", !Ref AWS::Partition, ":iam::aws:policy/", !Ref ReadOnly]]]'
    assert intrinsic_findings(tmp_path, join) == [
        ("Policy::ReadOnlyAccess", Severity.WARNING, f"{AT}/0")
    ]
