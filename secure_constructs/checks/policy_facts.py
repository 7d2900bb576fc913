"""Facts about resource-based and trust policies that rules (and constructs) rely on.

`RESTRICTING_CONDITION_KEYS` says which global condition keys narrow *who* can use an `Allow`
to `*`, with AWS's documented meaning of each; `is_restricting_condition` applies it to one
statement's `Condition` block. Pure Python, no CDK.

Sources (AWS documentation):
- IAM global condition context keys:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
- Condition operators (`...IfExists`, `Null`, `ForAnyValue`/`ForAllValues`):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- The confused-deputy problem (`aws:SourceArn`/`aws:SourceAccount` for service principals):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
- KMS condition keys (`kms:CallerAccount`, `kms:ViaService`):
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, as_list, renderings

# key (lower case) -> what AWS documents it to compare. Each one pins the caller (or the
# resource acting through a service) to an account, an organization or a network path, so an
# Allow to "*" with one of them is no longer open to the world.
RESTRICTING_CONDITION_KEYS: dict[str, str] = {
    "aws:sourcearn": "the ARN of the resource a service acts for (confused-deputy guard)",
    "aws:sourceaccount": "the account of the resource a service acts for",
    "aws:sourceowner": "the account of the resource a service acts for (older SNS/SES key)",
    "aws:sourceorgid": "the organization of the resource a service acts for",
    "aws:sourceorgpaths": "the organization path of the resource a service acts for",
    "aws:principalorgid": "the organization of the calling principal's account",
    "aws:principalorgpaths": "the organization path of the calling principal's account",
    "aws:principalaccount": "the account of the calling principal",
    "aws:principalarn": "the ARN of the calling principal",
    "aws:sourcevpce": "the VPC endpoint the request came through",
    "aws:sourcevpc": "the VPC the request came through",
    "kms:calleraccount": "the account of the calling principal (KMS)",
}
# Keys whose value is an account id or organization id: a wildcard in it matches everyone.
# Keys not listed (notably kms:ViaService, aws:SecureTransport, aws:SourceIp) do not say who
# calls: kms:ViaService lets any account's principal use the key through that service.
NOT_RESTRICTING_EXAMPLES: tuple[str, ...] = ("kms:viaservice", "aws:securetransport")

# Operators that *require* the key to match a value. `...IfExists` passes when the key is
# absent (so any caller without it passes), `Null` only tests presence, the negated ones
# (`StringNotEquals`, `ArnNotLike`) admit everyone outside a list. Of the set qualifiers only
# `ForAnyValue:` keeps that meaning (false when the key is absent); `ForAllValues:` is true
# when the request has no such key ("It also returns true if there are no context keys in the
# request", AWS, Single-valued vs. multivalued context keys,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html),
# so it restricts no caller; a misspelt qualifier is not an operator IAM knows.
_POSITIVE_BASES = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_RESTRICTING_QUALIFIERS = frozenset({"", "foranyvalue"})


def operator_parts(operator: str) -> tuple[str, str]:
    """(set qualifier, base operator), lower case: `ForAnyValue:StringLike` ->
    (`foranyvalue`, `stringlike`), `ArnEquals` -> (``, `arnequals`). An unknown qualifier
    (`ForAllValue:`, a typo) is kept as it is written, so it matches no table."""
    qualifier, _, base = operator.lower().rpartition(":")
    return qualifier, base


def is_positive_operator(operator: Any) -> bool:
    """Whether `operator` passes only when the key is present and matches a listed value."""
    if not isinstance(operator, str):
        return False
    qualifier, base = operator_parts(operator)
    return qualifier in _RESTRICTING_QUALIFIERS and base in _POSITIVE_BASES


_ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
# Organization paths are wildcard patterns by design (`o-a1b2/r-ab12/ou-*`); only one whose
# organization part is a wildcard matches everyone.
_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
_WILDCARD = re.compile(r"[*?]")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def is_wildcard_only(text: str) -> bool:
    """`*`, `?`, `*?*`: a pattern that matches any string (IAM treats `?` as a wildcard too)."""
    return bool(text) and not _WILDCARD.sub("", text)


def has_wildcard(text: str) -> bool:
    """Whether a pattern holds `*` or `?` (both are IAM wildcards)."""
    return bool(_WILDCARD.search(text))


def arn_matches_any_account(pattern: str) -> bool:
    """Whether an ARN pattern (e.g. a SourceArn) can match resources of another account.

    `*`, `arn:aws:execute-api:*:*:*` (the account field holds a wildcard) do; so does every
    ARN of a service whose ARNs carry no account (S3: `arn:aws:s3:::my*`; bucket names are
    global, so `my*` matches other accounts' buckets) with a `*` or `?` in the resource name.
    An account known only at deploy time (a Ref to the stack's account) is taken as pinned.
    """
    if is_wildcard_only(pattern):
        return True
    parts = pattern.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return has_wildcard(pattern) and UNKNOWN not in pattern
    account, resource = parts[4], parts[5]
    if account:
        return has_wildcard(account)
    name = re.split(r"[/:]", resource, maxsplit=1)[0]
    return name == "" or has_wildcard(name)


def _value_restricts(key: str, value: Any) -> bool:
    texts = renderings(value)
    if not texts:
        return False
    for text in texts:
        if key in _ARN_KEYS:
            if arn_matches_any_account(text):  # a deploy-time account is pinned, a name not
                return False
        elif UNKNOWN in text:
            continue  # a Ref (e.g. AWS::AccountId): pinned at deploy time
        elif key in _PATH_KEYS:
            if is_wildcard_only(text.split("/", 1)[0]):
                return False
        elif has_wildcard(text):
            return False  # an account, organization or endpoint id with a wildcard
    return True


def is_restricting_condition(condition: Any) -> bool:
    """Whether a statement's Condition pins the caller (see RESTRICTING_CONDITION_KEYS).

    True when some positive operator (StringEquals, ArnLike, ...; not `...IfExists`, not the
    negated ones) compares a restricting key with values none of which is a wildcard that
    matches any account.
    """
    return _pins(condition, lambda name: name if name in RESTRICTING_CONDITION_KEYS else None)


def _pins(condition: Any, judged_as: Callable[[str], str | None]) -> bool:
    """Whether some positive operator of `condition` compares a key that `judged_as` maps to
    a restricting key (None: a key that pins nothing) with values that all restrict."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not (is_positive_operator(operator) and isinstance(tests, Mapping)):
            continue
        for key, values in tests.items():
            name = judged_as(key.lower()) if isinstance(key, str) else None
            listed = as_list(values)
            if name and listed and all(_value_restricts(name, v) for v in listed):
                return True
    return False


def condition_keys(condition: Any) -> set[str]:
    """Every condition key (lower case) tested by a positive operator in a Condition block."""
    keys: set[str] = set()
    if isinstance(condition, Mapping):
        for operator, tests in condition.items():
            if is_positive_operator(operator) and isinstance(tests, Mapping):
                keys.update(k.lower() for k in tests if isinstance(k, str))
    return keys


def pinned_condition_keys(condition: Any) -> set[str]:
    """The condition keys (lower case) a positive operator compares with values that are not
    all wildcards: `StringLike {"sts:ExternalId": "*"}` tests a key but pins nothing."""
    keys: set[str] = set()
    if isinstance(condition, Mapping):
        for operator, tests in condition.items():
            if not (is_positive_operator(operator) and isinstance(tests, Mapping)):
                continue
            for key, values in tests.items():
                texts = [t for v in as_list(values) for t in renderings(v)]
                if isinstance(key, str) and texts and not any(map(is_wildcard_only, texts)):
                    keys.add(key.lower())
    return keys


def is_account_id(text: str) -> bool:
    """A literal 12-digit account id."""
    return bool(_ACCOUNT_ID.match(text))


# Condition keys that tie a service principal's call to the resource it acts for (the
# confused-deputy guard): "We recommend using the aws:SourceArn, aws:SourceAccount,
# aws:SourceOrgID, or aws:SourceOrgPaths global condition context keys in resource-based
# policies to limit the permissions that the service gives another service to the resource"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). aws:SourceOwner is
# SNS's and SES's older form of aws:SourceAccount.
SERVICE_SOURCE_CONDITION_KEYS: dict[str, str] = {
    "aws:sourcearn": "the ARN of the resource the service acts for",
    "aws:sourceaccount": "the account of the resource the service acts for",
    "aws:sourceowner": "the account of the resource the service acts for (SNS, SES)",
    "aws:sourceorgid": "the organization of the resource the service acts for",
    "aws:sourceorgpaths": "the organization path of the resource the service acts for",
}
# A service that encrypts with a key for a resource of its own names that resource in the
# encryption context: CloudWatch Logs `kms:EncryptionContext:aws:logs:arn` (the log group),
# SQS `kms:EncryptionContext:aws:sqs:arn`, SNS `kms:EncryptionContext:aws:sns:topicArn`
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html,
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context).
# Its value is an ARN: a pattern that matches other accounts' resources pins nothing.
SERVICE_SOURCE_CONTEXT_PREFIX = "kms:encryptioncontext:aws:"


def has_source_condition(condition: Any) -> bool:
    """Whether a Condition ties a service principal's call to a source of this account: some
    positive operator tests a SERVICE_SOURCE_CONDITION_KEYS key (or a service's
    `kms:EncryptionContext:aws:...` resource ARN) with values that match no other account's
    resources (an `arn:aws:s3:::*` source, a `*` account pins nothing)."""
    return _pins(condition, _source_key)


def _source_key(name: str) -> str | None:
    if name.startswith(SERVICE_SOURCE_CONTEXT_PREFIX):
        return "aws:sourcearn"  # judged as the ARN it is
    return name if name in SERVICE_SOURCE_CONDITION_KEYS else None
