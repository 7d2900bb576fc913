"""Rules over identity policies granting power over other principals or keys by a pattern."""

from __future__ import annotations

import re
from collections.abc import Iterator

from secure_constructs.checks.cfn import UNKNOWN, as_list, renderings
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.policy_facts import has_wildcard, is_wildcard_only
from secure_constructs.checks.rules.iam import POLICY_TYPES, policy_documents, statements

# Actions that hand a principal's power to the caller: passing a role to a service, or assuming
# it. Their resource is the role.
_ROLE_POWER_ACTIONS = ("iam:PassRole", "sts:AssumeRole")
_ROLE_ARN = re.compile(r"^arn:[^:]*:iam::([^:]*):role/(.*)$")
_KEY_ARN = re.compile(r"^arn:[^:]*:kms:([^:]*):([^:]*):(key|alias)/(.*)$")


def _matches(pattern: str, action: str) -> bool:
    """Whether an IAM action pattern (`*` and `?` wildcards, case-insensitive) covers action."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, flags=re.IGNORECASE) is not None


def _kms_full(action: str) -> bool:
    service, _, name = action.partition(":")
    return is_wildcard_only(action) or (service.lower() == "kms" and is_wildcard_only(name))


@rule(
    "IAMPrivilegeWildcard",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=POLICY_TYPES,
    summary="iam:PassRole / sts:AssumeRole on a role pattern, or kms:* on a key pattern",
    explanation=(
        "iam:PassRole and sts:AssumeRole on `role/*`, `role/app-*` or `role/????????` let the "
        "holder take on the permissions of every role the pattern matches, including roles "
        "created later (privilege escalation); `kms:*` on `key/*` gives control of every key "
        "of the account. `?` matches one character and is as much a wildcard as `*`. "
        '`Resource: "*"` itself is IAMWildcard\'s.'
    ),
)
def iam_privilege_wildcard(t: Template) -> Iterator[Violation]:
    """Allow statements with role-power actions on role patterns, or kms:* on key patterns."""
    for logical_id, doc_path, document in policy_documents(t):
        for path, statement in statements(doc_path, document):
            if statement.get("Effect") != "Allow":
                continue
            actions = [
                text
                for item in as_list(statement.get("Action"))
                for text in renderings(item)
                if UNKNOWN not in text
            ]
            role_power = [a for a in actions if any(_matches(a, p) for p in _ROLE_POWER_ACTIONS)]
            kms_full = [a for a in actions if _kms_full(a)]
            for resource in as_list(statement.get("Resource")):
                for text in renderings(resource):
                    if is_wildcard_only(text):
                        continue  # IAMWildcard[Resource::*]
                    role = _ROLE_ARN.match(text)
                    if role_power and role and _open(role.group(1), role.group(2)):
                        yield Violation(
                            logical_id,
                            f"{path}/Resource",
                            f"the statement allows {', '.join(role_power)} on every role "
                            f"matching '{text}'",
                            "name the role (role.grant_pass_role(fn) or the role's ARN)",
                            finding_id=f"Resource::{text}",
                        )
                    key = _KEY_ARN.match(text)
                    if kms_full and key and _open(key.group(2), key.group(4)):
                        yield Violation(
                            logical_id,
                            f"{path}/Resource",
                            f"the statement allows {', '.join(kms_full)} on every key matching "
                            f"'{text}'",
                            "grant the named actions on the key itself (key.grant_decrypt(fn))",
                            finding_id=f"Resource::{text}",
                        )


def _open(account: str, name: str) -> bool:
    return (has_wildcard(account) or has_wildcard(name)) and UNKNOWN not in name


RULES = (iam_privilege_wildcard,)
