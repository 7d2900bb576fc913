"""Refusing grants and resource-policy statements that would open a resource of ours to the world.

The judgement is the rules' (checks/policy_facts.py: which conditions restrict the caller), so a
construct never accepts what ResourcePolicyPublic would flag.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from secure_constructs.checks.accounts import (
    EVERYONE,
    OURS,
    UNKNOWN_ACCOUNT,
    account_of,
    is_root_of_ours,
    mark_own,
    pins_this_account,
)
from secure_constructs.checks.cfn import UNKNOWN, renderings, shown
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import is_kind, stack_of
from secure_constructs.prop_values import is_token

# KMS actions that administer the key (its policy, grants, aliases, tags, state, material,
# rotation and deletion): on the stack key only this account's root (the key policy's own
# administrator) may hold them, whatever the condition. They are the non-read actions of the
# key-administrators statement of AWS's default key policy (kms:Create*, Enable*, Put*,
# Update*, Revoke*, Disable*, Delete*, TagResource, UntagResource, ScheduleKeyDeletion,
# CancelKeyDeletion, RotateKeyOnDemand), and the grant, material and replica actions:
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
# A tag can widen who may use the key (attribute-based access control), an alias can be pointed
# elsewhere, a revoked grant stops a service: none of them is use of the key.
KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:CreateGrant",
    "kms:RevokeGrant",
    "kms:RetireGrant",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand",
    "kms:DeleteImportedKeyMaterial",
    "kms:ImportKeyMaterial",
    "kms:UpdateKeyDescription",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
)
_UNREADABLE_ACTION = "an action known only at deploy time"
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


_OWN_ROLE_TYPES: set[type] = set()

_RoleType = TypeVar("_RoleType", bound=type)


def own_role_type(cls: _RoleType) -> _RoleType:
    """Class decorator: instances of exactly `cls` (not of a subclass, which may change its
    principal) are roles whose principal is their own ARN with no condition, and which carry
    the stack they were made in as `_role_stack`."""
    _OWN_ROLE_TYPES.add(cls)
    return cls


def _own_role_of(stack: cdk.Stack, principal: object) -> bool:
    """Whether `principal` is a role of ours made in `stack`. Its policy fragment is
    `{"AWS": {"Fn::GetAtt": [<its logical id>, "Arn"]}}`, which `_opens` judges this account's
    (a role of this stack), so the answer is the slow path's without its dozen round trips."""
    return type(principal) in _OWN_ROLE_TYPES and getattr(principal, "_role_stack", None) is stack


class _Scope:
    """What a refusal reads of the scope's stack, each read once per refusal: the stack, the
    literal account ids that are its own (its env account, when it has one) and the types of
    its resources (`_StackTypes`, read on the first lookup `known` does not answer)."""

    def __init__(self, scope: IConstruct, known: Mapping[str, str] | None = None) -> None:
        self.stack = stack_of(scope)
        self.types = _StackTypes(self.stack, known)

    @functools.cached_property
    def accounts(self) -> frozenset[str]:
        own = self.stack.account
        return frozenset() if cdk.Token.is_unresolved(own) else frozenset({own})

    @classmethod
    def of_grantee(cls, scope: IConstruct, principal: iam.IPrincipal) -> _Scope:
        """The scope, with the grantee's own resource (a role made in this stack) known
        without walking the stack: a grant to each new function's role read every resource
        of the stack once per grant, so a stack of N triggers took N^2 round trips. The entry
        is exactly what the walk would find for it: the role's logical id and type, when it
        is of this stack and not of a nested one."""
        found = cls(scope)
        child = principal.node.default_child if isinstance(principal, Construct) else None
        if isinstance(child, cdk.CfnResource) and cdk.Stack.of(child) is found.stack:
            logical_id = str(found.stack.resolve(child.logical_id))
            found.types = _StackTypes(found.stack, {logical_id: _resource_type(child)})
        return found


_SERVICE_KEYS = frozenset({"Service"})


class _StackTypes(Mapping[str, str]):
    """Logical id -> type of every CloudFormation resource of the stack, so that only an ARN
    attribute of one of them (`Fn::GetAtt [Role, Arn]`) counts as this account's; an
    `Fn::ImportValue`, an SSM parameter's value or a custom resource's attribute is unknown.
    Read from the stack on the first lookup `known` (entries read from the resources
    themselves) does not answer: most statements hold no `Fn::GetAtt`, and walking the stack
    for each statement made a stack of 50 functions synthesize twice as slowly."""

    def __init__(self, stack: cdk.Stack, known: Mapping[str, str] | None = None) -> None:
        self._stack = stack
        self._known = dict(known or {})
        self._found: dict[str, str] | None = None

    def _read(self) -> dict[str, str]:
        if self._found is None:
            stack = self._stack
            nodes = stack.node.find_all()
            cfn = [n for n in nodes if is_kind(n, cdk.CfnResource)]
            if any(is_kind(n, cdk.Stack) and n is not stack for n in nodes):
                cfn = [n for n in cfn if cdk.Stack.of(n) is stack]  # not a nested stack's
            # The logical ids resolved in one round trip, the types from the L1 classes.
            ids = stack.resolve([n.logical_id for n in cfn])
            self._found = {str(i): _resource_type(n) for i, n in zip(ids, cfn, strict=True)}
            self._found.update(self._known)
        return self._found

    def __bool__(self) -> bool:
        return True  # `types or {}` must not read the stack

    def __getitem__(self, logical_id: str) -> str:
        if logical_id in self._known:
            return self._known[logical_id]
        return self._read()[logical_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


_CLASS_TYPES: dict[type, str | None] = {}


def _resource_type(node: cdk.CfnResource) -> str:
    """The resource's CloudFormation type: an L1 class's constant (read once per class), or
    the node's own for a generic `CfnResource` (a custom resource, say)."""
    cls = type(node)
    if cls not in _CLASS_TYPES:
        owner: Any = next((c for c in cls.__mro__ if "CFN_RESOURCE_TYPE_NAME" in vars(c)), None)
        _CLASS_TYPES[cls] = None if owner is None else str(owner.CFN_RESOURCE_TYPE_NAME)
    return _CLASS_TYPES[cls] or node.cfn_resource_type


def _principals(where: _Scope, principal: Any) -> list[tuple[str, str]]:
    """(account judgement, rendered principal) for every AWS/Federated value of a Principal."""
    if principal == "*" or principal is None:
        return [(EVERYONE, "*")] if principal == "*" else []
    if not isinstance(principal, dict):
        return [(UNKNOWN_ACCOUNT, str(principal))]
    found: list[tuple[str, str]] = []
    # Service principals are judged by their condition elsewhere (aws:SourceArn).
    for items in (v for key, v in principal.items() if key not in _SERVICE_KEYS):
        for item in items if isinstance(items, list) else [items]:
            texts = renderings(mark_own(item, where.types)) or [UNKNOWN]
            found.extend((account_of(t, where.accounts), t) for t in texts)
    return found


def _opens(where: _Scope, principal: Any, condition: Any) -> str | None:
    """What is open ('*', 'account <id>', an unknown account), or None when the principal is
    of this account (or pinned to it by the condition)."""
    pinned = pins_this_account(mark_own(condition, where.types), where.accounts)
    for judged, text in _principals(where, principal):
        if judged == OURS or pinned:
            continue
        if judged == EVERYONE:
            return f"'*' (every principal of every account: {text!r})"
        if judged == UNKNOWN_ACCOUNT and not text.replace(UNKNOWN, "").strip():
            return (
                f"a principal that cannot be read before deploy ({shown(text)!r}: an import, an "
                "SSM parameter's value, a mapping or a custom resource's attribute may be '*')"
            )
        if judged == UNKNOWN_ACCOUNT:
            return (
                f"an account known only at deploy time ({shown(text)!r}, not this stack's account)"
            )
        return f"account {judged} ({text!r})"
    return None


def _root_of_ours(where: _Scope, principal: Any) -> bool:
    judged = _principals(where, principal)
    return bool(judged) and all(is_root_of_ours(t, where.accounts) for _, t in judged)


def _admin_actions(actions: Any) -> list[str]:
    """The key-administration actions among `actions` (with IAM wildcards). An action that
    cannot be read (a token, an intrinsic, a parameter's value) counts as one: it may be any."""
    listed = actions if isinstance(actions, list) else [actions]
    found: list[str] = []
    for action in listed:
        if action is None:
            continue
        if not isinstance(action, str) or is_token(action):
            found.append(_UNREADABLE_ACTION)
            continue
        found.extend(a for a in KEY_ADMIN_ACTIONS if fnmatch.fnmatchcase(a.lower(), action.lower()))
    return found


def _readable(where: _Scope, actions: Any) -> Any:
    """`actions` with their tokens resolved (a `Token.as_string` of a literal becomes it)."""
    listed = actions if isinstance(actions, list) else [actions]
    if any(isinstance(a, str) and is_token(a) for a in listed):
        return where.stack.resolve(actions)
    return actions


def refuse_key_admin(
    scope: IConstruct, call: str, principal: Any, actions: Any, not_action: bool = False
) -> None:
    """A ValidationError when a principal other than this account's root gets the key's
    administration (kms:*, kms:PutKeyPolicy, kms:CreateGrant, ...), whatever the condition."""
    _refuse_key_admin(_Scope(scope), call, principal, actions, not_action)


def _refuse_key_admin(
    where: _Scope, call: str, principal: Any, actions: Any, not_action: bool = False
) -> None:
    admin = _admin_actions(_readable(where, actions))
    admin = admin or (["every action but those listed"] if not_action else [])
    if admin and not _root_of_ours(where, principal):
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
    grant_principal = grantee.grant_principal
    administers = bool(_admin_actions(list(key_actions or [])))
    if not administers and _own_role_of(stack_of(scope), grant_principal):
        return
    fragment = grant_principal.policy_fragment
    conditions = fragment.conditions or None
    where = _Scope.of_grantee(scope, grant_principal)
    principal = where.stack.resolve(fragment.principal_json)
    opened = _opens(where, principal, conditions)
    if opened:
        raise ValidationError(call, principal, f"a grantee other than {opened}{_why(shared)}", _FIX)
    if key_actions is not None:
        _refuse_key_admin(where, call, principal, list(key_actions))


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
    where = _Scope(scope)
    _refuse_body(where, call, where.stack.resolve(statement.to_statement_json()), shared, key)


def refuse_open_body(
    scope: IConstruct, call: str, body: Any, shared: str = "", *, key: bool = False
) -> None:
    """`refuse_open_statement` for a statement already resolved to JSON."""
    _refuse_body(_Scope(scope), call, body, shared, key)


def _refuse_body(where: _Scope, call: str, body: Any, shared: str, key: bool) -> None:
    if not isinstance(body, dict):
        return
    if body.get("Effect", "Allow") != "Allow":
        return  # a Deny (TLS-only, NotPrincipal "everyone but") only narrows
    if "NotPrincipal" in body:
        allowed = f"an Allow statement with Principal{_why(shared)}"
        raise ValidationError(call, body, allowed, _FIX)
    opened = _opens(where, body.get("Principal"), body.get("Condition"))
    if opened:
        allowed = f"a statement for principals other than {opened}{_why(shared)}"
        raise ValidationError(call, body, allowed, _FIX)
    if key:
        actions = body.get("Action", body.get("NotAction"))
        _refuse_key_admin(where, call, body.get("Principal"), actions, "NotAction" in body)
