"""The `secure-constructs` command: audit, permissions and cost over any CloudFormation template.

Exit codes: 0 fine, 1 the gate failed (open findings at `--fail-on`, or permissions grew past
the baseline), 2 bad input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from secure_constructs._version import __version__
from secure_constructs.audit.code_calls.baseline import new_unused, read_unused
from secure_constructs.audit.code_calls.render import code_markdown, code_text, unused_gate_text
from secure_constructs.audit.cost import cost
from secure_constructs.audit.permissions import (
    PermissionReport,
    compare,
    permissions,
    read_baseline,
    write_baseline,
)
from secure_constructs.audit.render import (
    audit_markdown,
    audit_text,
    cost_markdown,
    cost_text,
    permissions_markdown,
    permissions_text,
)
from secure_constructs.audit.report import AuditReport, as_json, audit
from secure_constructs.audit.rules_list import render_rules
from secure_constructs.audit.sources import InputError, Inputs, StackSource, load
from secure_constructs.checks.intrinsics import Resolver, exports_of
from secure_constructs.checks.model import CheckOptions
from secure_constructs.checks.policy_facts import is_account_id

PROG = "secure-constructs"
AUDIT_FORMATS = ("text", "markdown", "json", "sarif", "html")
REPORT_FORMATS = ("text", "markdown", "json")
RULES_FORMATS = ("text", "md", "json")
EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: error: {message} (see {PROG} --help)\n")
        raise SystemExit(EXIT_INPUT)


def _common(sub: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    sub.add_argument(
        "paths", nargs="+", metavar="PATH", help="cdk.out, a directory or template files"
    )
    sub.add_argument(
        "--format", choices=formats, default="text", help="output format (default: text)"
    )
    sub.add_argument("--output", metavar="FILE", help="write the report to FILE (default: stdout)")


def _add_audit(commands: Any) -> None:
    """The `audit` command and its options."""
    audit_cmd = commands.add_parser(
        "audit", help="SecureServerless findings merged with cdk-nag's, scorecard, acknowledgements"
    )
    _common(audit_cmd, AUDIT_FORMATS)
    audit_cmd.add_argument(
        "--fail-on",
        choices=("error", "warning", "never"),
        default="error",
        help="exit 1 when an open finding has this severity or worse (default: error)",
    )
    audit_cmd.add_argument(
        "--max-timeout",
        type=int,
        default=CheckOptions().max_timeout_seconds,
        metavar="SECONDS",
        help="the LambdaTimeout cap (default: %(default)s, as apply_checks)",
    )
    audit_cmd.add_argument(
        "--code-grants-error",
        action="store_true",
        help="CodeGrantsMatch findings (code against grants) are errors, not warnings",
    )
    audit_cmd.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ID",
        help="a 12-digit account id that is the templates' own account (repeatable; a cloud "
        "assembly's stack environment counts too); any other literal account in a policy is "
        "another account",
    )
    audit_cmd.add_argument(
        "--nag",
        action="store_true",
        help="also run cdk-nag's AwsSolutions and Serverless packs on every template whose "
        "cloud assembly's validation report does not hold them (loaded with CfnInclude; "
        "needs Node.js)",
    )
    audit_cmd.add_argument(
        "--packs",
        metavar="PACK,...",
        help="the cdk-nag packs --nag runs (implies --nag): AwsSolutions,Serverless,NIST,HIPAA,PCI",
    )


def _add_permissions(commands: Any) -> None:
    """The `permissions` command and its options."""
    perm_cmd = commands.add_parser(
        "permissions", help="grants per role, who can reach each resource and become each role"
    )
    _common(perm_cmd, REPORT_FORMATS)
    perm_cmd.add_argument(
        "--baseline",
        metavar="FILE",
        help="exit 1 when any role gained an action or resource, or a resource policy or trust "
        "policy lets more principals in",
    )
    perm_cmd.add_argument("--write-baseline", metavar="FILE", help="record the current permissions")
    perm_cmd.add_argument(
        "--fail-on-unused",
        action="store_true",
        help="exit 1 when a function's code never uses a grant (one not in --baseline, if given)",
    )
    perm_cmd.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="FUNCTION=DIR",
        help="read the code of function FUNCTION (logical id) from DIR (repeatable)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Audit findings, permissions and cost of CloudFormation templates "
        "(a cloud assembly such as cdk.out, or JSON/YAML template files).",
        epilog="exit codes: 0 fine, 1 the gate failed (--fail-on, --baseline), 2 bad input",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    _add_audit(commands)
    _add_permissions(commands)
    rules_cmd = commands.add_parser(
        "rules", help="every rule of the SecureServerless pack: id, practice, severity, fix"
    )
    rules_cmd.add_argument(
        "--format", choices=RULES_FORMATS, default="text", help="output format (default: text)"
    )
    rules_cmd.add_argument(
        "--output", metavar="FILE", help="write the list to FILE (default: stdout)"
    )
    cost_cmd = commands.add_parser("cost", help="fixed monthly cost of the security baseline")
    _common(cost_cmd, REPORT_FORMATS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # never a traceback on the user's terminal, unless asked for
        if os.environ.get("SECURE_CONSTRUCTS_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"{PROG}: internal error: {error!r} (set SECURE_CONSTRUCTS_DEBUG=1 for the traceback)\n"
        )
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    if args.command == "rules":
        _emit(args, render_rules(args.format))
        return EXIT_OK
    if args.command == "audit" and args.max_timeout <= 0:
        raise InputError(
            f"--max-timeout={args.max_timeout} is not allowed: a positive number of seconds"
        )
    for account in getattr(args, "account", []):
        if not is_account_id(account):
            raise InputError(
                f"--account={account} is not allowed: a 12-digit AWS account id (e.g. "
                "--account 123456789012)"
            )
    inputs = load(args.paths)
    if not inputs.stacks and inputs.file_errors:  # nothing to report on: say why, exit 2
        raise InputError("\n".join(inputs.file_errors))
    if args.command == "audit":
        code = _audit(args, inputs)
    elif args.command == "permissions":
        code = _permissions(args, inputs)
    else:
        code = _cost(args, inputs)
    for error in inputs.file_errors:  # after the whole report; never a pass (fail closed)
        sys.stderr.write(f"{PROG}: error: {error}\n")
    return EXIT_INPUT if inputs.file_errors else code


def _cost(args: argparse.Namespace, inputs: Inputs) -> int:
    report = cost(inputs.stacks)
    if args.format == "json":
        _emit(args, json.dumps(report.as_json(), indent=2) + "\n")
    else:
        _emit(args, cost_markdown(report) if args.format == "markdown" else cost_text(report))
    return EXIT_OK


def resolvers(stacks: Sequence[StackSource]) -> dict[str, Resolver]:
    """One resolver per stack, each knowing the exports of all the others."""
    exports = exports_of([s.body for s in stacks])
    return {s.name: Resolver(s.body, exports=exports) for s in stacks}


def _audit(args: argparse.Namespace, inputs: Inputs) -> int:
    options = CheckOptions(
        max_timeout_seconds=args.max_timeout,
        code_grants_error=args.code_grants_error,
        accounts=frozenset(args.account),
    )
    if args.nag or args.packs:  # imports aws_cdk and starts jsii: only when asked for
        from secure_constructs.audit.nag import DEFAULT_PACKS, add_nag_findings, parse_packs

        add_nag_findings(inputs, parse_packs(args.packs) if args.packs else DEFAULT_PACKS)
    report = audit(inputs, options)
    text = _render_audit(report, inputs, args.format, args.fail_on)
    _emit(args, text)
    if args.output:
        print(f"{PROG} audit: {report.summary()}; {args.format} report written to {args.output}")
    return EXIT_GATE if report.failed(args.fail_on) else EXIT_OK


def _render_audit(report: AuditReport, inputs: Inputs, fmt: str, fail_on: str) -> str:
    if fmt == "json":
        return json.dumps(as_json(report), indent=2) + "\n"
    if fmt == "sarif":
        from secure_constructs.audit.sarif import to_sarif

        return json.dumps(to_sarif(report), indent=2) + "\n"
    if fmt == "html":
        from secure_constructs.audit.html import to_html

        grants = permissions(inputs.stacks, resolvers(inputs.stacks))
        return to_html(report, grants, cost(inputs.stacks), fail_on=fail_on)
    if fmt == "markdown":
        return audit_markdown(report, fail_on=fail_on)
    return audit_text(report, fail_on=fail_on)


def _permissions(args: argparse.Namespace, inputs: Inputs) -> int:
    report: PermissionReport = permissions(
        inputs.stacks, resolvers(inputs.stacks), code_dirs=code_dirs(args.code)
    )
    diff = compare(report, read_baseline(Path(args.baseline))) if args.baseline else None
    unused_gate = (
        new_unused(report.code, read_unused(Path(args.baseline)) if args.baseline else None)
        if args.fail_on_unused
        else []
    )
    if args.format == "json":
        data = report.as_json()
        if diff is not None:
            data["baseline"] = {
                "growth": [{"principal": p, "action": a, "entry": e} for p, a, e in diff.growth],
                "shrinkage": [
                    {"principal": p, "action": a, "entry": e} for p, a, e in diff.shrinkage
                ],
                "widened": [
                    {"resource": r, "principal": p, "entry": e} for r, p, e in diff.widened
                ],
                "narrowed": [
                    {"resource": r, "principal": p, "entry": e} for r, p, e in diff.narrowed
                ],
            }
        if args.fail_on_unused:
            data["new_unused"] = [{"function": f, "entry": e} for f, e in unused_gate]
        _emit(args, json.dumps(data, indent=2) + "\n")
    elif args.format == "markdown":
        markdown = "\n".join(code_markdown(report.code) + unused_gate_text(unused_gate))
        _emit(args, permissions_markdown(report, diff) + "\n" + markdown + "\n")
    else:
        text = "\n".join(code_text(report.code) + unused_gate_text(unused_gate))
        _emit(args, permissions_text(report, diff) + text.lstrip("\n") + "\n")
    if args.write_baseline:
        write_baseline(report, Path(args.write_baseline))
        print(f"{PROG} permissions: baseline written to {args.write_baseline}", file=sys.stderr)
    grew = diff is not None and diff.failed
    return EXIT_GATE if grew or unused_gate else EXIT_OK


def code_dirs(entries: Sequence[str]) -> dict[str, Path]:
    """`--code FUNCTION=DIR` entries as logical id -> folder."""
    found: dict[str, Path] = {}
    for entry in entries:
        function, _, folder = entry.partition("=")
        if not function or not folder:
            raise InputError(f"--code={entry}: expected FUNCTION=DIR (a logical id and a folder)")
        if not Path(folder).is_dir():
            raise InputError(f"--code={entry}: {folder} is not a directory")
        found[function] = Path(folder)
    return found


def _emit(args: argparse.Namespace, text: str) -> None:
    if not args.output:
        sys.stdout.write(text)
        return
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"{args.output}: cannot write the report: {error.strerror or error}"
        ) from None


if __name__ == "__main__":
    raise SystemExit(main())
