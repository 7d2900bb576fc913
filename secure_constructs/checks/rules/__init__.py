"""The rules of the SecureServerless pack, one module per service.

`PACK` is the pack: every rule, in a fixed order (the order of findings and of
`secure-constructs rules`). Each module lists its own rules in `RULES`; nothing registers itself
on import. tests/checks/test_pack_table.py fails when a rule defined in a module is missing here
(a new module's rules go in below; a new rule in an existing module needs no edit here).
"""

from secure_constructs.checks.model import Rule
from secure_constructs.checks.rules import (
    apigateway,
    code_grants,
    currency,
    dependencies,
    dynamic_references,
    event_sources,
    event_targets,
    iam,
    kms_policies,
    lambda_,
    log_forwarding,
    managed_policies,
    nested_stacks,
    overrides,
    plaintext_secrets,
    privilege_wildcards,
    resource_grants,
    resource_policies,
    secretsmanager,
    service_writers,
    transforms,
    trust,
    waf,
    waf_standalone,
    workflow_logging,
    workflows,
)

PACK: tuple[Rule, ...] = (
    *apigateway.RULES,
    *code_grants.RULES,
    *currency.RULES,
    *dependencies.RULES,
    *dynamic_references.RULES,
    *event_sources.RULES,
    *event_targets.RULES,
    *iam.RULES,
    *kms_policies.RULES,
    *plaintext_secrets.RULES,
    *lambda_.RULES,
    *log_forwarding.RULES,
    *managed_policies.RULES,
    *nested_stacks.RULES,
    *overrides.RULES,
    *privilege_wildcards.RULES,
    *resource_policies.RULES,
    *resource_grants.RULES,
    *secretsmanager.RULES,
    *service_writers.RULES,
    *transforms.RULES,
    *trust.RULES,
    *waf.RULES,
    *waf_standalone.RULES,
    *workflow_logging.RULES,
    *workflows.RULES,
)
