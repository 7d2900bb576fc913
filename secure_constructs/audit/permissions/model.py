"""What the permissions report holds: identity grants per principal, resource-based grants and
trust relationships per resource, and which role each function runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secure_constructs.audit.code_calls.compare import FunctionCheck


@dataclass(frozen=True)
class Grant:
    """One action of one statement, with its resources and condition, rendered."""

    effect: str
    action: str
    resources: tuple[str, ...]
    condition: str | None
    policy: str
    flags: tuple[str, ...] = ()

    def entries(self) -> list[str]:
        """The baseline entries of this grant: resource, with its condition when there is one."""
        suffix = f" if {self.condition}" if self.condition else ""
        return [f"{r}{suffix}" for r in self.resources]


@dataclass
class Principal:
    """A role (or user or group) of one stack and everything it is allowed."""

    stack: str
    kind: str
    logical_id: str
    name: str
    functions: list[str] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.logical_id}"

    def allowed(self) -> dict[str, list[str]]:
        """action -> sorted baseline entries, over the Allow grants."""
        table: dict[str, set[str]] = {}
        for grant in self.grants:
            if grant.effect == "Allow":
                table.setdefault(grant.action, set()).update(grant.entries())
        return {action: sorted(table[action]) for action in sorted(table)}

    def blocks(self) -> list[tuple[list[str], Grant]]:
        """Grants merged for reading: the actions that share effect, resources, condition and
        flags, in first-seen order (duplicated statements collapse)."""
        merged: dict[tuple[str, str | None, tuple[str, ...]], dict[str, Any]] = {}
        for grant in self.grants:
            key = (grant.effect, grant.condition, grant.flags)
            entry = merged.setdefault(key, {})
            entry.setdefault(grant.action, []).extend(
                r for r in grant.resources if r not in entry.get(grant.action, [])
            )
        blocks: dict[tuple[str, str | None, tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for (effect, condition, flags), actions in merged.items():
            for action, resources in actions.items():
                blocks.setdefault((effect, condition, flags, tuple(resources)), []).append(action)
        return [
            (actions, Grant(effect, ", ".join(actions), resources, condition, "", flags))
            for (effect, condition, flags, resources), actions in blocks.items()
        ]

    def flagged(self) -> list[Grant]:
        """The lines of `blocks()` with an alarming flag: what "[N flagged]" counts."""
        return [
            g
            for _, g in self.blocks()
            if g.effect == "Allow" and any(is_alarming(f) for f in g.flags)
        ]


@dataclass
class FunctionRole:
    """Which role a function runs with."""

    stack: str
    function: str
    role: str  # a principal key, or the rendered ARN of a role outside the template
    external: bool = False


@dataclass
class PermissionReport:
    principals: list[Principal] = field(default_factory=list)
    functions: list[FunctionRole] = field(default_factory=list)
    code: list[FunctionCheck] = field(default_factory=list)  # code against grants (code_calls)
    reach: list[Reachable] = field(default_factory=list)  # resource-based grants and trust

    def as_json(self) -> dict[str, Any]:
        return {
            "code": [c.as_json() for c in self.code],
            "principals": [
                {
                    "stack": p.stack,
                    "kind": p.kind,
                    "logical_id": p.logical_id,
                    "name": p.name,
                    "functions": p.functions,
                    "grants": [
                        {
                            "effect": g.effect,
                            "action": g.action,
                            "resources": list(g.resources),
                            "condition": g.condition,
                            "policy": g.policy,
                            "flags": list(g.flags),
                        }
                        for g in p.grants
                    ],
                    "notes": p.notes,
                }
                for p in self.principals
            ],
            "functions": [
                {"stack": f.stack, "function": f.function, "role": f.role, "external": f.external}
                for f in self.functions
            ],
            "reach": [r.as_json() for r in self.reach],
        }


def is_alarming(flag: str) -> bool:
    """A flag a reviewer must look at (a `*` the action supports only is not one)."""
    return not flag.startswith("resource * (")


@dataclass(frozen=True)
class Access:
    """One principal's access to a resource through one statement of its resource policy (or a
    role's trust policy), rendered; `conditions` are one clause per operator and key."""

    principal: str  # "*", "AWS arn:...", "Service sns.amazonaws.com", "NOT AWS ..."
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    policy: str  # the logical id (and property) holding the statement
    flags: tuple[str, ...] = ()

    @property
    def condition(self) -> str | None:
        return "; ".join(self.conditions) or None

    def as_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "effect": self.effect,
            "actions": list(self.actions),
            "resources": list(self.resources),
            "conditions": list(self.conditions),
            "policy": self.policy,
            "flags": list(self.flags),
        }


@dataclass
class Reachable:
    """A resource with a resource-based policy (who can reach it), or a role (who can become it)."""

    stack: str
    logical_id: str
    resource_type: str
    name: str  # the resource rendered (its ARN where the type's format is known)
    trust: bool = False  # a role's AssumeRolePolicyDocument
    accesses: list[Access] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.logical_id}"

    def flagged(self) -> list[Access]:
        return [a for a in self.accesses if a.effect == "Allow" and a.flags]

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "type": self.resource_type,
            "name": self.name,
            "relationship": "trust" if self.trust else "resource policy",
            "accesses": [a.as_json() for a in self.accesses],
        }
