"""The rules of the SecureServerless pack, one module per service.

Importing this package registers every rule in `secure_constructs.checks.registry.RULES`.
"""

from secure_constructs.checks.rules import (  # noqa: F401
    apigateway,
    code_grants,
    currency,
    dependencies,
    dynamic_references,
    event_sources,
    iam,
    kms_policies,
    lambda_,
    managed_policies,
    overrides,
    plaintext_secrets,
    privilege_wildcards,
    resource_policies,
    secretsmanager,
    trust,
    waf,
    waf_standalone,
)
