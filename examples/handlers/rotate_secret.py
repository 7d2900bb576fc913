"""Rotate a SecureSecret that holds one generated value (e.g. a shared token), never logging it.

Secrets Manager invokes the function four times per rotation with `Step` = createSecret,
setSecret, testSecret, finishSecret (AWS docs: "Rotation by Lambda function"). The permissions
it needs are exactly those `SecretRotation.function(fn)` grants: DescribeSecret, GetSecretValue,
PutSecretValue, UpdateSecretVersionStage on this secret, GetRandomPassword, and the key through
Secrets Manager. A secret that is also stored elsewhere (a database user, a vendor) is updated
in setSecret and checked in testSecret; this one lives only in Secrets Manager, so both are
no-ops. Every step is idempotent: Secrets Manager retries a failed step.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
VALUE_LENGTH = 32

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = boto3.client("secretsmanager", endpoint_url=os.environ.get("SECRETS_MANAGER_ENDPOINT"))
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError(f"version {token} of the secret is unknown")
    if CURRENT in versions[token]:
        logger.info("Version %s is already current: nothing to do", token)
        return
    if PENDING not in versions[token]:
        raise ValueError(f"version {token} is not pending rotation")
    logger.info("Rotation step %s for version %s", step, token)
    if step == "createSecret":
        _create(client, arn, token)
    elif step in ("setSecret", "testSecret"):
        return  # the value lives only in Secrets Manager: nothing to update or test elsewhere
    elif step == "finishSecret":
        _finish(client, arn, token, versions)
    else:
        raise ValueError(f"unknown rotation step {step!r}")


def _create(client: Any, arn: str, token: str) -> None:
    client.get_secret_value(SecretId=arn, VersionStage=CURRENT)  # fails early if there is none
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
        return  # created by an earlier attempt of this step
    except client.exceptions.ResourceNotFoundException:
        pass
    value = client.get_random_password(PasswordLength=VALUE_LENGTH, ExcludePunctuation=True)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=value["RandomPassword"],
        VersionStages=[PENDING],
    )


def _finish(client: Any, arn: str, token: str, versions: dict[str, list[str]]) -> None:
    moves: dict[str, str] = {"MoveToVersionId": token}
    current = next((v for v, stages in versions.items() if CURRENT in stages), None)
    if current is not None:
        moves["RemoveFromVersionId"] = current
    client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, **moves)
