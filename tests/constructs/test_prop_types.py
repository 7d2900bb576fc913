"""Props of the wrong type are refused with a ValidationError before CDK or typeguard sees them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.validation import whole_seconds


@pytest.mark.parametrize("value", [10, 10.0, "10s", None])
def test_fails_when_a_duration_is_not_a_duration(value: Any) -> None:
    with pytest.raises(ValidationError, match=r"^timeout=.*a Duration.*Duration\.seconds"):
        whole_seconds("timeout", value)


def test_fails_when_a_function_timeout_is_a_number() -> None:
    with pytest.raises(ValidationError, match=r"^timeout=10 .*Fix: pass e.g. timeout=Duration"):
        SecureFunction(
            cdk.Stack(),
            "Fn",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
            handler="index.handler",
            timeout=10,  # type: ignore[arg-type]
        )
