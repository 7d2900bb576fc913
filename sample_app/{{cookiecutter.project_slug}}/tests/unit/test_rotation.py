"""The signing-key rotation function: Secrets Manager's four steps against moto."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

import rotate_signing_key


@pytest.fixture
def secret(aws: None) -> tuple[Any, str]:
    rotate_signing_key.client.cache_clear()
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="signing-key", SecretString="o" * 64)["ARN"]
    return sm, arn


def stages(sm: Any, arn: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return result


def run(arn: str, token: str, step: str, context: Any) -> None:
    rotate_signing_key.handler(
        {"SecretId": arn, "ClientRequestToken": token, "Step": step}, context
    )


def test_rotates_to_a_new_random_key(secret: tuple[Any, str], context: Any) -> None:
    sm, arn = secret
    token = str(uuid.uuid4())
    rotate_signing_key.create_secret(arn, token)  # Secrets Manager starts the pending version
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        run(arn, token, step, context)

    assert "AWSCURRENT" in stages(sm, arn)[token]
    current = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    assert current != "o" * 64 and len(current) >= rotate_signing_key.MIN_KEY_LENGTH
    previous = sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"]
    assert previous == "o" * 64


def test_create_is_idempotent(secret: tuple[Any, str]) -> None:
    sm, arn = secret
    token = str(uuid.uuid4())
    rotate_signing_key.create_secret(arn, token)
    first = sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
    rotate_signing_key.create_secret(arn, token)
    assert sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"] == first


def test_fails_when_the_version_is_unknown(secret: tuple[Any, str], context: Any) -> None:
    _, arn = secret
    with pytest.raises(ValueError, match="no stage"):
        run(arn, str(uuid.uuid4()), "createSecret", context)


def test_fails_when_the_step_is_unknown(secret: tuple[Any, str], context: Any) -> None:
    _, arn = secret
    with pytest.raises(ValueError, match="unknown rotation step"):
        run(arn, str(uuid.uuid4()), "dropTable", context)


def test_fails_when_the_pending_key_is_too_short(secret: tuple[Any, str], context: Any) -> None:
    sm, arn = secret
    token = str(uuid.uuid4())
    sm.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString="short", VersionStages=["AWSPENDING"]
    )
    with pytest.raises(ValueError, match="too short"):
        run(arn, token, "testSecret", context)
