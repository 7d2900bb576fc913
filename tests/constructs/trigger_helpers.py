"""What the trigger tests share: the SecureFunction every trigger is added to."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction
from secure_constructs.shared import security_key


def secure_function(stack: cdk.Stack, **props: Any) -> SecureFunction:
    """`Fn`: a SecureFunction with inline code and the library's defaults (10 s timeout)."""
    return SecureFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        **props,
    )


def orders_table(stack: cdk.Stack, *, stream: bool = True, **props: Any) -> dynamodb.Table:
    """`Orders`: the user's table, encrypted with the stack key, with point-in-time recovery and
    (unless `stream=False`) a stream of new and old images."""
    return dynamodb.Table(
        stack,
        "Orders",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=security_key(stack),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if stream else None,
        **props,
    )
