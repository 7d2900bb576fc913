"""Rules over IAM: wildcard permissions (with the allow-list of `*`-only actions) and roles shared
by several Lambda functions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.cfn import as_list, intrinsic
from secure_constructs.checks.iam_facts import STAR_ONLY_ACTIONS
from secure_constructs.checks.model import Practice, Template, Violation
from secure_constructs.checks.registry import rule

# Resource types holding one policy document, and those holding a list of inline policies.
_DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
)
_INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_STAR_ONLY = frozenset(a.lower() for a in STAR_ONLY_ACTIONS)
_MAX_LISTED = 5


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
    """(path, statement) of every statement of a policy document (one object or a list)."""
    body = document.get("Statement")
    if isinstance(body, Mapping):
        yield f"{path}/Statement", body
        return
    for index, statement in enumerate(as_list(body)):
        if isinstance(statement, Mapping):
            yield f"{path}/Statement/{index}", statement


def is_action_wildcard(action: str) -> bool:
    """`*` or `service:*` (every action, or every action of one service)."""
    service, _, name = action.partition(":")
    return action == "*" or (bool(service) and name == "*")


@rule(
    "IAMWildcard",
    practice=Practice.LEAST_PRIVILEGE,
    summary="An IAM Allow statement grants every action or every resource",
    explanation=(
        "`*` or `service:*` actions grant today's and tomorrow's actions of a service (including "
        'its administrative ones), `Resource: "*"` grants them on every resource of the '
        "account, and NotAction/NotResource with Allow grant everything but a list. A stolen "
        "or confused function can then do far more than its job. Only the few actions AWS "
        "supports on `*` alone (X-Ray trace upload, the network-interface calls of a VPC "
        "function; secure_constructs.checks.iam_facts.STAR_ONLY_ACTIONS) may use "
        '`Resource: "*"`.'
    ),
)
def iam_wildcard(t: Template) -> Iterator[Violation]:
    """Allow statements with `*`/`service:*` actions, `Resource: "*"`, NotAction or NotResource."""
    fix = (
        "grant on the resource itself with grant_* (e.g. table.grant_read_data(fn), "
        "SecureFunction(secrets={...})) or fn.add_to_role_policy(PolicyStatement(actions=[named "
        "actions], resources=[ARNs]))"
    )
    for logical_id, doc_path, document in policy_documents(t):
        for path, statement in statements(doc_path, document):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action"))
            for key in ("NotAction", "NotResource"):
                if key in statement:
                    yield Violation(
                        logical_id,
                        f"{path}/{key}",
                        f"an Allow statement with {key} grants everything except what it lists",
                        fix,
                        finding_id=key,
                    )
            for action in dict.fromkeys(a for a in actions if isinstance(a, str)):
                if is_action_wildcard(action):
                    yield Violation(
                        logical_id,
                        f"{path}/Action",
                        f"the statement allows every action of {_scope(action)} ('{action}')",
                        fix,
                        finding_id=f"Action::{action}",
                    )
            if "*" in as_list(statement.get("Resource")) and not _star_only(statement, actions):
                yield Violation(
                    logical_id,
                    f"{path}/Resource",
                    f"the statement allows {_listed(actions)} on Resource '*'",
                    fix + "; only actions AWS supports on '*' alone are exempt (iam_facts."
                    "STAR_ONLY_ACTIONS)",
                    finding_id="Resource::*",
                )


def _star_only(statement: Mapping[str, Any], actions: list[Any]) -> bool:
    return (
        "NotAction" not in statement
        and bool(actions)
        and all(isinstance(a, str) and a.lower() in _STAR_ONLY for a in actions)
    )


def _scope(action: str) -> str:
    return "every service" if action == "*" else action.partition(":")[0]


def _listed(actions: list[Any]) -> str:
    names = [a if isinstance(a, str) else "<intrinsic>" for a in actions] or ["<NotAction>"]
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" (+{len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")


@rule(
    "IAMSharedRole",
    practice=Practice.LEAST_PRIVILEGE,
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
    if call is not None and call[0] == "Fn::GetAtt":
        argument = call[1]
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            return f"id:{argument[0]}", argument[0]
    text = json.dumps(value, sort_keys=True)
    return f"expr:{text}", text
