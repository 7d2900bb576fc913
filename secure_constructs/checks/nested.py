"""NestedStack templates: from an `AWS::CloudFormation::Stack` resource to the template CDK wrote.

A `cdk.NestedStack` is not an artifact of the cloud assembly: CDK writes its template as a file
asset of the parent stack (`<uniqueId>.nested.template.json`, in the parent's assembly folder)
and the parent's template holds an `AWS::CloudFormation::Stack` resource whose `TemplateURL` is
the asset's S3 URL. Where the template is, CDK says in two places, both read here:

- the resource's `aws:asset:path` metadata (relative to the assembly folder), written when asset
  metadata is on (the CLI's default, `aws:cdk:enable-asset-metadata`);
- the parent's assets manifest (`<stack>.assets.json`), whose file asset with the `objectKey`
  that ends the `TemplateURL` names the source file (asset metadata off, e.g. `App()` in a test).

A stack resource found in neither (a hand-written `CfnStack` with a URL of its own, the legacy
synthesizer) has no template to check: the rule `NestedStackTemplate` reports it, and a
template that cannot be read, as an ERROR (fail closed). Pure Python, no jsii: the synth plugin
and the audit read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
ASSET_PATH_METADATA = "aws:asset:path"  # cxapi.ASSET_RESOURCE_METADATA_PATH_KEY
CDK_PATH_METADATA = "aws:cdk:path"
LOGICAL_ID_METADATA = "aws:cdk:logicalId"
# NestedStack(scope, "X") puts its CfnStack at scope/X.NestedStack/X.NestedStackResource.
_WRAPPER_SUFFIX = ".NestedStack"
_RESOURCE_SUFFIX = ".NestedStackResource"


@dataclass(frozen=True)
class Located:
    """Where a stack resource's template is (`path`), or why it cannot be read (`problem`)."""

    path: Path | None
    problem: str | None = None
    body: Mapping[str, Any] | None = None


def stack_resources(body: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(logical id, resource) of every `AWS::CloudFormation::Stack` of a template."""
    resources = body.get("Resources")
    for logical_id, resource in (resources if isinstance(resources, Mapping) else {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == NESTED_STACK_TYPE:
            yield str(logical_id), resource


def locate(resource: Mapping[str, Any], assembly_dir: Path | None) -> Located:
    """The template of one stack resource, read, or the reason it cannot be checked."""
    file = _asset_path(resource, assembly_dir) or _from_assets_manifest(resource, assembly_dir)
    if file is None:
        return Located(
            None,
            "its template is not in the cloud assembly (no aws:asset:path metadata and no "
            "file asset for its TemplateURL), so nothing in it is checked",
        )
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return Located(file, f"its template {file.name} cannot be read ({error})")
    if not isinstance(body, Mapping):
        return Located(file, f"its template {file.name} is not a CloudFormation template")
    return Located(file, None, body)


def _asset_path(resource: Mapping[str, Any], assembly_dir: Path | None) -> Path | None:
    metadata = resource.get("Metadata")
    relative = metadata.get(ASSET_PATH_METADATA) if isinstance(metadata, Mapping) else None
    if not isinstance(relative, str) or not relative:
        return None
    if Path(relative).is_absolute():
        return Path(relative)
    return assembly_dir / relative if assembly_dir is not None else None


def _from_assets_manifest(resource: Mapping[str, Any], assembly_dir: Path | None) -> Path | None:
    """The source of the file asset whose objectKey ends the resource's TemplateURL."""
    props = resource.get("Properties")
    url = props.get("TemplateURL") if isinstance(props, Mapping) else None
    tail = _last_literal(url)
    if assembly_dir is None or not tail or "/" not in tail:
        return None
    key = tail.rsplit("/", 1)[1]
    for manifest in sorted(assembly_dir.glob("*.assets.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = data.get("files") if isinstance(data, Mapping) else None
        for entry in (files if isinstance(files, Mapping) else {}).values():
            if _publishes(entry, key):
                return assembly_dir / str(entry["source"]["path"])
    return None


def _publishes(entry: Any, key: str) -> bool:
    if not isinstance(entry, Mapping):
        return False
    source = entry.get("source")
    destinations = entry.get("destinations")
    if not isinstance(source, Mapping) or not isinstance(source.get("path"), str):
        return False
    return any(
        isinstance(d, Mapping) and d.get("objectKey") == key
        for d in (destinations if isinstance(destinations, Mapping) else {}).values()
    )


def _last_literal(value: Any) -> str | None:
    """The last literal piece of a URL: the string itself, or Fn::Join's last string part."""
    if isinstance(value, str):
        return value
    join = value.get("Fn::Join") if isinstance(value, Mapping) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list) and join[1]:
        last = join[1][-1]
        return last if isinstance(last, str) else None
    return None


def nested_stack_path(resource_path: str) -> str:
    """The NestedStack's construct path from its CfnStack's (`P/X.NestedStack/X.NestedStackResource`
    -> `P/X`); the resource's own path when CDK's naming is not recognised."""
    parts = resource_path.split("/")
    if len(parts) >= 2 and parts[-1].endswith(_RESOURCE_SUFFIX):
        name = parts[-1].removesuffix(_RESOURCE_SUFFIX)
        if parts[-2] == name + _WRAPPER_SUFFIX:
            return "/".join([*parts[:-2], name])
    return resource_path


@dataclass
class StackTemplate:
    """One template to check: a top-level stack's, or a nested stack's found through it."""

    stack_path: str  # the construct path of the stack (of the NestedStack, for a nested one)
    template_path: Path
    body: Mapping[str, Any]
    top_path: str  # the top-level stack whose artifact holds this one
    paths: dict[str, str] = field(default_factory=dict)  # logical id -> construct path

    @property
    def nested(self) -> bool:
        return self.stack_path != self.top_path


def stack_templates(
    top_path: str, template_path: Path, metadata: Mapping[str, Any]
) -> list[StackTemplate]:
    """The top-level stack's template and every nested template under it, recursively.

    `metadata` is the top-level stack's artifact metadata, which CDK writes for the constructs
    of its nested stacks too: it gives construct paths where the templates carry no
    `aws:cdk:path`. A stack resource whose template cannot be located or read is left out here
    (the rule `NestedStackTemplate` reports it); a template reached twice is read once. A
    top-level template that cannot be read raises, as the engine does.
    """
    body = json.loads(template_path.read_text(encoding="utf-8"))  # unreadable: the synth fails
    entries = list(_logical_id_entries(metadata))
    stacks = {top_path} | {nested_stack_path(p) for p, _ in entries if p.endswith(_RESOURCE_SUFFIX)}
    body = body if isinstance(body, Mapping) else {}
    top = StackTemplate(top_path, template_path, body, top_path)
    out = [top]
    seen = {template_path.resolve()}
    queue = [top]
    while queue:
        unit = queue.pop(0)
        unit.paths = _resource_paths(unit, entries, stacks)
        for logical_id, resource in stack_resources(unit.body):
            found = locate(resource, template_path.parent)
            if found.body is None or found.path is None or found.path.resolve() in seen:
                continue
            seen.add(found.path.resolve())
            where = unit.paths.get(logical_id) or f"{unit.stack_path}/{logical_id}"
            child = StackTemplate(nested_stack_path(where), found.path, found.body, top_path)
            stacks.add(child.stack_path)
            out.append(child)
            queue.append(child)
    return out


def _resource_paths(
    unit: StackTemplate, entries: list[tuple[str, str]], stacks: set[str]
) -> dict[str, str]:
    """Logical id -> construct path: the template's aws:cdk:path, else the metadata entries of
    exactly this stack (logical ids repeat across stacks: they hash the stack-relative path)."""
    paths: dict[str, str] = {}
    resources = unit.body.get("Resources")
    for logical_id, resource in (resources if isinstance(resources, Mapping) else {}).items():
        meta = resource.get("Metadata") if isinstance(resource, Mapping) else None
        if isinstance(meta, Mapping) and isinstance(meta.get(CDK_PATH_METADATA), str):
            paths[str(logical_id)] = meta[CDK_PATH_METADATA]
    for path, logical_id in entries:  # the artifact's entries are its stack's or its nested'
        if (owner(path, stacks) or unit.top_path) == unit.stack_path:
            paths.setdefault(logical_id, path)
    return paths


def owner(path: str, stacks: Iterable[str]) -> str | None:
    """The innermost of `stacks` (construct paths) that holds the construct at `path`."""
    holders = [s for s in stacks if path.startswith(s + "/")]
    return max(holders, key=len) if holders else None


def _logical_id_entries(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for path, entries in metadata.items():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and entry.get("type") == LOGICAL_ID_METADATA:
                yield str(path).lstrip("/"), str(entry.get("data"))
