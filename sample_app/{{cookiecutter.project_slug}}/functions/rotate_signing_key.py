"""Rotates the share-link signing key: Secrets Manager's four rotation steps.

The key is random bytes made here (`secrets.token_urlsafe`), so the role needs no
`secretsmanager:GetRandomPassword` (which AWS grants only on Resource "*"). Its permissions are
exactly what rotation needs on this one secret, granted by SecureSecret.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
KEY_BYTES = 48
MIN_KEY_LENGTH = 32


@cache
def client() -> Any:
    return boto3.client("secretsmanager")


def handler(event: dict[str, Any], context: LambdaContext) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in STEPS:
        raise ValueError(f"unknown rotation step {step!r}")
    versions = client().describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError("the version to rotate to has no stage")
    if "AWSCURRENT" in versions[token]:
        logger.info("version is already current", extra={"step": step})
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("the version to rotate to is not pending")
    logger.info("rotation step", extra={"step": step})
    STEPS[step](arn, token)


def create_secret(arn: str, token: str) -> None:
    """Store a new random key as AWSPENDING (once: a retried step keeps the first one)."""
    sm = client()
    try:
        sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except sm.exceptions.ResourceNotFoundException:
        pass
    sm.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=secrets.token_urlsafe(KEY_BYTES),
        VersionStages=["AWSPENDING"],
    )


def set_secret(arn: str, token: str) -> None:
    """Nothing to do: the key lives only in Secrets Manager (no database to update)."""


def test_secret(arn: str, token: str) -> None:
    """The pending key must be long enough to sign with."""
    value = client().get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    if len(value.get("SecretString", "")) < MIN_KEY_LENGTH:
        raise ValueError("the pending signing key is too short")


def finish_secret(arn: str, token: str) -> None:
    """Make the pending version AWSCURRENT (the old one becomes AWSPREVIOUS)."""
    sm = client()
    versions = sm.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    current = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    if current == token:
        return
    move: dict[str, str] = {"SecretId": arn, "VersionStage": "AWSCURRENT", "MoveToVersionId": token}
    if current is not None:
        move["RemoveFromVersionId"] = current
    sm.update_secret_version_stage(**move)


STEPS: dict[str, Callable[[str, str], None]] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}
