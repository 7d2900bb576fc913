"""Who may do what: every allowed action per role (and the functions using it), resolved readably.

Policies are collected from a role's inline `Policies`, from `AWS::IAM::Policy`,
`AWS::IAM::RolePolicy` and `AWS::IAM::ManagedPolicy` resources that name the role, and from its
`ManagedPolicyArns` (an AWS managed policy's statements are not in the template: it is listed as
such). The baseline gate compares the allowed (action, resource, condition) triples with a
committed JSON file: growth fails, shrinkage is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls.baseline import unused_entries
from secure_constructs.audit.code_calls.compare import FunctionCheck, check_stacks
from secure_constructs.audit.sources import InputError, StackSource
from secure_constructs.checks.iam_facts import STAR_ONLY_ACTIONS
from secure_constructs.checks.intrinsics import Resolver, is_resolved

BASELINE_VERSION = 1
MANAGED_POLICY = "(managed policy)"

# Actions that let a principal raise its own (or another principal's) privileges.
ESCALATION_ACTIONS: dict[str, str] = {
    "iam:PassRole": "hands a role to a service, which then acts with that role's permissions",
    "iam:CreatePolicy": "writes new permissions",
    "iam:CreatePolicyVersion": "rewrites a managed policy",
    "iam:SetDefaultPolicyVersion": "switches a managed policy to another version",
    "iam:AttachRolePolicy": "attaches any managed policy to a role",
    "iam:AttachUserPolicy": "attaches any managed policy to a user",
    "iam:AttachGroupPolicy": "attaches any managed policy to a group",
    "iam:PutRolePolicy": "writes an inline policy on a role",
    "iam:PutUserPolicy": "writes an inline policy on a user",
    "iam:PutGroupPolicy": "writes an inline policy on a group",
    "iam:DeleteRolePermissionsBoundary": "removes a role's permissions boundary",
    "iam:PutRolePermissionsBoundary": "replaces a role's permissions boundary",
    "iam:UpdateAssumeRolePolicy": "lets another principal assume a role",
    "iam:CreateAccessKey": "creates credentials for a user",
    "iam:CreateLoginProfile": "creates a console password for a user",
    "iam:UpdateLoginProfile": "changes a user's console password",
    "iam:AddUserToGroup": "joins a group and its permissions",
    "sts:AssumeRole": "assumes any role that trusts the account",
    "lambda:UpdateFunctionCode": "runs arbitrary code with a function's role",
    "lambda:UpdateFunctionConfiguration": "changes a function's role, layers or environment",
    "lambda:CreateFunction": "with iam:PassRole, runs code with any passable role",
    "lambda:AddPermission": "opens a function to other principals",
    "cloudformation:CreateStack": "with iam:PassRole, deploys with the stack role's permissions",
    "cloudformation:UpdateStack": "deploys with the stack role's permissions",
    "cloudformation:CreateChangeSet": "deploys with the stack role's permissions",
    "ec2:RunInstances": "with iam:PassRole, runs code with an instance profile's role",
    "glue:UpdateDevEndpoint": "runs code with a Glue endpoint's role",
    "ssm:SendCommand": "runs commands on instances",
    "kms:PutKeyPolicy": "rewrites who may use a key",
    "s3:PutBucketPolicy": "rewrites who may access a bucket",
    "secretsmanager:PutResourcePolicy": "rewrites who may read a secret",
}
_ONLY_ON_STAR = {"sts:AssumeRole"}  # flagged only when the resource is (or contains) "*"

_PRINCIPAL_TYPES = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group"}
_POLICY_TARGETS = {"role": "Roles", "user": "Users", "group": "Groups"}
_NAME_PROPS = {"role": "RoleName", "user": "UserName", "group": "GroupName"}


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
        return [
            g for g in self.grants if g.effect == "Allow" and any(_alarming(f) for f in g.flags)
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
        }


def _alarming(flag: str) -> bool:
    return not flag.startswith("resource * (")


def permissions(
    stacks: Iterable[StackSource],
    resolvers: Mapping[str, Resolver],
    *,
    code_dirs: Mapping[str, Path] | None = None,
) -> PermissionReport:
    """The permission report of every stack, with each function's code against its role."""
    report = PermissionReport()
    stacks = list(stacks)
    for stack in stacks:
        _stack_permissions(stack, resolvers[stack.name], report)
    report.code = check_stacks(stacks, resolvers, code_dirs)
    return report


def _stack_permissions(stack: StackSource, resolver: Resolver, report: PermissionReport) -> None:
    principals: dict[str, Principal] = {}
    by_name: dict[str, str] = {}
    for logical_id, resource in stack.resources.items():
        kind = _PRINCIPAL_TYPES.get(str(resource.get("Type")))
        if kind is None:
            continue
        props = _props(resource)
        principal = Principal(stack.name, kind, logical_id, resolver.resource_name(logical_id))
        principals[logical_id] = principal
        name = props.get(_NAME_PROPS[kind])
        if isinstance(name, str):
            by_name[name] = logical_id
        for index, policy in enumerate(_as_list(props.get("Policies"))):
            if isinstance(policy, Mapping):
                label = f"{logical_id}.Policies[{policy.get('PolicyName', index)}]"
                principal.grants.extend(_grants(policy.get("PolicyDocument"), label, resolver))

    def targets(props: Mapping[str, Any], prop: str) -> list[str]:
        found = []
        for entry in _as_list(props.get(prop)):
            if isinstance(entry, Mapping) and isinstance(entry.get("Ref"), str):
                found.append(entry["Ref"])
            elif isinstance(entry, str) and entry in by_name:
                found.append(by_name[entry])
        return [t for t in found if t in principals]

    attached: dict[str, set[str]] = {}
    for logical_id, resource in stack.resources.items():
        resource_type = resource.get("Type")
        props = _props(resource)
        if resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            grants = _grants(props.get("PolicyDocument"), logical_id, resolver)
            for kind, prop in _POLICY_TARGETS.items():
                for target in targets(props, prop):
                    if principals[target].kind == kind:
                        principals[target].grants.extend(grants)
                        attached.setdefault(target, set()).add(logical_id)
        elif resource_type in (
            "AWS::IAM::RolePolicy",
            "AWS::IAM::UserPolicy",
            "AWS::IAM::GroupPolicy",
        ):
            prop = {"AWS::IAM::RolePolicy": "RoleName", "AWS::IAM::UserPolicy": "UserName"}.get(
                str(resource_type), "GroupName"
            )
            for target in targets({"x": props.get(prop)}, "x"):
                principals[target].grants.extend(
                    _grants(props.get("PolicyDocument"), logical_id, resolver)
                )

    for logical_id, principal in principals.items():
        props = _props(stack.resources[logical_id])
        for arn in _as_list(props.get("ManagedPolicyArns")):
            ref = arn.get("Ref") if isinstance(arn, Mapping) else None
            policy = stack.resources.get(ref) if isinstance(ref, str) else None
            if isinstance(policy, Mapping) and policy.get("Type") == "AWS::IAM::ManagedPolicy":
                if ref not in attached.get(logical_id, set()):
                    principal.grants.extend(
                        _grants(_props(policy).get("PolicyDocument"), str(ref), resolver)
                    )
                continue
            rendered = resolver.text(arn)
            principal.grants.append(
                Grant(
                    "Allow",
                    MANAGED_POLICY,
                    (rendered,),
                    None,
                    "ManagedPolicyArns",
                    ("managed policy",),
                )
            )
            principal.notes.append(
                f"managed policy {rendered}: its statements are not in the template"
            )

    for logical_id, resource in stack.resources.items():
        if resource.get("Type") not in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
            continue
        role = _props(resource).get("Role")
        role_id = _role_reference(role)
        if role_id in principals:
            principals[role_id].functions.append(logical_id)
            report.functions.append(FunctionRole(stack.name, logical_id, principals[role_id].key))
        elif role is not None:
            report.functions.append(
                FunctionRole(stack.name, logical_id, resolver.text(role), external=True)
            )
    report.principals.extend(principals.values())


def _role_reference(role: Any) -> str | None:
    if isinstance(role, Mapping) and "Fn::GetAtt" in role:
        argument = role["Fn::GetAtt"]
        if isinstance(argument, str):
            return argument.split(".", 1)[0]
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            return argument[0]
    return None


def _grants(document: Any, policy: str, resolver: Resolver) -> list[Grant]:
    if not isinstance(document, Mapping):
        return []
    grants = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, Mapping):
            continue
        effect = str(statement.get("Effect", "Allow"))
        condition = _condition(statement.get("Condition"), resolver)
        if "NotResource" in statement:
            resources = tuple(f"NOT {r}" for r in _resources(statement["NotResource"], resolver))
        else:
            resources = tuple(_resources(statement.get("Resource", "*"), resolver))
        if "NotAction" in statement:
            actions = [
                "NOT " + ", ".join(resolver.text(a) for a in _as_list(statement["NotAction"]))
            ]
        else:
            actions = [resolver.text(a) for a in _as_list(statement.get("Action"))]
        for action in actions:
            flags = _flags(action, resources) if effect == "Allow" else ()
            grants.append(Grant(effect, action, resources, condition, policy, flags))
    return grants


def _resources(value: Any, resolver: Resolver) -> list[str]:
    items = resolver.items(value)
    if items is None:
        return [resolver.text(value)]
    return items


def _condition(condition: Any, resolver: Resolver) -> str | None:
    if not isinstance(condition, Mapping) or not condition:
        return None
    parts = []
    for operator in sorted(condition):
        clauses = condition[operator]
        if not isinstance(clauses, Mapping):
            parts.append(f"{operator} {resolver.text(clauses)}")
            continue
        for key in sorted(clauses):
            values = resolver.items(clauses[key]) or [resolver.text(clauses[key])]
            parts.append(f"{operator} {key}={'|'.join(values)}")
    return "; ".join(parts)


def _flags(action: str, resources: tuple[str, ...]) -> tuple[str, ...]:
    flags: list[str] = []
    if action.startswith("NOT "):
        flags.append("NotAction: allows every other action")
    elif "*" in action:
        flags.append("wildcard action")
    if any(r == "*" for r in resources):
        if action in STAR_ONLY_ACTIONS:
            flags.append("resource * (the action supports only *)")
        else:
            flags.append("resource *")
    elif any("*" in r for r in resources):
        flags.append("wildcard in resource")
    if any(r.startswith("NOT ") for r in resources):
        flags.append("NotResource: applies to every other resource")
    if any(not is_resolved(r) for r in resources):
        flags.append("unresolved resource")
    star = any("*" in r for r in resources)
    lowered = action.lower()
    for escalation, why in ESCALATION_ACTIONS.items():
        if escalation in _ONLY_ON_STAR and not star:
            continue
        if fnmatchcase(escalation.lower(), lowered) or lowered == escalation.lower():
            flags.append(f"privilege escalation: {escalation} {why}")
            break
    return tuple(flags)


def _props(resource: Any) -> Mapping[str, Any]:
    props = resource.get("Properties") if isinstance(resource, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# -- baseline ---------------------------------------------------------------------------------


@dataclass
class BaselineDiff:
    growth: list[tuple[str, str, str]] = field(default_factory=list)  # (principal, action, entry)
    shrinkage: list[tuple[str, str, str]] = field(default_factory=list)


def baseline_of(report: PermissionReport) -> dict[str, Any]:
    return {
        "version": BASELINE_VERSION,
        "generated_by": "secure-constructs permissions --write-baseline",
        "principals": {p.key: p.allowed() for p in sorted(report.principals, key=lambda p: p.key)},
        "unused": unused_entries(report.code),
    }


def write_baseline(report: PermissionReport, path: Path) -> None:
    try:
        path.write_text(json.dumps(baseline_of(report), indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise InputError(f"{path}: cannot write the baseline: {error.strerror or error}") from None


def read_baseline(path: Path) -> dict[str, dict[str, list[str]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such baseline file (create it with --write-baseline)"
        ) from None
    except OSError as error:
        raise InputError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{path}: the baseline is not valid JSON") from None
    principals = data.get("principals") if isinstance(data, Mapping) else None
    if (
        not isinstance(data, Mapping)
        or data.get("version") != BASELINE_VERSION
        or not isinstance(principals, Mapping)
        or not all(
            isinstance(actions, Mapping) and all(isinstance(v, list) for v in actions.values())
            for actions in principals.values()
        )
    ):
        raise InputError(
            f"{path}: not a permissions baseline of version {BASELINE_VERSION} "
            "(rewrite it with --write-baseline)"
        )
    return {
        k: {a: [str(e) for e in v] for a, v in actions.items()} for k, actions in principals.items()
    }


def compare(
    report: PermissionReport, baseline: Mapping[str, Mapping[str, list[str]]]
) -> BaselineDiff:
    """What each principal gained (growth) and lost (shrinkage) against the baseline."""
    diff = BaselineDiff()
    current = {p.key: p.allowed() for p in report.principals}
    for key in sorted(set(current) | set(baseline)):
        now, before = current.get(key, {}), baseline.get(key, {})
        for action in sorted(set(now) | set(before)):
            new, old = set(now.get(action, [])), set(before.get(action, []))
            diff.growth.extend((key, action, e) for e in sorted(new - old))
            diff.shrinkage.extend((key, action, e) for e in sorted(old - new))
    return diff
