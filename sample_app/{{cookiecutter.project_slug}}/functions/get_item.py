"""GET /items/{id}: one item. This function's role may only read the table (GetItem)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_common import (
    client_error,
    invalid_request,
    item_id_from,
    logger,
    metrics,
    respond,
    server_error,
    table,
    tracer,
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item_id = item_id_from(event)
    if item_id is None:
        return invalid_request("the path parameter is not an item id", field="id")
    try:
        # A key lookup, not an expression: nothing from the request is parsed by DynamoDB.
        item = table().get_item(Key={"id": item_id}).get("Item")
    except Exception:
        logger.exception("GetItem failed")
        return server_error(context)
    if item is None:
        return client_error(404, "item not found")
    metrics.add_metric(name="ItemsRead", unit=MetricUnit.Count, value=1)
    return respond(200, item)
