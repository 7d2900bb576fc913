"""Reading a Step Functions state machine's definition from a CloudFormation resource: the
`Definition` object, the `DefinitionString` (also when CDK joins it with intrinsics:
`checks.cfn.renderings` renders every `Fn::If` branch, the deploy-time parts as placeholders
inside the JSON strings) with literal `DefinitionSubstitutions`; a definition in
`DefinitionS3Location`, or one that does not parse, is reported as unreadable. Used by the
workflow rules and by SecureStateMachine's synth-time check of nested task timeouts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.cfn import renderings
from secure_constructs.checks.sfn_structure import (
    TooManyBranchesError,
    expand_conditions,
    unreadable_part,
)
from secure_constructs.facts.stepfunctions_facts import NESTED_STATE_TYPES


@dataclass(frozen=True)
class Definitions:
    """Every form the definition can take (both `Fn::If` branches), or why it cannot be read."""

    bodies: tuple[Mapping[str, Any], ...]
    problem: str | None = None
    path: str = "Properties/DefinitionString"


def definitions(props: Mapping[str, Any]) -> Definitions:
    if "DefinitionS3Location" in props:
        return Definitions(
            (),
            "the definition is in S3 (DefinitionS3Location), so its states cannot be checked",
            "Properties/DefinitionS3Location",
        )
    if "Definition" in props:
        return _checked(_object_bodies(props["Definition"]), "Properties/Definition")
    value = props.get("DefinitionString")
    if value is None:
        return Definitions((), "the state machine has no definition in the template")
    texts = [value] if isinstance(value, str) else renderings(value)
    substitutions = props.get("DefinitionSubstitutions")
    bodies = []
    for text in texts:
        body = parse_definition(substitute(text, substitutions))
        if body is None:
            return Definitions(
                (),
                "the DefinitionString does not parse as JSON (an intrinsic "
                "outside a string value?), so its states cannot be checked",
            )
        bodies.append(body)
    if not bodies:
        return Definitions((), "the DefinitionString cannot be rendered")
    return _checked(bodies, "Properties/DefinitionString")


def _object_bodies(definition: Any) -> list[Any] | str:
    """Every body a `Definition` object can deploy as (its conditions expanded), or why not."""
    try:
        bodies = expand_conditions(definition)
    except TooManyBranchesError as error:
        return f"the Definition has {error}, so not every form of it can be checked"
    return bodies


def _checked(bodies: list[Any] | str, path: str) -> Definitions:
    """The bodies, or why the rules cannot read one of them (fail closed)."""
    if isinstance(bodies, str):
        return Definitions((), bodies, path)
    for body in bodies:
        where = unreadable_part(body) if isinstance(body, Mapping) else "it is not an object"
        if where:
            return Definitions(
                (), f"the definition cannot be checked: {where} (write it out literally)", path
            )
    if not bodies:
        return Definitions((), "the definition is empty", path)
    return Definitions(tuple(bodies), path=path)


def substitute(text: str, substitutions: Any) -> str:
    """Literal `DefinitionSubstitutions` put in; the others stay `${name}`."""
    if not isinstance(substitutions, Mapping):
        return text
    for name, value in substitutions.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = text.replace("${" + str(name) + "}", str(value))
    return text


def parse_definition(text: str) -> Mapping[str, Any] | None:
    try:
        body = json.loads(text, strict=False)  # placeholders are control characters
    except ValueError:
        return None
    return body if isinstance(body, Mapping) else None


def states(body: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, state) of every state, nested Parallel branches and Map processors included.

    `definitions` has refused a body with a state that is not an object with a Type
    (`sfn_structure.unreadable_part`), so none is skipped here unseen."""
    listed = body.get("States")
    if not isinstance(listed, Mapping):
        return
    for name, state in listed.items():
        if not isinstance(state, Mapping):
            continue
        path = f"{prefix}{name}"
        yield path, state
        if state.get("Type") not in NESTED_STATE_TYPES:
            continue
        branches = state.get("Branches")
        nested = list(branches) if isinstance(branches, list) else []
        nested += [
            state[k] for k in ("ItemProcessor", "Iterator") if isinstance(state.get(k), Mapping)
        ]
        for index, branch in enumerate(nested):
            if isinstance(branch, Mapping):
                yield from states(branch, f"{path}/{index}/")
