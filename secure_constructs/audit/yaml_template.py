"""CloudFormation YAML with PyYAML's C loader: short-form tags, duplicate keys refused, lines kept.

cfn-lint's decoder did this at ~0.7 s of import time per run; PyYAML (already a dependency of
cfn-lint and of aws-sam-translator) does it in milliseconds. What CloudFormation's YAML means:
- `!Ref X` is `{"Ref": "X"}`, `!Condition X` is `{"Condition": "X"}`, every other `!Name` is
  `{"Fn::Name": ...}`; `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`.
- a key given twice in one mapping is an error (CloudFormation refuses the template).
- dates stay strings (`Version: 2012-10-17` is not a `datetime.date`).
Keys keep `start_mark` (their line) so SARIF can point at a resource.
"""

from __future__ import annotations

from typing import Any

import yaml

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(ValueError):
    """A mapping names one key twice."""


class _Key(str):
    """A mapping key that remembers where it starts (like cfn-lint's str_node)."""

    start_mark: Any = None


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    pass


# Dates and times stay strings, as CloudFormation reads them.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, dict | list):  # `{{a: b}: c}`: no template has such a key
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark
            )
        if isinstance(key, str):
            marked = _Key(key)
            marked.start_mark = key_node.start_mark
            key = marked
        if key in result:
            raise DuplicateKeyError(
                f"Duplicate found {str(key)!r} (line {key_node.start_mark.line + 1})"
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str) and "." in value:
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = _mapping(loader, node)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_multi_constructor("!", _tagged)


def loads(text: str) -> Any:
    """The YAML document in `text`; DuplicateKeyError or yaml.YAMLError when it is not valid."""
    return yaml.load(text, Loader=_Loader)
