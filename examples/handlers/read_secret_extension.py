"""Read a secret through the AWS Parameters and Secrets Lambda Extension, and never log it.

Deployed by `SecureFunction(secrets={"SHARED_TOKEN": secret},
secrets_cache=SecretsCache.extension(ttl=Duration.minutes(5)))`: the extension layer caches the
value for `SECRETS_MANAGER_TTL` seconds and serves it on localhost to callers that present the
function's session token. Standard library only (no layer needed besides the extension).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import urllib.parse
import urllib.request
from typing import Any

SECRET_ARN_VARIABLE = "SHARED_TOKEN_SECRET_ARN"

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def shared_token() -> str:
    """The secret's current value, from the extension's cache."""
    port = os.environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "2773")
    secret_id = urllib.parse.quote(os.environ[SECRET_ARN_VARIABLE], safe="")
    request = urllib.request.Request(
        f"http://localhost:{port}/secretsmanager/get?secretId={secret_id}",
        headers={"X-Aws-Parameters-Secrets-Token": os.environ["AWS_SESSION_TOKEN"]},
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return str(json.load(response)["SecretString"])


def handler(event: dict[str, Any], context: Any) -> dict[str, bool]:
    """Accept a caller that presents the shared token (compared in constant time)."""
    presented = event.get("token")
    authorized = isinstance(presented, str) and hmac.compare_digest(
        presented.encode(), shared_token().encode()
    )
    logger.info("Shared token checked: authorized=%s", authorized)
    return {"authorized": authorized}
