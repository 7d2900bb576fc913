"""What the trigger tests share: the SecureFunction every trigger is added to."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction


def secure_function(stack: cdk.Stack, **props: Any) -> SecureFunction:
    """`Fn`: a SecureFunction with inline code and the library's defaults (10 s timeout)."""
    return SecureFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        **props,
    )
