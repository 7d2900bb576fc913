"""An attacker's probes with CDK escape hatches: a second SecureApi stage made around the guard,
and the stack key opened by an L1 override past its refusing grant methods.

Each probe asserts what a synth does: refused by SecureApi's stage guard, failed by our pack,
or (renaming SecureApi's own stage) passed with the stage still protected.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.shared import security_key
from tests.constructs.test_api_guards import api_with_route, refused_at_synth
from tests.synth import synth

UNPROTECTED_STAGE = {"ApiStageThrottling", "ApiStageTracing", "ApiStageWafRules[WebACL]"}


def _hand_made_cfn_stage(stack: cdk.Stack) -> None:
    api = api_with_route(stack)
    apigateway.CfnStage(
        stack,
        "Hand",
        rest_api_id=api.rest_api_id,
        deployment_id=api.latest_deployment.deployment_id,  # type: ignore[union-attr]
        stage_name="beta",
    )


def _replaced_deployment_stage(stack: cdk.Stack) -> None:
    api = api_with_route(stack)
    api.deployment_stage = apigateway.Stage(
        stack, "Beta", deployment=api.latest_deployment, stage_name="beta"
    )


@pytest.mark.parametrize(
    ("build", "where"),
    [(_hand_made_cfn_stage, "Test/Hand"), (_replaced_deployment_stage, "Test/Beta/Resource")],
)
def test_fails_when_a_stage_is_made_by_hand_or_swapped_in(
    build: Callable[[cdk.Stack], None], where: str
) -> None:
    message = refused_at_synth(build)
    assert f"stage 'beta' at {where}" in message
    assert "SecureApi(stage_name='beta'" in message


def _deployment_stage_override(stack: cdk.Stack) -> None:
    api = api_with_route(stack)
    deployment = api.latest_deployment
    assert deployment is not None
    # The guard reads the L1's stage_name, which an override does not change: the pack reads
    # the template and sees the Deployment's stage.
    deployment.node.default_child.add_property_override("StageName", "beta")  # type: ignore[union-attr]


def _raw_cfn_resource_stage(stack: cdk.Stack) -> None:
    api = api_with_route(stack)
    deployment = api.latest_deployment
    assert deployment is not None
    cdk.CfnResource(
        stack,
        "Raw",
        type="AWS::ApiGateway::Stage",
        properties={
            "RestApiId": api.rest_api_id,
            "DeploymentId": deployment.deployment_id,
            "StageName": "beta",
        },
    )


@pytest.mark.parametrize(
    ("build", "logical_path"),
    [(_deployment_stage_override, "Test/Api/Deployment"), (_raw_cfn_resource_stage, "Test/Raw")],
)
def test_fails_the_synth_when_an_override_or_raw_resource_adds_a_stage(
    build: Callable[[cdk.Stack], None], logical_path: str
) -> None:
    result = synth(build)

    assert result.failed
    on_stage = {
        rule
        for plugin, rule, path in result.violations
        if plugin == "SecureServerless" and path.startswith(logical_path)
    }
    assert on_stage >= UNPROTECTED_STAGE


def test_renaming_secure_apis_own_stage_keeps_its_protections() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    api = api_with_route(stack)
    api.deployment_stage.node.default_child.add_property_override("StageName", "beta")  # type: ignore[union-attr]

    template = Template.from_stack(stack)
    (stage_id, stage), *others = template.find_resources("AWS::ApiGateway::Stage").items()
    assert others == []
    assert stage["Properties"]["StageName"] == "beta"
    assert stage["Properties"]["TracingEnabled"] is True
    assert any(s["ResourcePath"] == "/*" for s in stage["Properties"]["MethodSettings"])
    (association,) = template.find_resources("AWS::WAFv2::WebACLAssociation").values()
    assert {"Ref": stage_id} in association["Properties"]["ResourceArn"]["Fn::Join"][1]


def _key_opened_by_override(stack: cdk.Stack) -> None:
    SecureFunction(stack, "Fn", code=lambda_.Code.from_inline("x = 1\n"), handler="index.handler")
    key = security_key(stack).node.default_child
    assert isinstance(key, kms.CfnKey)
    # Past the refusing grant methods: CDK's admin statement (kms:* to the account root)
    # rewritten to everyone.
    key.add_property_override("KeyPolicy.Statement.0.Principal", {"AWS": "*"})


def test_fails_the_synth_when_an_override_opens_the_stack_key() -> None:
    result = synth(_key_opened_by_override)

    assert result.failed
    on_key = {
        rule
        for plugin, rule, path in result.violations
        if plugin == "SecureServerless" and path.startswith("Test/SecureConstructsKey")
    }
    assert on_key >= {"ResourcePolicyPublic[Principal::*]", "KmsKeyPolicyFullAccess[Action::kms:*]"}


def test_the_refusal_holds_for_a_principal_list_mixing_a_role_and_everyone() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    with pytest.raises(ValidationError, match="every principal of every account"):
        security_key(stack).grant_decrypt(iam.CompositePrincipal(role, iam.AnyPrincipal()))
