"""Rules over IAM: wildcard permissions (with the allow-list of `*`-only actions) and roles shared
by several Lambda functions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.accounts import mark_own, resource_types
from secure_constructs.checks.cfn import UNKNOWN, as_list, intrinsic, reference, renderings
from secure_constructs.checks.iam_facts import is_star_only
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule
from secure_constructs.checks.policy_facts import is_wildcard_only

# Resource types holding one policy document, and those holding a list of inline policies.
_DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
)
_INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
POLICY_TYPES = (*_DOCUMENT_TYPES, *_INLINE_POLICY_TYPES)
"""Every resource type `policy_documents` reads."""
_MAX_LISTED = 5
# Services whose actions manage identities, keys, secrets, code or the organization: a partial
# action wildcard on them (`iam:Put*`) is a warning.
SENSITIVE_SERVICES = frozenset({"iam", "sts", "kms", "secretsmanager", "lambda", "organizations"})


def policy_documents(t: Template) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(logical id, property path, document) of every identity-based policy document."""
    for logical_id, props in t.of_type(*_DOCUMENT_TYPES):
        document = props.get("PolicyDocument")
        if isinstance(document, Mapping):
            yield logical_id, "Properties/PolicyDocument", document
    for logical_id, props in t.of_type(*_INLINE_POLICY_TYPES):
        for index, policy in enumerate(as_list(props.get("Policies"))):
            document = policy.get("PolicyDocument") if isinstance(policy, Mapping) else None
            if isinstance(document, Mapping):
                yield logical_id, f"Properties/Policies/{index}/PolicyDocument", document


def statements(path: str, document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, statement) of every statement of a policy document (one object or a list).

    An `Fn::If` around the document, its Statement or one statement contributes both
    branches (an `AWS::NoValue` branch none): what either deploy would get is judged.
    """
    for where, body in _branches(path, document):
        if not isinstance(body, Mapping):
            continue
        for at, listed in _branches(f"{where}/Statement", body.get("Statement")):
            if isinstance(listed, Mapping):
                yield at, listed
                continue
            for index, item in enumerate(as_list(listed)):
                for item_at, statement in _branches(f"{at}/{index}", item):
                    if isinstance(statement, Mapping):
                        yield item_at, statement


def _branches(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    call = intrinsic(value)
    if call is not None and call[0] == "Fn::If":
        argument = call[1]
        if isinstance(argument, list) and len(argument) == 3:
            for index in (1, 2):
                yield from _branches(f"{path}/Fn::If/{index}", argument[index])
            return
    if call is not None and call == ("Ref", "AWS::NoValue"):
        return
    yield path, value


def is_action_wildcard(action: str) -> bool:
    """`*` or `service:*` (every action, or every action of one service)."""
    service, _, name = action.partition(":")
    return is_wildcard_only(action) or (bool(service) and is_wildcard_only(name))


def is_partial_action_wildcard(action: str) -> bool:
    """`service:Prefix*`, `service:*Key*`, `service:Get?`: some, not all, actions of a service."""
    service, _, name = action.partition(":")
    return bool(service) and not is_wildcard_only(name) and ("*" in name or "?" in name)


@rule(
    "IAMWildcard",
    granular=True,
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=POLICY_TYPES,
    summary="An IAM Allow statement grants every action or every resource",
    explanation=(
        "`*` or `service:*` actions grant today's and tomorrow's actions of a service (including "
        'its administrative ones), `Resource: "*"` grants them on every resource of the '
        "account, and NotAction/NotResource with Allow grant everything but a list. A stolen "
        "or confused function can then do far more than its job. Only the few actions AWS "
        "supports on `*` alone (X-Ray trace upload, the network-interface calls of a VPC "
        "function; secure_constructs.checks.iam_facts.STAR_ONLY_ACTIONS) may use "
        '`Resource: "*"`. A `*` that only one branch of an Fn::If (or a Fn::Join, Fn::Sub) '
        "produces counts the same. Partial action wildcards (`iam:Put*`, `kms:*Key*`) on the "
        "services that hold identities, keys, secrets and code (iam, sts, kms, secretsmanager, "
        "lambda, organizations) are warnings: they match more actions than anyone reviewed, "
        "including ones AWS adds later."
    ),
)
def iam_wildcard(t: Template) -> Iterator[Violation]:
    """Allow statements with `*`/`service:*` actions, `Resource: "*"`, NotAction or NotResource.

    Actions and resources are read through every rendering of their intrinsics (both branches
    of an Fn::If). Partial wildcards of a sensitive service are warnings.
    """
    fix = (
        "grant on the resource itself with grant_* (e.g. table.grant_read_data(fn), "
        "SecureFunction(secrets={...})) or fn.add_to_role_policy(PolicyStatement(actions=[named "
        "actions], resources=[ARNs]))"
    )
    types = resource_types(t.body)
    for logical_id, doc_path, document in policy_documents(t):
        for path, statement in statements(doc_path, document):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action"))
            if _unreadable_resource(statement, types) and _sensitive(actions):
                yield Violation(
                    logical_id,
                    f"{path}/Resource",
                    f"the statement allows {_listed(actions)} on a Resource that cannot be read "
                    "from the template (an Fn::ImportValue, an SSM parameter's value, a mapping "
                    "or another value known only at deploy time), so it may be '*'",
                    "write the resource's ARN in the template (Fn::GetAtt of the resource, a "
                    "literal or ${AWS::AccountId}-based ARN); " + fix,
                    finding_id="Resource::unknown",
                )
            for key in ("NotAction", "NotResource"):
                if key in statement:
                    yield Violation(
                        logical_id,
                        f"{path}/{key}",
                        f"an Allow statement with {key} grants everything except what it lists",
                        fix,
                        finding_id=key,
                    )
            for action in dict.fromkeys(_known(actions)):
                if is_action_wildcard(action):
                    yield Violation(
                        logical_id,
                        f"{path}/Action",
                        f"the statement allows every action of {_scope(action)} ('{action}')",
                        fix,
                        finding_id=f"Action::{action}",
                    )
                elif (
                    is_partial_action_wildcard(action)
                    and action.partition(":")[0].lower() in SENSITIVE_SERVICES
                ):
                    yield Violation(
                        logical_id,
                        f"{path}/Action",
                        f"the statement allows every {action.partition(':')[0]} action matching "
                        f"'{action}', including ones added later",
                        "list the actions the function calls (e.g. "
                        "kms:GenerateDataKey instead of kms:GenerateDataKey*); " + fix,
                        finding_id=f"Action::{action}",
                        severity=Severity.WARNING,
                    )
            resources = as_list(statement.get("Resource"))
            known = _known(resources)
            if any(is_wildcard_only(r) for r in known) and not _star_only(statement, actions):
                literal = any(isinstance(r, str) and is_wildcard_only(r) for r in resources)
                yield Violation(
                    logical_id,
                    f"{path}/Resource",
                    f"the statement allows {_listed(actions)} on Resource '*'"
                    + ("" if literal else " (a value its intrinsic function can take)"),
                    fix + "; only actions AWS supports on '*' alone are exempt (iam_facts."
                    "STAR_ONLY_ACTIONS)",
                    finding_id="Resource::*",
                )


def _unreadable_resource(statement: Mapping[str, Any], types: Mapping[str, str]) -> bool:
    """Whether a Resource value renders WHOLLY unknown (policy_documents.is_unreadable): not a
    `Ref` to a resource of the template (its own name or ARN), not an ARN attribute of one."""
    for value in as_list(statement.get("Resource")):
        call = intrinsic(value)
        if call is not None and call[0] == "Ref" and call[1] in types:
            continue
        for text in renderings(mark_own(value, types)):
            if UNKNOWN in text and not text.replace(UNKNOWN, "").strip():
                return True
    return False


def _sensitive(actions: list[Any]) -> bool:
    """Some action is a wildcard or of a service holding identities, keys, secrets or code."""
    for text in (t for a in actions for t in renderings(a)):
        if UNKNOWN in text or is_action_wildcard(text):
            return True
        if text.partition(":")[0].lower() in SENSITIVE_SERVICES:
            return True
    return False


def _known(values: list[Any]) -> list[str]:
    """Every fully known string the values can render to (both branches of an Fn::If ...)."""
    return [text for value in values for text in renderings(value) if UNKNOWN not in text]


def _star_only(statement: Mapping[str, Any], actions: list[Any]) -> bool:
    if "NotAction" in statement or not actions:
        return False
    for action in actions:
        rendered = renderings(action)
        if not rendered or any(UNKNOWN in text or not is_star_only(text) for text in rendered):
            return False
    return True


def _scope(action: str) -> str:
    return "every service" if action == "*" else action.partition(":")[0]


def _listed(actions: list[Any]) -> str:
    names = [a if isinstance(a, str) else "<intrinsic>" for a in actions] or ["<NotAction>"]
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" (+{len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")


@rule(
    "IAMSharedRole",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=("AWS::Lambda::Function",),
    summary="One IAM role is the execution role of several Lambda functions",
    explanation=(
        "A shared execution role holds the union of every function's permissions, so each "
        "function can do what all of them can: one compromised or buggy function reaches every "
        "table, queue and secret of the others. Give each function its own role."
    ),
)
def iam_shared_role(t: Template) -> Iterator[Violation]:
    """Functions whose Role is the same GetAtt, the same literal ARN or the same expression."""
    users: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, str] = {}
    for logical_id, props in t.of_type("AWS::Lambda::Function"):
        key, label = _role_key(props.get("Role"))
        if key is not None:
            users[key].append(logical_id)
            labels[key] = label
    for key, functions in users.items():
        if len(functions) < 2:
            continue
        head = functions[: _MAX_LISTED + 1]
        for logical_id in functions:
            others = [f for f in head if f != logical_id][:_MAX_LISTED]
            listed = ", ".join(others)
            if len(functions) - 1 > len(others):
                listed += f" (+{len(functions) - 1 - len(others)} more)"
            yield Violation(
                logical_id,
                "Properties/Role",
                f"role {labels[key]} is also the execution role of {listed}",
                "give each function its own role: SecureFunction creates one (role= is "
                "refused); give it permissions with grant_* or fn.add_to_role_policy(...)",
            )


def _role_key(value: Any) -> tuple[str | None, str]:
    """A key equal for two Role values that name the same role, and a readable label."""
    if value is None:
        return None, ""
    if isinstance(value, str):
        return f"arn:{value}", value
    call = intrinsic(value)
    found = reference(value) if call is not None and call[0] == "Fn::GetAtt" else None
    if found is not None:
        return f"id:{found.logical_id}", found.logical_id
    text = json.dumps(value, sort_keys=True)
    return f"expr:{text}", text


RULES = (iam_wildcard, iam_shared_role)
