"""The numbers a template parameter can take, as far as the template says: the range its
`AllowedValues` (all numeric) or `MinValue`/`MaxValue` allow. Used wherever a rule judges a
numeric property that a deploy may set through `{"Ref": parameter}` (a WAF rate limit's worst
case, a stream mapping's retry bound)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.cfn import as_list, intrinsic, number


def parameter_bounds(declared: Any) -> tuple[float | None, float | None]:
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
