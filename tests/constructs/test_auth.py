"""ApiAuth and SecureUserPool: authorizers per kind, the user pool's promise, refused input."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from secure_constructs import ApiAuth, SecureFunction, SecureUserPool, ValidationError
from secure_constructs.checks.packs import qualify_rule_id
from tests.synth import ALL_COMPLIANCE, Synthesized, cfn_lint, synth

CODE = "def handler(event, context):\n    return {'principalId': 'x'}\n"


def authorizer_function(stack: cdk.Stack, construct_id: str = "Authorizer") -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )


def build_pool_with_api_client(stack: cdk.Stack) -> None:
    """The documented example: a pool, an API's scopes, a machine client and a domain."""
    pool = SecureUserPool(stack, "Users")
    api_scopes = pool.add_resource_server_scopes(
        "ItemsApi", identifier="items-api", scopes={"items.read": "Read items"}
    )
    pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix="items-x"))
    pool.add_client(
        "ReportingJob",
        generate_secret=True,
        auth_flows=cognito.AuthFlow(),
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(client_credentials=True),
            scopes=list(api_scopes.oauth_scopes),
        ),
        prevent_user_existence_errors=True,
    )
    assert api_scopes.scope_names == ("items-api/items.read",)


@pytest.fixture(scope="module")
def pool() -> Synthesized:
    return synth(build_pool_with_api_client, compliance=ALL_COMPLIANCE)


# --- GIVEN a SecureUserPool with an API client ------------------------------------------------


def test_user_pool_is_clean_under_all_six_packs_without_acknowledgements(pool: Synthesized) -> None:
    assert not pool.failed
    assert pool.violations == []
    assert pool.acknowledged == []


def test_user_pool_template_is_cfn_lint_clean(pool: Synthesized) -> None:
    assert cfn_lint(pool.template) == []


def test_password_policy_is_12_characters_with_every_class(pool: Synthesized) -> None:
    policy = pool.props("AWS::Cognito::UserPool")["Policies"]["PasswordPolicy"]
    assert policy == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }


def test_mfa_is_required_with_totp_only(pool: Synthesized) -> None:
    props = pool.props("AWS::Cognito::UserPool")
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_plus_plan_with_threat_protection_enforced(pool: Synthesized) -> None:
    props = pool.props("AWS::Cognito::UserPool")
    assert props["UserPoolTier"] == "PLUS"
    assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}


def test_no_self_sign_up_and_recovery_by_verified_email_only(pool: Synthesized) -> None:
    props = pool.props("AWS::Cognito::UserPool")
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }


def test_sign_in_is_by_case_insensitive_email(pool: Synthesized) -> None:
    props = pool.props("AWS::Cognito::UserPool")
    assert props["UsernameAttributes"] == ["email"]
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}


def test_pool_is_protected_from_deletion_and_retained(pool: Synthesized) -> None:
    _, resource = pool.only("AWS::Cognito::UserPool")
    assert resource["Properties"]["DeletionProtection"] == "ACTIVE"
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_resource_server_scopes_reach_the_client(pool: Synthesized) -> None:
    server = pool.props("AWS::Cognito::UserPoolResourceServer")
    assert server["Identifier"] == "items-api"
    assert server["Scopes"] == [{"ScopeName": "items.read", "ScopeDescription": "Read items"}]
    client = pool.props("AWS::Cognito::UserPoolClient")
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["GenerateSecret"] is True
    (scope,) = client["AllowedOAuthScopes"]
    assert "items.read" in str(scope)


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


@pytest.mark.parametrize("length", [8, 11, 100, 12.5])
def test_fails_when_the_password_minimum_is_weak_or_impossible(length: Any) -> None:
    with pytest.raises(ValidationError, match=r"^password_min_length="):
        SecureUserPool(cdk.Stack(), "Users", password_min_length=length)


@pytest.mark.parametrize(
    ("prop_name", "value"),
    [
        ("mfa", cognito.Mfa.OPTIONAL),
        ("mfa_second_factor", cognito.MfaSecondFactor(otp=True, sms=True)),
        ("password_policy", cognito.PasswordPolicy(min_length=8)),
        ("feature_plan", cognito.FeaturePlan.ESSENTIALS),
        ("standard_threat_protection_mode", cognito.StandardThreatProtectionMode.AUDIT_ONLY),
        ("account_recovery", cognito.AccountRecovery.PHONE_AND_EMAIL),
        ("sign_in_case_sensitive", True),
    ],
)
def test_fails_when_a_fixed_user_pool_prop_is_overridden(prop_name: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=rf"^{prop_name}="):
        SecureUserPool(cdk.Stack(), "Users", **{prop_name: value})


def test_fails_when_auto_verify_has_no_email() -> None:
    with pytest.raises(ValidationError, match=r"^auto_verify="):
        SecureUserPool(cdk.Stack(), "Users", auto_verify=cognito.AutoVerifiedAttrs(phone=True))


def test_fails_when_sign_in_has_no_email() -> None:
    with pytest.raises(ValidationError, match=r"^sign_in_aliases="):
        SecureUserPool(cdk.Stack(), "Users", sign_in_aliases=cognito.SignInAliases(username=True))


@pytest.mark.parametrize(
    "validity", [cdk.Duration.days(0), cdk.Duration.days(400), cdk.Duration.hours(36)]
)
def test_fails_when_temporary_passwords_live_too_long_or_not_at_all(validity: cdk.Duration) -> None:
    with pytest.raises(ValidationError, match=r"^temp_password_validity="):
        SecureUserPool(cdk.Stack(), "Users", temp_password_validity=validity)


def test_fails_when_a_resource_server_has_no_or_bad_scopes() -> None:
    user_pool = SecureUserPool(cdk.Stack(), "Users")
    with pytest.raises(ValidationError, match=r"^scopes="):
        user_pool.add_resource_server_scopes("Api", identifier="api", scopes={})
    with pytest.raises(ValidationError, match=r"^scopes="):
        user_pool.add_resource_server_scopes("Api2", identifier="api", scopes={"a/b": "slash"})


def test_downgrades_are_allowed_with_warnings() -> None:
    stack = cdk.Stack(cdk.App(), "Downgraded")
    SecureUserPool(
        stack,
        "Users",
        self_sign_up_enabled=True,
        deletion_protection=False,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        password_min_length=16,
    )
    annotations = assertions.Annotations.from_stack(stack)
    for text in ("self_sign_up_enabled", "deletion_protection", "removal_policy"):
        annotations.has_warning("/Downgraded/Users", assertions.Match.string_like_regexp(text))
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
            "DeletionProtection": "INACTIVE",
            "Policies": {"PasswordPolicy": assertions.Match.object_like({"MinimumLength": 16})},
            "MfaConfiguration": "ON",
        },
    )


def test_security_requirements_and_acknowledgements_per_kind(api: dict[str, Any]) -> None:
    auths = api["auths"]
    cognito_name = auths["cognito"].openapi_security_scheme()[0]
    assert auths["cognito"].openapi_security_requirement() == {
        cognito_name: ["items-api/items.read"]
    }
    assert auths["iam"].openapi_security_requirement() == {"sigv4": []}
    assert auths["public"].openapi_security_requirement() is None
    assert auths["cognito"].nag_acknowledgements() == ()
    assert [rule for rule, _ in auths["iam"].nag_acknowledgements()] == ["AwsSolutions-COG4"]
    assert [rule for rule, _ in auths["token"].nag_acknowledgements()] == ["AwsSolutions-COG4"]
    public = dict(auths["public"].nag_acknowledgements())
    assert set(public) == {"AwsSolutions-APIG4", "AwsSolutions-COG4"}
    assert all("Health check for uptime monitoring" in reason for reason in public.values())
    for auth in auths.values():
        for rule, reason in auth.nag_acknowledgements():
            assert qualify_rule_id(rule).startswith("AwsSolutions::")
            assert len(reason) > 40
