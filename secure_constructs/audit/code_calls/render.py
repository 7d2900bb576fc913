"""The "code against grants" section of the permissions report (text and Markdown)."""

from __future__ import annotations

from collections.abc import Sequence

from secure_constructs.audit.code_calls.compare import FunctionCheck

TITLE = "code against grants: what each function's code calls, against what its role grants"


def summary(check: FunctionCheck) -> str:
    if not check.code.analysed:
        return f"NOT ANALYSED: {check.code.not_analysed}"
    parts = [
        f"{len(check.unused)} unused",
        f"{len(check.missing)} missing",
        f"{len(check.code.unresolved)} unresolved",
    ]
    if check.bundled:
        parts.append(f"{len(check.bundled)} bundled by CDK")
    return ", ".join(parts)


def lines_of(check: FunctionCheck) -> list[str]:
    lines = [f"  function {check.function} (role {check.role or '?'}): {summary(check)}"]
    if not check.code.analysed:
        return lines + [f"    note: {n}" for n in check.notes]
    lines.append(f"    called:  {', '.join(check.called) or '(nothing)'}")
    for call in check.code.calls:
        target = f" on ${call.env}" if call.env else ""
        lines.append(f"      {call.where}  {call.api}{target} -> {', '.join(call.actions)}")
    for m in check.missing:
        lines.append(f"    MISSING {m.action}: {m.call.where} {m.call.api}: {m.reason}")
    for u in check.unused:
        lines.append(f"    UNUSED  {u.action}: {u.statement} on {u.resources}")
    for b in check.bundled:
        lines.append(f"    bundled {b.action}: {b.statement} ({b.why})")
    for gap in check.code.unresolved:
        lines.append(f"    UNRESOLVED {gap.where} {gap.api}: {gap.reason}")
    if check.platform:
        used = sorted({p.action for p in check.platform})
        lines.append(f"    used by Lambda for the function: {', '.join(used)}")
    lines.extend(f"    note: {n}" for n in check.notes)
    return lines


def code_text(checks: Sequence[FunctionCheck]) -> list[str]:
    if not checks:
        return []
    lines = ["", TITLE]
    for check in checks:
        lines.extend(lines_of(check))
    return lines


def code_markdown(checks: Sequence[FunctionCheck]) -> list[str]:
    if not checks:
        return []
    out = ["## Code against grants", "", "| function | result | unused | missing | unresolved |"]
    out.append("|---|---|---|---|---|")
    for c in checks:
        unused = "<br>".join(f"`{u.action}` ({u.statement})" for u in c.unused)
        missing = "<br>".join(f"`{m.action}` at {m.call.where}" for m in c.missing)
        unresolved = "<br>".join(f"{u.where}: {u.reason}" for u in c.code.unresolved)
        out.append(
            f"| {c.stack}/{c.function} | {summary(c)} | {unused} | {missing} | {unresolved} |"
        )
    return [*out, ""]


def unused_gate_text(entries: Sequence[tuple[str, str]]) -> list[str]:
    """The --fail-on-unused gate's verdict (nothing when the gate was not asked for)."""
    if not entries:
        return []
    lines = ["", f"unused grants: {len(entries)} not in the baseline, failing the gate:"]
    return lines + [f"  + {function}  {entry}" for function, entry in entries]
