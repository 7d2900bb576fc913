"""Secret environment values the first patterns missed: password-word suffixes (PGPASSWORD),
random values under key names (ENCRYPTION_KEY), passphrases under secret names, Stripe test
keys. Checked where they are enforced: secret_reason(), the LambdaEnvironmentSecret rule and
SecureFunction's constructor. Identifiers under key names (CACHE_KEY, *_KEY_ID) stay unflagged.
"""

from __future__ import annotations

import base64
import hashlib

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from hypothesis import given, settings
from hypothesis import strategies as st

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.checks.secret_patterns import is_secret_name, secret_reason
from tests.checks.templates import run, well_configured_function

HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015"
BASE64_KEY = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
URLSAFE_KEY = "q8Zr3Lm0Vx7Kp2Nw5Yt1-aB_4cD"
STRIPE_SUFFIX = "4eC39HqLyjWDarjtT1zdp7dc"

MISSED = [
    ("PGPASSWORD", "hunter22", "password name"),
    ("DBPASS", "hunter22", "password name"),
    ("MYSQL_PWD", "hunter22", "password name"),
    ("redisPass", "hunter22", "password name"),
    ("ENCRYPTION_KEY", HEX_KEY, "key name"),
    ("HMAC_KEY", BASE64_KEY, "key name"),
    ("SIGNING_KEY", URLSAFE_KEY, "secret-like name"),
    ("LICENSE_KEY", URLSAFE_KEY, "key name"),
    ("JWT_SECRET", BASE64_KEY, "secret-like name"),
    ("WEBHOOK_SECRET", URLSAFE_KEY, "secret-like name"),
    ("APP_SECRET", "correct horse battery staple", "passphrase"),
    ("CLIENT_SECRET", "Tr0ub4dor and 3 more words", "passphrase"),
    ("PAYMENTS", "sk_test_" + STRIPE_SUFFIX, "Stripe test key"),
    ("PAYMENTS", "rk_test_" + STRIPE_SUFFIX, "Stripe test key"),
]


@pytest.mark.parametrize(("name", "value", "expected"), MISSED)
def test_fails_when_a_value_is_a_secret_the_name_or_format_gives_away(
    name: str, value: str, expected: str
) -> None:
    reason = secret_reason(name, value)
    assert reason is not None and expected in reason
    assert value not in reason


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, v, _ in MISSED])
def test_fails_when_a_function_environment_holds_such_a_secret(name: str, value: str) -> None:
    (finding,) = run(
        "LambdaEnvironmentSecret",
        well_configured_function(Environment={"Variables": {name: value}}),
    )
    assert finding.finding_id == name
    assert value not in finding.message and value not in finding.fix


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    return cdk.Stack()


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, v, _ in MISSED])
def test_fails_when_secure_function_gets_such_a_secret(
    stack: cdk.Stack, name: str, value: str
) -> None:
    with pytest.raises(ValidationError, match=rf"^environment\['{name}'\]=") as error:
        SecureFunction(
            stack,
            f"Fn{len(stack.node.children)}",
            code=lambda_.Code.from_inline("def handler(event, context): return None"),
            handler="index.handler",
            environment={name: value},
        )
    assert value not in str(error.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BYPASS_MODE", "always-for-admins"),
        ("CACHE_BYPASS", "enabled-for-admins"),
        ("COMPASS", "north-north-west"),
        ("OLDPWD", "/home/app"),
        ("KMS_KEY", "1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("KMS_KEY", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        ("ENCRYPTION_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("SIGNING_KEY_ARN", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab"),
        ("ENCRYPTION_KEY", "alias/orders-encryption-key"),
        ("ENCRYPTION_KEY", "/prod/orders/encryption-key"),
        ("HMAC_KEY", "https://keys.example.com/hmac"),
        ("CACHE_KEY", "orders-by-customer-and-date-v2"),
        ("CACHE_KEY", "CustomerOrdersByDate2024"),
        ("IDEMPOTENCY_KEY", "requestContext.requestId"),
        ("OBJECT_KEY", "uploads/2024/report-final.csv"),
        ("PARTITION_KEY", "pk"),
        ("JWT_PUBLIC_KEY", BASE64_KEY),
        ("SECRET_DESCRIPTION", "The secret of the orders database"),
        ("AUTH_PROVIDER", "Google Workspace SSO"),
        ("APP_SECRET_NAME", "orders db credentials v2"),
    ],
)
def test_identifiers_and_references_under_key_and_secret_names_pass(name: str, value: str) -> None:
    assert secret_reason(name, value) is None


def test_a_key_name_alone_does_not_make_a_secret_name() -> None:
    assert is_secret_name("PGPASSWORD") and is_secret_name("DBPASS")
    assert not is_secret_name("ENCRYPTION_KEY") and not is_secret_name("BYPASS")


# --- properties -----------------------------------------------------------------------------

_KEY_NAMES = st.builds(
    "{}_{}".format,
    st.sampled_from(["CACHE", "ENCRYPTION", "HMAC", "IDEMPOTENCY", "OBJECT", "SORT", "S3", "APP"]),
    st.sampled_from(["KEY", "KEY_ID", "KEY_ARN", "KEY_NAME", "KEYS"]),
)
# Words of identifiers (none spelled with hex letters only, like "cafe", which is a hex word).
_WORDS = st.sampled_from(
    [
        "orders", "customer", "tenant", "session", "region", "request", "items", "user",
        "date", "prod", "staging", "report", "invoice", "product", "catalog", "shipping",
        "payment", "account", "profile", "image", "thumbnail", "version", "daily", "export",
        "id", "by", "and", "per", "KMS", "API", "URL", "HTTP",
    ]
)  # fmt: skip
_SUFFIX = st.sampled_from(["", "-v2", "_v10", "2024", "-20240101", ".json", "#1"])


def _join(words: list[str], style: str, suffix: str) -> str:
    if style == "camel":
        text = words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    elif style == "pascal":
        text = "".join(w[:1].upper() + w[1:] for w in words)
    else:
        text = style.join(words)
    return text + suffix


_identifier = st.builds(
    _join,
    st.lists(_WORDS, min_size=2, max_size=6),
    st.sampled_from(["-", "_", ":", "#", "/", ".", "camel", "pascal"]),
    _SUFFIX,
)
_ssm_path = st.builds("/".join, st.lists(_WORDS.map(str.lower), min_size=2, max_size=5)).map(
    lambda p: "/" + p
)
_url = st.builds("https://{}.example.com/{}".format, _WORDS.map(str.lower), _identifier)
_short = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/", max_size=19
)


@given(name=_KEY_NAMES, value=st.one_of(_identifier, _ssm_path, _url, _short))
def test_identifiers_paths_urls_and_short_values_under_key_names_are_never_secrets(
    name: str, value: str
) -> None:
    assert secret_reason(name, value) is None


def _digest_key(seed: int, encoding: str) -> str:
    digest = hashlib.sha256(seed.to_bytes(16, "big")).digest()
    if encoding == "hex":
        return digest.hex()
    if encoding == "HEX":
        return digest[:16].hex().upper()
    return base64.b64encode(digest).decode()


@settings(derandomize=True)
@given(
    prefix=st.sampled_from(["ENCRYPTION", "HMAC", "SIGNING", "SESSION", "COOKIE", "DATA"]),
    seed=st.integers(min_value=0, max_value=2**64),
    encoding=st.sampled_from(["hex", "HEX", "base64"]),
)
def test_a_random_key_under_a_key_name_is_a_secret_and_never_echoed(
    prefix: str, seed: int, encoding: str
) -> None:
    value = _digest_key(seed, encoding)
    reason = secret_reason(f"{prefix}_KEY", value)
    assert reason is not None and value not in reason
