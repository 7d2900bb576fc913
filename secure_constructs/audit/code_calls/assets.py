"""Where a function's code is: the asset directory of a cloud assembly, or inline code.

CDK records the asset either in the function's `aws:asset:path` metadata or (with asset
metadata off) only in `<stack>.assets.json`, keyed by the hash that is the S3 key's stem.
Container images, zip-file assets, non-Python runtimes and code outside the assembly are
"not analysed" with the reason, never clean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FunctionCode:
    """The code of one function: a directory and the handler, or why there is none to read."""

    root: Path | None
    handler: str
    reason: str | None = None  # set when the code cannot be analysed


def asset_sources(assembly: Path | None) -> dict[str, Path]:
    """Asset hash -> source path, from every assets manifest of the assembly."""
    found: dict[str, Path] = {}
    if assembly is None:
        return found
    for manifest in assembly.glob("*.assets.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = data.get("files") if isinstance(data, Mapping) else None
        for key, entry in (files or {}).items():
            source = entry.get("source") if isinstance(entry, Mapping) else None
            path = source.get("path") if isinstance(source, Mapping) else None
            if isinstance(path, str):
                found[str(key)] = assembly / path
    return found


def function_code(
    resource: Mapping[str, Any], assembly: Path | None, sources: Mapping[str, Path]
) -> FunctionCode:
    props = resource.get("Properties")
    props = props if isinstance(props, Mapping) else {}
    handler = props.get("Handler")
    if props.get("PackageType") == "Image":
        return FunctionCode(None, "", "a container image: its code is not in the template")
    runtime = props.get("Runtime")
    if not isinstance(runtime, str) or not runtime.startswith("python"):
        return FunctionCode(None, "", f"runtime {runtime!r} is not Python")
    if not isinstance(handler, str) or not handler:
        return FunctionCode(None, "", "the handler is not a literal string")
    code = props.get("Code")
    code = code if isinstance(code, Mapping) else {}
    if "ZipFile" in code:
        return FunctionCode(None, handler, "inline code (Code.ZipFile)")
    metadata = resource.get("Metadata")
    path: Path | None = None
    if isinstance(metadata, Mapping) and isinstance(metadata.get("aws:asset:path"), str):
        relative = Path(metadata["aws:asset:path"])
        path = relative if relative.is_absolute() or assembly is None else assembly / relative
    else:
        key = code.get("S3Key")
        stem = key.split(".", 1)[0] if isinstance(key, str) else None
        path = sources.get(stem) if stem else None
    if path is None:
        return FunctionCode(None, handler, "the code is not an asset of a cloud assembly")
    if path.is_file():
        return FunctionCode(None, handler, f"a zip-file asset ({path.name}): unzipped code only")
    if not path.is_dir():
        return FunctionCode(None, handler, f"the asset {path} is not on disk")
    return FunctionCode(path, handler)
