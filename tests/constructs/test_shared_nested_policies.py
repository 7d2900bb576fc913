"""A policy written by hand in a nested stack that opens the parent stack's shared topic or
dead-letter queue fails the synth, without apply_checks: the parent's template names no such
policy (it lives in the nested template), so the construct-tree validation must find it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from secure_constructs.dead_letters import shared_dead_letter_queue
from secure_constructs.shared import alarm_topic


def _open(resource_arn: str) -> iam.PolicyDocument:
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                actions=["sns:Publish", "sqs:SendMessage"],
                principals=[iam.AnyPrincipal()],
                resources=[resource_arn],
            )
        ]
    )


def _topic(stack: cdk.Stack, inner: cdk.NestedStack) -> str:
    topic = alarm_topic(stack)
    sns.CfnTopicPolicy(inner, "Open", topics=[topic.topic_arn], policy_document=_open("*"))
    return "SecureConstructsAlarmTopic"


def _queue(stack: cdk.Stack, inner: cdk.NestedStack) -> str:
    queue = shared_dead_letter_queue(stack)
    sqs.CfnQueuePolicy(inner, "Open", queues=[queue.queue_url], policy_document=_open("*"))
    return "SecureConstructsDeadLetterQueue"


@pytest.mark.synth
@pytest.mark.parametrize("build", [_topic, _queue], ids=["topic", "queue"])
def test_fails_the_synth_when_a_nested_stack_policy_opens_a_shared_resource(
    build: Callable[[cdk.Stack, cdk.NestedStack], str],
) -> None:
    app = cdk.App(outdir=tempfile.mkdtemp(prefix="sc-nested-"))
    stack = cdk.Stack(app, "P")
    shared = build(stack, cdk.NestedStack(stack, "Inner"))
    with pytest.raises(RuntimeError, match=rf"P/Inner/Open \(names {shared}\)"):
        app.synth()


class _MyQueuePolicy(sqs.CfnQueuePolicy):
    """A user's subclass of the L1 is a queue policy all the same."""


def _subclassed(stack: cdk.Stack, inner: cdk.NestedStack) -> str:
    queue = shared_dead_letter_queue(stack)
    _MyQueuePolicy(inner, "Open", queues=[queue.queue_url], policy_document=_open("*"))
    return "SecureConstructsDeadLetterQueue"


def _both(stack: cdk.Stack, inner: cdk.NestedStack) -> str:
    """Two shared resources of one stack, one walk: the policy naming the second is found."""
    alarm_topic(stack)
    return _queue(stack, inner)


@pytest.mark.synth
@pytest.mark.parametrize("build", [_subclassed, _both], ids=["subclass", "both-shared"])
def test_fails_the_synth_for_a_subclassed_policy_and_beside_another_shared_resource(
    build: Callable[[cdk.Stack, cdk.NestedStack], str],
) -> None:
    test_fails_the_synth_when_a_nested_stack_policy_opens_a_shared_resource(build)


def test_a_closed_policy_naming_a_shared_resource_passes() -> None:
    app = cdk.App(outdir=tempfile.mkdtemp(prefix="sc-nested-"))
    stack = cdk.Stack(app, "P")
    queue = shared_dead_letter_queue(stack)
    closed = iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[iam.AccountRootPrincipal()],
                resources=[queue.queue_arn],
            )
        ]
    )
    sqs.CfnQueuePolicy(
        cdk.NestedStack(stack, "Inner"), "Mine", queues=[queue.queue_url], policy_document=closed
    )
    app.synth()
