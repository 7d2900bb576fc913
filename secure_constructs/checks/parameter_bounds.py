"""The numbers a template parameter can take, as far as the template says: the range its
`AllowedValues` (all numeric) or `MinValue`/`MaxValue` allow. Used wherever a rule judges a
numeric property that a deploy may set through `{"Ref": parameter}` (a WAF rate limit's worst
case, a stream mapping's retry bound)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.cfn import as_list, intrinsic, number
from secure_constructs.checks.condition_branches import branches

Range = tuple[float | None, float | None]
"""(lowest, highest); None where unbounded."""


def parameter_bounds(declared: Any) -> Range:
    """(lowest, highest) value a deploy may give a parameter declaration; None where the
    template does not bound it (any number can be passed)."""
    if not isinstance(declared, Mapping):
        return None, None
    allowed = [number(v) for v in as_list(declared.get("AllowedValues"))]
    if allowed and all(v is not None for v in allowed):
        values = [v for v in allowed if v is not None]
        return min(values), max(values)
    return number(declared.get("MinValue")), number(declared.get("MaxValue"))


def referenced_parameter(value: Any, parameters: Mapping[str, Any]) -> Any:
    """The declaration of the parameter `value` is a `Ref` to, or None."""
    call = intrinsic(value)
    if call is None or call[0] != "Ref" or not isinstance(call[1], str):
        return None
    return parameters.get(call[1])


def value_ranges(
    value: Any, parameters: Mapping[str, Any]
) -> list[tuple[float | None, float | None]]:
    """(lowest, highest) of each value a numeric property can deploy as (every `Fn::If`
    branch): a literal is its own range, a parameter its `parameter_bounds`; an absent branch
    or any other intrinsic is (None, None), unbounded both ways (fail closed)."""
    found: list[Range] = []
    for branch in branches(value):
        literal = number(branch)
        if literal is not None:
            found.append((literal, literal))
        else:
            found.append(parameter_bounds(referenced_parameter(branch, parameters)))
    return found


def template_parameters(body: Any) -> Mapping[str, Any]:
    """A template body's Parameters section ({} when it has none or it is not a mapping)."""
    parameters = body.get("Parameters") if isinstance(body, Mapping) else None
    return parameters if isinstance(parameters, Mapping) else {}
