"""Rules over whom a resource-based policy names: another account, or a service acting for any
resource. ResourcePolicyPublic judges `*`; these judge the principals that are not everyone.

Both rules read every resource-based policy type (policy_documents.RESOURCE_POLICY_TYPES), the
cross-account one AWS::Lambda::Permission too (a service permission without source is
LambdaPublicAccess's), after `with_parameter_defaults` (a parameter's default and allowed
values are judged as deployed) and `accounts.mark_own` (this account in every intrinsic form).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.accounts import (
    EVERYONE,
    OURS,
    UNKNOWN_ACCOUNT,
    account_of,
    mark_own,
    pins_this_account,
    resource_types,
)
from secure_constructs.checks.cfn import UNKNOWN, renderings, shown
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule
from secure_constructs.checks.policy_facts import has_source_condition
from secure_constructs.checks.rules.policy_documents import (
    RESOURCE_POLICY_TYPES,
    is_allow,
    is_unreadable,
    principal_values,
    resource_policy_statements,
    with_parameter_defaults,
)

_LAMBDA = "AWS::Lambda::Permission"
_CROSS_FIX = (
    "grant to a role of this account that the other account's role assumes (trust it with "
    "sts:ExternalId), or pin the caller: an aws:PrincipalOrgID condition for your organization "
    "(policy_facts.RESTRICTING_CONDITION_KEYS lists what counts). If the account is this "
    "stack's own, write it as ${AWS::AccountId} (Stack.of(self).account in an env-agnostic "
    "stack), or pass `secure-constructs audit --account ID`"
)
_SOURCE_FIX = (
    "add the resource the service acts for: an ArnEquals/ArnLike aws:SourceArn condition with "
    "its ARN (rule.rule_arn, bucket.bucket_arn, topic.topic_arn) and StringEquals "
    "aws:SourceAccount ${AWS::AccountId}"
)


def _is_service(text: str) -> bool:
    return ".amazonaws.com" in text and ":" not in text


def _other_account(text: str, accounts: frozenset[str]) -> str | None:
    """How a principal names another account ('account 1111...', 'an account known only at
    deploy time'), or None when it is this account's or everyone's (ResourcePolicyPublic's)."""
    judged = account_of(text, accounts)
    if judged == OURS or text.strip() == "*" or is_unreadable(text):
        return None  # everyone, or possibly everyone: ResourcePolicyPublic's
    if judged == UNKNOWN_ACCOUNT:
        return f"an account known only at deploy time ({shown(text)})"
    if judged == EVERYONE:
        return f"every account matching {text}"
    return f"account {judged} ({text})"


@rule(
    "ResourcePolicyCrossAccount",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=(*RESOURCE_POLICY_TYPES, _LAMBDA),
    summary="A resource-based policy allows another account's principal with no restricting "
    "condition",
    explanation=(
        "An Allow to a principal of another account (a literal account id or ARN that is not "
        "this stack's account, or an account from a parameter) lets that account, and every "
        "principal it delegates to, use the resource, unless a condition pins the caller to "
        "your organization, VPC or endpoint (aws:PrincipalOrgID, aws:SourceVpce ...: "
        "policy_facts.RESTRICTING_CONDITION_KEYS); an account or ARN condition must name this "
        "account. The same judgement refuses such grants on the library's shared key, topic "
        "and queues at the call. This account is `${AWS::AccountId}` in any intrinsic form, a "
        "resource's attribute (Fn::GetAtt), or a literal id known to be the stack's (its env "
        "account at synth, `audit --account`); anything else fails closed."
    ),
    granular=True,
)
def resource_policy_cross_account(t: Template) -> Iterator[Violation]:
    """Allow statements (and Lambda permissions) for another account without an org pin."""
    accounts = t.options.accounts
    types = resource_types(t.body)
    for logical_id, type_, path, raw in resource_policy_statements(t):
        if not is_allow(raw) or "NotPrincipal" in raw:
            continue
        statement = mark_own(raw, types)
        if pins_this_account(statement.get("Condition"), accounts):
            continue
        principals = principal_values(statement)
        # every kind but Service (ResourcePolicyServiceSource's), as the refusals judge them
        for text in (t for kind, ts in principals.items() if kind != "Service" for t in ts):
            other = _other_account(text, accounts)
            if other:
                yield _cross(logical_id, f"{path}/Principal", type_, other, text)
    for logical_id, raw in t.of_type(_LAMBDA):
        props = mark_own(with_parameter_defaults(t, raw), types)
        if props.get("PrincipalOrgID") is not None:
            continue
        for text in renderings(props.get("Principal")):
            other = None if _is_service(text) else _other_account(text, accounts)
            if other:
                yield _cross(logical_id, "Properties/Principal", _LAMBDA, other, text)


def _cross(logical_id: str, where: str, type_: str, other: str, text: str) -> Violation:
    account = account_of(text, ())
    return Violation(
        logical_id,
        where,
        f"the {type_} policy allows {other} with no condition that pins the caller to your "
        "organization or this account",
        _CROSS_FIX,
        finding_id=f"Account::{account if account not in (OURS, UNKNOWN_ACCOUNT) else 'unknown'}",
    )


@rule(
    "ResourcePolicyServiceSource",
    practice=Practice.LEAST_PRIVILEGE,
    severity=Severity.WARNING,
    applies_to=RESOURCE_POLICY_TYPES,
    summary="A resource-based policy allows a service principal for any source resource",
    explanation=(
        "An Allow to a service principal (events.amazonaws.com, s3.amazonaws.com, ...) with no "
        "aws:SourceArn / aws:SourceAccount / aws:SourceOrgID condition (nor a service's own "
        "kms:EncryptionContext:aws:<service>:arn) lets the service act on the resource for "
        "anyone's rule, bucket or topic: another account points its resource at yours and the "
        "service, the confused deputy, delivers or decrypts for it. AWS recommends these keys "
        "in every resource-based policy that names a service "
        "(https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). A warning, "
        "not an error: the other account must know the resource's ARN, and a few services do "
        "not send the keys (check the service's documentation before adding them). A "
        "Lambda permission for a service without SourceArn is LambdaPublicAccess's (an error)."
    ),
    granular=True,
)
def resource_policy_service_source(t: Template) -> Iterator[Violation]:
    """Allow statements for a service principal with no source condition."""
    for logical_id, type_, path, raw in resource_policy_statements(t):
        if not is_allow(raw) or has_source_condition(raw.get("Condition")):
            continue
        for service in principal_values(raw).get("Service", []):
            yield _unsourced(logical_id, f"{path}/Condition", type_, service, raw)


def _unsourced(
    logical_id: str, where: str, type_: str, service: str, statement: Mapping[str, Any]
) -> Violation:
    action = statement.get("Action")
    shown_action = action if isinstance(action, str) else "its actions"
    return Violation(
        logical_id,
        where,
        f"the {type_} policy allows {shown(service)} {shown_action} for any source resource "
        "(no aws:SourceArn / aws:SourceAccount condition)",
        _SOURCE_FIX,
        finding_id=f"Service::{service.replace(UNKNOWN, '<region>')}",
    )


RULES = (resource_policy_cross_account, resource_policy_service_source)
