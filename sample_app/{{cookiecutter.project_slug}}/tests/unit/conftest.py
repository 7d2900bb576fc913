"""Fixtures for the handler tests: a moto DynamoDB table and Secrets Manager secret."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

TABLE_NAME = "items-test"


@dataclass
class FakeContext:
    """The attributes of the Lambda context that Powertools' Logger reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    resource = boto3.resource("dynamodb")
    created = resource.create_table(
        TableName=TABLE_NAME,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    import create_item
    import get_item

    get_item.table.cache_clear()
    create_item.table.cache_clear()
    return created


@pytest.fixture
def signing_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    arn = boto3.client("secretsmanager").create_secret(Name="signing-key", SecretString="k" * 64)[
        "ARN"
    ]
    monkeypatch.setenv("SIGNING_KEY_SECRET_ARN", arn)
    return str(arn)


def api_event(
    *, path_id: str | None = None, body: Any = None, raw_body: str | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event with a correlation id."""
    return {
        "resource": "/items",
        "httpMethod": "POST" if body is not None or raw_body is not None else "GET",
        "pathParameters": {"id": path_id} if path_id is not None else None,
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": str(uuid.uuid4())},
        "body": raw_body
        if raw_body is not None
        else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }
