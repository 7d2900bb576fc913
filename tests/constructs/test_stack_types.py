"""The shared resources' refusals tell this account's ARNs by the stack's resource types
(`open_grants._StackTypes`): every L1 of the stack with its type, none of a nested stack's."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from secure_constructs.open_grants import _Scope, _StackTypes


class _MyRole(iam.CfnRole):
    """A user's subclass of an L1 keeps its class's type."""


def test_every_resource_of_the_stack_with_its_type_and_none_of_a_nested_stack() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal())
    _MyRole(stack, "Mine", assume_role_policy_document={})
    cdk.CfnResource(stack, "Custom", type="Custom::Thing")
    sqs.Queue(cdk.NestedStack(stack, "Nested"), "Inner")
    types = dict(_StackTypes(stack))
    role_id = stack.resolve((role.node.default_child).logical_id)  # type: ignore[union-attr]
    assert types[role_id] == "AWS::IAM::Role"
    assert types["Mine"] == "AWS::IAM::Role"
    assert types["Custom"] == "Custom::Thing"
    assert "AWS::SQS::Queue" not in types.values()  # the nested stack's queue is not this one's
    assert "AWS::CloudFormation::Stack" in types.values()


def test_a_nested_stack_reads_its_own_resources() -> None:
    nested = cdk.NestedStack(cdk.Stack(cdk.App(), "S"), "Nested")
    sqs.Queue(nested, "Inner")
    assert sorted(dict(_StackTypes(nested)).values()) == ["AWS::SQS::Queue"]


def test_a_grant_to_a_role_of_this_stack_knows_the_role_without_reading_the_stack() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal())
    types = _Scope.of_grantee(stack, role).types
    role_id = stack.resolve((role.node.default_child).logical_id)  # type: ignore[union-attr]
    assert types[role_id] == "AWS::IAM::Role"
    assert isinstance(types, _StackTypes) and types._found is None  # the stack was not walked
    assert "Elsewhere" not in types  # any other id is still looked up in the stack
    assert types._found is not None and types[role_id] == "AWS::IAM::Role"


def test_a_role_of_a_nested_or_other_stack_or_an_imported_one_is_not_taken_as_this_stacks() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    roles = [
        iam.Role(cdk.NestedStack(stack, "Nested"), "R", assumed_by=iam.AccountRootPrincipal()),
        iam.Role(cdk.Stack(app, "Other"), "R", assumed_by=iam.AccountRootPrincipal()),
        iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::111122223333:role/x"),
    ]
    for role in roles:
        assert _Scope.of_grantee(stack, role).types._known == {}, role.node.path
    assert _Scope.of_grantee(stack, iam.AnyPrincipal()).types._known == {}
