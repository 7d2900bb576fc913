"""Who can reach each resource (its resource-based policy) and who can become each role (its
trust policy), rendered like the identity grants.

The policies are found where the SecureServerless rules find them
(`checks.rules.policy_documents`); Lambda permissions read as one statement each. What restricts
a caller comes from `checks.policy_facts`, the table the rules use, so the report and the rules
never disagree about an open policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.audit.permissions.identity import as_list, condition_clauses, props_of
from secure_constructs.audit.permissions.model import Access, Reachable
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.cfn import UNKNOWN, intrinsic, referenced_id, renderings
from secure_constructs.checks.intrinsics import Resolver
from secure_constructs.checks.model import Template
from secure_constructs.checks.policy_facts import (
    arn_matches_any_account,
    condition_keys,
    is_restricting_condition,
)
from secure_constructs.checks.rules.iam import is_action_wildcard, statements
from secure_constructs.checks.rules.policy_documents import resource_policy_statements

# Policy resources that attach to another resource: the property naming it (one or a list).
_TARGET_PROPS: dict[str, str] = {
    "AWS::SecretsManager::ResourcePolicy": "SecretId",
    "AWS::SNS::TopicPolicy": "Topics",
    "AWS::SNS::TopicInlinePolicy": "TopicArn",
    "AWS::SQS::QueuePolicy": "Queues",
    "AWS::SQS::QueueInlinePolicy": "Queue",
    "AWS::S3::BucketPolicy": "Bucket",
    "AWS::Events::EventBusPolicy": "EventBusName",
    "AWS::Lambda::Permission": "FunctionName",
}
_THIS_ACCOUNT = re.compile(
    r"^(arn:(\$\{AWS::Partition\}|aws[a-z-]*):iam::)?\$\{AWS::AccountId\}(:root)?$"
)
_ACCOUNT = re.compile(r"(?:^|:)(\d{12})(?::|$)")
_CROSS_ACCOUNT_GUARDS = frozenset({"sts:externalid", "aws:principalorgid", "aws:principalorgpaths"})
EVERYONE = "open to every principal of every account: no condition restricts the caller"


def stack_reach(stack: StackSource, resolver: Resolver, own_account: str | None) -> list[Reachable]:
    """Every resource of `stack` with a resource-based grant, and every role's trust."""
    found: dict[str, Reachable] = {}

    def target(logical_id: str, kind: str, trust: bool = False) -> Reachable:
        key = ("trust:" if trust else "") + logical_id
        if key not in found:
            found[key] = Reachable(
                stack.name, logical_id, kind, _rendered(logical_id, resolver), trust=trust
            )
        return found[key]

    for policy_id, type_, path, statement in _statements(stack):
        props = props_of(stack.resources.get(policy_id))
        for logical_id, kind in _targets(stack, policy_id, type_, props, resolver):
            accesses = _accesses(statement, f"{policy_id}.{path}", resolver, own_account)
            target(logical_id, kind).accesses.extend(accesses)
    for role_id, resource in stack.resources.items():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        document = props_of(resource).get("AssumeRolePolicyDocument")
        if not isinstance(document, Mapping):
            continue
        reachable = target(role_id, "AWS::IAM::Role", trust=True)
        for path, statement in statements("AssumeRolePolicyDocument", document):
            reachable.accesses.extend(
                _accesses(statement, f"{role_id}.{path}", resolver, own_account, trust=True)
            )
    return list(found.values())


def _statements(stack: StackSource) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    yield from resource_policy_statements(Template(stack.body))
    for logical_id, resource in stack.resources.items():
        if resource.get("Type") == "AWS::Lambda::Permission":
            yield (
                logical_id,
                "AWS::Lambda::Permission",
                "Properties",
                _permission(props_of(resource)),
            )


def _permission(props: Mapping[str, Any]) -> dict[str, Any]:
    """An AWS::Lambda::Permission as the policy statement Lambda adds to the function."""
    principal = props.get("Principal")
    texts = renderings(principal)
    if texts and texts[0].strip() == "*":
        who: Any = "*"
    elif texts and texts[0].endswith((".amazonaws.com", ".amazonaws.com.cn")):
        who = {"Service": principal}
    else:
        who = {"AWS": principal}
    condition: dict[str, dict[str, Any]] = {}
    if "SourceArn" in props:
        condition.setdefault("ArnLike", {})["aws:SourceArn"] = props["SourceArn"]
    for prop, key in (
        ("SourceAccount", "aws:SourceAccount"),
        ("PrincipalOrgID", "aws:PrincipalOrgID"),
    ):
        if prop in props:
            condition.setdefault("StringEquals", {})[key] = props[prop]
    if "FunctionUrlAuthType" in props:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = props[
            "FunctionUrlAuthType"
        ]
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": who,
        "Action": props.get("Action"),
        "Resource": props.get("FunctionName"),
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _targets(
    stack: StackSource,
    policy_id: str,
    type_: str,
    props: Mapping[str, Any],
    resolver: Resolver,
) -> list[tuple[str, str]]:
    """(logical id or rendered name, type) of each resource a policy resource governs."""
    prop = _TARGET_PROPS.get(type_)
    if prop is None:
        return [(policy_id, type_)]
    targets = []
    for value in as_list(props.get(prop)) or ["default"]:
        logical_id = referenced_id(value)
        resource = stack.resources.get(logical_id) if logical_id else None
        if logical_id and isinstance(resource, Mapping):
            targets.append((logical_id, str(resource.get("Type"))))
        else:
            targets.append((resolver.text(value), f"{type_} target"))
    return targets


def _rendered(logical_id: str, resolver: Resolver) -> str:
    if logical_id in resolver.resources:
        return resolver.get_att(logical_id, "Arn")
    return logical_id


def _principals(statement: Mapping[str, Any], resolver: Resolver) -> list[tuple[str, str]]:
    """(kind, rendered value) of each principal; kind "*" for `"Principal": "*"`."""
    negated = "NotPrincipal" in statement
    value = statement.get("NotPrincipal" if negated else "Principal")
    prefix = "NOT " if negated else ""
    if value is None:
        return []
    if isinstance(value, str) and value.strip() == "*":
        return [(prefix + "*", "*")]
    if not isinstance(value, Mapping) or intrinsic(value) is not None:
        return [(prefix + "AWS", resolver.text(value))]
    return [
        (prefix + str(kind), resolver.text(item))
        for kind, items in value.items()
        for item in as_list(items)
    ]


def _accesses(
    statement: Mapping[str, Any],
    policy: str,
    resolver: Resolver,
    own_account: str | None,
    *,
    trust: bool = False,
) -> list[Access]:
    effect = str(statement.get("Effect", "Allow"))
    raw_condition = statement.get("Condition")
    conditions = tuple(condition_clauses(raw_condition, resolver))
    if "NotAction" in statement:
        actions = ["NOT " + ", ".join(resolver.text(a) for a in as_list(statement["NotAction"]))]
    else:
        actions = [resolver.text(a) for a in as_list(statement.get("Action"))]
    resources = tuple(
        resolver.items(statement["Resource"]) or [resolver.text(statement["Resource"])]
        if "Resource" in statement
        else []
    )
    out = []
    for kind, value in _principals(statement, resolver):
        principal = kind if kind.endswith("*") else f"{kind} {value}"
        flags = (
            _flags(kind, value, actions, raw_condition, own_account, trust=trust)
            if effect == "Allow"
            else ()
        )
        out.append(Access(principal, effect, tuple(actions), resources, conditions, policy, flags))
    return out


def _flags(
    kind: str,
    value: str,
    actions: list[str],
    condition: Any,
    own_account: str | None,
    *,
    trust: bool,
) -> tuple[str, ...]:
    flags: list[str] = []
    restricted = is_restricting_condition(condition)
    if kind.startswith("NOT "):
        flags.append("NotPrincipal: allows every principal except those listed")
    elif value.strip() == "*" and not restricted:
        flags.append(EVERYONE)
    for pattern in _source_arns(condition):
        flags.append(f"aws:SourceArn {pattern} matches every account's resources")
    account = _ACCOUNT.search(value) if kind == "AWS" else None
    this_account = kind == "AWS" and (
        bool(_THIS_ACCOUNT.match(value))
        or (account is not None and account.group(1) == own_account)
    )
    if not this_account and any(is_action_wildcard(a) for a in actions):
        flags.append("wildcard action")
    if account and not this_account:
        guarded = restricted or bool(condition_keys(condition) & _CROSS_ACCOUNT_GUARDS)
        if trust and not guarded:
            flags.append(
                f"account {account.group(1)}: trusted without sts:ExternalId or aws:PrincipalOrgID"
            )
        elif not trust and not restricted:
            flags.append(f"account {account.group(1)}: another account")
    if kind == "Federated":
        keys = condition_keys(condition)
        if not (any(k.endswith(":aud") for k in keys) and any(k.endswith(":sub") for k in keys)):
            flags.append("web-identity trust without an aud and a sub condition")
    return tuple(flags)


def _source_arns(condition: Any) -> Iterator[str]:
    if not isinstance(condition, Mapping):
        return
    for tests in condition.values():
        if not isinstance(tests, Mapping):
            continue
        for key, values in tests.items():
            if isinstance(key, str) and key.lower() == "aws:sourcearn":
                for item in as_list(values):
                    for text in renderings(item):
                        if UNKNOWN not in text and arn_matches_any_account(text):
                            yield text
