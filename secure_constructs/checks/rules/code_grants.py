"""CodeGrantsMatch: a function's role against the AWS calls its code makes (audit/code_calls)."""

from __future__ import annotations

from collections.abc import Iterator

from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule

_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


@rule(
    "CodeGrantsMatch",
    practice=Practice.LEAST_PRIVILEGE,
    severity=Severity.WARNING,
    applies_to=_FUNCTION_TYPES,
    applies_if=lambda t: t.assembly_dir is not None,
    summary="A Python function's role grants an action its code never calls, or its code "
    "calls an action the role does not grant on that resource.",
    explanation="The handler's code (and the modules of its asset it imports) is read with "
    "Python's ast, each boto3 and Powertools call is mapped to IAM actions from botocore's "
    "service models and the Service Authorization Reference, and the resource a call acts on "
    "is followed through the function's environment variables back to the template. A grant "
    "no call uses is privilege an attacker in the function gets for free; a call without a "
    "grant fails with AccessDenied in production. Grants Lambda itself uses (logs, traces, the "
    "dead-letter queue, event sources, VPC interfaces, KMS via a called service) are not "
    "flagged. A warning by default; an error with CheckOptions(code_grants_error=True) or "
    "`secure-constructs audit --code-grants-error`.",
)
def code_grants_match(t: Template) -> Iterator[Violation]:
    from secure_constructs.audit.code_calls.compare import check_stacks
    from secure_constructs.audit.sources import StackSource
    from secure_constructs.checks.intrinsics import Resolver

    if t.assembly_dir is None:
        return
    path = t.path or t.assembly_dir / "template.json"
    stack = StackSource("template", t.body, path, assembly=t.assembly_dir)
    severity = Severity.ERROR if t.options.code_grants_error else None
    for check in check_stacks([stack], {"template": Resolver(t.body)}):
        if not check.code.analysed and "cannot be parsed" in (check.code.not_analysed or ""):
            yield Violation(
                check.function,
                "Properties/Handler",
                f"the code was not analysed: {check.code.not_analysed}",
                "fix the syntax error (the function would fail to import)",
                finding_id="NotAnalysed",
                severity=severity,
            )
        for unused in check.unused:
            yield Violation(
                check.function,
                "Properties/Role",
                f"the role grants {unused.action} ({unused.statement}, on {unused.resources}) "
                "but the function's code never calls it",
                "remove the action from the grant, or grant only the actions the code calls "
                "(`resource.grant(fn, 'service:Action')`)",
                finding_id=f"Unused::{unused.action}",
                severity=severity,
            )
        for missing in check.missing:
            yield Violation(
                check.function,
                "Properties/Role",
                f"{missing.call.where} calls {missing.call.api}, which needs {missing.action}: "
                f"{missing.reason}",
                "grant the action on the resource the call uses (e.g. table.grant(fn, "
                f"'{missing.action}'))",
                finding_id=f"Missing::{missing.action}",
                severity=severity,
            )


RULES = (code_grants_match,)
