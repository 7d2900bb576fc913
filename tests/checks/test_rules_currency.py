"""LambdaRuntimeDeprecated: runtimes past AWS's end of standard support."""

from __future__ import annotations

import datetime

import pytest

from secure_constructs.checks.model import Template
from secure_constructs.checks.registry import RULES
from secure_constructs.checks.rules.currency import DEPRECATED_RUNTIMES


def run(runtime: object) -> list[str]:
    template = Template(
        {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": runtime}}}}
    )
    return [f.message for f in RULES["LambdaRuntimeDeprecated"].run(template)]


@pytest.mark.parametrize("runtime", ["python3.8", "python3.9", "nodejs16.x", "go1.x", "java8"])
def test_fails_when_the_runtime_is_deprecated(runtime: str) -> None:
    [message] = run(runtime)
    assert runtime in message and DEPRECATED_RUNTIMES[runtime].isoformat() in message


@pytest.mark.parametrize("runtime", ["python3.14", "python3.13", "nodejs22.x", "java21", None])
def test_current_or_unknown_runtimes_pass(runtime: object) -> None:
    assert run(runtime) == []


def test_a_runtime_whose_deprecation_date_is_ahead_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEPRECATED_RUNTIMES, "python3.13", datetime.date(2999, 1, 1))
    assert run("python3.13") == []


def test_container_image_functions_have_no_runtime_and_pass() -> None:
    template = Template(
        {
            "Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"PackageType": "Image"}}
            }
        }
    )
    assert RULES["LambdaRuntimeDeprecated"].run(template) == []
