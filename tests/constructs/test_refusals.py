"""Refused inputs that no other test triggered (found by tracing every ValidationError raise
site against the suite): each must fail at construction with a message naming the prop.

The fixed-option tables are swept whole, so an option added to a table is tested too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager

from secure_constructs import ApiAuth, PythonCode, SecureFunction, SecureUserPool, ValidationError
from secure_constructs.api import ApiCache, SecureApi
from secure_constructs.api.props import _FIXED_OPTIONS as API_FIXED_OPTIONS
from secure_constructs.function_props import _FIXED_OPTIONS as FUNCTION_FIXED_OPTIONS
from secure_constructs.secret import SecretRotation
from secure_constructs.secrets_cache import SecretsCache
from secure_constructs.user_pool import _FIXED as USER_POOL_FIXED

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"


def _token_duration() -> cdk.Duration:
    """A Duration CDK cannot resolve at synth time (a token)."""
    return cdk.Duration.seconds(cdk.Token.as_number({"Ref": "Seconds"}))


def _function(stack: cdk.Stack, construct_id: str = "Handler", **props: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **props
    )


def _api(**props: Any) -> tuple[cdk.Stack, SecureApi]:
    stack = cdk.Stack(cdk.App(), "Test")
    props.setdefault("auth", ApiAuth.iam())
    return stack, SecureApi(stack, "Api", **props)


# -- fixed options: every entry of each table ------------------------------------------------


def test_the_fixed_option_tables_still_hold_every_option() -> None:
    """The sweeps below run over the tables themselves, so dropping an option from a table
    would silently drop its test: pin what each table must keep refusing."""
    assert set(API_FIXED_OPTIONS) >= {
        "deploy",
        "deploy_options",
        "cloud_watch_role",
        "cloud_watch_role_removal_policy",
        "default_method_options",
        "default_integration",
        "default_cors_preflight_options",
    }
    assert set(FUNCTION_FIXED_OPTIONS) >= {
        "logging_format",
        "application_log_level_v2",
        "application_log_level",
        "log_format",
        "dead_letter_topic",
        "dead_letter_queue_enabled",
    }
    assert set(USER_POOL_FIXED) >= {
        "mfa",
        "mfa_second_factor",
        "password_policy",
        "feature_plan",
        "standard_threat_protection_mode",
        "advanced_security_mode",
        "account_recovery",
        "sign_in_case_sensitive",
        "enable_sms_role",
    }


@pytest.mark.parametrize("option", sorted(API_FIXED_OPTIONS))
def test_fails_when_a_secure_api_fixed_option_is_passed(option: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValidationError, match=rf"^{option}=.*SecureApi sets it"):
        SecureApi(stack, "Api", auth=ApiAuth.iam(), **{option: None})


@pytest.mark.parametrize("option", sorted(FUNCTION_FIXED_OPTIONS))
def test_fails_when_a_secure_function_fixed_option_is_passed(option: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{option}="):
        _function(cdk.Stack(), **{option: None})


@pytest.mark.parametrize("option", USER_POOL_FIXED)
def test_fails_when_a_user_pool_fixed_option_is_passed(option: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{option}=.*SecureUserPool fixes it"):
        SecureUserPool(cdk.Stack(), "Users", **{option: None})


@pytest.mark.parametrize(
    "options",
    [
        {"log_retention_role": "a role"},
        {"log_retention_retry_options": None},
    ],
    ids=["log_retention_role", "log_retention_retry_options"],
)
def test_fails_when_a_log_retention_custom_resource_option_is_passed(
    options: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError, match=r"^log_retention_role=.*without a log-retention"):
        _function(cdk.Stack(), **options)


# -- SecureApi ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stage_name", ["", "pro d", "a" * 129, "prod/v1", 7])
def test_fails_when_stage_name_is_not_a_stage_name(stage_name: Any) -> None:
    with pytest.raises(ValidationError, match=r"^stage_name="):
        _api(stage_name=stage_name)


def test_fails_when_the_api_keeps_logs_forever() -> None:
    with pytest.raises(ValidationError, match=r"^log_retention='RetentionDays.INFINITE'"):
        _api(log_retention=logs.RetentionDays.INFINITE)


@pytest.mark.parametrize("auth", ["iam", 42, object()])
def test_fails_when_the_api_level_auth_is_not_an_api_auth(auth: Any) -> None:
    with pytest.raises(ValidationError, match=r"^auth=.* is not allowed: an ApiAuth\b"):
        _api(auth=auth)


def test_fails_when_cors_allow_origins_is_a_string() -> None:
    with pytest.raises(ValidationError, match=r"^cors_allow_origins='https://example.com'"):
        _api(cors_allow_origins="https://example.com")


def test_fails_when_cors_allow_credentials_without_origins() -> None:
    with pytest.raises(ValidationError, match=r"^cors_allow_credentials=True"):
        _api(cors_allow_credentials=True)


def test_fails_when_cache_ttl_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^cache\.ttl=.*a concrete Duration"):
        _api(cache=ApiCache(ttl=_token_duration()))


@pytest.mark.parametrize("email", ["ops", "ops@", "@example.com", "ops example.com", 42])
def test_fails_when_an_api_alarm_email_is_malformed(email: Any) -> None:
    with pytest.raises(ValidationError, match=r"^alarm_emails(\[1\])?="):
        _api(alarm_emails=["ok@example.com", email])


def test_fails_when_a_route_auth_is_not_an_api_auth() -> None:
    stack, api = _api()
    with pytest.raises(ValidationError, match=r"^auth='iam' is not allowed: an ApiAuth"):
        api.add_route("GET", "/items", _function(stack), auth="iam")  # type: ignore[arg-type]


@pytest.mark.parametrize("prop", ["query_parameters", "header_parameters"])
@pytest.mark.parametrize(
    ("parameters", "allowed"),
    [
        (["limit"], "a dict of strings to True or False"),
        ({"li mit": False}, "names of letters"),
        ({"": False}, "names of letters"),
        ({1: False}, "keys that are strings"),
        ({"limit": "no"}, "True or False"),
        ({"limit": 0}, "True or False"),
    ],
)
def test_fails_when_route_parameters_are_malformed(
    prop: str, parameters: Any, allowed: str
) -> None:
    stack, api = _api()
    handler = _function(stack)
    with pytest.raises(ValidationError, match=rf"^{prop}(\[.*\])?=.* is not allowed: {allowed}"):
        api.add_route("GET", "/items", handler, **{prop: parameters})
    # The refused route left nothing behind.
    assert api.root.get_resource("items") is None


# -- authorizers, secrets, bundling -----------------------------------------------------------


@pytest.mark.parametrize("ttl", [300, "5m"])
def test_fails_when_authorizer_results_cache_ttl_is_not_a_duration(ttl: Any) -> None:
    fn = _function(cdk.Stack(), "Authorizer")
    with pytest.raises(ValidationError, match=r"^results_cache_ttl=.*a Duration"):
        ApiAuth.lambda_token(fn, results_cache_ttl=ttl)
    with pytest.raises(ValidationError, match=r"^results_cache_ttl=.*a Duration"):
        ApiAuth.lambda_request(
            fn, identity_sources=["method.request.header.Authorization"], results_cache_ttl=ttl
        )


def test_fails_when_the_rotation_interval_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^every='a token'"):
        SecretRotation.hosted(
            secretsmanager.HostedRotation.mysql_single_user(), every=_token_duration()
        )
    with pytest.raises(ValidationError, match=r"^every='a token'"):
        SecretRotation.function(_function(cdk.Stack(), "Rotator"), every=_token_duration())


def test_fails_when_a_secrets_cache_ttl_is_a_token() -> None:
    with pytest.raises(ValidationError, match=r"^ttl='a token'"):
        SecretsCache.extension(ttl=_token_duration())
    with pytest.raises(ValidationError, match=r"^max_age='a token'"):
        SecretsCache.powertools(max_age=_token_duration())


def test_fails_when_the_bundle_architecture_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "index.py").write_text(CODE)
    with pytest.raises(ValidationError, match=r"^architecture='s390x'"):
        PythonCode.bundle(tmp_path, architecture=lambda_.Architecture.custom("s390x"))
