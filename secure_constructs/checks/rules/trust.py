"""Rules over role trust policies: who can become a role."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.accounts import mark_own, resource_types
from secure_constructs.checks.cfn import UNKNOWN, as_list, renderings, shown
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.policy_facts import (
    is_account_id,
    is_restricting_condition,
    is_wildcard_only,
    pinned_condition_keys,
)
from secure_constructs.checks.rules.iam import statements
from secure_constructs.checks.rules.policy_documents import (
    UNREADABLE_FIX,
    UNREADABLE_NOTE,
    is_allow,
    is_everyone,
    is_unreadable,
    principal_values,
    with_parameter_defaults,
)

# A service principal is `<service>.amazonaws.com` (`.amazonaws.com.cn` in China), some with a
# region (`logs.eu-west-1.amazonaws.com`). See
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:(iam|sts)::(\d{12}):")
# Cross-account trust needs a confused-deputy guard (sts:ExternalId) or an organization pin.
_CROSS_ACCOUNT_GUARDS = frozenset({"sts:externalid", "aws:principalorgid", "aws:principalorgpaths"})
_FIX = (
    "trust a service principal (iam.ServicePrincipal('lambda.amazonaws.com')) or a role of this "
    "account; for another account use iam.AccountPrincipal(id).with_conditions({'StringEquals': "
    "{'sts:ExternalId': ...}}) or an aws:PrincipalOrgID condition"
)


@rule(
    "TrustPolicyOpen",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=("AWS::IAM::Role",),
    summary="A role's trust policy lets anyone, or an unguarded account or identity, assume it",
    explanation=(
        'A trust policy with Principal "*" (or {"AWS": "*"}, NotPrincipal) lets any principal '
        "of any account assume the role unless a condition pins the caller; a literal "
        "account's root or role without sts:ExternalId or aws:PrincipalOrgID is open to that "
        "account's confused deputies; a Federated web-identity trust (an OIDC provider such as "
        "GitHub Actions, Cognito) without an `aud` and a `sub` condition lets every user of the "
        "provider (every GitHub repository) assume it; a Service principal that is not of the "
        "form <service>.amazonaws.com is not an AWS service. The role's permissions then belong "
        "to whoever can assume it."
    ),
)
def trust_policy_open(t: Template) -> Iterator[Violation]:
    """Allow statements of AssumeRolePolicyDocument that let too many principals in."""
    types = resource_types(t.body)
    for logical_id, props in t.of_type("AWS::IAM::Role"):
        document = props.get("AssumeRolePolicyDocument")
        if not isinstance(document, Mapping):
            continue
        for path, statement in statements("Properties/AssumeRolePolicyDocument", document):
            if is_allow(statement):
                filled = with_parameter_defaults(t, statement)
                yield from _statement(logical_id, path, filled, types)


def _statement(
    logical_id: str, path: str, statement: Mapping[str, Any], types: Mapping[str, str]
) -> Iterator[Violation]:
    condition = statement.get("Condition")
    if "NotPrincipal" in statement:
        yield Violation(
            logical_id,
            f"{path}/NotPrincipal",
            "the trust policy uses NotPrincipal",
            _FIX,
            finding_id="NotPrincipal",
        )
        return
    principals = principal_values(mark_own(statement, types))
    for text in principals.get("AWS", []):
        if is_unreadable(text) and not is_restricting_condition(condition):
            yield Violation(
                logical_id,
                f"{path}/Principal",
                f"the trust policy lets a principal assume the role that {UNREADABLE_NOTE}",
                UNREADABLE_FIX,
                finding_id="Principal::unknown",
            )
        if is_everyone(text) and not is_restricting_condition(condition):
            yield Violation(
                logical_id,
                f"{path}/Principal",
                "the trust policy lets every principal of every account ('*') assume the role",
                _FIX,
                finding_id="Principal::*",
            )
        account = _literal_account(text)
        if account and not (pinned_condition_keys(condition) & _CROSS_ACCOUNT_GUARDS):
            yield Violation(
                logical_id,
                f"{path}/Principal",
                f"the trust policy lets account {account} assume the role without "
                "sts:ExternalId or aws:PrincipalOrgID",
                _FIX,
                finding_id=f"Account::{account}",
            )
    for text in principals.get("Federated", []):
        yield from _federated(logical_id, path, text, statement)
    for text in principals.get("Service", []):
        if UNKNOWN not in text and not _SERVICE.match(text):
            yield Violation(
                logical_id,
                f"{path}/Principal",
                f"'{text}' is not an AWS service principal (<service>.amazonaws.com)",
                "name the service that assumes the role, e.g. lambda.amazonaws.com",
                finding_id=f"Service::{text}",
            )


def _literal_account(text: str) -> str | None:
    if is_account_id(text):
        return text
    match = _ACCOUNT_IN_ARN.match(text)
    return match.group(2) if match else None


def _federated(
    logical_id: str, path: str, provider: str, statement: Mapping[str, Any]
) -> Iterator[Violation]:
    actions = {a.lower() for a in as_list(statement.get("Action")) if isinstance(a, str)}
    if actions and not actions & {"sts:assumerolewithwebidentity", "sts:*", "*"}:
        return  # SAML trust: AWS requires SAML:aud for the console flow
    keys = pinned_condition_keys(statement.get("Condition"))
    has_aud = any(k.endswith(":aud") for k in keys)
    has_sub = any(k.endswith(":sub") or k.endswith(":amr") for k in keys)
    open_sub = [v for v in _sub_values(statement.get("Condition")) if is_wildcard_only(v)]
    if has_aud and has_sub and not open_sub:
        return
    name = shown(provider)
    yield Violation(
        logical_id,
        f"{path}/Condition",
        f"the web-identity trust of {name} does not pin both the audience (:aud) and the "
        "subject (:sub) of the token, so every user of the provider can assume the role",
        "add StringEquals {'<provider>:aud': 'sts.amazonaws.com'} and StringLike "
        "{'<provider>:sub': 'repo:<org>/<repo>:ref:refs/heads/main'} (GitHub Actions)",
        finding_id="Federated",
    )


def _sub_values(condition: Any) -> Iterator[str]:
    if isinstance(condition, Mapping):
        for tests in condition.values():
            if isinstance(tests, Mapping):
                for key, values in tests.items():
                    if isinstance(key, str) and key.lower().endswith(":sub"):
                        for value in as_list(values):
                            yield from renderings(value)


RULES = (trust_policy_open,)
