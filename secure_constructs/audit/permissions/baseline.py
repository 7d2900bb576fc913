"""The baseline gate: the permissions recorded in a committed JSON file, and what grew since.

Identity grants are (action, resource-with-condition) entries per principal: a new entry is
growth. Resource-based grants and trust relationships are (principal, action, resource,
conditions) entries per resource; an Allow entry widens when the baseline has no entry for the
same principal, action and resource whose conditions are all still there (a new principal, a
principal widened to `*` or another account, a new action, a condition removed or loosened),
and a Deny entry widens access when it disappears or gains a condition. Adding a condition or
dropping an action or a principal narrows: reported, never failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls.baseline import unused_entries
from secure_constructs.audit.permissions.model import PermissionReport, Reachable
from secure_constructs.audit.sources import InputError

BASELINE_VERSION = 2

# (principal, effect, action, resource) -> conditions
_Entries = dict[tuple[str, str, str, str], list[frozenset[str]]]


@dataclass
class Baseline:
    """A read baseline: identity entries per principal, access entries per reachable resource."""

    principals: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    reach: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class BaselineDiff:
    growth: list[tuple[str, str, str]] = field(default_factory=list)  # (principal, action, entry)
    shrinkage: list[tuple[str, str, str]] = field(default_factory=list)
    # (resource, principal, what): who can reach a resource or become a role
    widened: list[tuple[str, str, str]] = field(default_factory=list)
    narrowed: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether the gate fails: some identity grant grew or some access widened."""
        return bool(self.growth or self.widened)


def reach_entries(item: Reachable) -> list[dict[str, Any]]:
    """The baseline entries of one reachable resource, one per principal, action and resource."""
    # A statement without a Resource (a trust policy, most key policies' own key) or without a
    # readable Action still grants: it must still be an entry, or its growth would pass.
    entries = {
        (a.principal, a.effect, action, resource, a.conditions)
        for a in item.accesses
        for action in a.actions or ("(no action)",)
        for resource in a.resources or ("(this resource)",)
    }
    return [
        {
            "principal": p,
            "effect": e,
            "action": action,
            "resource": r,
            "conditions": sorted(c),
        }
        for p, e, action, r, c in sorted(entries)
    ]


def baseline_of(report: PermissionReport) -> dict[str, Any]:
    return {
        "version": BASELINE_VERSION,
        "generated_by": "secure-constructs permissions --write-baseline",
        "principals": {p.key: p.allowed() for p in sorted(report.principals, key=lambda p: p.key)},
        "reach": {r.key: reach_entries(r) for r in sorted(report.reach, key=lambda r: r.key)},
        "unused": unused_entries(report.code),
    }


def write_baseline(report: PermissionReport, path: Path) -> None:
    try:
        path.write_text(json.dumps(baseline_of(report), indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise InputError(f"{path}: cannot write the baseline: {error.strerror or error}") from None


def read_baseline(path: Path) -> Baseline:
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
    if isinstance(data, Mapping) and data.get("version") == 1:
        raise InputError(
            f"{path}: a permissions baseline of version 1, written before resource-based grants, "
            f"trust relationships and the ARN forms of version {BASELINE_VERSION} "
            "(rewrite it with --write-baseline)"
        )
    if not _valid(data):
        raise InputError(
            f"{path}: not a permissions baseline of version {BASELINE_VERSION} "
            "(rewrite it with --write-baseline)"
        )
    return Baseline(
        principals={
            k: {a: [str(e) for e in v] for a, v in actions.items()}
            for k, actions in data["principals"].items()
        },
        reach={k: list(v) for k, v in data["reach"].items()},
    )


def _valid(data: Any) -> bool:
    if not isinstance(data, Mapping) or data.get("version") != BASELINE_VERSION:
        return False
    principals, reach = data.get("principals"), data.get("reach")
    if not isinstance(principals, Mapping) or not isinstance(reach, Mapping):
        return False
    if not all(
        isinstance(actions, Mapping) and all(isinstance(v, list) for v in actions.values())
        for actions in principals.values()
    ):
        return False
    keys = {"principal", "effect", "action", "resource", "conditions"}
    return all(
        isinstance(entries, list)
        and all(
            isinstance(e, Mapping)
            and keys <= set(e)
            and isinstance(e["conditions"], list)
            and all(isinstance(e[k], str) for k in keys - {"conditions"})
            for e in entries
        )
        for entries in reach.values()
    )


def compare(report: PermissionReport, baseline: Baseline) -> BaselineDiff:
    """What each principal gained and lost, and who can now reach more, against the baseline."""
    diff = BaselineDiff()
    current = {p.key: p.allowed() for p in report.principals}
    for key in sorted(set(current) | set(baseline.principals)):
        now, before = current.get(key, {}), baseline.principals.get(key, {})
        for action in sorted(set(now) | set(before)):
            new, old = set(now.get(action, [])), set(before.get(action, []))
            diff.growth.extend((key, action, e) for e in sorted(new - old))
            diff.shrinkage.extend((key, action, e) for e in sorted(old - new))
    reach_now = {r.key: _index(reach_entries(r)) for r in report.reach}
    for key in sorted(set(reach_now) | set(baseline.reach)):
        now_entries = reach_now.get(key, {})
        before_entries = _index(baseline.reach.get(key, []))
        widened, narrowed = _reach_changes(now_entries, before_entries)
        diff.widened.extend((key, p, what) for p, what in widened)
        diff.narrowed.extend((key, p, what) for p, what in narrowed)
    return diff


def _index(entries: list[dict[str, Any]]) -> _Entries:
    table: _Entries = {}
    for e in entries:
        key = (str(e["principal"]), str(e["effect"]), str(e["action"]), str(e["resource"]))
        table.setdefault(key, []).append(frozenset(str(c) for c in e["conditions"]))
    return table


def _describe(action: str, resource: str, conditions: frozenset[str], effect: str) -> str:
    deny = "DENY " if effect != "Allow" else ""
    when = f" if {'; '.join(sorted(conditions))}" if conditions else ""
    return f"{deny}{action} on {resource}{when}"


def _reach_changes(
    now: _Entries, before: _Entries
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    widened: list[tuple[str, str]] = []
    narrowed: list[tuple[str, str]] = []
    for (principal, effect, action, resource), conditions in sorted(now.items()):
        old = before.get((principal, effect, action, resource), [])
        for c in conditions:
            if c in old:
                continue
            # An Allow is covered by an old one whose conditions all remain (it is narrower or
            # equal); a Deny by an old one with all of the new one's conditions (it denies more).
            covered = any(b <= c for b in old) if effect == "Allow" else any(c <= b for b in old)
            target = narrowed if covered or effect != "Allow" else widened
            target.append((principal, _describe(action, resource, c, effect)))
    for (principal, effect, action, resource), conditions in sorted(before.items()):
        new = now.get((principal, effect, action, resource), [])
        for b in conditions:
            if b in new:
                continue
            if effect == "Allow":
                narrowed.append((principal, "no longer: " + _describe(action, resource, b, effect)))
                continue
            kept = any(c <= b for c in new)  # a Deny that still denies at least as much
            target = narrowed if kept else widened
            target.append((principal, "removed: " + _describe(action, resource, b, effect)))
    return widened, narrowed
