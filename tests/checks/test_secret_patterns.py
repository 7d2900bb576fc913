"""secret_reason(): what counts as a plaintext secret (used by SecureFunction and the rules)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_constructs.checks.cfn import UNKNOWN, renderings
from secure_constructs.checks.secret_patterns import (
    MIN_ENTROPY_BITS_PER_CHAR,
    is_secret_name,
    name_words,
    secret_reason,
    shannon_entropy,
)

ACCESS_KEY = "AKIA" + "Z" * 16
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ANYTHING", "{{resolve:secretsmanager:db:SecretString:password}}", "secretsmanager"),
        ("ANYTHING", "{{RESOLVE:SSM-SECURE:/db/password:3}}", "ssm-secure"),
        ("ANYTHING", f"key={ACCESS_KEY}", "access key id"),
        ("CERT", PRIVATE_KEY, "private key block"),
        ("GH", "ghp_" + "a1B2" * 9, "GitHub token"),
        ("HOOK", "xoxb-" + "1234567890-abcdefghij", "Slack token"),
        ("PAY", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "Stripe live key"),
        ("MAPS", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q", "Google API key"),
        ("REDIS_URL", "redis://:s3cret@cache.internal:6379", "password in it"),
        ("UPSTREAM_HEADER", "Bearer abcdefghijklmnop1234", "HTTP Authorization"),
        ("DB_PASSWORD", "hunter2", "password name"),
        ("dbPassword", "correct horse battery staple", "password name"),
        ("smtp-pass", "1234", "password name"),
        ("JWT_SECRET_KEY", "q8Zr3Lm0Vx7Kp2Nw5Yt1", "high-entropy"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS secret access key",
        ),
        ("apiKey", "8f14e45fceea167a5a36dedd4bea2543", "high-entropy"),
        ("CLIENT_SECRET", {"Fn::Sub": "{{resolve:ssm:/app/client-secret}}"}, "resolve:ssm"),
    ],
)
def test_fails_when_a_value_looks_like_a_credential(
    name: str, value: object, expected: str
) -> None:
    (text,) = renderings(value)
    reason = secret_reason(name, text)
    assert reason is not None and expected in reason


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", "true"),
        ("DB_PASSWORD", "/prod/db/password"),
        ("DB_PASSWORD", "abc"),
        ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC123"),
        ("DB_PASSWORD_LENGTH", "32"),
        ("PASSWORD_POLICY", "strict-upper-lower-digit-symbol"),
        ("BYPASS_CACHE", "8f14e45fceea167a5a36dedd4bea2543"),
        ("AUTHOR", "Zx8kP2qL9mN4vB7wR1tY6uE3"),
        ("OAUTH_AUDIENCE", "api://orders-Zx8kP2qL9mN4vB7wR1tY6uE3"),
        ("API_KEY", "short"),
        ("API_KEY", "prod/orders/third-party-api-key"),
        ("SECRET_NAME", "prod/orders/db"),
        ("SECRET", "aaaaaaaaaaaaaaaaaaaaaaaa"),
        ("SECRET_VALUE", "12345678901234567890"),
        ("TOKEN_ENDPOINT", "https://idp.example.com/oauth2/token"),
        ("AUTH_HEADER", "Authorization"),
        ("CALLBACK_URL", "https://user@example.com/callback"),
        ("FEATURES", "{{resolve:ssm:/prod/features}}"),
        ("GREETING", "Bearer of good news"),
    ],
)
def test_plain_configuration_passes(name: str, value: str) -> None:
    assert secret_reason(name, value) is None


def test_partly_known_values_are_checked_for_embedded_credentials_only() -> None:
    joined = f"{UNKNOWN}-Zx8kP2qL9mN4vB7wR1tY6uE3"
    assert secret_reason("API_KEY", joined, partial=True) is None
    assert secret_reason("DB_PASSWORD", f"pre{UNKNOWN}", partial=True) is None
    reason = secret_reason("DB", f"{{{{resolve:secretsmanager:{UNKNOWN}}}}}", partial=True)
    assert reason is not None and "secretsmanager" in reason
    reason = secret_reason("UPSTREAM", f"{UNKNOWN}:{ACCESS_KEY}", partial=True)
    assert reason is not None and "access key id" in reason


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("DB_PASSWORD", ["DB", "PASSWORD"]),
        ("dbPassword", ["DB", "PASSWORD"]),
        ("APIKey", ["API", "KEY"]),
        ("db-password.v2", ["DB", "PASSWORD", "V2"]),
    ],
)
def test_names_split_into_words(name: str, words: list[str]) -> None:
    assert name_words(name) == words


def test_secret_names_and_references_to_secrets() -> None:
    assert is_secret_name("STRIPE_API_KEY") and is_secret_name("dbPassword")
    assert not is_secret_name("STRIPE_API_KEY_ARN") and not is_secret_name("TABLE_NAME")


# --- properties -----------------------------------------------------------------------------

_SECRET_WORDS = ["PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY", "CREDENTIALS", "AUTH"]
_CONFIG_WORDS = ["TABLE", "LOG", "LEVEL", "REGION", "STAGE", "SERVICE", "QUEUE", "MODE", "URL"]
_any_name = st.builds(
    "_".join,
    st.lists(st.sampled_from(_SECRET_WORDS + _CONFIG_WORDS + ["DB", "ORDERS"]), min_size=1),
)
_config_name = st.builds("_".join, st.lists(st.sampled_from(_CONFIG_WORDS), min_size=1))
_arn = st.builds(
    "arn:{}:{}:{}:{}:{}".format,
    st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    st.sampled_from(["secretsmanager", "ssm", "s3", "dynamodb", "kms", "lambda"]),
    st.sampled_from(["", "eu-west-1", "us-east-1"]),
    st.sampled_from(["", "123456789012"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/:_.", min_size=1, max_size=80),
)
_short_config = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ ", max_size=15
)
_random_secret = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=!#%",
    min_size=20,
    max_size=64,
).filter(
    # a secret is random: some upper case, enough entropy, not a parameter path like /a/b
    lambda s: (
        any(c.isupper() for c in s)
        and shannon_entropy(s) >= MIN_ENTROPY_BITS_PER_CHAR
        and not s.startswith("/")
    )
)


@given(name=_any_name, value=_arn)
def test_an_arn_is_never_a_secret(name: str, value: str) -> None:
    assert secret_reason(name, value) is None


@given(name=_config_name, value=_short_config)
def test_short_plain_configuration_is_never_a_secret(name: str, value: str) -> None:
    assert secret_reason(name, value) is None


@given(name=_any_name, value=_random_secret)
def test_a_reason_never_contains_the_value(name: str, value: str) -> None:
    reason = secret_reason(name, value)
    assert reason is None or value not in reason


@given(
    name=_any_name,
    kind=st.sampled_from(["secretsmanager", "ssm-secure"]),
    before=_short_config,
    after=_short_config,
)
def test_a_secret_dynamic_reference_is_always_a_secret(
    name: str, kind: str, before: str, after: str
) -> None:
    reason = secret_reason(name, f"{before}{{{{resolve:{kind}:{after}}}}}")
    assert reason is not None and kind in reason


@given(
    word=st.sampled_from(["API_KEY", "SECRET", "TOKEN", "CLIENT_SECRET"]),
    prefix=st.sampled_from(["", "STRIPE_", "GITHUB_", "APP_"]),
    value=_random_secret,
)
def test_a_random_string_under_a_secret_name_is_a_secret(
    word: str, prefix: str, value: str
) -> None:
    assert secret_reason(prefix + word, value) is not None
