"""The values a property can deploy as when conditions choose it: each `Fn::If` branch (nested
ones too), `None` where a branch is `AWS::NoValue` (the property is then absent)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secure_constructs.checks.cfn import MAX_RENDERINGS, intrinsic

NO_VALUE = {"Ref": "AWS::NoValue"}


def branches(value: Any) -> list[Any]:
    """Every value `value` can take: `Fn::If` expanded (at most MAX_RENDERINGS), `None` for an
    absent property or an `AWS::NoValue` branch; any other value as it is."""
    if value is None or value == NO_VALUE:
        return [None]
    call = intrinsic(value)
    if call is None or call[0] != "Fn::If":
        return [value]
    argument = call[1]
    if not (isinstance(argument, list) and len(argument) == 3):
        return [value]
    return (branches(argument[1]) + branches(argument[2]))[:MAX_RENDERINGS]


def every_branch(value: Any, holds: Callable[[Any], bool]) -> bool:
    """Whether `holds` is true of every value `value` can take (`branches`)."""
    return all(holds(branch) for branch in branches(value))
