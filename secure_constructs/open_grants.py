"""Refusing grants and resource-policy statements that would open a resource of ours to the world.

The judgement is the rules' (checks/policy_facts.py: which conditions restrict the caller), so a
construct never accepts what ResourcePolicyPublic would flag.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from secure_constructs.checks.cfn import renderings
from secure_constructs.checks.policy_facts import is_restricting_condition
from secure_constructs.errors import ValidationError

_ACCOUNT = re.compile(r"^(?:arn:[^:]+:iam::)?(\d{12})(?::root)?$")
_FIX = (
    "grant to a role of this account (e.g. a SecureFunction), or to a service principal with an "
    "aws:SourceArn condition (iam.ServicePrincipal('events.amazonaws.com', "
    "conditions={'ArnEquals': {'aws:SourceArn': rule.rule_arn}})); for another account or "
    "organization add an "
    "aws:PrincipalOrgID or aws:SourceAccount condition"
)


def _opens(scope: IConstruct, principal: Any, condition: Any) -> str | None:
    """What is open ('*' or 'account <id>'), or None when the principal is fine."""
    if is_restricting_condition(condition):
        return None
    kinds = principal.values() if isinstance(principal, dict) else [principal]
    # Rendered with the rules' evaluator: AccountPrincipal is an Fn::Join with the partition;
    # StarPrincipal's kind is "LiteralString".
    values = [
        text
        for kind in kinds
        for item in (kind if isinstance(kind, list) else [kind])
        for text in renderings(item)
    ]
    own = cdk.Stack.of(scope).account
    for value in values:
        if value == "*":
            return "'*' (every principal of every account)"
        match = _ACCOUNT.match(value)
        if match and match.group(1) != own:
            return f"account {match.group(1)}"
    return None


def refuse_open_grantee(
    scope: IConstruct, call: str, grantee: iam.IGrantable, *, shared: str = ""
) -> None:
    """A ValidationError naming `call` when `grantee` is everyone or an unconditioned account.

    `shared` says why the resource matters (added to the message).
    """
    fragment = grantee.grant_principal.policy_fragment
    conditions = fragment.conditions or None
    principal = cdk.Stack.of(scope).resolve(fragment.principal_json)
    opened = _opens(scope, principal, conditions)
    if opened:
        raise ValidationError(call, principal, f"a grantee other than {opened}{_why(shared)}", _FIX)


def _why(shared: str) -> str:
    return f" ({shared})" if shared else ""


def refuse_open_statement(
    scope: IConstruct, call: str, statement: iam.PolicyStatement, *, shared: str = ""
) -> None:
    """A ValidationError naming `call` when an Allow statement opens the resource."""
    refuse_open_body(
        scope, call, cdk.Stack.of(scope).resolve(statement.to_statement_json()), shared
    )


def refuse_open_body(scope: IConstruct, call: str, body: Any, shared: str = "") -> None:
    """`refuse_open_statement` for a statement already resolved to JSON."""
    if not isinstance(body, dict):
        return
    if body.get("Effect", "Allow") != "Allow":
        return  # a Deny (TLS-only, NotPrincipal "everyone but") only narrows
    if "NotPrincipal" in body:
        allowed = f"an Allow statement with Principal{_why(shared)}"
        raise ValidationError(call, body, allowed, _FIX)
    opened = _opens(scope, body.get("Principal"), body.get("Condition"))
    if opened:
        allowed = f"a statement for principals other than {opened}{_why(shared)}"
        raise ValidationError(call, body, allowed, _FIX)
