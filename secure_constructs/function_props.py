"""What a SecureFunction is built from: its props, checked, with the defaults filled in.

Every check runs before the function creates anything, so a refused prop leaves nothing behind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from secure_constructs import durations
from secure_constructs._options import FunctionOptions
from secure_constructs.checks.secret_patterns import secret_reason
from secure_constructs.defaults import (
    FUNCTION_MAX_EVENT_AGE_SECONDS,
    FUNCTION_MEMORY_MB,
    FUNCTION_RETRY_ATTEMPTS,
    FUNCTION_TIMEOUT_SECONDS,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.lambda_facts import (
    ASYNC_RETRY_RANGE,
    EVENT_AGE_RANGE_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MEMORY_RANGE_MB,
)
from secure_constructs.prop_values import SECRET_KEY
from secure_constructs.secrets_cache import SecretsCache, apply_secrets_cache
from secure_constructs.validation import (
    FixedOptions,
    check_number,
    refuse_fixed_options,
    whole_seconds,
)

if TYPE_CHECKING:  # only in annotations: importing them costs the jsii kernel time
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_signer as signer

_ENV_NAME = SECRET_KEY  # one pattern for secrets= keys (secure_constructs/prop_values.py)


# Function props that would undo a default the promise depends on: (allowed, fix).
_FIXED_OPTIONS: FixedOptions = {
    "logging_format": ("nothing: logs are always JSON", "remove logging_format"),
    "application_log_level_v2": ("nothing: use log_level=", "pass log_level= instead"),
    "application_log_level": ("nothing: use log_level=", "pass log_level= instead"),
    "log_format": ("nothing: logs are always JSON", "remove log_format"),
    "system_log_level": (
        "nothing: Lambda's own log level is INFO (cold starts)",
        "remove system_log_level",
    ),
    "system_log_level_v2": ("nothing: Lambda's own log level is INFO (cold starts)", "remove it"),
    "dead_letter_topic": (
        "nothing: failed events go to an SQS dead-letter queue",
        "pass dead_letter_queue= to bring your own queue",
    ),
    "dead_letter_queue_enabled": (
        "nothing: the dead-letter queue is always on",
        "remove dead_letter_queue_enabled (pass dead_letter_queue= to bring your own)",
    ),
}


def refuse_passthrough(options: Mapping[str, Any]) -> None:
    refuse_fixed_options(options, _FIXED_OPTIONS)
    if options.get("role") is not None:
        raise ValidationError(
            "role",
            options["role"],
            "no role: each SecureFunction creates its own least-privilege role",
            "remove role= and give permissions with grant_* (e.g. table.grant_read_data(fn)) "
            "or fn.add_to_role_policy(...)",
        )
    if options.get("log_retention_role") is not None or "log_retention_retry_options" in options:
        raise ValidationError(
            "log_retention_role",
            options.get("log_retention_role"),
            "nothing: the log group is created directly, without a log-retention custom resource",
            "remove it and set log_retention=",
        )


def _check_timeout(timeout: cdk.Duration) -> float | None:
    seconds = whole_seconds("timeout", timeout)
    if seconds is None:
        return None
    if seconds <= 0 or seconds > MAX_TIMEOUT_SECONDS:
        raise ValidationError(
            "timeout",
            f"{seconds} seconds",
            f"1 to {MAX_TIMEOUT_SECONDS} seconds (Lambda's maximum)",
            "pass e.g. timeout=Duration.seconds(10); keep it as short as the work allows",
        )
    return seconds


def _check_event_age(age: cdk.Duration) -> None:
    seconds = whole_seconds("max_event_age", age)
    if seconds is None:
        return
    low, high = EVENT_AGE_RANGE_SECONDS
    if not low <= seconds <= high:
        raise ValidationError(
            "max_event_age",
            f"{seconds} seconds",
            f"{low} seconds to {high // 3600} hours (Lambda's limits)",
            "pass e.g. max_event_age=Duration.hours(1)",
        )


def _check_reserved(value: Any) -> None:
    if value is None:
        return
    check_number(
        "reserved_concurrent_executions",
        value,
        0,
        math.inf,
        whole=True,
        allowed="a whole number >= 0",
        fix="pass e.g. reserved_concurrent_executions=10, or leave it out",
    )


def refuse_secret_value(name: str, value: object, prop: str = "environment") -> None:
    """Refuse a literal environment value the secret scan's detector flags (never echoed)."""
    if isinstance(value, str) and not cdk.Token.is_unresolved(value):
        reason = secret_reason(name, value)
        if reason:
            raise ValidationError(
                f"{prop}[{name!r}]",
                "<redacted>",
                f"plain configuration, not {reason}",
                f"store it in a SecureSecret and pass secrets={{{name!r}: secret}}; "
                "the function then gets the secret's ARN, never its value",
            )


def _environment(
    environment: Mapping[str, str], secrets: Mapping[str, secretsmanager.ISecret]
) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in environment.items():
        refuse_secret_value(name, value)
        env[name] = value
    for key, secret in secrets.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise ValidationError(
                "secrets",
                key,
                "keys that are valid environment variable names (letters, digits, _; not "
                "starting with a digit)",
                "rename the key, e.g. secrets={'DB': secret}",
            )
        variable = f"{key}_SECRET_ARN"
        if variable in env:
            raise ValidationError(
                "secrets",
                key,
                f"keys whose {variable} variable is not also set in environment",
                f"remove {variable} from environment or rename the secret key",
            )
        env[variable] = secret.secret_arn
    return env


@dataclass(frozen=True)
class Limits:
    """The checked timeout, memory and asynchronous-retry props, defaults filled in."""

    timeout: cdk.Duration
    timeout_seconds: float | None
    """None when the timeout is a token."""
    memory_size: int
    retry_attempts: int
    max_event_age: cdk.Duration


def checked_limits(
    timeout: cdk.Duration | None,
    memory_size: int | None,
    retry_attempts: int | None,
    max_event_age: cdk.Duration | None,
    options: Mapping[str, Any],
) -> Limits:
    # Our own defaults are known in Python: no round trips to check or read them back.
    timeout_seconds: float | None = FUNCTION_TIMEOUT_SECONDS
    if timeout is None:
        timeout = durations.seconds(FUNCTION_TIMEOUT_SECONDS)
    else:
        timeout_seconds = _check_timeout(timeout)
    memory_size = FUNCTION_MEMORY_MB if memory_size is None else memory_size
    retry_attempts = FUNCTION_RETRY_ATTEMPTS if retry_attempts is None else retry_attempts
    if max_event_age is None:
        max_event_age = durations.seconds(FUNCTION_MAX_EVENT_AGE_SECONDS)
    else:
        _check_event_age(max_event_age)
    check_number("memory_size", memory_size, *MEMORY_RANGE_MB, unit="MiB", whole=True)
    check_number("retry_attempts", retry_attempts, *ASYNC_RETRY_RANGE, unit="retries", whole=True)
    _check_reserved(options.get("reserved_concurrent_executions"))
    return Limits(timeout, timeout_seconds, memory_size, retry_attempts, max_event_age)


def add_code_signing(
    scope: Construct,
    construct_id: str,
    signing_profiles: Sequence[signer.ISigningProfile],
    options: FunctionOptions,
) -> None:
    """With `signing_profiles`, a code-signing configuration that enforces them, set in
    `options` (refused beside the user's own `code_signing_config`)."""
    if not signing_profiles:
        return
    if options.get("code_signing_config") is not None:
        raise ValidationError(
            "signing_profiles",
            [p.signing_profile_name for p in signing_profiles],
            "either signing_profiles or code_signing_config, not both",
            "drop one of them",
        )
    options["code_signing_config"] = lambda_.CodeSigningConfig(
        scope,
        f"{construct_id}CodeSigning",
        signing_profiles=list(signing_profiles),
        untrusted_artifact_on_deployment=lambda_.UntrustedArtifactOnDeployment.ENFORCE,
    )


def configured(
    scope: Construct,
    construct_id: str,
    environment: Mapping[str, str] | None,
    secrets: Mapping[str, secretsmanager.ISecret] | None,
    cache: SecretsCache | None,
    options: Mapping[str, Any],
    runtime: lambda_.Runtime | None,
    architecture: lambda_.Architecture | None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The environment (secret ARNs added, secret-looking values refused) and the pass-through
    options with the cache layer (secrets_cache.py: a TTL past a rotation is refused)."""
    env = _environment(environment or {}, secrets or {})
    passed = apply_secrets_cache(
        scope,
        construct_id,
        cache,
        secrets or {},
        env,
        options,
        runtime=runtime,
        architecture=architecture,
    )
    return env, passed
