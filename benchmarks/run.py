"""Synth-time, scale and size benchmarks of secure-constructs against hand-written CDK (issue 7).

    python benchmarks/run.py            # full: N in {1, 10, 50}, 5 runs after a warm-up
    python benchmarks/run.py --quick    # N in {1, 10}, 3 runs (for iteration)

Three apps (benchmarks/apps/): (a) `floor`, a one-topic app; (b) `raw`, hand-written
aws-cdk-lib code creating the same resources as (c); (c) `secure`, the same service with
secure-constructs. Each run is a whole `python -m benchmarks.apps.<app>` process in a fresh
interpreter; N, the packs and the output directory are passed in environment variables. Results
go to benchmarks/results.json and benchmarks/results.md; see benchmarks/README.md for the method.
Never part of `make test`'s pass/fail.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
RESOURCE_LIMIT = 500
CHECK_MODES = ("none", "default")
PACKS = ("AwsSolutions", "Serverless", "SecureServerless", "NIST", "HIPAA", "PCI")
API_TEXT = "N SecureFunctions behind one SecureApi (IAM auth, one GET route each)"
TRIGGER_TEXT = ", each function behind its own SQS queue (fn.add_queue_trigger)"
TARGET_RATIO = 1.10
TARGET_PACK_SHARE = 0.05
TARGET_PER_FUNCTION = 9
"""Issue 18: each SecureFunction behind the API adds at most 9 resources of its own."""
AMORTIZED = (
    "stack-level: one more invocation anomaly alarm per 10 functions (a metric-math alarm reads"
    " at most 10 metrics, CloudWatch's hard limit) and one more invoke policy per 45 routed"
    " functions"
)
TARGET_IMPORT_RATIO = 1.10
WORKFLOW_N = 2
"""The workflow benchmark: two SecureFunctions chained as two Lambda tasks of one state machine."""
WORKFLOW_APPS = ("workflow_raw", "workflow_secure")


# ---------------------------------------------------------------------------------------------
# one run


@dataclass
class Run:
    """One whole-process run of one app."""

    app: str
    n: int
    checks: str
    builtin: bool  # aws-cdk-lib's built-in CloudFormation validation on (its default)
    wall_s: float
    cpu_s: float  # user + system of the whole process tree (python + node), RUSAGE_CHILDREN
    python_cpu_s: float
    python_peak_rss_mb: float
    node_peak_rss_mb: float  # the jsii kernel (largest node process)
    node_launcher_rss_mb: float  # jsii-runtime's launcher node process
    tree_peak_rss_mb: float  # wait4 ru_maxrss: the largest single process of the tree
    import_s: float
    construct_s: float
    synth_s: float
    construct_cpu_s: float
    synth_cpu_s: float  # CPU of python + node during app.synth() (validation plugins run here)
    plugin_s: float | None  # time inside SecureServerlessChecks.validate, when registered
    validation_failed: bool
    template_bytes: int
    resources: int
    foreign_load: float  # CPUs busy with other processes during the run (0..nproc)
    types: dict[str, int] = field(default_factory=dict)


def _busy_jiffies() -> tuple[int, int]:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, sum(values[:8])


def become_subreaper() -> None:
    """Adopt orphaned descendants, so that a jsii kernel outliving its launcher (or one that
    jsii stops with `terminate()` after a 5 s timeout) is still reaped here and its CPU time
    counted in RUSAGE_CHILDREN."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        log("warning: PR_SET_CHILD_SUBREAPER unavailable; CPU of orphaned node may be missed")


def _reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def bench_env(jsii_node: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules/.bin'}:{Path(sys.executable).parent}:{env['PATH']}"
    env["JSII_NODE"] = jsii_node or str(ROOT / "node_modules/.bin/node")
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    env["PYTHONPATH"] = f"{ROOT}:{env.get('PYTHONPATH', '')}".rstrip(":")
    env.pop("BENCH_PLUGIN_TIMER", None)
    # An installed package has bytecode (aws_cdk's is in site-packages): let the warm-up write
    # ours too, or every measured run would compile our modules from source (about 30 ms).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(
    app: str,
    n: int,
    checks: str,
    builtin: bool,
    workdir: Path,
    *,
    keep: Path | None = None,
    api: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Run:
    outdir = Path(tempfile.mkdtemp(prefix=f"{app}-{n}-{checks}-", dir=workdir))
    probe = outdir.with_suffix(".probe.json")
    env = bench_env()
    env.update(
        BENCH_N=str(n),
        BENCH_CHECKS=checks,
        BENCH_OUTDIR=str(outdir),
        BENCH_PROBE=str(probe),
        BENCH_API="1" if api else "0",
    )
    env.update(extra_env or {})
    if not builtin:
        env["CDK_VALIDATION"] = "false"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, _ = _busy_jiffies()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"benchmarks.apps.{app}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, _ = _busy_jiffies()
    if proc.returncode != 0 or not probe.exists():
        sys.stdout.write(output.decode(errors="replace")[-4000:])
        raise SystemExit(f"benchmark app {app} (N={n}, checks={checks}, {builtin=}) failed")
    record = json.loads(probe.read_text())
    template_path = outdir / "Bench.template.json"
    template = json.loads(template_path.read_text())
    types = collections.Counter(r["Type"] for r in template["Resources"].values())
    nodes = sorted(
        (c for c in record["children"] if c["comm"] == "node"), key=lambda c: -c["peak_rss_kb"]
    )
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    ticks = os.sysconf("SC_CLK_TCK")
    foreign = max(0.0, (busy1 - busy0) / ticks - cpu) / wall
    marks = record["marks"]
    run = Run(
        app=app,
        n=n,
        checks=checks,
        builtin=builtin,
        wall_s=wall,
        cpu_s=cpu,
        python_cpu_s=record["python_cpu_s"],
        python_peak_rss_mb=record["python_peak_rss_kb"] / 1024,
        node_peak_rss_mb=(nodes[0]["peak_rss_kb"] / 1024) if nodes else 0.0,
        node_launcher_rss_mb=(nodes[1]["peak_rss_kb"] / 1024) if len(nodes) > 1 else 0.0,
        tree_peak_rss_mb=usage.ru_maxrss / 1024,
        import_s=marks["imported"],
        construct_s=marks["constructed"] - marks["imported"],
        synth_s=marks["synthesized"] - marks["constructed"],
        construct_cpu_s=record["cpu_marks"]["constructed"] - record["cpu_marks"]["imported"],
        synth_cpu_s=record["cpu_marks"]["synthesized"] - record["cpu_marks"]["constructed"],
        plugin_s=record.get("plugin_s"),
        validation_failed=record["validation_failed"],
        template_bytes=template_path.stat().st_size,
        resources=len(template["Resources"]),
        foreign_load=foreign,
        types=dict(sorted(types.items())),
    )
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(outdir, keep)
    shutil.rmtree(outdir, ignore_errors=True)
    probe.unlink(missing_ok=True)
    return run


# ---------------------------------------------------------------------------------------------
# statistics


def stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def summarize(runs: Sequence[Run]) -> dict[str, Any]:
    first = runs[0]
    out: dict[str, Any] = {
        "app": first.app,
        "n": first.n,
        "checks": first.checks,
        "builtin": first.builtin,
        "runs": len(runs),
        "resources": first.resources,
        "template_bytes": first.template_bytes,
        "validation_failed": any(r.validation_failed for r in runs),
        "types": first.types,
    }
    for name in (
        "wall_s",
        "cpu_s",
        "python_cpu_s",
        "python_peak_rss_mb",
        "node_peak_rss_mb",
        "node_launcher_rss_mb",
        "tree_peak_rss_mb",
        "import_s",
        "construct_s",
        "synth_s",
        "construct_cpu_s",
        "synth_cpu_s",
        "foreign_load",
    ):
        out[name] = stats([getattr(r, name) for r in runs])
    plugin = [r.plugin_s for r in runs if r.plugin_s is not None]
    if plugin:
        out["plugin_s"] = stats(plugin)
    return out


# ---------------------------------------------------------------------------------------------
# the phases of a benchmark


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


_WARMED: set[str] = set()
Config = tuple[str, int, str, bool]
"""(app, N, checks, built-in CloudFormation validation on)."""


def key(config: Config) -> str:
    app, n, checks, builtin = config
    return f"{app}/{n}/{checks}" + ("" if builtin else "/no-builtin")


def measure(
    configs: Sequence[Config],
    runs: int,
    warmup: int,
    workdir: Path,
    keep: dict[Config, Path],
    api: bool,
    extra_env: dict[str, str],
) -> dict[Config, list[Run]]:
    """Warm up each app once (page cache, bytecode), then run the configs round-robin, so that
    load drift on a shared machine hits every config alike."""
    for app, n, checks, builtin in configs:
        if app in _WARMED:
            continue
        for _ in range(warmup):
            run_once(app, n, checks, builtin, workdir, api=api, extra_env=extra_env)
        _WARMED.add(app)
    results: dict[Config, list[Run]] = {c: [] for c in configs}
    for i in range(runs):
        for config in configs:
            last = i == runs - 1
            run = run_once(
                *config,
                workdir,
                keep=keep.get(config) if last else None,
                api=api,
                extra_env=extra_env,
            )
            results[config].append(run)
            log(
                f"{key(config):34} run {i + 1}/{runs}: wall {run.wall_s:6.2f} s, "
                f"cpu {run.cpu_s:6.2f} s, {run.resources} resources, "
                f"other load {run.foreign_load:.2f}"
            )
    return results


def run_process(command: Sequence[str]) -> tuple[float, float, str]:
    """Wall time, CPU time of the whole process tree, and stdout of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=bench_env(), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, done.stdout


def import_cost(runs: int, api: bool) -> dict[str, Any]:
    """Import time of `secure_constructs`' constructs vs the aws_cdk modules they need, each in a
    fresh interpreter (median of `runs`, after a warm-up), and the extra modules ours pull in.

    Two numbers per sample: the wall time of the import statements measured inside the process
    (includes the jsii kernel loading each assembly), and the CPU time of the whole process tree
    (`python -c "import ..."`, Node included, interpreter start-up included)."""
    needed = [
        "aws_cdk",
        "aws_cdk.aws_iam",
        "aws_cdk.aws_kms",
        "aws_cdk.aws_lambda",
        "aws_cdk.aws_lambda_destinations",
        "aws_cdk.aws_logs",
        "aws_cdk.aws_sns",
        "aws_cdk.aws_sqs",
        "aws_cdk.aws_cloudwatch",
        "aws_cdk.aws_cloudwatch_actions",
        "constructs",
    ]
    ours = ["secure_constructs.function"]
    if api:
        needed += ["aws_cdk.aws_apigateway", "aws_cdk.aws_wafv2"]
        ours += ["secure_constructs.api"]
    probe = (
        "import sys, time, json, importlib\n"
        "t = time.perf_counter()\n"
        "for m in sys.argv[1:]: importlib.import_module(m)\n"
        "print(json.dumps({'wall': time.perf_counter() - t, 'modules': sorted(sys.modules)}))\n"
    )
    out: dict[str, Any] = {"needed": needed, "ours": ours}
    samples: dict[str, list[tuple[float, float, dict[str, Any]]]] = {"needed": [], "ours": []}
    run_process([sys.executable, "-c", probe, *ours])  # warm-up
    for _ in range(runs):
        for name, modules in (("needed", needed), ("ours", ours)):
            _, cpu, stdout = run_process([sys.executable, "-c", probe, *modules])
            record = json.loads(stdout.strip().splitlines()[-1])
            samples[name].append((record["wall"], cpu, record))
    for name in ("needed", "ours"):
        out[f"{name}_wall_s"] = stats([s[0] for s in samples[name]])
        out[f"{name}_cpu_s"] = stats([s[1] for s in samples[name]])
    extra = sorted(set(samples["ours"][0][2]["modules"]) - set(samples["needed"][0][2]["modules"]))
    out["extra_modules"] = sorted(
        {
            m.removesuffix("._jsii").removesuffix("._private")
            for m in extra
            if m.startswith(("aws_cdk.aws", "cdk_nag", "jsonschema", "cfnlint", "yaml"))
        }
    )
    out["extra_module_count"] = len(extra)
    out["ratio_wall"] = out["ours_wall_s"]["median"] / out["needed_wall_s"]["median"]
    out["ratio_cpu"] = out["ours_cpu_s"]["median"] / out["needed_cpu_s"]["median"]
    return out


def audit_time(template: Path, runs: int) -> dict[str, Any] | None:
    """`secure-constructs audit PATH --format json` on the largest template, if the CLI exists."""
    if not (ROOT / "secure_constructs/audit/cli.py").exists():
        return None
    exe = Path(sys.executable).parent / "secure-constructs"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "secure_constructs.audit.cli"]
    command += ["audit", str(template), "--format", "json"]
    walls: list[float] = []
    status = None
    for _ in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, env=bench_env(), cwd=ROOT, capture_output=True)
        walls.append(time.perf_counter() - start)
        status = done.returncode
        if status not in (0, 1):
            return {"error": done.stderr.decode(errors="replace")[-2000:], "exit": status}
    shown = "secure-constructs audit <template> --format json"
    return {"command": shown, "exit": status, "wall_s": stats(walls[1:])}


def template_differences(keep_dir: Path, ns: Sequence[int]) -> dict[int, list[str]]:
    """Per N, the logical ids whose resource differs between (b) and (c) (empty: identical)."""
    out: dict[int, list[str]] = {}
    for n in ns:
        paths = [keep_dir / f"{app}-{n}" / "Bench.template.json" for app in ("raw", "secure")]
        if not all(p.exists() for p in paths):
            continue
        raw, ours = (json.loads(p.read_text()) for p in paths)
        ids = set(raw["Resources"]) | set(ours["Resources"])
        out[n] = sorted(i for i in ids if raw["Resources"].get(i) != ours["Resources"].get(i))
        out[n] += [
            f"section {k}"
            for k in set(raw) | set(ours)
            if k != "Resources" and raw.get(k) != ours.get(k)
        ]
    return out


def compare_types(raw: Run, secure: Run) -> list[str]:
    """The resource types whose counts differ between (b) and (c): (b) is meant to be faithful."""
    differ = []
    for t in sorted(set(raw.types) | set(secure.types)):
        a, b = raw.types.get(t, 0), secure.types.get(t, 0)
        if a != b:
            differ.append(f"{t}: raw {a}, secure {b}")
    return differ


# ---------------------------------------------------------------------------------------------
# reporting


def facts() -> dict[str, Any]:
    def version(dist: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return "not installed"

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    node = subprocess.run(
        [str(ROOT / "node_modules/.bin/node"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node,
        "aws-cdk-lib": version("aws-cdk-lib"),
        "cdk-nag": version("cdk-nag"),
        "jsii": version("jsii"),
        "constructs": version("constructs"),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def _m(summary: dict[str, Any], key: str) -> float:
    return float(summary[key]["median"])


def fmt_range(s: dict[str, float], unit: str = "", digits: int = 2) -> str:
    return f"{s['median']:.{digits}f}{unit} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def derive(summaries: dict[str, dict[str, Any]], ns: Sequence[int]) -> dict[str, Any]:
    def get(app: str, n: int, checks: str, builtin: bool = True) -> dict[str, Any] | None:
        return summaries.get(key((app, n, checks, builtin)))

    derived: dict[str, Any] = {"ratios": [], "packs": None, "per_function": None, "builtin": []}
    for n in ns:
        for checks in CHECK_MODES:
            for builtin in (True, False):
                raw, ours = get("raw", n, checks, builtin), get("secure", n, checks, builtin)
                if raw and ours:
                    ratio = _m(ours, "wall_s") / _m(raw, "wall_s")
                    derived["ratios"].append(
                        {
                            "n": n,
                            "checks": checks,
                            "builtin": builtin,
                            "wall_ratio": ratio,
                            "cpu_ratio": _m(ours, "cpu_s") / _m(raw, "cpu_s"),
                            "construct_ratio": _m(ours, "construct_s") / _m(raw, "construct_s"),
                            "wall_raw_s": _m(raw, "wall_s"),
                            "wall_secure_s": _m(ours, "wall_s"),
                            "construct_raw_s": _m(raw, "construct_s"),
                            "construct_secure_s": _m(ours, "construct_s"),
                            "meets_target": ratio <= TARGET_RATIO,
                        }
                    )
        on, off = get("secure", n, "none"), get("secure", n, "none", False)
        if on and off:
            derived["builtin"].append(
                {
                    "n": n,
                    "added_wall_s": _m(on, "wall_s") - _m(off, "wall_s"),
                    "added_cpu_s": _m(on, "cpu_s") - _m(off, "cpu_s"),
                    "node_rss_on_mb": _m(on, "node_peak_rss_mb"),
                    "node_rss_off_mb": _m(off, "node_peak_rss_mb"),
                }
            )
    big = max(ns)
    base = get("secure", big, "none", False)
    checked = get("secure", big, "default")
    checked_lean = get("secure", big, "default", False)
    if base and checked and checked_lean:
        packs: dict[str, Any] = {
            "n": big,
            "base_synth_s": _m(base, "synth_s"),
            "checked_wall_s": _m(checked, "wall_s"),
            "default_added_wall_s": _m(checked_lean, "synth_s") - _m(base, "synth_s"),
            "default_added_cpu_s": _m(checked_lean, "synth_cpu_s") - _m(base, "synth_cpu_s"),
            "alone": {},
        }
        for pack in PACKS:
            alone = get("secure", big, pack, False)
            if alone:
                # The synth phase only (app.synth(), where the plugins run): import, construction
                # and interpreter start-up are the same with or without a pack, only noisier.
                added = _m(alone, "synth_s") - _m(base, "synth_s")
                packs["alone"][pack] = {
                    "added_wall_s": added,
                    "added_cpu_s": _m(alone, "synth_cpu_s") - _m(base, "synth_cpu_s"),
                    "share_of_checked_synth": added / _m(checked, "wall_s"),
                    "validation_failed": alone["validation_failed"],
                }
        if "plugin_s" in checked:
            packs["secure_serverless_in_process_s"] = _m(checked, "plugin_s")
            packs["secure_serverless_in_process_share"] = _m(checked, "plugin_s") / _m(
                checked, "wall_s"
            )
        derived["packs"] = packs
    counts = {n: s["resources"] for n in ns if (s := get("secure", n, "none"))}
    type_counts = {n: s["types"] for n in ns if (s := get("secure", n, "none"))}
    if len(counts) >= 2:
        lo, hi = min(counts), max(counts)
        per = (counts[hi] - counts[lo]) / (hi - lo)
        fixed = counts[lo] - per * lo
        breakdown = {
            t: (type_counts[hi].get(t, 0) - type_counts[lo].get(t, 0)) / (hi - lo)
            for t in sorted(set(type_counts[hi]) | set(type_counts[lo]))
        }
        derived["per_function"] = {
            "resources_by_n": counts,
            "per_function": per,
            "per_stack": fixed,
            "max_n_in_one_stack": int((RESOURCE_LIMIT - fixed) // per) if per > 0 else None,
            "breakdown": {t: v for t, v in breakdown.items() if v},
            "per_stack_types": {
                t: c - breakdown.get(t, 0) * lo for t, c in type_counts[lo].items()
            },
            # Between consecutive N: what is shared by 10 or 45 functions (AMORTIZED) makes a
            # step past the 10th or 45th function cost a fraction more.
            "steps": [
                (a, b, (counts[b] - counts[a]) / (b - a))
                for a, b in zip(sorted(counts), sorted(counts)[1:], strict=False)
            ],
            "meets_target": per <= TARGET_PER_FUNCTION,
        }
    return derived


def _per_verdict(per: dict[str, Any]) -> str:
    if per["meets_target"]:
        return "met"
    steps = per.get("steps") or []
    if steps and steps[0][2] <= TARGET_PER_FUNCTION:
        return (
            f"met by each function's own resources (N={steps[0][0]} to {steps[0][1]}); the "
            f"average is over it by what is {AMORTIZED}"
        )
    return "MISSED"


def render(result: dict[str, Any]) -> str:
    f = result["facts"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench{' BENCH_ARGS=--quick' if result['quick'] else ''}` on "
        f"{f['date_utc']} in {result['elapsed_s'] / 60:.1f} min: {f['nproc']} x {f['cpu_model']}, "
        f"{f['memory_gib']} GiB; Python {f['python']}, Node {f['node']}, aws-cdk-lib "
        f"{f['aws-cdk-lib']}, cdk-nag {f['cdk-nag']}, jsii {f['jsii']}. Apps: "
        f"{API_TEXT if result['api'] else 'N SecureFunctions only (no API)'}"
        f"{TRIGGER_TEXT if result.get('trigger') == 'queue' else ''}. "
        f"Median (min-max) of {result['runs']} runs after {result['warmup']} warm-up run(s).",
        "",
        f"Machine load: loadavg {' '.join(f['loadavg_start'])} at the start, "
        f"{' '.join(result['loadavg_end'])} at the end; 'other' is how many CPUs other processes "
        "kept busy during a run (from /proc/stat), out of "
        f"{f['nproc']}. Wall times on a loaded machine are noisy; CPU times less so.",
        "",
        "'checks': none = plain synth; default = `apply_checks(app)` (AwsSolutions, Serverless, "
        "SecureServerless); a pack name = that pack alone. 'builtin off' = the same run with "
        "aws-cdk-lib's built-in CloudFormation validation turned off (`CDK_VALIDATION=false`); "
        "it is on by default and costs seconds per synth (see below).",
        "",
        "## Runs",
        "",
        "| app | N | checks | builtin | wall s | CPU s | construct s | Python RSS MB |"
        " Node RSS MB | resources | template KB | other |",
        "|---|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["summaries"].values():
        lines.append(
            f"| {s['app']} | {s['n'] or '-'} | {s['checks']}"
            f"{' (findings)' if s['validation_failed'] else ''} | "
            f"{'on' if s['builtin'] else 'off'} | "
            f"{fmt_range(s['wall_s'])} | {fmt_range(s['cpu_s'])} | "
            f"{s['construct_s']['median']:.2f} | "
            f"{s['python_peak_rss_mb']['median']:.0f} | {s['node_peak_rss_mb']['median']:.0f} | "
            f"{s['resources']} | {s['template_bytes'] / 1024:.0f} | "
            f"{s['foreign_load']['median']:.2f} |"
        )
    d = result["derived"]
    lines += [
        "",
        "## (c) secure-constructs / (b) hand-written aws-cdk-lib",
        "",
        f"Target: wall ratio <= {TARGET_RATIO:.2f} at every N (as users run it: builtin on). "
        "'construct' is the time to build the constructs in Python before `app.synth()`.",
        "",
        "| N | checks | builtin | raw wall s | ours wall s | wall ratio | CPU ratio |"
        " construct raw / ours s | target |",
        "|---:|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in d["ratios"]:
        lines.append(
            f"| {r['n']} | {r['checks']} | {'on' if r['builtin'] else 'off'} | "
            f"{r['wall_raw_s']:.2f} | {r['wall_secure_s']:.2f} | "
            f"{r['wall_ratio']:.3f} | {r['cpu_ratio']:.3f} | "
            f"{r['construct_raw_s']:.2f} / {r['construct_secure_s']:.2f} | "
            f"{('met' if r['meets_target'] else 'MISSED') if r['builtin'] else '(info)'} |"
        )
    for warning in result["type_mismatches"]:
        lines.append(f"\nWARNING (b) and (c) differ: {warning}")
    diffs = result.get("template_differences", {})
    if diffs and not any(diffs.values()):
        lines.append(
            "\n(b) is faithful: its synthesized template is identical to (c)'s at every N "
            "(resource type counts, properties, and the acknowledgements in the validation "
            "report)."
        )
    for n, differing in diffs.items():
        if differing:
            lines.append(f"\nWARNING at N={n} the templates differ in: {', '.join(differing)}")
    if d["builtin"]:
        lines += [
            "",
            "## aws-cdk-lib's built-in CloudFormation validation",
            "",
            "| N | adds wall s | adds CPU s | Node RSS on / off MB |",
            "|---:|---:|---:|---|",
        ]
        for b in d["builtin"]:
            lines.append(
                f"| {b['n']} | {b['added_wall_s']:.2f} | {b['added_cpu_s']:.2f} | "
                f"{b['node_rss_on_mb']:.0f} / {b['node_rss_off_mb']:.0f} |"
            )
    packs = d.get("packs")
    if packs:
        lines += [
            "",
            f"## Checks at N={packs['n']} (secure app)",
            "",
            "Each pack alone, builtin validation off (to keep its seconds of noise out), measured "
            "on the synth phase (`app.synth()`, where the plugins run) against the same synth "
            f"without checks ({packs['base_synth_s']:.2f} s). The default three "
            f"packs add {packs['default_added_wall_s']:.2f} s wall, "
            f"{packs['default_added_cpu_s']:.2f} s CPU. The share is of a checked synth as users "
            f"run it (default packs, builtin on: {packs['checked_wall_s']:.2f} s).",
            "",
            "| pack alone | added wall s | added CPU s | share of a checked synth |",
            "|---|---:|---:|---:|",
        ]
        for name, p in packs["alone"].items():
            lines.append(
                f"| {name}{' (findings)' if p['validation_failed'] else ''} | "
                f"{p['added_wall_s']:.2f} | {p['added_cpu_s']:.2f} | "
                f"{p['share_of_checked_synth'] * 100:.1f}% |"
            )
        if "secure_serverless_in_process_s" in packs:
            share = packs["secure_serverless_in_process_share"]
            lines.append(
                f"\nSecureServerless measured in process (time inside its `validate`, in the "
                f"checked synth): {packs['secure_serverless_in_process_s']:.3f} s = "
                f"{share * 100:.1f}% of the checked synth (target <= "
                f"{TARGET_PACK_SHARE * 100:.0f}%: "
                f"{'met' if share <= TARGET_PACK_SHARE else 'MISSED'})."
            )
    per = d.get("per_function")
    if per:
        lines += [
            "",
            "## Resources per function",
            "",
            f"Resources by N: {per['resources_by_n']}. Per additional function: "
            f"{per['per_function']:.2f} (target <= {TARGET_PER_FUNCTION}: {_per_verdict(per)}); "
            "between consecutive N: "
            + ", ".join(f"{a}->{b}: {v:.3g}" for a, b, v in per.get("steps", []))
            + f" ({AMORTIZED}); per stack: {per['per_stack']:.0f}; "
            f"largest N in one stack (500 resources): {per['max_n_in_one_stack']}.",
            "",
            "| resource type | per function |",
            "|---|---:|",
        ]
        for t, v in per["breakdown"].items():
            lines.append(f"| {t} | {v:g} |")
    imp = result.get("import")
    if imp:
        lines += [
            "",
            "## Import cost (fresh interpreter)",
            "",
            f"`{', '.join(imp['ours'])}`: {fmt_range(imp['ours_wall_s'], ' s')} wall in process, "
            f"{fmt_range(imp['ours_cpu_s'], ' s')} CPU (process tree, start-up included); the "
            f"aws_cdk modules they need: {fmt_range(imp['needed_wall_s'], ' s')} wall, "
            f"{fmt_range(imp['needed_cpu_s'], ' s')} CPU. Ratio {imp['ratio_wall']:.2f} wall, "
            f"{imp['ratio_cpu']:.2f} CPU (target <= {TARGET_IMPORT_RATIO:.2f}: "
            f"{'met' if imp['ratio_wall'] <= TARGET_IMPORT_RATIO else 'MISSED'}). "
            f"{imp['extra_module_count']} extra modules, among them: "
            f"{', '.join(imp['extra_modules']) or 'none'}.",
        ]
    audit = result.get("audit")
    lines += ["", "## Audit", ""]
    if audit is None:
        lines.append("secure_constructs/audit is not there yet: not measured.")
    elif "error" in audit:
        lines.append(f"`secure-constructs audit` failed (exit {audit['exit']}): not measured.")
    else:
        lines.append(
            f"`{audit['command']}` on the largest template "
            f"({result['audit_template_resources']} resources), whole process: "
            f"{fmt_range(audit['wall_s'], ' s')} (exit {audit['exit']})."
        )
    lines += render_workflow(result.get("workflow"))
    return "\n".join(lines) + "\n"


def render_workflow(workflow: dict[str, Any] | None) -> list[str]:
    """The two-task workflow section (empty when the runs were skipped)."""
    if not workflow:
        return []
    lines = [
        "",
        "## Two-task workflow",
        "",
        f"A SecureStateMachine with {workflow['n']} Lambda tasks over {workflow['n']} "
        "SecureFunctions (`workflow_secure`) against the same resources by hand "
        "(`workflow_raw`).",
        "",
        "| checks | raw wall (s) | secure wall (s) | ratio | target | resources raw / secure |",
        "|---|---|---|---|---|---|",
    ]
    for r in workflow["ratios"]:
        lines.append(
            f"| {r['checks']} | {r['wall_raw_s']:.2f} | {r['wall_secure_s']:.2f} | "
            f"{r['wall_ratio']:.2f} | {'met' if r['meets_target'] else 'MISSED'} | "
            f"{r['resources_raw']} / {r['resources_secure']} |"
        )
    added = workflow.get("added_by_state_machine")
    if added:
        total = sum(added.values())
        parts = ", ".join(f"{v} {t}" for t, v in added.items())
        lines += ["", f"The state machine adds {total} resources to its functions: {parts}."]
    return lines


# ---------------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="N in {1, 10}, 3 runs")
    parser.add_argument("--ns", help="comma-separated N values (default 1,10,50)")
    parser.add_argument("--runs", type=int, help="measured runs per config (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per app and N")
    parser.add_argument("--no-packs", action="store_true", help="skip the per-pack runs")
    parser.add_argument("--no-api", action="store_true", help="functions only, without the API")
    parser.add_argument(
        "--no-workflow", action="store_true", help="skip the two-task workflow runs"
    )
    parser.add_argument(
        "--trigger",
        choices=("queue",),
        help="each function also processes its own SQS queue (fn.add_queue_trigger)",
    )
    parser.add_argument("--out", default=str(HERE), help="where results.{md,json} go")
    return parser.parse_args(argv)


def workflow_summary(summaries: dict[str, dict[str, Any]], keep_dir: Path) -> dict[str, Any]:
    """The two-task workflow: SecureStateMachine against the same resources by hand, and the
    resources the state machine adds to its two functions (logical ids under `Flow`)."""
    out: dict[str, Any] = {"n": WORKFLOW_N, "ratios": []}
    for checks in CHECK_MODES:
        raw = summaries.get(key(("workflow_raw", WORKFLOW_N, checks, True)))
        ours = summaries.get(key(("workflow_secure", WORKFLOW_N, checks, True)))
        if raw and ours:
            ratio = _m(ours, "wall_s") / _m(raw, "wall_s")
            out["ratios"].append(
                {
                    "checks": checks,
                    "wall_raw_s": _m(raw, "wall_s"),
                    "wall_secure_s": _m(ours, "wall_s"),
                    "wall_ratio": ratio,
                    "meets_target": ratio <= TARGET_RATIO,
                    "resources_raw": raw["resources"],
                    "resources_secure": ours["resources"],
                }
            )
    template = keep_dir / "workflow_secure-none" / "Bench.template.json"
    if template.exists():
        resources = json.loads(template.read_text())["Resources"]
        # Every resource of the state machine has a logical id under its construct id "Flow".
        added = collections.Counter(r["Type"] for k, r in resources.items() if k.startswith("Flow"))
        out["added_by_state_machine"] = dict(sorted(added.items()))
    return out


def api_available() -> bool:
    done = subprocess.run(
        [sys.executable, "-c", "from secure_constructs.api import SecureApi"],
        env=bench_env(),
        cwd=ROOT,
        capture_output=True,
    )
    return done.returncode == 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    default_ns = [1, 10] if args.quick else [1, 10, 50]
    ns = [int(x) for x in args.ns.split(",")] if args.ns else default_ns
    runs = args.runs or (3 if args.quick else 5)
    api = not args.no_api and api_available()
    if not args.no_api and not api:
        log("secure_constructs.api.SecureApi is not importable: measuring functions only")
    started = time.perf_counter()
    become_subreaper()
    result: dict[str, Any] = {
        "facts": facts(),
        "quick": args.quick,
        "runs": runs,
        "warmup": args.warmup,
        "ns": ns,
        "api": api,
        "trigger": args.trigger or "",
    }
    log(f"machine: {result['facts']}")
    workdir = Path(tempfile.mkdtemp(prefix="sc-bench-"))
    keep_dir = workdir / "keep"
    keep: dict[Config, Path] = {}
    for n in ns:
        for app in ("raw", "secure"):
            keep[(app, n, "default", True)] = keep_dir / f"{app}-{n}"
    extra = {"BENCH_PLUGIN_TIMER": "1", "BENCH_TRIGGER": args.trigger or ""}
    all_runs: dict[Config, list[Run]] = {}
    try:
        floor: list[Config] = [("floor", 0, c, True) for c in CHECK_MODES]
        floor.append(("floor", 0, "none", False))
        all_runs.update(measure(floor, runs, args.warmup, workdir, keep, api, extra))
        for n in ns:
            configs: list[Config] = [
                (app, n, c, builtin)
                for builtin in (True, False)
                for c in CHECK_MODES
                for app in ("raw", "secure")
            ]
            all_runs.update(measure(configs, runs, args.warmup, workdir, keep, api, extra))
        if not args.no_workflow:
            flows: list[Config] = [
                (app, WORKFLOW_N, c, True) for c in CHECK_MODES for app in WORKFLOW_APPS
            ]
            for config in flows:
                keep[config] = keep_dir / f"{config[0]}-{config[2]}"
            all_runs.update(measure(flows, runs, args.warmup, workdir, keep, api, extra))
        if not args.no_packs:
            packs: list[Config] = [("secure", max(ns), p, False) for p in PACKS]
            all_runs.update(measure(packs, runs, 0, workdir, keep, api, extra))
        summaries = {key(c): summarize(r) for c, r in all_runs.items()}
        mismatches = []
        for n in ns:
            raw = all_runs.get(("raw", n, "none", True))
            ours = all_runs.get(("secure", n, "none", True))
            if raw and ours:
                for d in compare_types(raw[0], ours[0]):
                    mismatches.append(f"N={n}: {d}")
                    log(f"WARNING: (b) and (c) differ in resource counts at N={n}: {d}")
        result["type_mismatches"] = mismatches
        result["template_differences"] = template_differences(keep_dir, ns)
        for n, differing in result["template_differences"].items():
            if differing:
                log(f"WARNING: (b) and (c) templates differ at N={n} in {differing[:10]}")
        result["summaries"] = summaries
        result["derived"] = derive(summaries, ns)
        if not args.no_workflow:
            result["workflow"] = workflow_summary(summaries, keep_dir)
        log("import cost")
        result["import"] = import_cost(runs, api)
        largest = keep_dir / f"secure-{max(ns)}" / "Bench.template.json"
        result["audit_template_resources"] = summaries[key(("secure", max(ns), "default", True))][
            "resources"
        ]
        log("audit")
        result["audit"] = audit_time(largest, min(runs, 3))
        result["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
        result["elapsed_s"] = time.perf_counter() - started
        result["raw_runs"] = [asdict(r) for rs in all_runs.values() for r in rs]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # --out may name a new folder
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    text = render(result)
    (out / "results.md").write_text(text)
    print(text)
    log(f"done in {result['elapsed_s'] / 60:.1f} min; wrote {out / 'results.md'} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
