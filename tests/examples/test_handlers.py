"""The example handlers of docs/secure-secret.md: read through a cache, rotate, never log."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

HANDLERS = Path(__file__).resolve().parents[2] / "examples" / "handlers"
VALUE = "token-" + "0123456789abcdef"  # what the secret holds in these tests


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", HANDLERS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "reader"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111122223333:function:reader"
    aws_request_id = "request-1"


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_PARAMETERS_MAX_AGE": "300",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="shared-token", SecretString=VALUE)["ARN"]
        monkeypatch.setenv("SHARED_TOKEN_SECRET_ARN", arn)
        yield arn


def test_powertools_reader_checks_the_token_and_never_logs_it(
    secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = load("read_secret")
    assert reader.handler({"token": VALUE}, Context()) == {"authorized": True}
    assert reader.handler({"token": "wrong"}, Context()) == {"authorized": False}
    assert reader.handler({}, Context()) == {"authorized": False}
    logged = capsys.readouterr()
    assert VALUE not in logged.out + logged.err
    assert '"authorized":true' in logged.out.replace(" ", "")


def test_powertools_reader_serves_from_its_cache(secret_arn: str) -> None:
    reader = load("read_secret")
    assert reader.shared_token() == VALUE
    boto3.client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString="rotated")
    # Within POWERTOOLS_PARAMETERS_MAX_AGE the cached value is served.
    assert reader.shared_token() == VALUE


class FakeSecretsManager:
    """The Secrets Manager calls of the rotation protocol, in memory (boto3's keyword names)."""

    class exceptions:  # noqa: N801 (boto3's spelling)
        class ResourceNotFoundException(Exception):  # noqa: N818 (boto3's name)
            pass

    def __init__(self) -> None:
        self.values = {"v1": VALUE}
        self.stages: dict[str, list[str]] = {"v1": ["AWSCURRENT"]}

    def describe_secret(self, **_: Any) -> dict[str, Any]:
        return {"VersionIdsToStages": {k: list(v) for k, v in self.stages.items()}}

    def get_secret_value(self, **call: Any) -> dict[str, str]:
        for version, stages in self.stages.items():
            wanted = call.get("VersionId") in (None, version)
            if call["VersionStage"] in stages and wanted and version in self.values:
                return {"SecretString": self.values[version]}
        raise self.exceptions.ResourceNotFoundException

    def get_random_password(self, **call: Any) -> dict[str, str]:
        return {"RandomPassword": "n" * call["PasswordLength"]}

    def put_secret_value(self, **call: Any) -> None:
        self.values[call["ClientRequestToken"]] = call["SecretString"]
        self.stages[call["ClientRequestToken"]] = list(call["VersionStages"])

    def update_secret_version_stage(self, **call: Any) -> None:
        if call.get("RemoveFromVersionId"):
            self.stages[call["RemoveFromVersionId"]].remove(call["VersionStage"])
        self.stages[call["MoveToVersionId"]] = [call["VersionStage"]]


def test_rotation_walks_the_four_steps_without_logging_a_value(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rotate = load("rotate_secret")
    fake = FakeSecretsManager()
    monkeypatch.setattr(rotate.boto3, "client", lambda *a, **k: fake)
    fake.stages["v2"] = ["AWSPENDING"]  # what RotateSecret records before calling the function
    caplog.set_level(logging.INFO)
    for step in ("createSecret", "createSecret", "setSecret", "testSecret", "finishSecret"):
        rotate.handler({"SecretId": "arn", "ClientRequestToken": "v2", "Step": step}, None)
    assert fake.stages == {"v1": [], "v2": ["AWSCURRENT"]}
    assert fake.values["v2"] == "n" * rotate.VALUE_LENGTH
    assert VALUE not in caplog.text and fake.values["v2"] not in caplog.text


@pytest.mark.parametrize(
    ("stages", "match"),
    [({}, "unknown"), ({"v2": []}, "not pending")],
)
def test_rotation_refuses_a_version_it_does_not_expect(
    monkeypatch: pytest.MonkeyPatch, stages: dict[str, list[str]], match: str
) -> None:
    rotate = load("rotate_secret")
    fake = FakeSecretsManager()
    fake.stages.update(stages)
    monkeypatch.setattr(rotate.boto3, "client", lambda *a, **k: fake)
    with pytest.raises(ValueError, match=match):
        rotate.handler(
            {"SecretId": "arn", "ClientRequestToken": "v2", "Step": "createSecret"}, None
        )
