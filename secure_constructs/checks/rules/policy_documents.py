"""Where resource-based policies live in a template, and how to read their principals.

Shared by the resource-policy, KMS and trust rules (not a rule module itself).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.accounts import resource_types
from secure_constructs.checks.cfn import (
    MAX_RENDERINGS,
    UNKNOWN,
    as_list,
    intrinsic,
    reference,
    renderings,
    sub_parts,
)
from secure_constructs.checks.resource_policy_facts import EACH, JSON, RESOURCE_POLICY_PATHS
from secure_constructs.checks.rules.iam import statements
from secure_constructs.facts.arn_formats import is_own_arn_attribute

RESOURCE_POLICY_TYPES = (
    *RESOURCE_POLICY_PATHS,
    "AWS::Events::EventBusPolicy",
    "AWS::Lambda::LayerVersionPermission",
)
"""Every resource type whose policy `resource_policy_statements` reads
(checks/resource_policy_facts.py has where each keeps it)."""
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")
_OWN_ACCOUNT = ({"Ref": "AWS::AccountId"}, {"Fn::Sub": "${AWS::AccountId}"})


def _document(value: Any) -> Mapping[str, Any] | None:
    """A policy document given as an object or as a JSON string (Logs, ECR, Glue)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # deeply nested JSON text, too
            return None
    return value if isinstance(value, Mapping) else None


def _as_json_text(value: Any, types: Mapping[str, str]) -> str | None:
    """A JSON string as written, or built by `Fn::Join`/`Fn::Sub` (deploy-time parts as
    UNKNOWN; this account, and an ARN attribute of a resource of the template, written with
    `${AWS::AccountId}`, which `accounts.mark_own` reads as this account later)."""
    if isinstance(value, str):
        return value
    texts = renderings(_own_as_text(value, types))
    return texts[0] if len(texts) == 1 else None


def _own_as_text(value: Any, types: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [_own_as_text(v, types) for v in value]
    if isinstance(value, Mapping):
        if dict(value) == {"Ref": "AWS::AccountId"}:
            return "${AWS::AccountId}"
        call = intrinsic(value)
        found = reference(value) if call is not None and call[0] == "Fn::GetAtt" else None
        if found is not None and is_own_arn_attribute(types.get(found.logical_id), found.attribute):
            return f"arn:aws:cloudformation::${{AWS::AccountId}}:resource/{found.logical_id}"
        return {k: _own_as_text(v, types) for k, v in value.items()}
    return value


def _walk(
    value: Any, where: tuple[str, ...], path: str, types: Mapping[str, str]
) -> Iterator[tuple[str, Any]]:
    """(path, value) at the end of `where` (resource_policy_facts.EACH / JSON steps too)."""
    if not where:
        yield path, value
        return
    step, rest = where[0], where[1:]
    if step == EACH:
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from _walk(item, rest, f"{path}/{index}", types)
    elif step == JSON:
        text = _as_json_text(value, types)
        try:
            parsed = json.loads(text, strict=False) if text is not None else None
        except (ValueError, RecursionError):
            parsed = None
        yield from _walk(parsed, rest, path, types)
    elif isinstance(value, Mapping):
        yield from _walk(value.get(step), rest, f"{path}/{step}", types)


def resource_policy_statements(t: Any) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    """(logical id, type, path, statement) of every statement of every resource-based policy."""
    types = resource_types(t.body)
    for type_, paths in RESOURCE_POLICY_PATHS.items():
        for logical_id, props in t.of_type(type_):
            for where in paths:
                for path, value in _walk(props, where, "Properties", types):
                    document = _document(value)
                    if document is None:
                        continue
                    for at, statement in statements(path, document):
                        yield logical_id, type_, at, with_parameter_defaults(t, statement)
    yield from _event_bus_policies(t)
    yield from _layer_permissions(t)


def _event_bus_policies(t: Any) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    for logical_id, props in t.of_type("AWS::Events::EventBusPolicy"):
        statement = props.get("Statement")
        if isinstance(statement, Mapping):
            yield logical_id, "AWS::Events::EventBusPolicy", "Properties/Statement", statement
        elif "Principal" in props:  # the older Principal/Action/Condition form
            legacy = {"Effect": "Allow", "Principal": props.get("Principal")}
            condition = props.get("Condition")
            if isinstance(condition, Mapping) and condition.get("Key"):
                legacy["Condition"] = {
                    "StringEquals": {condition.get("Key"): condition.get("Value")}
                }
            yield logical_id, "AWS::Events::EventBusPolicy", "Properties/Principal", legacy


def _layer_permissions(t: Any) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    """A layer permission as the statement it adds: `Principal` an account id or `*`,
    `OrganizationId` an aws:PrincipalOrgID condition
    (https://docs.aws.amazon.com/lambda/latest/api/API_AddLayerVersionPermission.html)."""
    type_ = "AWS::Lambda::LayerVersionPermission"
    for logical_id, props in t.of_type(type_):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": props.get("Principal")},
            "Action": props.get("Action"),
        }
        if props.get("OrganizationId") is not None:
            statement["Condition"] = {
                "StringEquals": {"aws:PrincipalOrgID": props.get("OrganizationId")}
            }
        yield logical_id, type_, "Properties/Principal", with_parameter_defaults(t, statement)


def principal_values(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Principal kind (`*`, AWS, Service, Federated, CanonicalUser) -> rendered values.

    Intrinsics are rendered (both branches of an Fn::If); parts known only at deploy time are
    UNKNOWN. `"Principal": "*"` is kind `*`.
    """
    principal = statement.get("Principal")
    if principal is None:
        return {}
    rendered = renderings(principal)
    if rendered:
        return {"AWS": rendered}
    if not isinstance(principal, Mapping) or intrinsic(principal) is not None:
        return {"AWS": [UNKNOWN]}
    return {
        str(kind): [
            text
            for item in as_list(value)
            for text in (_OWN_ROOT if item in _OWN_ACCOUNT else renderings(item) or [UNKNOWN])
        ]
        for kind, value in principal.items()
    }


# `{"AWS": "${AWS::AccountId}"}` is the account itself, i.e. its root (AWS: "you can specify
# the account ID" for the account principal,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
_OWN_ROOT = [f"arn:aws:iam::{UNKNOWN}:root"]


# A parameter of these types holds the NAME of an SSM parameter as its Default; CloudFormation
# deploys the SSM parameter's current value, which the template does not know
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html#aws-ssm-parameter-types).
_SSM_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"
_LIST_TYPE = ("CommaDelimitedList", "List<")
WORST_CASE = "*"
"""What a value no reader can know (an SSM-typed parameter) is judged as: every principal,
every resource (fail closed)."""


def parameter_values(parameter: Any) -> list[str]:
    """Every value a deploy may give a template parameter that the template itself shows: its
    Default and each of its AllowedValues (a list type's items one by one), or WORST_CASE for an
    SSM-typed parameter (its Default is a parameter name, not a value)."""
    if not isinstance(parameter, Mapping):
        return []
    type_ = str(parameter.get("Type", ""))
    if type_.startswith(_SSM_TYPE_PREFIX):
        return [WORST_CASE]
    found: list[str] = []
    for value in [parameter.get("Default"), *as_list(parameter.get("AllowedValues"))]:
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
            items = text.split(",") if type_.startswith(_LIST_TYPE) else [text]
            found.extend(i.strip() for i in items if i.strip() not in found)
    # the worst value first: a rendering limit (cfn.MAX_RENDERINGS) then keeps it
    return sorted(dict.fromkeys(found), key=lambda v: not any(c in v for c in "*?"))


def with_parameter_defaults(t: Any, value: Any) -> Any:
    """`value` with each reference to a template parameter also read as every value the
    template shows for it (`parameter_values`: its Default, its AllowedValues, WORST_CASE for
    an SSM-typed parameter): `{"Ref": "Who"}` with `Default: "*"` renders as `*` and as the
    deploy-time value (an Fn::If of them; a parameter with AllowedValues, or SSM-typed, has no
    other value), `!Sub "...${Partner}..."` with each value filled in; and each
    `Fn::FindInMap` as the values of the template's Mappings it can pick (every value at a
    level whose key is known only at deploy time).

    A deploy that keeps the default, or picks an allowed value, gets exactly that policy, so
    the rules judge each of them.
    """
    body = t.body if isinstance(t.body, Mapping) else {}
    parameters = body.get("Parameters")
    parameters = parameters if isinstance(parameters, Mapping) else {}
    mappings = body.get("Mappings")
    known = _Known(
        {str(n): v for n, p in parameters.items() if (v := parameter_values(p))},
        mappings if isinstance(mappings, Mapping) else {},
        frozenset(str(n) for n, p in parameters.items() if _is_closed(p)),
    )
    return known.fill(value) if known.values or known.maps else value


def _is_closed(parameter: Any) -> bool:
    """Whether `parameter_values` lists every value a deploy can give the parameter."""
    if not isinstance(parameter, Mapping):
        return False
    type_ = str(parameter.get("Type", ""))
    if type_.startswith(_SSM_TYPE_PREFIX):
        return True
    return bool(as_list(parameter.get("AllowedValues"))) and not type_.startswith(_LIST_TYPE)


def _choices(values: list[Any], otherwise: Any) -> Any:
    """An Fn::If chain rendering as each of `values`, then as `otherwise`."""
    chosen = otherwise
    for value in reversed(values):
        chosen = {"Fn::If": ["<parameter value>", value, chosen]}
    return chosen


def _one_of(values: list[Any]) -> Any:
    """An Fn::If chain rendering as each of `values` and nothing else."""
    return _choices(values[:-1], values[-1])


@dataclass(frozen=True)
class _Known:
    """What the template says of its parameters' values and its mappings."""

    values: Mapping[str, list[str]]
    maps: Mapping[str, Any]
    closed: frozenset[str]

    def fill(self, value: Any) -> Any:
        call = intrinsic(value)
        if call is not None:
            name, argument = call
            if name == "Ref" and argument in self.values:
                chosen = self.values[argument]
                return _one_of(chosen) if argument in self.closed else _choices(chosen, value)
            if name == "Fn::Sub":
                filled = self.fill(argument)
                return self._fill_sub({"Fn::Sub": filled}, filled)
            if name == "Fn::FindInMap":
                found = _map_values(self.maps, self.fill(argument))
                return _one_of(found) if found else value
        if isinstance(value, Mapping):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def _fill_sub(self, value: Any, argument: Any) -> Any:
        text, variables = sub_parts(argument)
        if text is None:
            return value
        names = [n for n in dict.fromkeys(_SUB_NAME.findall(text)) if n in self.values]
        names = [n for n in names if n not in variables]
        if not names:
            return value
        values = (self.values[n] for n in names)
        combos = itertools.islice(itertools.product(*values), MAX_RENDERINGS)
        subs = [
            {"Fn::Sub": [text, {**variables, **dict(zip(names, c, strict=True))}]} for c in combos
        ]
        return _one_of(subs) if all(n in self.closed for n in names) else _choices(subs, value)


def _map_values(maps: Mapping[str, Any], argument: Any) -> list[Any]:
    """Every value `Fn::FindInMap [map, key, key]` can return (a list value's items one by
    one); [] when the map is not the template's (then it stays unknown)."""
    if not (isinstance(argument, list) and len(argument) >= 3):
        return []
    levels: list[Any] = [maps]
    for key in argument[:3]:
        names = renderings(key)
        known = bool(names) and all(UNKNOWN not in n for n in names)
        levels = [
            item
            for level in levels
            if isinstance(level, Mapping)
            for name, item in level.items()
            if not known or name in names
        ]
    return [v for level in levels for v in as_list(level) if not isinstance(v, Mapping)]


def is_everyone(text: str) -> bool:
    """An AWS principal value meaning every principal of every account."""
    return text.strip() == "*"


def is_unreadable(text: str) -> bool:
    """A rendered value that is WHOLLY known only at deploy time (an `Fn::ImportValue`, an SSM
    parameter's value, a custom resource's attribute, a mapping the template lacks): it may be
    `*`, so a principal or resource like it is judged as possibly everyone (fail closed). A
    partly known value (`arn:aws:iam::<deploy-time>:role/app`) is not."""
    return not text.replace(UNKNOWN, "").strip() and UNKNOWN in text


UNREADABLE_NOTE = (
    "cannot be read from the template (an Fn::ImportValue, an SSM parameter's value, a custom "
    "resource's attribute or another value known only at deploy time), so it may be '*'"
)
"""What a finding on an `is_unreadable` value says."""
UNREADABLE_FIX = (
    "write the principal or resource in the template (a literal ARN, ${AWS::AccountId}, or "
    "Fn::GetAtt of the role/resource itself) so that it can be checked"
)


def is_allow(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def actions_of(statement: Mapping[str, Any]) -> list[str]:
    """The statement's actions as rendered strings (an intrinsic part as UNKNOWN)."""
    return [text for item in as_list(statement.get("Action")) for text in renderings(item)]
