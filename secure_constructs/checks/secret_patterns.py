"""Recognising secret values in plain text (pure Python; used by constructs and rules alike).

`secret_reason(name, value)` says why `name=value` looks like a plaintext credential, in words
that never repeat the value. Three kinds of evidence, from strongest to weakest:

1. The value alone: a `{{resolve:secretsmanager:...}}` / `{{resolve:ssm-secure:...}}` dynamic
   reference (CloudFormation resolves it into the property, where the console then shows it),
   an AWS access key id, a private key block, a JWT, a well-known token format (GitHub, Slack,
   Stripe live and test keys, Google API keys), a URL with a password in it, an HTTP
   `Bearer`/`Basic` credential.
2. A password name (the name's last word is PASSWORD, PASSWD, PWD, PASS or PASSPHRASE, or ends
   with one, as in PGPASSWORD or DBPASS; BYPASS, COMPASS ... are not): any literal that is not
   inert (empty, true/false/none, an ARN, a URL, a parameter path).
3. A secret-like name (a word like SECRET, TOKEN, API_KEY, PRIVATE_KEY, CREDENTIALS, AUTH,
   and a last word that does not say "this is a reference", like _ARN, _NAME, _ID, _URL): a
   long, high-entropy single word that is not a hierarchical name like `prod/app/db`; under a
   name ending in SECRET, also a passphrase of three or more words.
4. A key name (last word KEY, as in ENCRYPTION_KEY or HMAC_KEY; not KMS_KEY or PUBLIC_KEY): a
   value of 20 or more characters that looks random (hex, base64, or letters and digits mixed
   the way no identifier is), not words like `orders-by-customer-v2` or `CacheKeyName2024`.

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
    (re.compile(r"\b(?:sk|rk)_test_[A-Za-z0-9]{16,}"), "a Stripe test key"),
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
# Words that end like a password word but are not one (PGPASSWORD and DBPASS are).
_NOT_PASSWORD_WORDS = frozenset(
    {
        "BYPASS", "COMPASS", "ENCOMPASS", "SURPASS", "TRESPASS", "OVERPASS", "UNDERPASS",
        "ONEPASS", "TWOPASS", "MULTIPASS", "SINGLEPASS", "FIRSTPASS", "SECONDPASS", "OLDPWD",
    }
)  # fmt: skip
# A name ending in one of these holds a key when its value looks random (ENCRYPTION_KEY).
_KEY_WORDS = frozenset({"KEY", "KEYS"})
# ... unless the key is not a secret (a public key) or is always referenced (a KMS key id).
_NOT_SECRET_KEY_WORDS = frozenset({"KMS", "PUBLIC", "PUB"})
# Passphrases are recognised under names ending in these (APP_SECRET="four random words").
_PASSPHRASE_NAME_WORDS = frozenset({"SECRET", "SECRETS", "CLIENTSECRET"})
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
        "QUEUE", "TOPIC", "KEYID", "LOCATION", "POLICY", "DESCRIPTION", "LABEL", "TITLE",
        "HINT", "HELP", "MESSAGE",
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
# Three or more words separated by blanks: a diceware-style passphrase.
_PASSPHRASE = re.compile(r"^[A-Za-z0-9'!?.,&-]+(?:[ \t]+[A-Za-z0-9'!?.,&-]+){2,}$")
# What a random key looks like, character by character (see _looks_random).
_KEY_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_HEX = re.compile(r"^(?:[0-9a-f]+|[0-9A-F]+)$")
_UUID = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$", re.I
)
_LETTER_DIGIT_SWITCH = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_SEPARATORS = re.compile(r"[-_./:]")
_ACRONYM = re.compile(r"[A-Z]{3,}")
_UPPER = re.compile(r"[A-Z]")
_STRAY_CAPITAL = re.compile(r"[A-Z](?![a-z])")  # a capital that starts no word

MIN_SECRET_LENGTH = 16
MIN_PASSWORD_LENGTH = 4
MIN_KEY_LENGTH = 20
MIN_PASSPHRASE_LENGTH = 15
MIN_ENTROPY_BITS_PER_CHAR = 3.0
MIN_HEX_ENTROPY_BITS_PER_CHAR = 2.5
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
    """True when `name` says its value is a secret (not a reference to one).

    A key name (ENCRYPTION_KEY) is not enough on its own: CACHE_KEY holds no secret.
    """
    return _name_kind(name_words(name)) in ("password", "secret")


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
    words = name_words(name)
    kind = _name_kind(words)
    if kind is None:
        return None
    if kind != "key" and _PLAIN_SSM_REFERENCE.search(value):
        return f"a {{{{resolve:ssm:...}}}} reference under a secret-like name ({name})"
    if partial or _UNKNOWN in value or _inert(value):
        return None
    if kind == "password" and len(value) >= MIN_PASSWORD_LENGTH:
        return f"a literal under a password name ({name})"
    if kind == "key":
        if _looks_random(value):
            return f"a long random string under a key name ({name})"
        return None
    if (
        words[-1] in _PASSPHRASE_NAME_WORDS
        and len(value.strip()) >= MIN_PASSPHRASE_LENGTH
        and _PASSPHRASE.match(value.strip())
    ):
        return f"a multi-word passphrase under a secret-like name ({name})"
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
    """'password', 'secret', 'key' or None (not a secret name, or a reference to a secret)."""
    if not words or words[-1] in _REFERENCE_WORDS:
        return None
    if _is_password_word(words[-1]):
        return "password"
    if any(w in _SECRET_WORDS or _is_password_word(w) for w in words):
        return "secret"
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words)):
        return "secret"
    if words[-1] in _KEY_WORDS and not _NOT_SECRET_KEY_WORDS.intersection(words):
        return "key"
    return None


def _is_password_word(word: str) -> bool:
    """PASSWORD, PWD ... or a word ending with one (PGPASSWORD, DBPASS), but not BYPASS."""
    return word in _PASSWORD_WORDS or (
        word not in _NOT_PASSWORD_WORDS and word.endswith(tuple(_PASSWORD_WORDS))
    )


def _looks_random(value: str) -> bool:
    """A key-like value: 20+ characters of hex, base64, or letters and digits in random order.

    Identifiers built from words (`orders-by-customer-v2`, `CacheKeyName2024`, `prod/app/key`)
    are not random: their letters come in words, their capitals start words (acronyms of three
    or more capitals aside), and digits come in groups. UUIDs (a KMS key id) are identifiers
    too. About one random 20-character alphanumeric string in ten escapes; from 32 characters
    on, about one in a hundred.
    """
    if (
        len(value) < MIN_KEY_LENGTH
        or not _KEY_CHARS.match(value)
        or _UUID.match(value)
        or _HIERARCHICAL_NAME.match(value)
        or not any(c.isalpha() for c in value)
    ):
        return False
    entropy = shannon_entropy(value)
    if _HEX.match(value.replace("-", "")):  # at most 4 bits a character: a lower bar
        return any(c.isdigit() for c in value) and entropy >= MIN_HEX_ENTROPY_BITS_PER_CHAR
    if entropy < MIN_ENTROPY_BITS_PER_CHAR:
        return False
    if "+" in value or (value.endswith("=") and len(value) % 4 == 0):
        return True  # base64
    if max(len(_LETTER_DIGIT_SWITCH.findall(part)) for part in _SEPARATORS.split(value)) >= 4:
        return True  # letters and digits interleaved: a8f3k2j9...
    rest = _ACRONYM.sub("-", value)
    capitals = len(_UPPER.findall(rest))
    stray = len(_STRAY_CAPITAL.findall(rest))
    return stray >= 2 and stray >= 0.25 * capitals  # capitals in random places: xK9pQ...


def _inert(value: str) -> bool:
    """A value that cannot be a secret: a flag, an ARN, a URL, a parameter path."""
    stripped = value.strip()
    return (
        stripped.lower() in _INERT_WORDS
        or bool(_ARN.match(stripped))
        or "://" in stripped
        or bool(_PARAMETER_PATH.match(stripped))
    )
