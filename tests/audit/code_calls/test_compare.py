"""The comparison: the grant on the resource the call acts on, Lambda's own uses, CDK's grant
bundles, and code that cannot be analysed (never clean)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.code_calls.helpers import TABLE, allow, check, template, write_asset

PUT = {
    "handler.py": "import os, boto3\n"
    "table = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n"
    "def handler(e, c):\n    table.put_item(Item={})\n"
}


def test_fails_when_the_grant_is_on_another_resource(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    other = {"Fn::GetAtt": ["Other", "Arn"]}
    result = check(template(asset, [allow(["dynamodb:PutItem"], other)]), tmp_path)
    (missing,) = result.missing
    assert missing.action == "dynamodb:PutItem"
    assert missing.call.where == "handler.py:4"
    assert "granted only on other resources (Policy Statement[0])" in missing.reason
    assert [(u.action, u.statement) for u in result.unused] == [
        ("dynamodb:PutItem", "Policy Statement[0]")
    ]


def test_grant_on_the_env_resource_is_used(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    result = check(template(asset, [allow(["dynamodb:PutItem"], [TABLE])]), tmp_path)
    assert result.missing == [] and result.unused == []


def test_fails_when_the_environment_variable_is_not_set(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    body = template(asset, [allow(["dynamodb:PutItem"], [TABLE])])
    del body["Resources"]["Fn"]["Properties"]["Environment"]
    (missing,) = check(body, tmp_path).missing
    assert "no environment variable TABLE_NAME" in missing.reason


def test_unused_grant_names_its_statement_and_resource(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    statements = [allow(["dynamodb:PutItem"], [TABLE]), allow(["dynamodb:DeleteItem"], [TABLE])]
    result = check(template(asset, statements), tmp_path)
    (unused,) = result.unused
    assert (unused.action, unused.statement) == ("dynamodb:DeleteItem", "Policy Statement[1]")
    assert "Table" in unused.resources


def test_wildcard_grant_counts_as_used_by_a_matching_call(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    result = check(template(asset, [allow(["dynamodb:*Item"], [TABLE])]), tmp_path)
    assert result.missing == [] and result.unused == []


def test_lambda_s_own_uses_are_not_unused(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    statements = [
        allow(["dynamodb:PutItem"], [TABLE]),
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:*"),
        allow(["xray:PutTraceSegments"]),
        allow(["sqs:SendMessage"], {"Fn::GetAtt": ["Dlq", "Arn"]}),
        {
            **allow(["kms:Decrypt"], {"Fn::GetAtt": ["Key", "Arn"]}),
            "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}},
        },
    ]
    body = template(
        asset,
        statements,
        function={"DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    )
    result = check(body, tmp_path)
    assert result.unused == [] and result.missing == []
    assert {p.action for p in result.platform} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "sqs:SendMessage",
        "kms:Decrypt",
    }


def test_fails_when_kms_via_a_service_the_code_never_calls(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    kms = {
        **allow(["kms:Decrypt"], {"Fn::GetAtt": ["Key", "Arn"]}),
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
    }
    result = check(template(asset, [allow(["dynamodb:PutItem"], [TABLE]), kms]), tmp_path)
    assert [u.action for u in result.unused] == ["kms:Decrypt"]


def test_sends_to_an_unrelated_queue_are_unused(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    statements = [
        allow(["dynamodb:PutItem"], [TABLE]),
        allow(["sqs:SendMessage"], {"Fn::GetAtt": ["Q", "Arn"]}),
    ]
    result = check(template(asset, statements), tmp_path)
    assert [u.action for u in result.unused] == ["sqs:SendMessage"]


def test_cdk_grant_bundle_extras_are_bundled_not_unused(tmp_path: Path) -> None:
    files = {
        "handler.py": "import os\nfrom aws_lambda_powertools.utilities import parameters\n"
        "def handler(e, c):\n    parameters.get_secret(os.environ['SECRET_ARN'])\n"
    }
    asset = write_asset(tmp_path / "a", files)
    statements = [
        allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], {"Ref": "Secret"})
    ]
    body = template(asset, statements, env={"SECRET_ARN": {"Ref": "Secret"}})
    result = check(body, tmp_path)
    assert result.unused == [] and result.missing == []
    assert [(b.action, b.why) for b in result.bundled] == [
        ("secretsmanager:DescribeSecret", "CDK's ISecret.grant_read")
    ]


def test_a_bundle_the_code_never_uses_is_unused(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    statements = [
        allow(["dynamodb:PutItem"], [TABLE]),
        allow(
            ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], {"Ref": "Secret"}
        ),
    ]
    result = check(template(asset, statements), tmp_path)
    assert {u.action for u in result.unused} == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ({"Runtime": "nodejs22.x"}, "runtime 'nodejs22.x' is not Python"),
        ({"PackageType": "Image"}, "a container image"),
        ({"Code": {"ZipFile": "def handler(e, c): pass"}}, "inline code"),
    ],
)
def test_code_that_cannot_be_read_is_not_analysed(
    function: dict, reason: str, tmp_path: Path
) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    result = check(template(asset, [allow(["dynamodb:DeleteItem"])], function=function), tmp_path)
    assert not result.code.analysed
    assert reason in (result.code.not_analysed or "")
    assert result.unused == [] and result.missing == []  # not analysed is never "clean"


def test_unparseable_handler_is_not_analysed(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", {"handler.py": "def handler(:\n"})
    result = check(template(asset, []), tmp_path)
    assert "handler.py cannot be parsed" in (result.code.not_analysed or "")


def test_unparseable_imported_module_is_not_analysed(tmp_path: Path) -> None:
    files = {
        "handler.py": "import helpers\ndef handler(e, c):\n    pass\n",
        "helpers.py": "x = (\n",
    }
    result = check(template(write_asset(tmp_path / "a", files), []), tmp_path)
    assert "helpers.py cannot be parsed" in (result.code.not_analysed or "")


def test_zip_file_asset_is_not_analysed(tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    archive.write_bytes(b"PK")
    result = check(template(archive, []), tmp_path)
    assert "zip-file asset" in (result.code.not_analysed or "")


def test_asset_found_through_the_assets_manifest(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "asset.abc", PUT)
    manifest = {"files": {"abc": {"source": {"path": asset.name, "packaging": "zip"}}}}
    (tmp_path / "S.assets.json").write_text(json.dumps(manifest))
    body = template(
        None, [allow(["dynamodb:PutItem"], [TABLE])], function={"Code": {"S3Key": "abc.zip"}}
    )
    result = check(body, tmp_path)
    assert result.code.analysed and result.called == ["dynamodb:PutItem"]


def _queue_source(body: dict, key: bool) -> dict:
    resources = body["Resources"]
    resources["Source"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}} if key else {},
    }
    resources["Mapping"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": "Fn"},
            "EventSourceArn": {"Fn::GetAtt": ["Source", "Arn"]},
        },
    }
    return body


def test_cdk_sqs_source_grant_and_its_key_are_lambda_s_own_use(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    source = {"Fn::GetAtt": ["Source", "Arn"]}
    consume = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
    statements = [
        allow(["dynamodb:PutItem"], [TABLE]),
        allow([*consume, "sqs:DeleteMessage", "sqs:GetQueueAttributes"], source),
        allow(["kms:Decrypt"], {"Fn::GetAtt": ["Key", "Arn"]}),
    ]
    result = check(_queue_source(template(asset, statements), key=True), tmp_path)
    assert result.unused == [] and result.missing == []
    assert "kms:Decrypt" in {p.action for p in result.platform}


def test_fails_when_decrypt_is_on_a_key_no_source_uses(tmp_path: Path) -> None:
    asset = write_asset(tmp_path / "a", PUT)
    statements = [
        allow(["dynamodb:PutItem"], [TABLE]),
        allow(["kms:Decrypt"], {"Fn::GetAtt": ["Key", "Arn"]}),
    ]
    result = check(_queue_source(template(asset, statements), key=False), tmp_path)
    assert [u.action for u in result.unused] == ["kms:Decrypt"]
