"""Synthesize the three apps and write or compare their CloudFormation templates.

A restructuring that should change no template (issue 19) is proven by writing a snapshot from
the code before it and comparing the code after it against that snapshot:

    python scripts/template_snapshot.py --write /tmp/before     # on the old commit
    python scripts/template_snapshot.py --compare /tmp/before   # on the new one

The apps: `sample` (the root app, i.e. the rendered sample app, through the `cdk` CLI so that
cdk.json's context applies), `examples` (`cdk synth --app "python examples/constructs_app.py"`)
and `bench` (benchmarks/apps/secure.py with BENCH_N=3, no checks). Each app's cloud assembly is
written to DIR/<app>/; the comparison reads every `*.template.json` under the reference folder
and the new one, byte for byte. `--compare` exits 1 and lists the files that differ, are
missing or are new. `--apps` picks a subset. The `cdk` CLI and the project's Python must be on
PATH (e.g. `source /work/wt/env.sh`, or the Makefile's venv and node_modules/.bin).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_GLOB = "*.template.json"
BENCH_N = "3"


def _sample(outdir: Path) -> list[str]:
    return ["cdk", "synth", "--quiet", "-o", str(outdir)]


def _examples(outdir: Path) -> list[str]:
    return [
        "cdk",
        "synth",
        "--quiet",
        "--app",
        f"{sys.executable} examples/constructs_app.py",
        "-o",
        str(outdir),
    ]


def _bench(outdir: Path) -> list[str]:
    return [sys.executable, "benchmarks/apps/secure.py"]


APPS = {"sample": _sample, "examples": _examples, "bench": _bench}
"""app name -> the command that synthesizes it into a folder."""


def synthesize(app: str, outdir: Path) -> None:
    """Synthesize one app into `outdir`; raise CalledProcessError on failure."""
    outdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    if app == "bench":
        env.update(BENCH_N=BENCH_N, BENCH_CHECKS="none", BENCH_API="1", BENCH_OUTDIR=str(outdir))
        env.pop("BENCH_PROBE", None)
    subprocess.run(APPS[app](outdir), cwd=ROOT, env=env, check=True)


def templates(folder: Path) -> dict[str, bytes]:
    """relative path -> bytes of every `*.template.json` under `folder` (nested assemblies too)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob(TEMPLATE_GLOB))
        if path.is_file()
    }


def compare(reference: Path, candidate: Path, label: str = "") -> list[str]:
    """The differences between two snapshot folders, one line each (empty when identical):
    `differs: <label><file>`, `missing: ...` (only in the reference) or `new: ...`. A reference
    without any template is a difference too (a mistyped folder must not pass)."""
    old, new = templates(reference), templates(candidate)
    lines = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"missing: {label}{name}")
        elif name not in old:
            lines.append(f"new: {label}{name}")
        elif old[name] != new[name]:
            lines.append(f"differs: {label}{name}")
    if not old:
        lines.append(f"no {TEMPLATE_GLOB} under the reference folder {reference}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, metavar="DIR", help="synthesize into DIR")
    mode.add_argument("--compare", type=Path, metavar="DIR", help="compare with snapshot DIR")
    parser.add_argument("--apps", nargs="+", choices=sorted(APPS), default=list(APPS))
    parser.add_argument(
        "--out", type=Path, help="where --compare synthesizes (default: a temporary folder)"
    )
    args = parser.parse_args(argv)
    if args.write is not None:
        for app in args.apps:
            synthesize(app, args.write / app)
        print(f"wrote the templates of {', '.join(args.apps)} to {args.write}")
        return 0
    with tempfile.TemporaryDirectory(prefix="template-snapshot-") as scratch:
        out = args.out or Path(scratch)
        differences = []
        for app in args.apps:
            synthesize(app, out / app)
            differences += compare(args.compare / app, out / app, label=f"{app}/")
    if differences:
        print("templates differ from the snapshot:", *differences, sep="\n  ")
        return 1
    print(f"templates of {', '.join(args.apps)} are byte-identical to {args.compare}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
