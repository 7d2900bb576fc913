"""Recognising secret values in plain text (pure Python; used by constructs and rules alike).

A value is refused or flagged when it *looks like* a credential: AWS access key ids, private
key blocks, JWTs, or a long high-entropy string under a name like PASSWORD/SECRET/TOKEN/API_KEY,
and any `{{resolve:secretsmanager:...}}` / `{{resolve:ssm-secure:...}}` dynamic reference
(CloudFormation resolves it into the property, where the console then shows it).
"""

from __future__ import annotations

import math
import re
from collections import Counter

_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):", re.IGNORECASE)
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)", re.IGNORECASE
)
# Names that say the value is a reference to a secret, not the secret itself.
_REFERENCE_NAME = re.compile(r"(_ARN|_NAME|_ID|_PATH|_PARAMETER|_TTL|_URL)$", re.IGNORECASE)
_ARN = re.compile(r"^arn:aws[a-z-]*:")

MIN_SECRET_LENGTH = 16
MIN_ENTROPY_BITS_PER_CHAR = 3.0


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


def secret_reason(name: str, value: str) -> str | None:
    """Why `name=value` looks like a plaintext secret, or None when it does not."""
    kind = dynamic_reference(value)
    if kind:
        return f"a {{{{resolve:{kind}:...}}}} dynamic reference (the resolved value is visible)"
    if _ACCESS_KEY.search(value):
        return "an AWS access key id"
    if _PRIVATE_KEY.search(value):
        return "a private key block"
    if _JWT.search(value):
        return "a JSON Web Token"
    if (
        _SECRET_NAME.search(name)
        and not _REFERENCE_NAME.search(name)
        and not _ARN.match(value)
        and len(value) >= MIN_SECRET_LENGTH
        and " " not in value
        and shannon_entropy(value) >= MIN_ENTROPY_BITS_PER_CHAR
    ):
        return f"a long high-entropy string under a secret-like name ({name})"
    return None
