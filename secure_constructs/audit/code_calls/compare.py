"""Per function: what its code calls against what its role grants.

`unused`: granted, never called by the code nor used by Lambda for it (tighten the role).
`missing`: called, not granted on the resource it acts on (an AccessDenied at run time).
`unresolved`: calls whose actions are not known statically. A function whose code could not be
read is "not analysed" with the reason, never clean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls import platform
from secure_constructs.audit.code_calls.assets import FunctionCode, asset_sources, function_code
from secure_constructs.audit.code_calls.grants import Statement, references, role_statements
from secure_constructs.audit.code_calls.model import Call, CodeAnalysis
from secure_constructs.audit.code_calls.parse import analyse
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.intrinsics import Resolver

_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


@dataclass(frozen=True)
class Missing:
    action: str
    call: Call
    reason: str


@dataclass(frozen=True)
class GrantUse:
    """One action of one statement and who uses it (or why it counts as used)."""

    action: str
    statement: str
    resources: str
    why: str = ""


@dataclass
class FunctionCheck:
    stack: str
    function: str
    role: str | None
    code: CodeAnalysis
    called: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    unused: list[GrantUse] = field(default_factory=list)
    bundled: list[GrantUse] = field(default_factory=list)
    platform: list[GrantUse] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.function}"

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "function": self.function,
            "role": self.role,
            "analysed": self.code.analysed,
            "not_analysed": self.code.not_analysed,
            "files": self.code.files,
            "called": self.called,
            "granted": self.granted,
            "calls": [
                {"where": c.where, "api": c.api, "actions": list(c.actions), "env": c.env}
                for c in self.code.calls
            ],
            "missing": [
                {"action": m.action, "where": m.call.where, "api": m.call.api, "reason": m.reason}
                for m in self.missing
            ],
            "unused": [_use_json(u) for u in self.unused],
            "bundled": [_use_json(u) for u in self.bundled],
            "platform": [_use_json(u) for u in self.platform],
            "unresolved": [
                {"where": u.where, "api": u.api, "reason": u.reason} for u in self.code.unresolved
            ],
            "notes": self.notes,
        }


def _use_json(use: GrantUse) -> dict[str, str]:
    return {
        "action": use.action,
        "statement": use.statement,
        "resources": use.resources,
        "why": use.why,
    }


def check_stacks(
    stacks: Iterable[StackSource],
    resolvers: Mapping[str, Resolver],
    code_dirs: Mapping[str, Path] | None = None,
) -> list[FunctionCheck]:
    """Every function of every stack, its code against its role. `code_dirs` maps a function's
    logical id to a folder holding its code (for templates without a cloud assembly)."""
    checks: list[FunctionCheck] = []
    for stack in stacks:
        sources = asset_sources(stack.assembly)
        for logical_id, resource in stack.resources.items():
            if not isinstance(resource, Mapping) or resource.get("Type") not in _FUNCTION_TYPES:
                continue
            code = function_code(resource, stack.assembly, sources)
            if code_dirs and logical_id in code_dirs:
                code = FunctionCode(code_dirs[logical_id], code.handler or _handler(resource))
            checks.append(check_function(stack, logical_id, code, resolvers[stack.name]))
    return checks


def _handler(resource: Mapping[str, Any]) -> str:
    props = resource.get("Properties")
    handler = props.get("Handler") if isinstance(props, Mapping) else None
    return handler if isinstance(handler, str) else ""


def check_function(
    stack: StackSource, logical_id: str, code: FunctionCode, resolver: Resolver
) -> FunctionCheck:
    resources = stack.resources
    props = _props(resources[logical_id])
    role = _role_of(props.get("Role"))
    if code.root is None or code.reason is not None:
        analysis = CodeAnalysis(not_analysed=code.reason or "no code to read")
    else:
        analysis = analyse(code.root, code.handler)
    check = FunctionCheck(stack.name, logical_id, role, analysis)
    if role is None or role not in resources:
        check.notes.append("the role is not in the template: its grants cannot be compared")
        return check
    statements, notes = role_statements(resources, role)
    check.notes.extend(notes)
    check.granted = sorted({a for s in statements if not s.not_action for a in s.actions})
    check.called = sorted({a for c in analysis.calls for a in c.actions})
    if not analysis.analysed:
        return check
    _compare(
        check,
        statements,
        _environment(props),
        _platform_targets(resources, logical_id, props),
        resolver,
    )
    return check


def _compare(
    check: FunctionCheck,
    statements: list[Statement],
    environment: Mapping[str, set[str]],
    lambda_targets: Mapping[str, set[str]],
    resolver: Resolver,
) -> None:
    used: dict[tuple[str, str], str] = {}  # (statement label, action pattern) -> why
    services = {a.split(":", 1)[0] for c in check.code.calls for a in c.actions}
    for call in check.code.calls:
        targets = environment.get(call.env) if call.env else None
        for action in call.actions:
            allowing = [s for s in statements if s.allows(action)]
            if call.env is not None and targets is None:
                check.missing.append(
                    Missing(action, call, f"the function has no environment variable {call.env}")
                )
                continue
            fitting = [
                s for s in allowing if targets is None or s.any_resource or s.targets & targets
            ]
            if not fitting:
                reason = "not granted"
                if allowing:
                    reason = (
                        "granted only on other resources ("
                        + ", ".join(s.label for s in allowing)
                        + ")"
                    )
                check.missing.append(Missing(action, call, reason))
                continue
            for statement in fitting:
                used.setdefault(
                    (statement.label, statement.pattern_for(action) or action), call.where
                )
    for statement in statements:
        if statement.not_action:
            continue
        rendered = resolver.text(statement.resource)
        called_here = any((statement.label, a) in used for a in statement.actions)
        bundle = platform.bundle_of(statement.actions)
        for action in statement.actions:
            if (statement.label, action) in used:
                continue
            why = _lambda_use(action, statement, lambda_targets, services)
            if why:
                check.platform.append(GrantUse(action, statement.label, rendered, why))
                if statement.via_service is None:
                    services.add(action.split(":", 1)[0])
            elif bundle and called_here:
                check.bundled.append(GrantUse(action, statement.label, rendered, f"CDK's {bundle}"))
            else:
                check.unused.append(GrantUse(action, statement.label, rendered))


def _lambda_use(
    action: str, statement: Statement, targets: Mapping[str, set[str]], services: set[str]
) -> str:
    if action in platform.LOGS:
        return "Lambda writes the function's logs"
    if action in platform.TRACING:
        return "Lambda sends the function's traces (active tracing)"
    if action in platform.VPC and targets.get("vpc"):
        return "Lambda manages the function's network interfaces in the VPC"
    if action in platform.DESTINATION and statement.targets & targets.get("destination", set()):
        return "Lambda sends failed events to the dead-letter queue or destination"
    if action in platform.EVENT_SOURCE and statement.targets & targets.get("source", set()):
        return "Lambda polls the event source mapping's source"
    if action in platform.SOURCE_KEY and statement.targets & targets.get("source_keys", set()):
        return "Lambda decrypts what it reads from the event source mapping's encrypted source"
    if action.lower().startswith("kms:") and statement.via_service:
        service = statement.via_service
        lambda_sends = service in ("sqs", "sns") and statement.targets & targets.get(
            "destination", set()
        )
        if service in services or lambda_sends or _kms_for_destination(service, targets):
            return f"used by {service} on the function's behalf (kms:ViaService)"
    return ""


def _kms_for_destination(service: str, targets: Mapping[str, set[str]]) -> bool:
    return service in targets.get("destination_services", set())


def _platform_targets(
    resources: Mapping[str, Any], logical_id: str, props: Mapping[str, Any]
) -> dict[str, set[str]]:
    destination = references(props.get("DeadLetterConfig"))
    sources: set[str] = set()
    for _other, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        other_props = _props(resource)
        if logical_id not in references(other_props.get("FunctionName")):
            continue
        if resource.get("Type") == "AWS::Lambda::EventInvokeConfig":
            destination |= references(other_props.get("DestinationConfig"))
        elif resource.get("Type") == "AWS::Lambda::EventSourceMapping":
            sources |= references(other_props.get("EventSourceArn"))
            destination |= references(other_props.get("DestinationConfig"))
    kinds = {
        {"AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns"}.get(str(_type(resources, d)), "")
        for d in destination
    }
    source_keys: set[str] = set()
    for source in sources:
        source_props = _props(resources.get(source, {}))
        source_keys |= references(source_props.get("KmsMasterKeyId"))
        source_keys |= references(source_props.get("StreamEncryption"))
    return {
        "destination": destination,
        "destination_services": kinds - {""},
        "source": sources,
        "source_keys": source_keys,
        "vpc": {"vpc"} if props.get("VpcConfig") else set(),
    }


def _type(resources: Mapping[str, Any], logical_id: str) -> Any:
    resource = resources.get(logical_id)
    return resource.get("Type") if isinstance(resource, Mapping) else None


def _environment(props: Mapping[str, Any]) -> dict[str, set[str]]:
    env = props.get("Environment")
    variables = env.get("Variables") if isinstance(env, Mapping) else None
    if not isinstance(variables, Mapping):
        return {}
    return {str(k): references(v) for k, v in variables.items()}


def _role_of(role: Any) -> str | None:
    found = references(role)
    return next(iter(found)) if len(found) == 1 else None


def _props(resource: Any) -> Mapping[str, Any]:
    props = resource.get("Properties") if isinstance(resource, Mapping) else None
    return props if isinstance(props, Mapping) else {}
