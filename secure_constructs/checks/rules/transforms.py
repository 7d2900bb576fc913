"""UnevaluatedTransform: a part of the template that CloudFormation writes only at deploy time.

`Fn::Transform` (a macro, or `AWS::Include` pulling a snippet from S3) replaces the mapping
that holds it with whatever the macro or the S3 object returns when the stack is created. What
the pack reads there is not what will be deployed: a policy, a function or a whole resource can
appear or change. So the pack does not judge the part as written and pass it; it reports every
`Fn::Transform` as an error (fail closed), and a top-level `Transform` other than SAM's (which
`secure-constructs audit` expands with aws-sam-translator; at synth CDK templates have none
unless added by hand). AWS: "Fn::Transform" and "AWS::Include transform" in the CloudFormation
User Guide (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-transform.html).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.model import Practice, Template, Violation, rule

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_FIX = (
    "audit the processed template instead (the CloudFormation console's 'View processed "
    "template', or `aws cloudformation get-template --template-stage Processed`), or inline "
    "the snippet into the template so the checks read what is deployed"
)


@rule(
    "UnevaluatedTransform",
    granular=True,
    practice=Practice.LEAST_PRIVILEGE,
    summary="Part of the template is written by a macro or AWS::Include at deploy time, so it "
    "cannot be checked",
    explanation=(
        "Fn::Transform replaces the mapping that holds it with what a macro or an S3 snippet "
        "(AWS::Include) returns at deploy time: a policy, a function or whole resources can "
        "appear there that no check has seen. Rather than pass the part as written, every "
        "Fn::Transform is an error, and so is a template-level Transform other than SAM's."
    ),
)
def unevaluated_transform(t: Template) -> Iterator[Violation]:
    """Each Fn::Transform anywhere in the template, and each non-SAM top-level Transform."""
    for name in _top_level(t.body.get("Transform")):
        if name != SAM_TRANSFORM:
            yield Violation(
                "Transform",
                "Transform",
                f"the template-level transform {name} rewrites the template at deploy time",
                _FIX,
                finding_id=f"Transform::{name}",
            )
    for section, entries in t.body.items():
        if section == "Transform":
            continue
        for path, macro in _transforms(entries, ()):
            owner = path[0] if path and section in ("Resources", "Outputs") else str(section)
            where = "/".join((str(section), *path))
            yield Violation(
                owner,
                where,
                f"{where} is Fn::Transform {macro}: its content is known only at deploy time",
                _FIX,
                finding_id=where,
            )


def _top_level(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return [str(i.get("Name") if isinstance(i, Mapping) else i) for i in items]


def _transforms(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, macro name) of every Fn::Transform below `value` (the outermost only)."""
    if isinstance(value, Mapping):
        if "Fn::Transform" in value:
            spec = value["Fn::Transform"]
            macro = spec.get("Name") if isinstance(spec, Mapping) else None
            yield path, str(macro or "(unnamed)")
            return
        for key, item in value.items():
            yield from _transforms(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _transforms(item, (*path, str(index)))


RULES = (unevaluated_transform,)
