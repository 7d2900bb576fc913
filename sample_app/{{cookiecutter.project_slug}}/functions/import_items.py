"""SQS ItemImports -> items table. This function's role may only write the table (PutItem).

Each message body is a NewItem (functions/schemas/new_item.json); an invalid or failing message
is reported as a batch item failure, so only it returns to the queue, and after three receives
the queue's redrive policy moves it to the dead-letter queue (whose alarm pages a person).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_lambda_powertools.utilities.validation import validate

from api_common import load_schema, logger, table, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def import_record(record: SQSRecord) -> None:
    """Validate one message against the NewItem schema and write it (raises on failure)."""
    body = json.loads(record.body)
    validate(event=body, schema=load_schema("new_item.json"))
    item = {
        "id": str(uuid.uuid4()),
        "name": body["name"],
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
        **{k: body[k] for k in ("description", "quantity") if k in body},
    }
    table().put_item(
        Item=item,
        ConditionExpression="attribute_not_exists(#id)",
        ExpressionAttributeNames={"#id": "id"},
    )
    logger.info("item imported", extra={"item_id": item["id"]})


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=import_record, processor=processor, context=context
    )
