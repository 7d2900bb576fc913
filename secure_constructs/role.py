"""The execution role of a SecureFunction: least privilege, customer-managed policies only.

CDK's `grant_*` methods call `add_to_principal_policy` on the grantee's role, which for a plain
`iam.Role` writes an inline policy (flagged by NIST 800-53/HIPAA/PCI's IAMNoInlinePolicy). This
role lands every statement in a customer-managed policy instead, with CDK's action wildcards
expanded into explicit actions. Statements whose actions AWS supports only on `Resource: "*"`
(X-Ray, VPC network interfaces) go to a separate policy that holds nothing else, so the one
acknowledgement it carries cannot hide a wildcard a user adds later.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

from secure_constructs.checks import acknowledge
from secure_constructs.checks.iam_facts import ACTION_EXPANSIONS, STAR_ONLY_ACTIONS

_STAR_ONLY_REASON = (
    "Holds only actions that AWS supports solely on Resource '*' (X-Ray "
    "PutTraceSegments/PutTelemetryRecords and, for a VPC function, the EC2 network-interface "
    "actions Lambda needs); no other statement can land in this policy."
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

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        explicit = _explicit(statement)
        policy = self._star_only_policy() if _is_star_only(explicit) else self._scoped_policy()
        policy.add_statements(explicit)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)

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
                description="Actions AWS supports only on Resource '*' (X-Ray, VPC ENIs)",
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


def _is_star_only(statement: iam.PolicyStatement) -> bool:
    body = statement.to_statement_json()
    actions = body.get("Action", [])
    resources = body.get("Resource", [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    resources = [resources] if isinstance(resources, str) else list(resources)
    return (
        body.get("Effect") == "Allow"
        and resources == ["*"]
        and bool(actions)
        and all(a in STAR_ONLY_ACTIONS for a in actions)
    )


__all__ = ["LambdaExecutionRole"]
