"""Reading CloudFormation values inside rules: references, lists and strings built by intrinsics.

Rules see the template as CloudFormation JSON, where a value may be a literal or an intrinsic
function (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::If`, ...). These helpers answer the
few questions rules ask about such values without evaluating the template.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

# Stands for a part of a string known only at deploy time (a Ref, a GetAtt, an import ...).
# It matches no character class the secret patterns use, so a pattern never spans it.
UNKNOWN = "\x00"

MAX_RENDERINGS = 16

# Pseudo parameters whose value does not matter to any rule but must render as a plausible
# string, e.g. a service principal written as `Fn::Join ["", ["states.", {Ref: AWS::URLSuffix}]]`.
_PSEUDO = {"AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws"}
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def as_list(value: Any) -> list[Any]:
    """`value` as a list: a list as is, None as [], anything else as a one-item list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """(function name, argument) when `value` is a one-key intrinsic like {"Ref": "X"}."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((name, argument),) = value.items()
        if isinstance(name, str) and (name == "Ref" or name.startswith("Fn::")):
            return name, argument
    return None


def referenced_id(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` (either form) points at, else None."""
    call = intrinsic(value)
    if call is None:
        return None
    name, argument = call
    if name == "Ref" and isinstance(argument, str):
        return argument
    if name == "Fn::GetAtt":
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            return argument[0]
        if isinstance(argument, str):
            return argument.split(".", 1)[0]
    return None


def referenced_ids(value: Any) -> Iterator[str]:
    """Every logical id a `Ref` or `Fn::GetAtt` anywhere inside `value` points at."""
    target = referenced_id(value)
    if target is not None:
        yield target
        return
    if isinstance(value, Mapping):
        for item in value.values():
            yield from referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from referenced_ids(item)


def number(value: Any) -> float | None:
    """A literal number (or numeric string) as a float; None for booleans and intrinsics."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None  # an intrinsic: known only at deploy time


def alarm_notifies(props: Mapping[str, Any]) -> bool:
    """Whether an AWS::CloudWatch::Alarm has alarm actions and does not disable them."""
    return bool(as_list(props.get("AlarmActions"))) and props.get("ActionsEnabled") not in (
        False,
        "false",
        "False",
    )


def alarm_metrics(props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every metric an AWS::CloudWatch::Alarm watches: its own, and those of its metric math."""
    metrics: list[Any] = [props]
    for query in as_list(props.get("Metrics")):
        stat = query.get("MetricStat") if isinstance(query, Mapping) else None
        if isinstance(stat, Mapping):
            metrics.append(stat.get("Metric"))
    for metric in metrics:
        if isinstance(metric, Mapping):
            yield metric


def renderings(value: Any) -> list[str]:
    """The strings `value` can evaluate to, with UNKNOWN for parts known only at deploy time.

    `Fn::If` contributes both branches (at most MAX_RENDERINGS strings in all). A value that is
    not string-like at all (a list, an object) has no rendering.
    """
    return _render(value)[:MAX_RENDERINGS]


def _render(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, int | float):
        return [str(value)]
    call = intrinsic(value)
    if call is None:
        return []
    name, argument = call
    if name == "Ref":
        if argument == "AWS::NoValue":
            return []
        return [_PSEUDO.get(argument, UNKNOWN) if isinstance(argument, str) else UNKNOWN]
    if name == "Fn::Join":
        return _render_join(argument)
    if name == "Fn::Sub":
        return _render_sub(argument)
    if name == "Fn::If":
        if isinstance(argument, list) and len(argument) == 3:
            return (_render(argument[1]) + _render(argument[2]))[:MAX_RENDERINGS]
        return [UNKNOWN]
    if name == "Fn::Base64":
        return _render(argument)
    return [UNKNOWN]


def _render_join(argument: Any) -> list[str]:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return [UNKNOWN]
    delimiter, parts = argument
    if not isinstance(parts, list):
        return [UNKNOWN]
    choices = [_render(part) or [""] for part in parts]
    combos = itertools.islice(itertools.product(*choices), MAX_RENDERINGS)
    return [delimiter.join(combo) for combo in combos]


def _render_sub(argument: Any) -> list[str]:
    variables: Mapping[str, Any] = {}
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        text = argument[0]
        if len(argument) > 1 and isinstance(argument[1], Mapping):
            variables = argument[1]
    elif isinstance(argument, str):
        text = argument
    else:
        return [UNKNOWN]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            rendered = _render(variables[name])
            return rendered[0] if rendered else ""
        return _PSEUDO.get(name, UNKNOWN)

    return [_SUB_VARIABLE.sub(substitute, text)]
