"""Format-based secret detection: detect-secrets' plugins, used in-process as a library.

detect-secrets (Yelp) ships one plugin per credential format (AWS keys, private keys, basic-auth
URLs, JWTs, Slack, Stripe, GitHub, GitLab, Twilio, SendGrid, OpenAI, npm, Azure storage keys,
...), plus high-entropy base64/hex detectors and a keyword detector. It is imported on first
use only: `secure-constructs audit` and the constructs pay for it only when they scan a value.

The high-entropy detectors are not run on every string: git SHAs, sha256 digests and Lambda's
`CodeSha256` all score above their thresholds. `high_entropy()` is called by the name-based
checks only (secret_patterns.py), under a name that says "secret".

A few formats detect-secrets 1.5 does not know are added here (`_EXTRA_FORMATS`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

# detect-secrets plugin class -> words of our message. Left out on purpose: IPPublicDetector
# (an IP address is not a secret), and the keyword-based IBM/SoftLayer/Cloudant detectors (the
# name-based checks in secret_patterns.py read names for every vendor at once).
_PLUGINS: tuple[tuple[str, str, str], ...] = (
    ("aws", "AWSKeyDetector", "an AWS access key id"),
    ("private_key", "PrivateKeyDetector", "a private key block"),
    ("jwt", "JwtTokenDetector", "a JSON Web Token"),
    ("basic_auth", "BasicAuthDetector", "a URL with a password in it"),
    ("github_token", "GitHubTokenDetector", "a GitHub token"),
    ("gitlab_token", "GitLabTokenDetector", "a GitLab token"),
    ("slack", "SlackDetector", "a Slack token or webhook URL"),
    ("stripe", "StripeDetector", "a Stripe live key"),
    ("twilio", "TwilioKeyDetector", "a Twilio API key"),
    ("sendgrid", "SendGridDetector", "a SendGrid API key"),
    ("openai", "OpenAIDetector", "an OpenAI API key"),
    ("npm", "NpmDetector", "an npm token"),
    ("azure_storage_key", "AzureStorageKeyDetector", "an Azure storage account key"),
    ("discord", "DiscordBotTokenDetector", "a Discord bot token"),
    ("mailchimp", "MailchimpDetector", "a Mailchimp API key"),
    ("pypi_token", "PypiTokenDetector", "a PyPI token"),
    ("telegram_token", "TelegramBotTokenDetector", "a Telegram bot token"),
    ("square_oauth", "SquareOAuthDetector", "a Square OAuth secret"),
    ("artifactory", "ArtifactoryDetector", "an Artifactory token"),
)

# Formats detect-secrets 1.5 does not ship a plugin for (name, pattern, words).
_EXTRA_FORMATS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("StripeFormat", re.compile(r"\b(?:sk|rk)_test_[A-Za-z0-9]{16,}"), "a Stripe test key"),
    ("StripeFormat", re.compile(r"\bwhsec_[A-Za-z0-9]{24,}"), "a Stripe webhook secret"),
    ("StripeFormat", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}"), "a Stripe live key"),
    (
        "OpenAIFormat",
        re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),
        "an OpenAI API key",
    ),
    (
        "UrlUserinfo",  # BasicAuthDetector wants a user name; `redis://:pass@host` has none
        re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\x00]*:[^/\s@\x00]+@"),
        "a URL with a password in it",
    ),
    ("NpmFormat", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), "an npm token"),
    ("GitHubFormat", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"), "a GitHub token"),
    ("SlackFormat", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token or webhook URL"),
    ("GoogleFormat", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (
        "AuthorizationHeader",
        re.compile(r"^\s*(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}\s*$", re.IGNORECASE),
        "an HTTP Authorization credential",
    ),
    (
        "AwsSecretKeyFormat",
        # 40 base64 characters with both cases and a digit or a slash: the shape of an AWS
        # secret access key. A git SHA (40 hex characters) has one case only.
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
            r"(?=[A-Za-z0-9/+]*[0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        "an AWS secret access key",
    ),
)  # fmt: skip

BASE64_ENTROPY_LIMIT = 4.5  # detect-secrets' defaults
HEX_ENTROPY_LIMIT = 3.0
AWS_SECRET_KEY_ENTROPY = 4.3


@functools.cache
def _plugins() -> tuple[tuple[str, Any, str], ...]:
    """detect-secrets' format plugins, imported and instantiated once."""
    import importlib

    loaded = []
    for module, cls, words in _PLUGINS:
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)()
        loaded.append((cls, plugin, words))
    return tuple(loaded)


@functools.cache
def _entropy_plugins() -> tuple[Any, Any]:
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )

    return (
        Base64HighEntropyString(limit=BASE64_ENTROPY_LIMIT),
        HexHighEntropyString(limit=HEX_ENTROPY_LIMIT),
    )


@functools.lru_cache(maxsize=65536)
def format_reason(value: str) -> str | None:
    """'<Detector>: <what>' when `value` holds a credential of a known format, else None."""
    for cls, plugin, words in _plugins():
        if any(True for _ in plugin.analyze_string(value)):
            return f"{cls}: {words}"
    for name, pattern, words in _EXTRA_FORMATS:
        match = pattern.search(value)
        if match and (name != "AwsSecretKeyFormat" or _random_enough(match.group(0))):
            return f"{name}: {words}"
    return None


def _random_enough(candidate: str) -> bool:
    """An AWS secret access key is random: digits among its letters, no words (not a path
    like `Stack/SecureConstructsAlarmTopic/Resource`)."""
    digits = sum(c.isdigit() for c in candidate)
    words = re.findall(r"[A-Z]?[a-z]{4,}", candidate)
    return digits >= 1 and len(words) <= 2 and _entropy(candidate) >= AWS_SECRET_KEY_ENTROPY


def _entropy(value: str) -> float:
    import math
    from collections import Counter

    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def high_entropy(value: str) -> str | None:
    """'<Detector>' when detect-secrets' high-entropy detectors score `value` over their limit.

    Run only under a name that says "secret": entropy alone is no evidence.
    """
    quoted = f'"{value}"'  # the plugins look at quoted strings, as in source code
    for plugin in _entropy_plugins():
        for found in plugin.analyze_string(quoted):
            if plugin.calculate_shannon_entropy(found) > plugin.entropy_limit:
                return type(plugin).__name__
    return None
