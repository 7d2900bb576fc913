"""Whose account a principal or ARN names: this stack's, every account's, another's, or unknown.

A template names its own account only through the `AWS::AccountId` pseudo parameter (`Ref`,
`${AWS::AccountId}` in a `Fn::Sub`, either inside a `Fn::Join` or a `Fn::If`), through an
ARN attribute of one of its own resources (`Fn::GetAtt [Role, Arn]`:
facts.arn_formats.is_own_arn_attribute), or by a literal id the reader knows to be its own (the
stack's `env` at synth, `secure-constructs audit --account`). Any other literal account is
another account, and an account that comes from a parameter, an `Fn::ImportValue` (an export
holds any string, `*` included), an SSM parameter's value or a custom resource's attribute is
unknown: both fail closed.
Pure Python, no CDK; the rules and the constructs' refusals (open_grants) share it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, as_list, intrinsic, reference, renderings
from secure_constructs.checks.policy_facts import (
    has_wildcard,
    is_account_id,
    is_restricting_condition,
)
from secure_constructs.facts.arn_formats import is_own_arn_attribute

THIS_ACCOUNT = "<this-account>"
"""What `mark_own` writes for this stack's account id."""
THIS_RESOURCE = "<resource-of-this-account>"
"""What `mark_own` writes for an ARN attribute of a resource of this template."""

OURS = "ours"
EVERYONE = "everyone"
UNKNOWN_ACCOUNT = "unknown"

# The account field of a principal: a bare account id, or the fifth field of an ARN
# (`arn:aws:iam::111122223333:role/Admin`, `arn:aws:sts::...:assumed-role/...`).
_ARN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:([^:]*):(.*)$")
_OWN_SUB = "${AWS::AccountId}"
_OWN_REF = {"Ref": "AWS::AccountId"}
_ROOT = re.compile(r"^arn:[^:]+:iam::[^:]+:root$")
AWS_OWNED_ACCOUNTS = frozenset({"cloudfront"})
"""The account field of principals AWS itself owns: a CloudFront origin access identity is
`arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity <id>`
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html);
it is no other customer's account."""
ACCOUNT_CONDITION_KEYS = frozenset(
    {"aws:principalaccount", "kms:calleraccount", "aws:sourceaccount", "aws:sourceowner"}
)
"""Restricting condition keys whose value is an account id."""
ARN_CONDITION_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
"""Restricting condition keys whose value is an ARN (with its account)."""


def mark_own(value: Any, types: Mapping[str, str] | None = None) -> Any:
    """`value` with this account written as THIS_ACCOUNT, in every intrinsic form (`Ref
    AWS::AccountId`, `${AWS::AccountId}` in a `Fn::Sub` string, nested in `Fn::Join`/`Fn::If`),
    and an ARN attribute of a resource of this template (`Fn::GetAtt`; `types` maps the
    template's logical ids to their types) as THIS_RESOURCE. CloudFormation resolves nothing
    else to this account: an `Fn::ImportValue`, an SSM parameter's value, a custom resource's
    attribute stay as they are (read as unknown: fail closed)."""
    if isinstance(value, list):
        return [mark_own(v, types) for v in value]
    if isinstance(value, Mapping):
        if dict(value) == _OWN_REF:
            return THIS_ACCOUNT
        target = _get_att_target(value)
        if target is not None:
            logical_id, attribute = target
            if is_own_arn_attribute((types or {}).get(logical_id), attribute):
                return THIS_RESOURCE
            return dict(value)
        return {k: mark_own(v, types) for k, v in value.items()}
    if isinstance(value, str):
        # a marker written literally in the template is not this account: unknown
        forged = value.replace(THIS_ACCOUNT, UNKNOWN).replace(THIS_RESOURCE, UNKNOWN)
        return forged.replace(_OWN_SUB, THIS_ACCOUNT)
    return value


def _get_att_target(value: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(logical id, attribute) of an `Fn::GetAtt` (either form), else None."""
    call = intrinsic(value)
    if call is None or call[0] != "Fn::GetAtt":
        return None
    found = reference(value)
    return (found.logical_id, found.attribute) if found is not None else ("", None)


def resource_types(body: Any) -> dict[str, str]:
    """Logical id -> type of every resource of a template body (what `mark_own` needs)."""
    resources = body.get("Resources") if isinstance(body, Mapping) else None
    if not isinstance(resources, Mapping):
        return {}
    return {
        str(logical_id): str(resource.get("Type", ""))
        for logical_id, resource in resources.items()
        if isinstance(resource, Mapping)
    }


def account_field(text: str) -> str | None:
    """The account a principal string names: a bare id, an ARN's account field, or None for
    a string that names no account (a service, a canonical user, THIS_RESOURCE)."""
    match = _ARN.match(text)
    if match:
        return match.group(1)
    if is_account_id(text) or text == THIS_ACCOUNT or UNKNOWN in text:
        return text
    return None


def account_of(text: str, accounts: Collection[str] = ()) -> str:
    """OURS, EVERYONE, UNKNOWN_ACCOUNT or the other account's id, for one rendered principal
    (or ARN) that went through `mark_own`. `accounts` are literal ids known to be this
    account; any other literal id is another account."""
    if text.strip() == "*":
        return EVERYONE
    account = account_field(text)
    if account is None or account == THIS_ACCOUNT or account in accounts:
        return OURS
    if account in AWS_OWNED_ACCOUNTS:
        return OURS  # an identity of an AWS service (a CloudFront origin access identity)
    if has_wildcard(account):
        return EVERYONE
    if is_account_id(account):
        return account
    return UNKNOWN_ACCOUNT


def is_root_of_ours(text: str, accounts: Collection[str] = ()) -> bool:
    """Whether a rendered principal is this account itself (its id or its `:root` ARN)."""
    account = account_field(text)
    if account is None or account in AWS_OWNED_ACCOUNTS or account_of(text, accounts) != OURS:
        return False
    return text == account or bool(_ROOT.match(text))


def pins_this_account(condition: Any, accounts: Collection[str] = ()) -> bool:
    """Whether a (marked) Condition restricts the caller, and not to another account: some
    restricting test (policy_facts.is_restricting_condition) whose account keys
    (aws:PrincipalAccount, kms:CallerAccount, aws:SourceAccount ...) name only this account and
    whose ARN keys only ARNs of this account (a bucket's ARN has no account: it does not); an
    organization, VPC or endpoint pin counts as it is."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, Mapping):
            continue
        for key, values in tests.items():
            if not is_restricting_condition({operator: {key: values}}):
                continue
            name = key.lower() if isinstance(key, str) else ""
            if name in ACCOUNT_CONDITION_KEYS or name in ARN_CONDITION_KEYS:
                texts = [t for v in as_list(values) for t in (renderings(v) or [UNKNOWN])]
                if not all(account_of(t, accounts) == OURS for t in texts):
                    continue
            return True
    return False
