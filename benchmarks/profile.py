"""Where the synth time goes: cProfile of the Python side and `node --cpu-prof` of the jsii kernel.

    python benchmarks/profile.py                # (b) and (c) at N=50 with the default checks
    python benchmarks/profile.py --n 10 --checks none --apps secure

For each app it runs the benchmark app once under `python -m cProfile` with JSII_NODE pointing
to a wrapper that starts node with `--cpu-prof` (jsii's launcher passes its execArgv on to the
kernel process, so both node processes write a profile). It prints, per app:
- Python: total time, time blocked waiting for the jsii kernel (readline on its pipe), number of
  jsii round trips (requests sent) and callbacks (node calling Python overrides), the top
  functions by own time, and our constructs' cumulative time;
- Node (the kernel): self time by category (idle = waiting for Python, GC, aws-cdk-lib by
  module, cdk-nag, the jsii kernel, node internals) and the top functions by self time.
Profiles stay in the output directory (default: a temporary one) for a closer look
(`snakeviz`, Chrome DevTools / speedscope for .cpuprofile).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import bench_env  # noqa: E402

WRAPPER = """#!/bin/sh
exec "{node}" --cpu-prof --cpu-prof-dir="{outdir}" "$@"
"""


def profile_app(app: str, n: int, checks: str, builtin: bool, outdir: Path) -> dict[str, Any]:
    outdir.mkdir(parents=True, exist_ok=True)
    wrapper = outdir / "node-cpu-prof.sh"
    wrapper.write_text(
        WRAPPER.format(node=ROOT / "node_modules/.bin/node", outdir=outdir / "cpuprofiles")
    )
    wrapper.chmod(0o755)
    env = bench_env(jsii_node=str(wrapper))
    env.update(
        BENCH_N=str(n),
        BENCH_CHECKS=checks,
        BENCH_OUTDIR=str(outdir / "cdk.out"),
        BENCH_API=os.environ.get("BENCH_API", "1"),
    )
    if not builtin:
        env["CDK_VALIDATION"] = "false"
    prof = outdir / "python.prof"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", f"benchmarks.apps.{app}"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - start
    return {
        "app": app,
        "wall_s": wall,
        "python": python_summary(prof),
        "node": node_summary(outdir / "cpuprofiles"),
    }


def python_summary(path: Path) -> dict[str, Any]:
    st = pstats.Stats(str(path))
    raw: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = st.total_tt  # type: ignore[attr-defined]
    blocked = 0.0
    sends = 0
    callbacks = 0
    ours: dict[str, float] = {}
    own: list[tuple[float, str, int]] = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        label = f"{Path(filename).name}:{line}({name})"
        if name == "<method 'readline' of '_io.BufferedReader' objects>":
            blocked += tottime
        if filename.endswith("jsii/_kernel/providers/process.py") and name == "send":
            sends += ncalls
        if filename.endswith("jsii/_kernel/__init__.py") and name == "_handle_callback":
            callbacks += ncalls
        if "secure_constructs" in filename and name in (
            "__init__",
            "add_route",
            "add_to_principal_policy",
            "_explicit",
            "_star_only_actions",
            "_add_alarms",
            "alarm",
            "security_key",
            "alarm_topic",
            "validate",
            "acknowledge",
        ):
            key = f"{Path(filename).parent.name}/{Path(filename).name}:{name}"
            ours[key] = max(ours.get(key, 0.0), cumtime)
        own.append((tottime, label, ncalls))
    own.sort(reverse=True)
    return {
        "total_s": total,
        "blocked_on_node_s": blocked,
        "python_busy_s": total - blocked,
        "jsii_requests": sends,
        "jsii_callbacks": callbacks,
        "top_own": [
            {"s": round(t, 3), "function": label, "calls": calls}
            for t, label, calls in own[:15]
            if "readline" not in label
        ],
        "ours_cumulative_s": dict(sorted(ours.items(), key=lambda kv: -kv[1])),
    }


def _category(url: str, function: str) -> str:
    if function in ("(idle)", "(program)", "(garbage collector)", "(root)"):
        return function
    if not url:
        return "(native/builtins)"
    if url.startswith("wasm://"):
        return "(wasm)"
    if url.startswith("node:"):
        return "node internals"
    if "/cdk-nag/" in url:
        return "cdk-nag"
    marker = "/aws-cdk-lib/"
    if marker in url:
        rest = url.split(marker, 1)[1].split("/")
        return f"aws-cdk-lib/{rest[0]}"
    if "/constructs/" in url:
        return "constructs"
    if "jsii" in url or "program.js" in url:
        return "jsii kernel"
    return "other"


def _context(chain: list[dict[str, Any]]) -> str | None:
    """What a sample is really doing, from its frame and its callers (innermost first)."""
    names = [(f.get("url", ""), f.get("functionName", "")) for f in chain]
    if names and names[0][1] == "read" and not names[0][0]:
        return "waiting for Python (readSync on the jsii pipe)"
    for url, function in names:
        if "cloudformation-validate" in url:
            return "aws-cdk-lib built-in CloudFormation validation (WASM engine)"
        if "/cdk-nag/" in url:
            return "cdk-nag packs"
        if function == "invokeSinglePlugin":
            return "other validation plugins (incl. SecureServerless callback)"
    return None


def node_summary(profiles: Path) -> dict[str, Any] | None:
    files = sorted(profiles.glob("*.cpuprofile"), key=lambda p: p.stat().st_size)
    if not files:
        return None
    data = json.loads(files[-1].read_text())  # the kernel (the launcher's profile is tiny)
    nodes = {node["id"]: node for node in data["nodes"]}
    parent = {child: node["id"] for node in data["nodes"] for child in node.get("children", [])}
    self_us: collections.Counter[int] = collections.Counter()
    for sample, delta in zip(data["samples"], data["timeDeltas"], strict=False):
        self_us[sample] += delta
    by_category: collections.Counter[str] = collections.Counter()
    by_context: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for node_id, micros in self_us.items():
        frame = nodes[node_id]["callFrame"]
        url, function = frame.get("url", ""), frame.get("functionName") or "(anonymous)"
        by_category[_category(url, function)] += micros
        chain = [frame]
        up = node_id
        while up in parent:
            up = parent[up]
            chain.append(nodes[up]["callFrame"])
        by_context[_context(chain) or _category(url, function)] += micros
        short = url.rsplit("node_modules/", 1)[-1] if url else ""
        by_function[f"{function} {short}:{frame.get('lineNumber', 0) + 1}"] += micros
    total = sum(self_us.values())
    return {
        "profile": str(files[-1]),
        "total_s": total / 1e6,
        "by_context_s": {k: round(v / 1e6, 3) for k, v in by_context.most_common(12)},
        "by_category_s": {k: round(v / 1e6, 3) for k, v in by_category.most_common(12)},
        "top_self": [
            {"s": round(v / 1e6, 3), "function": k} for k, v in by_function.most_common(12)
        ],
    }


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        py, node = r["python"], r["node"]
        lines += [
            f"## {r['app']}: {r['wall_s']:.1f} s wall under the profilers",
            "",
            f"Python: {py['total_s']:.2f} s profiled, of which {py['blocked_on_node_s']:.2f} s "
            f"blocked on the jsii kernel and {py['python_busy_s']:.2f} s in Python; "
            f"{py['jsii_requests']} jsii requests, {py['jsii_callbacks']} callbacks into Python.",
            "",
            "Python own time, top functions:",
        ]
        lines += [f"    {t['s']:7.3f} s  {t['calls']:>7}  {t['function']}" for t in py["top_own"]]
        if py["ours_cumulative_s"]:
            lines.append("secure_constructs, cumulative:")
            lines += [f"    {v:7.3f} s  {k}" for k, v in py["ours_cumulative_s"].items()]
        if node:
            lines += ["", f"Node kernel: {node['total_s']:.2f} s sampled; where (with callers):"]
            lines += [f"    {v:7.3f} s  {k}" for k, v in node["by_context_s"].items()]
            lines.append("Node self time by code location:")
            lines += [f"    {v:7.3f} s  {k}" for k, v in node["by_category_s"].items()]
            lines.append("Node top functions by self time:")
            lines += [f"    {t['s']:7.3f} s  {t['function']}" for t in node["top_self"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--checks", default="default")
    parser.add_argument("--apps", default="raw,secure")
    parser.add_argument(
        "--no-builtin", action="store_true", help="CDK_VALIDATION=false (no built-in validation)"
    )
    parser.add_argument("--out", help="directory for the profiles (default: a temporary one)")
    parser.add_argument("--json", help="also write the summaries as JSON to this file")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="sc-profile-"))
    results = [
        profile_app(app, args.n, args.checks, not args.no_builtin, out / app)
        for app in args.apps.split(",")
    ]
    builtin = "off" if args.no_builtin else "on"
    print(f"# Profiles at N={args.n}, checks={args.checks}, builtin validation {builtin} ({out})\n")
    print(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
