"""POST /items: create an item. This function's role may only write the table (PutItem).

The body is validated twice with the same file, functions/schemas/new_item.json: by API Gateway
(the request model built from it) and here, so a direct invocation is held to the same rules.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from api_common import (
    invalid_request,
    load_schema,
    logger,
    metrics,
    respond,
    server_error,
    table,
    tracer,
)

SCHEMA_FILE = "new_item.json"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = _json_body(event)
    if not isinstance(body, dict):
        return invalid_request("the body must be a JSON object")
    try:
        validate(event=body, schema=load_schema(SCHEMA_FILE))
    except SchemaValidationError as error:
        # Which field and which rule, never the value that was sent.
        field = (error.name or "").removeprefix("data").lstrip(".")
        return invalid_request(
            "the body does not match the NewItem schema",
            field=field,
            rule=str(error.rule or ""),
        )

    item = {
        "id": str(uuid.uuid4()),
        "name": body["name"],
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for optional in ("description", "quantity"):
        if optional in body:
            item[optional] = body[optional]
    try:
        # Values travel as parameters; the condition names the attribute through a placeholder.
        table().put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(#id)",
            ExpressionAttributeNames={"#id": "id"},
        )
    except Exception:
        logger.exception("PutItem failed")
        return server_error(context)
    metrics.add_metric(name="ItemsCreated", unit=MetricUnit.Count, value=1)
    logger.info("item created", extra={"item_id": item["id"]})
    return respond(201, item, Location=f"/items/{item['id']}")


def _json_body(event: dict[str, Any]) -> Any:
    raw = event.get("body")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        return json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
