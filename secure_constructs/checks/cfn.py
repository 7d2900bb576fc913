"""Reading CloudFormation values inside rules: references, lists and strings built by intrinsics.

Rules see the template as CloudFormation JSON, where a value may be a literal or an intrinsic
function (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::If`, ...). This module and
`checks.intrinsics` are the package's one evaluator of intrinsics: here the primitives (what an
intrinsic is, the parts of a `Fn::Sub`, the pseudo parameters) and the two questions rules ask
without evaluating the template (`references`: what a value points at; `renderings`: every
string it can be, with UNKNOWN for what only deployment knows); `checks.intrinsics.Resolver`
builds on the same primitives to render a value as one readable string (ARNs, names), for the
audit's reports and the secret scan.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Stands for a part of a string known only at deploy time (a Ref, a GetAtt, an import ...).
# It matches no character class the secret patterns use, so a pattern never spans it.
UNKNOWN = "\x00"

MAX_RENDERINGS = 16

# What each pseudo parameter renders as: `<...>` for values known only at deploy time.
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::Region": "<region>",
    "AWS::AccountId": "<account>",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "<stack-name>",
    "AWS::StackId": "<stack-id>",
    "AWS::NotificationARNs": "<notification-arns>",
    "AWS::NoValue": "",
}
# Pseudo parameters whose value does not matter to any rule but must render as a plausible
# string, e.g. a service principal written as `Fn::Join ["", ["states.", {Ref: AWS::URLSuffix}]]`.
_PSEUDO = {k: v for k, v in PSEUDO_PARAMETERS.items() if v and not v.startswith("<")}
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
"""A `${...}` variable of a `Fn::Sub` string."""


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


@dataclass(frozen=True)
class Reference:
    """A reference to a logical id (a resource or a parameter): `attribute` is None for `Ref`."""

    logical_id: str
    attribute: str | None = None


def references(value: Any) -> Iterator[Reference]:
    """Every reference anywhere inside `value`, in order, however it is written.

    This is the one reference resolver rules use. It reads `Ref`, `Fn::GetAtt` (list and
    `Id.Attr` forms), `Fn::Sub` in both forms (`${Id}`, `${Id.Attr}`; a name bound in the
    variables map stands for that value's references instead; `${!Literal}` and pseudo parameters
    `${AWS::...}` are not references), and everything nested in `Fn::Join`, both `Fn::If`
    branches (not the condition name) and any other function or structure.
    """
    call = intrinsic(value)
    if call is not None:
        name, argument = call
        if name == "Ref":
            if isinstance(argument, str) and not argument.startswith("AWS::"):
                yield Reference(argument)
            return
        if name == "Fn::GetAtt":
            target = _get_att(argument)
            if target is not None:
                yield target
            return
        if name == "Fn::Sub":
            yield from _sub_references(argument)
            return
        if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            yield from references(argument[1])
            yield from references(argument[2])
            return
    if isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def reference(value: Any) -> Reference | None:
    """The reference `value` is as a whole (`Ref`, `Fn::GetAtt`, `!Sub "${Id}"`), else None.

    `Fn::If` is a reference only when both branches name the same thing.
    """
    call = intrinsic(value)
    if call is None:
        return None
    name, argument = call
    if name in ("Ref", "Fn::GetAtt"):
        return next(references(value), None)
    if name == "Fn::Sub":
        text, _ = sub_parts(argument)
        if text is None or SUB_VARIABLE.fullmatch(text.strip()) is None:
            return None
        found = list(_sub_references(argument))
        return found[0] if len(found) == 1 else None
    if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        branches = {reference(argument[1]), reference(argument[2])}
        return branches.pop() if len(branches) == 1 else None
    return None


def referenced_id(value: Any) -> str | None:
    """The logical id `value` refers to as a whole (see `reference`), else None."""
    found = reference(value)
    return found.logical_id if found is not None else None


def referenced_ids(value: Any) -> Iterator[str]:
    """The logical id of every reference inside `value` (see `references`)."""
    for found in references(value):
        yield found.logical_id


def _get_att(argument: Any) -> Reference | None:
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        attribute = argument[1] if len(argument) > 1 and isinstance(argument[1], str) else None
        return Reference(argument[0], attribute)
    if isinstance(argument, str) and argument:
        logical_id, _, attribute = argument.partition(".")
        return Reference(logical_id, attribute or None)
    return None


def sub_parts(argument: Any) -> tuple[str | None, Mapping[str, Any]]:
    """(template string, variables map) of a `Fn::Sub` argument in either form."""
    if isinstance(argument, str):
        return argument, {}
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        variables = argument[1] if len(argument) > 1 else {}
        return argument[0], variables if isinstance(variables, Mapping) else {}
    return None, {}


def _sub_references(argument: Any) -> Iterator[Reference]:
    text, variables = sub_parts(argument)
    if text is None:
        yield from references(argument)
        return
    for match in SUB_VARIABLE.finditer(text):
        name = match.group(1).strip()
        if not name or name.startswith("!") or name.startswith("AWS::"):
            continue
        if name in variables:
            yield from references(variables[name])
            continue
        logical_id, _, attribute = name.partition(".")
        yield Reference(logical_id, attribute or None)


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


def shown(text: str) -> str:
    """A rendered value as a message shows it: a deploy-time part as `<deploy-time>`."""
    return text.replace(UNKNOWN, "<deploy-time>")


def renderings(value: Any) -> list[str]:
    """The strings `value` can evaluate to, with UNKNOWN for parts known only at deploy time.

    `Fn::If` contributes both branches, `Fn::Select` every element its index may pick,
    `Fn::Split` every piece (at most MAX_RENDERINGS strings in all: when there are more, the
    last one is UNKNOWN, so a reader of the list never takes a cut list for the whole). A value
    that is not string-like at all (a list, an object) has no rendering. `Fn::FindInMap`
    needs the template's Mappings: `policy_documents.with_parameter_defaults` writes it as its
    values first; left as it is, it is UNKNOWN.
    """
    rendered = _render(value)
    if len(rendered) > MAX_RENDERINGS:
        return [*rendered[: MAX_RENDERINGS - 1], UNKNOWN]
    return rendered


_LIMIT = MAX_RENDERINGS + 1  # one more than is kept, so that `renderings` sees the cut


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
            return _unique(_render(argument[1]) + _render(argument[2]))
        return [UNKNOWN]
    if name == "Fn::Base64":
        return _render(argument)
    if name == "Fn::Select":
        return _render_select(argument)
    if name == "Fn::Split":
        found = _list_choices(value)
        if found is None:
            return [UNKNOWN]
        return _unique([t for items, _ in found for item in items for t in _render(item)])
    return [UNKNOWN]


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))[:_LIMIT]


def _render_join(argument: Any) -> list[str]:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return [UNKNOWN]
    delimiter, parts = argument
    if not isinstance(parts, list):
        return [UNKNOWN]
    choices = [_render(part) or [""] for part in parts]
    combos = itertools.islice(itertools.product(*choices), _LIMIT)
    return _unique([delimiter.join(combo) for combo in combos])


def _render_sub(argument: Any) -> list[str]:
    text, variables = sub_parts(argument)
    if text is None:
        return [UNKNOWN]
    names = [n for n in dict.fromkeys(SUB_VARIABLE.findall(text)) if n in variables]
    choices = [_render(variables[n]) or [""] for n in names]
    found: list[str] = []
    for combo in itertools.islice(itertools.product(*choices), _LIMIT):
        chosen = dict(zip(names, combo, strict=True))

        def substitute(match: re.Match[str], chosen: Mapping[str, str] = chosen) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in chosen:
                return chosen[name]
            return _PSEUDO.get(name, UNKNOWN)

        found.append(SUB_VARIABLE.sub(substitute, text))
    return _unique(found)


def _list_choices(value: Any) -> list[tuple[list[Any], bool]] | None:
    """The lists a list-valued `value` can be, each with whether it may hold more items than
    shown (a split of a string with a deploy-time part); None when nothing is known of it."""
    if isinstance(value, list):
        return [(value, False)]
    call = intrinsic(value)
    if call is None:
        return None
    name, argument = call
    if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        branches = [_list_choices(argument[1]), _list_choices(argument[2])]
        if any(branch is None for branch in branches):
            return None
        return [choice for branch in branches if branch for choice in branch]
    if name != "Fn::Split":
        return None
    if not (isinstance(argument, list) and len(argument) == 2):
        return None
    delimiter, source = argument
    if not isinstance(delimiter, str) or not delimiter:
        return None
    return [(list(text.split(delimiter)), UNKNOWN in text) for text in _render(source)] or None


def _render_select(argument: Any) -> list[str]:
    """Every element `Fn::Select [index, list]` may pick: the one at a literal index, every one
    when the index is known only at deploy time; UNKNOWN when the list is not known."""
    if not (isinstance(argument, list) and len(argument) == 2):
        return [UNKNOWN]
    index, source = argument
    lists = _list_choices(source)
    if lists is None:
        return [UNKNOWN]
    indexes = [int(i) for i in _render(index) if i.strip().isdigit()]
    any_index = not indexes or len(indexes) < len(_render(index))
    found: list[str] = []
    for items, partial in lists:
        chosen = range(len(items)) if any_index else [i for i in indexes if i < len(items)]
        found.extend(t for i in chosen for t in (_render(items[i]) or [""]))
        if partial or (not any_index and any(i >= len(items) for i in indexes)):
            found.append(UNKNOWN)
    return _unique(found) or [UNKNOWN]
