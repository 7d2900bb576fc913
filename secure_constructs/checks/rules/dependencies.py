"""Rules over the dependencies shipped inside function and layer assets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.requirements import requirement_problems

REQUIREMENTS_FILE = "requirements.txt"
_ASSET_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Serverless::Function")


@rule(
    "RequirementsPinned",
    granular=True,
    practice=Practice.DEPENDENCIES,
    applies_to=_ASSET_TYPES,
    applies_if=lambda t: any(True for _ in _assets(t)),
    summary="A function or layer asset ships a requirements.txt with an unpinned or unhashed "
    "requirement.",
    explanation="A requirement without an exact version and a --hash installs whatever the "
    "index serves on the day of the build: a compromised or yanked release, or a different "
    "build of the same version, lands in production unreviewed. Pin every requirement "
    "(name==version) with its hashes, e.g. with `pip-compile --generate-hashes`, install "
    "with `pip install --require-hashes` (secure_constructs.PythonCode.bundle does both), and "
    "let Dependabot and pip-audit propose and check the upgrades.",
)
def requirements_pinned(t: Template) -> Iterator[Violation]:
    for logical_id, asset in _assets(t):
        requirements = asset / REQUIREMENTS_FILE
        if not requirements.is_file():
            continue
        text = requirements.read_text(encoding="utf-8", errors="replace")
        for problem in requirement_problems(text):
            yield Violation(
                logical_id,
                f"Metadata/aws:asset:path/{REQUIREMENTS_FILE}:{problem.line}",
                f"{REQUIREMENTS_FILE} of the asset: {problem.name} is {problem.reason}",
                "pin it with its hashes (`pip-compile --generate-hashes`) and bundle with "
                "secure_constructs.PythonCode.bundle(path, requirements=...)",
                finding_id=problem.name,
            )


def _assets(t: Template) -> Iterator[tuple[str, Path]]:
    """(logical id, local asset directory) of every function or layer with a local asset."""
    if t.assembly_dir is None:
        return
    for logical_id, resource in t.resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") not in _ASSET_TYPES:
            continue
        asset = _asset_dir(t.assembly_dir, resource.get("Metadata"))
        if asset is not None:
            yield logical_id, asset


def _asset_dir(assembly_dir: Path, metadata: Any) -> Path | None:
    if not isinstance(metadata, Mapping):
        return None
    relative = metadata.get("aws:asset:path")
    if not isinstance(relative, str) or not relative:
        return None
    asset = Path(relative) if Path(relative).is_absolute() else assembly_dir / relative
    return asset if asset.is_dir() else None


RULES = (requirements_pinned,)
