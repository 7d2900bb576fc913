"""ARNs as the template writes them: `${AWS::Partition}`, literal names, `<LogicalId>` otherwise.

The permissions report renders every value through `ArnResolver`, a `Resolver` (the audit's
evaluator of intrinsics) that says only what the template says:

- pseudo parameters and parameters stay as written in `Fn::Sub` form: `${AWS::Partition}`,
  `${AWS::Region}`, `${AWS::AccountId}`, `${Stage}`; nothing (not even the partition) is guessed.
- a resource stands for itself by its name when the template sets one (literally or by an
  intrinsic that renders fully), else by `<LogicalId>`: the name or id CloudFormation generates
  at deploy time for that resource. A resource of another stack is `<Stack/LogicalId>`.
- every resource type of `ARN_FORMATS` renders in the same ARN form from `Ref` and from
  `Fn::GetAtt ... Arn`; `<LogicalId.Attr>` is an attribute whose format the report does not know.
- cross-stack references are followed when the other stack was given too: `Fn::ImportValue`
  (CDK's strong references, `Producer:ExportsOutput...`) through the exports of the given
  stacks, the stacks of the same cloud assembly first; `Fn::GetStackOutput` (CDK's weak
  references) through the manifest's stack names of the same assembly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.cfn import PSEUDO_PARAMETERS, intrinsic
from secure_constructs.checks.intrinsics import Resolver, is_resolved, unresolved
from secure_constructs.facts.arn_formats import ARN_FORMATS as FACTS
from secure_constructs.facts.arn_formats import ArnFormat

ARN_FORMATS: dict[str, ArnFormat] = {
    type_: ArnFormat(
        fmt.ref,
        fmt.written("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"),
        fmt.name_prop,
    )
    for type_, fmt in FACTS.items()
}
"""facts.arn_formats as the template writes ARNs (`arn:${AWS::Partition}:...`)."""

_QUALIFIED_FUNCTION_TYPES = ("AWS::Lambda::Alias", "AWS::Lambda::Version")
# GetAtt attributes that return the ARN, besides "Arn".
_ARN_ATTRIBUTES = {"Arn", "TopicArn", "PolicyArn", "KeyArn", "SecretArn", "StateMachineArn"}
_NAME_ATTRIBUTES = {"Name", "QueueName", "TopicName", "TableName", "BucketName", "RoleName"}
_SQS_URL = "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/{name}"

_PROTECTED = re.compile(r"\$\{[^}]*\}|<[^<>]*>")

GENERATED = "<{}>"
"""How a name the template leaves to CloudFormation is shown: `<LogicalId>`."""


class Assembly:
    """Every given stack, indexed for cross-stack references (exports, manifest stack names)."""

    def __init__(self, stacks: Iterable[StackSource]):
        self.stacks = list(stacks)
        self._resolvers: dict[tuple[str, bool], ArnResolver] = {}
        self._manifest = _manifest_facts(self.stacks)

    def resolver(self, stack: StackSource, *, foreign: bool = False) -> ArnResolver:
        """The resolver of `stack`; `foreign` when its values are shown inside another stack."""
        key = (stack.name, foreign)
        if key not in self._resolvers:
            self._resolvers[key] = ArnResolver(stack, self, foreign=foreign)
        return self._resolvers[key]

    def deploy_name(self, stack: StackSource) -> str:
        """The stack's deployed name (the manifest's stackName), else its report name."""
        return self._manifest.get(id(stack), (stack.name, None, None))[0]

    def account(self, stack: StackSource) -> str | None:
        """The stack's account when its manifest environment names one (`aws://123.../...`)."""
        return self._manifest.get(id(stack), (stack.name, None, None))[1]

    def region(self, stack: StackSource) -> str | None:
        """The stack's region when its manifest environment names one."""
        return self._manifest.get(id(stack), (stack.name, None, None))[2]

    def exported(self, name: str, importer: StackSource) -> str:
        """What `Fn::ImportValue name` renders to inside `importer`."""
        found: dict[str, str] = {}
        candidates = sorted(
            (s for s in self.stacks if s is not importer),
            key=lambda s: s.assembly != importer.assembly,  # the same assembly first
        )
        for stack in candidates:
            outputs = stack.body.get("Outputs")
            if not isinstance(outputs, Mapping):
                continue
            resolver = self.resolver(stack, foreign=True)
            for output in outputs.values():
                export = output.get("Export") if isinstance(output, Mapping) else None
                if not isinstance(export, Mapping) or "Name" not in export:
                    continue
                export_name = resolver.text(export["Name"]).replace(
                    "${AWS::StackName}", self.deploy_name(stack)
                )
                if export_name == name:
                    found.setdefault(str(stack.assembly), resolver.text(output.get("Value")))
            if found and stack.assembly == importer.assembly:
                break
        values = set(found.values())
        if len(values) == 1:
            return values.pop()
        if values:
            return unresolved(f"Fn::ImportValue {name}: exported by several stacks")
        return unresolved(f"Fn::ImportValue {name}")

    def stack_output(self, argument: Any, importer: StackSource, resolver: ArnResolver) -> str:
        """What `Fn::GetStackOutput {StackName, OutputName, Region}` renders to."""
        if not isinstance(argument, Mapping):
            return unresolved("Fn::GetStackOutput")
        stack_name = resolver.text(argument.get("StackName"))
        output_name = resolver.text(argument.get("OutputName"))
        what = f"Fn::GetStackOutput {stack_name}.{output_name}"
        if "RoleArn" in argument:  # another account's stack: not this assembly's
            return unresolved(what)
        matches = [
            s
            for s in self.stacks
            if s.assembly is not None
            and s.assembly == importer.assembly
            and self.deploy_name(s) == stack_name
        ]
        if len(matches) != 1:
            return unresolved(what)
        outputs = matches[0].body.get("Outputs")
        output = outputs.get(output_name) if isinstance(outputs, Mapping) else None
        if not isinstance(output, Mapping) or "Value" not in output:
            return unresolved(what)
        return self.resolver(matches[0], foreign=True).text(output["Value"])

    def cross_region(self, path: str, importer: StackSource) -> str:
        """What CDK's cross-region reference (`crossRegionReferences`) renders to: the reader's
        attribute is an SSM parameter path that another stack's export writer fills."""
        values = set()
        for stack in self.stacks:
            if stack is importer:
                continue
            for resource in stack.resources.values():
                if resource.get("Type") != "Custom::CrossRegionExportWriter":
                    continue
                props = resource.get("Properties")
                writer = props.get("WriterProps") if isinstance(props, Mapping) else None
                exports = writer.get("exports") if isinstance(writer, Mapping) else None
                if isinstance(exports, Mapping) and path in exports:
                    values.add(self.resolver(stack, foreign=True).text(exports[path]))
        if len(values) == 1:
            return values.pop()
        return unresolved(f"cross-region reference {path}")


def _manifest_facts(stacks: list[StackSource]) -> dict[int, tuple[str, str | None, str | None]]:
    """id(stack) -> (the stackName its assembly's manifest gives it, its account, its region),
    the account and region when the manifest's environment names them literally."""
    names: dict[int, tuple[str, str | None, str | None]] = {}
    manifests: dict[Path, Mapping[str, Any]] = {}
    for stack in stacks:
        if stack.assembly is None:
            continue
        if stack.assembly not in manifests:
            try:
                data = json.loads((stack.assembly / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            artifacts = data.get("artifacts") if isinstance(data, Mapping) else None
            manifests[stack.assembly] = artifacts if isinstance(artifacts, Mapping) else {}
        for artifact_id, artifact in manifests[stack.assembly].items():
            props = artifact.get("properties") if isinstance(artifact, Mapping) else None
            if not isinstance(props, Mapping):
                continue
            template = props.get("templateFile")
            if isinstance(template, str) and (stack.assembly / template) == stack.path:
                env = str(artifact.get("environment") or "")
                account, _, region = env.removeprefix("aws://").partition("/")
                names[id(stack)] = (
                    str(props.get("stackName") or artifact_id),
                    account if re.fullmatch(r"\d{12}", account) else None,
                    region if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region) else None,
                )
    return names


class ArnResolver(Resolver):
    """A `Resolver` that renders ARNs from the template's own intrinsics (see the module)."""

    def __init__(self, stack: StackSource, assembly: Assembly, *, foreign: bool = False):
        super().__init__(stack.body)
        self.stack = stack
        self.assembly = assembly
        self.prefix = f"{stack.name}/" if foreign else ""
        # Shown inside another stack, this stack's ${AWS::Region} would read as that stack's:
        # where the manifest knows this stack's account or region, it is shown literally.
        self.known: dict[str, str] = {}
        if foreign:
            for pseudo, value in (
                ("AWS::AccountId", assembly.account(stack)),
                ("AWS::Region", assembly.region(stack)),
            ):
                if value:
                    self.known[pseudo] = value

    def text(self, value: Any, _depth: int = 0) -> str:
        call = intrinsic(value)
        if call is not None and _depth <= 25:
            function, argument = call
            if function == "Fn::ImportValue":
                return self.assembly.exported(super().text(argument, _depth + 1), self.stack)
            if function == "Fn::GetStackOutput":
                return self.assembly.stack_output(argument, self.stack, self)
            if function == "Fn::Split":
                pieces = self._split_protected(argument, _depth + 1)
                return ", ".join(pieces) if pieces is not None else unresolved("Fn::Split")
        return super().text(value, _depth)

    def items(self, value: Any, _depth: int = 0) -> list[str] | None:
        call = intrinsic(value)
        if call is not None and call[0] == "Fn::Split" and _depth <= 25:
            return self._split_protected(call[1], _depth + 1)
        return super().items(value, _depth)

    def _split_protected(self, argument: Any, depth: int) -> list[str] | None:
        """`Fn::Split` that never cuts through `${AWS::Region}` or `<LogicalId>`."""
        if not (isinstance(argument, list) and len(argument) == 2):
            return None
        delimiter = self.text(argument[0], depth)
        source = self.text(argument[1], depth)
        if not delimiter or not is_resolved(source):
            return None
        kept: list[str] = []

        def protect(match: re.Match[str]) -> str:
            if match.group(0).startswith("<") and delimiter in match.group(0):
                raise ValueError  # the delimiter is inside a generated value: not determined
            kept.append(match.group(0))
            return f"\x01{len(kept) - 1}\x02"

        try:
            masked = _PROTECTED.sub(protect, source)
        except ValueError:
            return None
        restore = re.compile("\x01(\\d+)\x02")
        return [restore.sub(lambda m: kept[int(m.group(1))], p) for p in masked.split(delimiter)]

    def ref(self, name: str, depth: int = 0) -> str:
        if name in self.known:
            return self.known[name]
        if name in PSEUDO_PARAMETERS:
            return "" if name == "AWS::NoValue" else f"${{{name}}}"
        if name in self.parameters:
            return f"${{{name}}}"
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            return unresolved(f"Ref {name}")
        resource_type = str(resource.get("Type"))
        if resource_type in _QUALIFIED_FUNCTION_TYPES:
            return self._qualified(resource, name, depth)
        fmt = ARN_FORMATS.get(resource_type)
        resource_name = self.resource_name(name, depth)
        if fmt is None:
            return resource_name
        if fmt.ref == "arn":
            return self._arn(fmt, resource_name)
        if fmt.ref == "url":
            return self._known(_SQS_URL).replace("{name}", resource_name)
        return resource_name

    def get_att(self, name: str, attribute: str, depth: int = 0) -> str:
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            return unresolved(f"Fn::GetAtt {name}.{attribute}")
        resource_type = str(resource.get("Type"))
        if resource_type in _QUALIFIED_FUNCTION_TYPES and attribute in ("Arn", "AliasArn"):
            return self._qualified(resource, name, depth)
        if resource_type == "Custom::CrossRegionExportReader":
            return self.assembly.cross_region(attribute, self.stack)
        fmt = ARN_FORMATS.get(resource_type)
        if fmt is not None and attribute in _ARN_ATTRIBUTES:
            return self._arn(fmt, self.resource_name(name, depth))
        if fmt is not None and fmt.name_prop and attribute in _NAME_ATTRIBUTES:
            return self.resource_name(name, depth)
        if resource_type == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.ref(name, depth)
        if resource_type == "AWS::KMS::Key" and attribute == "KeyId":
            return self.resource_name(name, depth)
        if fmt is not None and attribute == "StreamArn":
            return self._arn(fmt, self.resource_name(name, depth)) + "/stream/<timestamp>"
        return f"<{self.prefix}{name}.{attribute}>"

    def resource_name(self, logical_id: str, depth: int = 0) -> str:
        """The name the template gives the resource, else `<LogicalId>` (generated at deploy)."""
        resource = self.resources.get(logical_id)
        if isinstance(resource, Mapping):
            fmt = ARN_FORMATS.get(str(resource.get("Type")))
            props = resource.get("Properties")
            if fmt and fmt.name_prop and isinstance(props, Mapping) and fmt.name_prop in props:
                rendered = self.text(props[fmt.name_prop], depth + 1)
                if rendered and is_resolved(rendered):
                    return rendered
        return GENERATED.format(self.prefix + logical_id)

    def _arn(self, fmt: ArnFormat, name: str) -> str:
        arn = self._known(fmt.arn)
        if arn.endswith("parameter/{name}") and name.startswith("/"):
            return arn.replace("/{name}", name)  # SSM: a path name keeps one slash
        return arn.replace("{name}", name)

    def _known(self, text: str) -> str:
        for pseudo, value in self.known.items():
            text = text.replace(f"${{{pseudo}}}", value)
        return text

    def _qualified(self, resource: Mapping[str, Any], name: str, depth: int) -> str:
        """An alias's or version's ARN: its function's ARN, a colon, the alias or version."""
        props = resource.get("Properties")
        props = props if isinstance(props, Mapping) else {}
        function = self.text(props.get("FunctionName"), depth + 1)
        if not function.startswith("arn:"):
            function = self._arn(ARN_FORMATS["AWS::Lambda::Function"], function)
        if resource.get("Type") == "AWS::Lambda::Alias":
            qualifier = self.text(props.get("Name"), depth + 1) or f"<{self.prefix}{name}>"
        else:
            qualifier = f"<{self.prefix}{name}.Version>"
        return f"{function}:{qualifier}"
