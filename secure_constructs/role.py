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

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from secure_constructs.checks import acknowledge
from secure_constructs.checks.iam_facts import (
    ACTION_EXPANSIONS,
    STAR_ONLY_ACTIONS,
    VPC_NETWORK_INTERFACE_ACTIONS,
    XRAY_WRITE_ACTIONS,
)

# Per-stack policies for the star-only action sets every traced / VPC function needs.
_SHARED_STAR_ONLY: dict[frozenset[str], tuple[str, str]] = {
    frozenset(XRAY_WRITE_ACTIONS): (
        "SecureConstructsXRayWritePolicy",
        "X-Ray trace upload for the stack's functions (no resource-level permissions exist)",
    ),
    frozenset(VPC_NETWORK_INTERFACE_ACTIONS): (
        "SecureConstructsVpcNetworkInterfacePolicy",
        "The network-interface actions Lambda needs for the stack's VPC functions",
    ),
}

_STAR_ONLY_REASON = (
    "Holds only actions that AWS supports solely on Resource '*' (the allow-list "
    "secure_constructs.checks.iam_facts.STAR_ONLY_ACTIONS: X-Ray trace upload, the EC2 "
    "network-interface actions of a VPC function, Secrets Manager GetRandomPassword for "
    "rotation); no other statement can land in this policy."
)


class LambdaExecutionRole(iam.Role):
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
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            permissions_boundary=permissions_boundary,
            description=description,
        )
        self._scoped: iam.ManagedPolicy | None = None
        self._star_only: iam.ManagedPolicy | None = None
        self._attached: set[str] = set()

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        explicit = _explicit(statement)
        actions = _star_only_actions(explicit)
        if actions is not None and actions in _SHARED_STAR_ONLY:
            policy = self._attach_shared(*_SHARED_STAR_ONLY[actions], explicit)
        else:
            policy = self._star_only_policy() if actions is not None else self._scoped_policy()
            policy.add_statements(explicit)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)

    def _attach_shared(
        self, construct_id: str, description: str, statement: iam.PolicyStatement
    ) -> iam.ManagedPolicy:
        stack = cdk.Stack.of(self)
        policy = stack.node.try_find_child(construct_id)
        if policy is None:
            policy = iam.ManagedPolicy(
                stack, construct_id, description=description, statements=[statement]
            )
            acknowledge(policy, "AwsSolutions-IAM5[Resource::*]", _STAR_ONLY_REASON)
        assert isinstance(policy, iam.ManagedPolicy)
        if construct_id not in self._attached:
            policy.attach_to_role(self)
            self._attached.add(construct_id)
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
                description="Resource-scoped permissions of one function (grant_* lands here)",
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
            acknowledge(self._star_only, "AwsSolutions-IAM5[Resource::*]", _STAR_ONLY_REASON)
        return self._star_only


def _explicit(statement: iam.PolicyStatement) -> iam.PolicyStatement:
    """The same statement with CDK's action wildcards expanded into explicit actions."""
    body: dict[str, Any] = dict(statement.to_statement_json())
    actions = body.get("Action")
    if actions is None:
        return statement
    listed = [actions] if isinstance(actions, str) else list(actions)
    expanded: list[str] = []
    for action in listed:
        for explicit in ACTION_EXPANSIONS.get(action, (action,)):
            if explicit not in expanded:
                expanded.append(explicit)
    if expanded == listed:
        return statement
    body["Action"] = expanded
    return iam.PolicyStatement.from_json(body)


def _star_only_actions(statement: iam.PolicyStatement) -> frozenset[str] | None:
    """The statement's actions when it is an unconditioned Allow of star-only actions on `*`."""
    body = statement.to_statement_json()
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


__all__ = ["LambdaExecutionRole"]
