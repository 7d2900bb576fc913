"""Refresh the example outputs in docs/audit.md from real runs of `secure-constructs`.

Each `<!-- generated: NAME -->` marker in docs/audit.md is followed by a fenced block; this script
runs the command NAME stands for and replaces the block with its output. The root app's outputs
read `cdk.out`, so run `make synth` first.

Usage: python scripts/gen_audit_docs.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "audit.md"
FIXTURES = "tests/audit/fixtures"
ASSEMBLY = f"{FIXTURES}/assembly"
ORDERS = f"{FIXTURES}/templates/orders.yaml"
SHARED = f"{FIXTURES}/templates/shared.yaml"
PERMISSIONS = [sys.executable, "-m", "secure_constructs", "permissions"]


def cli(*args: str, cwd: Path = ROOT, exit_code: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "secure_constructs", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 2:
        raise SystemExit(f"secure-constructs {' '.join(args)}: {done.stderr.strip()}")
    out = done.stdout + done.stderr
    return out.rstrip() + (f"\nexit code {done.returncode}" if exit_code else "")


def json_excerpt() -> str:
    data = json.loads(
        cli("audit", ASSEMBLY, "--format", "json", "--fail-on", "never", exit_code=False)
    )
    excerpt = {
        "summary": data["summary"],
        "scorecard": {k: dict(list(v.items())[:3]) for k, v in data["scorecard"].items()},
        "findings": data["findings"][:1],
        "acknowledgements": data["acknowledgements"][:1],
    }
    return json.dumps(excerpt, indent=2)


def sarif_result() -> str:
    data = json.loads(
        cli("audit", ASSEMBLY, "--format", "sarif", "--fail-on", "never", exit_code=False)
    )
    ours = next(r for r in data["runs"] if r["tool"]["driver"]["name"] == "SecureServerless")
    return json.dumps(next(r for r in ours["results"] if r["ruleId"] == "LambdaTimeout"), indent=2)


def baseline_demo() -> tuple[str, str]:
    work = Path(tempfile.mkdtemp(prefix="sc-audit-docs-"))
    template = json.loads((ROOT / FIXTURES / "templates" / "orders.json").read_text())
    (work / "orders.json").write_text(json.dumps(template, indent=2))
    done = subprocess.run(
        [*PERMISSIONS, "orders.json", "--write-baseline", "permissions-baseline.json"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    written = f"{done.stderr.strip()}\nexit code {done.returncode}"  # the report went to stdout
    statements = template["Resources"]["OrdersRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements[0]["Action"].append("dynamodb:DeleteItem")
    statements[:] = [s for s in statements if s["Action"] != "s3:GetObject"]
    (work / "orders.json").write_text(json.dumps(template, indent=2))
    checked = cli("permissions", "orders.json", "--baseline", "permissions-baseline.json", cwd=work)
    tail = checked[checked.index("baseline:") :]
    return written, tail


def code_demo() -> str:
    """The root app's cloud assembly with a planted unused grant (DeleteItem on GetItem's
    role) and a planted ungranted call (a Scan in get_item.py): the code section reports both."""
    work = Path(tempfile.mkdtemp(prefix="sc-audit-docs-")) / "cdk.out"
    shutil.copytree(ROOT / "cdk.out", work)
    template_path = work / "ItemsService.template.json"
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    policy = next(k for k in resources if k.startswith("GetItemServiceRolePolicy"))
    table = next(k for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table")
    resources[policy]["Properties"]["PolicyDocument"]["Statement"].append(
        {
            "Action": "dynamodb:DeleteItem",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table, "Arn"]},
        }
    )
    template_path.write_text(json.dumps(template))
    handler = next(p for p in work.glob("asset.*/get_item.py"))
    handler.write_text(handler.read_text() + "\n\ndef purge() -> None:\n    table().scan()\n")
    out = cli("permissions", "cdk.out", "--fail-on-unused", cwd=work.parent)
    lines = out[out.index("code against grants") :].splitlines()
    start = next(i for i, line in enumerate(lines) if "function GetItem" in line)
    block = [lines[0]]
    for line in lines[start:]:
        if line.startswith("  function") and "GetItem" not in line:
            break
        block.append(line)
    tail = lines[next(i for i, x in enumerate(lines) if x.startswith("unused grants:")) :]
    return "$ secure-constructs permissions cdk.out --fail-on-unused\n" + "\n".join(
        [*block, "  ...", *tail]
    )


_BASELINE: dict[str, str] = {}


def _baseline(part: int) -> str:
    if not _BASELINE:
        _BASELINE["write"], _BASELINE["check"] = baseline_demo()
    return _BASELINE["write" if part == 0 else "check"]


GENERATORS: dict[str, Callable[[], str]] = {
    "audit-root": lambda: cli("audit", "cdk.out"),
    "audit-fixture": lambda: cli("audit", ASSEMBLY),
    "audit-json-excerpt": json_excerpt,
    "sarif-result": sarif_result,
    "permissions-root": lambda: cli("permissions", "cdk.out"),
    "permissions-orders": lambda: cli("permissions", ORDERS, SHARED),
    "baseline-write": lambda: (
        "$ secure-constructs permissions orders.json "
        "--write-baseline permissions-baseline.json\n" + _baseline(0)
    ),
    "baseline-check": lambda: _baseline(1),
    "permissions-code": code_demo,
    "cost-root": lambda: cli("cost", "cdk.out"),
    "cost-orders": lambda: cli("cost", ORDERS),
}

_MARKER = re.compile(r"<!-- generated: (?P<name>[a-z-]+) -->\n(?P<fence>```[a-z]*)\n.*?\n```", re.S)


def main() -> int:
    if not (ROOT / "cdk.out" / "manifest.json").exists():
        raise SystemExit("no cdk.out: run `make synth` first")
    text = DOC.read_text()
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        seen.add(name)
        output = GENERATORS[name]()
        return f"<!-- generated: {name} -->\n{match.group('fence')}\n{output}\n```"

    DOC.write_text(_MARKER.sub(replace, text))
    missing = set(GENERATORS) - seen
    if missing:
        raise SystemExit(f"docs/audit.md has no marker for {sorted(missing)}")
    print(f"refreshed {len(seen)} outputs in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
