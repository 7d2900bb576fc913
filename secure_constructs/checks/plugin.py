"""The CDK validation-plugin adapter for the SecureServerless pack.

CDK calls `validate` after synthesis with the paths of the synthesized templates; the pack's
pure-Python rules run over them and the findings come back as a CDK policy-validation report,
so they can be acknowledged with `Validations.of(c).acknowledge(...)` like cdk-nag's.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import jsii

from secure_constructs.checks.engine import check_template_file
from secure_constructs.checks.model import CheckOptions, Finding, Severity
from secure_constructs.checks.registry import PACK_NAME, RULES, all_rules
from secure_constructs.defaults import CHECKS_MAX_TIMEOUT_SECONDS

_VERSION = "0.1.0"


@jsii.implements(cdk.IPolicyValidationPlugin)
class SecureServerlessChecks:
    """Our own pack: the checks cdk-nag's packs miss for serverless apps.

    :param max_timeout: the largest Lambda timeout allowed (LambdaTimeout rule).
        Default: 60 seconds.
    """

    def __init__(self, *, max_timeout: cdk.Duration | None = None) -> None:
        seconds = (
            int(max_timeout.to_seconds()) if max_timeout is not None else CHECKS_MAX_TIMEOUT_SECONDS
        )
        self._options = CheckOptions(max_timeout_seconds=seconds)
        all_rules()

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str:
        return _VERSION

    @property
    def rule_ids(self) -> list[str]:
        return list(RULES)

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        violations: list[cdk.PolicyViolation] = []
        failed = False
        for stack in context.stack_templates:
            path = Path(stack.template_path)
            for finding in check_template_file(path, self._options):
                violations.append(_violation(path, finding))
                failed = failed or finding.severity is Severity.ERROR
        return cdk.PolicyValidationPluginReport(success=not failed, violations=violations)


def _violation(path: Path, finding: Finding) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=finding.granular_id,
        description=f"{RULES[finding.rule_id].summary}: {finding.message}",
        fix=finding.fix,
        severity=finding.severity.value,
        violating_resources=[
            cdk.PolicyViolatingResource(
                resource_logical_id=finding.logical_id,
                template_path=str(path),
                locations=[finding.path],
            )
        ],
    )
