"""The per-stack singletons: `per_stack` finds or creates each once, refuses a reserved id taken
by another kind of construct, and the caches around it never depend on which Python object
stands for a construct (jsii hands out a new proxy for a construct read from the tree)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from secure_constructs import (
    ApiAuth,
    SecureFunction,
    ValidationError,
    function,
    monitoring,
    secret,
    shared,
)
from secure_constructs.shared import StackIds, per_stack

CODE = "def handler(event, context):\n    return {'ok': True}\n"


def test_public_construct_ids_are_one_table() -> None:
    # GIVEN the table; THEN the ids (a public contract) are these, once each
    assert StackIds.all() == {
        "KEY": "SecureConstructsKey",
        "ALARM_TOPIC": "SecureConstructsAlarmTopic",
        "DEAD_LETTER_QUEUE": "SecureConstructsDeadLetterQueue",
        "ALARM_SUBSCRIPTION_DLQ": "SecureConstructsAlarmSubscriptionDlq",
        "ALARM_DELIVERY_KEY": "SecureConstructsAlarmDeliveryKey",
        "ROTATION_EVENTS_DLQ": "SecureConstructsRotationEventsDlq",
        "XRAY_WRITE_POLICY": "SecureConstructsXRayWritePolicy",
        "VPC_NETWORK_INTERFACE_POLICY": "SecureConstructsVpcNetworkInterfacePolicy",
        "API_GATEWAY_ACCOUNT": "SecureConstructsApiGatewayAccount",
        "LOG_FORWARDING": "SecureConstructsLogForwarding",
        "MONITORING": "SecureConstructsMonitoring",
        "TRIGGER_HARDENING": "SecureConstructsTriggerHardening",
    }
    # and the module-level names the constructs used before read the same table
    assert shared.KEY_ID == StackIds.KEY and shared.TOPIC_ID == StackIds.ALARM_TOPIC
    assert function.DEAD_LETTER_QUEUE_ID == StackIds.DEAD_LETTER_QUEUE
    assert monitoring.SUBSCRIPTION_DLQ_ID == StackIds.ALARM_SUBSCRIPTION_DLQ
    assert secret.EVENTS_DLQ_ID == StackIds.ROTATION_EVENTS_DLQ
    assert shared.ACCOUNT_LOGGING_ID == StackIds.API_GATEWAY_ACCOUNT


def test_per_stack_creates_once_and_finds_a_child_made_elsewhere() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    calls: list[str] = []

    def factory(scope: cdk.Stack, construct_id: str) -> sns.Topic:
        calls.append(construct_id)
        return sns.Topic(scope, construct_id)

    # WHEN asked twice, from the stack and from a child scope
    first = per_stack(stack, "Shared", factory)
    child = cdk.Stack(cdk.App(), "Other")
    second = per_stack(sns.Topic(stack, "Child"), "Shared", factory)
    # THEN one construct, made once, under the stack
    assert first is second and calls == ["Shared"]
    assert first.node.path == "Test/Shared"
    # GIVEN a child the user made under the id; THEN it is found, not made again
    made = sns.Topic(child, "Shared")
    assert per_stack(child, "Shared", factory, sns.Topic) is made
    assert calls == ["Shared"]


def test_fails_when_a_reserved_id_holds_another_kind_of_construct() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    sns.Topic(stack, StackIds.DEAD_LETTER_QUEUE)

    with pytest.raises(ValidationError) as refused:
        function.shared_dead_letter_queue(stack)

    assert refused.value.prop == "construct_id"
    assert StackIds.DEAD_LETTER_QUEUE in str(refused.value)
    assert "another id" in str(refused.value)


def _function(stack: cdk.Stack, construct_id: str, **props: object) -> SecureFunction:
    return SecureFunction(
        stack,
        construct_id,
        code=lambda_.Code.from_inline(CODE),
        handler="index.handler",
        **props,  # type: ignore[arg-type]
    )


def test_a_queue_read_from_the_tree_finds_its_alarm_again() -> None:
    # GIVEN one imported queue, handed to each function as a fresh jsii proxy
    stack = cdk.Stack(cdk.App(), "Test")
    sqs.Queue.from_queue_arn(stack, "Failures", "arn:aws:sqs:us-east-1:123456789012:failures")
    first, second = stack.node.find_child("Failures"), stack.node.find_child("Failures")
    assert first is not second  # the premise: two Python objects for one queue

    # WHEN two functions send their failures to it
    _function(stack, "A", dead_letter_queue=first)
    _function(stack, "B", dead_letter_queue=second)

    # THEN the queue has one depth alarm (under the first function), not one per proxy
    alarms = assertions.Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    queue_alarms = [logical_id for logical_id in alarms if "DeadLetterQueueAlarm" in logical_id]
    assert len(queue_alarms) == 1 and queue_alarms[0].startswith("A")


def _token_authorizers(same_token: bool) -> list[dict[str, object]]:
    stack = cdk.Stack(cdk.App(), "Test")
    fn = _function(stack, "Authorizer")
    ttl = cdk.CfnParameter(stack, "Ttl", type="Number")
    other = ttl if same_token else cdk.CfnParameter(stack, "OtherTtl", type="Number")
    api = apigateway.RestApi(stack, "Api")
    for name, parameter in (("a", ttl), ("b", other)):
        # a new Duration object each time, as user code writes it
        auth = ApiAuth.lambda_token(
            fn, results_cache_ttl=cdk.Duration.seconds(parameter.value_as_number)
        )
        api.root.add_resource(name).add_method(
            "GET", apigateway.MockIntegration(), **auth.method_options(api)
        )
    found = assertions.Template.from_stack(stack).find_resources("AWS::ApiGateway::Authorizer")
    return [resource["Properties"] for resource in found.values()]


def test_one_authorizer_per_token_ttl_not_per_duration_object() -> None:
    # WHEN two routes use the same token TTL through two Duration objects
    same = _token_authorizers(same_token=True)
    # THEN they share one authorizer; two different tokens still get two
    assert len(same) == 1
    assert same[0]["AuthorizerResultTtlInSeconds"] == {"Ref": "Ttl"}
    different = _token_authorizers(same_token=False)
    assert sorted(str(a["AuthorizerResultTtlInSeconds"]) for a in different) == [
        "{'Ref': 'OtherTtl'}",
        "{'Ref': 'Ttl'}",
    ]
