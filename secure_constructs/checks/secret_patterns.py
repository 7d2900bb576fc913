"""Recognising secret values in plain text (pure Python; used by constructs and rules alike).

`secret_reason(name, value)` says why `name=value` looks like a plaintext credential, in words
that never repeat the value. Three kinds of evidence, from strongest to weakest:

1. The value alone: a `{{resolve:secretsmanager:...}}` / `{{resolve:ssm-secure:...}}` dynamic
   reference (CloudFormation resolves it into the property, where the console then shows it),
   an AWS access key id, a private key block, a JWT, a well-known token format (GitHub, Slack,
   Stripe, Google API keys), a URL with a password in it, an HTTP `Bearer`/`Basic` credential.
2. A password name (the name's last word is PASSWORD, PASSWD, PWD, PASS or PASSPHRASE): any
   literal that is not inert (empty, true/false/none, an ARN, a URL, a parameter path).
3. A secret-like name (a word like SECRET, TOKEN, API_KEY, PRIVATE_KEY, CREDENTIALS, AUTH,
   and a last word that does not say "this is a reference", like _ARN, _NAME, _ID, _URL): a
   long, high-entropy single word that is not a hierarchical name like `prod/app/db`.

Also, under a secret-like name, a plain `{{resolve:ssm:...}}` reference: a String parameter
holding a secret is resolved into the template just the same.

Values known only in part (a `Fn::Join` around a `Ref`) are checked for (1) and for dynamic
references only: pass `partial=True`, with `checks.cfn.UNKNOWN` standing for the unknown parts.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):", re.IGNORECASE)
_PLAIN_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:", re.IGNORECASE)

# Evidence in the value alone, in the order they are reported. Each pattern is anchored on
# something a configuration value does not contain by accident.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
        "an AWS access key id",
    ),
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"), "a private key block"),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        "a JSON Web Token",
    ),
    (
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})"),
        "a GitHub token",
    ),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}"), "a Stripe live key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (
        re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\x00]*:[^/\s@\x00]+@"),
        "a URL with a password in it",
    ),
    (
        re.compile(r"^\s*(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}\s*$", re.IGNORECASE),
        "an HTTP Authorization credential",
    ),
)

_PASSWORD_WORDS = frozenset({"PASSWORD", "PASSWORDS", "PASSWD", "PWD", "PASS", "PASSPHRASE"})
_SECRET_WORDS = frozenset(
    {
        "SECRET",
        "SECRETS",
        "TOKEN",
        "TOKENS",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "AUTH",
        "APIKEY",
        "APIKEYS",
        "ACCESSKEY",
        "SECRETKEY",
        "PRIVATEKEY",
        "CLIENTSECRET",
        "AUTHTOKEN",
        "ACCESSTOKEN",
        "SIGNINGKEY",
    }
)
# Two-word spellings: API_KEY, PRIVATE_KEY, ...
_SECRET_PAIRS = frozenset(
    {("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SIGNING", "KEY"), ("MASTER", "KEY")}
)
# A last word that says the value points at (or describes) a secret rather than being one.
_REFERENCE_WORDS = frozenset(
    {
        "ARN", "ARNS", "NAME", "NAMES", "ID", "IDS", "PATH", "PARAMETER", "PARAM", "URL", "URI",
        "ENDPOINT", "HOST", "HOSTNAME", "PORT", "REGION", "ISSUER", "AUDIENCE", "HEADER", "TYPE",
        "FILE", "VERSION", "TTL", "EXPIRY", "EXPIRATION", "TIMEOUT", "MS", "SEC", "SECONDS",
        "MINUTES", "HOURS", "DAYS", "LENGTH", "SIZE", "COUNT", "LIMIT", "ENABLED", "MODE",
        "FORMAT", "ALGORITHM", "SCOPE", "SCOPES", "PREFIX", "SUFFIX", "BUCKET", "TABLE",
        "QUEUE", "TOPIC", "KEYID", "LOCATION", "POLICY",
    }
)  # fmt: skip
_INERT_WORDS = frozenset(
    {"", "none", "null", "nil", "true", "false", "undefined", "disabled", "enabled", "n/a", "-"}
)
_ARN = re.compile(r"^arn:aws[a-z-]*:", re.IGNORECASE)
_PARAMETER_PATH = re.compile(r"^/[A-Za-z0-9_.\-/]+$")
# `prod/app/db`, `my-app/db-credentials`: hierarchical names, not random strings.
_HIERARCHICAL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+=@-]*(?:/[a-z0-9][a-z0-9_.+=@-]*)+/?$")
_WORD_BOUNDARY = (re.compile(r"([a-z0-9])([A-Z])"), re.compile(r"([A-Z]+)([A-Z][a-z])"))
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")

MIN_SECRET_LENGTH = 16
MIN_PASSWORD_LENGTH = 4
MIN_ENTROPY_BITS_PER_CHAR = 3.0
_UNKNOWN = "\x00"  # checks.cfn.UNKNOWN (not imported: this module stays dependency-free)


def dynamic_reference(value: str) -> str | None:
    """The kind of secret dynamic reference in `value` ('secretsmanager'/'ssm-secure'), if any."""
    match = _DYNAMIC_REFERENCE.search(value)
    return match.group(1).lower() if match else None


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of `value`."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def name_words(name: str) -> list[str]:
    """The upper-case words of an environment variable or parameter name.

    `DB_PASSWORD`, `dbPassword` and `db-password` all give ['DB', 'PASSWORD'].
    """
    for pattern in _WORD_BOUNDARY:
        name = pattern.sub(r"\1_\2", name)
    return [w.upper() for w in re.split(r"[^A-Za-z0-9]+", name) if w]


def is_secret_name(name: str) -> bool:
    """True when `name` says its value is a secret (not a reference to one)."""
    return _name_kind(name_words(name)) is not None


def value_secret_reason(value: str) -> str | None:
    """Why `value` alone is a credential (whatever its name), or None."""
    kind = dynamic_reference(value)
    if kind:
        return f"a {{{{resolve:{kind}:...}}}} dynamic reference (the resolved value is visible)"
    if _ARN.match(value) and not any(c.isspace() for c in value):
        return None
    for pattern, description in _VALUE_PATTERNS:
        if pattern.search(value):
            return description
    return None


def secret_reason(name: str, value: str, *, partial: bool = False) -> str | None:
    """Why `name=value` looks like a plaintext secret, or None when it does not.

    :param partial: `value` is only partly known (unknown parts are `checks.cfn.UNKNOWN`);
        only the evidence in the value itself and dynamic references count then.
    """
    reason = value_secret_reason(value)
    if reason:
        return reason
    kind = _name_kind(name_words(name))
    if kind is None:
        return None
    if _PLAIN_SSM_REFERENCE.search(value):
        return f"a {{{{resolve:ssm:...}}}} reference under a secret-like name ({name})"
    if partial or _UNKNOWN in value or _inert(value):
        return None
    if kind == "password" and len(value) >= MIN_PASSWORD_LENGTH:
        return f"a literal under a password name ({name})"
    if (
        len(value) >= MIN_SECRET_LENGTH
        and not any(c.isspace() for c in value)
        and not _NUMBER.match(value)
        and not _HIERARCHICAL_NAME.match(value)
        and shannon_entropy(value) >= MIN_ENTROPY_BITS_PER_CHAR
    ):
        return f"a long high-entropy string under a secret-like name ({name})"
    return None


def _name_kind(words: list[str]) -> str | None:
    """'password', 'secret' or None (not a secret name, or a reference to a secret)."""
    if not words or words[-1] in _REFERENCE_WORDS:
        return None
    if words[-1] in _PASSWORD_WORDS:
        return "password"
    if any(w in _SECRET_WORDS or w in _PASSWORD_WORDS for w in words):
        return "secret"
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words)):
        return "secret"
    return None


def _inert(value: str) -> bool:
    """A value that cannot be a secret: a flag, an ARN, a URL, a parameter path."""
    stripped = value.strip()
    return (
        stripped.lower() in _INERT_WORDS
        or bool(_ARN.match(stripped))
        or "://" in stripped
        or bool(_PARAMETER_PATH.match(stripped))
    )
