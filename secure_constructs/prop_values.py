"""The values (not types) the argument check refuses at the call: AWS limits and name rules
that no construct checked before, keyed by the callable and parameter they belong to.

`secure_constructs.prop_types.check_args` runs the check of `VALUES` for a parameter after its
type has been checked, so each function here may rely on the annotated type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from secure_constructs.errors import ValidationError

__all__ = [
    "ENV_NAME",
    "NON_BLANK",
    "SECRET_KEY",
    "VALUES",
    "check_env_name",
    "is_token",
    "non_blank",
]

# Lambda environment variable names: "Key Pattern: [a-zA-Z]([a-zA-Z0-9_])+" (Lambda API
# reference, Environment). A secrets= key names the variable <key>_SECRET_ARN, so it only has
# to start one: a letter, then letters, digits and _.
ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")
SECRET_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# The variables the Lambda runtime sets; a function cannot set them (AWS Lambda docs,
# "Defined runtime environment variables": reserved keys).
RESERVED_ENV_NAMES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)
# "The total size of all environment variables doesn't exceed 4 KB" (Lambda quotas).
ENV_MAX_BYTES = 4096
# Lambda's Handler: "Pattern: ^[^\s]+$", at most 128 characters (Lambda API reference).
HANDLER = re.compile(r"^\S{1,128}$")
# Reserved concurrency is bounded by the account's concurrency quota, 1,000 by default and
# raised on request "up to tens of thousands" (Lambda quotas); beyond that a value is a typo.
MAX_RESERVED_CONCURRENCY = 100_000
# Powertools' public SSM parameters are per release ("3.22.1") or "latest".
POWERTOOLS_VERSION = re.compile(r"^(latest|\d+\.\d+\.\d+)$")
OPERATION_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")


def check_env_name(prop: str, name: object) -> None:
    """A name Lambda accepts as an environment variable key (and does not reserve)."""
    if not isinstance(name, str) or not ENV_NAME.match(name):
        raise ValidationError(
            prop,
            name,
            "keys that are valid environment variable names (a letter, then at least one more "
            "letter, digit or _)",
            "rename it: a letter first, then letters, digits or _ (e.g. DB_HOST)",
        )
    if name in RESERVED_ENV_NAMES:
        raise ValidationError(
            prop,
            name,
            "a name the Lambda runtime does not reserve (it sets "
            f"{', '.join(sorted(RESERVED_ENV_NAMES)[:4])}, ... itself)",
            "rename the key; read the runtime's own value instead",
        )


_NUMBER_TOKENS_ABOVE = 1e288
"""Every number CDK encodes a token as is larger than this in magnitude (its marker bits make
the double about -1.888e289, and finite)."""


def is_token(value: object) -> bool:
    """`Token.is_unresolved`, without its jsii round trip (~2 ms) for a string or an ordinary
    number: CDK encodes string tokens as `${Token[...]}` inside the string, and number tokens
    as doubles of magnitude about 1.9e289 (aws-cdk-lib core/lib/private/encoding.ts)."""
    if isinstance(value, str):
        return "${Token[" in value
    if isinstance(value, int | float) and not (
        math.isfinite(value) and abs(value) >= _NUMBER_TOKENS_ABOVE
    ):
        return False  # an ordinary number, or NaN / infinity: no token, and they kill the kernel
    import aws_cdk as cdk  # the pure-Python audit never reaches here; constructs load it anyway

    return bool(cdk.Token.is_unresolved(value))


def _environment(prop: str, environment: Mapping[str, str]) -> None:
    size = 0
    for name, value in environment.items():
        check_env_name(prop, name)
        size += len(name.encode()) + len(value.encode())
    if size > ENV_MAX_BYTES and not any(is_token(v) for v in environment.values()):
        raise ValidationError(
            prop,
            f"{size} bytes of names and values",
            f"at most {ENV_MAX_BYTES} bytes in all (Lambda's limit)",
            "move large configuration to SSM Parameter Store, S3 or the code package",
        )


def _secret_names(prop: str, secrets: Mapping[str, object]) -> None:
    """`{"DB": secret}` sets DB_SECRET_ARN: the key must start a valid variable name."""
    for name in secrets:
        if not SECRET_KEY.match(name):
            raise ValidationError(
                prop,
                name,
                "keys that start a valid environment variable name (a letter, then letters, "
                "digits or _): the function gets <key>_SECRET_ARN",
                f"rename the key, e.g. {prop}={{'DB': secret}}",
            )


def _pattern(regex: re.Pattern[str], allowed: str, example: str) -> Callable[[str, Any], None]:
    def check(prop: str, value: Any) -> None:
        if isinstance(value, str) and not is_token(value) and not regex.match(value):
            raise ValidationError(prop, value, allowed, f"pass e.g. {prop}={example!r}")

    return check


def _reserved(prop: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_RESERVED_CONCURRENCY:
        raise ValidationError(
            prop,
            value,
            f"0 to {MAX_RESERVED_CONCURRENCY:,} (it cannot exceed the account's concurrency "
            "quota, 1,000 unless raised)",
            f"pass {prop}= the concurrency this function needs, e.g. 10, or leave it out",
        )


def _positive(unit: str, example: int) -> Callable[[str, Any], None]:
    def check(prop: str, value: Any) -> None:
        if isinstance(value, int | float) and not is_token(value) and value <= 0:
            raise ValidationError(
                prop, value, f"a number of {unit} above 0", f"pass e.g. {prop}={example}"
            )

    return check


def non_blank(prop: str, value: Any) -> None:
    if isinstance(value, str) and not value.strip():
        raise ValidationError(prop, value, "a non-empty string", f"pass {prop}= a name")


# (qualified name of the callable, parameter) -> a check of the value, after its type.
VALUES: dict[tuple[str, str], Callable[[str, Any], None]] = {
    ("SecureFunction.__init__", "handler"): _pattern(
        HANDLER, "the handler, 1-128 characters without spaces", "app.handler"
    ),
    ("SecureFunction.__init__", "environment"): _environment,
    ("SecureFunction.__init__", "secrets"): _secret_names,
    ("SecureFunction.__init__", "reserved_concurrent_executions"): _reserved,
    ("SecureFunction.add_environment", "key"): check_env_name,
    ("SecretsCache.powertools", "version"): _pattern(
        POWERTOOLS_VERSION, "'latest' or a Powertools release such as '3.22.1'", "3.22.1"
    ),
    ("SecureApi.__init__", "throttle_rate_limit"): _positive("requests per second", 100),
    ("SecureApi.__init__", "throttle_burst_limit"): _positive("requests", 200),
    ("SecureApi.add_route", "throttle_rate_limit"): _positive("requests per second", 100),
    ("SecureApi.add_route", "throttle_burst_limit"): _positive("requests", 200),
    ("SecureApi.add_route", "operation_id"): _pattern(
        OPERATION_ID,
        "1-256 letters, digits, '_', '.' or '-' (an OpenAPI operationId code generators can use)",
        "getItem",
    ),
}
# Parameters whose string must not be empty, wherever they appear.
NON_BLANK = frozenset({"construct_id", "id", "handler", "rule_id", "method", "path", "key"})
