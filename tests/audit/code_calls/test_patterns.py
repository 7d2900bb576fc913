"""Each call pattern: the actions it needs are found, then missing when the role lacks them
(non-compliant) and neither missing nor unused when the role grants exactly them (compliant)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_constructs.audit.code_calls.parse import analyse
from tests.audit.code_calls.helpers import allow, check, template, write_asset

PATTERNS: dict[str, tuple[dict[str, str], set[str]]] = {
    "module-level client": (
        {
            "handler.py": "import boto3\nsqs = boto3.client('sqs')\n"
            "def handler(e, c):\n    sqs.send_message(QueueUrl='u', MessageBody='b')\n"
        },
        {"sqs:SendMessage"},
    ),
    "client in a local variable": (
        {
            "handler.py": "import boto3\ndef handler(e, c):\n    sns = boto3.client('sns')\n"
            "    sns.publish(TopicArn='t', Message='m')\n"
        },
        {"sns:Publish"},
    ),
    "from-import and a Session": (
        {
            "handler.py": "from boto3 import Session\ndef handler(e, c):\n"
            "    Session().client('kinesis').put_record(StreamName='s', Data=b'',"
            " PartitionKey='p')\n"
        },
        {"kinesis:PutRecord"},
    ),
    "cached helper in the same module": (
        {
            "handler.py": "import functools, boto3\n@functools.cache\ndef client():\n"
            "    return boto3.client('secretsmanager')\n"
            "def handler(e, c):\n    sm = client()\n    sm.get_secret_value(SecretId='x')\n"
        },
        {"secretsmanager:GetSecretValue"},
    ),
    "helper in another module of the asset": (
        {
            "common.py": "import os, boto3\ndef table():\n"
            "    return boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n",
            "handler.py": "from common import table\ndef handler(e, c):\n"
            "    table().update_item(Key={})\n",
        },
        {"dynamodb:UpdateItem"},
    ),
    "resource sub-object": (
        {
            "handler.py": "import os, boto3\nTABLE = boto3.resource('dynamodb').Table("
            "os.environ.get('TABLE_NAME'))\ndef handler(e, c):\n    TABLE.query()\n"
        },
        {"dynamodb:Query"},
    ),
    "Bucket.upload_file": (
        {
            "handler.py": "import boto3\ndef handler(e, c):\n"
            "    boto3.resource('s3').Bucket('b').upload_file('/tmp/f', 'k')\n"
        },
        {"s3:PutObject", "s3:AbortMultipartUpload"},
    ),
    "client.download_file": (
        {
            "handler.py": "import boto3\ns3 = boto3.client('s3')\ndef handler(e, c):\n"
            "    s3.download_file('b', 'k', '/tmp/f')\n"
        },
        {"s3:GetObject"},
    ),
    "meta.client": (
        {
            "handler.py": "import boto3\ndef handler(e, c):\n"
            "    boto3.resource('s3').meta.client.list_objects_v2(Bucket='b')\n"
        },
        {"s3:ListBucket"},
    ),
    "paginator": (
        {
            "handler.py": "import boto3\ns3 = boto3.client('s3')\ndef handler(e, c):\n"
            "    for page in s3.get_paginator('list_objects_v2').paginate(Bucket='b'):\n"
            "        pass\n"
        },
        {"s3:ListBucket"},
    ),
    "waiter": (
        {
            "handler.py": "import boto3\ndef handler(e, c):\n"
            "    boto3.client('dynamodb').get_waiter('table_exists').wait(TableName='t')\n"
        },
        {"dynamodb:DescribeTable"},
    ),
    "batch_writer": (
        {
            "handler.py": "import os, boto3\ndef handler(e, c):\n"
            "    t = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n"
            "    with t.batch_writer() as batch:\n        batch.put_item(Item={})\n"
        },
        {"dynamodb:BatchWriteItem"},
    ),
    "Powertools parameters": (
        {
            "handler.py": "from aws_lambda_powertools.utilities import parameters\n"
            "def handler(e, c):\n    parameters.get_parameter('/p')\n"
        },
        {"ssm:GetParameter"},
    ),
    "Powertools get_secret from-import": (
        {
            "handler.py": "from aws_lambda_powertools.utilities.parameters import get_secret\n"
            "def handler(e, c):\n    get_secret('s')\n"
        },
        {"secretsmanager:GetSecretValue"},
    ),
    "Powertools provider": (
        {
            "handler.py": "from aws_lambda_powertools.utilities.parameters import SSMProvider\n"
            "ssm = SSMProvider()\ndef handler(e, c):\n    ssm.get_multiple('/p')\n"
        },
        {"ssm:GetParametersByPath"},
    ),
    "Powertools idempotency": (
        {
            "handler.py": "import os\nfrom aws_lambda_powertools.utilities.idempotency import "
            "DynamoDBPersistenceLayer, idempotent\n"
            "layer = DynamoDBPersistenceLayer(table_name=os.environ['TABLE_NAME'])\n"
            "@idempotent(persistence_store=layer)\ndef handler(e, c):\n    return {}\n"
        },
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    ),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_finds_its_actions(name: str, tmp_path: Path) -> None:
    files, actions = PATTERNS[name]
    result = analyse(write_asset(tmp_path, files), "handler.handler")
    assert result.analysed, result.not_analysed
    assert result.unresolved == []
    assert {a for c in result.calls for a in c.actions} == actions


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_fails_when_the_role_lacks_the_pattern_s_actions(name: str, tmp_path: Path) -> None:
    files, actions = PATTERNS[name]
    asset = write_asset(tmp_path / "asset", files)
    result = check(template(asset, [allow(["logs:PutLogEvents"])]), tmp_path)
    assert {m.action for m in result.missing} == actions
    assert all(m.call.file.endswith(".py") and m.call.line > 0 for m in result.missing)
    assert result.unused == []


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_granted_exactly_is_clean(name: str, tmp_path: Path) -> None:
    files, actions = PATTERNS[name]
    asset = write_asset(tmp_path / "asset", files)
    result = check(template(asset, [allow(sorted(actions))]), tmp_path)
    assert result.missing == []
    assert result.unused == []
    assert set(result.called) == actions


def test_batch_utility_calls_nothing(tmp_path: Path) -> None:
    files = {
        "handler.py": "from aws_lambda_powertools.utilities.batch import BatchProcessor, "
        "EventType, process_partial_response\nprocessor = BatchProcessor(EventType.SQS)\n"
        "def handler(e, c):\n    return process_partial_response(e, print, processor, c)\n"
    }
    result = analyse(write_asset(tmp_path, files), "handler.handler")
    assert result.analysed and result.calls == [] and result.unresolved == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            "import boto3\ndef handler(e, c):\n    boto3.client(e['svc']).list_x()\n",
            "the service name is built at run time",
        ),
        (
            "import boto3\ns3 = boto3.client('s3')\ndef handler(e, c):\n"
            "    getattr(s3, e['m'])()\n",
            "the method name is built at run time",
        ),
        (
            "import boto3\ndef handler(e, c):\n    boto3.client('s3').fly_away()\n",
            "'fly_away' is not an operation of s3",
        ),
        (
            "import boto3\ndef handler(e, c):\n"
            "    boto3.client('dynamodb').transact_write_items()\n",
            "needs the actions of its items",
        ),
        (
            "import boto3\ns3 = boto3.client('s3')\ndef handler(e, c):\n"
            "    s3.get_paginator(e['op']).paginate()\n",
            "the paginated operation is built at run time",
        ),
    ],
)
def test_dynamic_calls_are_unresolved_never_guessed(
    source: str, reason: str, tmp_path: Path
) -> None:
    result = analyse(write_asset(tmp_path, {"handler.py": source}), "handler.handler")
    assert result.calls == []
    assert len(result.unresolved) == 1
    assert reason in result.unresolved[0].reason
    assert result.unresolved[0].where == "handler.py:3" or result.unresolved[0].line == 4


def test_client_passed_to_a_helper_as_an_argument(tmp_path: Path) -> None:
    files = {
        "handler.py": "import boto3\ndef handler(e, c):\n    sm = boto3.client('secretsmanager')\n"
        "    _create(sm, e['SecretId'])\n    _finish(client=sm)\n"
        "def _create(client, arn):\n    client.put_secret_value(SecretId=arn)\n"
        "def _finish(client):\n    client.update_secret_version_stage(SecretId='x')\n"
    }
    result = analyse(write_asset(tmp_path, files), "handler.handler")
    assert {(c.where, a) for c in result.calls for a in c.actions} == {
        ("handler.py:7", "secretsmanager:PutSecretValue"),
        ("handler.py:9", "secretsmanager:UpdateSecretVersionStage"),
    }
