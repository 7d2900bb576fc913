"""acknowledge() and qualify_rule_id(): known, granular and cdk-nag ids; reasons a reviewer reads.

One synth proves the whole path: an acknowledged SecureServerless finding lands in the report's
suppressedViolations with its reason, an unacknowledged one fails the synth, and acknowledging
one granular finding leaves its siblings open.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.checks import Compliance, acknowledge, apply_checks, gate
from secure_constructs.checks.packs import acknowledge_made, qualify_rule_id
from tests.synth import Synthesized, synth

REASON = "Test fixture: this variable holds a dummy value that is not a credential."


@pytest.mark.parametrize(
    ("rule_id", "qualified"),
    [
        ("LambdaTimeout", "SecureServerless::LambdaTimeout"),
        ("SecureServerless::LambdaTimeout", "SecureServerless::LambdaTimeout"),
        ("IAMWildcard[Resource::*]", "SecureServerless::IAMWildcard[Resource::*]"),
        (
            "SecureServerless::IAMWildcard[Action::s3:*]",
            "SecureServerless::IAMWildcard[Action::s3:*]",
        ),
        (
            "LambdaEnvironmentSecret[DB_PASSWORD]",
            "SecureServerless::LambdaEnvironmentSecret[DB_PASSWORD]",
        ),
        ("LambdaAlarms[Throttles]", "SecureServerless::LambdaAlarms[Throttles]"),
        ("AwsSolutions-IAM5[Resource::*]", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        ("AwsSolutions::AwsSolutions-L1", "AwsSolutions::AwsSolutions-L1"),
        ("Serverless-LambdaDLQ", "Serverless::Serverless-LambdaDLQ"),
        ("NIST.800.53.R5-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"),
        ("HIPAA.Security-LambdaDLQ", "HIPAA.Security::HIPAA.Security-LambdaDLQ"),
        ("PCI.DSS.321-IAMNoInlinePolicy", "PCI.DSS.321::PCI.DSS.321-IAMNoInlinePolicy"),
    ],
)
def test_known_ids_get_their_pack_prefix(rule_id: str, qualified: str) -> None:
    assert qualify_rule_id(rule_id) == qualified


@pytest.mark.parametrize(
    "rule_id",
    [
        "",
        "NoSuchRule",
        "SecureServerless::NoSuchRule",
        "AwsSolutions-IAM999",
        "AwsSolutions::IAMWildcard",
        "SecureServerless::AwsSolutions-IAM5",
        "Serverless::AwsSolutions-IAM5",
        "[Resource::*]",
        "lambdatimeout",
        None,
    ],
)
def test_fails_when_the_rule_id_is_unknown(rule_id: Any) -> None:
    with pytest.raises(ValidationError, match=r"^rule_id=") as error:
        qualify_rule_id(rule_id)
    assert "Acknowledge with" in str(error.value)


@pytest.mark.parametrize(
    "rule_id",
    [
        "AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-IAM4",
        "SecureServerless::IAMWildcard",
        "LambdaEnvironmentSecret",
        "LambdaAlarms",
    ],
)
def test_fails_when_a_granular_only_rule_is_acknowledged_without_its_finding(rule_id: str) -> None:
    with pytest.raises(ValidationError, match=r"^rule_id=.*a granular id"):
        qualify_rule_id(rule_id)


def _resource() -> Any:
    return cdk.CfnResource(cdk.Stack(), "Resource", type="AWS::SNS::Topic")


@pytest.mark.parametrize(
    "reason", ["n/a", "false positive", "by design", "TODO write a reason later"]
)
def test_fails_when_the_reason_is_boilerplate(reason: str) -> None:
    with pytest.raises(ValidationError, match=r"^reason="):
        acknowledge(_resource(), "AwsSolutions-L1", reason)


def test_fails_when_the_rule_id_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^rule_id="):
        qualify_rule_id(cdk.Aws.STACK_NAME)


@pytest.mark.parametrize("reason", ["", "short", "   too short   ", "\t\n" * 8, None, 42])
def test_fails_when_the_reason_is_empty_or_short(reason: Any) -> None:
    with pytest.raises(ValidationError, match=r"^reason="):
        acknowledge(_resource(), "SecureServerless::LambdaTimeout", reason)


def test_fails_when_the_reason_is_a_token() -> None:
    token = cdk.Token.as_string(cdk.Fn.ref("SomeParameterWithALongName"))
    with pytest.raises(ValidationError, match=r"^reason="):
        acknowledge(_resource(), "SecureServerless::LambdaTimeout", token)


def test_fails_when_acknowledging_an_unknown_rule() -> None:
    with pytest.raises(ValidationError, match=r"^rule_id="):
        acknowledge(_resource(), "SecureServerless::NoSuchRule[x]", REASON)


# --- one synth: acknowledged, open and sibling findings -------------------------------------

FAKE_ACCESS_KEY = "AKIA" + "EXAMPLEEXAMPLE00"


def _secure_function(stack: cdk.Stack, construct_id: str, **variables: str) -> SecureFunction:
    fn = SecureFunction(
        stack,
        construct_id,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        handler="index.handler",
    )
    # An escape-hatch override: the construct itself refuses such values at construction.
    cfn = fn.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    for name, value in variables.items():
        cfn.add_property_override(f"Environment.Variables.{name}", value)
    return fn


def _build(stack: cdk.Stack) -> None:
    acked = _secure_function(
        stack, "Acked", DB_PASSWORD="not-a-real-password", UPSTREAM_KEY=FAKE_ACCESS_KEY
    )
    acknowledge(acked, "SecureServerless::LambdaEnvironmentSecret[DB_PASSWORD]", REASON)
    # a finding id with '::' inside the brackets, on the role's policy: the role is a sibling
    # of the function, and acknowledging the function reaches it
    # (s3:GetObject has a resource type, so "*" is a finding; s3:ListAllMyBuckets is star-only)
    acked.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    acknowledge(acked, "IAMWildcard[Resource::*]", REASON)
    _secure_function(stack, "Open", DB_PASSWORD="not-a-real-password")


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    return synth(_build)


def _ours(entries: list[Any]) -> list[tuple[str, ...]]:
    return sorted(tuple(e[1:]) for e in entries if e[0] == "SecureServerless")


@pytest.mark.synth
def test_an_unacknowledged_finding_fails_the_synth(synthesized: Synthesized) -> None:
    assert synthesized.failed
    # THEN exactly the unacknowledged findings are open: the sibling finding on the acknowledged
    # function and the same finding on the other function (SecureFunction's defaults add none)
    assert _ours(synthesized.violations) == [
        ("LambdaEnvironmentSecret[DB_PASSWORD]", "Test/Open/Resource"),
        ("LambdaEnvironmentSecret[UPSTREAM_KEY]", "Test/Acked/Resource"),
    ]


@pytest.mark.synth
def test_an_acknowledged_finding_is_reported_with_its_reason(synthesized: Synthesized) -> None:
    assert _ours(synthesized.acknowledged) == [
        ("IAMWildcard[Resource::*]", "Test/AckedServiceRole/Policy/Resource", REASON),
        ("LambdaEnvironmentSecret[DB_PASSWORD]", "Test/Acked/Resource", REASON),
    ]


def _scopes() -> list[Any]:
    app = cdk.App()
    group = Construct(app, "Group")  # a plain construct grouping stacks
    cdk.Stack(group, "S1")
    parent = cdk.Stack(app, "Parent")
    holder = Construct(parent, "Holder")  # a construct in a stack holding a nested stack
    cdk.NestedStack(holder, "Nested")
    return [
        app,
        cdk.Stage(app, "Prod"),
        cdk.Stack(app, "Stack"),
        group,
        Construct(app, "Loose"),
        holder,
        holder.node.find_child("Nested"),
    ]


@pytest.mark.parametrize(
    "index",
    range(7),
    ids=["app", "stage", "stack", "group-of-stacks", "outside-stacks", "holds-nested", "nested"],
)
def test_fails_when_acknowledging_on_a_scope_of_whole_stacks(index: int) -> None:
    scope = _scopes()[index]
    with pytest.raises(ValidationError, match=r"^construct=.*whole stacks.*acknowledge\(fn"):
        acknowledge(scope, "SecureServerless::LambdaTimeout", REASON)


def test_fails_at_synth_when_a_stack_is_added_below_an_acknowledged_construct() -> None:
    app = cdk.App()
    apply_checks(app)
    stack = cdk.Stack(app, "Parent")
    holder = Construct(stack, "Holder")
    acknowledge(holder, "SecureServerless::LambdaTimeout", REASON)  # accepted: nothing below yet
    cdk.NestedStack(holder, "Nested")
    with pytest.raises(Exception, match="AcknowledgementScope"):
        app.synth()


def test_the_gate_names_why_each_kind_of_scope_is_refused() -> None:
    """The gate (and `acknowledge`, through `spanned_scope`) judges a placement from the app's
    stacks and stages, read once, and the intent's recorded paths (companions included)."""
    scopes = _scopes()
    app = scopes[0]
    resource = Construct(scopes[2], "Resource")
    index = gate._Scopes(app)

    def verdict(construct: Any, *companions: Any) -> str | None:
        paths = tuple(c.node.path for c in (construct, *companions))
        return index.spanned(gate.Intent(construct, list(companions), "x", REASON, paths))

    assert [verdict(c) for c in scopes] == [
        "a App",
        "a Stage",
        "a Stack",
        "a construct outside every Stack",  # the group of stacks is under the App only
        "a construct outside every Stack",
        "a construct holding the NestedStack 'Parent/Holder/Nested'",
        "a Stack",
    ]
    assert verdict(resource) is None
    assert verdict(resource, scopes[5]) == (
        "a construct holding the NestedStack 'Parent/Holder/Nested'"
    )
    assert gate.spanned_scope(scopes[5]) == verdict(scopes[5])
    assert gate.spanned_scope(resource) is None


@pytest.mark.parametrize("scope", ["stack", "holder", "loose"])
def test_the_librarys_own_acknowledgements_are_judged_at_synth(scope: str) -> None:
    """`acknowledge_made` (the library's calls) skips the call-time walk; the gate still refuses
    an acknowledgement on a scope, including a stack added below it later."""
    app = cdk.App()
    apply_checks(app)
    stack = cdk.Stack(app, "Parent")
    if scope == "stack":
        with pytest.raises(AssertionError, match="for resources"):
            acknowledge_made(stack, "SecureServerless::LambdaTimeout", REASON)
        return
    target = Construct(stack, "Holder") if scope == "holder" else Construct(app, "Loose")
    acknowledge_made(target, "SecureServerless::LambdaTimeout", REASON)
    if scope == "holder":
        cdk.NestedStack(target, "Nested")
    with pytest.raises(Exception, match="AcknowledgementScope"):
        app.synth()


def test_fails_at_synth_when_a_stack_is_added_below_a_companion_of_an_acknowledged_function() -> (
    None
):
    """acknowledge(fn, ...) reaches the function's role, log group and queue: a nested stack
    put under one of them would be covered too, so it is refused like one under the function."""
    app = cdk.App()
    apply_checks(app)
    stack = cdk.Stack(app, "Parent")
    fn = SecureFunction(
        stack, "Fn", code=lambda_.Code.from_inline("def handler(e, c): pass"), handler="i.h"
    )
    acknowledge(fn, "SecureServerless::LambdaTimeout", REASON)
    cdk.NestedStack(fn.execution_role, "Nested")
    with pytest.raises(Exception, match="AcknowledgementScope"):
        app.synth()


@pytest.mark.parametrize("construct", [None, "Stack/Fn", 42])
def test_fails_when_the_construct_is_not_a_construct(construct: Any) -> None:
    with pytest.raises(ValidationError, match=r"^construct="):
        acknowledge(construct, "SecureServerless::LambdaTimeout", REASON)


@pytest.mark.parametrize(
    ("kwargs", "prop"),
    [
        ({"scope": None}, "scope"),
        ({"scope": "app"}, "scope"),
        ({"max_timeout": 60}, "max_timeout"),
        ({"max_timeout": cdk.Duration.seconds(901)}, "max_timeout"),
        ({"compliance": Compliance.HIPAA}, "compliance"),
        ({"compliance": 3}, "compliance"),
        ({"compliance": ["HIPAA"]}, "compliance"),
    ],
)
def test_fails_when_apply_checks_gets_a_bad_argument(kwargs: dict[str, Any], prop: str) -> None:
    args: dict[str, Any] = {"scope": cdk.App(), **kwargs}
    scope = args.pop("scope")
    with pytest.raises(ValidationError, match=rf"^{prop}(\[0\])?="):
        apply_checks(scope, **args)


def test_fails_when_apply_checks_is_given_a_stack() -> None:
    with pytest.raises(ValidationError, match=r"^scope=.*apply_checks\(app\)"):
        apply_checks(cdk.Stack(cdk.App(), "Stack"))
