"""The execution role of a SecureFunction: least privilege, customer-managed policies only.

CDK's `grant_*` methods call `add_to_principal_policy` on the grantee's role, which for a plain
`iam.Role` writes an inline policy (flagged by NIST 800-53/HIPAA/PCI's IAMNoInlinePolicy). This
role lands every statement in a customer-managed policy instead, with CDK's action wildcards
expanded into explicit actions. Statements whose actions AWS supports only on `Resource: "*"`
(X-Ray, VPC network interfaces) go to a separate policy that holds nothing else, so the one
acknowledgement it carries cannot hide a wildcard a user adds later. The two sets every function
needs (X-Ray writes; VPC network interfaces) are one policy per stack, attached to each role that
needs them, which saves a resource per function.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from secure_constructs.checks.guard import ensure_checked
from secure_constructs.checks.iam_facts import (
    ACTION_EXPANSIONS,
    STAR_ONLY_ACTIONS,
    VPC_NETWORK_INTERFACE_ACTIONS,
    XRAY_WRITE_ACTIONS,
)
from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.open_grants import own_role_type
from secure_constructs.prop_types import check_args
from secure_constructs.shared import StackIds, per_stack, stack_of

# Per-stack policies for the star-only action sets every traced / VPC function needs.
_SHARED_STAR_ONLY: dict[frozenset[str], tuple[str, str]] = {
    frozenset(XRAY_WRITE_ACTIONS): (
        StackIds.XRAY_WRITE_POLICY,
        "X-Ray trace upload for the stack's functions (no resource-level permissions exist)",
    ),
    frozenset(VPC_NETWORK_INTERFACE_ACTIONS): (
        StackIds.VPC_NETWORK_INTERFACE_POLICY,
        "The network-interface actions Lambda needs for the stack's VPC functions",
    ),
}

# A statement, or a function making it when it is needed (a PolicyStatement is a round trip).
_Statement = iam.PolicyStatement | Callable[[], iam.PolicyStatement]

_STAR_ONLY_REASON = (
    "Holds only actions that AWS supports solely on Resource '*' (the allow-list "
    "secure_constructs.checks.iam_facts.STAR_ONLY_ACTIONS: X-Ray trace upload, the EC2 "
    "network-interface actions of a VPC function, Secrets Manager GetRandomPassword for "
    "rotation); no other statement can land in this policy."
)


@own_role_type
class CustomerManagedRole(iam.Role):
    """A service role whose statements all land in customer-managed policies (the base of
    LambdaExecutionRole and the workflow's StateMachineRole).

    :param assumed_by: the service principal that assumes the role.
    :param permissions_boundary: a permissions boundary for the role. Default: none.
    :param description: the role's description. Default: none.
    :param policy_description: the description of its resource-scoped policy.
    :param star_only_reason: the acknowledgement reason on its star-only policy. Default: the
        reason naming the star-only allow-list.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assumed_by: iam.IPrincipal,
        policy_description: str,
        star_only_reason: str = _STAR_ONLY_REASON,
        permissions_boundary: iam.IManagedPolicy | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=assumed_by,
            permissions_boundary=permissions_boundary,
            description=description,
        )
        self._role_stack: cdk.Stack = stack_of(scope)
        ensure_checked(self._role_stack)  # warns at synth when apply_checks was never called
        self._policy_description = policy_description
        self._star_only_reason = star_only_reason
        self._scoped: iam.ManagedPolicy | None = None
        self._star_only: iam.ManagedPolicy | None = None
        self._attached: dict[str, iam.ManagedPolicy] = {}
        self._key_scopes: list[tuple[str, Mapping[str, Any]]] = []

    def key_use_scoped(
        self, key_arn: str, conditions: Mapping[str, Any]
    ) -> contextlib.AbstractContextManager[None]:
        """A context in which an Allow of exactly kms:Decrypt on exactly `key_arn` with no
        condition, as CDK's `grant_consume_messages` writes it, gets `conditions` (for a queue
        trigger: kms:ViaService SQS and the queue's encryption context, so that the role
        decrypts that queue's messages and nothing else the key encrypts)."""
        check_args(CustomerManagedRole.key_use_scoped, locals())
        return self._key_scope(key_arn, conditions)

    @contextlib.contextmanager
    def _key_scope(self, key_arn: str, conditions: Mapping[str, Any]) -> Iterator[None]:
        self._key_scopes.append((key_arn, conditions))
        try:
            yield
        finally:
            self._key_scopes.pop()

    def _scoped_key_body(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        if "Condition" in body or body.get("Effect", "Allow") != "Allow":
            return None
        actions = body.get("Action")
        if (actions if isinstance(actions, list) else [actions]) != ["kms:Decrypt"]:
            return None  # only what grant_consume_messages writes: any other grant stays as made
        resources = body.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        for key_arn, conditions in reversed(self._key_scopes):
            if resources == [key_arn]:
                return {**body, "Condition": dict(conditions)}
        return None

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        check_args(CustomerManagedRole.add_to_principal_policy, locals())
        # One to_statement_json round trip per statement; a new statement object only when a
        # wildcard was expanded.
        body: dict[str, Any] = dict(statement.to_statement_json())
        expanded = _expanded_actions(body)
        if expanded is not None:
            body["Action"] = expanded
            statement = iam.PolicyStatement.from_json(body)
        scoped = self._scoped_key_body(body) if self._key_scopes else None
        if scoped is not None:
            body = scoped
            statement = iam.PolicyStatement.from_json(body)
        actions = _star_only_actions(body)
        if actions is not None and actions in _SHARED_STAR_ONLY:
            policy = self._attach_shared(*_SHARED_STAR_ONLY[actions], statement)
        else:
            policy = self._star_only_policy() if actions is not None else self._scoped_policy()
            policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)

    def add_scoped_statements(self, *statements: iam.PolicyStatement) -> None:
        """Add statements known to be resource-scoped, with no action wildcard and no star-only
        action, straight to the scoped policy: one round trip, no inspection. For statements of
        our own constructs only; everything else goes through `add_to_principal_policy`."""
        check_args(CustomerManagedRole.add_scoped_statements, locals())
        self._scoped_policy().add_statements(*statements)

    def _attach_shared(
        self, construct_id: str, description: str, statement: _Statement
    ) -> iam.ManagedPolicy:
        policy = self._attached.get(construct_id)
        if policy is not None:
            return policy
        policy = shared_star_only_policy(self._role_stack, construct_id, description, statement)
        policy.attach_to_role(self)
        self._attached[construct_id] = policy
        return policy

    @property
    def scoped_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding every resource-scoped statement."""
        return self._scoped

    @property
    def star_only_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding only the actions AWS supports solely on `*`."""
        return self._star_only

    def _scoped_policy(self) -> iam.ManagedPolicy:
        if self._scoped is None:
            self._scoped = iam.ManagedPolicy(
                self,
                "Policy",
                description=self._policy_description,
                roles=[self],
            )
        return self._scoped

    def _star_only_policy(self) -> iam.ManagedPolicy:
        if self._star_only is None:
            self._star_only = iam.ManagedPolicy(
                self,
                "StarOnlyPolicy",
                description="Only actions AWS supports solely on Resource '*' (STAR_ONLY_ACTIONS)",
                roles=[self],
            )
            acknowledge_made(
                self._star_only, "AwsSolutions-IAM5[Resource::*]", self._star_only_reason
            )
        return self._star_only


@own_role_type
class LambdaExecutionRole(CustomerManagedRole):
    """A Lambda execution role whose statements all land in customer-managed policies.

    Created by SecureFunction; not meant to be shared between functions (one role each).

    :param permissions_boundary: a permissions boundary for the role. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        permissions_boundary: iam.IManagedPolicy | None = None,
        description: str | None = None,
    ) -> None:
        check_args(LambdaExecutionRole.__init__, locals())
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            policy_description="Resource-scoped permissions of one function (grant_* lands here)",
            permissions_boundary=permissions_boundary,
            description=description,
        )


def _expanded_actions(body: dict[str, Any]) -> list[str] | None:
    """The statement's actions with CDK's wildcards expanded, or None when nothing changes."""
    actions = body.get("Action")
    if actions is None:
        return None
    listed = [actions] if isinstance(actions, str) else list(actions)
    expanded: list[str] = []
    for action in listed:
        for explicit in ACTION_EXPANSIONS.get(action, (action,)):
            if explicit not in expanded:
                expanded.append(explicit)
    return None if expanded == listed else expanded


def _star_only_actions(body: dict[str, Any]) -> frozenset[str] | None:
    """The statement's actions when it is an unconditioned Allow of star-only actions on `*`."""
    actions = body.get("Action", [])
    resources = body.get("Resource", [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    resources = [resources] if isinstance(resources, str) else list(resources)
    if (
        body.get("Effect") == "Allow"
        and "Condition" not in body
        and resources == ["*"]
        and bool(actions)
        and all(a in STAR_ONLY_ACTIONS for a in actions)
    ):
        return frozenset(actions)
    return None


def shared_star_only_policy(
    stack: cdk.Stack, construct_id: str, description: str, statement: _Statement
) -> iam.ManagedPolicy:
    """The stack's policy for one star-only action set, found or created on first use (the
    statement, or the function making it, is used only then)."""

    def create(scope: cdk.Stack, policy_id: str) -> iam.ManagedPolicy:
        made = statement() if callable(statement) else statement
        policy = iam.ManagedPolicy(scope, policy_id, description=description, statements=[made])
        acknowledge_made(policy, "AwsSolutions-IAM5[Resource::*]", _STAR_ONLY_REASON)
        return policy

    return per_stack(stack, construct_id, create, iam.ManagedPolicy)


def _xray_write() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(XRAY_WRITE_ACTIONS), resources=["*"])


def attach_xray_write(role: iam.IRole) -> None:
    """Attach the stack's X-Ray write policy (the star-only X-Ray actions) to `role`."""
    construct_id, description = _SHARED_STAR_ONLY[frozenset(XRAY_WRITE_ACTIONS)]
    shared_star_only_policy(stack_of(role), construct_id, description, _xray_write).attach_to_role(
        role
    )


__all__ = ["CustomerManagedRole", "LambdaExecutionRole"]
