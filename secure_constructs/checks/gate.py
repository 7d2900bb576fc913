"""The acknowledgement gate: where an acknowledgement lands, and which ones are refused at synth.

`acknowledge(construct, id, reason)` does not place CDK's acknowledgement at call time: it
records an *intent* (construct, companions, id, reason) here and as node metadata
(`secure-constructs:acknowledge`, which the audit reads from the cloud assembly). At synth, the
SecureServerless plugin runs after every other pack (whose reports it records), so it knows every
finding and its construct path; it then places CDK's acknowledgement
(`Validations.of(resource).acknowledge`) on exactly the resources under the construct (or its
companions) that carry the finding. CDK collects acknowledgements after all plugins ran, so
those placed here are honoured, and a finding is acknowledged where it is.

Refused at synth, as fatal findings (CDK lets no acknowledgement silence a fatal one):
an intent that matches no finding of a pack that ran, an acknowledgement made with CDK's
`Validations.of(x).acknowledge` (on any construct, the App or a Stage, before or after
`apply_checks`), an intent marker not made by `acknowledge()` (forged metadata), and a reason
the gate refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from secure_constructs.checks.reasons import reason_problem

__all__ = ["BYPASS", "FORGED", "GATE_RULES", "INTENT_METADATA", "UNMATCHED", "record", "run_gate"]

from secure_constructs.checks.gate_ids import (
    BYPASS,
    CDK_ACK_METADATA,
    FORGED,
    GATE_RULES,
    INTENT_METADATA,
    REASON_REFUSED,
    SCOPE,
    UNMATCHED,
)


@dataclass
class Intent:
    """One `acknowledge()` call: the construct, the resources made beside it, the id and why."""

    construct: IConstruct
    targets: list[IConstruct]
    rule_id: str  # namespaced and granular
    reason: str
    paths: tuple[str, ...] = ()  # the construct's path, then its companions'

    @property
    def namespace(self) -> str:
        return self.rule_id.split("::", 1)[0]

    def covers(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.paths)


# root construct id -> (root, intents): acknowledge() records here, the plugin reads its app's.
_INTENTS: dict[int, tuple[IConstruct, list[Intent]]] = {}


def spanned_scope(construct: IConstruct) -> str | None:
    """Why an acknowledgement on `construct` would cover whole stacks, or None.

    Refused: an App, Stage or Stack (a NestedStack too), a construct outside every Stack (a
    plain Construct under the App that groups stacks), and one with a Stack or Stage below it.
    The same judgement as the gate's at synth (`_Scopes`), made when `acknowledge` is called.
    """
    node = construct.node
    return _Scopes(node.root).spanned(Intent(construct, [], "", "", (node.path,)))


class _Scopes:
    """The paths of the app's Stacks and Stages, read in one walk of the app: the gate judges
    every intent's placement from its recorded paths instead of walking each intent's
    construct (three round trips to the kernel per intent)."""

    def __init__(self, app: IConstruct) -> None:
        self._below: list[tuple[str, str]] = []  # (path, class name), in walk order
        self._stacks: list[str] = []
        for node in app.node.find_all():
            if isinstance(node, cdk.App) or not isinstance(node, (cdk.Stage, cdk.Stack)):
                continue
            path = node.node.path
            self._below.append((path, type(node).__name__))
            if isinstance(node, cdk.Stack):
                self._stacks.append(path)

    def spanned(self, intent: Intent) -> str | None:
        """Why the intent's acknowledgement would cover whole stacks, or None: the construct
        or one of its companions (a SecureFunction's role, log group, queue, which the
        acknowledgement reaches too) is a scope, lies outside every Stack or holds one."""
        for construct in (intent.construct, *intent.targets):
            for scope_type in (cdk.App, cdk.Stage, cdk.Stack):
                if isinstance(construct, scope_type):
                    return f"a {scope_type.__name__}"
        for path in intent.paths:
            if not any(path.startswith(stack + "/") for stack in self._stacks):
                return "a construct outside every Stack"
            for below, name in self._below:
                if below.startswith(path + "/"):
                    return f"a construct holding the {name} {below!r}"
        return None


def record(construct: IConstruct, targets: Iterable[IConstruct], rule_id: str, reason: str) -> None:
    """Record an intent; the plugin places it at synth (see the module docstring)."""
    companions = list(targets)
    node = construct.node  # one round trip for its path, root and metadata
    paths = (node.path, *(c.node.path for c in companions))
    intent = Intent(construct, companions, rule_id, reason, paths)
    root = node.root
    _INTENTS.setdefault(id(root), (root, []))[1].append(intent)
    node.add_metadata(
        INTENT_METADATA, {"id": rule_id, "reason": reason, "targets": list(paths[1:])}
    )


# root construct id -> (path, id) of every CDK acknowledgement the gate placed: a second synth
# of the same app finds them in the tree and must not take them for acknowledgements around it.
_PLACED: dict[int, set[tuple[str, str]]] = {}


def _acknowledge(
    app: IConstruct, target: IConstruct, rule_id: str, reason: str, path: str | None = None
) -> None:
    _PLACED.setdefault(id(app), set()).add((path or target.node.path, rule_id))
    cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def intents_of(app: IConstruct) -> list[Intent]:
    entry = _INTENTS.get(id(app))
    return list(entry[1]) if entry is not None and entry[0] is app else []


@dataclass
class SeenFinding:
    """One finding of any pack on one resource, as the gate sees it."""

    pack: str
    rule_name: str  # granular, without the pack prefix (cdk-nag's carry their own prefix)
    path: str  # construct path of the resource
    stack_path: str
    acknowledged: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.pack}::{self.rule_name}"


@dataclass
class GateProblem:
    rule: str
    path: str
    message: str
    fix: str


@dataclass
class GateResult:
    problems: list[GateProblem] = field(default_factory=list)
    placed: int = 0


def run_gate(
    app: IConstruct,
    findings: list[SeenFinding],
    packs_seen: set[str],
    stack_metadata: Iterable[Mapping[str, Any]],
) -> GateResult:
    """Place every intent of `app` on its findings; what the gate refuses."""
    result = GateResult()
    genuine = {(i.paths[0], i.rule_id, i.reason) for i in intents_of(app)}
    placed = _PLACED.get(id(app), set())
    for path, entry in _metadata_entries(app, stack_metadata):
        _judge_entry(path, entry, genuine, placed, result)
    scopes = _Scopes(app)
    for intent in intents_of(app):
        problem = reason_problem(intent.reason)
        if problem:
            result.problems.append(_weak(intent.paths[0], intent.rule_id, problem))
            continue
        scope = scopes.spanned(intent)  # a stack added below it after acknowledge()
        if scope is not None:
            result.problems.append(_spanning(intent, scope))
            continue
        if intent.namespace not in packs_seen:
            companions = zip([intent.construct, *intent.targets], intent.paths, strict=True)
            for companion, path in companions:  # a pack it cannot see: as CDK matches
                _acknowledge(app, companion, intent.rule_id, intent.reason, path)
            continue
        matched = [f for f in findings if f.qualified == intent.rule_id and intent.covers(f.path)]
        if not matched:
            result.problems.append(_unmatched(intent, findings))
            continue
        for finding in matched:
            resource = _resource_at(app, intent, finding.path)
            if resource is None:
                continue
            _acknowledge(app, resource, intent.rule_id, intent.reason, finding.path)
            finding.acknowledged = True
            result.placed += 1
    return result


def _judge_entry(
    path: str,
    entry: Mapping[str, Any],
    genuine: set[tuple[str, str, str]],
    placed: set[tuple[str, str]],
    result: GateResult,
) -> None:
    kind, data = entry.get("type"), entry.get("data")
    shown = path or "(the App)"
    if kind == CDK_ACK_METADATA and isinstance(data, Mapping):
        for rule_id, reason in data.items():
            if str(rule_id).startswith(("CloudFormation-Validate::", "Annotation::")):
                continue  # CDK's own (e.g. W3010 for literal AZs) and annotation warnings
            if (path, str(rule_id)) in placed:
                continue  # placed by this gate in an earlier synth of the same app
            result.problems.append(
                GateProblem(
                    BYPASS,
                    path,
                    f"{rule_id} at {shown} was acknowledged with CDK's Validations.of(x)"
                    f".acknowledge, around the gate (reason: {reason!r})",
                    "remove it and call secure_constructs.acknowledge(<the resource>, "
                    f"{rule_id!r}, reason=...) on the construct that has the finding",
                )
            )
    elif kind == INTENT_METADATA and isinstance(data, Mapping):
        key = (path, str(data.get("id")), str(data.get("reason")))
        if key not in genuine:
            result.problems.append(
                GateProblem(
                    FORGED,
                    path,
                    f"{INTENT_METADATA} metadata at {shown} ({data.get('id')}) was not made by "
                    "acknowledge()",
                    "remove the metadata and call secure_constructs.acknowledge(...)",
                )
            )


def _weak(path: str, rule_id: str, problem: str) -> GateProblem:
    return GateProblem(
        REASON_REFUSED,
        path,
        f"the reason of {rule_id} at {path} is refused: {problem}",
        "say why the risk is acceptable for this resource",
    )


def _spanning(intent: Intent, scope: str) -> GateProblem:
    return GateProblem(
        SCOPE,
        intent.paths[0],
        f"acknowledgement {intent.rule_id} at {intent.paths[0]} covers whole stacks ({scope})",
        "put it on the construct that has the finding (the synth report's finding names it)",
    )


def _unmatched(intent: Intent, findings: list[SeenFinding]) -> GateProblem:
    same = sorted({f.path for f in findings if f.qualified == intent.rule_id})
    where = f"; that finding is at {', '.join(same[:5])}" if same else ""
    return GateProblem(
        UNMATCHED,
        intent.paths[0],
        f"acknowledgement {intent.rule_id} at {intent.paths[0]} matches no finding under it{where}",
        "remove the acknowledgement, or put it on the construct that has the finding with the "
        "exact id from the report's 'Acknowledge with' line",
    )


def _resource_at(app: IConstruct, intent: Intent, path: str) -> IConstruct | None:
    """The construct at `path`, a finding under the intent: walked down from the intent's own
    construct or companion whose path holds it (each step is two jsii round trips), from the
    app only when none does."""
    for construct, own in zip([intent.construct, *intent.targets], intent.paths, strict=True):
        if path == own:
            return construct
        if path.startswith(own + "/"):
            return find_by_path(construct, path[len(own) :])
    return find_by_path(app, path)


def find_by_path(app: IConstruct, path: str) -> IConstruct | None:
    """The construct at `path` below `app` (the App, or any construct for a relative path)."""
    node: IConstruct | None = app
    for part in [p for p in path.split("/") if p]:
        if node is None:
            return None
        node = node.node.try_find_child(part)
    return node


def _metadata_entries(
    app: IConstruct, stack_metadata: Iterable[Mapping[str, Any]]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every metadata entry made before synthesis: the stacks' (from the assembly) and those
    of the App, Stages and anything else outside a stack (from the tree)."""
    for metadata in stack_metadata:
        for path, entries in metadata.items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, Mapping):
                    yield str(path).lstrip("/"), entry
    stack: list[IConstruct] = [app]
    while stack:
        construct = stack.pop()
        for m in construct.node.metadata:
            yield construct.node.path, {"type": m.type, "data": m.data}
        stack.extend(c for c in construct.node.children if not cdk.Stack.is_stack(c))


def stack_metadata_for(template_path: Path) -> Mapping[str, Any]:
    """The metadata CDK wrote for the stack whose template is `template_path`."""
    manifest_path = template_path.parent / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    for artifact in (manifest.get("artifacts") or {}).values():
        props = artifact.get("properties") or {}
        if props.get("templateFile") != template_path.name:
            continue
        extra = artifact.get("additionalMetadataFile")
        if isinstance(extra, str):
            try:
                data = json.loads((template_path.parent / extra).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, Mapping) else {}
        inline = artifact.get("metadata")
        return inline if isinstance(inline, Mapping) else {}
    return {}


def paste_call(stack_path: str, path: str, rule_id: str) -> str:
    """The Python call that acknowledges `rule_id` on the construct at `path`."""
    rest = path[len(stack_path) :].strip("/").split("/") if path.startswith(stack_path) else []
    if rest and rest[-1] == "Resource" and len(rest) > 1:
        rest = rest[:-1]  # the L2 that owns the CfnResource
    chain = "".join(f".node.find_child({part!r})" for part in rest)
    return f'acknowledge(stack{chain}, "{rule_id}", reason="<why the risk is acceptable>")'
