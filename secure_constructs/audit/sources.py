"""Loading what the commands read: cloud assemblies (`cdk.out`) and template files.

A cloud assembly gives us its stack templates, the acknowledgements recorded in the stacks'
metadata and CDK's validation report (cdk-nag's findings). A template file is JSON or YAML;
YAML goes through cfn-lint's decoder, which understands the short intrinsic tags (`!Ref`,
`!Sub`, `!GetAtt` ...). Every problem with the input is an `InputError` with a one-line message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_constructs.checks.nested import stack_templates

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
_ACK_METADATA = "aws:cdk:acknowledged-rules"
_INTENT_METADATA = "secure-constructs:acknowledge"  # checks.gate.INTENT_METADATA


class InputError(Exception):
    """Bad input for a command: printed as one line on stderr, exit code 2."""


@dataclass(frozen=True)
class Acknowledgement:
    """One `Validations.of(c).acknowledge(...)` recorded in a cloud assembly."""

    rule_id: str  # namespaced and granular, e.g. "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
    reason: str
    at: str  # construct path, e.g. "Stack/Fn/ServiceRole"
    stack: str
    # made by secure_constructs.acknowledge(): it covers `at` and these companions' subtrees
    targets: tuple[str, ...] = ()
    via_gate: bool = False
    # written as resource Metadata (audit/template_acks.py): the gate of a template CDK did not
    # make; in a CDK-made template it is a way around acknowledge() (via_gate False)
    in_template: bool = False

    def covers(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in (self.at, *self.targets))

    @property
    def namespace(self) -> str:
        return self.rule_id.split("::", 1)[0] if "::" in self.rule_id else ""


@dataclass(frozen=True)
class PluginResult:
    """One violating construct of a finding in CDK's validation report (e.g. cdk-nag's)."""

    pack: str
    rule_name: str  # granular, e.g. "AwsSolutions-IAM5[Resource::*]"
    description: str
    severity: str
    construct_path: str
    fix: str = ""
    acknowledged_id: str | None = None
    reason: str | None = None
    acknowledged_at: str | None = None
    # set when the finding's template resource is known (`audit --nag` on a plain template)
    logical_id: str | None = None
    stack_name: str | None = None


@dataclass
class StackSource:
    """One template to audit, with what the cloud assembly knows about it."""

    name: str
    body: Mapping[str, Any]
    path: Path
    assembly: Path | None = None
    text: str | None = None
    construct_paths: dict[str, str] = field(default_factory=dict)  # logical id -> path
    # a SAM template: generated logical id -> the SAM resource it came from (MyFnRole -> MyFn)
    sam_origins: dict[str, str] | None = None
    sam_resources: Mapping[str, Any] | None = None  # the SAM template's own Resources
    # the cdk-nag packs `audit --nag` ran on this template (their report names: AwsSolutions...)
    nag_packs: frozenset[str] = frozenset()
    # the literal account of the stack's environment in the cloud assembly (None: env-agnostic
    # or not from an assembly)
    account: str | None = None
    _by_path: dict[str, str] | None = field(default=None, repr=False)

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        res = self.body.get("Resources")
        return res if isinstance(res, Mapping) else {}

    def logical_id_of(self, construct_path: str) -> str | None:
        """The logical id of the resource at `construct_path` (or of its `Resource` child)."""
        if self._by_path is None or len(self._by_path) != len(self.construct_paths):
            self._by_path = {p: lid for lid, p in self.construct_paths.items()}
        for candidate in (construct_path, f"{construct_path}/Resource"):
            if candidate in self._by_path:
                return self._by_path[candidate]
        return None

    @property
    def uri(self) -> str:
        """The template path as a relative (POSIX) path when under the working directory."""
        try:
            rel = os.path.relpath(self.path)
        except ValueError:
            return self.path.resolve().as_uri()
        if rel.startswith(".."):
            return self.path.resolve().as_uri()
        return Path(rel).as_posix()


@dataclass
class Inputs:
    """Everything loaded from the command line's paths."""

    stacks: list[StackSource] = field(default_factory=list)
    plugin_results: list[PluginResult] = field(default_factory=list)
    plugins_run: set[str] = field(default_factory=set)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    assemblies: list[Path] = field(default_factory=list)
    reports_read: int = 0
    # "<path>: <why>" for every given or found file that could not be read as a template: the
    # run goes on with the others, reports these, and exits 2 (fails closed) at the end.
    file_errors: list[str] = field(default_factory=list)


def load(paths: Iterable[str | Path]) -> Inputs:
    """Load every path: a cloud assembly, a folder (searched recursively) or a template file.

    A path or found file that cannot be read is a per-file error in `Inputs.file_errors`; the
    others are still loaded. InputError only when nothing at all was given.
    """
    inputs = Inputs()
    given = list(paths)
    if not given:
        raise InputError("no PATH given: pass a cloud assembly (cdk.out) or template files")
    for raw in given:
        path = Path(raw)
        try:
            if not path.exists():
                raise InputError(f"{raw}: no such file or directory")
            if path.is_dir():
                _load_dir(path, inputs)
            else:
                inputs.stacks.append(load_template_file(path))
        except InputError as error:
            inputs.file_errors.append(str(error))
    _dedupe_names(inputs.stacks)
    return inputs


def load_template_file(path: Path, *, name: str | None = None) -> StackSource:
    """One JSON or YAML CloudFormation template, or an InputError saying why not."""
    text = _read_text(path)
    body = parse_template_text(text, str(path))
    _require_template(body, str(path))
    sam_origins = sam_resources = None
    if "Transform" in body:
        from secure_constructs.audit.sam import TransformError, translate

        sam_resources = body.get("Resources")
        try:
            body, sam_origins = translate(body)
        except TransformError as error:
            raise InputError(f"{path}: {error}") from None
    return StackSource(
        name=name or _stem(path),
        body=body,
        path=path,
        text=text,
        construct_paths=_paths_from_template(body),
        sam_origins=sam_origins,
        sam_resources=sam_resources,
    )


def parse_template_text(text: str, where: str) -> Mapping[str, Any]:
    """JSON with the standard library (fast); anything else as YAML with cfn-lint's decoder."""
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{where}: the file is empty, not a CloudFormation template")
    if stripped.startswith(("{", "[")):
        try:
            body = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                f"{where}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
    else:
        body = _parse_yaml(text, where)
    if not isinstance(body, Mapping):
        raise InputError(f"{where}: not a CloudFormation template (the top level is not a mapping)")
    return body


def _parse_yaml(text: str, where: str) -> Any:
    import yaml

    from secure_constructs.audit.yaml_template import DuplicateKeyError, loads

    try:
        return loads(text)
    except DuplicateKeyError as error:
        raise InputError(f"{where}: not valid JSON or YAML: {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(
            f"{where}: not valid JSON or YAML: {_one_line(str(error.problem or error))}{at}"
        ) from None
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        raise InputError(f"{where}: not valid JSON or YAML: {_one_line(str(error))}") from None


def _require_template(body: Mapping[str, Any], where: str) -> None:
    resources = body.get("Resources")
    if not isinstance(resources, Mapping):
        raise InputError(
            f"{where}: not a CloudFormation template (no Resources mapping at the top level)"
        )
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            raise InputError(
                f"{where}: not a CloudFormation template (resource {logical_id} has no Type)"
            )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (not UTF-8), not a template") from None


def _read_json(path: Path, what: str) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: {what} is not valid JSON: {error.msg}") from None


# Folders never holding the user's templates: tools' caches and dependencies.
_SKIPPED_DIRS = frozenset({"node_modules", ".git", "__pycache__", ".venv", "venv", ".aws-sam"})
# Text that marks a file as meant to be a CloudFormation template even when it does not parse.
_TEMPLATE_MARKERS = re.compile(r"AWSTemplateFormatVersion|AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")


def _load_dir(directory: Path, inputs: Inputs) -> None:
    """A cloud assembly (manifest.json), or a folder searched recursively for templates."""
    if (directory / "manifest.json").is_file():
        _load_assembly(directory, inputs)
        return
    found = _walk(directory, inputs)
    if found == 0:
        raise InputError(
            f"{directory}: not a cloud assembly (no manifest.json) and holds no "
            "CloudFormation templates (*.json, *.yaml, *.yml, *.template), nor any folder does"
        )


def _walk(directory: Path, inputs: Inputs) -> int:
    """Templates and assemblies under `directory`; how many stacks were loaded or refused."""
    found = 0
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            if path.name in _SKIPPED_DIRS or path.name.startswith("."):
                continue
            if (path / "manifest.json").is_file():
                before = len(inputs.stacks)
                try:
                    _load_assembly(path, inputs)
                except InputError as error:
                    inputs.file_errors.append(str(error))
                    found += 1
                found += len(inputs.stacks) - before
            else:
                found += _walk(path, inputs)
            continue
        if not path.is_file() or not path.name.endswith(TEMPLATE_SUFFIXES):
            continue
        if path.name.endswith(".template.json") and (path.parent / "manifest.json").is_file():
            continue  # an assembly's own templates are read through its manifest
        try:
            source = load_template_file(path)
        except InputError as error:
            if _looks_like_template(path):  # a broken template fails closed; package.json not
                inputs.file_errors.append(str(error))
                found += 1
            continue
        inputs.stacks.append(source)
        found += 1
    return found


def _looks_like_template(path: Path) -> bool:
    """Whether a file that did not load was meant as a template (recognised by its content)."""
    try:
        head = path.read_bytes()[:65536].decode("utf-8", errors="replace")
    except OSError:
        return True
    return _TEMPLATE_MARKERS.search(head) is not None and "Resources" in head


def _load_assembly(directory: Path, inputs: Inputs) -> None:
    manifest = _read_json(directory / "manifest.json", "the cloud assembly manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, Mapping) else None
    if not isinstance(artifacts, Mapping):
        raise InputError(f"{directory}/manifest.json: not a cloud assembly manifest (no artifacts)")
    inputs.assemblies.append(directory)
    before = len(inputs.stacks)
    nested_paths: dict[Path, dict[str, str]] = {}  # template -> logical id -> construct path
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, Mapping):
            continue
        kind = artifact.get("type")
        props = artifact.get("properties") or {}
        if kind == "aws:cloudformation:stack":
            template_file = props.get("templateFile")
            if not isinstance(template_file, str):
                raise InputError(
                    f"{directory}/manifest.json: stack {artifact_id} has no templateFile"
                )
            name = artifact.get("displayName") or artifact_id
            source = load_template_file(directory / template_file, name=str(name))
            source.assembly = directory
            source.account = environment_account(artifact.get("environment"))
            metadata = _stack_metadata(directory, artifact)
            # the stack's own resources and its nested stacks' (their constructs' metadata is
            # the parent's), each told apart by stack as the synth plugin does
            for unit in stack_templates(str(name), directory / template_file, metadata):
                nested_paths[unit.template_path.resolve()] = unit.paths
            _add_paths(source, nested_paths.get(source.path.resolve(), {}))
            inputs.stacks.append(source)
            inputs.acknowledgements.extend(_acknowledgements(metadata, source.name))
            inputs.acknowledgements.extend(_intents(metadata, source.name))
        elif kind == "cdk:cloud-assembly":  # a Stage: a nested assembly
            nested = props.get("directoryName")
            if isinstance(nested, str) and (directory / nested / "manifest.json").is_file():
                _load_assembly(directory / nested, inputs)
    # NestedStack templates are assets of their parent, not artifacts of the manifest.
    for nested in sorted(directory.glob("*.nested.template.json")):
        source = load_template_file(nested, name=nested.name.removesuffix(".nested.template.json"))
        source.assembly = directory
        _add_paths(source, nested_paths.get(nested.resolve(), {}))
        inputs.stacks.append(source)
    report = directory / "validation-report.json"
    if report.is_file():
        _load_validation_report(report, inputs)
    if len(inputs.stacks) == before and not any(
        isinstance(a, Mapping) and a.get("type") == "cdk:cloud-assembly" for a in artifacts.values()
    ):
        raise InputError(f"{directory}: the cloud assembly holds no CloudFormation stacks")


_ENVIRONMENT = re.compile(r"^aws://(\d{12})/")


def environment_account(environment: Any) -> str | None:
    """The account of a manifest's `aws://ACCOUNT/REGION` environment; None for
    `aws://unknown-account/...` (an env-agnostic stack) or anything else."""
    match = _ENVIRONMENT.match(environment) if isinstance(environment, str) else None
    return match.group(1) if match else None


def _stack_metadata(directory: Path, artifact: Mapping[str, Any]) -> Mapping[str, Any]:
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str) and (directory / extra).is_file():
        data = _read_json(directory / extra, "the stack metadata file")
        return data if isinstance(data, Mapping) else {}
    inline = artifact.get("metadata")
    return inline if isinstance(inline, Mapping) else {}


def _entries(metadata: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for path, entries in metadata.items():
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, Mapping):
                    yield str(path).lstrip("/"), entry


def _add_paths(source: StackSource, paths: Mapping[str, str]) -> None:
    """Construct paths from the stack metadata, where the template's aws:cdk:path is missing."""
    for logical_id, path in paths.items():
        source.construct_paths.setdefault(logical_id, path)


def _acknowledgements(metadata: Mapping[str, Any], stack: str) -> list[Acknowledgement]:
    acks = []
    for path, entry in _entries(metadata):
        if entry.get("type") != _ACK_METADATA or not isinstance(entry.get("data"), Mapping):
            continue
        for rule_id, reason in entry["data"].items():
            acks.append(Acknowledgement(str(rule_id), str(reason or ""), path, stack))
    return acks


def _intents(metadata: Mapping[str, Any], stack: str) -> list[Acknowledgement]:
    """The acknowledge() calls recorded in the stack (placed by the gate at synth)."""
    out = []
    for path, entry in _entries(metadata):
        data = entry.get("data")
        if entry.get("type") != _INTENT_METADATA or not isinstance(data, Mapping):
            continue
        targets = data.get("targets")
        out.append(
            Acknowledgement(
                str(data.get("id", "")),
                str(data.get("reason") or ""),
                path,
                stack,
                targets=tuple(str(t) for t in targets) if isinstance(targets, list) else (),
                via_gate=True,
            )
        )
    return out


def _paths_from_template(body: Mapping[str, Any]) -> dict[str, str]:
    paths = {}
    resources = body.get("Resources")
    if isinstance(resources, Mapping):
        for logical_id, resource in resources.items():
            meta = resource.get("Metadata") if isinstance(resource, Mapping) else None
            path = meta.get("aws:cdk:path") if isinstance(meta, Mapping) else None
            if isinstance(path, str):
                paths[str(logical_id)] = path
    return paths


def _load_validation_report(path: Path, inputs: Inputs) -> None:
    report = _read_json(path, "CDK's validation report")
    plugins = report.get("pluginReports") if isinstance(report, Mapping) else None
    if not isinstance(plugins, list):
        raise InputError(f"{path}: not a CDK validation report (no pluginReports)")
    inputs.reports_read += 1
    for plugin in plugins:
        if not isinstance(plugin, Mapping):
            continue
        pack = str(plugin.get("pluginName", "unknown"))
        inputs.plugins_run.add(pack)
        for violation in plugin.get("violations") or []:
            inputs.plugin_results.extend(_results(pack, violation, suppressed=False))
        for violation in plugin.get("suppressedViolations") or []:
            inputs.plugin_results.extend(_results(pack, violation, suppressed=True))


def _results(pack: str, violation: Any, *, suppressed: bool) -> list[PluginResult]:
    if not isinstance(violation, Mapping):
        return []
    out = []
    for construct in violation.get("violatingConstructs") or []:
        if not isinstance(construct, Mapping):
            continue
        out.append(
            PluginResult(
                pack=pack,
                rule_name=str(violation.get("ruleName", "")),
                description=str(violation.get("description", "")),
                severity=str(violation.get("severity", "error")),
                construct_path=str(construct.get("constructPath", "")),
                fix=str(violation.get("fix") or ""),
                acknowledged_id=violation.get("acknowledgedId") if suppressed else None,
                reason=str(violation.get("reason") or "") if suppressed else None,
                acknowledged_at=violation.get("acknowledgedAt") if suppressed else None,
            )
        )
    return out


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml", ".json", ".template"):
        name = name.removesuffix(suffix)
    return name.removesuffix(".template") or path.name


def _dedupe_names(stacks: list[StackSource]) -> None:
    seen: dict[str, int] = {}
    for stack in stacks:
        seen[stack.name] = seen.get(stack.name, 0) + 1
    for stack in stacks:
        if seen[stack.name] > 1:
            stack.name = stack.uri


def _one_line(text: str) -> str:
    return " ".join(text.split())
