"""The CDK validation-plugin adapter for the SecureServerless pack.

CDK calls `validate` after synthesis with the paths of the synthesized templates; the pack's
pure-Python rules run over them and the findings come back as a CDK policy-validation report,
so they can be acknowledged like cdk-nag's. `apply_checks` registers the cdk-nag packs wrapped in
`RecordedPack` and this plugin last, so that `validate` sees every pack's findings: it places
each `acknowledge()` on exactly the resources that carry the finding, refuses what the gate
refuses (checks.gate) and prints one summary line per stack.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import aws_cdk as cdk
import constructs
import jsii

from secure_constructs.checks import gate
from secure_constructs.checks.engine import run_rules
from secure_constructs.checks.model import CheckOptions, Finding, Severity, Template
from secure_constructs.checks.nested import StackTemplate, owner, stack_templates
from secure_constructs.checks.registry import NEVER_ACCEPTABLE, PACK_NAME, RULES
from secure_constructs.defaults import CHECKS_MAX_TIMEOUT_SECONDS

_VERSION = "0.1.0"


@jsii.implements(cdk.IPolicyValidationPlugin)
class RecordedPack:
    """A cdk-nag pack whose report the SecureServerless plugin reads (same name, same report)."""

    def __init__(self, inner: cdk.IPolicyValidationPlugin) -> None:
        self._inner = inner
        self._name: str | None = None  # read once: each read is a round trip to the kernel
        self.report: cdk.PolicyValidationPluginReport | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = self._inner.name
        return self._name

    @property
    def version(self) -> str | None:
        return self._inner.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._inner.rule_ids

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        self.report = self._inner.validate(context)
        stacks = sorted((s.stack_construct_path for s in context.stack_templates), key=len)
        return cdk.PolicyValidationPluginReport(
            success=self.report.success,
            metadata=self.report.metadata,
            violations=[
                one for v in self.report.violations for one in _with_calls(self.name, v, stacks)
            ],
        )


def _with_calls(pack: str, v: cdk.PolicyViolation, stacks: list[str]) -> list[cdk.PolicyViolation]:
    """cdk-nag's finding, one per resource, each fix ending with the acknowledge() call to paste."""
    out = []
    for r in v.violating_resources:
        owner = [s for s in stacks if r.construct_path and r.construct_path.startswith(s + "/")]
        if not owner:
            return [v]
        call = gate.paste_call(owner[-1], r.construct_path or "", f"{pack}::{v.rule_name}")
        fix = f"{v.fix}. " if v.fix else ""
        out.append(
            cdk.PolicyViolation(
                rule_name=v.rule_name,
                description=v.description,
                violating_resources=[r],
                fix=f"{fix}Only if truly unavoidable: {call}",
                rule_metadata=v.rule_metadata,
                severity=v.severity,
            )
        )
    return out or [v]


_PRINTED: set[tuple[int, str]] = set()


@jsii.implements(cdk.IPolicyValidationPlugin)
class SecureServerlessChecks:
    """Our own pack: the checks cdk-nag's packs miss for serverless apps, and the gate.

    :param max_timeout: the largest Lambda timeout allowed (LambdaTimeout rule).
        Default: 60 seconds.
    :param recorded: the cdk-nag packs registered before this one (by `apply_checks`), whose
        findings the acknowledgement gate matches. Default: none (only this pack's are seen).
    """

    def __init__(
        self,
        *,
        max_timeout: cdk.Duration | None = None,
        recorded: list[RecordedPack] | None = None,
    ) -> None:
        seconds = (
            int(max_timeout.to_seconds()) if max_timeout is not None else CHECKS_MAX_TIMEOUT_SECONDS
        )
        self._options = CheckOptions(max_timeout_seconds=seconds)
        self._recorded = list(recorded or [])

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
        ours: list[tuple[StackTemplate, Finding, gate.SeenFinding | None]] = []
        seen: list[gate.SeenFinding] = []
        metadata = []
        units: list[tuple[StackTemplate, CheckOptions]] = []
        for stack in context.stack_templates:
            path = Path(stack.template_path)
            metadata.append(gate.stack_metadata_for(path))
            options = _stack_options(self._options, context.app_construct, stack)
            units.extend(
                (unit, options)
                for unit in stack_templates(stack.stack_construct_path, path, metadata[-1])
            )
        for unit, options in units:  # every top-level template, then the nested ones under it
            template = Template(
                unit.body,
                path=unit.template_path,
                assembly_dir=unit.template_path.parent,
                options=options,
            )
            for finding in run_rules(template):
                where = unit.paths.get(finding.logical_id)
                s = (
                    gate.SeenFinding(PACK_NAME, finding.granular_id, where, unit.stack_path)
                    if where
                    else None
                )
                ours.append((unit, finding, s))
                if s is not None:
                    seen.append(s)
        seen.extend(self._recorded_findings([u.stack_path for u, _ in units]))
        packs = {PACK_NAME} | {r.name for r in self._recorded if r.report is not None}
        result = gate.run_gate(context.app_construct, seen, packs, metadata)
        failed = False
        for unit, finding, s in ours:
            violations.append(_violation(unit, finding, s))
            if s is None or not s.acknowledged:  # CDK suppresses the others: the gate placed it
                failed = failed or finding.severity is Severity.ERROR
        for problem in result.problems:
            violations.append(_gate_violation(problem))
            failed = True
        self._print_summary(context, seen, [u for u, _ in units])
        return cdk.PolicyValidationPluginReport(success=not failed, violations=violations)

    def _recorded_findings(self, stacks: list[str]) -> list[gate.SeenFinding]:
        """The cdk-nag packs' findings, each on the innermost stack (nested ones included)."""
        found = []
        for pack in self._recorded:
            if pack.report is None:
                continue
            for v in pack.report.violations:
                for r in v.violating_resources:
                    if r.construct_path:
                        stack = owner(r.construct_path, stacks) or ""
                        found.append(
                            gate.SeenFinding(pack.name, v.rule_name, r.construct_path, stack)
                        )
        return found

    def _print_summary(
        self,
        context: cdk.IPolicyValidationContext,
        seen: list[gate.SeenFinding],
        units: list[StackTemplate],
    ) -> None:
        """One line per stack; a nested stack's findings on its own line, not its parent's."""
        app = context.app_construct
        packs = [PACK_NAME, *(r.name for r in self._recorded)]
        for unit in units:
            key = (id(app), unit.stack_path)
            if key in _PRINTED:
                continue
            _PRINTED.add(key)
            label = f"{unit.stack_path} (nested stack)" if unit.nested else ""
            print(summary_line(unit.stack_path, seen, packs, label=label), file=sys.stderr)


def _stack_options(
    options: CheckOptions, app: constructs.IConstruct, stack: cdk.PolicyValidationStack
) -> CheckOptions:
    """`options` knowing the stack's env account, when the stack has a literal one (an
    env-agnostic stack's account is a token: unknown, so only ${AWS::AccountId} is its own)."""
    account = env_account(app, stack.stack_construct_path)
    return replace(options, accounts=options.accounts | {account}) if account else options


def env_account(app: constructs.IConstruct, stack_path: str) -> str | None:
    """The literal account of the stack at `stack_path` under `app`, or None."""
    node: constructs.IConstruct | None = app.node.root
    for part in stack_path.split("/") if stack_path else []:
        node = node.node.try_find_child(part) if node is not None else None
    if node is None or not cdk.Stack.is_stack(node):
        return None
    account = cdk.Stack.of(node).account
    return None if cdk.Token.is_unresolved(account) else account


def summary_line(
    stack_path: str, seen: list[gate.SeenFinding], packs: list[str], *, label: str = ""
) -> str:
    """`checks <stack>: AwsSolutions 0 open / 2 acknowledged, ...`: one line per stack (a
    nested stack's line counts its own findings only; `label` names it, default its path)."""
    parts = []
    for pack in dict.fromkeys(packs):
        mine = [f for f in seen if f.pack == pack and f.stack_path == stack_path]
        acked = sum(1 for f in mine if f.acknowledged)
        parts.append(f"{pack} {len(mine) - acked} open / {acked} acknowledged")
    return f"secure-constructs checks {label or stack_path}: {', '.join(parts)}"


def _violation(
    unit: StackTemplate, finding: Finding, seen: gate.SeenFinding | None
) -> cdk.PolicyViolation:
    fix = finding.fix
    if finding.granular_id in NEVER_ACCEPTABLE:
        fix = f"{fix}. No acknowledgement accepts this finding: fix the resource"
    elif seen is not None:  # the call from the top-level stack, which holds its nested stacks
        call = gate.paste_call(unit.top_path, seen.path, f"{PACK_NAME}::{finding.granular_id}")
        fix = f"{fix}. Only if truly unavoidable: {call}"
    return cdk.PolicyViolation(
        rule_name=finding.granular_id,
        description=f"{RULES[finding.rule_id].summary}: {finding.message}",
        fix=fix,
        severity=_severity(finding, seen),
        violating_resources=[
            cdk.PolicyViolatingResource(
                resource_logical_id=finding.logical_id,
                template_path=str(unit.template_path),
                locations=[finding.path],
                # CDK finds a top-level stack's construct from the logical id; a nested
                # stack's is named, so that the acknowledgement the gate placed matches it
                construct_path=seen.path if unit.nested and seen is not None else None,
            )
        ],
    )


def _severity(finding: Finding, seen: gate.SeenFinding | None) -> str:
    """An open error is `fatal`: CDK suppresses no fatal finding, so an acknowledgement made
    during validation by a plugin registered after ours cannot silence it. The errors the gate
    acknowledged stay `error`, for CDK to suppress with the acknowledgement the gate placed."""
    acknowledged = seen is not None and seen.acknowledged
    if finding.granular_id in NEVER_ACCEPTABLE:
        return "fatal"  # whatever acknowledgement reached it
    if finding.severity is Severity.ERROR and not acknowledged:
        return "fatal"
    return str(finding.severity.value)


def _gate_violation(problem: gate.GateProblem) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=problem.rule,
        description=problem.message,
        fix=problem.fix,
        severity="fatal",  # CDK lets no acknowledgement silence a fatal finding
        violating_resources=[
            cdk.PolicyViolatingResource(construct_path=problem.path or "", locations=[])
        ],
    )
