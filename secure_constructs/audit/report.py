"""The audit: SecureServerless findings plus CDK's validation report, acknowledgements, scorecard.

Our rules run again over every template (so the report reflects the rules installed now, on any
template); cdk-nag's findings come from the cloud assembly's `validation-report.json`. An
acknowledgement suppresses one of our findings exactly as CDK does: same namespaced granular id,
made on the finding's construct or its closest ancestor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from secure_constructs.audit.fix_terms import fix_text, made_by_cdk
from secure_constructs.audit.sources import Acknowledgement, Inputs, PluginResult, StackSource
from secure_constructs.checks.engine import RULE_ERROR, inspected_practices, run_rules
from secure_constructs.checks.model import CheckOptions, Finding, Practice, Rule, Template
from secure_constructs.checks.nag_rules import NAG_RULES
from secure_constructs.checks.reasons import reason_problem
from secure_constructs.checks.registry import NEVER_ACCEPTABLE, PACK_NAME, RULES

SEVERITIES = ("error", "warning", "info")

# cdk-nag rule (without its pack prefix) -> the practice of docs/DESIGN it evidences.
_NAG_PRACTICES: dict[str, Practice] = {}
for _practice, _names in {
    Practice.LEAST_PRIVILEGE: (
        "IAM4 IAM5 IAMNoInlinePolicy IAMPolicyNoStatementsWithAdminAccess "
        "IAMPolicyNoStatementsWithFullAccess IAMUserGroupMembership IAMUserNoPolicies "
        "IAMNoUserPolicies LambdaStarPermissions LambdaFunctionPublicAccessProhibited"
    ),
    Practice.INPUT_VALIDATION: "APIG2",
    Practice.SECRETS: "SMG4 SecretsManagerRotationEnabled SecretsManagerUsingKMSKey",
    Practice.MONITORING: (
        "APIG1 APIG6 APIGWAccessLogging APIGWStructuredLogging APIGWXrayEnabled AppSyncTracing "
        "CloudWatchLogGroupRetentionPeriod LambdaTracing StepFunctionStateMachineXray "
        "CloudWatchAlarmAction APIGWExecutionLoggingEnabled WAFv2LoggingEnabled"
    ),
    Practice.EXECUTION_TIME: (
        "LambdaDefaultTimeout LambdaAsyncFailureDestination LambdaDLQ "
        "LambdaEventSourceMappingDestination SQSRedrivePolicy SNSRedrivePolicy EventBusDLQ SQS3 "
        "LambdaConcurrency"
    ),
    Practice.API_PROTECTION: (
        "APIG3 APIG4 COG4 APIGWDefaultThrottling APIGWAssociatedWithWAF APIGWSSLEnabled"
    ),
    Practice.CURRENCY: "L1 LambdaLatestVersion",
}.items():
    for _name in _names.split():
        _NAG_PRACTICES[_name] = _practice


def base_rule_id(rule_name: str) -> str:
    """`AwsSolutions-IAM5` for `AwsSolutions-IAM5[Resource::*]`."""
    return rule_name.split("[", 1)[0]


def nag_practice(rule_id: str) -> Practice | None:
    """The practice a cdk-nag rule evidences (None: not one of the eight, e.g. encryption)."""
    name = base_rule_id(rule_id)
    return _NAG_PRACTICES.get(name.split("-", 1)[1] if "-" in name else name)


def normalize_severity(severity: str) -> str:
    lowered = severity.lower()
    if lowered in ("error", "fatal"):
        return "error"
    if lowered in ("warning", "warn"):
        return "warning"
    return "info"


_SECTIONS = frozenset({"Outputs", "Parameters", "Mappings", "Conditions", "Metadata", "Rules"})


@dataclass
class AuditFinding:
    """One finding of one tool on one resource, open or acknowledged."""

    tool: str
    rule_name: str  # granular
    severity: str
    stack: StackSource | None
    logical_id: str | None
    construct_path: str | None
    message: str
    fix: str
    practice: Practice | None
    path: str = ""  # inside the resource, e.g. "Properties/Timeout"
    acknowledgement: Acknowledgement | None = None
    sam_resource: str | None = None  # the SAM resource a generated resource came from

    @property
    def rule_id(self) -> str:
        return base_rule_id(self.rule_name)

    @property
    def open(self) -> bool:
        return self.acknowledgement is None

    @property
    def stack_name(self) -> str:
        if self.stack is not None:
            return self.stack.name
        return (self.construct_path or "?").split("/", 1)[0]

    @property
    def pointer(self) -> str:
        """The JSON pointer of the resource (and property) in the template."""
        if self.logical_id is None:
            return ""
        if self.sam_resource is not None and self.sam_resource != self.logical_id:
            # the template on disk is the SAM one: point at what the author wrote
            return "/Resources/" + self.sam_resource.split(" ", 1)[0].replace("~", "~0")
        parts = ["Resources", self.logical_id, *[p for p in self.path.split("/") if p]]
        if (
            parts[2:3]
            and parts[2] in _SECTIONS
            and self.path.startswith(f"{parts[2]}/{self.logical_id}")
        ):
            parts = parts[2:]  # a finding outside Resources: Outputs/<id>/Value, ...
        return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)

    @property
    def where(self) -> str:
        if self.sam_resource is not None and self.sam_resource != self.logical_id:
            return f"{self.logical_id} (generated by SAM from {self.sam_resource})"
        if self.logical_id and self.construct_path:
            return f"{self.logical_id} ({self.construct_path})"
        return self.logical_id or self.construct_path or "(stack)"


@dataclass
class AckStatus:
    """An acknowledgement, what it matched and what is wrong with it."""

    ack: Acknowledgement
    matched: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not a problem, worth knowing

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        if self.problems:
            return "PROBLEM"
        return "dormant" if self.notes else "ok"


@dataclass
class RuleInfo:
    summary: str
    explanation: str
    severity: str
    practice: Practice | None


@dataclass
class Score:
    status: str  # "pass" | "partial" | "fail" | "n/a" | "not checked"
    errors: int = 0
    warnings: int = 0
    acknowledged: int = 0

    @property
    def label(self) -> str:
        """The status as shown: a pass that rests on acknowledgements says so."""
        if self.status == "pass" and self.acknowledged:
            return f"pass ({self.acknowledged} acknowledged)"
        return self.status

    @property
    def detail(self) -> str:
        parts = []
        if self.errors:
            parts.append(f"{self.errors} open error{'s' * (self.errors != 1)}")
        if self.warnings:
            parts.append(f"{self.warnings} open warning{'s' * (self.warnings != 1)}")
        if self.acknowledged and self.status != "pass":  # a pass shows them in its label
            parts.append(f"{self.acknowledged} acknowledged")
        if self.status == "not checked":
            parts.append("no rule that ran checks this practice")
        if self.status == "n/a":
            parts.append("nothing in the stack that its rules inspect")
        return ", ".join(parts)


@dataclass
class AuditReport:
    stacks: list[StackSource]
    findings: list[AuditFinding]
    acknowledgements: list[AckStatus]
    rules: dict[str, dict[str, RuleInfo]]  # tool -> rule id -> info
    rule_errors: list[str] = field(default_factory=list)
    # "<path>: <why>" per file that could not be read as a template (see sources.load)
    file_errors: list[str] = field(default_factory=list)
    has_validation_report: bool = False
    # stack name -> practices at least one SecureServerless rule of which inspects something in
    # the stack (a rule's applies_to / applies_if); None: not computed, every practice applies.
    inspected: dict[str, set[Practice]] | None = None

    def open_findings(self, severity: str | None = None) -> list[AuditFinding]:
        return [f for f in self.findings if f.open and (severity is None or f.severity == severity)]

    def acknowledged_findings(self) -> list[AuditFinding]:
        return [f for f in self.findings if not f.open]

    def tools(self) -> list[str]:
        return list(self.rules)

    def scorecard(self) -> dict[str, dict[Practice, Score]]:
        """stack -> practice -> pass / partial / fail / n/a / not checked.

        "n/a": no finding, and no SecureServerless rule of the practice applies to anything in
        the stack (e.g. input validation in a stack without an API), so a pass would be
        vacuous. cdk-nag's findings count; its rules' applicability is not known (the
        validation report lists findings only), so a practice evidenced by cdk-nag alone is
        never "n/a".
        """
        checked = {info.practice for rules in self.rules.values() for info in rules.values()}
        ours = {info.practice for info in self.rules.get(PACK_NAME, {}).values()}
        card: dict[str, dict[Practice, Score]] = {}
        for stack in self.stacks:
            row = {}
            for practice in Practice:
                mine = [f for f in self.findings if f.stack is stack and f.practice is practice]
                score = Score(
                    "pass",
                    errors=sum(1 for f in mine if f.open and f.severity == "error"),
                    warnings=sum(1 for f in mine if f.open and f.severity == "warning"),
                    acknowledged=sum(1 for f in mine if not f.open),
                )
                if score.errors:
                    score.status = "fail"
                elif score.warnings:
                    score.status = "partial"
                elif practice not in checked and not mine:
                    score.status = "not checked"
                elif (
                    not mine
                    and self.inspected is not None
                    and practice in ours
                    and practice not in self.inspected.get(stack.name, set())
                ):
                    score.status = "n/a"
                row[practice] = score
            card[stack.name] = row
        return card

    def failed(self, fail_on: str) -> bool:
        if fail_on == "never":
            return False
        if self.rule_errors:  # a rule that could not check a template never passes it
            return True
        if any(not a.ok for a in self.acknowledgements):  # a bad acknowledgement never passes
            return True
        levels = ("error",) if fail_on == "error" else ("error", "warning")
        return any(f.severity in levels for f in self.open_findings())

    def summary(self) -> str:
        errors = len(self.open_findings("error"))
        warnings = len(self.open_findings("warning"))
        acked = len(self.acknowledged_findings())
        bad = sum(1 for a in self.acknowledgements if not a.ok)
        dormant = sum(1 for a in self.acknowledgements if a.ok and a.notes)
        resources = sum(len(s.resources) for s in self.stacks)
        return (
            f"{len(self.stacks)} stack{'s' * (len(self.stacks) != 1)}, {resources} resources: "
            f"{errors} open error{'s' * (errors != 1)}, {warnings} open "
            f"warning{'s' * (warnings != 1)}, {acked} acknowledged; "
            f"{len(self.acknowledgements)} acknowledgement"
            f"{'s' * (len(self.acknowledgements) != 1)}"
            f"{f' ({dormant} dormant)' if dormant else ''}, {bad} with problems"
        )


def audit(inputs: Inputs, options: CheckOptions | None = None) -> AuditReport:
    """Run our rules over every stack and merge the validation report's other packs."""
    options = options or CheckOptions()
    findings: list[AuditFinding] = []
    rule_errors: list[str] = []
    inspected: dict[str, set[Practice]] = {}
    for stack in inputs.stacks:
        assembly_dir = stack.assembly or stack.path.parent  # as the engine does for a file
        own = options.accounts | ({stack.account} if stack.account else set())
        template = Template(
            stack.body,
            path=stack.path,
            assembly_dir=assembly_dir,
            options=replace(options, accounts=frozenset(own)),
        )
        inspected.setdefault(stack.name, set()).update(inspected_practices(template))
        found = run_rules(template)  # the synth plugin's runner: a crash fails closed
        rule_errors.extend(
            f"{PACK_NAME} rule {f.rule_id} failed on {stack.name}: {f.message}"
            for f in found
            if f.finding_id == RULE_ERROR
        )
        cdk = made_by_cdk(stack)
        findings.extend(_ours(stack, RULES[f.rule_id], f, cdk=cdk) for f in found)
    _apply_acknowledgements(findings, inputs.acknowledgements)
    findings.extend(_theirs(inputs.plugin_results, inputs.stacks, inputs.acknowledgements))
    in_templates = _apply_template_acknowledgements(findings, inputs.stacks)
    findings.sort(key=_order)
    info = {PACK_NAME: {r.rule_id: _rule_info(r) for r in RULES.values()}}
    for pack in sorted(inputs.plugins_run - {PACK_NAME}):
        info[pack] = {
            rule_id: RuleInfo(text, text, normalize_severity(level), nag_practice(rule_id))
            for rule_id, (level, text) in NAG_RULES.get(pack, {}).items()
        }
        for f in findings:  # packs we have no table for (a custom plugin): what the report says
            if f.tool == pack and f.rule_id not in info[pack]:
                info[pack][f.rule_id] = RuleInfo(f.message, f.message, f.severity, f.practice)
    return AuditReport(
        stacks=list(inputs.stacks),
        findings=findings,
        acknowledgements=_ack_statuses(inputs, findings, in_templates),
        rules=info,
        rule_errors=rule_errors,
        file_errors=list(inputs.file_errors),
        has_validation_report=inputs.reports_read > 0,
        inspected=inspected,
    )


def _order(f: AuditFinding) -> tuple[str, int, bool, str, str, str]:
    return (
        f.stack_name,
        SEVERITIES.index(f.severity),
        not f.open,
        f.tool,
        f.rule_name,
        f.logical_id or "",
    )


def _rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(rule.summary, rule.explanation, rule.severity.value, rule.practice)


def _ours(stack: StackSource, rule: Rule, finding: Finding, *, cdk: bool = True) -> AuditFinding:
    return AuditFinding(
        tool=PACK_NAME,
        rule_name=finding.granular_id,
        severity=finding.severity.value,
        stack=stack,
        logical_id=finding.logical_id,
        construct_path=stack.construct_paths.get(finding.logical_id),
        message=finding.message,
        fix=fix_text(finding, cdk=cdk),
        practice=rule.practice,
        path=finding.path,
        sam_resource=(stack.sam_origins or {}).get(finding.logical_id),
    )


def _apply_acknowledgements(findings: list[AuditFinding], acks: Iterable[Acknowledgement]) -> None:
    """The gate's matching for acknowledge() (the construct and its companions' subtrees), then
    CDK's for any other: exact namespaced granular id, at the closest ancestor construct."""
    by_id: dict[str, dict[str, Acknowledgement]] = {}
    intents: dict[str, list[Acknowledgement]] = {}
    for ack in acks:
        if ack.via_gate:
            intents.setdefault(ack.rule_id, []).append(ack)
        else:
            by_id.setdefault(ack.rule_id, {})[ack.at] = ack
    for finding in findings:
        if finding.rule_name in NEVER_ACCEPTABLE:
            continue  # no acknowledgement accepts it; an acknowledgement of it stays unmatched
        rule_id = f"{PACK_NAME}::{finding.rule_name}"
        if finding.construct_path:
            covering = [a for a in intents.get(rule_id, []) if a.covers(finding.construct_path)]
            if covering:
                finding.acknowledgement = covering[0]
                continue
        paths = by_id.get(rule_id)
        if not paths or not finding.construct_path:
            continue
        path = finding.construct_path
        while path:
            if path in paths:
                finding.acknowledgement = paths[path]
                break
            path = path.rsplit("/", 1)[0] if "/" in path else ""


def _theirs(
    results: Iterable[PluginResult], stacks: list[StackSource], acks: list[Acknowledgement]
) -> list[AuditFinding]:
    by_key = {(a.rule_id, a.at): a for a in acks if not a.via_gate}
    intents = [a for a in acks if a.via_gate]
    out = []
    for result in results:
        if result.pack == PACK_NAME:
            continue  # our rules ran again above, over the same templates
        stack, logical_id = _locate(result.construct_path, stacks)
        construct_path: str | None = result.construct_path
        if result.stack_name is not None:  # `--nag`: located when its report was read
            stack = next((s for s in stacks if s.name == result.stack_name), stack)
            logical_id = result.logical_id
            construct_path = stack.construct_paths.get(logical_id or "") if stack else None
        ack = None
        if result.acknowledged_id is not None:
            at = result.acknowledged_at or ""
            placed = [a for a in intents if a.rule_id == result.acknowledged_id and a.covers(at)]
            ack = (
                (placed[0] if placed else None)
                or by_key.get((result.acknowledged_id, at))
                or Acknowledgement(
                    result.acknowledged_id,
                    result.reason or "",
                    result.acknowledged_at or "",
                    stack.name if stack else "",
                )
            )
        out.append(
            AuditFinding(
                tool=result.pack,
                rule_name=result.rule_name,
                severity=normalize_severity(result.severity),
                stack=stack,
                logical_id=logical_id,
                construct_path=construct_path,
                message=result.description,
                fix=result.fix,
                practice=nag_practice(result.rule_name),
                acknowledgement=ack,
                sam_resource=(stack.sam_origins or {}).get(logical_id or "") if stack else None,
            )
        )
    return out


def _locate(
    construct_path: str, stacks: list[StackSource]
) -> tuple[StackSource | None, str | None]:
    for stack in stacks:
        logical_id = stack.logical_id_of(construct_path)
        if logical_id is not None:
            return stack, logical_id
    for stack in sorted(stacks, key=lambda s: -len(s.name)):
        if construct_path == stack.name or construct_path.startswith(stack.name + "/"):
            return stack, None
    return None, None


def _apply_template_acknowledgements(
    findings: list[AuditFinding], stacks: Iterable[StackSource]
) -> list[Acknowledgement]:
    """Acknowledgements in resource Metadata: the exact granular id, on that very resource."""
    from secure_constructs.audit.template_acks import template_acknowledgements

    acks: list[Acknowledgement] = []
    for stack in stacks:
        by_key: dict[tuple[str, str], Acknowledgement] = {}
        for logical_id, ack in template_acknowledgements(stack):
            by_key[(ack.rule_id, logical_id)] = ack
            acks.append(ack)
        if not by_key:
            continue
        for f in findings:
            if f.stack is not stack or f.acknowledgement is not None or f.logical_id is None:
                continue
            if f.tool == PACK_NAME and f.rule_name in NEVER_ACCEPTABLE:
                continue
            rule_id = f"{f.tool}::{f.rule_name}"
            for target in (f.logical_id, f.sam_resource):
                if target is not None and (rule_id, target) in by_key:
                    f.acknowledgement = by_key[(rule_id, target)]
                    break
    return acks


def _ack_statuses(
    inputs: Inputs, findings: list[AuditFinding], in_templates: Iterable[Acknowledgement] = ()
) -> list[AckStatus]:
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        if f.acknowledgement is not None:
            key = (f.acknowledgement.rule_id, f.acknowledgement.at)
            counts[key] = counts.get(key, 0) + 1
    statuses = []
    descriptions = {text.lower() for rules in NAG_RULES.values() for _, text in rules.values()}
    for ack in [*inputs.acknowledgements, *in_templates]:
        status = AckStatus(ack, matched=counts.get((ack.rule_id, ack.at), 0))
        if status.matched == 0:
            if ack.namespace == PACK_NAME or ack.namespace in inputs.plugins_run:
                status.problems.append(
                    "matches no finding: stale, or its id or construct path is wrong and it is "
                    "silently not applied"
                )
            elif inputs.reports_read:  # e.g. made ahead for a compliance pack a user may enable
                status.notes.append(
                    f"dormant: pack {ack.namespace or '(none)'} did not run; the acknowledgement "
                    "applies only when it does"
                )
        if ack.in_template and not ack.via_gate:
            status.problems.append(
                "written as resource Metadata in a template CDK made (add_metadata), around "
                "secure_constructs.acknowledge() and the synth's gate; call acknowledge(<the "
                "construct with the finding>, id, reason) instead"
            )
        elif not ack.via_gate and ack.namespace not in _CDK_OWN:
            status.problems.append(
                "not made through secure_constructs.acknowledge(): CDK's Validations.of(x)"
                ".acknowledge skips the reason gate and the exact placement; call "
                "acknowledge(<the construct with the finding>, id, reason) instead"
            )
        problem = reason_problem(ack.reason, descriptions)
        if problem:
            status.problems.append(problem)
        statuses.append(status)
    statuses.extend(_gate_statuses(inputs))
    statuses.sort(key=lambda s: (s.ok, bool(s.notes), s.ack.stack, s.ack.at, s.ack.rule_id))
    return statuses


# Acknowledgements CDK makes itself (literal AZs) or of construct annotations: not a pack's.
_CDK_OWN = frozenset({"CloudFormation-Validate", "Annotation"})


def _gate_statuses(inputs: Inputs) -> list[AckStatus]:
    """What the synth's gate refused (checks.gate): each one an acknowledgement problem."""
    from secure_constructs.checks.gate_ids import BYPASS, FORGED, SCOPE

    native = {a.at for a in inputs.acknowledgements if not a.via_gate}  # flagged already
    out = []
    for result in inputs.plugin_results:
        if result.pack != PACK_NAME or result.rule_name not in (BYPASS, FORGED, SCOPE):
            continue  # the audit judges matching and reasons itself
        if result.rule_name != BYPASS or result.construct_path not in native:
            ack = Acknowledgement(
                f"{PACK_NAME}::{result.rule_name}", "", result.construct_path or "(the App)", ""
            )
            out.append(AckStatus(ack, problems=[f"refused at synth: {result.description}"]))
    return out


def as_json(report: AuditReport) -> dict[str, Any]:
    """The audit as plain JSON (the `--format json` output)."""
    card = report.scorecard()
    return {
        "summary": report.summary(),
        "stacks": [
            {"name": s.name, "template": s.uri, "resources": len(s.resources)}
            for s in report.stacks
        ],
        "scorecard": {
            stack: {
                p.value: {
                    "status": s.status,
                    "label": s.label,
                    "detail": s.detail,
                    "open_errors": s.errors,
                    "open_warnings": s.warnings,
                    "acknowledged": s.acknowledged,
                }
                for p, s in row.items()
            }
            for stack, row in card.items()
        },
        "findings": [
            {
                "tool": f.tool,
                "rule": f.rule_name,
                "severity": f.severity,
                "stack": f.stack_name,
                "logical_id": f.logical_id,
                "construct_path": f.construct_path,
                "sam_resource": f.sam_resource,
                "template": f.stack.uri if f.stack else None,
                "pointer": f.pointer,
                "practice": f.practice.value if f.practice else None,
                "message": f.message,
                "fix": f.fix,
                "acknowledged": f.acknowledgement is not None,
                "reason": f.acknowledgement.reason if f.acknowledgement else None,
            }
            for f in report.findings
        ],
        "acknowledgements": [
            {
                "id": a.ack.rule_id,
                "at": a.ack.at,
                "stack": a.ack.stack,
                "reason": a.ack.reason,
                "matched": a.matched,
                "problems": a.problems,
                "notes": a.notes,
            }
            for a in report.acknowledgements
        ],
        "rule_errors": report.rule_errors,
        "file_errors": report.file_errors,
    }
