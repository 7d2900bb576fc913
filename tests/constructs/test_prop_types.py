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


def test_one_alarm_email_as_a_string_is_one_address() -> None:
    from secure_constructs.monitoring import validate_emails

    assert validate_emails("alarm_emails", "ops@example.com") == ["ops@example.com"]
    with pytest.raises(ValidationError, match=r"^alarm_emails=5 .*an e-mail address or a list"):
        validate_emails("alarm_emails", 5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^alarm_emails='ops' "):
        validate_emails("alarm_emails", "ops")


def test_one_alarm_email_as_a_string_is_subscribed() -> None:
    stack = cdk.Stack()
    SecureFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        handler="index.handler",
        alarm_emails="ops@example.com",
    )
    subscriptions = [
        r["Properties"]
        for r in cdk.assertions.Template.from_stack(stack).to_json()["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription"
    ]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
