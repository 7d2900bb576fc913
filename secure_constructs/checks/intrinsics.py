"""Render CloudFormation values readably, resolving intrinsics as far as the template allows.

The readable view of the package's one intrinsic evaluator (its primitives, `references` and
`renderings` are in `checks.cfn`): used by the audit's reports, the permissions report, the
CodeGrantsMatch rule and the secret scan (which subclasses the Resolver).

`Resolver(template).text(value)` turns `{"Fn::GetAtt": ["DbSecret", "Arn"]}` into
`arn:aws:secretsmanager:<region>:<account>:secret:DbSecret`. Conventions:

- `<region>`, `<account>`, `<stack-name>`: pseudo parameters known only at deploy time; the
  partition is rendered as `aws` and the URL suffix as `amazonaws.com`.
- `<Param>`: the value of template parameter `Param`.
- a resource stands for itself by its name property when the template sets it literally,
  otherwise by its logical id; `<Logical.Attr>` is a run-time attribute with no known format.
- `<unresolved ...>`: what the template does not determine (`Fn::If`, an import of an export no
  given template defines, an unknown function ...). Nothing is guessed.

Resolved: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue (against
the exports of the other templates given), Fn::FindInMap, Fn::GetAZs (as a placeholder).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.cfn import PSEUDO_PARAMETERS, SUB_VARIABLE
from secure_constructs.facts.arn_formats import ARN_FORMATS, ArnFormat

UNRESOLVED = "<unresolved"


RESOURCE_FORMATS: dict[str, ArnFormat] = {
    type_: ArnFormat(fmt.ref, fmt.written("aws", "<region>", "<account>"), fmt.name_prop)
    for type_, fmt in ARN_FORMATS.items()
}
"""facts.arn_formats as this evaluator writes ARNs (`arn:aws:...:<region>:<account>:...`)."""

_QUALIFIED_FUNCTION_TYPES = ("AWS::Lambda::Alias", "AWS::Lambda::Version")
# GetAtt attributes that return the ARN, besides "Arn".
_ARN_ATTRIBUTES = {"TopicArn", "PolicyArn", "KeyArn", "SecretArn"}
_PLACEHOLDER = re.compile(r"<[^<>]*>")
_MAX_DEPTH = 25


def is_resolved(text: str) -> bool:
    """True when nothing in `text` is an `<unresolved ...>` part."""
    return UNRESOLVED not in text


def unresolved(what: str) -> str:
    return f"{UNRESOLVED} {what}>"


class Resolver:
    """Renders the values of one template; `exports` are the Outputs exported by the others."""

    def __init__(self, template: Mapping[str, Any], *, exports: Mapping[str, str] | None = None):
        self.template = template
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, Mapping) else {}
        parameters = template.get("Parameters")
        self.parameters: Mapping[str, Any] = parameters if isinstance(parameters, Mapping) else {}
        mappings = template.get("Mappings")
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        self.exports: Mapping[str, str] = exports or {}

    # -- public -------------------------------------------------------------------------------

    def text(self, value: Any, _depth: int = 0) -> str:
        """`value` as one readable string."""
        if _depth > _MAX_DEPTH:
            return unresolved("(reference cycle)")
        depth = _depth + 1
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float, str)):
            return str(value)
        if isinstance(value, list):
            items = self.items(value, depth)
            return ", ".join(items) if items is not None else unresolved("list")
        if isinstance(value, Mapping):
            if len(value) != 1:
                return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
            ((function, argument),) = value.items()
            return self._function(str(function), argument, depth)
        return str(value)

    def items(self, value: Any, _depth: int = 0) -> list[str] | None:
        """`value` as a list of strings (a list literal or a list-valued intrinsic); None when the
        template does not determine the list."""
        if _depth > _MAX_DEPTH:
            return None
        depth = _depth + 1
        if isinstance(value, list):
            return [
                self.text(v, depth)
                for v in value
                if not (isinstance(v, Mapping) and v.get("Ref") == "AWS::NoValue")
            ]
        if isinstance(value, Mapping) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Fn::Split":
                return self._split(argument, depth)
            if (
                function == "Ref"
                and isinstance(argument, str)
                and _is_list_parameter(self.parameters.get(argument))
            ):
                return None
            if function in ("Fn::GetAZs", "Fn::If", "Fn::Cidr"):
                return None
            if function == "Fn::FindInMap":
                found = self._find_in_map(argument, depth)
                if isinstance(found, list):
                    return [self.text(v, depth) for v in found]
        return [self.text(value, depth)]

    def ref(self, name: str, depth: int = 0) -> str:
        """What `{"Ref": name}` renders to."""
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return f"<{name}>"
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            return unresolved(f"Ref {name}")
        if resource.get("Type") in _QUALIFIED_FUNCTION_TYPES:
            return self._qualified_function(resource, name, depth)
        fmt = RESOURCE_FORMATS.get(str(resource.get("Type")))
        resource_name = self.resource_name(name, depth)
        if fmt is not None and fmt.ref == "arn":
            return fmt.arn.format(name=resource_name)
        if fmt is not None and fmt.ref == "url":
            return f"https://sqs.<region>.amazonaws.com/<account>/{resource_name}"
        return resource_name

    def get_att(self, name: str, attribute: str, depth: int = 0) -> str:
        """What `{"Fn::GetAtt": [name, attribute]}` renders to."""
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            return unresolved(f"Fn::GetAtt {name}.{attribute}")
        resource_type = str(resource.get("Type"))
        if resource_type in _QUALIFIED_FUNCTION_TYPES and attribute in ("Arn", "AliasArn"):
            return self._qualified_function(resource, name, depth)
        fmt = RESOURCE_FORMATS.get(resource_type)
        if fmt and (attribute == "Arn" or attribute in _ARN_ATTRIBUTES):
            return fmt.arn.format(name=self.resource_name(name, depth))
        if resource_type == "AWS::SQS::Queue" and attribute == "QueueName":
            return self.resource_name(name, depth)
        if resource_type == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.ref(name, depth)
        if resource_type == "AWS::DynamoDB::Table" and attribute == "StreamArn" and fmt:
            return fmt.arn.format(name=self.resource_name(name, depth)) + "/stream/<timestamp>"
        return f"<{name}.{attribute}>"

    def _qualified_function(self, resource: Mapping[str, Any], name: str, depth: int) -> str:
        """An alias's or version's ARN: its function's ARN, a colon, the alias or version."""
        props = resource.get("Properties")
        props = props if isinstance(props, Mapping) else {}
        function = self.text(props.get("FunctionName"), depth + 1)
        if not function.startswith("arn:"):
            function = RESOURCE_FORMATS["AWS::Lambda::Function"].arn.format(name=function)
        if resource.get("Type") == "AWS::Lambda::Alias":
            qualifier = self.text(props.get("Name"), depth + 1) or f"<{name}>"
        else:
            qualifier = f"<{name}.Version>"
        return f"{function}:{qualifier}"

    def resource_name(self, logical_id: str, depth: int = 0) -> str:
        """The resource's literal name property when it has one, else its logical id."""
        resource = self.resources.get(logical_id)
        if isinstance(resource, Mapping):
            fmt = RESOURCE_FORMATS.get(str(resource.get("Type")))
            props = resource.get("Properties")
            if fmt and fmt.name_prop and isinstance(props, Mapping) and fmt.name_prop in props:
                rendered = self.text(props[fmt.name_prop], depth + 1)
                if rendered and is_resolved(rendered):
                    return rendered
        return logical_id

    # -- functions ----------------------------------------------------------------------------

    def _function(self, function: str, argument: Any, depth: int) -> str:
        if function == "Ref":
            return (
                self.ref(str(argument), depth) if isinstance(argument, str) else unresolved("Ref")
            )
        if function == "Fn::GetAtt":
            parts = _get_att_parts(argument)
            if parts is None:
                return unresolved("Fn::GetAtt")
            return self.get_att(parts[0], self.text(parts[1], depth), depth)
        if function == "Fn::Join":
            return self._join(argument, depth)
        if function == "Fn::Sub":
            return self._sub(argument, depth)
        if function == "Fn::Select":
            return self._select(argument, depth)
        if function == "Fn::Split":
            pieces = self._split(argument, depth)
            return ", ".join(pieces) if pieces is not None else unresolved("Fn::Split")
        if function == "Fn::ImportValue":
            name = self.text(argument, depth)
            if name in self.exports:
                return self.exports[name]
            return unresolved(f"Fn::ImportValue {name}")
        if function == "Fn::FindInMap":
            found = self._find_in_map(argument, depth)
            if found is None:
                name = argument[0] if isinstance(argument, list) and argument else "?"
                return unresolved(f"Fn::FindInMap {self.text(name, depth)}")
            return self.text(found, depth)
        if function == "Fn::GetAZs":
            return "<availability-zones>"
        if function == "Fn::If":
            if isinstance(argument, list) and len(argument) == 3:
                # Both branches, so a reader sees what either outcome grants.
                branches = " | ".join(self.text(branch, depth) for branch in argument[1:])
                return unresolved(f"Fn::If {argument[0]}: {branches}")
            return unresolved("Fn::If")
        return unresolved(function)

    def _join(self, argument: Any, depth: int) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            return unresolved("Fn::Join")
        delimiter = self.text(argument[0], depth)
        parts = self.items(argument[1], depth)
        if parts is None or not isinstance(argument[1], (list, Mapping)):
            return unresolved("Fn::Join")
        return delimiter.join(parts)

    def _sub(self, argument: Any, depth: int) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, str):
            pattern = argument
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], Mapping)
        ):
            pattern, variables = argument[0], argument[1]
        else:
            return unresolved("Fn::Sub")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.text(variables[name], depth)
            if name in PSEUDO_PARAMETERS or name in self.parameters or name in self.resources:
                return self.ref(name, depth)
            if "." in name:
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute, depth)
            return unresolved(f"Fn::Sub ${{{name}}}")

        return SUB_VARIABLE.sub(replace, pattern)

    def _select(self, argument: Any, depth: int) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            return unresolved("Fn::Select")
        index_text = self.text(argument[0], depth)
        try:
            index = int(index_text)
        except ValueError:
            return unresolved("Fn::Select")
        source = argument[1]
        if isinstance(source, Mapping) and len(source) == 1:
            ((function, inner),) = source.items()
            if function == "Fn::GetAZs":
                return f"<availability-zone-{index}>"
            if function == "Ref" and isinstance(inner, str) and inner in self.parameters:
                return f"<{inner}[{index}]>"
        items = self.items(source, depth)
        if items is None or not 0 <= index < len(items):
            return unresolved("Fn::Select")
        return items[index]

    def _split(self, argument: Any, depth: int) -> list[str] | None:
        if not (isinstance(argument, list) and len(argument) == 2):
            return None
        delimiter = self.text(argument[0], depth)
        source = self.text(argument[1], depth)
        if not delimiter or not is_resolved(source):
            return None
        if any(delimiter in p for p in _PLACEHOLDER.findall(source)):
            return None  # splitting would cut through a placeholder: not determined
        return source.split(delimiter)

    def _find_in_map(self, argument: Any, depth: int) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            return None
        keys = [self.text(k, depth) for k in argument]
        if any(_PLACEHOLDER.search(k) for k in keys):
            return None
        level: Any = self.mappings
        for key in keys:
            if not isinstance(level, Mapping) or key not in level:
                return None
            level = level[key]
        return level


def _get_att_parts(argument: Any) -> tuple[str, Any] | None:
    if isinstance(argument, str) and "." in argument:
        name, attribute = argument.split(".", 1)
        return name, attribute
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        return argument[0], argument[1]
    return None


def _is_list_parameter(parameter: Any) -> bool:
    kind = parameter.get("Type", "") if isinstance(parameter, Mapping) else ""
    return isinstance(kind, str) and ("List" in kind)


def exports_of(templates: list[Mapping[str, Any]]) -> dict[str, str]:
    """Export name -> rendered value, over the Outputs of every template."""
    exports: dict[str, str] = {}
    for template in templates:
        outputs = template.get("Outputs")
        if not isinstance(outputs, Mapping):
            continue
        resolver = Resolver(template)
        for output in outputs.values():
            if not isinstance(output, Mapping):
                continue
            export = output.get("Export")
            if isinstance(export, Mapping) and "Name" in export:
                exports[resolver.text(export["Name"])] = resolver.text(output.get("Value"))
    return exports
