"""Rules over KMS key policies: full control of a key belongs to this account's root only."""

from __future__ import annotations

from collections.abc import Iterator

from secure_constructs.checks.accounts import (
    account_field,
    is_root_of_ours,
    mark_own,
    resource_types,
)
from secure_constructs.checks.cfn import UNKNOWN, shown
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.policy_facts import is_account_id, is_wildcard_only
from secure_constructs.checks.rules.policy_documents import (
    actions_of,
    is_allow,
    principal_values,
    resource_policy_statements,
)

KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
"""The resource types holding a key policy (a multi-Region replica has its own)."""
_GRANTED = {True: "every KMS action but those its NotAction lists", False: "kms:*"}
_FIX = (
    "give kms:* to this account's root only (CDK's default key policy, "
    "iam.AccountRootPrincipal(): arn:${AWS::Partition}:iam::${AWS::AccountId}:root); grant the "
    "others what they use: key.grant_encrypt_decrypt(role), key.grant_decrypt(...)"
)
_LITERAL_FIX = (
    "; if {account} is this stack's own account, write it as ${{AWS::AccountId}} (or give the "
    "stack its env account at synth), or pass `secure-constructs audit --account {account}`"
)


def _is_full_control(action: str) -> bool:
    service, _, name = action.partition(":")
    return is_wildcard_only(action) or (service.lower() == "kms" and is_wildcard_only(name))


@rule(
    "KmsKeyPolicyFullAccess",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=KEY_TYPES,
    summary="A KMS key policy grants kms:* to a principal other than this account's root",
    explanation=(
        "`kms:*` (or `*`) in a key policy grants kms:PutKeyPolicy, kms:ScheduleKeyDeletion and "
        "kms:CreateGrant: the principal can take the key over, lock the account out or destroy "
        "every secret, log and queue it encrypts. AWS's default key policy gives kms:* to the "
        "account root only, which delegates to IAM policies; every other principal (a role, a "
        "service, another account's root) gets the named actions it uses. This account is "
        "`${AWS::AccountId}` in any intrinsic form, or a literal id known to be the stack's "
        "(its env account at synth, `audit --account`); any other literal account, or one "
        "from a parameter, is another account. Resource-based grants to '*' are "
        "ResourcePolicyPublic's."
    ),
)
def kms_key_policy_full_access(t: Template) -> Iterator[Violation]:
    """Allow statements of key policies giving kms:* to anyone but this account's root."""
    accounts = t.options.accounts
    for logical_id, type_, path, raw in resource_policy_statements(t):
        if type_ not in KEY_TYPES or not is_allow(raw):
            continue
        statement = mark_own(raw, resource_types(t.body))
        # An Allow with NotAction grants every action it does not list: kms:* but one or two.
        negated = "NotAction" in statement
        if not negated and not any(
            _is_full_control(a) for a in actions_of(statement) if UNKNOWN not in a
        ):
            continue
        others = [
            text
            for kind, values in principal_values(statement).items()
            for text in values
            if not (kind == "AWS" and is_root_of_ours(text, accounts))
        ]
        if "NotPrincipal" in statement or others:
            literal = [a for o in others if is_account_id(a := account_field(o) or "")]
            yield Violation(
                logical_id,
                f"{path}/Action",
                f"the key policy grants {_GRANTED[negated]} to "
                f"{', '.join(shown(o) for o in others[:3]) or 'NotPrincipal'}",
                _FIX + (_LITERAL_FIX.format(account=literal[0]) if literal else ""),
                finding_id="NotAction" if negated else "Action::kms:*",
            )


RULES = (kms_key_policy_full_access,)
