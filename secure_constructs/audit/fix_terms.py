"""Which fix text a finding gets: CDK terms for a template CDK made, template terms otherwise.

A rule's own fix names the secure-constructs or CDK call to use, which the author of a
hand-written or SAM template cannot make; docs/RULES.md's **Fix (template).** paragraph
(`checks.rule_fixes.TEMPLATE_FIXES`) says what to change in the template instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.engine import RULE_ERROR
from secure_constructs.checks.model import Finding
from secure_constructs.checks.rule_fixes import TEMPLATE_FIXES

CDK_METADATA_TYPE = "AWS::CDK::Metadata"
CDK_PATH_METADATA = "aws:cdk:path"


def made_by_cdk(stack: StackSource) -> bool:
    """A stack of a cloud assembly, or a template with CDK's path metadata or metadata resource."""
    if stack.assembly is not None or stack.construct_paths:
        return True
    for resource in stack.resources.values():
        if not isinstance(resource, Mapping):
            continue
        if resource.get("Type") == CDK_METADATA_TYPE:
            return True
        metadata = resource.get("Metadata")
        if isinstance(metadata, Mapping) and CDK_PATH_METADATA in metadata:
            return True
    return False


def fix_text(finding: Finding, *, cdk: bool) -> str:
    """The finding's own (CDK) fix in a CDK template, else its rule's template-terms fix."""
    if cdk or finding.finding_id == RULE_ERROR:
        return finding.fix
    return TEMPLATE_FIXES.get(finding.rule_id, finding.fix)
