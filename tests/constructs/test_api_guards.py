"""SecureApi against ordinary CDK calls (issue 14): extra stages, weak request schemas, HTTP
integrations and overrides either are refused at synth or fail our pack, with a fix; the
compliant form of each passes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_

from secure_constructs import ApiAuth, SecureApi, SecureFunction, ValidationError
from tests.constructs.test_api import ITEM_SCHEMA, make_function
from tests.synth import ALL_COMPLIANCE, Synthesized, synth

REASON = "Clients of v1 and v2 send fields this version ignores; the handler drops them"


def api_with_route(stack: cdk.Stack) -> SecureApi:
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    api.add_route("POST", "/items", make_function(stack, "Handler"), request_schema=ITEM_SCHEMA)
    return api


def refused_at_synth(build: Any) -> str:
    """The message of the node validation that stops `app.synth()`."""
    app = cdk.App()
    stack = cdk.Stack(app, "Test")
    build(stack)
    with pytest.raises(RuntimeError, match="ValidationFailedWithErrors") as raised:
        app.synth()
    return str(raised.value)


def ours(result: Synthesized) -> set[tuple[str, str]]:
    return {
        (rule, path) for plugin, rule, path in result.violations if plugin == "SecureServerless"
    }


# --- stages ---------------------------------------------------------------------------------


def test_fails_when_a_deployment_adds_a_stage_beside_secure_apis() -> None:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        apigateway.Deployment(stack, "Dep2", api=api, stage_name="beta")

    message = refused_at_synth(build)
    assert "stage=\"a Deployment's stage_name 'beta' at Test/Dep2/Resource\"" in message
    assert "SecureApi(stage_name='beta'" in message


def test_fails_when_a_second_stage_is_added() -> None:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        apigateway.Stage(stack, "Beta", deployment=api.latest_deployment, stage_name="beta")

    message = refused_at_synth(build)
    assert "stage=\"stage 'beta' at Test/Beta/Resource\"" in message


def test_a_second_secure_api_is_the_way_to_a_second_stage() -> None:
    def build(stack: cdk.Stack) -> None:
        api_with_route(stack)
        beta = SecureApi(stack, "BetaApi", auth=ApiAuth.iam(), stage_name="beta")
        beta.add_route("GET", "/items", make_function(stack, "BetaHandler"))

    result = synth(build)
    assert not result.failed, result.violations


# --- request validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, "does not say"),
        ({"type": "object"}, "declares no properties"),
        ({"type": "object", "properties": {}}, "declares no properties"),
        ({"type": "string"}, "not an object"),
        (
            {"type": "object", "properties": {"name": {"type": "string"}}},
            "additionalProperties",
        ),
    ],
)
def test_fails_when_the_request_schema_validates_nothing(schema: Any, expected: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    with pytest.raises(ValidationError, match=rf"^request_schema=.*{expected}"):
        api.add_route("POST", "/items", make_function(stack, "H"), request_schema=schema)


def test_additional_properties_with_a_reason_are_accepted_and_acknowledged() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}

    def build(stack: cdk.Stack) -> None:
        api = SecureApi(stack, "Api", auth=ApiAuth.iam())
        api.add_route(
            "POST",
            "/items",
            make_function(stack, "H"),
            request_schema=schema,
            additional_properties_reason=REASON,
        )

    result = synth(build)
    assert not result.failed, result.violations
    assert (
        "SecureServerless",
        "ApiRequestValidation[additionalProperties]",
        "Test/Api/Default/items/POST/Resource",
        f"Undeclared body properties deliberately accepted: {REASON}",
    ) in result.acknowledged


@pytest.mark.parametrize(
    ("schema", "reason"),
    [(ITEM_SCHEMA, REASON), (None, REASON), ({"type": "object", "properties": {"a": {}}}, "")],
)
def test_fails_when_additional_properties_reason_is_misplaced(schema: Any, reason: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    extra = (
        {"unvalidated_body_reason": "Binary image uploads of any format"} if schema is None else {}
    )
    with pytest.raises(ValidationError, match=r"^additional_properties_reason="):
        api.add_route(
            "POST",
            "/items",
            make_function(stack, "H"),
            request_schema=schema,
            additional_properties_reason=reason,
            **extra,
        )


def test_fails_when_a_hand_added_method_validates_against_the_empty_model() -> None:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        api.root.add_resource("raw").add_method(
            "POST",
            apigateway.MockIntegration(),
            authorization_type=apigateway.AuthorizationType.IAM,
            request_models={"application/json": apigateway.Model.EMPTY_MODEL},
            request_validator=api.request_validator,
        )

    result = synth(build)
    assert ("ApiRequestValidation", "Test/Api/Default/raw/POST/Resource") in ours(result)


# --- integrations ---------------------------------------------------------------------------


def test_fails_when_a_method_integrates_plain_http() -> None:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        api.root.add_resource("legacy").add_method(
            "GET",
            apigateway.HttpIntegration("http://legacy.internal/items"),
            authorization_type=apigateway.AuthorizationType.IAM,
        )

    message = refused_at_synth(build)
    assert "integration='http://legacy.internal/items on Test/Api/Default/legacy/GET'" in message
    assert "https://" in message


def test_fails_when_a_hand_made_l1_method_on_the_api_integrates_plain_http() -> None:
    # GIVEN a CfnMethod written by hand on SecureApi's root (not in `api.methods`)
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        apigateway.CfnMethod(
            stack,
            "RawMethod",
            rest_api_id=api.rest_api_id,
            resource_id=api.root.resource_id,
            http_method="PUT",
            authorization_type="AWS_IAM",
            integration=apigateway.CfnMethod.IntegrationProperty(
                type="HTTP_PROXY", integration_http_method="PUT", uri="http://raw.internal/x"
            ),
        )

    # THEN SecureApi's guard refuses it at synth, naming the L1
    message = refused_at_synth(build)
    assert "integration='http://raw.internal/x on Test/RawMethod'" in message


def test_fails_when_a_method_made_in_a_nested_stack_integrates_plain_http() -> None:
    # GIVEN a Method on SecureApi's root made in a nested stack (its RestApiId there is a
    # parameter of the nested stack, not the API's Ref)
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        apigateway.Method(
            cdk.NestedStack(stack, "Nested"),
            "Legacy",
            resource=api.root,
            http_method="PATCH",
            integration=apigateway.HttpIntegration("http://nested.internal/x"),
            options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
        )

    # THEN SecureApi's guard still refuses it at synth
    message = refused_at_synth(build)
    assert "integration='http://nested.internal/x on Test/Nested/Legacy'" in message


@pytest.fixture(scope="module")
def https_proxy() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        api.root.add_resource("legacy").add_method(
            "GET",
            apigateway.HttpIntegration("https://legacy.example.com/items"),
            authorization_type=apigateway.AuthorizationType.IAM,
        )

    return synth(build, compliance=ALL_COMPLIANCE)


def test_an_https_proxy_outside_the_account_needs_an_acknowledgement(
    https_proxy: Synthesized,
) -> None:
    assert ("ApiHttpIntegration[ExternalHost]", "Test/Api/Default/legacy/GET/Resource") in ours(
        https_proxy
    )


def test_the_client_certificate_is_acknowledged_only_for_lambda_only_apis(
    https_proxy: Synthesized,
) -> None:
    open_ = {rule for _, rule, _ in https_proxy.violations}
    assert "NIST.800.53.R5-APIGWSSLEnabled" in open_
    acknowledged = {rule for _, rule, _, _ in https_proxy.acknowledged}
    assert "NIST.800.53.R5-APIGWSSLEnabled" not in acknowledged

    lambda_only = synth(api_with_route, compliance=ALL_COMPLIANCE)
    acknowledged = {rule for _, rule, _, _ in lambda_only.acknowledged}
    assert {f"{p}-APIGWSSLEnabled" for p in ("NIST.800.53.R5", "HIPAA.Security")} <= acknowledged
    assert "NIST.800.53.R5-APIGWSSLEnabled" not in {r for _, r, _ in lambda_only.violations}


# --- overrides ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overridden() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        api = api_with_route(stack)
        api.stage_resource.add_property_override("MethodSettings.0.DataTraceEnabled", True)
        api.stage_resource.add_property_override("TracingEnabled", False)
        handler = stack.node.find_child("Handler")
        assert isinstance(handler, SecureFunction)
        cfn_function = handler.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_property_deletion_override("TracingConfig")
        api.access_log_group.node.default_child.add_property_deletion_override(  # type: ignore[union-attr]
            "KmsKeyId"
        )
        method = api.routes[0].resource.node.default_child
        method.add_property_override(  # type: ignore[union-attr]
            "AuthorizationType", {"Fn::If": ["Public", "NONE", "AWS_IAM"]}
        )
        cdk.CfnCondition(
            stack, "Public", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, "eu-west-1")
        )
        items = api.root.get_resource("items")
        assert items is not None
        items.add_method(
            "OPTIONS",
            apigateway.LambdaIntegration(make_function(stack, "Preflight")),
            method_responses=[apigateway.MethodResponse(status_code="204")],
        )

    return synth(build)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("ApiDataTrace[/* *]", "Test/Api/DeploymentStage.prod/Resource"),
        ("ApiStageTracing", "Test/Api/DeploymentStage.prod/Resource"),
        ("FunctionTracing", "Test/Handler/Resource"),
        ("LogGroupEncryption", "Test/Api/AccessLogs/Resource"),
        ("ApiMethodAuthorization", "Test/Api/Default/items/POST/Resource"),
        ("ApiMethodAuthorization", "Test/Api/Default/items/OPTIONS/Resource"),
    ],
)
def test_fails_when_an_override_breaks_the_promise(
    overridden: Synthesized, rule: str, path: str
) -> None:
    assert overridden.failed
    assert (rule, path) in ours(overridden)


def test_the_compliant_api_has_none_of_these_findings() -> None:
    result = synth(api_with_route)
    assert not result.failed, result.violations
    assert ours(result) == set()


def test_fails_when_an_authorizer_can_outlive_api_gateways_wait() -> None:
    def build(stack: cdk.Stack) -> None:
        slow = make_function(stack, "Authorizer", timeout=cdk.Duration.seconds(20))
        api = SecureApi(stack, "Api", auth=ApiAuth.lambda_token(slow))
        api.add_route("GET", "/items", make_function(stack, "Handler"))

    result = synth(build)
    assert any(rule.startswith("ApiLambdaTimeout[") for rule, _ in ours(result))
