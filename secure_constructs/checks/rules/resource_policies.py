"""Rules over resource-based policies (key, secret, topic, queue, bucket, API, log, bus, registry
policies) and Lambda permissions: nothing may be opened to every principal of every account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.accounts import mark_own, resource_types
from secure_constructs.checks.cfn import UNKNOWN, as_list, renderings, shown
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.policy_facts import (
    arn_matches_any_account,
    has_wildcard,
    is_restricting_condition,
    is_wildcard_only,
)
from secure_constructs.checks.rules.policy_documents import (
    RESOURCE_POLICY_TYPES,
    UNREADABLE_FIX,
    UNREADABLE_NOTE,
    is_allow,
    is_everyone,
    is_unreadable,
    principal_values,
    resource_policy_statements,
    with_parameter_defaults,
)

_SOURCE_ARN_KEYS = ("aws:sourcearn",)
_PUBLIC_FIX = (
    "grant to a role or account of yours (e.g. grant_*(role)), or to a service principal with "
    "an aws:SourceArn / aws:SourceAccount condition; to share with your organization add an "
    "aws:PrincipalOrgID condition (policy_facts.RESTRICTING_CONDITION_KEYS lists what counts)"
)


@rule(
    "ResourcePolicyPublic",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=RESOURCE_POLICY_TYPES,
    summary="A resource-based policy allows every principal of every account",
    explanation=(
        'An Allow to Principal "*" (or {"AWS": "*"}, or an intrinsic that renders to "*", or '
        "NotPrincipal) in a key, secret, topic, queue, bucket, API, log, event bus or registry "
        "policy lets anyone on the internet use the resource, unless a condition pins the "
        "caller's account, organization, source resource or network path (aws:SourceArn, "
        "aws:SourceAccount, aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceVpce, "
        "kms:CallerAccount ...; kms:ViaService alone does not: any account's principal can call "
        "through the service). A service's source condition whose ARN pattern matches every "
        "account's resources (arn:aws:s3:::*, arn:aws:execute-api:*:*:*) restricts nothing "
        "either. Deny statements are not read."
    ),
)
def resource_policy_public(t: Template) -> Iterator[Violation]:
    """Allow statements of resource-based policies open to everyone, or with an open source."""
    types = resource_types(t.body)
    for logical_id, type_, path, statement in resource_policy_statements(t):
        if not is_allow(statement):
            continue
        yield from _open_statement(logical_id, type_, path, statement, types)


def _open_statement(
    logical_id: str, type_: str, path: str, statement: Mapping[str, Any], types: Mapping[str, str]
) -> Iterator[Violation]:
    condition = statement.get("Condition")
    if "NotPrincipal" in statement:
        yield Violation(
            logical_id,
            f"{path}/NotPrincipal",
            f"the {type_} policy allows everyone except the principals it lists (NotPrincipal)",
            _PUBLIC_FIX,
            finding_id="NotPrincipal",
        )
        return
    principals = principal_values(mark_own(statement, types))
    unreadable = [v for v in principals.get("AWS", []) if is_unreadable(v)]
    if unreadable and not is_restricting_condition(condition):
        yield Violation(
            logical_id,
            f"{path}/Principal",
            f"the {type_} policy allows {_actions(statement)} to a principal that "
            f"{UNREADABLE_NOTE}, with no condition that restricts the caller",
            UNREADABLE_FIX,
            finding_id="Principal::unknown",
        )
    everyone = any(is_everyone(v) for v in principals.get("AWS", []))
    if everyone and not is_restricting_condition(condition):
        yield Violation(
            logical_id,
            f"{path}/Principal",
            f"the {type_} policy allows {_actions(statement)} to every principal ('*') with no "
            "condition that restricts the caller",
            _PUBLIC_FIX,
            finding_id="Principal::*",
        )
    for pattern in _open_source_arns(condition):
        yield Violation(
            logical_id,
            f"{path}/Condition",
            f"the {type_} policy's aws:SourceArn '{pattern}' matches every account's resources",
            "name the one resource that may use it (e.g. the rule's, topic's or bucket's ARN, "
            "with its account), and add aws:SourceAccount",
            finding_id=f"SourceArn::{pattern}",
        )


def _open_source_arns(condition: Any) -> Iterator[str]:
    if not isinstance(condition, Mapping):
        return
    for tests in condition.values():
        if not isinstance(tests, Mapping):
            continue
        for key, values in tests.items():
            if isinstance(key, str) and key.lower() in _SOURCE_ARN_KEYS:
                for value in as_list(values):
                    for text in renderings(value):
                        if arn_matches_any_account(text):
                            yield shown(text)


def _actions(statement: Mapping[str, Any]) -> str:
    names = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    return ", ".join(names[:4]) + (" ..." if len(names) > 4 else "") if names else "its actions"


@rule(
    "LambdaPermissionScope",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=("AWS::Lambda::Permission",),
    summary="A Lambda permission grants every action, or its source matches every account",
    explanation=(
        "An AWS::Lambda::Permission with Action `lambda:*` (or `*`, or any wildcard) lets the "
        "principal reconfigure, replace and delete the function, not just invoke it. A "
        "SourceArn whose pattern matches every account's resources (`*`, `arn:aws:s3:::*`, "
        "`arn:aws:execute-api:*:*:*`) or a SourceAccount with a wildcard is a source condition "
        "that restricts nothing: any account's bucket, topic or API can invoke the function "
        "(the confused-deputy problem). `?` is a wildcard as much as `*`."
    ),
)
def lambda_permission_scope(t: Template) -> Iterator[Violation]:
    """Permissions with a wildcard action, an open SourceArn or a wildcard SourceAccount."""
    for logical_id, raw in t.of_type("AWS::Lambda::Permission"):
        props = with_parameter_defaults(t, raw)
        for action in renderings(props.get("Action")):
            if UNKNOWN not in action and has_wildcard(action):
                yield Violation(
                    logical_id,
                    "Properties/Action",
                    f"the permission grants '{action}' on the function, not only invoke",
                    "grant lambda:InvokeFunction (fn.grant_invoke(principal) or "
                    "fn.add_permission(..., action='lambda:InvokeFunction'))",
                    finding_id=f"Action::{action}",
                )
        for text in renderings(props.get("SourceArn")):
            source = shown(text)
            if arn_matches_any_account(text):
                yield Violation(
                    logical_id,
                    "Properties/SourceArn",
                    f"the permission's SourceArn '{source}' matches every account's resources",
                    "pass the one bucket, topic, rule or API ARN that invokes it as source_arn= "
                    "(e.g. bucket.bucket_arn), and source_account=",
                    finding_id=f"SourceArn::{source}",
                )
        for account in renderings(props.get("SourceAccount")):
            if UNKNOWN not in account and (has_wildcard(account) or is_wildcard_only(account)):
                yield Violation(
                    logical_id,
                    "Properties/SourceAccount",
                    f"the permission's SourceAccount '{account}' matches every account",
                    "pass the 12-digit account id (e.g. Stack.of(self).account)",
                    finding_id="SourceAccount",
                )


RULES = (resource_policy_public, lambda_permission_scope)
