"""The rules of the SecureServerless pack, one module per service.

`PACK` is the pack: every rule, in a fixed order (the order of findings and of
`secure-constructs rules`). Each module lists its own rules in `RULES`; nothing registers itself
on import. tests/checks/test_pack_table.py fails when a rule defined in a module is missing here.
"""

from secure_constructs.checks.model import Rule
from secure_constructs.checks.rules import (
    apigateway,
    code_grants,
    currency,
    dependencies,
    dynamic_references,
    event_sources,
    iam,
    kms_policies,
    lambda_,
    overrides,
    plaintext_secrets,
    privilege_wildcards,
    resource_policies,
    secretsmanager,
    trust,
    waf,
)

MODULES = (
    apigateway,
    code_grants,
    currency,
    dependencies,
    dynamic_references,
    event_sources,
    iam,
    kms_policies,
    plaintext_secrets,
    lambda_,
    overrides,
    privilege_wildcards,
    resource_policies,
    secretsmanager,
    trust,
    waf,
)
"""The rule modules, in the order of their rules in the pack."""

PACK: tuple[Rule, ...] = tuple(rule for module in MODULES for rule in module.RULES)
