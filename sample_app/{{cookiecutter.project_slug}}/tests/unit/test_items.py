"""GET /items/{id} and POST /items against a moto table: validation, status codes, clean bodies."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

import api_common
import create_item
import get_item
from tests.unit.conftest import api_event

VALID_ID = "0b6a8d2e-4f1c-4a9e-8d3b-2c1f0e9d8a7b"


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response["body"])
    return result


def test_create_then_get_round_trip(table: Any, context: Any) -> None:
    created = create_item.handler(
        api_event(body={"name": "Widget", "quantity": 3, "description": "blue"}), context
    )
    assert created["statusCode"] == 201
    item = body_of(created)
    assert created["headers"]["Location"] == f"/items/{item['id']}"
    assert item["name"] == "Widget"

    fetched = get_item.handler(api_event(path_id=item["id"]), context)
    assert fetched["statusCode"] == 200
    assert body_of(fetched) == item
    assert fetched["headers"]["Cache-Control"] == "no-store"


def test_get_returns_404_for_an_unknown_item(table: Any, context: Any) -> None:
    response = get_item.handler(api_event(path_id=VALID_ID), context)
    assert response["statusCode"] == 404
    assert body_of(response) == {"message": "item not found"}


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-a-uuid",
        "' OR '1'='1",
        VALID_ID + "x",
        "",
        "0B6A8D2E-4F1C-4A9E-8D3B-2C1F0E9D8A7B",
    ],
)
def test_get_refuses_a_malformed_id_before_dynamodb(table: Any, context: Any, bad_id: str) -> None:
    response = get_item.handler(api_event(path_id=bad_id), context)
    assert response["statusCode"] == 400
    body = body_of(response)
    assert body == {"message": "the path parameter is not an item id", "field": "id"}
    assert bad_id not in response["body"] or bad_id == "", "the input must not be echoed"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({}, "", "required"),
        ({"name": ""}, "name", "minLength"),
        ({"name": "x" * 101}, "name", "maxLength"),
        ({"name": "<script>alert(1)</script>"}, "name", "pattern"),
        ({"name": "ok", "quantity": -1}, "quantity", "minimum"),
        ({"name": "ok", "quantity": "3"}, "quantity", "type"),
        ({"name": "ok", "isAdmin": True}, "", "additionalProperties"),
    ],
)
def test_create_refuses_a_body_that_breaks_the_schema(
    table: Any, context: Any, body: dict[str, Any], field: str, rule: str
) -> None:
    response = create_item.handler(api_event(body=body), context)
    assert response["statusCode"] == 400
    assert body_of(response) == {
        "message": "the body does not match the NewItem schema",
        "field": field,
        "rule": rule,
    }
    assert "<script>" not in response["body"]
    assert table.scan()["Count"] == 0, "nothing is written for an invalid body"


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "null", ""])
def test_create_refuses_a_body_that_is_not_a_json_object(
    table: Any, context: Any, raw: str
) -> None:
    response = create_item.handler(api_event(raw_body=raw), context)
    assert response["statusCode"] == 400
    assert body_of(response) == {"message": "the body must be a JSON object"}


def test_a_dynamodb_failure_is_a_500_without_details(context: Any, monkeypatch: Any) -> None:
    class Broken:
        def put_item(self, **_: Any) -> None:
            raise RuntimeError("arn:aws:dynamodb:secret-internal-detail")

    monkeypatch.setattr(create_item, "table", lambda: Broken())
    response = create_item.handler(api_event(body={"name": "Widget"}), context)
    assert response["statusCode"] == 500
    assert body_of(response) == {"message": "internal error", "requestId": context.aws_request_id}
    assert "secret-internal-detail" not in response["body"]
    assert "Traceback" not in response["body"]


def test_logs_carry_the_correlation_id_and_not_the_body(table: Any, context: Any) -> None:
    stream = io.StringIO()
    previous = api_common.logger.registered_handler.setStream(stream)
    try:
        event = api_event(body={"name": "Widget", "description": "private note"})
        create_item.handler(event, context)
    finally:
        api_common.logger.registered_handler.setStream(previous)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    created = [r for r in records if r.get("message") == "item created"]
    assert created[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert "private note" not in stream.getvalue(), "request bodies are not logged"
