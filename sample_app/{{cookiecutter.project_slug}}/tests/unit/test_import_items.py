"""ImportItems: valid messages are written, invalid ones are reported as batch item failures."""

from __future__ import annotations

import json
from typing import Any

import import_items


def _record(message_id: str, body: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "h",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:imports",
        "awsRegion": "us-east-1",
    }


def test_only_the_invalid_message_is_reported_as_failed(table: Any, context: Any) -> None:
    event = {"Records": [_record("ok", {"name": "chair"}), _record("bad", {"nope": 1})]}
    result = import_items.handler(event, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert [item["name"] for item in table.scan()["Items"]] == ["chair"]
