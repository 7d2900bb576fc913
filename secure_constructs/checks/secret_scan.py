"""One secret scan over every string a CloudFormation template holds.

Parameters (and their defaults), Mappings, Conditions, Outputs, the template's Metadata, and
every resource's Properties and Metadata, whatever its type. Intrinsics are resolved by the
package's evaluator (`checks.intrinsics.Resolver`), taught two things a secret scan needs: a `Ref`
to a parameter is its default, and `Fn::GetAtt [P, Value]` of an `AWS::SSM::Parameter` is the
parameter's literal value. `Fn::If` is scanned branch by branch.

Each string is judged by `secret_patterns.secret_reason` under the *name* it sits under: the
environment variable, tag key, output id, parameter id, mapping key, metadata key or SSM
parameter name. A CloudFormation property name (`SecretString`, `MasterUserPassword`) counts
only when it says password, secret or token itself: `S3Key` holds an asset hash, not a key.

A parameter of an `AWS::SSM::Parameter::Value<...>` type holds a parameter *name* as its
default; its value is read from a plain (unencrypted) SSM String parameter, so a `Ref` to it
renders as a `{{resolve:ssm:<name>}}` reference, a finding under a secret-like name only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, intrinsic
from secure_constructs.checks.intrinsics import Resolver
from secure_constructs.checks.secret_patterns import (
    restricted_name,
    secret_reason,
)

SSM_PARAMETER_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"
# Mappings below these keys are free-form: their keys are names a user chose (variables, tags).
_FREE_FORM_KEYS = frozenset({"Variables", "StageVariables", "Tags", "Environment", "Metadata"})
# List items {"Key"|"Name": k, "Value": v}: tags, ECS environments; v sits under the name k.
_NAME_KEYS = ("Key", "Name")
# Keys whose value sits under the name of what holds them: an output's Value, a Default.
_INHERIT_NAME_KEYS = frozenset({"Value", "Default", "AllowedValues"})
# Functions the resolver does not evaluate but whose arguments hold literals (conditions).
_WALK_ARGUMENTS = frozenset(
    {"Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Contains", "Fn::ToJsonString", "Fn::Base64"}
)
_PLACEHOLDER = re.compile(r"<[^<>]*>")
_MAX_DEPTH = 40


@dataclass(frozen=True)
class SecretFinding:
    """A string in the template that looks like a secret."""

    path: tuple[str, ...]
    """Where it sits: ("Outputs", "Token", "Value"), ("Resources", "Fn", "Properties", ...)."""
    name: str
    """The name it sits under (an environment variable, a tag key, an output id ...)."""
    reason: str
    """Which detector fired and why, in words that never repeat the value."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def is_dynamic_reference(self) -> bool:
        return self.reason.startswith("a {{resolve:") and "dynamic reference" in self.reason


class _SecretResolver(Resolver):
    """The audit's resolver, reading parameter defaults and SSM parameter values."""

    def ref(self, name: str, depth: int = 0) -> str:
        parameter = self.parameters.get(name)
        if isinstance(parameter, Mapping):
            default = parameter.get("Default")
            if _is_ssm_parameter(parameter):
                return "{{resolve:ssm:" + (str(default) if default is not None else name) + "}}"
            if default is not None and not isinstance(default, Mapping | list):
                return str(default)
        return super().ref(name, depth)

    def get_att(self, name: str, attribute: str, depth: int = 0) -> str:
        resource = self.resources.get(name)
        if (
            isinstance(resource, Mapping)
            and resource.get("Type") == "AWS::SSM::Parameter"
            and attribute == "Value"
        ):
            props = resource.get("Properties")
            if isinstance(props, Mapping) and "Value" in props:
                return self.text(props["Value"], depth + 1)
        return super().get_att(name, attribute, depth)


def _is_ssm_parameter(parameter: Mapping[str, Any]) -> bool:
    return str(parameter.get("Type", "")).startswith(SSM_PARAMETER_TYPE_PREFIX)


_cache: tuple[Mapping[str, Any], list[SecretFinding]] | None = None


def scan(body: Mapping[str, Any]) -> list[SecretFinding]:
    """Every secret-looking string in the template (computed once per template body)."""
    global _cache
    if _cache is not None and _cache[0] is body:
        return _cache[1]
    findings = list(_Scan(body).run())
    _cache = (body, findings)  # holding `body` keeps its identity from being reused
    return findings


class _Scan:
    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        self.resolver = _SecretResolver(body)
        self.seen: dict[tuple[str, str], str | None] = {}

    def run(self) -> Iterator[SecretFinding]:
        yield from self._parameters()
        for section in ("Mappings", "Conditions", "Outputs", "Metadata", "Rules"):
            entries = self.body.get(section)
            if not isinstance(entries, Mapping):
                continue
            for key, entry in entries.items():
                yield from self._walk(entry, (section, str(key)), str(key), free=True)
        resources = self.body.get("Resources")
        for logical_id, resource in (resources if isinstance(resources, Mapping) else {}).items():
            if isinstance(resource, Mapping):
                yield from self._resource(str(logical_id), resource)

    def _parameters(self) -> Iterator[SecretFinding]:
        parameters = self.body.get("Parameters")
        for pid, parameter in (parameters if isinstance(parameters, Mapping) else {}).items():
            if not isinstance(parameter, Mapping):
                continue
            path = ("Parameters", str(pid))
            if "Default" in parameter and str(parameter.get("NoEcho")).lower() == "true":
                yield SecretFinding(
                    (*path, "Default"),
                    str(pid),
                    "NoEchoDefault: a NoEcho parameter with a default (NoEcho hides the value "
                    "from DescribeStacks, not from the template, where the default is plain)",
                )
            if _is_ssm_parameter(parameter):
                continue  # its default is a parameter name, not a value
            yield from self._walk(parameter.get("Default"), (*path, "Default"), str(pid), True)
            yield from self._walk(
                parameter.get("AllowedValues"), (*path, "AllowedValues"), str(pid), True
            )

    def _resource(self, logical_id: str, resource: Mapping[str, Any]) -> Iterator[SecretFinding]:
        base = ("Resources", logical_id)
        props = resource.get("Properties")
        if resource.get("Type") == "AWS::ApiGateway::ApiKey" and isinstance(props, Mapping):
            # An API key's literal Value is the key itself.
            yield from self._walk(
                props.get("Value"), (*base, "Properties", "Value"), "ApiKey", True
            )
            props = {k: v for k, v in props.items() if k != "Value"}
        if resource.get("Type") == "AWS::SSM::Parameter" and isinstance(props, Mapping):
            # A plain String parameter is not encrypted: its value sits under its name.
            name = self.resolver.text(props.get("Name")) if "Name" in props else logical_id
            for key, value in props.items():
                under = name if key == "Value" else str(key)
                yield from self._walk(value, (*base, "Properties", str(key)), under, key == "Value")
        else:
            yield from self._walk(props, (*base, "Properties"), "", free=False)
        yield from self._walk(resource.get("Metadata"), (*base, "Metadata"), "", free=True)

    def _walk(
        self, value: Any, path: tuple[str, ...], name: str, free: bool, depth: int = 0
    ) -> Iterator[SecretFinding]:
        if depth > _MAX_DEPTH or value is None:
            return
        call = intrinsic(value)
        if call is not None:
            function, argument = call
            if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
                for index in (1, 2):
                    yield from self._walk(
                        argument[index], (*path, "Fn::If", str(index)), name, free, depth + 1
                    )
                return
            if function in _WALK_ARGUMENTS:
                yield from self._walk(argument, (*path, function), name, free, depth + 1)
                return
            yield from self._judge(_known(self.resolver.text(value)), path, name, free)
            return
        if isinstance(value, str):
            yield from self._judge(value, path, name, free)
        elif isinstance(value, bool | int | float):
            return
        elif isinstance(value, Mapping):
            child_free = free or (bool(path) and path[-1] in _FREE_FORM_KEYS)
            for key, item in value.items():
                under = name if key in _INHERIT_NAME_KEYS else str(key)
                yield from self._walk(item, (*path, str(key)), under, child_free, depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                item_path = (*path, str(index))
                tag = _named_item(item)
                if tag is not None:
                    item_name, item_value = tag
                    yield from self._walk(
                        item_value, (*item_path, "Value"), item_name, True, depth + 1
                    )
                else:
                    yield from self._walk(item, item_path, name, free, depth + 1)

    def _judge(
        self, text: str, path: tuple[str, ...], name: str, free: bool
    ) -> Iterator[SecretFinding]:
        under = name if free else restricted_name(name)
        key = (under, text)
        if key not in self.seen:
            self.seen[key] = secret_reason(under, text, partial=UNKNOWN in text)
        reason = self.seen[key]
        if reason:
            yield SecretFinding(path, name, reason)


def _known(text: str) -> str:
    """The resolver's text with its placeholders (`<region>`, `<Fn.Arn>`, ...) as UNKNOWN."""
    return _PLACEHOLDER.sub(UNKNOWN, text) if "<" in text else text


def _named_item(item: Any) -> tuple[str, Any] | None:
    """(name, value) of a {"Key": k, "Value": v} (or "Name") list item with a literal name."""
    if not (isinstance(item, Mapping) and "Value" in item and len(item) <= 3):
        return None
    for key in _NAME_KEYS:
        name = item.get(key)
        if isinstance(name, str):
            return name, item["Value"]
    return None
