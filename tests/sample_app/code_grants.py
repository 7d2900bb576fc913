"""The sample app's code against its grants, checked on the cloud assembly the synth test makes
(so the app is synthesized once): every function calls exactly what it is granted, and a
planted unused grant and a planted ungranted call are both reported where they are."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from secure_constructs.audit.cli import resolvers
from secure_constructs.audit.code_calls.compare import FunctionCheck, check_stacks
from secure_constructs.audit.sources import load

FUNCTIONS = {"GetItem", "CreateItem", "ShareLink", "RotateSigningKey"}


def _checks(assembly: Path) -> dict[str, FunctionCheck]:
    inputs = load([assembly])
    found = {}
    for check in check_stacks(inputs.stacks, resolvers(inputs.stacks)):
        name = next((f for f in FUNCTIONS if check.function.startswith(f)), None)
        if name:
            found[name] = check
    assert set(found) == FUNCTIONS
    return found


def assert_code_matches_grants(assembly: Path) -> None:
    expected = {
        "GetItem": {"dynamodb:GetItem"},
        "CreateItem": {"dynamodb:PutItem"},
        "ShareLink": {"secretsmanager:GetSecretValue"},
        "RotateSigningKey": {
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
        },
    }
    for name, check in _checks(assembly).items():
        assert check.code.analysed, check.code.not_analysed
        assert check.missing == [] and check.unused == [] and check.code.unresolved == []
        assert set(check.called) == expected[name]
        # granted = called + what Lambda itself uses + the rest of one CDK grant bundle
        by_lambda = {p.action for p in check.platform}
        bundled = {b.action for b in check.bundled}
        assert set(check.granted) == set(check.called) | by_lambda | bundled, name
        assert bundled == ({"secretsmanager:DescribeSecret"} if name == "ShareLink" else set())


def assert_planted_mismatches_are_reported(assembly: Path, scratch: Path) -> None:
    copy = scratch / "cdk.out"
    shutil.copytree(assembly, copy)
    template_path = copy / "ItemsService.template.json"
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    policy_id = next(k for k in resources if k.startswith("GetItemServiceRolePolicy"))
    table_id = next(
        k
        for k in resources
        if k.startswith("Items") and resources[k]["Type"] == "AWS::DynamoDB::Table"
    )
    statements = resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    statements.append(
        {
            "Action": "dynamodb:DeleteItem",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "Arn"]},
        }
    )
    template_path.write_text(json.dumps(template))
    asset = next(p for p in copy.glob("asset.*") if (p / "get_item.py").is_file())
    handler = asset / "get_item.py"
    lines = handler.read_text().splitlines()
    lines += ["", "", "def purge() -> None:", "    table().scan()", ""]
    handler.write_text("\n".join(lines))
    scan_line = len(lines) - 1

    check = _checks(copy)["GetItem"]
    assert [(u.action, u.statement) for u in check.unused] == [
        ("dynamodb:DeleteItem", f"{policy_id} Statement[{len(statements) - 1}]")
    ]
    assert [(m.action, m.call.where) for m in check.missing] == [
        ("dynamodb:Scan", f"get_item.py:{scan_line}")
    ]
