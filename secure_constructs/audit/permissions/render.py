"""Text and Markdown renderings of the permissions report and of the baseline gate."""

from __future__ import annotations

import textwrap

from secure_constructs.audit.permissions.baseline import BaselineDiff
from secure_constructs.audit.permissions.model import (
    Access,
    Grant,
    PermissionReport,
    Principal,
    Reachable,
)

WIDTH = 100
LEGEND = (
    "  (${AWS::Region}, ${AWS::AccountId}, ${AWS::Partition}, ${Param}: known at deploy time; "
    "<LogicalId>: the name or id CloudFormation generates for that resource, <Stack/LogicalId> "
    "for another stack's; <LogicalId.Attr>: an attribute of unknown form; <unresolved ...>: "
    "not determined by the templates given)"
)


def _wrap(text: str, indent: int) -> list[str]:
    pad = " " * indent
    # ARNs are never cut: a reader copies them whole.
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=pad,
        subsequent_indent=pad,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [pad]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _grant_lines(actions: list[str], grant: Grant) -> list[str]:
    effect = "DENY " if grant.effect != "Allow" else ""
    lines = _wrap(effect + ", ".join(actions), 4)
    for resource in grant.resources:
        lines.append(f"        on {resource}")  # one line: a reader copies it whole
    if grant.condition:
        lines.extend(_wrap(f"when {grant.condition}", 8))
    for flag in grant.flags:
        lines.extend(_wrap(f"! {flag}", 8))
    return lines


def principal_title(p: Principal) -> str:
    used = f", used by function {', '.join(p.functions)}" if p.functions else ""
    return f"{p.kind} {p.logical_id}{used}"


def reach_title(r: Reachable) -> str:
    if r.trust:
        return f"who can become role {r.logical_id} ({r.name})"
    return f"who can reach {r.logical_id} ({r.resource_type}, {r.name})"


def _access_lines(a: Access) -> list[str]:
    effect = "DENY " if a.effect != "Allow" else ""
    lines = _wrap(f"{effect}{a.principal}: {', '.join(a.actions)}", 4)
    for resource in a.resources:
        lines.append(f"        on {resource}")  # one line: a reader copies it whole
    if a.condition:
        lines.extend(_wrap(f"when {a.condition}", 8))
    for flag in a.flags:
        lines.extend(_wrap(f"! {flag}", 8))
    return lines


def permissions_text(report: PermissionReport, diff: BaselineDiff | None = None) -> str:
    lines = [
        "secure-constructs permissions: each role's grants, who can reach each resource and "
        "become each role",
        *_wrap(LEGEND.strip(), 2),
    ]
    stacks: dict[str, tuple[list[Principal], list[Reachable]]] = {}
    for p in report.principals:
        stacks.setdefault(p.stack, ([], []))[0].append(p)
    for r in report.reach:
        stacks.setdefault(r.stack, ([], []))[1].append(r)
    for stack, (principals, reach) in stacks.items():
        lines += ["", f"== {stack} =="]
        for p in principals:
            flagged = len(p.flagged())
            note = f"  [{flagged} flagged]" if flagged else ""
            lines.append(f"  {principal_title(p)}{note}")
            if not p.grants:
                lines.append("    (no permissions)")
            for actions, grant in p.blocks():
                lines.extend(_grant_lines(actions, grant))
            for n in p.notes:
                lines.extend(_wrap(f"note: {n}", 4))
        for r in reach:
            flagged = len(r.flagged())
            note = f"  [{flagged} flagged]" if flagged else ""
            lines.append(f"  {reach_title(r)}{note}")
            for a in r.accesses:
                lines.extend(_access_lines(a))
    external = [f for f in report.functions if f.external]
    if external:
        lines += ["", "functions whose role is not in the given templates:"]
        lines.extend(f"  {f.stack}/{f.function}: {f.role}" for f in external)
    if not report.principals:
        lines += ["", "no IAM roles, users or groups in the given templates"]
    if diff is not None:
        lines += ["", *baseline_text(diff)]
    return "\n".join(lines) + "\n"


def baseline_text(diff: BaselineDiff) -> list[str]:
    lines = []
    if diff.growth:
        lines.append(f"baseline: permissions GREW ({len(diff.growth)}), failing the gate:")
        lines.extend(f"  + {p}  {a}  {e}" for p, a, e in diff.growth)
    if diff.widened:
        lines.append(f"baseline: access WIDENED ({len(diff.widened)}), failing the gate:")
        lines.extend(f"  + {r}  <- {p}  {what}" for r, p, what in diff.widened)
    if diff.shrinkage:
        lines.append(f"baseline: permissions shrank ({len(diff.shrinkage)}), reported, not failed:")
        lines.extend(f"  - {p}  {a}  {e}" for p, a, e in diff.shrinkage)
    if diff.narrowed:
        lines.append(f"baseline: access narrowed ({len(diff.narrowed)}), reported, not failed:")
        lines.extend(f"  - {r}  <- {p}  {what}" for r, p, what in diff.narrowed)
    if not (diff.growth or diff.shrinkage or diff.widened or diff.narrowed):
        lines.append("baseline: no change")
    elif not diff.failed:
        lines.append("baseline: no growth (update the baseline with --write-baseline to record it)")
    return lines


def permissions_markdown(report: PermissionReport, diff: BaselineDiff | None = None) -> str:
    out = ["# secure-constructs permissions", "", LEGEND.strip(), ""]
    for p in report.principals:
        out += [f"## {_cell(p.stack)}: {_cell(principal_title(p))}", ""]
        out.append("| effect | action | resources | condition | flags |")
        out.append("|---|---|---|---|---|")
        for actions, g in p.blocks():
            out.append(
                f"| {g.effect} | {'<br>'.join(f'`{_cell(a)}`' for a in actions)} | "
                f"{'<br>'.join(_cell(r) for r in g.resources)} | "
                f"{_cell(g.condition or '')} | {_cell('; '.join(g.flags))} |"
            )
        out.extend(f"\n_{_cell(n)}_" for n in p.notes)
        out.append("")
    for r in report.reach:
        out += [f"## {_cell(r.stack)}: {_cell(reach_title(r))}", ""]
        out.append("| effect | principal | actions | resources | condition | flags |")
        out.append("|---|---|---|---|---|---|")
        for a in r.accesses:
            out.append(
                f"| {a.effect} | {_cell(a.principal)} | "
                f"{'<br>'.join(f'`{_cell(x)}`' for x in a.actions)} | "
                f"{'<br>'.join(_cell(x) for x in a.resources)} | "
                f"{_cell(a.condition or '')} | {_cell('; '.join(a.flags))} |"
            )
        out.append("")
    if diff is not None:
        out += ["```", *baseline_text(diff), "```"]
    return "\n".join(out) + "\n"
