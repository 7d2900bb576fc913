"""A function with its code in a temporary asset folder, and a role granting given actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls.compare import FunctionCheck, check_stacks
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.intrinsics import Resolver

TABLE = {"Fn::GetAtt": ["Table", "Arn"]}


def write_asset(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def template(
    asset: Path | None,
    statements: Sequence[Mapping[str, Any]],
    *,
    env: Mapping[str, Any] | None = None,
    function: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Runtime": "python3.14",
        "Handler": "handler.handler",
        "Code": {"S3Bucket": "b", "S3Key": "k.zip"},
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}, **(env or {})}},
        **(function or {}),
    }
    fn: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": props}
    if asset is not None:
        fn["Metadata"] = {"aws:asset:path": str(asset)}
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Other": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {"Statement": list(statements)},
                },
            },
            "Fn": fn,
        }
    }


def allow(actions: Sequence[str], resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


def check(body: Mapping[str, Any], tmp_path: Path) -> FunctionCheck:
    stack = StackSource("S", body, tmp_path / "S.template.json", assembly=tmp_path)
    (result,) = check_stacks([stack], {"S": Resolver(body)})
    return result
