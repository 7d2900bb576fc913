"""Read a pip requirements file and say which requirements are not pinned with a hash.

Pure Python (no aws_cdk): shared by `PythonCode.bundle`, which refuses such a file before it
installs anything, and by the `RequirementsPinned` rule, which finds one inside a synthesized
function asset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `name[extras]==version` with an optional environment marker; anything else is not an exact pin.
_PINNED = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*(?P<version>[^\s;*,]+)\s*(?:;.*)?$"
)
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_HASH = re.compile(r"--hash[=\s]+(?P<algo>sha256|sha384|sha512):(?P<digest>[0-9a-fA-F]+)")
# Options that may stand on their own line without weakening the pins.
_HARMLESS_OPTIONS = ("--only-binary", "--no-binary", "--prefer-binary", "--require-hashes")


@dataclass(frozen=True)
class RequirementProblem:
    """One line of a requirements file that is not pinned to an exact version with a hash."""

    line: int
    name: str
    reason: str


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of every requirement or option, continuations joined."""
    out: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.rstrip().endswith("\\"):
            buffer.append(line.rstrip()[:-1])
            continue
        buffer.append(line)
        joined = " ".join(part.strip() for part in buffer).strip()
        buffer = []
        if joined:
            out.append((start, joined))
    if buffer:
        joined = " ".join(part.strip() for part in buffer).strip()
        if joined:
            out.append((start, joined))
    return out


def requirement_problems(text: str) -> list[RequirementProblem]:
    """Every requirement that is not `name==version` with at least one `--hash=sha256:...`.

    Includes of other files (`-r`, `-c`), editable installs, URLs and index options are
    problems too: they bring in code that this file does not pin.
    """
    problems: list[RequirementProblem] = []
    for number, line in logical_lines(text):
        if line.startswith("-"):
            if line.startswith(_HARMLESS_OPTIONS):
                continue
            option = line.split()[0]
            problems.append(
                RequirementProblem(
                    number,
                    option,
                    f"the option {option} brings in packages or indexes this file does not pin",
                )
            )
            continue
        spec = _HASH.sub("", line).strip()
        match = _PINNED.match(spec)
        name_match = match or _NAME.match(spec)
        name = name_match.group("name") if name_match else spec.split()[0]
        if "://" in spec or " @ " in spec:
            problems.append(RequirementProblem(number, name, "a URL or direct reference"))
        elif match is None:
            problems.append(
                RequirementProblem(number, name, "not pinned to one exact version (name==x.y.z)")
            )
        elif not _HASH.search(line):
            problems.append(RequirementProblem(number, name, "pinned without --hash=sha256:..."))
    return problems


def pinned_names(text: str) -> list[str]:
    """The names of the requirements in the file (pinned or not), in order."""
    names: list[str] = []
    for _, line in logical_lines(text):
        if line.startswith("-"):
            continue
        match = _NAME.match(line)
        if match:
            names.append(match.group("name"))
    return names
