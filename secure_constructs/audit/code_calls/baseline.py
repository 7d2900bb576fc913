"""Unused grants in the permissions baseline: the gate can fail when a function gains one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from secure_constructs.audit.code_calls.compare import FunctionCheck


def unused_entries(checks: Sequence[FunctionCheck]) -> dict[str, list[str]]:
    """function key -> sorted "action @ statement" of its unused grants."""
    return {
        c.key: sorted({f"{u.action} @ {u.statement}" for u in c.unused})
        for c in sorted(checks, key=lambda c: c.key)
        if c.unused
    }


def read_unused(path: Path) -> dict[str, list[str]]:
    """The unused grants recorded in a baseline file ({} in a baseline written before them).
    The file itself is validated by permissions.read_baseline."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    unused = data.get("unused") if isinstance(data, Mapping) else None
    if not isinstance(unused, Mapping):
        return {}
    return {str(k): [str(e) for e in v] for k, v in unused.items() if isinstance(v, list)}


def new_unused(
    checks: Sequence[FunctionCheck], baseline: Mapping[str, list[str]] | None
) -> list[tuple[str, str]]:
    """(function, entry) unused now and not in the baseline (all of them without a baseline)."""
    before = baseline or {}
    return [
        (key, entry)
        for key, entries in unused_entries(checks).items()
        for entry in entries
        if entry not in before.get(key, [])
    ]
