"""The root app: an example stack using every construct that exists, with every check on.

(Replaced by the rendered cookiecutter sample app once it exists.)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction, apply_checks

app = cdk.App()
stack = cdk.Stack(app, "SecureConstructsExample")
SecureFunction(
    stack,
    "Hello",
    code=lambda_.Code.from_inline("def handler(event, context):\n    return {'ok': True}\n"),
    handler="index.handler",
    alarm_emails=["ops@example.com"],
)
apply_checks(app)
app.synth()
