"""A function's role as statements that name the template resources they apply to.

Read straight from the template (not from the rendered permission report), so a call on the
table in TABLE_NAME is matched with the statement whose Resource references that table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from secure_constructs.checks.cfn import referenced_ids


@dataclass(frozen=True)
class Statement:
    """One Allow statement of a role's policies."""

    label: str  # e.g. "GetItemServiceRolePolicyBBF2072A Statement[3]"
    actions: tuple[str, ...]
    resource: Any  # the raw Resource value
    targets: frozenset[str]  # logical ids the Resource references
    any_resource: bool  # "*" (or a wildcard ARN that names no template resource)
    via_service: str | None  # the service of a kms:ViaService condition
    not_action: bool = False

    def allows(self, action: str) -> bool:
        hit = any(fnmatchcase(action.lower(), a.lower()) for a in self.actions)
        return hit != self.not_action

    def pattern_for(self, action: str) -> str | None:
        """The action of the statement that allows `action` (itself, or a wildcard)."""
        for pattern in self.actions:
            if fnmatchcase(action.lower(), pattern.lower()):
                return pattern
        return None


def references(value: Any) -> set[str]:
    """Logical ids referenced anywhere in `value`, however written (`checks.cfn.references`)."""
    return set(referenced_ids(value))


def role_statements(resources: Mapping[str, Any], role: str) -> tuple[list[Statement], list[str]]:
    """The Allow statements of a role (and notes on what cannot be read, e.g. AWS managed
    policies)."""
    statements: list[Statement] = []
    notes: list[str] = []
    role_props = _props(resources.get(role))
    for policy in _list(role_props.get("Policies")):
        if isinstance(policy, Mapping):
            name = f"{role}.Policies[{policy.get('PolicyName', '?')}]"
            statements.extend(_statements(policy.get("PolicyDocument"), name))
    attached = {
        r.get("Ref") for r in _list(role_props.get("ManagedPolicyArns")) if isinstance(r, Mapping)
    }
    for arn in _list(role_props.get("ManagedPolicyArns")):
        ref = arn.get("Ref") if isinstance(arn, Mapping) else None
        if not (isinstance(ref, str) and ref in resources):
            notes.append(
                "an AWS managed policy is attached: its statements are not in the template"
            )
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        kind = resource.get("Type")
        props = _props(resource)
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            continue
        targets = references(props.get("Roles")) | references(props.get("RoleName"))
        if role in targets or logical_id in attached:
            statements.extend(_statements(props.get("PolicyDocument"), logical_id))
    return statements, notes


def _statements(document: Any, label: str) -> Iterator[Statement]:
    if not isinstance(document, Mapping):
        return
    for index, statement in enumerate(_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect", "Allow") != "Allow":
            continue
        not_action = "NotAction" in statement
        actions = tuple(
            a
            for a in _list(statement.get("NotAction" if not_action else "Action"))
            if isinstance(a, str)
        )
        resource = statement.get("Resource", statement.get("NotResource", "*"))
        targets = frozenset(references(resource))
        literal = [r for r in _list(resource) if isinstance(r, str)]
        wildcard = any("*" in r for r in literal) and not targets
        any_resource = "NotResource" in statement or wildcard
        sid = statement.get("Sid")
        name = f"{label} Statement[{sid if isinstance(sid, str) else index}]"
        yield Statement(
            name,
            actions,
            resource,
            targets,
            any_resource,
            _via_service(statement.get("Condition")),
            not_action,
        )


def _via_service(condition: Any) -> str | None:
    if not isinstance(condition, Mapping):
        return None
    for clauses in condition.values():
        if isinstance(clauses, Mapping):
            for key, value in clauses.items():
                if key.lower() == "kms:viaservice":
                    text = value[0] if isinstance(value, list) and value else value
                    if isinstance(text, str):
                        return text.split(".", 1)[0]
                    if isinstance(text, Mapping) and "Fn::Sub" in text:
                        sub = text["Fn::Sub"]
                        return str(sub[0] if isinstance(sub, list) else sub).split(".", 1)[0]
                    if isinstance(text, Mapping) and "Fn::Join" in text:
                        parts = text["Fn::Join"][1] if isinstance(text["Fn::Join"], list) else []
                        if parts and isinstance(parts[0], str):
                            return parts[0].split(".", 1)[0]
    return None


def _props(resource: Any) -> Mapping[str, Any]:
    props = resource.get("Properties") if isinstance(resource, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
