"""`secure-constructs permissions`: who can reach each resource (resource-based policies, Lambda
permissions) and who can become each role (trust policies), and the baseline gate failing when
one widens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.cli import resolvers
from secure_constructs.audit.permissions import Reachable, permissions
from secure_constructs.audit.permissions.reach import EVERYONE
from secure_constructs.audit.sources import load
from tests.audit.helpers import run

ROOT = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
THIS_ROOT = "AWS arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


def _write(tmp_path: Path, resources: dict[str, Any]) -> Path:
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


def _reach(tmp_path: Path, resources: dict[str, Any]) -> dict[str, Reachable]:
    inputs = load([_write(tmp_path, resources)])
    report = permissions(inputs.stacks, resolvers(inputs.stacks))
    return {("trust " if r.trust else "") + r.logical_id: r for r in report.reach}


def _statement(principal: Any, action: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SOURCE = {"ArnLike": {"aws:SourceArn": {"Fn::GetAtt": ["Topic", "Arn"]}}}
CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "Key",
        {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": _doc(_statement(ROOT, "kms:*"))},
            }
        },
        THIS_ROOT,
    ),
    (
        "Secret",
        {
            "Secret": {"Type": "AWS::SecretsManager::Secret"},
            "SecretPolicy": {
                "Type": "AWS::SecretsManager::ResourcePolicy",
                "Properties": {
                    "SecretId": {"Ref": "Secret"},
                    "ResourcePolicy": _doc(_statement(ROOT, "secretsmanager:GetSecretValue")),
                },
            },
        },
        THIS_ROOT,
    ),
    (
        "Topic",
        {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "TopicPolicy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "Topic"}],
                    "PolicyDocument": _doc(
                        _statement({"Service": "events.amazonaws.com"}, "sns:Publish")
                    ),
                },
            },
        },
        "Service events.amazonaws.com",
    ),
    (
        "Queue",
        {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "QueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Queue"}],
                    "PolicyDocument": _doc(
                        _statement(
                            {"Service": "sns.amazonaws.com"}, "sqs:SendMessage", Condition=SOURCE
                        )
                    ),
                },
            },
        },
        "Service sns.amazonaws.com",
    ),
    (
        "Bucket",
        {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": _doc(_statement(ROOT, "s3:GetObject")),
                },
            },
        },
        THIS_ROOT,
    ),
    (
        "Fn",
        {
            "Fn": {"Type": "AWS::Lambda::Function"},
            "Invoke": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "s3.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            },
        },
        "Service s3.amazonaws.com",
    ),
    (
        "Api",
        {
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Policy": _doc(_statement(ROOT, "execute-api:Invoke"))},
            }
        },
        THIS_ROOT,
    ),
    (
        "LogsPolicy",
        {
            "LogsPolicy": {
                "Type": "AWS::Logs::ResourcePolicy",
                "Properties": {
                    "PolicyName": "es",
                    "PolicyDocument": json.dumps(
                        _doc(_statement({"Service": "es.amazonaws.com"}, "logs:PutLogEvents"))
                    ),
                },
            }
        },
        "Service es.amazonaws.com",
    ),
    (
        "Bus",
        {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
            "BusPolicy": {
                "Type": "AWS::Events::EventBusPolicy",
                "Properties": {
                    "EventBusName": {"Ref": "Bus"},
                    "StatementId": "s",
                    "Statement": _statement(
                        {"AWS": "222222222222"},
                        "events:PutEvents",
                        Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
                    ),
                },
            },
        },
        "AWS 222222222222",
    ),
    (
        "trust Role",
        {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _doc(
                        _statement({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")
                    )
                },
            }
        },
        "Service lambda.amazonaws.com",
    ),
]


@pytest.mark.parametrize(("target", "resources", "principal"), CASES, ids=[c[0] for c in CASES])
def test_every_resource_policy_type_and_trust_lists_who_can_reach_it(
    tmp_path: Path, target: str, resources: dict[str, Any], principal: str
) -> None:
    reach = _reach(tmp_path, resources)
    assert target in reach, sorted(reach)
    accesses = reach[target].accesses
    assert [a.principal for a in accesses] == [principal]
    assert accesses[0].flags == ()  # each case is a compliant grant


def test_conditions_and_the_policy_are_rendered(tmp_path: Path) -> None:
    (_, resources, _) = next(c for c in CASES if c[0] == "Queue")
    (access,) = _reach(tmp_path, resources)["Queue"].accesses
    assert access.conditions == (
        "ArnLike aws:SourceArn=arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:<Topic>",
    )
    assert access.actions == ("sqs:SendMessage",)
    assert access.policy == "QueuePolicy.Properties/PolicyDocument/Statement/0"
    (_, resources, _) = next(c for c in CASES if c[0] == "Fn")
    (permission,) = _reach(tmp_path, resources)["Fn"].accesses
    assert permission.conditions == ("StringEquals aws:SourceAccount=${AWS::AccountId}",)


def _queue(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": _doc(*statements)},
        },
    }


@pytest.mark.parametrize(
    ("statement", "flag"),
    [
        (_statement("*", "sqs:SendMessage"), EVERYONE),
        (_statement({"AWS": "*"}, "sqs:SendMessage"), EVERYONE),
        (  # kms:ViaService-like keys do not say who calls: still open (policy_facts)
            _statement("*", "sqs:SendMessage", Condition={"Bool": {"aws:SecureTransport": "true"}}),
            EVERYONE,
        ),
        (
            _statement(
                {"Service": "sns.amazonaws.com"},
                "sqs:SendMessage",
                Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
            ),
            "aws:SourceArn arn:aws:sns:*:*:* matches every account's resources",
        ),
        (_statement({"AWS": "333333333333"}, "sqs:*"), "wildcard action"),
        (_statement({"AWS": "333333333333"}, "sqs:SendMessage"), "account 333333333333"),
        (
            {"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "sqs:*", "Resource": "*"},
            "NotPrincipal",
        ),
    ],
)
def test_open_grants_are_flagged(tmp_path: Path, statement: dict[str, Any], flag: str) -> None:
    (access,) = _reach(tmp_path, _queue(statement))["Queue"].accesses
    assert any(f.startswith(flag) for f in access.flags), access.flags


def test_everyone_pinned_to_the_organization_is_not_flagged(tmp_path: Path) -> None:
    pinned = _statement(
        "*", "sqs:SendMessage", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    )
    (access,) = _reach(tmp_path, _queue(pinned))["Queue"].accesses
    assert access.flags == ()
    assert access.conditions == ("StringEquals aws:PrincipalOrgID=o-abc123",)


def _trust(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": _doc(statement)},
        }
    }


def test_trust_of_another_account_needs_an_external_id_and_web_identity_aud_and_sub(
    tmp_path: Path,
) -> None:
    other = {"AWS": "arn:aws:iam::444444444444:root"}
    (open_,) = _reach(tmp_path, _trust(_statement(other, "sts:AssumeRole")))["trust Role"].accesses
    assert any("without sts:ExternalId" in f for f in open_.flags)
    guarded = _statement(
        other, "sts:AssumeRole", Condition={"StringEquals": {"sts:ExternalId": "x1"}}
    )
    (ok,) = _reach(tmp_path, _trust(guarded))["trust Role"].accesses
    assert ok.flags == ()
    github = {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}
    web = _statement(github, "sts:AssumeRoleWithWebIdentity")
    (federated,) = _reach(tmp_path, _trust(web))["trust Role"].accesses
    assert "web-identity trust without an aud and a sub condition" in federated.flags


def test_text_markdown_and_json_show_who_can_reach_and_become(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        {
            **_queue(_statement("*", "sqs:SendMessage")),
            **_trust(_statement({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")),
        },
    )
    text = run(capsys, "permissions", path).out
    assert "who can reach Queue (AWS::SQS::Queue, " in text and "[1 flagged]" in text
    assert "    *: sqs:SendMessage" in text and f"! {EVERYONE}" in text
    assert "who can become role Role (" in text
    assert "    Service lambda.amazonaws.com: sts:AssumeRole" in text
    markdown = run(capsys, "permissions", path, "--format", "markdown").out
    assert "| Allow | * | `sqs:SendMessage` |" in markdown
    data = json.loads(run(capsys, "permissions", path, "--format", "json").out)
    (queue,) = [r for r in data["reach"] if r["logical_id"] == "Queue"]
    assert queue["relationship"] == "resource policy"
    assert queue["accesses"][0]["principal"] == "*" and EVERYONE in queue["accesses"][0]["flags"]
    (role,) = [r for r in data["reach"] if r["logical_id"] == "Role"]
    assert role["relationship"] == "trust"


# -- baseline gate ----------------------------------------------------------------------------

SNS = {"Service": "sns.amazonaws.com"}
PINNED = {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:111111111111:t"}}
TLS_DENY = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "sqs:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
BEFORE = [_statement(SNS, "sqs:SendMessage", Condition=PINNED), TLS_DENY]


def _gate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, after: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    baseline = tmp_path / "baseline.json"
    path = _write(tmp_path, _queue(*BEFORE))
    assert run(capsys, "permissions", path, "--write-baseline", baseline).code == 0
    assert run(capsys, "permissions", path, "--baseline", baseline).code == 0
    _write(tmp_path, _queue(*after))
    result = run(capsys, "permissions", path, "--baseline", baseline, "--format", "json")
    return result.code, json.loads(result.out)["baseline"]


@pytest.mark.parametrize(
    ("after", "widened"),
    [
        (  # a new principal
            [*BEFORE, _statement({"Service": "events.amazonaws.com"}, "sqs:SendMessage")],
            "Service events.amazonaws.com",
        ),
        ([_statement("*", "sqs:SendMessage", Condition=PINNED), TLS_DENY], "*"),  # to everyone
        (  # to another account
            [
                BEFORE[0],
                _statement({"AWS": "arn:aws:iam::999999999999:root"}, "sqs:SendMessage"),
                TLS_DENY,
            ],
            "AWS arn:aws:iam::999999999999:root",
        ),
        ([_statement(SNS, "sqs:SendMessage"), TLS_DENY], "Service sns.amazonaws.com"),  # condition
        (  # a new action
            [_statement(SNS, ["sqs:SendMessage", "sqs:PurgeQueue"], Condition=PINNED), TLS_DENY],
            "Service sns.amazonaws.com",
        ),
        ([BEFORE[0]], "AWS *"),  # the TLS-only deny removed
    ],
    ids=[
        "new-principal",
        "to-everyone",
        "to-another-account",
        "condition-removed",
        "new-action",
        "deny-removed",
    ],
)
def test_baseline_gate_fails_when_access_widens(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    after: list[dict[str, Any]],
    widened: str,
) -> None:
    code, diff = _gate(capsys, tmp_path, after)
    assert code == 1
    assert [w["principal"] for w in diff["widened"]] == [widened], diff["widened"]
    assert all(w["resource"] == "app/Queue" for w in diff["widened"])


def test_baseline_gate_passes_when_access_narrows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    narrower = {
        "ArnEquals": PINNED["ArnEquals"],
        "StringEquals": {"aws:SourceAccount": "111111111111"},
    }
    code, diff = _gate(
        capsys, tmp_path, [_statement(SNS, "sqs:SendMessage", Condition=narrower), TLS_DENY]
    )
    assert code == 0
    assert diff["widened"] == [] and diff["growth"] == []
    assert [n["principal"] for n in diff["narrowed"]] == ["Service sns.amazonaws.com"] * 2


def test_the_widened_access_is_named_in_the_text_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    path = _write(tmp_path, _queue(*BEFORE))
    run(capsys, "permissions", path, "--write-baseline", baseline)
    _write(tmp_path, _queue(_statement("*", "sqs:SendMessage"), TLS_DENY))
    result = run(capsys, "permissions", path, "--baseline", baseline)
    assert result.code == 1
    assert "baseline: access WIDENED (1), failing the gate:" in result.out
    assert "+ app/Queue  <- *  sqs:SendMessage on *" in result.out


def test_baseline_gate_fails_when_a_trust_policy_opens_to_everyone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    lambda_only = _statement({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")
    del lambda_only["Resource"]  # trust statements name no resource
    path = _write(tmp_path, _trust(lambda_only))
    run(capsys, "permissions", path, "--write-baseline", baseline)
    anyone = {**lambda_only, "Principal": {"AWS": "*"}}
    _write(tmp_path, _trust(anyone))
    result = run(capsys, "permissions", path, "--baseline", baseline, "--format", "json")
    assert result.code == 1
    (widened,) = json.loads(result.out)["baseline"]["widened"]
    assert widened["resource"] == "app/Role" and widened["principal"] == "AWS *"
