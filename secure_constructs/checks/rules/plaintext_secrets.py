"""A template-wide rule: a plaintext secret anywhere in the template (checks/secret_scan.py).

Lambda environment variables are LambdaEnvironmentSecret's (rules/lambda_.py) and secret
dynamic references are SecretDynamicReference's (rules/dynamic_references.py): both read the
same scan, so each leak is reported once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from secure_constructs.checks.model import Practice, Template, Violation, rule

FIX = (
    "keep the value out of the template: store it in a SecureSecret (generated, or put with "
    "`aws secretsmanager put-secret-value`) and pass the secret's ARN or name; a CloudFormation "
    "parameter that must carry a secret takes NoEcho=true and no default"
)


def is_lambda_environment(path: tuple[str, ...], template: Template) -> bool:
    """Whether `path` is below a Lambda function's Properties.Environment."""
    if len(path) < 4 or path[0] != "Resources" or path[2:4] != ("Properties", "Environment"):
        return False
    resource = template.resources.get(path[1])
    return isinstance(resource, Mapping) and resource.get("Type") == "AWS::Lambda::Function"


def _literal_secret_string(path: tuple[str, ...], template: Template) -> bool:
    """A Secrets Manager secret's whole SecretString: SecretLiteralValue's (secretsmanager.py)."""
    if path[2:] != ("Properties", "SecretString"):
        return False
    resource = template.resources.get(path[1])
    return isinstance(resource, Mapping) and resource.get("Type") == "AWS::SecretsManager::Secret"


@rule(
    "PlaintextSecret",
    practice=Practice.SECRETS,
    summary="A plaintext secret sits in the template",
    explanation=(
        "Every string of the template is scanned (parameters and their defaults, mappings, "
        "conditions, outputs, metadata, tags and every resource's properties), with Ref, "
        "Fn::Join, Fn::Sub, Fn::FindInMap, Fn::Select/Fn::Split and SSM parameter values "
        "resolved, by detect-secrets' format plugins, connection-string and JSON/YAML/base64 "
        "unwrapping, and the name the value sits under. A literal in a template is in source "
        "control, in the CloudFormation console and in every copy of the cloud assembly; a "
        "NoEcho parameter's default is no exception."
    ),
)
def plaintext_secret(t: Template) -> Iterator[Violation]:
    """Every secret-looking string outside Lambda environments, dynamic references aside."""
    from secure_constructs.checks.secret_scan import scan

    for finding in scan(t.body):
        if (
            finding.is_dynamic_reference
            or is_lambda_environment(finding.path, t)
            or _literal_secret_string(finding.path, t)
        ):
            continue
        section, entry, *rest = finding.path
        yield Violation(
            entry,
            "/".join(finding.path[2:] if section == "Resources" else finding.path),
            f"{finding.dotted} (under {finding.name or 'a property'}) holds a plaintext "
            f"secret: {finding.reason}",
            FIX,
            finding_id="/".join(rest) if section == "Resources" else "/".join(finding.path),
        )


RULES = (plaintext_secret,)
