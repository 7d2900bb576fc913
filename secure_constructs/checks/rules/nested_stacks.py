"""A nested stack whose template is not checked: its template is not in the cloud assembly, or
cannot be read.

The synth plugin (and the audit of a cloud assembly) check every nested template they can
locate (checks.nested); this rule makes the ones they cannot an ERROR instead of a silent skip.
"""

from __future__ import annotations

from collections.abc import Iterator

from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.nested import (
    ASSET_PATH_METADATA,
    NESTED_STACK_TYPE,
    locate,
    stack_resources,
)


@rule(
    "NestedStackTemplate",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=(NESTED_STACK_TYPE,),
    summary="A nested stack whose template is not in the cloud assembly or cannot be read, so "
    "nothing in it is checked",
    explanation="A cdk.NestedStack's template is a file asset of its parent: the checks follow "
    "the stack resource's aws:asset:path metadata (or the assets manifest entry of its "
    "TemplateURL) and check the nested template like any other. A stack resource whose "
    "template is not there (a CfnStack with a TemplateURL of its own, a template deleted or "
    "broken after synthesis) would deploy resources that no rule has seen: its roles, "
    "policies and functions could grant anything.",
)
def nested_stack_template(t: Template) -> Iterator[Violation]:
    for logical_id, resource in stack_resources(t.body):
        problem = locate(resource, t.assembly_dir).problem
        if problem is not None:
            yield Violation(
                logical_id,
                f"Metadata/{ASSET_PATH_METADATA}",
                f"the nested stack is not checked: {problem}",
                "define the nested stack as a cdk.NestedStack in this app and synthesize it "
                "with the cloud assembly (cdk synth), so that its template is checked",
            )


RULES = (nested_stack_template,)
