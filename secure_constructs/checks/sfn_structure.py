"""A Step Functions definition's shape, as the workflow rules need it: the `Definition`
object's `Fn::If` conditions expanded into every body they can deploy as, and the places the
rules read (States, each state and its Type, Retry, the timeouts, nested branches) checked to be
literal, so that an intrinsic there is reported as unreadable instead of passing (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.cfn import MAX_RENDERINGS, intrinsic
from secure_constructs.checks.condition_branches import NO_VALUE
from secure_constructs.facts.stepfunctions_facts import NESTED_STATE_TYPES

_ABSENT = object()
_READ_FIELDS = (
    "Type",
    "Retry",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "Branches",
    "ItemProcessor",
    "Iterator",
)
"""Fields of a state the rules read: none of them may be an intrinsic."""


class TooManyBranchesError(ValueError):
    """The conditions of a definition combine into more than MAX_RENDERINGS bodies."""


def expand_conditions(value: Any) -> list[Any]:
    """Every value `value` can deploy as, each `Fn::If` (at any depth) taking both branches and
    an `AWS::NoValue` dropping its key or item. Raises TooManyBranchesError past MAX_RENDERINGS."""
    found = _expand(value)
    return [v for v in found if v is not _ABSENT]


def _expand(value: Any) -> list[Any]:
    if value == NO_VALUE:
        return [_ABSENT]
    call = intrinsic(value)
    if call is not None:
        name, argument = call
        if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            return _capped(_expand(argument[1]) + _expand(argument[2]))
        return [value]  # another intrinsic: judged where it stands
    if isinstance(value, Mapping):
        variants: list[dict[str, Any]] = [{}]
        for key, item in value.items():
            options = _expand(item)
            variants = _capped(
                [{**v, key: o} if o is not _ABSENT else dict(v) for v in variants for o in options]
            )
        return list(variants)
    if isinstance(value, list):
        lists: list[list[Any]] = [[]]
        for item in value:
            options = _expand(item)
            lists = _capped(
                [[*v, o] if o is not _ABSENT else list(v) for v in lists for o in options]
            )
        return list(lists)
    return [value]


def _capped(found: list[Any]) -> list[Any]:
    if len(found) > MAX_RENDERINGS:
        raise TooManyBranchesError(f"more than {MAX_RENDERINGS} combinations of its conditions")
    return found


def unreadable_part(body: Mapping[str, Any], prefix: str = "") -> str | None:
    """Where the rules cannot read `body` (States not an object, a state that is not an object
    with a literal Type, an intrinsic in a field the rules read), or None."""
    if intrinsic(body.get("TimeoutSeconds")) is not None:
        return f"{prefix}TimeoutSeconds is an intrinsic"
    listed = body.get("States")
    if not isinstance(listed, Mapping) or intrinsic(listed) is not None:
        return f"{prefix}States is not an object of states"
    for name, state in listed.items():
        path = f"{prefix}{name}"
        if not isinstance(state, Mapping) or intrinsic(state) is not None:
            return f"state {path} is not an object"
        if not isinstance(state.get("Type"), str):
            return f"state {path} has no literal Type"
        for field in _READ_FIELDS:
            if intrinsic(state.get(field)) is not None:
                return f"the {field} of state {path} is an intrinsic"
        retry = state.get("Retry")
        if isinstance(retry, list) and any(intrinsic(r) is not None for r in retry):
            return f"a retrier of state {path} is an intrinsic"
        if state["Type"] in NESTED_STATE_TYPES:
            found = _nested_unreadable(state, f"{path}/")
            if found:
                return found
    return None


def _nested_unreadable(state: Mapping[str, Any], prefix: str) -> str | None:
    branches = state.get("Branches")
    nested = list(branches) if isinstance(branches, list) else []
    nested += [state[k] for k in ("ItemProcessor", "Iterator") if k in state]
    for index, branch in enumerate(nested):
        if not isinstance(branch, Mapping):
            return f"branch {prefix}{index} is not an object"
        found = unreadable_part(branch, f"{prefix}{index}/")
        if found:
            return found
    return None
