"""The CDK app: the {{ cookiecutter.project_name }} stack, with every check on at synth.

`cdk synth` fails on any unacknowledged finding of cdk-nag's AwsSolutions and Serverless packs
and secure-constructs' SecureServerless pack (plus NIST 800-53 R5, HIPAA and PCI DSS in the
nist-hipaa-pci variant).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from secure_constructs import apply_checks

from {{ cookiecutter.package_name }}.settings import AWS_REGION, DESCRIPTION, STACK_NAME, Settings
from {{ cookiecutter.package_name }}.stack import ItemsServiceStack


def build(app: cdk.App, settings: Settings | None = None) -> ItemsServiceStack:
    """The stack, in `app`, with the checks registered (also used by the infra tests)."""
    settings = settings or Settings()
    stack = ItemsServiceStack(
        app,
        STACK_NAME,
        settings=settings,
        env=cdk.Environment(region=AWS_REGION),
        description=DESCRIPTION,
    )
    apply_checks(app, compliance=settings.compliance_packs)
    return stack


if __name__ == "__main__":
    app = cdk.App()
    stack = build(app)
    assembly = app.synth()
    # The API's OpenAPI 3 document next to the template, for DAST scanners (ZAP, schemathesis).
    stack.api.write_openapi(Path(assembly.directory) / f"{stack.stack_name}.openapi.json")
