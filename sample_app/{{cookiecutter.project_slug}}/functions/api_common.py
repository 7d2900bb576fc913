"""What every API handler shares: Powertools, the schema files, responses that leak nothing."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# Service name, metrics namespace and log level come from the POWERTOOLS_* environment
# variables the stack sets on each function.
logger = Logger()
tracer = Tracer()
metrics = Metrics()

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# Item ids are the UUIDs that POST /items creates; anything else is refused before DynamoDB.
ITEM_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@cache
def table() -> Any:
    """The items table (TABLE_NAME), created once per execution environment."""
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from functions/schemas/ (the file the API's request model is built from)."""
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return schema


def respond(status: int, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**_HEADERS, **headers},
        "body": json.dumps(body, default=_json_default, separators=(",", ":")),
    }


def client_error(status: int, message: str, **details: str) -> dict[str, Any]:
    """A 4xx with a fixed message and, at most, which field and which rule: never the input."""
    return respond(status, {"message": message, **details})


def invalid_request(message: str, **details: str) -> dict[str, Any]:
    """A 400 for a request the handler refuses, counted in the InvalidRequests metric."""
    metrics.add_metric(name="InvalidRequests", unit=MetricUnit.Count, value=1)
    return client_error(400, message, **details)


def server_error(context: Any) -> dict[str, Any]:
    """A 500 that says nothing about the cause (the logs and the trace have it)."""
    return respond(
        500,
        {"message": "internal error", "requestId": getattr(context, "aws_request_id", "")},
    )


def item_id_from(event: dict[str, Any]) -> str | None:
    """The `{id}` path parameter when it is a well-formed item id, else None."""
    value = (event.get("pathParameters") or {}).get("id")
    return value if isinstance(value, str) and ITEM_ID.match(value) else None


def _json_default(value: Any) -> Any:
    # DynamoDB returns every number as Decimal.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
