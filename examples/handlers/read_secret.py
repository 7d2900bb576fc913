"""Read a secret through Powertools' in-memory cache, and never log it.

Deployed by `SecureFunction(secrets={"SHARED_TOKEN": secret},
secrets_cache=SecretsCache.powertools(max_age=Duration.minutes(5)))`: the function gets the
secret's ARN in `SHARED_TOKEN_SECRET_ARN` (never its value), read access to exactly that secret,
the Powertools layer, and `POWERTOOLS_PARAMETERS_MAX_AGE=300`, which `parameters.get_secret`
uses as its cache lifetime. A warm function calls Secrets Manager at most once per 5 minutes.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters

SECRET_ARN_VARIABLE = "SHARED_TOKEN_SECRET_ARN"

logger = Logger()


def shared_token() -> str:
    """The secret's current value, from the cache when it is younger than the max age."""
    value = parameters.get_secret(os.environ[SECRET_ARN_VARIABLE])
    return str(value)


@logger.inject_lambda_context(log_event=False)  # the event may carry the caller's token
def handler(event: dict[str, Any], context: Any) -> dict[str, bool]:
    """Accept a caller that presents the shared token (compared in constant time)."""
    presented = event.get("token")
    authorized = isinstance(presented, str) and hmac.compare_digest(
        presented.encode(), shared_token().encode()
    )
    # Log facts about the decision, never the secret or what the caller sent.
    logger.info("Shared token checked", extra={"authorized": authorized})
    return {"authorized": authorized}
