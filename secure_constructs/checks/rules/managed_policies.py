"""IAMManagedPolicy: AWS managed policies attached to a role, user or group.

AWS managed policies are written for every account, so they grant on `Resource: "*"` (every
table, every log group, every bucket); `AmazonDynamoDBFullAccess` lets a function delete any
table in the account. A SAM template attaches them by name (`Policies: [AmazonDynamoDBFullAccess]`,
and SAM's own `AWSLambdaBasicExecutionRole`), which the translator turns into
`ManagedPolicyArns`; a plain template names their ARNs. Their documents are not in the template,
so no rule reading policy statements sees what they grant: this rule names each one.
SAM policy templates (`DynamoDBCrudPolicy: {TableName: ...}`) expand into inline policies,
which the statement rules (IAMWildcard ...) judge instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from secure_constructs.checks.cfn import (
    MAX_RENDERINGS,
    PSEUDO_PARAMETERS,
    SUB_VARIABLE,
    UNKNOWN,
    intrinsic,
    renderings,
    sub_parts,
)
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule

PRINCIPAL_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
# `arn:<partition>:iam::aws:policy/<path/>Name`: the account `aws` owns AWS managed policies.
_AWS_MANAGED = re.compile(r"^arn:[^:]*:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
# Policies granting every action of a service, or of the account: an error, not a warning.
_FULL_ACCESS = re.compile(r"FullAccess|^AdministratorAccess|^PowerUserAccess")
DEPLOY_TIME = "DeployTimeName"
"""The finding id's name for an AWS managed policy named by a parameter: an error (fail closed,
it can be AdministratorAccess)."""


def aws_managed_policy(arn: object) -> str | None:
    """The name of the AWS managed policy an ARN (literal, Sub or Join) names, else None."""
    for text in renderings(arn):
        match = _AWS_MANAGED.match(text)
        if match:
            return match.group("name")
    return None


_LIST_PARAMETER = re.compile(r"^(CommaDelimitedList|List<)")
_SSM_PARAMETER = "AWS::SSM::Parameter::Value<"  # its Default names the SSM parameter, not the value
_MAX_DEPTH = 25
_PROPERTY = "Properties/ManagedPolicyArns"


class PolicyArns:
    """Every string a principal's `ManagedPolicyArns` can hold, as far as the template says.

    A parameter counts as its Default and its AllowedValues (a deploy keeping the default gets
    exactly that policy); one with neither, an SSM-typed parameter, an import, a custom
    resource's attribute or a mapping the template does not hold is UNKNOWN (chosen at deploy
    time). `Fn::If` contributes both branches, `Fn::FindInMap` every value its keys can reach,
    `Fn::Select`/`Fn::Split` are evaluated. A `Ref`/`GetAtt` to an `AWS::IAM::ManagedPolicy`
    of the template is customer-managed: no string (its statements are judged where defined).
    """

    def __init__(self, t: Template) -> None:
        self.t = t
        body = t.body if isinstance(t.body, Mapping) else {}
        parameters, mappings = body.get("Parameters"), body.get("Mappings")
        self.parameters: Mapping[str, Any] = parameters if isinstance(parameters, Mapping) else {}
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        self.resources = t.resources

    def entries(self, value: Any) -> Iterator[tuple[str, str]]:
        """(path of the entry, a string it can be) for the whole `ManagedPolicyArns` value."""
        if isinstance(value, list):
            for index, item in enumerate(value):
                for text in self.texts(item):
                    yield f"{_PROPERTY}/{index}", text
        else:  # a list built by an intrinsic: Fn::If, Ref to a list parameter, Fn::Split ...
            for text in self.list_texts(value):
                yield _PROPERTY, text

    def list_texts(self, value: Any, depth: int = 0) -> list[str]:
        """The strings any item of a list-valued `value` can be."""
        if depth > _MAX_DEPTH:
            return [UNKNOWN]
        if value is None:
            return []
        if isinstance(value, list):
            return [text for item in value for text in self.texts(item, depth + 1)]
        call = intrinsic(value)
        if call is None:
            return self.texts(value, depth + 1)
        name, argument = call
        if name == "Fn::If":
            return [t for b in _branches(argument) for t in self.list_texts(b, depth + 1)]
        if name == "Ref" and argument == "AWS::NoValue":
            return []
        if name == "Ref" and _LIST_PARAMETER.match(self._parameter_type(argument)):
            return [
                piece.strip() if UNKNOWN not in piece else UNKNOWN
                for text in self._parameter_texts(str(argument))
                for piece in text.split(",")
            ]
        if name == "Fn::Split":
            return [t for items in self._split(argument, depth) for t in items]
        if name == "Fn::FindInMap":
            found = self._find_in_map(argument, depth)
            if found is None:
                return [UNKNOWN]
            return [t for each in found for t in self.list_texts(each, depth + 1)]
        return [UNKNOWN]  # a list only deployment knows (an import, a custom resource ...)

    def texts(self, value: Any, depth: int = 0) -> list[str]:
        """The strings one item can be (UNKNOWN for parts known only at deploy time)."""
        if depth > _MAX_DEPTH:
            return [UNKNOWN]
        if value is None:
            return []
        call = intrinsic(value)
        if call is None:
            return renderings(value) or [UNKNOWN]
        name, argument = call
        if name == "Ref" and isinstance(argument, str):
            if argument == "AWS::NoValue":
                return []
            if argument in PSEUDO_PARAMETERS:
                return self._ref_texts(argument)
            if argument in self.parameters:
                return self._parameter_texts(argument)
            return self._resource_texts(argument)
        if name == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) and argument else argument
            return self._resource_texts(str(target).split(".", 1)[0])
        if name == "Fn::If":
            return [t for b in _branches(argument) for t in self.texts(b, depth + 1)]
        if name == "Fn::Select":
            return self._select(argument, depth)
        if name == "Fn::FindInMap":
            found = self._find_in_map(argument, depth)
            if found is None:
                return [UNKNOWN]
            return [t for each in found for t in self.texts(each, depth + 1)]
        if name == "Fn::ImportValue":
            return [UNKNOWN]
        if name == "Fn::Join":
            return self._join(argument, depth)
        if name == "Fn::Sub":
            return self._sub(argument, depth)
        return [UNKNOWN]

    # -- helpers ------------------------------------------------------------------------------

    def _ref_texts(self, name: str) -> list[str]:
        """What `Ref name` (or `${name}` in a Sub) can be, inside a string."""
        if name in PSEUDO_PARAMETERS:
            rendered = PSEUDO_PARAMETERS[name]
            return [UNKNOWN if rendered.startswith("<") else rendered]
        if name in self.parameters:
            return self._parameter_texts(name)
        return self._resource_texts(name) or [""]  # a customer policy's ARN: not AWS managed

    def _join(self, argument: Any, depth: int) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            return [UNKNOWN]
        delimiter, parts = argument
        if not isinstance(delimiter, str) or not isinstance(parts, list):
            return [UNKNOWN]
        return _combine(
            [self.texts(part, depth + 1) or [""] for part in parts], lambda c: delimiter.join(c)
        )

    def _sub(self, argument: Any, depth: int) -> list[str]:
        text, variables = sub_parts(argument)
        if text is None:
            return [UNKNOWN]
        pieces = SUB_VARIABLE.split(text)  # literal, name, literal, name, ... literal
        choices: list[list[str]] = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                choices.append([piece])
            elif piece.startswith("!"):
                choices.append(["${" + piece[1:] + "}"])
            elif piece in variables:
                choices.append(self.texts(variables[piece], depth + 1) or [""])
            elif "." in piece:
                choices.append(self._resource_texts(piece.split(".", 1)[0]) or [""])
            else:
                choices.append(self._ref_texts(piece))
        return _combine(choices, "".join)

    def _parameter_type(self, name: Any) -> str:
        parameter = self.parameters.get(name) if isinstance(name, str) else None
        kind = parameter.get("Type") if isinstance(parameter, Mapping) else None
        return kind if isinstance(kind, str) else ""

    def _parameter_texts(self, name: str) -> list[str]:
        parameter = self.parameters.get(name)
        if not isinstance(parameter, Mapping) or _SSM_PARAMETER in self._parameter_type(name):
            return [UNKNOWN]
        values = []
        if isinstance(parameter.get("Default"), str | int):
            values.append(str(parameter["Default"]))
        allowed = parameter.get("AllowedValues")
        if isinstance(allowed, list):
            values.extend(str(v) for v in allowed if isinstance(v, str | int))
        return list(dict.fromkeys(values)) or [UNKNOWN]  # neither: any value at deploy time

    def _resource_texts(self, logical_id: str) -> list[str]:
        resource = self.resources.get(logical_id)
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::IAM::ManagedPolicy":
            return []  # customer-managed, judged where it is defined
        return [UNKNOWN]  # a custom resource, a nested stack's output, no such resource ...

    def _select(self, argument: Any, depth: int) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            return [UNKNOWN]
        index, source = argument
        positions = self._positions(source, depth)
        if isinstance(index, int | str) and str(index).isdigit() and positions is not None:
            chosen = [items[int(index)] for items in positions if int(index) < len(items)]
            if not chosen:
                return [UNKNOWN]  # out of range in every alternative: a failed deploy, or unknown
            return [t for each in chosen for t in each]
        return self.list_texts(source, depth + 1)  # any item of the list can be the one chosen

    def _positions(self, source: Any, depth: int) -> list[list[list[str]]] | None:
        """The list's alternatives, each a list of the strings per position (None: unknown)."""
        if isinstance(source, list):
            return [[self.texts(item, depth + 1) for item in source]]
        call = intrinsic(source)
        if call is not None and call[0] == "Fn::Split":
            return [[[piece] for piece in items] for items in self._split(call[1], depth)]
        return None

    def _split(self, argument: Any, depth: int) -> list[list[str]]:
        """`Fn::Split [delimiter, source]`: one list of pieces per string the source can be."""
        if not (isinstance(argument, list) and len(argument) == 2):
            return [[UNKNOWN]]
        delimiter, source = argument
        if not isinstance(delimiter, str) or not delimiter:
            return [[UNKNOWN]]
        return [text.split(delimiter) for text in self.texts(source, depth + 1)] or [[UNKNOWN]]

    def _find_in_map(self, argument: Any, depth: int) -> list[Any] | None:
        """Every value `Fn::FindInMap` can reach: a key known only at deploy time takes every
        key of its level. None when the template holds no such mapping or entry."""
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return None
        levels: list[Any] = [self.mappings]
        for key in argument[:3]:
            keys = self.texts(key, depth + 1)
            reached: list[Any] = []
            for level in levels:
                if not isinstance(level, Mapping):
                    continue
                if any(UNKNOWN in k for k in keys):
                    reached.extend(level.values())
                else:
                    reached.extend(level[k] for k in keys if k in level)
            levels = reached
        if len(argument) == 4:  # AWS::LanguageExtensions' DefaultValue
            default = argument[3]
            if isinstance(default, Mapping) and "DefaultValue" in default:
                levels.append(default["DefaultValue"])
        return levels or None


def _combine(choices: Sequence[list[str]], join: Callable[[tuple[str, ...]], str]) -> list[str]:
    """Every string made of one choice per part (at most MAX_RENDERINGS; past that: UNKNOWN,
    so a value with more outcomes than are judged fails closed)."""
    combos = list(itertools.islice(itertools.product(*choices), MAX_RENDERINGS + 1))
    texts = [join(combo) for combo in combos[:MAX_RENDERINGS]]
    return [*texts, UNKNOWN] if len(combos) > MAX_RENDERINGS else texts


def _branches(argument: Any) -> list[Any]:
    """Both outcomes of an `Fn::If` (a malformed one: an unknown value)."""
    if isinstance(argument, list) and len(argument) == 3:
        return [argument[1], argument[2]]
    return [{"Fn::ImportValue": "<malformed Fn::If>"}]


def policy_name(text: str) -> str | None:
    """The AWS managed policy one ManagedPolicyArns string names (DEPLOY_TIME when it can be
    any of them), else None (a customer-managed ARN)."""
    match = _AWS_MANAGED.match(text)
    if match:
        return DEPLOY_TIME if UNKNOWN in match.group("name") else match.group("name")
    if UNKNOWN in text and not _CUSTOMER_MANAGED.match(text):
        return DEPLOY_TIME  # a whole ARN chosen at deploy time: it can be AdministratorAccess
    return None


# `arn:<partition>:iam::<account>:policy/...` in an account other than `aws` (or unknown
# parts elsewhere than the account `aws`, e.g. `${AWS::AccountId}`): customer-managed.
_CUSTOMER_MANAGED = re.compile(r"^arn:[^:]*:iam::(?!aws:)[^:]*:policy/")


@rule(
    "IAMManagedPolicy",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=PRINCIPAL_TYPES,
    granular=True,
    summary="A role, user or group has an AWS managed policy attached (error for full-access "
    "and administrator policies)",
    explanation=(
        'AWS managed policies are written for every account: they grant on Resource "*", so a '
        "function with AmazonDynamoDBFullAccess can read and delete every table of the account, "
        "and AWSLambdaBasicExecutionRole lets it write to any log group. Their documents are "
        "not in the template, so no statement rule sees them. Full-access, administrator and "
        "power-user policies are errors; other AWS managed policies (read-only, execution "
        "roles) are warnings. SAM's Policies names become such ARNs after the transform."
    ),
)
def iam_managed_policy(t: Template) -> Iterator[Violation]:
    """Every AWS managed policy a principal's ManagedPolicyArns can hold."""
    arns = PolicyArns(t)
    for logical_id, props in t.of_type(*PRINCIPAL_TYPES):
        seen = set()
        for path, text in arns.entries(props.get("ManagedPolicyArns")):
            name = policy_name(text)
            if name is None or (path, name) in seen:
                continue  # a customer-managed policy: its statements are judged where defined
            seen.add((path, name))
            chosen_later = name == DEPLOY_TIME
            full = chosen_later or _FULL_ACCESS.search(name) is not None
            yield Violation(
                logical_id,
                path,
                (
                    "an AWS managed policy named only at deploy time is attached (it can be "
                    "AdministratorAccess)"
                    if chosen_later
                    else f"the AWS managed policy {name} is attached"
                    + (" (every action of its service, on every resource)" if full else "")
                )
                + ": it grants on every resource of its kind in the account",
                "replace it with a policy naming the actions and the resources: in CDK a "
                "grant_* call (table.grant_read_write_data(fn)); in SAM a policy template "
                "(DynamoDBCrudPolicy: {TableName: !Ref Table}) or a Statement with named ARNs",
                finding_id=f"Policy::{name}",
                severity=Severity.ERROR if full else Severity.WARNING,
            )


RULES = (iam_managed_policy,)
