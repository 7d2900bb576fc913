"""ApiAuth: authorizers per kind, OpenAPI schemes, acknowledgements, refused input.

SecureUserPool's own promise is tested in test_user_pool.py."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_

import secure_constructs
from secure_constructs import ApiAuth, SecureFunction, SecureUserPool, ValidationError
from secure_constructs.checks.packs import qualify_rule_id

CODE = "def handler(event, context):\n    return {'principalId': 'x'}\n"


def authorizer_function(stack: cdk.Stack, construct_id: str = "Authorizer") -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )


# --- GIVEN a tiny RestApi with one method per auth kind --------------------------------------


@pytest.fixture(scope="module")
def api() -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Api")
    user_pool = SecureUserPool(stack, "Users")
    function = authorizer_function(stack)
    rest_api = apigateway.RestApi(stack, "Api")
    auths = {
        "cognito": ApiAuth.cognito(user_pool, scopes=["items-api/items.read"]),
        "cognito2": ApiAuth.cognito(user_pool),
        "token": ApiAuth.lambda_token(function),
        "token2": ApiAuth.lambda_token(function),
        "request": ApiAuth.lambda_request(
            function, identity_sources=[apigateway.IdentitySource.header("X-Api-Token")]
        ),
        "iam": ApiAuth.iam(),
        "public": ApiAuth.none(reason="Health check for uptime monitoring; returns no data"),
    }
    options = {}
    for name, auth in auths.items():
        options[name] = auth.method_options(rest_api)
        assert auth.method_options(rest_api) == options[name]  # cached, not created twice
        rest_api.root.add_resource(name).add_method(
            "GET", apigateway.MockIntegration(), **options[name]
        )
    template = assertions.Template.from_stack(stack).to_json()
    return {"template": template, "options": options, "auths": auths}


def methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Path part -> method properties (each resource of the test API has one GET)."""
    paths = {
        k: v["Properties"]["PathPart"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::ApiGateway::Resource"
    }
    return {
        paths[v["Properties"]["ResourceId"]["Ref"]]: v["Properties"]
        for v in template["Resources"].values()
        if v["Type"] == "AWS::ApiGateway::Method"
    }


def authorizers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::ApiGateway::Authorizer"
    }


def test_method_options_give_the_authorizer_type_of_each_kind(api: dict[str, Any]) -> None:
    options = api["options"]
    assert isinstance(options["cognito"]["authorizer"], apigateway.CognitoUserPoolsAuthorizer)
    assert isinstance(options["token"]["authorizer"], apigateway.TokenAuthorizer)
    assert isinstance(options["request"]["authorizer"], apigateway.RequestAuthorizer)
    assert options["iam"] == {"authorization_type": apigateway.AuthorizationType.IAM}
    assert options["public"] == {"authorization_type": apigateway.AuthorizationType.NONE}
    assert options["cognito"]["authorization_scopes"] == ["items-api/items.read"]
    assert "authorization_scopes" not in options["cognito2"]


def test_each_method_is_authorized_as_asked(api: dict[str, Any]) -> None:
    found = methods(api["template"])
    by_id = authorizers(api["template"])
    expected = {
        "cognito": ("COGNITO_USER_POOLS", "COGNITO_USER_POOLS"),
        "cognito2": ("COGNITO_USER_POOLS", "COGNITO_USER_POOLS"),
        "token": ("CUSTOM", "TOKEN"),
        "token2": ("CUSTOM", "TOKEN"),
        "request": ("CUSTOM", "REQUEST"),
    }
    for path, (authorization_type, authorizer_type) in expected.items():
        assert found[path]["AuthorizationType"] == authorization_type
        assert by_id[found[path]["AuthorizerId"]["Ref"]]["Type"] == authorizer_type
    assert found["cognito"]["AuthorizationScopes"] == ["items-api/items.read"]
    assert found["iam"]["AuthorizationType"] == "AWS_IAM"
    assert found["public"]["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in found["iam"] and "AuthorizerId" not in found["public"]


def test_one_authorizer_per_identity_provider(api: dict[str, Any]) -> None:
    found = methods(api["template"])
    assert found["cognito"]["AuthorizerId"] == found["cognito2"]["AuthorizerId"]
    assert found["token"]["AuthorizerId"] == found["token2"]["AuthorizerId"]
    assert sorted(p["Type"] for p in authorizers(api["template"]).values()) == [
        "COGNITO_USER_POOLS",
        "REQUEST",
        "TOKEN",
    ]


def test_lambda_authorizers_cache_decisions_for_5_minutes(api: dict[str, Any]) -> None:
    lambdas = [
        p for p in authorizers(api["template"]).values() if p["Type"] != "COGNITO_USER_POOLS"
    ]
    assert {p["AuthorizerResultTtlInSeconds"] for p in lambdas} == {300}
    assert {p["IdentitySource"] for p in lambdas} == {
        "method.request.header.Authorization",
        "method.request.header.X-Api-Token",
    }


def test_kinds_and_public_flag(api: dict[str, Any]) -> None:
    auths = api["auths"]
    assert {name: auth.kind for name, auth in auths.items()} == {
        "cognito": "cognito",
        "cognito2": "cognito",
        "token": "lambda_token",
        "token2": "lambda_token",
        "request": "lambda_request",
        "iam": "iam",
        "public": "none",
    }
    assert [name for name, auth in auths.items() if auth.is_public] == ["public"]
    assert auths["public"].reason.startswith("Health check")
    assert all(auth.reason is None for name, auth in auths.items() if name != "public")


def test_openapi_security_schemes(api: dict[str, Any]) -> None:
    auths = api["auths"]
    assert auths["public"].openapi_security_scheme() is None
    schemes = {name: auth.openapi_security_scheme() for name, auth in auths.items()}
    assert schemes["iam"] == ("sigv4", schemes["iam"][1])
    assert schemes["iam"][1]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert schemes["cognito"][1]["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert schemes["cognito"][0] == schemes["cognito2"][0]
    assert schemes["token"][1]["x-amazon-apigateway-authtype"] == "custom"
    assert schemes["request"][1]["name"] == "X-Api-Token"
    assert schemes["request"][0] != schemes["token"][0]
    for name, scheme in schemes.items():
        if scheme is not None:
            assert scheme[1]["type"] == "apiKey" and scheme[1]["in"] == "header", name
            assert "${Token" not in str(scheme), name


# --- refused input (no synth) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "reason", [None, "", "too short", "   padded   ", 42, "false positive", "public health"]
)
def test_fails_when_a_public_route_has_no_real_reason(reason: Any) -> None:
    with pytest.raises(ValidationError, match=r"^reason="):
        ApiAuth.none(reason=reason)


def test_fails_when_a_public_route_reason_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^reason="):
        ApiAuth.none(reason=cdk.Fn.import_value("Reason"))


@pytest.mark.parametrize("sources", [[], (), "method.request.header.Authorization"])
def test_fails_when_a_request_authorizer_has_no_identity_sources(sources: Any) -> None:
    function = authorizer_function(cdk.Stack())
    with pytest.raises(ValidationError, match=r"^identity_sources="):
        ApiAuth.lambda_request(function, identity_sources=sources)


def test_fails_when_a_request_identity_source_is_malformed() -> None:
    function = authorizer_function(cdk.Stack())
    with pytest.raises(ValidationError, match=r"^identity_sources="):
        ApiAuth.lambda_request(function, identity_sources=["Authorization"])


@pytest.mark.parametrize(
    "source", ["Authorization", "method.request.querystring.token", "method.request.header."]
)
def test_fails_when_a_token_source_is_not_one_header(source: str) -> None:
    function = authorizer_function(cdk.Stack())
    with pytest.raises(ValidationError, match=r"^identity_source="):
        ApiAuth.lambda_token(function, identity_source=source)


@pytest.mark.parametrize("ttl", [cdk.Duration.hours(2), cdk.Duration.seconds(3601)])
def test_fails_when_the_cache_ttl_is_over_an_hour(ttl: cdk.Duration) -> None:
    function = authorizer_function(cdk.Stack())
    with pytest.raises(ValidationError, match=r"^results_cache_ttl="):
        ApiAuth.lambda_token(function, results_cache_ttl=ttl)
    with pytest.raises(ValidationError, match=r"^results_cache_ttl="):
        ApiAuth.lambda_request(
            function,
            identity_sources=["method.request.header.Authorization"],
            results_cache_ttl=ttl,
        )


def test_fails_when_the_authorizer_is_not_a_function() -> None:
    with pytest.raises(ValidationError, match=r"^function="):
        ApiAuth.lambda_token("arn:aws:lambda:eu-west-1:123456789012:function:auth")  # type: ignore[arg-type]


def test_fails_when_the_user_pool_is_not_a_user_pool() -> None:
    with pytest.raises(ValidationError, match=r"^user_pool="):
        ApiAuth.cognito("eu-west-1_abc")  # type: ignore[arg-type]


@pytest.mark.parametrize("scopes", ["items-api/items.read", ["has space"], ['quo"te']])
def test_fails_when_scopes_are_malformed(scopes: Any) -> None:
    user_pool = SecureUserPool(cdk.Stack(), "Users")
    with pytest.raises(ValidationError, match=r"^scopes="):
        ApiAuth.cognito(user_pool, scopes=scopes)


def test_security_requirements_and_acknowledgements_per_kind(api: dict[str, Any]) -> None:
    auths = api["auths"]
    cognito_name = auths["cognito"].openapi_security_scheme()[0]
    # OpenAPI 3.0 allows scopes only for oauth2/openIdConnect schemes: the apiKey scheme's list
    # is empty and the scopes are the operation's x-oauth-scopes (what SecureApi writes).
    assert auths["cognito"].openapi_security_requirement() == {cognito_name: []}
    assert auths["cognito"].openapi_operation_extensions() == {
        "x-oauth-scopes": ["items-api/items.read"]
    }
    assert auths["cognito2"].openapi_operation_extensions() == {}
    assert auths["iam"].openapi_security_requirement() == {"sigv4": []}
    assert auths["iam"].openapi_operation_extensions() == {}
    assert auths["public"].openapi_security_requirement() is None
    assert auths["cognito"].nag_acknowledgements() == ()
    assert [rule for rule, _ in auths["iam"].nag_acknowledgements()] == ["AwsSolutions-COG4"]
    assert [rule for rule, _ in auths["token"].nag_acknowledgements()] == ["AwsSolutions-COG4"]
    assert "a Lambda TOKEN authorizer" in auths["token"].nag_acknowledgements()[0][1]
    assert "a Lambda REQUEST authorizer" in auths["request"].nag_acknowledgements()[0][1]
    assert "IAM (SigV4-signed" in auths["iam"].nag_acknowledgements()[0][1]
    public = dict(auths["public"].nag_acknowledgements())
    assert set(public) == {
        "AwsSolutions-APIG4",
        "AwsSolutions-COG4",
        "SecureServerless::ApiMethodAuthorization",
    }
    assert all(
        reason == "Deliberately public route: Health check for uptime monitoring; returns no data"
        for reason in public.values()
    )
    for auth in auths.values():
        for rule, reason in auth.nag_acknowledgements():
            assert qualify_rule_id(rule).startswith(("AwsSolutions::", "SecureServerless::"))
            assert len(reason) > 40


def test_no_caller_switches_on_a_kind_string() -> None:
    """Variants are classes that do their own work: no construct module compares a `kind`
    (the rules and the audit read kinds of template and source data, which is not this)."""
    root = Path(secure_constructs.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in ("checks", "audit"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            sides = (node.left, *node.comparators) if isinstance(node, ast.Compare) else ()
            # inspect.Parameter.<KIND> is a parameter's kind, not a variant's.
            if any(_names_kind(side) for side in sides) and not any(
                "inspect.Parameter." in ast.unparse(side) for side in sides
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def _names_kind(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "kind") or (
        isinstance(node, ast.Name) and node.id == "kind"
    )


def test_the_kind_switch_probe_finds_one() -> None:
    tree = ast.parse("if auth.kind == 'none':\n    pass\nif kind != 'iam':\n    pass\n")
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Compare)]
    assert [any(_names_kind(s) for s in (n.left, *n.comparators)) for n in found] == [True, True]


def test_each_factory_returns_a_variant_that_does_its_own_work(api: dict[str, Any]) -> None:
    auths = api["auths"]
    assert {name: type(auth).__name__ for name, auth in auths.items()} == {
        "cognito": "CognitoAuth",
        "cognito2": "CognitoAuth",
        "token": "LambdaTokenAuth",
        "token2": "LambdaTokenAuth",
        "request": "LambdaRequestAuth",
        "iam": "IamAuth",
        "public": "PublicRoute",
    }
    assert all(isinstance(auth, ApiAuth) for auth in auths.values())
