"""CDK's own service statements on our shared resources are scoped; a literal-ARN policy naming
them is judged; kms:* for the stack's own literal root passes at synth, another's fails.

GIVEN a SecureFunction's alarm topic, dead-letter queue and stack key, WHEN CDK's
targets.SnsTopic / targets.SqsQueue / s3n destinations grant a service on them, THEN every
service statement carries a source condition and the pack reports nothing; WHEN a hand-made
CfnTopicPolicy/CfnQueuePolicy names them by literal ARN or URL and opens them, THEN the synth
fails (SecureConstructsSharedResources).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from secure_constructs import SecureFunction
from secure_constructs.checks.policy_facts import has_source_condition
from tests.synth import synth

CODE = "def handler(event, context):\n    return None\n"
ENV = cdk.Environment(account="123456789012", region="eu-west-1")
POLICY_RULES = (
    "ResourcePolicyPublic",
    "ResourcePolicyCrossAccount",
    "ResourcePolicyServiceSource",
    "KmsKeyPolicyFullAccess",
)


def _function(stack: cdk.Stack) -> SecureFunction:
    return SecureFunction(stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler")


def _service_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        document = props.get("KeyPolicy") or props.get("PolicyDocument") or {}
        for statement in document.get("Statement", []):
            if "Service" in (statement.get("Principal") or {}) and statement["Effect"] == "Allow":
                found.append(statement)
    return found


def _policy_findings(violations: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [v for v in violations if v[1].split("[")[0] in POLICY_RULES]


def test_scopes_cdks_service_statements_on_the_shared_topic_queue_and_key() -> None:
    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        rule = events.Rule(stack, "R", schedule=events.Schedule.rate(cdk.Duration.hours(1)))
        rule.add_target(targets.SnsTopic(fn.alarm_topic))
        rule.add_target(targets.SqsQueue(fn.dead_letter_queue))
        bucket = s3.Bucket(stack, "B", enforce_ssl=True)
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(fn.dead_letter_queue)
        )

    result = synth(build)

    statements = _service_statements(result.template)
    services = {str(s["Principal"]["Service"]) for s in statements}
    assert {"events.amazonaws.com", "s3.amazonaws.com"} <= services
    # CDK emits events->topic sns:Publish, events->key and s3->key with no condition
    unsourced = [s for s in statements if not has_source_condition(s.get("Condition"))]
    assert unsourced == []
    scoped = [s for s in statements if "aws:SourceAccount" in str(s.get("Condition"))]
    assert all(
        s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
        for s in scoped
    )
    assert _policy_findings(result.violations) == []


def test_leaves_a_statement_naming_a_role_too_unscoped() -> None:
    """A SourceAccount condition would deny the role (its calls carry no such key)."""

    def build(stack: cdk.Stack) -> None:
        fn = _function(stack)
        role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        fn.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[role, iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[fn.alarm_topic.topic_arn],
            )
        )

    result = synth(build)

    mixed = [s for s in _service_statements(result.template) if "AWS" in s["Principal"]]
    assert len(mixed) == 1 and "Condition" not in mixed[0]
    assert [v[1] for v in _policy_findings(result.violations)] == [
        "ResourcePolicyServiceSource[Service::events.amazonaws.com]"
    ]


def _literal_policy(stack: cdk.Stack, fn: SecureFunction, kind: str, target: str) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sns:Publish" if kind == "topic" else "sqs:SendMessage",
        "Resource": "*",
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    if kind == "topic":
        sns.CfnTopicPolicy(stack, "Literal", topics=[target], policy_document=document)
    else:
        sqs.CfnQueuePolicy(stack, "Literal", queues=[target], policy_document=document)


def _shared_failures(result: Any) -> list[tuple[str, str, str]]:
    return [v for v in result.violations if v[0] == "SecureConstructsSharedResources"]


def test_fails_a_policy_naming_the_shared_topic_or_queue_by_literal_arn_or_url() -> None:
    for kind, target in [
        ("topic", "arn:aws:sns:eu-west-1:123456789012:Test-SecureConstructsAlarmTopic-AB12"),
        ("topic", "arn:aws:sns:eu-west-1:123456789012:*"),
        ("queue", "https://sqs.eu-west-1.amazonaws.com/123456789012/Test-DeadLetterQueue-AB12"),
    ]:

        def build(stack: cdk.Stack, kind: str = kind, target: str = target) -> None:
            _literal_policy(stack, _function(stack), kind, target)

        result = synth(build, env=ENV)

        assert result.failed, target
        assert _shared_failures(result), target


def test_passes_a_literal_arn_of_another_account_or_region() -> None:
    def build(stack: cdk.Stack) -> None:
        _literal_policy(
            stack, _function(stack), "topic", "arn:aws:sns:us-east-1:999999999999:elsewhere"
        )

    result = synth(build, env=ENV)

    assert _shared_failures(result) == []


def test_kms_star_for_the_stacks_literal_root_passes_and_another_accounts_fails() -> None:
    def build(stack: cdk.Stack) -> None:
        # an env stack renders AccountRootPrincipal with its literal account
        kms.Key(stack, "Own", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
        other = kms.Key(
            stack, "Other", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        other.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.AccountPrincipal("444455556666")],
                actions=["kms:*"],
                resources=["*"],
            )
        )

    result = synth(build, env=ENV)

    own_root = result.template["Resources"]
    assert "123456789012:root" in str(own_root)  # the literal form the plugin must accept
    kms_findings = [v for v in result.violations if v[1].startswith("KmsKeyPolicyFullAccess")]
    assert [v[2].split("/")[1] for v in kms_findings] == ["Other"]


# --- the new rules on a user's own (not shared) topic, at synth --------------------------------

OTHER = "444455556666"


def _user_topic(stack: cdk.Stack, principal: iam.IPrincipal, **conditions: Any) -> None:
    topic = sns.Topic(
        stack, "UserTopic", master_key=kms.Alias.from_alias_name(stack, "A", "alias/aws/sns")
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[principal],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=conditions or None,
        )
    )


def test_flags_another_account_on_a_users_topic_unless_pinned_to_the_organization() -> None:
    opened = synth(lambda s: _user_topic(s, iam.AccountPrincipal(OTHER)), checks=True)
    pinned = synth(
        lambda s: _user_topic(
            s,
            iam.AccountPrincipal(OTHER),
            StringEquals={"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
        ),
        checks=True,
    )

    assert [v[1] for v in _policy_findings(opened.violations)] == [
        f"ResourcePolicyCrossAccount[Account::{OTHER}]"
    ]
    assert opened.failed
    assert _policy_findings(pinned.violations) == []


def test_warns_of_a_service_without_source_on_a_users_topic_unless_scoped() -> None:
    unsourced = synth(lambda s: _user_topic(s, iam.ServicePrincipal("events.amazonaws.com")))
    sourced = synth(
        lambda s: _user_topic(
            s,
            iam.ServicePrincipal("events.amazonaws.com"),
            StringEquals={"aws:SourceAccount": cdk.Stack.of(s).account},
        )
    )

    assert [v[1] for v in _policy_findings(unsourced.violations)] == [
        "ResourcePolicyServiceSource[Service::events.amazonaws.com]"
    ]
    assert not unsourced.failed  # a warning
    assert _policy_findings(sourced.violations) == []
