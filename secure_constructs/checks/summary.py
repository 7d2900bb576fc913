"""Print a short summary of a synthesized cloud assembly: stacks, resources, findings, acks.

Used by `make synth` (`python -m secure_constructs.checks.summary cdk.out`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from secure_constructs.checks.waf_facts import COUNT_ONLY_METADATA


def summarize(assembly: Path) -> list[str]:
    lines: list[str] = []
    manifest = json.loads((assembly / "manifest.json").read_text())
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        lines.append(f"stack {name}: {len(template.get('Resources', {}))} resources")
        lines.extend(_count_only_lines(template))
    report_path = assembly / "validation-report.json"
    open_findings: list[str] = []
    acknowledged: list[str] = []
    if report_path.exists():
        for plugin in json.loads(report_path.read_text()).get("pluginReports", []):
            for v in plugin.get("violations", []):
                for c in v["violatingConstructs"]:
                    open_findings.append(
                        f"  {v['severity']:7} {v['ruleName']}  at {c['constructPath']}"
                    )
            for v in plugin.get("suppressedViolations") or []:
                acknowledged.extend(c["constructPath"] for c in v["violatingConstructs"])
    lines.append(f"findings: {len(open_findings)} open, {len(acknowledged)} acknowledged")
    lines.extend(open_findings)
    if acknowledged:  # the audit that `make synth` runs next prints each reason, once
        lines.append("acknowledged findings: see the audit's Acknowledgements (with reasons)")
    return lines


def _count_only_lines(template: dict[str, Any]) -> list[str]:
    """One line per web ACL in a declared count-only rollout: it blocks nothing until then."""
    lines = []
    for logical_id, resource in template.get("Resources", {}).items():
        rollout = (resource.get("Metadata") or {}).get(COUNT_ONLY_METADATA)
        if isinstance(rollout, dict):
            lines.append(
                f"  WAF COUNT-ONLY (blocks nothing) {logical_id} until {rollout.get('until')}: "
                f"{rollout.get('reason')}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    assembly = Path(args[0] if args else "cdk.out")
    if not (assembly / "manifest.json").exists():
        print(f"no cloud assembly at {assembly}", file=sys.stderr)
        return 2
    print("\n".join(summarize(assembly)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
