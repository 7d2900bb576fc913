"""`audit --nag` / `--packs`: cdk-nag v3's packs on templates that no CDK app made.

Each template is loaded into a stack of a throw-away CDK app with
`aws_cdk.cloudformation_include.CfnInclude` (a SAM template: its translated form), cdk-nag's
packs are added as validation plugins exactly as `apply_checks` adds them
(`Validations.of(app).add_plugins(...)`), the app is synthesized into a temporary folder, and
the plugin report CDK writes there (`validation-report.json`, read as `checks.summary` reads
it) becomes findings beside ours. cdk-nag runs on Node.js through jsii: without a usable Node
the run fails with a clear error (exit 2), never a silent pass. A template CfnInclude refuses is
a per-file error. Nothing here is imported unless `--nag` or `--packs` is given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secure_constructs.audit.sources import (
    InputError,
    Inputs,
    PluginResult,
    StackSource,
    _load_validation_report,
)

# `--packs` name -> (cdk_nag class, the pack name its report uses)
PACKS: dict[str, tuple[str, str]] = {
    "AwsSolutions": ("AwsSolutionsChecks", "AwsSolutions"),
    "Serverless": ("ServerlessChecks", "Serverless"),
    "NIST": ("NIST80053R5Checks", "NIST.800.53.R5"),
    "HIPAA": ("HIPAASecurityChecks", "HIPAA.Security"),
    "PCI": ("PCIDSS321Checks", "PCI.DSS.321"),
}
DEFAULT_PACKS = ("AwsSolutions", "Serverless")
"""What `--nag` alone runs: the packs `apply_checks` always adds."""

_STACK = "Nag"
_INCLUDE = "Template"


def parse_packs(text: str) -> list[str]:
    """`AwsSolutions,NIST` -> the pack names, or an InputError naming the allowed ones."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PACKS]
    if not names or unknown:
        raise InputError(
            f"--packs={text}: {'unknown pack ' + ', '.join(unknown) if unknown else 'no pack'}; "
            f"choose from {','.join(PACKS)}"
        )
    return list(dict.fromkeys(names))


@dataclass
class NagRun:
    """What running the packs over the stacks produced."""

    results: list[PluginResult] = field(default_factory=list)
    packs_run: set[str] = field(default_factory=set)
    file_errors: list[str] = field(default_factory=list)
    ran: int = 0


def node_problem() -> str | None:
    """Why jsii cannot start Node.js here (None: it can)."""
    configured = os.environ.get("JSII_NODE")
    node = shutil.which(configured) if configured else shutil.which("node")
    if node is None:
        where = (
            f"JSII_NODE={configured} is not an executable" if configured else "no `node` on PATH"
        )
        return (
            f"--nag needs Node.js to run cdk-nag (through jsii), and {where}; install Node 22 "
            "(e.g. `npm ci` in this repository puts it in node_modules/.bin) or drop --nag"
        )
    return None


def add_nag_findings(inputs: Inputs, packs: Sequence[str]) -> None:
    """Run every pack of `packs` a stack's cdk-nag report lacks over it; merge into `inputs`.

    A cloud assembly's `validation-report.json` counts only for the packs it names: a report
    written by another plugin (or by `SecureServerlessChecks()` alone) is no reason to skip
    cdk-nag, and a pack is reported as run only when it did run.
    """
    problem = node_problem()
    if problem:
        raise InputError(problem)
    groups: dict[tuple[str, ...], list[StackSource]] = {}
    reports: dict[Path | None, frozenset[str]] = {}
    for stack in inputs.stacks:
        if stack.assembly not in reports:
            reports[stack.assembly] = _packs_in_report(stack.assembly)
        done = reports[stack.assembly]
        missing = tuple(name for name in packs if PACKS[name][1] not in done)
        if missing:
            groups.setdefault(missing, []).append(stack)
    for missing, targets in groups.items():
        run = run_packs(targets, missing)
        inputs.plugin_results.extend(run.results)
        inputs.plugins_run.update(run.packs_run)
        inputs.file_errors.extend(run.file_errors)
        inputs.reports_read += run.ran


def _packs_in_report(assembly: Path | None) -> frozenset[str]:
    """The plugin names in the validation report of a cloud assembly (none: empty).

    CDK writes one report per synth of the whole app, so a pack it names judged every stack
    of the assembly. The report was already read (and refused if malformed) by `load`.
    """
    if assembly is None:
        return frozenset()
    report = assembly / "validation-report.json"
    if not report.is_file():
        return frozenset()
    found = Inputs()
    try:
        _load_validation_report(report, found)
    except InputError:
        return frozenset()  # unreadable: it proves nothing ran, so the packs run here
    return frozenset(found.plugins_run)


def run_packs(stacks: Iterable[StackSource], packs: Sequence[str]) -> NagRun:
    """cdk-nag's `packs` over each stack, one CDK app per template, in a child process.

    The child (this module run as a script) owns jsii and Node.js: CDK prints the plugin report
    on Node's stderr, which is captured there instead of interleaving with our report.
    """
    run = NagRun()
    chosen = list(stacks)
    if not chosen:
        return run
    with tempfile.TemporaryDirectory(prefix="secure-constructs-nag-") as tmp:
        jobs = []
        for index, stack in enumerate(chosen):
            work = Path(tmp) / str(index)
            work.mkdir()
            template = work / "template.json"
            template.write_text(json.dumps(stack.body), encoding="utf-8")
            jobs.append({"template": str(template), "out": str(work / "cdk.out")})
        statuses_file = Path(tmp) / "statuses.json"  # not stdout: Node may print there
        child = subprocess.run(
            [sys.executable, "-m", "secure_constructs.audit.nag", str(statuses_file), *packs],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            check=False,
        )
        statuses = _statuses(statuses_file)
        if child.returncode != 0 or len(statuses) != len(jobs):
            tail = " ".join(child.stderr.strip().splitlines()[-3:]) or f"exit {child.returncode}"
            raise InputError(f"--nag: cdk-nag could not run (jsii on Node.js): {_one_line(tail)}")
        for stack, job, status in zip(chosen, jobs, statuses, strict=True):
            if status.get("error"):
                run.file_errors.append(f"{stack.path}: cdk-nag not run: {status['error']}")
                continue
            run.ran += 1
            stack.nag_packs = frozenset(PACKS[name][1] for name in packs)
            run.packs_run.update(stack.nag_packs)
            run.results.extend(_results(Path(job["out"]) / "validation-report.json", stack))
    return run


def _statuses(path: Path) -> list[dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _results(report: Path, stack: StackSource) -> list[PluginResult]:
    """The report's findings, located on the stack's own logical ids."""
    found = Inputs()
    _load_validation_report(report, found)
    prefix = f"{_STACK}/{_INCLUDE}/"
    out = []
    for result in found.plugin_results:
        rest = result.construct_path.removeprefix(prefix)
        logical_id = rest.split("/", 1)[0] if result.construct_path.startswith(prefix) else None
        path = stack.construct_paths.get(logical_id or "") or f"{stack.name}/{logical_id or rest}"
        out.append(
            PluginResult(
                pack=result.pack,
                rule_name=result.rule_name,
                description=result.description,
                severity=result.severity,
                construct_path=path,
                fix=result.fix,
                logical_id=logical_id,
                stack_name=stack.name,
            )
        )
    return out


def _one_line(error: object) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _synth(job: dict[str, str], packs: Sequence[str]) -> dict[str, str]:
    """One template into a CDK app with the packs as plugins; {} or {"error": why}."""
    import aws_cdk as cdk
    import cdk_nag
    from aws_cdk import cloudformation_include as cfn_inc

    try:
        app = cdk.App(outdir=job["out"])
        scope = cdk.Stack(app, _STACK)
        cfn_inc.CfnInclude(scope, _INCLUDE, template_file=job["template"])
        cdk.Validations.of(app).add_plugins(
            *(getattr(cdk_nag, PACKS[name][0])(app) for name in packs)
        )
    except Exception as error:
        return {"error": f"CfnInclude cannot load the template: {_one_line(error)}"}
    failure = ""
    try:
        app.synth()
    except Exception as error:  # what CDK raises when a plugin reports a finding
        failure = _one_line(error)
    if not (Path(job["out"]) / "validation-report.json").is_file():
        return {"error": f"the synth wrote no validation report ({failure or 'no error'})"}
    return {}


def _worker(argv: Sequence[str]) -> int:
    """The child process: jobs as JSON on stdin, one status per job written to argv[0]."""
    statuses_file, *names = argv
    packs = [name for name in names if name in PACKS]
    jobs = json.loads(sys.stdin.read())
    statuses = [_synth(job, packs) for job in jobs]
    Path(statuses_file).write_text(json.dumps(statuses), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1:]))
