"""One self-contained HTML page: scorecard, findings, acknowledgements, permissions and cost.

No scripts, fonts, images or stylesheets from the network; long ARNs wrap, so the page reads
without scrolling sideways.
"""

from __future__ import annotations

from html import escape

from secure_constructs.audit.cost import CostReport
from secure_constructs.audit.permissions import PermissionReport
from secure_constructs.audit.permissions.render import reach_title
from secure_constructs.audit.render import principal_title, rate
from secure_constructs.audit.report import AuditReport
from secure_constructs.audit.sources import Acknowledgement
from secure_constructs.facts.prices import PRICES_AS_OF, REGION

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24;
       max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .45rem; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; }
th { background: #f6f8fa; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.pass { color: #1a7f37; font-weight: 600; } .partial { color: #9a6700; font-weight: 600; }
.fail, .error, .problem { color: #cf222e; font-weight: 600; } .warning { color: #9a6700; }
.muted, .not-checked, .na { color: #57606a; } .flag { color: #cf222e; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def to_html(
    audit: AuditReport, permissions: PermissionReport, cost: CostReport, *, fail_on: str
) -> str:
    failed = audit.failed(fail_on) or bool(audit.file_errors)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>secure-constructs audit</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>secure-constructs audit</h1>",
        f"<p><strong>{_e(audit.summary())}</strong><br>Packs: {_e(', '.join(audit.tools()))}. "
        f'Result: <span class="{"fail" if failed else "pass"}">'
        f"{'FAIL' if failed else 'pass'}</span> (--fail-on {_e(fail_on)}).</p>",
    ]
    if audit.file_errors:
        out.append("<h2>Files not evaluated</h2><ul>")
        out.extend(f'<li class="fail">{_e(error)}</li>' for error in audit.file_errors)
        out.append("</ul>")
    out += _scorecard(audit)
    out += _findings(audit)
    out += _acknowledgements(audit)
    out += _permissions(permissions)
    out += _reach(permissions)
    out += _cost(cost)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _scorecard(audit: AuditReport) -> list[str]:
    """The practices scorecard: one column per stack."""
    out: list[str] = []
    out.append("<h2>Practices scorecard</h2>")
    card = audit.scorecard()
    out.append(
        "<table><tr><th>practice</th>" + "".join(f"<th>{_e(s)}</th>" for s in card) + "</tr>"
    )
    if card:
        first = next(iter(card.values()))
        for practice in first:
            cells = []
            for row in card.values():
                score = row[practice]
                css = score.status.replace(" ", "-").replace("/", "")  # n/a -> na
                detail = (
                    f'<br><span class="muted">{_e(score.detail)}</span>' if score.detail else ""
                )
                cells.append(f'<td><span class="{css}">{_e(score.label)}</span>{detail}</td>')
            out.append(f"<tr><td>{_e(practice.value)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return out


def _findings(audit: AuditReport) -> list[str]:
    """Every finding, open or acknowledged, with its fix or acknowledgement."""
    out: list[str] = []
    out.append("<h2>Findings</h2>")
    if not audit.findings:
        out.append("<p>No findings.</p>")
    else:
        out.append(
            '<table><colgroup><col style="width:9%"><col style="width:16%"><col style="width:20%">'
            '<col style="width:27%"><col style="width:28%"></colgroup>'
            "<tr><th>severity</th><th>rule</th><th>resource</th><th>finding</th>"
            "<th>fix / acknowledgement</th></tr>"
        )
        for f in audit.findings:
            ack = f.acknowledgement or Acknowledgement("", "", "", "")
            status = f.severity if f.open else f"acknowledged {f.severity}"
            last = (
                _e(f.fix)
                if f.open
                else f"acknowledged at <code>{_e(ack.at)}</code>: {_e(ack.reason)}"
            )
            out.append(
                f'<tr><td class="{_e(f.severity if f.open else "muted")}">{_e(status)}</td>'
                f"<td>{_e(f.tool)}<br><code>{_e(f.rule_name)}</code></td>"
                f"<td>{_e(f.stack_name)}<br><code>{_e(f.where)}</code></td>"
                f"<td>{_e(f.message)}</td><td>{last}</td></tr>"
            )
        out.append("</table>")
    return out


def _acknowledgements(audit: AuditReport) -> list[str]:
    """Every acknowledgement with its status and problems."""
    out: list[str] = []
    out.append("<h2>Acknowledgements</h2>")
    if not audit.acknowledgements:
        out.append("<p>None.</p>")
    else:
        out.append("<table><tr><th>status</th><th>id</th><th>made at</th><th>reason</th></tr>")
        for s in audit.acknowledgements:
            problems = "".join(f'<br><span class="problem">{_e(p)}</span>' for p in s.problems)
            problems += "".join(f'<br><span class="muted">{_e(n)}</span>' for n in s.notes)
            out.append(
                f'<tr><td class="{"pass" if s.ok else "problem"}">{_e(s.label)}'
                f" ({s.matched} finding{'s' * (s.matched != 1)})</td>"
                f"<td><code>{_e(s.ack.rule_id)}</code></td><td><code>{_e(s.ack.at)}</code></td>"
                f"<td>{_e(s.ack.reason or '(empty)')}{problems}</td></tr>"
            )
        out.append("</table>")
    return out


def _permissions(permissions: PermissionReport) -> list[str]:
    """Each principal's grants."""
    out: list[str] = []
    out.append("<h2>Permissions</h2>")
    if not permissions.principals:
        out.append("<p>No IAM roles, users or groups.</p>")
    for p in permissions.principals:
        out.append(f"<h3>{_e(p.stack)}: {_e(principal_title(p))}</h3>")
        out.append(
            '<table><colgroup><col style="width:7%"><col style="width:22%"><col style="width:37%">'
            '<col style="width:16%"><col style="width:18%"></colgroup>'
            "<tr><th>effect</th><th>action</th><th>resources</th><th>condition</th><th>flags</th></tr>"
        )
        for actions, g in p.blocks():
            names = "<br>".join(f"<code>{_e(a)}</code>" for a in actions)
            resources = "<br>".join(f"<code>{_e(r)}</code>" for r in g.resources)
            flags = "<br>".join(f'<span class="flag">{_e(x)}</span>' for x in g.flags)
            out.append(
                f"<tr><td>{_e(g.effect)}</td><td>{names}</td><td>{resources}</td>"
                f"<td>{_e(g.condition or '')}</td><td>{flags}</td></tr>"
            )
        out.append("</table>")
        out.extend(f'<p class="muted">{_e(n)}</p>' for n in p.notes)
    return out


def _reach(permissions: PermissionReport) -> list[str]:
    """Who each resource policy lets in, and who can become each role (its trust policy)."""
    out = ["<h2>Who can reach each resource, and become each role</h2>"]
    if not permissions.reach:
        out.append("<p>No resource-based or trust policies.</p>")
    for r in permissions.reach:
        out.append(f"<h3>{_e(r.stack)}: {_e(reach_title(r))}</h3>")
        out.append(
            '<table><colgroup><col style="width:7%"><col style="width:20%"><col style="width:20%">'
            '<col style="width:21%"><col style="width:16%"><col style="width:16%"></colgroup>'
            "<tr><th>effect</th><th>principal</th><th>actions</th><th>resources</th>"
            "<th>condition</th><th>flags</th></tr>"
        )
        for a in r.accesses:
            actions = "<br>".join(f"<code>{_e(x)}</code>" for x in a.actions)
            resources = "<br>".join(f"<code>{_e(x)}</code>" for x in a.resources)
            flags = "<br>".join(f'<span class="flag">{_e(x)}</span>' for x in a.flags)
            out.append(
                f"<tr><td>{_e(a.effect)}</td><td><code>{_e(a.principal)}</code></td>"
                f"<td>{actions}</td><td>{resources}</td><td>{_e(a.condition or '')}</td>"
                f"<td>{flags}</td></tr>"
            )
        out.append("</table>")
    return out


def _cost(cost: CostReport) -> list[str]:
    """The baseline's fixed monthly cost per stack, and the usage rates."""
    out: list[str] = []
    out.append("<h2>Cost of the security baseline</h2>")
    out.append(
        f'<p class="muted">List prices, {REGION}, USD, as of {PRICES_AS_OF}; fixed monthly part '
        "only, no free tier. Usage rates are listed, not added.</p>"
    )
    for stack in cost.stacks:
        out.append(f"<h3>{_e(stack)}</h3>")
        out.append(
            "<table><tr><th>item</th><th>resource</th><th>quantity</th><th>unit price</th>"
            "<th>monthly</th><th>source</th></tr>"
        )
        for c in cost.grouped(stack):
            names = ", ".join(c.resources)
            out.append(
                f"<tr><td>{_e(c.item)}</td><td><code>{_e(names)}</code></td><td>{c.quantity:g}</td>"
                f"<td>${c.price.usd:,.2f} / {_e(c.price.unit)}</td><td>${c.monthly:,.2f}</td>"
                f"<td>{_e(c.price.source)}</td></tr>"
            )
        out.append(
            f'<tr><th colspan="4">total</th><th>${cost.total(stack):,.2f}</th>'
            "<th></th></tr></table>"
        )
        rates = cost.rates.get(stack, [])
        if rates:
            out.append(
                "<table><tr><th>usage (not in the total)</th><th>rate</th><th>source</th></tr>"
            )
            for r in rates:
                out.append(
                    f"<tr><td>{_e(r.item)}</td><td>{rate(r.price.usd)} per {_e(r.price.unit)}</td>"
                    f"<td>{_e(r.price.source)}</td></tr>"
                )
            out.append("</table>")
    out.append(f"<p><strong>Total, all stacks: ${cost.total():,.2f} per month.</strong></p>")
    return out
