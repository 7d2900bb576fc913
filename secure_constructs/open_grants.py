"""Refusing grants and resource-policy statements that would open a resource of ours to the world.

The judgement is the rules' (checks/policy_facts.py: which conditions restrict the caller), so a
construct never accepts what ResourcePolicyPublic would flag.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from secure_constructs.checks.cfn import UNKNOWN, renderings
from secure_constructs.checks.policy_facts import has_wildcard, is_restricting_condition
from secure_constructs.errors import ValidationError

_OURS = "<this-account>"
# The account field of a principal: a bare account id, or the fifth field of an ARN
# (`arn:aws:iam::111122223333:role/Admin`, `arn:aws:sts::...:assumed-role/...`).
_ARN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:([^:]*):(.*)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "kms:calleraccount", "aws:sourceaccount", "aws:sourceowner"}
)
_ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
# KMS actions that hand over the key (its policy, its grants, its deletion): on the stack key
# only this account's root (the key policy's own administrator) may hold them, whatever the
# condition. https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CreateGrant",
    "kms:DisableKey",
    "kms:DeleteImportedKeyMaterial",
    "kms:ImportKeyMaterial",
    "kms:UpdateKeyDescription",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
    "kms:DisableKeyRotation",
    "kms:CancelKeyDeletion",
)
_FIX = (
    "grant to a role of this account (e.g. a SecureFunction), or to a service principal with an "
    "aws:SourceArn condition (iam.ServicePrincipal('events.amazonaws.com', "
    "conditions={'ArnEquals': {'aws:SourceArn': rule.rule_arn}})); for another account, grant "
    "to a role here that the other account's role assumes (or, for an organization, add an "
    "aws:PrincipalOrgID condition)"
)
_ADMIN_FIX = (
    "leave the key's administration to this account's root (iam.AccountRootPrincipal(), as "
    "CDK's default key policy does) and grant a role only the use it needs (grant_decrypt, "
    "grant_encrypt)"
)


def _ours(scope: IConstruct, value: Any) -> Any:
    """`value` with this stack's account written as _OURS (Ref AWS::AccountId, ${AWS::AccountId},
    or the stack's literal account) and a stack resource's attribute as a resource of ours."""
    if isinstance(value, list):
        return [_ours(scope, v) for v in value]
    if isinstance(value, dict):
        if value == {"Ref": "AWS::AccountId"}:
            return _OURS
        if len(value) == 1 and next(iter(value)) in ("Fn::GetAtt", "Fn::ImportValue"):
            # An attribute of a resource (or an export) of this account and region: CDK refuses
            # cross-account references, and an export can only be imported in its own account.
            return "<resource-of-this-account>"
        return {k: _ours(scope, v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("${AWS::AccountId}", _OURS)
    return value


def _account_of(scope: IConstruct, text: str) -> str:
    """'ours', 'everyone', 'unknown' or the other account's id, for one principal string."""
    if text == "*":
        return "everyone"
    match = _ARN.match(text)
    account = match.group(1) if match else text
    if not match and not _ACCOUNT_ID.match(text) and UNKNOWN not in text and _OURS not in text:
        return "ours"  # a service name, a canonical user, a resource of this account
    own = cdk.Stack.of(scope).account
    if account == _OURS or (not cdk.Token.is_unresolved(own) and account == own):
        return "ours"
    if has_wildcard(account):
        return "everyone"
    if _ACCOUNT_ID.match(account):
        return account
    return "unknown"


_SERVICE_KEYS = frozenset({"Service"})


def _principals(scope: IConstruct, principal: Any) -> list[tuple[str, str]]:
    """(account judgement, rendered principal) for every AWS/Federated value of a Principal."""
    if principal == "*" or principal is None:
        return [("everyone", "*")] if principal == "*" else []
    if not isinstance(principal, dict):
        return [("unknown", str(principal))]
    found: list[tuple[str, str]] = []
    # Service principals are judged by their condition elsewhere (aws:SourceArn).
    for items in (v for key, v in principal.items() if key not in _SERVICE_KEYS):
        for item in items if isinstance(items, list) else [items]:
            texts = renderings(_ours(scope, item)) or [UNKNOWN]
            found.extend((_account_of(scope, t), t) for t in texts)
    return found


def _pins_ours(scope: IConstruct, condition: Any) -> bool:
    """Whether the Condition restricts the caller, and not to another account: a test of an
    account key (aws:PrincipalAccount, kms:CallerAccount, ...) must name only this account,
    an ARN key only ARNs of this account (or of no account, like a bucket's)."""
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            continue
        for key, values in tests.items():
            if not is_restricting_condition({operator: {key: values}}):
                continue
            name = key.lower() if isinstance(key, str) else ""
            listed = values if isinstance(values, list) else [values]
            if name in _ACCOUNT_KEYS or name in _ARN_KEYS:
                texts = [t for v in listed for t in (renderings(_ours(scope, v)) or [UNKNOWN])]
                if not all(_account_of(scope, t) == "ours" for t in texts):
                    continue
            return True
    return False


def _opens(scope: IConstruct, principal: Any, condition: Any) -> str | None:
    """What is open ('*', 'account <id>', an unknown account), or None when the principal is
    of this account (or pinned to it by the condition)."""
    for judged, text in _principals(scope, principal):
        if judged == "ours" or _pins_ours(scope, condition):
            continue
        if judged == "everyone":
            return f"'*' (every principal of every account: {text!r})"
        if judged == "unknown":
            return f"an account known only at deploy time ({text!r}, not this stack's account)"
        return f"account {judged} ({text!r})"
    return None


def _root_of_ours(scope: IConstruct, principal: Any) -> bool:
    judged = _principals(scope, principal)
    return bool(judged) and all(
        j == "ours" and (_ACCOUNT_ID.match(t) or t.endswith(":root") or t == _OURS)
        for j, t in judged
    )


def _admin_actions(actions: Any) -> list[str]:
    """The key-administration actions among `actions` (with IAM wildcards)."""
    listed = actions if isinstance(actions, list) else [actions]
    found: list[str] = []
    for action in listed:
        if not isinstance(action, str):
            continue
        found.extend(a for a in KEY_ADMIN_ACTIONS if fnmatch.fnmatchcase(a.lower(), action.lower()))
    return found


def refuse_key_admin(
    scope: IConstruct, call: str, principal: Any, actions: Any, not_action: bool = False
) -> None:
    """A ValidationError when a principal other than this account's root gets the key's
    administration (kms:*, kms:PutKeyPolicy, kms:CreateGrant, ...), whatever the condition."""
    admin = _admin_actions(actions) or (["every action but those listed"] if not_action else [])
    if admin and not _root_of_ours(scope, principal):
        allowed = (
            "the key's administration (" + ", ".join(sorted(set(admin))[:4]) + ") only for "
            "this account's root"
        )
        raise ValidationError(call, principal, allowed, _ADMIN_FIX)


def refuse_open_grantee(
    scope: IConstruct,
    call: str,
    grantee: iam.IGrantable,
    *,
    shared: str = "",
    key_actions: Any = None,
) -> None:
    """A ValidationError naming `call` when `grantee` is everyone or an unconditioned account.

    `shared` says why the resource matters (added to the message); `key_actions`, for a grant
    on the stack key, are refused when they administer the key and the grantee is not this
    account's root.
    """
    fragment = grantee.grant_principal.policy_fragment
    conditions = fragment.conditions or None
    principal = cdk.Stack.of(scope).resolve(fragment.principal_json)
    opened = _opens(scope, principal, conditions)
    if opened:
        raise ValidationError(call, principal, f"a grantee other than {opened}{_why(shared)}", _FIX)
    if key_actions is not None:
        refuse_key_admin(scope, call, principal, list(key_actions))


def _why(shared: str) -> str:
    return f" ({shared})" if shared else ""


def refuse_open_statement(
    scope: IConstruct,
    call: str,
    statement: iam.PolicyStatement,
    *,
    shared: str = "",
    key: bool = False,
) -> None:
    """A ValidationError naming `call` when an Allow statement opens the resource (on the
    stack key, `key`: also when it hands the key's administration to anyone but the root)."""
    body = cdk.Stack.of(scope).resolve(statement.to_statement_json())
    refuse_open_body(scope, call, body, shared, key=key)


def refuse_open_body(
    scope: IConstruct, call: str, body: Any, shared: str = "", *, key: bool = False
) -> None:
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
    if key:
        actions = body.get("Action", body.get("NotAction"))
        refuse_key_admin(scope, call, body.get("Principal"), actions, "NotAction" in body)
