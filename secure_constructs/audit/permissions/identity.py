"""Identity grants: every action each role, user and group is allowed (and who runs with it).

Policies are collected from a role's inline `Policies`, from `AWS::IAM::Policy`,
`AWS::IAM::RolePolicy` and `AWS::IAM::ManagedPolicy` resources that name the role, and from its
`ManagedPolicyArns` (an AWS managed policy's statements are not in the template: it is listed as
such).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from secure_constructs.audit.permissions.model import (
    FunctionRole,
    Grant,
    PermissionReport,
    Principal,
)
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.iam_facts import STAR_ONLY_ACTIONS
from secure_constructs.checks.intrinsics import Resolver, is_resolved

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


def stack_permissions(stack: StackSource, resolver: Resolver, report: PermissionReport) -> None:
    principals, by_name = _principals(stack, resolver)
    attached = _attach_policies(stack, resolver, principals, by_name)
    _attach_managed_policies(stack, resolver, principals, attached)
    _link_functions(stack, resolver, principals, report)
    report.principals.extend(principals.values())


def _principals(
    stack: StackSource, resolver: Resolver
) -> tuple[dict[str, Principal], dict[str, str]]:
    """The stack's roles, users and groups with their inline policies; name -> logical id."""
    principals: dict[str, Principal] = {}
    by_name: dict[str, str] = {}
    for logical_id, resource in stack.resources.items():
        kind = _PRINCIPAL_TYPES.get(str(resource.get("Type")))
        if kind is None:
            continue
        props = props_of(resource)
        principal = Principal(stack.name, kind, logical_id, resolver.resource_name(logical_id))
        principals[logical_id] = principal
        name = props.get(_NAME_PROPS[kind])
        if isinstance(name, str):
            by_name[name] = logical_id
        for index, policy in enumerate(as_list(props.get("Policies"))):
            if isinstance(policy, Mapping):
                label = f"{logical_id}.Policies[{policy.get('PolicyName', index)}]"
                principal.grants.extend(_grants(policy.get("PolicyDocument"), label, resolver))
    return principals, by_name


def _targets(
    props: Mapping[str, Any],
    prop: str,
    principals: Mapping[str, Principal],
    by_name: Mapping[str, str],
) -> list[str]:
    """The principals a policy's `prop` (Roles, Users, Groups, RoleName, ...) names."""
    found = []
    for entry in as_list(props.get(prop)):
        if isinstance(entry, Mapping) and isinstance(entry.get("Ref"), str):
            found.append(entry["Ref"])
        elif isinstance(entry, str) and entry in by_name:
            found.append(by_name[entry])
    return [t for t in found if t in principals]


def _attach_policies(
    stack: StackSource,
    resolver: Resolver,
    principals: dict[str, Principal],
    by_name: Mapping[str, str],
) -> dict[str, set[str]]:
    """Grants of AWS::IAM::Policy/ManagedPolicy/RolePolicy/...; principal -> attached policies."""
    attached: dict[str, set[str]] = {}
    for logical_id, resource in stack.resources.items():
        resource_type = resource.get("Type")
        props = props_of(resource)
        if resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            grants = _grants(props.get("PolicyDocument"), logical_id, resolver)
            for kind, prop in _POLICY_TARGETS.items():
                for target in _targets(props, prop, principals, by_name):
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
            for target in _targets({"x": props.get(prop)}, "x", principals, by_name):
                principals[target].grants.extend(
                    _grants(props.get("PolicyDocument"), logical_id, resolver)
                )
    return attached


def _attach_managed_policies(
    stack: StackSource,
    resolver: Resolver,
    principals: dict[str, Principal],
    attached: Mapping[str, set[str]],
) -> None:
    """ManagedPolicyArns: the template's own managed policies' grants, AWS's as a marker."""
    for logical_id, principal in principals.items():
        props = props_of(stack.resources[logical_id])
        for arn in as_list(props.get("ManagedPolicyArns")):
            ref = arn.get("Ref") if isinstance(arn, Mapping) else None
            policy = stack.resources.get(ref) if isinstance(ref, str) else None
            if isinstance(policy, Mapping) and policy.get("Type") == "AWS::IAM::ManagedPolicy":
                if ref not in attached.get(logical_id, set()):
                    principal.grants.extend(
                        _grants(props_of(policy).get("PolicyDocument"), str(ref), resolver)
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


def _link_functions(
    stack: StackSource,
    resolver: Resolver,
    principals: dict[str, Principal],
    report: PermissionReport,
) -> None:
    """Which function runs as which role (or an external one)."""
    for logical_id, resource in stack.resources.items():
        if resource.get("Type") not in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
            continue
        role = props_of(resource).get("Role")
        role_id = _role_reference(role)
        if role_id in principals:
            principals[role_id].functions.append(logical_id)
            report.functions.append(FunctionRole(stack.name, logical_id, principals[role_id].key))
        elif role is not None:
            report.functions.append(
                FunctionRole(stack.name, logical_id, resolver.text(role), external=True)
            )


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
    for statement in as_list(document.get("Statement")):
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
                "NOT " + ", ".join(resolver.text(a) for a in as_list(statement["NotAction"]))
            ]
        else:
            actions = [resolver.text(a) for a in as_list(statement.get("Action"))]
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
    return "; ".join(condition_clauses(condition, resolver)) or None


def condition_clauses(condition: Any, resolver: Resolver) -> list[str]:
    """A Condition block as one `Operator key=v1|v2` clause per operator and key, sorted."""
    if not isinstance(condition, Mapping) or not condition:
        return []
    parts = []
    for operator in sorted(condition):
        clauses = condition[operator]
        if not isinstance(clauses, Mapping):
            parts.append(f"{operator} {resolver.text(clauses)}")
            continue
        for key in sorted(clauses):
            values = resolver.items(clauses[key]) or [resolver.text(clauses[key])]
            parts.append(f"{operator} {key}={'|'.join(sorted(values))}")
    return parts


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


def props_of(resource: Any) -> Mapping[str, Any]:
    props = resource.get("Properties") if isinstance(resource, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
