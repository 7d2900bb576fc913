"""`SecureUserPool`: a Cognito user pool that passes a security review by default, and
`ResourceServerScopes`, the OAuth scopes it creates for `ApiAuth.cognito(pool, scopes=...)`.

Apart from `auth.py` so that an API with IAM or Lambda authorizers never imports aws_cognito.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Unpack

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from secure_constructs._options import UserPoolOptions
from secure_constructs.auth import OAUTH_SCOPE
from secure_constructs.checks.guard import ensure_checked
from secure_constructs.errors import ValidationError
from secure_constructs.prop_types import check_args
from secure_constructs.validation import FixedOptions, check_number, refuse_fixed_options

__all__ = ["ResourceServerScopes", "SecureUserPool"]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 99
TEMP_PASSWORD_DAYS_RANGE = (1, 365)


@dataclass(frozen=True)
class ResourceServerScopes:
    """What `SecureUserPool.add_resource_server_scopes` created."""

    resource_server: cognito.UserPoolResourceServer
    oauth_scopes: tuple[cognito.OAuthScope, ...]
    """For an app client's `o_auth=OAuthSettings(scopes=...)`."""
    scope_names: tuple[str, ...]
    """"identifier/scope" strings, for `ApiAuth.cognito(pool, scopes=...)`."""


class SecureUserPool(cognito.UserPool):
    """A Cognito user pool with strong passwords, required TOTP MFA, threat protection enforced
    (Plus feature plan), no self sign-up, deletion protection and recovery by verified e-mail.

    Users sign in with their e-mail address (case-insensitive). Every other keyword argument of
    `aws_cognito.UserPool` passes through (`user_pool_name`, `email`, `custom_attributes`,
    `lambda_triggers`, `user_invitation`, ...) except those fixed by the security promise:
    `mfa`, `mfa_second_factor`, `password_policy`, `feature_plan`,
    `standard_threat_protection_mode`, `advanced_security_mode`, `account_recovery`,
    `sign_in_case_sensitive` and `enable_sms_role`.

    Note: the Plus feature plan is billed per monthly active user (see Amazon Cognito pricing).

    :param password_min_length: 12 to 99 characters; every character class is always required.
        Default: 12.
    :param temp_password_validity: how long an administrator-set temporary password works,
        1 to 365 days. Default: 3 days.
    :param self_sign_up_enabled: let anyone create an account; adds a warning. Default: off
        (administrators invite users).
    :param deletion_protection: Default: on; turning it off adds a warning.
    :param removal_policy: Default: `RETAIN` (deleting the stack keeps the users); anything
        else adds a warning.
    :param sign_in_aliases: must include e-mail (account recovery is by verified e-mail).
        Default: e-mail only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        password_min_length: int = MIN_PASSWORD_LENGTH,
        temp_password_validity: cdk.Duration | None = None,
        self_sign_up_enabled: bool = False,
        deletion_protection: bool = True,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        sign_in_aliases: cognito.SignInAliases | None = None,
        **options: Unpack[UserPoolOptions],
    ) -> None:
        check_args(SecureUserPool.__init__, locals())
        refuse_fixed_options(options, _FIXED)
        _check_password_length(password_min_length)
        temp_password_validity = temp_password_validity or cdk.Duration.days(3)
        _check_temp_validity(temp_password_validity)
        sign_in_aliases = _checked_aliases(sign_in_aliases)
        options["auto_verify"] = _checked_auto_verify(options.get("auto_verify"))
        options.setdefault("keep_original", cognito.KeepOriginalAttrs(email=True))
        options.setdefault(
            "standard_attributes",
            cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
        )
        super().__init__(
            scope,
            construct_id,
            password_policy=_password_policy(password_min_length, temp_password_validity),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False, email=False),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            self_sign_up_enabled=self_sign_up_enabled,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            sign_in_aliases=sign_in_aliases,
            sign_in_case_sensitive=False,
            **options,
        )
        ensure_checked(self)  # warns at synth when apply_checks was never called
        for warning_id, message in _weakenings(
            self_sign_up_enabled, deletion_protection, removal_policy
        ):
            cdk.Annotations.of(self).add_warning_v2(
                f"secure-constructs:user-pool-{warning_id}", message
            )

    def add_resource_server_scopes(
        self,
        construct_id: str,
        *,
        identifier: str,
        scopes: Mapping[str, str],
    ) -> ResourceServerScopes:
        """A resource server (an API) with OAuth scopes, for app clients and `ApiAuth.cognito`.

        :param construct_id: id of the resource server under this pool.
        :param identifier: the resource server identifier, e.g. "items-api".
        :param scopes: scope name -> description, e.g. `{"items.read": "Read items"}`.
        :returns: the resource server, the `OAuthScope`s for an app client, and the
            "identifier/scope" names for `ApiAuth.cognito(pool, scopes=...)`.
        """
        check_args(SecureUserPool.add_resource_server_scopes, locals())
        if not scopes:
            raise ValidationError(
                "scopes",
                scopes,
                "at least one scope",
                "pass e.g. scopes={'items.read': 'Read items'}",
            )
        resource_scopes = []
        for name, description in scopes.items():
            if not isinstance(name, str) or not OAUTH_SCOPE.match(name) or "/" in name:
                raise ValidationError(
                    "scopes",
                    name,
                    "scope names of printable ASCII characters without spaces, quotes, "
                    "backslashes or '/'",
                    "pass e.g. scopes={'items.read': 'Read items'}",
                )
            resource_scopes.append(
                cognito.ResourceServerScope(scope_name=name, scope_description=description)
            )
        server = self.add_resource_server(
            construct_id, identifier=identifier, scopes=resource_scopes
        )
        return ResourceServerScopes(
            resource_server=server,
            oauth_scopes=tuple(
                cognito.OAuthScope.resource_server(server, s) for s in resource_scopes
            ),
            scope_names=tuple(f"{identifier}/{s.scope_name}" for s in resource_scopes),
        )


_FIXED_ALLOWED = (
    "nothing: SecureUserPool fixes it (MFA required with TOTP, strong password policy, Plus "
    "plan with threat protection enforced, e-mail recovery, case-insensitive sign-in, no SMS)"
)
_FIXED_FIX = "remove {}=; to change the password length use password_min_length="
_FIXED: FixedOptions = {
    "mfa": (_FIXED_ALLOWED, _FIXED_FIX.format("mfa")),
    "mfa_second_factor": (_FIXED_ALLOWED, _FIXED_FIX.format("mfa_second_factor")),
    "password_policy": (_FIXED_ALLOWED, _FIXED_FIX.format("password_policy")),
    "feature_plan": (_FIXED_ALLOWED, _FIXED_FIX.format("feature_plan")),
    "standard_threat_protection_mode": (
        _FIXED_ALLOWED,
        _FIXED_FIX.format("standard_threat_protection_mode"),
    ),
    "advanced_security_mode": (_FIXED_ALLOWED, _FIXED_FIX.format("advanced_security_mode")),
    "account_recovery": (_FIXED_ALLOWED, _FIXED_FIX.format("account_recovery")),
    "sign_in_case_sensitive": (_FIXED_ALLOWED, _FIXED_FIX.format("sign_in_case_sensitive")),
    "enable_sms_role": (_FIXED_ALLOWED, _FIXED_FIX.format("enable_sms_role")),
}
"""Keys written out: scripts/gen_options.py reads them to leave these props out of
UserPoolOptions."""


def _check_password_length(length: int) -> None:
    check_number(
        "password_min_length",
        length,
        MIN_PASSWORD_LENGTH,
        MAX_PASSWORD_LENGTH,
        whole=True,
        allowed=f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
        fix=f"pass password_min_length={MIN_PASSWORD_LENGTH} or more",
    )


def _check_temp_validity(validity: cdk.Duration) -> None:
    if validity.is_unresolved():
        return
    low, high = TEMP_PASSWORD_DAYS_RANGE
    days = validity.to_hours() / 24
    if not low <= days <= high or days != int(days):
        raise ValidationError(
            "temp_password_validity",
            f"{days} days",
            f"whole days from {low} to {high}",
            "pass e.g. temp_password_validity=Duration.days(3)",
        )


def _checked_aliases(aliases: cognito.SignInAliases | None) -> cognito.SignInAliases:
    """E-mail sign-in (default: e-mail only): accounts are recovered by verified e-mail."""
    aliases = aliases or cognito.SignInAliases(email=True)
    if not aliases.email:
        raise ValidationError(
            "sign_in_aliases",
            aliases,
            "aliases that include email=True (accounts are recovered by verified e-mail only)",
            "pass sign_in_aliases=SignInAliases(email=True) (optionally with username=True)",
        )
    return aliases


def _checked_auto_verify(auto_verify: Any) -> cognito.AutoVerifiedAttrs:
    """Auto-verified attributes including e-mail (default: e-mail only)."""
    if auto_verify is None:
        auto_verify = cognito.AutoVerifiedAttrs(email=True)
    elif isinstance(auto_verify, dict):  # jsii accepts a struct as a dict too
        auto_verify = cognito.AutoVerifiedAttrs(**auto_verify)
    if not auto_verify.email:
        raise ValidationError(
            "auto_verify",
            auto_verify,
            "auto-verified attributes that include email=True (accounts are recovered by "
            "verified e-mail only)",
            "remove auto_verify= or pass AutoVerifiedAttrs(email=True)",
        )
    return auto_verify  # type: ignore[no-any-return]


def _password_policy(min_length: int, temp_validity: cdk.Duration) -> cognito.PasswordPolicy:
    """Every character class required, temporary passwords valid for `temp_validity`."""
    return cognito.PasswordPolicy(
        min_length=min_length,
        require_lowercase=True,
        require_uppercase=True,
        require_digits=True,
        require_symbols=True,
        temp_password_validity=temp_validity,
    )


def _weakenings(
    self_sign_up_enabled: bool, deletion_protection: bool, removal_policy: cdk.RemovalPolicy
) -> list[tuple[str, str]]:
    """(warning id, message) for each default the caller weakened."""
    warnings = []
    if self_sign_up_enabled:
        warnings.append(
            (
                "self-sign-up",
                "self_sign_up_enabled=True lets anyone on the internet create an account",
            )
        )
    if not deletion_protection:
        warnings.append(
            (
                "deletion-protection",
                "deletion_protection=False: the pool and its users can be deleted",
            )
        )
    if removal_policy is not cdk.RemovalPolicy.RETAIN:
        warnings.append(
            (
                "removal-policy",
                f"removal_policy={removal_policy}: deleting the stack deletes every user",
            )
        )
    return warnings
