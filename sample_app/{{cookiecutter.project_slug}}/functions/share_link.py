"""GET /items/{id}/share: a signed, expiring share token for an item.

This function's role may only read the signing-key secret (and decrypt it through Secrets
Manager); it cannot touch the table. The key is read through Powertools Parameters, which
caches it in memory for POWERTOOLS_PARAMETERS_MAX_AGE seconds (set by the stack to less than
the rotation interval), and is never logged, traced or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_common import invalid_request, item_id_from, logger, metrics, respond, server_error, tracer

TOKEN_TTL_SECONDS = 15 * 60


def signing_key() -> bytes:
    """The current signing key, from the cache or Secrets Manager (never logged)."""
    value = parameters.get_secret(os.environ["SIGNING_KEY_SECRET_ARN"])
    return str(value).encode("utf-8")


def sign(item_id: str, expires_at: int, key: bytes) -> str:
    """`<item id>.<expiry>.<HMAC-SHA256 of both>`: verifiable by anyone holding the key."""
    payload = f"{item_id}.{expires_at}"
    signature = hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item_id = item_id_from(event)
    if item_id is None:
        return invalid_request("the path parameter is not an item id", field="id")
    try:
        key = signing_key()
    except Exception:
        # The exception text may name the secret; it goes to the logs only.
        logger.exception("reading the signing key failed")
        return server_error(context)
    expires_at = int(time.time()) + TOKEN_TTL_SECONDS
    metrics.add_metric(name="ShareLinksIssued", unit=MetricUnit.Count, value=1)
    return respond(
        200, {"itemId": item_id, "expiresAt": expires_at, "token": sign(item_id, expires_at, key)}
    )
