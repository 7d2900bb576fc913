"""Rules over KMS key policies: full control of a key belongs to the account root only."""

from __future__ import annotations

import re
from collections.abc import Iterator

from secure_constructs.checks.cfn import UNKNOWN
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.policy_facts import is_account_id, is_wildcard_only
from secure_constructs.checks.rules.policy_documents import (
    actions_of,
    is_allow,
    principal_values,
    resource_policy_statements,
)

_GRANTED = {True: "every KMS action but those its NotAction lists", False: "kms:*"}
_ROOT = re.compile(r"^arn:[^:]+:iam::[^:]+:root$")


def _is_full_control(action: str) -> bool:
    service, _, name = action.partition(":")
    return is_wildcard_only(action) or (service.lower() == "kms" and is_wildcard_only(name))


def _is_root(text: str) -> bool:
    return bool(_ROOT.match(text)) or is_account_id(text)


@rule(
    "KmsKeyPolicyFullAccess",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=("AWS::KMS::Key",),
    summary="A KMS key policy grants kms:* to a principal other than the account root",
    explanation=(
        "`kms:*` (or `*`) in a key policy grants kms:PutKeyPolicy, kms:ScheduleKeyDeletion and "
        "kms:CreateGrant: the principal can take the key over, lock the account out or destroy "
        "every secret, log and queue it encrypts. AWS's default key policy gives kms:* to the "
        "account root only, which delegates to IAM policies; every other principal (a role, a "
        "service, another account) gets the named actions it uses. Resource-based grants to "
        "'*' are ResourcePolicyPublic's."
    ),
)
def kms_key_policy_full_access(t: Template) -> Iterator[Violation]:
    """Allow statements of key policies giving kms:* to a non-root principal."""
    for logical_id, type_, path, statement in resource_policy_statements(t):
        if type_ != "AWS::KMS::Key" or not is_allow(statement):
            continue
        # An Allow with NotAction grants every action it does not list: kms:* but one or two.
        negated = "NotAction" in statement
        if not negated and not any(
            _is_full_control(a) for a in actions_of(statement) if UNKNOWN not in a
        ):
            continue
        principals = principal_values(statement)
        others = [
            text
            for kind, values in principals.items()
            for text in values
            if not (kind == "AWS" and _is_root(text))
        ]
        if "NotPrincipal" in statement or others:
            shown = ", ".join(o.replace(UNKNOWN, "<deploy-time>") for o in others[:3])
            yield Violation(
                logical_id,
                f"{path}/Action",
                f"the key policy grants {_GRANTED[negated]} to {shown or 'NotPrincipal'}",
                "give kms:* to the account root only (CDK's default key policy); grant the "
                "others what they use: key.grant_encrypt_decrypt(role), key.grant_decrypt(...)",
                finding_id="NotAction" if negated else "Action::kms:*",
            )


RULES = (kms_key_policy_full_access,)
