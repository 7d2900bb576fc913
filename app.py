"""The root app: an example stack using every construct that exists, with every check on.

(Replaced by the rendered cookiecutter sample app once it exists.)
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs import (
    SecretRotation,
    SecretsCache,
    SecureFunction,
    SecureSecret,
    apply_checks,
)

app = cdk.App()
stack = cdk.Stack(app, "SecureConstructsExample")
SecureFunction(
    stack,
    "Hello",
    code=lambda_.Code.from_inline("def handler(event, context):\n    return {'ok': True}\n"),
    handler="index.handler",
    alarm_emails=["ops@example.com"],
)

# A shared token that rotates every 30 days, read through Powertools' cache (docs/secure-secret.md).
handlers = lambda_.Code.from_asset(str(Path(__file__).parent / "examples" / "handlers"))
rotator = SecureFunction(stack, "TokenRotator", code=handlers, handler="rotate_secret.handler")
token = SecureSecret(
    stack,
    "SharedToken",
    description="Shared token checked by TokenReader; rotated by TokenRotator",
    rotation=SecretRotation.function(rotator, every=cdk.Duration.days(30)),
)
SecureFunction(
    stack,
    "TokenReader",
    code=handlers,
    handler="read_secret.handler",
    secrets={"SHARED_TOKEN": token},
    secrets_cache=SecretsCache.powertools(max_age=cdk.Duration.minutes(5)),
)
apply_checks(app)
app.synth()
