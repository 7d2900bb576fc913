"""The stack key, the alarm topic and the shared dead-letter queue refuse to be opened at the call.

GIVEN a SecureFunction (which creates all three), WHEN a grant or a resource-policy statement
would open one of them to every principal or to another account without a restricting
condition, THEN a ValidationError names the call and the fix, and nothing was added; grants
to a role of the account or to a service with a scoped aws:SourceArn pass, also at synth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from secure_constructs import SecureFunction
from secure_constructs.errors import ValidationError
from secure_constructs.shared import alarm_topic, security_key
from tests.synth import Synthesized, synth

CODE = "def handler(event, context):\n    return None\n"
OTHER_ACCOUNT = "444455556666"
POLICY_RULES = ("ResourcePolicyPublic", "KmsKeyPolicyFullAccess")


def _function(stack: cdk.Stack) -> SecureFunction:
    return SecureFunction(stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler")


def _open_allows(stack: cdk.Stack, prefix: str = "") -> list[dict[str, Any]]:
    """Every Allow statement of every key, topic and queue policy (whose logical id starts
    with `prefix`) whose principal is not the account root (CDK's key admin statement) nor a
    service."""
    found = []
    resources = Template.from_stack(stack).to_json()["Resources"]
    for logical_id, resource in resources.items():
        if not logical_id.startswith(prefix):
            continue
        props = resource.get("Properties", {})
        document = props.get("KeyPolicy") or props.get("PolicyDocument") or {}
        for statement in document.get("Statement", []):
            principal = statement.get("Principal")
            if not principal or statement["Effect"] != "Allow" or "Service" in principal:
                continue
            if "root" not in str(principal) or OTHER_ACCOUNT in str(principal):
                found.append(statement)
    return found


def _statement(principal: iam.IPrincipal, action: str, **extra: Any) -> iam.PolicyStatement:
    return iam.PolicyStatement(principals=[principal], actions=[action], resources=["*"], **extra)


REFUSED_GRANTS: list[tuple[str, str, Callable[[Any, iam.IGrantable], object], iam.IGrantable]] = [
    ("topic", "grant_publish", lambda t, g: t.grant_publish(g), iam.AnyPrincipal()),
    ("topic", "grant_subscribe", lambda t, g: t.grant_subscribe(g), iam.StarPrincipal()),
    ("topic", "grant_on_key", lambda t, g: t.grant_on_key(g, "kms:Decrypt"), iam.AnyPrincipal()),
    ("queue", "grant_send_messages", lambda q, g: q.grant_send_messages(g), iam.AnyPrincipal()),
    (
        "queue",
        "grant_consume_messages",
        lambda q, g: q.grant_consume_messages(g),
        iam.AnyPrincipal(),
    ),
    ("queue", "grant_purge", lambda q, g: q.grant_purge(g), iam.ArnPrincipal("*")),
    ("queue", "grant", lambda q, g: q.grant(g, "sqs:SendMessage"), iam.AnyPrincipal()),
    ("queue", "grant_on_key", lambda q, g: q.grant_on_key(g, "kms:Decrypt"), iam.AnyPrincipal()),
    ("key", "grant_decrypt", lambda k, g: k.grant_decrypt(g), iam.AnyPrincipal()),
    ("key", "grant_encrypt", lambda k, g: k.grant_encrypt(g), iam.AnyPrincipal()),
    ("key", "grant_encrypt_decrypt", lambda k, g: k.grant_encrypt_decrypt(g), iam.AnyPrincipal()),
    ("key", "grant", lambda k, g: k.grant(g, "kms:Decrypt"), iam.AnyPrincipal()),
    ("key", "grant_admin", lambda k, g: k.grant_admin(g), iam.AccountPrincipal(OTHER_ACCOUNT)),
    ("key", "grant_decrypt", lambda k, g: k.grant_decrypt(g), iam.AccountPrincipal(OTHER_ACCOUNT)),
    ("key", "grant_sign", lambda k, g: k.grant_sign(g), iam.AnyPrincipal()),
    ("key", "grant_verify", lambda k, g: k.grant_verify(g), iam.AnyPrincipal()),
    ("key", "grant_sign_verify", lambda k, g: k.grant_sign_verify(g), iam.AnyPrincipal()),
    ("key", "grant_generate_mac", lambda k, g: k.grant_generate_mac(g), iam.AnyPrincipal()),
    ("key", "grant_verify_mac", lambda k, g: k.grant_verify_mac(g), iam.AnyPrincipal()),
]
IDS = {
    "topic": "SecureConstructsAlarmTopic",
    "queue": "SecureConstructsDeadLetterQueue",
    "key": "SecureConstructsKey",
}


def _target(fn: SecureFunction, kind: str) -> Any:
    stack = cdk.Stack.of(fn)
    return {
        "topic": fn.alarm_topic,
        "queue": fn.dead_letter_queue,
        "key": security_key(stack),
    }[kind]


@pytest.mark.parametrize(("kind", "method", "call", "grantee"), REFUSED_GRANTS)
def test_fails_when_a_shared_resource_is_granted_to_everyone_or_another_account(
    kind: str, method: str, call: Callable[[Any, iam.IGrantable], object], grantee: iam.IGrantable
) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)

    with pytest.raises(ValidationError) as error:
        call(_target(fn, kind), grantee)

    assert error.value.prop == f"{IDS[kind]}.{method}(grantee)"
    assert "a role of this account" in error.value.fix
    assert "aws:SourceArn" in error.value.fix
    assert "of the stack" in error.value.allowed  # why this resource matters
    assert _open_allows(stack) == []  # nothing half-built: no statement for * or the account


REFUSED_STATEMENTS = [
    _statement(iam.AnyPrincipal(), "kms:Decrypt"),
    _statement(iam.AccountPrincipal(OTHER_ACCOUNT), "kms:Decrypt"),
    # A condition that names no one: any caller matches a wildcard source.
    _statement(
        iam.AnyPrincipal(), "kms:Decrypt", conditions={"StringLike": {"aws:SourceArn": "*"}}
    ),
    # ForAllValues passes when the request has no such key; Null only tests presence.
    _statement(
        iam.AnyPrincipal(),
        "kms:Decrypt",
        conditions={"ForAllValues:StringEquals": {"aws:SourceAccount": "111122223333"}},
    ),
    _statement(iam.AnyPrincipal(), "kms:Decrypt", conditions={"Null": {"aws:SourceArn": "false"}}),
    # ...IfExists passes for every caller that has no such key (a direct call has none).
    _statement(
        iam.AnyPrincipal(),
        "kms:Decrypt",
        conditions={"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}},
    ),
]


@pytest.mark.parametrize("kind", ["topic", "queue", "key"])
@pytest.mark.parametrize("statement", REFUSED_STATEMENTS)
def test_fails_when_a_statement_opens_a_shared_resource(
    kind: str, statement: iam.PolicyStatement
) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)

    with pytest.raises(ValidationError) as error:
        _target(fn, kind).add_to_resource_policy(statement)

    assert error.value.prop == f"{IDS[kind]}.add_to_resource_policy(statement)"
    assert "aws:SourceArn" in error.value.fix
    assert _open_allows(stack) == []


def test_fails_when_an_allow_uses_not_principal() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    statement = iam.PolicyStatement(
        not_principals=[iam.AccountRootPrincipal()], actions=["kms:Decrypt"], resources=["*"]
    )

    with pytest.raises(ValidationError, match="an Allow statement with Principal"):
        security_key(stack).add_to_resource_policy(statement)


def test_fails_when_cdk_itself_reaches_the_key_or_topic_and_names_the_users_line() -> None:
    """Through CDK's own code (the `grants` objects, a queue of the user's encrypted with the
    stack key, iam.Grant) the refusal fires inside jsii's callback: it reaches the user as
    jsii's RuntimeError with the same message, naming this file's line."""
    stack = cdk.Stack(cdk.App(), "S")
    fn = _function(stack)
    own_queue = sqs.Queue(stack, "Own", encryption_master_key=security_key(stack))
    calls: list[Callable[[], object]] = [
        lambda: fn.alarm_topic.grants.publish(iam.AnyPrincipal()),
        lambda: security_key(stack).grants.decrypt(iam.AnyPrincipal()),
        lambda: own_queue.grant_send_messages(iam.AnyPrincipal()),
        lambda: iam.Grant.add_to_principal_or_resource(
            grantee=iam.AnyPrincipal(),
            actions=["kms:Decrypt"],
            resource_arns=["*"],
            resource=security_key(stack),
        ),
    ]
    for call in calls:
        with pytest.raises(RuntimeError) as error:
            call()
        assert "test_shared_refusals.py:" in str(error.value)
        assert "every principal of every account" in str(error.value)
        assert "aws:SourceArn" in str(error.value)
    # Nothing reached the shared resources (the user's own queue got its queue statement
    # before CDK asked the key: that half is the user's queue's, and the synth never runs).
    assert _open_allows(stack, prefix="SecureConstructs") == []


def test_the_topic_found_again_is_the_guarded_one() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _function(stack)

    with pytest.raises(ValidationError):
        alarm_topic(stack).grant_publish(iam.AnyPrincipal())


# --- compliant variants: a role of the account, a service with a scoped aws:SourceArn --------


def build_compliant(stack: cdk.Stack) -> None:
    fn = _function(stack)
    reader = _function_named(stack, "Reader")
    fn.alarm_topic.grant_publish(reader)
    fn.dead_letter_queue.grant_consume_messages(reader)
    security_key(stack).grant_decrypt(reader)
    rule_arn = stack.format_arn(service="events", resource="rule", resource_name="nightly")
    events = iam.ServicePrincipal(
        "events.amazonaws.com", conditions={"ArnEquals": {"aws:SourceArn": rule_arn}}
    )
    fn.alarm_topic.grant_publish(events)
    fn.dead_letter_queue.add_to_resource_policy(
        _statement(
            iam.ServicePrincipal("sns.amazonaws.com"),
            "sqs:SendMessage",
            conditions={"ArnEquals": {"aws:SourceArn": fn.alarm_topic.topic_arn}},
        )
    )
    # Another account, pinned to the organization.
    partner = iam.AccountPrincipal(OTHER_ACCOUNT).with_conditions(
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    )
    security_key(stack).add_to_resource_policy(_statement(partner, "kms:Decrypt"))
    # A TLS-only deny to everyone is a narrowing, not an opening.
    fn.alarm_topic.add_to_resource_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sns:Subscribe"],
            resources=["*"],
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
    )


def _function_named(stack: cdk.Stack, name: str) -> SecureFunction:
    return SecureFunction(stack, name, code=lambda_.Code.from_inline(CODE), handler="index.handler")


@pytest.fixture(scope="module")
def compliant() -> Synthesized:
    return synth(build_compliant)


def test_compliant_grants_pass_with_no_policy_finding(compliant: Synthesized) -> None:
    policy_findings = [v for v in compliant.violations if v[1].split("[")[0] in POLICY_RULES]
    assert policy_findings == []


def test_compliant_grants_land_where_asked(compliant: Synthesized) -> None:
    topic_policy = next(iter(compliant.resources("AWS::SNS::TopicPolicy").values()))
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    events = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert [s["Action"] for s in events] == ["sns:Publish"]
    assert "aws:SourceArn" in events[0]["Condition"]["ArnEquals"]
    key_statements = compliant.only("AWS::KMS::Key")[1]["Properties"]["KeyPolicy"]["Statement"]
    partner = [s for s in key_statements if OTHER_ACCOUNT in str(s.get("Principal"))]
    assert partner and partner[0]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    }


# --- past the methods: a statement added to the policy document itself ----------------------


def _add_to_document(fn: SecureFunction, kind: str, statement: iam.PolicyStatement) -> None:
    if kind == "key":
        security_key(cdk.Stack.of(fn)).node.default_child.key_policy.add_statements(statement)  # type: ignore[union-attr]
    else:
        _target(fn, kind).node.find_child("Policy").document.add_statements(statement)


@pytest.mark.parametrize("kind", ["topic", "queue", "key"])
def test_fails_the_synth_when_a_statement_is_added_to_the_policy_document_directly(
    kind: str,
) -> None:
    app = cdk.App()
    fn = _function(cdk.Stack(app, "S"))
    _add_to_document(fn, kind, _statement(iam.AnyPrincipal(), "kms:Decrypt"))

    with pytest.raises(RuntimeError, match="ValidationFailedWithErrors") as error:
        app.synth()  # without apply_checks: the resource's own validation
    assert f"[S/{IDS[kind]}] {IDS[kind]} policy statement=" in str(error.value)
    assert "remove the statement added to the policy document directly" in str(error.value)


def test_a_scoped_statement_added_to_the_document_passes_the_validation() -> None:
    app = cdk.App()
    fn = _function(cdk.Stack(app, "S"))
    scoped = _statement(
        iam.ServicePrincipal("sns.amazonaws.com"),
        "sqs:SendMessage",
        conditions={"ArnEquals": {"aws:SourceArn": fn.alarm_topic.topic_arn}},
    )
    _add_to_document(fn, "queue", scoped)

    app.synth()


def test_a_refusal_on_the_alarm_delivery_key_names_that_key() -> None:
    from secure_constructs.monitoring import _alarm_delivery_key

    stack = cdk.Stack(cdk.App(), "S")
    key = _alarm_delivery_key(stack)
    with pytest.raises(ValidationError, match="alarm e-mails SNS could not deliver") as refused:
        key.grant_decrypt(iam.AnyPrincipal())
    assert "every secret, log group" not in str(refused.value)
    with pytest.raises(ValidationError, match="every secret, log group"):
        security_key(stack).grant_decrypt(iam.AnyPrincipal())
