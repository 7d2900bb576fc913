"""Grants to a role of ours on a guarded resource skip the open-grantee walk (open_grants.py),
but only for exactly our role types, in the resource's own stack, without key administration.

The shortcut saves a dozen jsii round trips per grant (a queue trigger makes one on the stack
key). These tests pin where it applies: the slow path is made to fail, so a grant that should
not take the shortcut, or a shortcut that stopped applying, shows up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction, open_grants
from secure_constructs.errors import ValidationError
from secure_constructs.role import LambdaExecutionRole
from secure_constructs.shared import security_key

_CODE = "def handler(event, context):\n    return None\n"


class _SlowPathError(Exception):
    pass


@pytest.fixture
def no_slow_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_: object, **__: object) -> None:
        raise _SlowPathError

    monkeypatch.setattr(open_grants._Scope, "of_grantee", classmethod(refuse))
    yield


def _function(stack: cdk.Stack, construct_id: str = "Fn") -> SecureFunction:
    code = lambda_.Code.from_inline(_CODE)
    return SecureFunction(stack, construct_id, code=code, handler="index.handler")


def test_a_grant_to_a_function_of_the_stack_takes_the_shortcut(no_slow_path: None) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    security_key(stack).grant_decrypt(fn)
    security_key(stack).grant(fn.execution_role, "kms:Decrypt", "kms:GenerateDataKey")


def test_key_administration_for_our_role_still_takes_the_slow_path(no_slow_path: None) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    with pytest.raises(_SlowPathError):
        security_key(stack).grant(fn.execution_role, "kms:CreateGrant")
    with pytest.raises(_SlowPathError):
        security_key(stack).grant_admin(fn)


def test_key_administration_for_our_role_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).grant(fn.execution_role, "kms:Create*")
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).grant_admin(fn)


def test_a_role_of_another_stack_takes_the_slow_path(no_slow_path: None) -> None:
    app = cdk.App()
    fn = _function(cdk.Stack(app, "Other"))
    with pytest.raises(_SlowPathError):
        security_key(cdk.Stack(app, "S")).grant_decrypt(fn)


def test_a_role_of_a_nested_stack_takes_the_slow_path(no_slow_path: None) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(cdk.NestedStack(stack, "Nested"))
    with pytest.raises(_SlowPathError):
        security_key(stack).grant_decrypt(fn)


class _OpenRole(LambdaExecutionRole):
    """A subclass may change its principal: it gets no shortcut."""

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return iam.AnyPrincipal().policy_fragment


def test_a_subclass_of_our_role_takes_the_slow_path(no_slow_path: None) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = _OpenRole(stack, "Role")
    with pytest.raises(_SlowPathError):
        security_key(stack).grant_decrypt(role)


def test_a_subclass_that_opens_its_principal_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = _OpenRole(stack, "Role")
    with pytest.raises(ValidationError, match="'\\*'"):
        security_key(stack).grant_decrypt(role)


def test_a_plain_role_takes_the_slow_path(no_slow_path: None) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(_SlowPathError):
        security_key(stack).grant_decrypt(role)


_NEWLY_ADMIN = (
    "kms:RevokeGrant",
    "kms:RetireGrant",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:RotateKeyOnDemand",
    "kms:Enable*",
    "kms:*Alias",
)


@pytest.mark.parametrize("action", _NEWLY_ADMIN)
def test_every_administration_action_of_awss_default_key_policy_is_refused(action: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).grant(fn, action)
    statement = iam.PolicyStatement(
        actions=[action], resources=["*"], principals=[fn.execution_role]
    )
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).add_to_resource_policy(statement)


def _admin_as_token(stack: cdk.Stack) -> str:
    return cdk.Token.as_string(cdk.Intrinsic("kms:PutKeyPolicy"))


def _parameter(stack: cdk.Stack) -> str:
    return cdk.CfnParameter(stack, "Action", default="kms:Decrypt").value_as_string


@pytest.mark.parametrize("action", [_admin_as_token, _parameter])
def test_a_grant_of_an_action_given_as_a_token_is_read_or_refused(
    action: Callable[[cdk.Stack], str],
) -> None:
    """A token resolving to an admin action is one; a parameter's value may be any."""
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).grant(fn, action(stack))


def test_a_key_policy_statement_with_an_admin_action_as_a_token_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    statement = iam.PolicyStatement(
        actions=[_admin_as_token(stack)], resources=["*"], principals=[fn.execution_role]
    )
    with pytest.raises(ValidationError, match="administration"):
        security_key(stack).add_to_resource_policy(statement)


def test_a_token_naming_a_use_action_is_granted() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    security_key(stack).grant(fn, cdk.Token.as_string(cdk.Intrinsic("kms:Decrypt")))
