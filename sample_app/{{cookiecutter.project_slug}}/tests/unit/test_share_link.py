"""GET /items/{id}/share: signs with the cached secret, never returns or logs it."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import boto3
import pytest

import share_link
from tests.unit.conftest import api_event

VALID_ID = "0b6a8d2e-4f1c-4a9e-8d3b-2c1f0e9d8a7b"


def test_issues_a_token_signed_with_the_secret(
    signing_secret: str, context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = share_link.handler(api_event(path_id=VALID_ID), context)
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    item_id, expires, signature = body["token"].split(".")
    assert item_id == VALID_ID and int(expires) == body["expiresAt"]
    expected = hmac.new(b"k" * 64, f"{item_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    # the key itself is never in the response or the logs
    assert "k" * 64 not in response["body"]
    assert "k" * 64 not in capsys.readouterr().out


def test_reads_the_secret_through_the_cache(signing_secret: str, context: Any) -> None:
    share_link.handler(api_event(path_id=VALID_ID), context)
    boto3.client("secretsmanager").put_secret_value(SecretId=signing_secret, SecretString="n" * 64)
    second = json.loads(share_link.handler(api_event(path_id=VALID_ID), context)["body"])
    old = hmac.new(b"k" * 64, second["token"].rsplit(".", 1)[0].encode(), hashlib.sha256)
    assert second["token"].endswith(old.hexdigest()), "the cached key is used until max_age"


def test_refuses_a_malformed_id(signing_secret: str, context: Any) -> None:
    response = share_link.handler(api_event(path_id="../../etc/passwd"), context)
    assert response["statusCode"] == 400
    assert "passwd" not in response["body"]


def test_a_missing_secret_is_a_500_without_details(
    aws: None, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    monkeypatch.setenv("SIGNING_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:gone")
    response = share_link.handler(api_event(path_id=VALID_ID), context)
    assert response["statusCode"] == 500
    assert "secretsmanager" not in response["body"]
