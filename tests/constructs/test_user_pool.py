"""SecureUserPool: the pool's security promise under every pack, its resource-server scopes,
refused input and the downgrades it allows with a warning."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_cognito as cognito

from secure_constructs import SecureUserPool, ValidationError
from tests.synth import ALL_COMPLIANCE, Synthesized, cfn_lint, synth


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


# --- refused input (no synth) -----------------------------------------------------------------


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


def test_fails_when_auto_verify_as_a_dict_has_no_email() -> None:
    # jsii accepts a struct as a dict: it is checked the same way, not an AttributeError
    with pytest.raises(ValidationError, match=r"^auto_verify="):
        SecureUserPool(cdk.Stack(), "Users", auto_verify={"phone": True})


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
