"""Construct examples: every construct of the library in one stack, with every check on.

These used to be the root app; the root app now synthesizes the rendered cookiecutter sample app
(see docs/sample-app.md). Synthesize these with:

    cdk synth --app "python examples/constructs_app.py"
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs import (
    ApiAuth,
    SecretRotation,
    SecretsCache,
    SecureApi,
    SecureFunction,
    SecureSecret,
    SecureUserPool,
    apply_checks,
)

app = cdk.App()
stack = cdk.Stack(app, "SecureConstructsExample")
hello = SecureFunction(
    stack,
    "Hello",
    code=lambda_.Code.from_inline(
        "def handler(event, context):\n    return {'statusCode': 200, 'body': '{\"ok\": true}'}\n"
    ),
    handler="index.handler",
    alarm_emails=["ops@example.com"],
)

# A shared token that rotates every 30 days, read through Powertools' cache (docs/secure-secret.md).
handlers = lambda_.Code.from_asset(str(Path(__file__).parent / "handlers"))
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

# An API with one route per kind of authorization (docs/secure-api.md). The OpenAPI document is
# written next to the templates (cdk.out/SecureConstructsExample.openapi.json) for DAST scanners.
deny_all = "def handler(event, context):\n    raise Exception('Unauthorized')\n"
authorizer = SecureFunction(
    stack, "Authorizer", code=lambda_.Code.from_inline(deny_all), handler="index.handler"
)
api = SecureApi(stack, "Items", auth=ApiAuth.cognito(SecureUserPool(stack, "Users")))
api.add_route("GET", "/items/{id}", hello)
api.add_route(
    "POST",
    "/items",
    hello,
    auth=ApiAuth.iam(),
    request_schema={
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
        "additionalProperties": False,
    },
)
api.add_route("GET", "/reports", hello, auth=ApiAuth.lambda_token(authorizer))
api.add_route(
    "GET",
    "/exports",
    hello,
    auth=ApiAuth.lambda_request(
        authorizer, identity_sources=["method.request.header.X-Api-Client"]
    ),
)
api.add_route("GET", "/health", hello, auth=ApiAuth.none(reason="Liveness probe; returns no data"))

apply_checks(app)
assembly = app.synth()
api.write_openapi(Path(assembly.directory) / f"{stack.artifact_id}.openapi.json")
