"""Rules over AWS::SecretsManager resources and the access to them: literal secret values,
secrets without the stack's customer-managed key, GetSecretValue on more than named secrets,
and runtime caches that outlive a secret's rotation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, as_list, referenced_id, renderings
from secure_constructs.checks.model import (
    Practice,
    Severity,
    Template,
    Violation,
    resource_violations,
    rule,
)
from secure_constructs.checks.rules.iam import POLICY_TYPES, policy_documents, statements
from secure_constructs.checks.secret_patterns import dynamic_reference

SECRET = "AWS::SecretsManager::Secret"
ROTATION_SCHEDULE = "AWS::SecretsManager::RotationSchedule"
FUNCTION = "AWS::Lambda::Function"
_AWS_MANAGED_KEY = "alias/aws/secretsmanager"
# CDK's Secret.from_secret_name_v2 grants on `<name>-??????`: Secrets Manager appends exactly
# six random characters to a name, so this suffix matches one secret, not a family.
_NAME_SUFFIX = "-??????"
_RATE = re.compile(r"^\s*rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)\s*$", re.IGNORECASE)
# Runtime cache lifetimes (seconds) in a function's environment: the Parameters and Secrets
# Lambda Extension's and Powertools for AWS Lambda's.
CACHE_TTL_VARIABLES = ("SECRETS_MANAGER_TTL", "POWERTOOLS_PARAMETERS_MAX_AGE")
_EXTENSION_CACHE_SWITCH = "PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED"


# --- SecretLiteralValue ---------------------------------------------------------------------


@rule(
    "SecretLiteralValue",
    practice=Practice.SECRETS,
    applies_to=(SECRET,),
    summary="A Secrets Manager secret's value is written in the template",
    explanation=(
        "A literal SecretString sits in the template, in the cloud assembly, in source control "
        "and in every CI log that prints them; anyone who can read the template has the "
        "secret, and rotating it means a code change. Let Secrets Manager generate the value "
        "(GenerateSecretString) or build it from a token, and put real values outside the "
        "template."
    ),
)
def secret_literal_value(t: Template) -> Iterator[Violation]:
    """A SecretString that is entirely literal (no parameter, attribute or dynamic reference)."""
    return resource_violations(
        t,
        (SECRET,),
        "Properties/SecretString",
        "use SecureSecret (it generates the value by default) or GenerateSecretString, "
        "then set the real value with `aws secretsmanager put-secret-value` outside "
        "the template",
        lambda props: (
            "the secret's value is a literal in the template"
            if _is_literal(props.get("SecretString"))
            else None
        ),
    )


def _is_literal(value: Any) -> bool:
    texts = renderings(value)
    if not texts or not any(texts):
        return False
    return all(UNKNOWN not in text and dynamic_reference(text) is None for text in texts)


# --- SecretCustomerKey ----------------------------------------------------------------------


@rule(
    "SecretCustomerKey",
    practice=Practice.SECRETS,
    applies_to=(SECRET,),
    severity=Severity.WARNING,
    summary="A secret uses the AWS managed key aws/secretsmanager, not a customer-managed key",
    explanation=(
        "With the AWS managed key aws/secretsmanager, every principal of the account that may "
        "call GetSecretValue can decrypt the secret: the key policy cannot narrow it, cannot be "
        "audited separately, and the secret cannot be shared across accounts. This holds whether "
        "or not the template already has a customer-managed key; encrypt the secret with one."
    ),
)
def secret_customer_key(t: Template) -> Iterator[Violation]:
    """A secret without KmsKeyId or on aws/secretsmanager (with or without a key in the stack)."""
    return resource_violations(
        t,
        (SECRET,),
        "Properties/KmsKeyId",
        "use SecureSecret (the stack's key by default) or pass encryption_key=; in a "
        "template not made by CDK, set KmsKeyId to a customer-managed AWS::KMS::Key "
        "(e.g. !GetAtt Key.Arn) whose key policy names the secret's readers",
        lambda props: (
            "the secret is encrypted with the AWS managed key aws/secretsmanager"
            if _on_aws_managed_key(props.get("KmsKeyId"))
            else None
        ),
    )


def _on_aws_managed_key(key: Any) -> bool:
    return key is None or (isinstance(key, str) and key.lower() == _AWS_MANAGED_KEY)


# --- SecretReadWildcard ---------------------------------------------------------------------


@rule(
    "SecretReadWildcard",
    granular=True,
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=POLICY_TYPES,
    summary="secretsmanager:GetSecretValue is granted on more than the secrets it names",
    explanation=(
        "Resource '*', 'secret:*' or a prefix such as 'secret:prod/*' lets the principal read "
        "every matching secret, including the ones created after the policy. Grant on each "
        "secret's ARN (secret.grant_read(fn) or SecureFunction(secrets={...})). The '-??????' "
        "suffix CDK uses for a secret imported by name matches exactly one secret (Secrets "
        "Manager appends six random characters) and is not flagged."
    ),
)
def secret_read_wildcard(t: Template) -> Iterator[Violation]:
    """Allow statements granting GetSecretValue on `*`, `secret:*`, or a wildcard name."""
    fix = (
        "grant read on each secret: secret.grant_read(fn), SecureFunction(secrets={'DB': "
        "secret}), or PolicyStatement(resources=[secret.secret_full_arn])"
    )
    for logical_id, doc_path, document in policy_documents(t):
        for path, statement in statements(doc_path, document):
            if statement.get("Effect") != "Allow" or not _reads_secrets(statement):
                continue
            if "NotResource" in statement:
                yield Violation(
                    logical_id,
                    f"{path}/NotResource",
                    "GetSecretValue is allowed on everything except the listed resources",
                    fix,
                    finding_id="NotResource",
                )
            for resource in as_list(statement.get("Resource")):
                for text in renderings(resource):
                    if _wildcard(text):
                        shown = text.replace(UNKNOWN, "<token>")
                        yield Violation(
                            logical_id,
                            f"{path}/Resource",
                            f"GetSecretValue is allowed on '{shown}', which matches more than "
                            "named secrets",
                            fix,
                            finding_id=f"Resource::{shown}",
                        )
                        break


def _reads_secrets(statement: Mapping[str, Any]) -> bool:
    """Whether a statement's actions name GetSecretValue (explicitly or by a Secrets Manager
    pattern; a bare '*' action is IAMWildcard's finding)."""
    for action in as_list(statement.get("Action")):
        if not isinstance(action, str):
            continue
        lowered = action.lower()
        if lowered.startswith("secretsmanager:") and fnmatchcase(
            "secretsmanager:getsecretvalue", lowered
        ):
            return True
    return False


def _wildcard(text: str) -> bool:
    """Whether a resource ARN (UNKNOWN for deploy-time parts) matches more than one secret."""
    if text == "*":
        return True
    name = text[: -len(_NAME_SUFFIX)] if text.endswith(_NAME_SUFFIX) else text
    return "*" in name or "?" in name


# --- SecretCacheOutlivesRotation ------------------------------------------------------------


@rule(
    "SecretCacheOutlivesRotation",
    granular=True,
    practice=Practice.SECRETS,
    applies_to=(FUNCTION,),
    summary="A function caches a secret for longer than the secret's rotation interval",
    explanation=(
        "A runtime cache (the Parameters and Secrets Lambda Extension's SECRETS_MANAGER_TTL, "
        "Powertools' POWERTOOLS_PARAMETERS_MAX_AGE) that outlives the rotation interval keeps "
        "serving a value the rotation already replaced, and the function fails once the old "
        "value stops working. Keep the cache shorter than the rotation."
    ),
)
def secret_cache_outlives_rotation(t: Template) -> Iterator[Violation]:
    """A function's cache TTL above the rotation interval of a secret its environment names."""
    intervals = _rotation_intervals(t)
    if not intervals:
        return
    for logical_id, props in t.of_type(FUNCTION):
        environment = props.get("Environment")
        variables = environment.get("Variables") if isinstance(environment, Mapping) else None
        if not isinstance(variables, Mapping):
            continue
        read = [
            secret
            for value in variables.values()
            if (secret := referenced_id(value)) is not None and secret in intervals
        ]
        for variable in CACHE_TTL_VARIABLES:
            ttl = _seconds(variables.get(variable))
            if ttl is None or (
                variable == "SECRETS_MANAGER_TTL"
                and str(variables.get(_EXTENSION_CACHE_SWITCH, "true")).lower() == "false"
            ):
                continue
            for secret in dict.fromkeys(read):
                if ttl > intervals[secret]:
                    yield Violation(
                        logical_id,
                        f"Properties/Environment/Variables/{variable}",
                        f"{variable}={ttl} seconds is longer than the rotation interval of "
                        f"{secret} ({intervals[secret]} seconds)",
                        "shorten the cache (SecretsCache.extension(ttl=...) / "
                        "SecretsCache.powertools(max_age=...)) or rotate less often",
                        finding_id=f"{variable}::{secret}",
                    )


def _rotation_intervals(t: Template) -> dict[str, int]:
    """Secret logical id -> rotation interval in seconds, from the rotation schedules."""
    intervals: dict[str, int] = {}
    for _, props in t.of_type(ROTATION_SCHEDULE):
        secret = referenced_id(props.get("SecretId"))
        rules = props.get("RotationRules")
        if secret is None or not isinstance(rules, Mapping):
            continue
        seconds: int | None = None
        days = rules.get("AutomaticallyAfterDays")
        if isinstance(days, int) and not isinstance(days, bool):
            seconds = days * 86_400
        expression = rules.get("ScheduleExpression")
        match = _RATE.match(expression) if isinstance(expression, str) else None
        if match:
            unit = 3_600 if match.group(2).lower().startswith("hour") else 86_400
            seconds = int(match.group(1)) * unit
        if seconds is not None:
            intervals[secret] = min(seconds, intervals.get(secret, seconds))
    return intervals


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


RULES = (
    secret_literal_value,
    secret_customer_key,
    secret_read_wildcard,
    secret_cache_outlives_rotation,
)
