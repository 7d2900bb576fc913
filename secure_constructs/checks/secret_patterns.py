"""Recognising secret values in plain text (used by constructs and rules alike).

`secret_reason(name, value)` says why `name=value` looks like a plaintext credential, in words
that name the detector and never repeat the value. The evidence, from strongest to weakest:

1. The value alone (secret_detectors.py): a `{{resolve:secretsmanager:...}}` /
   `{{resolve:ssm-secure:...}}` dynamic reference (CloudFormation resolves it into the property,
   where the console then shows it), or a credential of a known format found by detect-secrets'
   plugins (AWS keys, private keys, JWTs, basic-auth URLs, GitHub, Slack, Stripe, Twilio,
   SendGrid, OpenAI, npm, Azure storage keys, ...) or by the few formats it lacks.
2. A connection string with credentials: `password=`/`Pwd=`/`AccountKey=` pairs in an ADO.NET
   style `k=v;k=v` string, `?password=`/`&api_key=`/`&token=` in a URL's query.
3. A value wrapping others: JSON, YAML or dotenv text, or base64 of any of these (or of
   `user:password`, or of a PEM key), decoded and scanned again, MAX_WRAPPING_DEPTH deep; the
   member keys are the names there.
4. A password name (a word of the name is PASSWORD, PASSWD, PWD, PW, PASS or PASSPHRASE, or ends
   with one, as in PGPASSWORD or DBPASS; BYPASS, COMPASS ... are not): any literal that is not
   inert (empty, true/false/none, an ARN, a URL, a parameter path).
5. A secret-like name (a word like SECRET, TOKEN, API_KEY, PRIVATE_KEY, CREDENTIALS, AUTH, and a
   last word that does not say "this is a reference", like _ARN, _NAME, _ID, _URL): a value
   detect-secrets' high-entropy detectors flag, or a long high-entropy single word that is not a
   hierarchical name like `prod/app/db`; under a name ending in SECRET, also a passphrase.
6. A key name (last word KEY, as in ENCRYPTION_KEY or HMAC_KEY; not KMS_KEY or PUBLIC_KEY): a
   value of 20 or more characters that looks random (hex, base64, or letters and digits mixed
   the way no identifier is), not words like `orders-by-customer-v2` or `CacheKeyName2024`.

The high-entropy detectors run under secret and key names only: git SHAs, sha256 digests and
Lambda's CodeSha256 score above their thresholds. Also, under a secret-like name, a plain
`{{resolve:ssm:...}}` reference: a String parameter holding a secret is not encrypted.

Values known only in part (a `Fn::Join` around a `Ref`) are checked for (1) and for dynamic
references only: pass `partial=True`, with `checks.cfn.UNKNOWN` standing for the unknown parts.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from secure_constructs.checks.secret_detectors import format_reason, high_entropy

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):", re.IGNORECASE)
_PLAIN_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:", re.IGNORECASE)

_PASSWORD_WORDS = frozenset({"PASSWORD", "PASSWORDS", "PASSWD", "PWD", "PW", "PASS", "PASSPHRASE"})
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
MIN_FORMAT_LENGTH = 8  # no credential format of detect-secrets' is shorter
MIN_QUERY_SECRET_LENGTH = 6
MIN_WRAPPED_LENGTH = 8
MAX_WRAPPING_DEPTH = 3
_UNKNOWN = "\x00"  # checks.cfn.UNKNOWN (not imported: this module stays light)
_SPACE = re.compile(r"\s")
_PAIR_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,40}$")
# A template placeholder, not a value: `password={password}`, `pwd=${DB_PASSWORD}`, `<pass>`.
_PLACEHOLDER_VALUE = re.compile(r"^(?:\$?\{[^}]*\}|<[^>]*>|%[A-Za-z_(][^%]*%?|\*+)$")
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
_YAML_LINE = re.compile(r"^\s*(?:- )?[A-Za-z_\"'][\w\"' .-]*:(?:\s.*)?$|^\s*- .*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]{8,}={0,2}$")
_BASIC_CREDENTIAL = re.compile(r"^[^:\s]{1,64}:[^\s]{4,}$")


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


def restricted_name(name: str) -> str:
    """`name` when, as a CloudFormation property name, it says its value is a secret; else "".

    Property names are a schema's, not a user's: `MasterUserPassword`, `SecretString`,
    `AuthToken`, `ApiKey` say "secret"; `S3Key` (an asset hash), `ExplicitAuthFlows`, `KeyName`
    do not.
    """
    words = name_words(name)
    kind = _name_kind(words)
    if kind == "password" or (kind == "secret" and words[-1] in _SECRET_WORDS):
        return name
    if kind == "secret" and (
        words[-2:] == ["SECRET", "STRING"] or tuple(words[-2:]) in _SECRET_PAIRS
    ):
        return name
    return ""


def value_secret_reason(value: str) -> str | None:
    """Why `value` alone is a credential (whatever its name), or None."""
    kind = dynamic_reference(value)
    if kind:
        return f"a {{{{resolve:{kind}:...}}}} dynamic reference (the resolved value is visible)"
    if len(value) < MIN_FORMAT_LENGTH or (_ARN.match(value) and not _SPACE.search(value)):
        return None
    return format_reason(value)


def secret_reason(name: str, value: str, *, partial: bool = False) -> str | None:
    """Why `name=value` looks like a plaintext secret, or None when it does not.

    :param partial: `value` is only partly known (unknown parts are `checks.cfn.UNKNOWN`);
        only the evidence in the value itself and dynamic references count then.
    """
    return _reason(name, value, partial or _UNKNOWN in value, 0)


@functools.lru_cache(maxsize=65536)
def _reason(name: str, value: str, partial: bool, depth: int) -> str | None:
    reason = value_secret_reason(value)
    if reason:
        return reason
    kind = _name_kind(name_words(name))
    if kind is not None and kind != "key" and _PLAIN_SSM_REFERENCE.search(value):
        return f"a {{{{resolve:ssm:...}}}} reference under a secret-like name ({name})"
    reason = _connection_string_reason(value) or _wrapped_reason(value, depth)
    if reason or partial or kind is None or _inert(value):
        return reason
    return _named_reason(name, kind, value)


def _named_reason(name: str, kind: str, value: str) -> str | None:
    """The name-based detector: `value` is a literal under a password, secret or key name."""
    if kind == "password" and len(value) >= MIN_PASSWORD_LENGTH:
        return f"name-based: a literal under a password name ({name})"
    if kind == "key":
        if _looks_random(value):
            return f"name-based: a long random string under a key name ({name})"
        return None
    words = name_words(name)
    if (
        words[-1] in _PASSPHRASE_NAME_WORDS
        and len(value.strip()) >= MIN_PASSPHRASE_LENGTH
        and _PASSPHRASE.match(value.strip())
    ):
        return f"name-based: a multi-word passphrase under a secret-like name ({name})"
    if (
        len(value) >= MIN_SECRET_LENGTH
        and not _SPACE.search(value)
        and not _NUMBER.match(value)
        and not _HIERARCHICAL_NAME.match(value)
    ):
        detector = high_entropy(value)
        if detector or shannon_entropy(value) >= MIN_ENTROPY_BITS_PER_CHAR:
            by = f"{detector} " if detector else ""
            return f"name-based: a long high-entropy string {by}under a secret-like name ({name})"
    return None


# --- connection strings ---------------------------------------------------------------------


def _connection_string_reason(value: str) -> str | None:
    """A credential in a `k=v;k=v` connection string or in a URL's query string."""
    for key, item in _connection_pairs(value):
        words = name_words(key)
        kind = _name_kind(words)
        if kind is None or _UNKNOWN in item or _inert(item) or _PLACEHOLDER_VALUE.match(item):
            continue
        if kind == "password" and len(item) >= MIN_PASSWORD_LENGTH:
            return f"connection string: a credential in {key}="
        if kind == "secret" and len(item) >= MIN_QUERY_SECRET_LENGTH:
            return f"connection string: a credential in {key}="
        if kind == "key" and (_looks_random(item) or high_entropy(item)):
            return f"connection string: a key in {key}="
    return None


def _connection_pairs(value: str) -> Iterator[tuple[str, str]]:
    if "?" in value and "=" in value:
        query = value.split("?", 1)[1].split("#", 1)[0]
        yield from parse_qsl(query.replace(";", "&"), keep_blank_values=False)
    if value.count(";") >= 1 and value.count("=") >= 2 and "\n" not in value:
        for part in value.split(";"):
            key, sep, item = part.partition("=")
            if sep and _PAIR_KEY.match(key.strip()):
                yield key.strip(), item.strip().strip("'\"")


# --- wrapping: JSON, YAML, dotenv, base64 ---------------------------------------------------


def _wrapped_reason(value: str, depth: int) -> str | None:
    """A secret inside JSON/YAML/dotenv text or base64, decoded and scanned again."""
    if depth >= MAX_WRAPPING_DEPTH or len(value) < MIN_WRAPPED_LENGTH:
        return None
    structured = _structured(value)
    if structured is not None:
        for key, item in _members(structured, ""):
            reason = _reason(key, item, _UNKNOWN in item, depth + 1)
            if reason:
                return f"{reason}, in a member {key!r} of a JSON/YAML/dotenv value"
        return None
    decoded = _base64_text(value)
    if decoded is None:
        return None
    if _BASIC_CREDENTIAL.match(decoded):
        return "base64-wrapped: user:password (an HTTP Basic credential)"
    reason = value_secret_reason(decoded) or _wrapped_reason(decoded, depth + 1)
    if reason is None and "=" in decoded:
        reason = _connection_string_reason(decoded)
    return f"base64-wrapped: {reason}" if reason else None


def _structured(value: str) -> Any:
    """`value` parsed as a JSON object/array, YAML mapping or dotenv lines; else None."""
    stripped = value.strip()
    if stripped[:1] in "{[":
        try:
            return json.loads(stripped, strict=False)  # UNKNOWN parts are control chars
        except ValueError:
            pass
    lines = [line for line in stripped.splitlines() if line.strip() and not line.startswith("#")]
    pairs = [(m.group(1), m.group(2)) for m in map(_DOTENV_LINE.match, lines) if m]
    if len(lines) >= 2 and len(pairs) == len(lines):
        return dict(pairs)
    if len(lines) >= 2 and all(_YAML_LINE.match(line) for line in lines):
        import yaml  # a dependency of detect-secrets

        try:
            loaded = yaml.safe_load(stripped)
        except yaml.YAMLError:
            return None
        return loaded if isinstance(loaded, Mapping) else None
    return None


def _members(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """(member key, string value) of every scalar inside a parsed JSON/YAML value."""
    if isinstance(value, Mapping):
        for k, item in value.items():
            yield from _members(item, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _members(item, key)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield key, str(value)


def _base64_text(value: str) -> str | None:
    """The UTF-8 text `value` is the base64 of, when it is; else None (binary, not base64)."""
    compact = value.strip()
    if not _BASE64.match(compact) or len(compact) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=None, validate=False)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        try:
            raw = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return text if text and printable == len(text) else None


def _name_kind(words: list[str]) -> str | None:
    """'password', 'secret', 'key' or None (not a secret name, or a reference to a secret)."""
    if not words or words[-1] in _REFERENCE_WORDS:
        return None
    if any(_is_password_word(w) for w in words):
        return "password"
    if any(w in _SECRET_WORDS for w in words):
        return "secret"
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words)):
        return "secret"
    if words[-1] in _KEY_WORDS and not _NOT_SECRET_KEY_WORDS.intersection(words):
        return "key"
    return None


def _is_password_word(word: str) -> bool:
    """PASSWORD, PWD ... or a word ending with one (PGPASSWORD, DBPASS), but not BYPASS; or
    a word holding PASSWORD/PASSWD (CDK's logical ids drop separators: DBPASSWORDV2)."""
    return (
        word in _PASSWORD_WORDS
        or (word not in _NOT_PASSWORD_WORDS and word.endswith(tuple(_PASSWORD_WORDS)))
        or "PASSWORD" in word
        or "PASSWD" in word
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
