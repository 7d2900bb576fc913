"""Text and Markdown renderings of the three reports (audit, permissions, cost)."""

from __future__ import annotations

import textwrap

from secure_constructs.audit.cost import CostReport
from secure_constructs.audit.permissions.render import (  # re-exported: one renderer per report
    baseline_text,
    permissions_markdown,
    permissions_text,
    principal_title,
)
from secure_constructs.audit.report import AuditFinding, AuditReport, Score
from secure_constructs.facts.prices import PRICES_AS_OF, REGION

__all__ = [
    "audit_markdown",
    "audit_text",
    "baseline_text",
    "cost_markdown",
    "cost_text",
    "permissions_markdown",
    "permissions_text",
    "principal_title",
    "rate",
]

WIDTH = 100
_MARK = {"pass": "pass", "partial": "PARTIAL", "fail": "FAIL", "n/a": "n/a", "not checked": "--"}


def _wrap(text: str, indent: int, hang: int = 0, width: int = WIDTH) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=pad,
        subsequent_indent=pad + " " * hang,
        break_on_hyphens=False,
    ) or [pad]


# -- audit ------------------------------------------------------------------------------------


def audit_text(report: AuditReport, *, fail_on: str = "error") -> str:
    lines = _wrap(f"secure-constructs audit: {report.summary()}", 0)
    lines.append(f"packs: {', '.join(report.tools())}")
    if not report.has_validation_report:
        lines.append(
            "(no cloud assembly validation report: cdk-nag's packs are not included; "
            "--nag runs them)"
        )
    lines += ["", "Practices scorecard (pass / PARTIAL / FAIL / n/a, from the findings)"]
    card = report.scorecard()
    width = max([8, *(len(_mark(s)) for row in card.values() for s in row.values())])
    for name, row in card.items():
        lines.append(f"  {name}")
        for practice, score in row.items():
            detail = f"  {score.detail}" if score.detail else ""
            lines.append(f"    {_mark(score):{width}} {practice.value:18}{detail}".rstrip())
    for stack in report.stacks:
        mine = [f for f in report.findings if f.stack is stack]
        lines += ["", f"== {stack.name} ({stack.uri}) =="]
        if not mine:
            lines.append("  no findings")
        for severity in ("error", "warning", "info"):
            found = [f for f in mine if f.open and f.severity == severity]
            if found:
                lines.append(f"  {severity.upper()} ({len(found)})")
                for f in found:
                    lines.extend(_finding_text(f))
        acked = [f for f in mine if not f.open]
        if acked:
            lines.append(f"  ACKNOWLEDGED ({len(acked)}; reasons under Acknowledgements)")
            for f in acked:
                lines.extend(_wrap(f"{f.tool}: {f.rule_name}  at {f.where}", 4, hang=4))
    orphans = [f for f in report.findings if f.stack is None]
    if orphans:
        lines += ["", "== findings on constructs outside the given templates =="]
        for f in orphans:
            lines.extend(_finding_text(f))
    lines += ["", f"Acknowledgements ({len(report.acknowledgements)})"]
    if not report.acknowledgements:
        lines.append("  none")
    for status in report.acknowledgements:
        lines.append(f"  {status.label:8} {status.ack.rule_id}")
        count = f"{status.matched} finding{'s' * (status.matched != 1)}"
        lines.extend(_wrap(f"at {status.ack.at} ({count})", 11))
        lines.extend(_wrap(f"reason: {status.ack.reason or '(empty)'}", 11))
        for problem in status.problems:
            lines.extend(_wrap(f"! {problem}", 11))
        for note in status.notes:
            lines.extend(_wrap(note, 11))
    for error in report.rule_errors:
        lines.extend(_wrap(f"rule error: {error}", 0))
    for error in report.file_errors:
        lines.extend(_wrap(f"file error (not evaluated): {error}", 0))
    verdict = "FAIL" if report.failed(fail_on) or report.file_errors else "pass"
    lines += ["", f"result: {verdict} (--fail-on {fail_on})"]
    return "\n".join(lines) + "\n"


def _mark(score: Score) -> str:
    """PARTIAL / FAIL in capitals; a pass resting on acknowledgements says how many."""
    return score.label if score.status == "pass" else _MARK[score.status]


def _finding_text(f: AuditFinding) -> list[str]:
    lines = [f"    {f.tool}: {f.rule_name}"]
    lines.extend(_wrap(f"at {f.where}", 8))
    lines.extend(_wrap(f.message, 8))
    if f.fix and f.open:
        lines.extend(_wrap(f"fix: {f.fix}", 8))
    if f.acknowledgement is not None:
        lines.extend(
            _wrap(f"acknowledged at {f.acknowledgement.at}: {f.acknowledgement.reason}", 8)
        )
    return lines


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def audit_markdown(report: AuditReport, *, fail_on: str = "error") -> str:
    out = ["# secure-constructs audit", "", f"**{report.summary()}**", ""]
    out.append(
        f"Packs: {', '.join(report.tools())}. Result: "
        f"**{'FAIL' if report.failed(fail_on) or report.file_errors else 'pass'}** "
        f"(`--fail-on {fail_on}`)."
    )
    out += ["", "## Practices scorecard", ""]
    card = report.scorecard()
    stacks = list(card)
    out.append("| practice | " + " | ".join(_cell(s) for s in stacks) + " |")
    out.append("|---|" + "---|" * len(stacks))
    if stacks:
        for practice in card[stacks[0]]:
            cells = []
            for stack in stacks:
                score = card[stack][practice]
                cells.append(_cell(_mark(score) + (f" ({score.detail})" if score.detail else "")))
            out.append(f"| {practice.value} | " + " | ".join(cells) + " |")
    out += ["", "## Findings", ""]
    if not report.findings:
        out.append("No findings.")
    else:
        out.append("| stack | severity | tool | rule | resource | finding | fix / reason |")
        out.append("|---|---|---|---|---|---|---|")
        for f in report.findings:
            status = f.severity if f.open else f"acknowledged {f.severity}"
            last = (
                f.fix
                if f.open
                else f"acknowledged: {f.acknowledgement.reason if f.acknowledgement else ''}"
            )
            out.append(
                f"| {_cell(f.stack_name)} | {status} | {_cell(f.tool)} | `{_cell(f.rule_name)}` | "
                f"{_cell(f.where)} | {_cell(f.message)} | {_cell(last)} |"
            )
    out += ["", "## Acknowledgements", ""]
    if not report.acknowledgements:
        out.append("None.")
    else:
        out.append("| status | id | made at | findings | reason | problems |")
        out.append("|---|---|---|---|---|---|")
        for s in report.acknowledgements:
            out.append(
                f"| {s.label if s.ok else '**problem**'} | `{_cell(s.ack.rule_id)}` | "
                f"{_cell(s.ack.at)} | {s.matched} | {_cell(s.ack.reason or '(empty)')} | "
                f"{_cell('; '.join(s.problems + s.notes))} |"
            )
    for error in report.rule_errors:
        out.append(f"\n> rule error: {error}")
    for error in report.file_errors:
        out.append(f"\n> file error (not evaluated): {_cell(error)}")
    return "\n".join(out) + "\n"


# -- cost -------------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.2f}"


def rate(value: float) -> str:
    """A unit price: cents when it has them, all significant digits when smaller."""
    return _money(value) if value >= 0.01 else "$" + f"{value:.10f}".rstrip("0")


def cost_text(report: CostReport) -> str:
    lines = _wrap(
        "secure-constructs cost: fixed monthly cost of the security baseline "
        f"(list prices, {REGION}, USD, as of {PRICES_AS_OF}; no free tier)",
        0,
    )
    for stack in report.stacks:
        lines += ["", f"== {stack} =="]
        groups = report.grouped(stack)
        if not groups:
            lines.append("  no fixed-cost security resources")
        for g in groups:
            qty = f"{g.quantity:g} x {_money(g.price.usd)}/{g.price.unit}"
            lines.append(f"  {_money(g.monthly):>10}  {g.item}: {_names(g.resources)}")
            lines.extend(_wrap(f"{qty}; source {g.price.source}", 14))
            if g.price.note:
                lines.extend(_wrap(g.price.note, 14))
        lines.append(f"  {_money(report.total(stack)):>10}  total for {stack} per month")
        rates = report.rates.get(stack, [])
        if rates:
            lines.append("  usage rates (not in the total):")
            for r in rates:
                lines.append(
                    f"    {r.item}: {rate(r.price.usd)} per {r.price.unit}"
                    f" ({len(r.resources)} resource{'s' * (len(r.resources) != 1)})"
                )
                lines.extend(
                    _wrap(
                        f"source {r.price.source}" + (f"; {r.price.note}" if r.price.note else ""),
                        8,
                    )
                )
    lines += ["", f"{_money(report.total()):>12}  total per month, all stacks (fixed part only)"]
    return "\n".join(lines) + "\n"


def _names(resources: list[str], show: int = 2) -> str:
    if len(resources) <= show + 1:
        return ", ".join(resources)
    return f"{', '.join(resources[:show])} and {len(resources) - show} more"


def cost_markdown(report: CostReport) -> str:
    out = [
        "# secure-constructs cost",
        "",
        f"List prices, {REGION}, USD, as of {PRICES_AS_OF}; fixed monthly part only, no free tier.",
    ]
    for stack in report.stacks:
        out += [
            "",
            f"## {_cell(stack)}",
            "",
            "| item | resource | quantity | unit price | monthly | source |",
            "|---|---|---|---|---|---|",
        ]
        for c in report.grouped(stack):
            out.append(
                f"| {_cell(c.item)} | {_cell(', '.join(c.resources))} | {c.quantity:g} | "
                f"{_money(c.price.usd)} / {c.price.unit} | {_money(c.monthly)} | {c.price.source} |"
            )
        out.append(f"| **total** | | | | **{_money(report.total(stack))}** | |")
        rates = report.rates.get(stack, [])
        if rates:
            out += [
                "",
                "Usage rates (not in the total):",
                "",
                "| usage | rate | resources | source |",
                "|---|---|---|---|",
            ]
            for r in rates:
                out.append(
                    f"| {_cell(r.item)} | {rate(r.price.usd)} per {r.price.unit} | "
                    f"{len(r.resources)} | {r.price.source} |"
                )
    out += ["", f"**Total, all stacks: {_money(report.total())} per month.**"]
    return "\n".join(out) + "\n"
