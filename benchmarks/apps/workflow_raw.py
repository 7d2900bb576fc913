"""The two-task workflow benchmark, (b') by hand in aws-cdk-lib: benchmarks/apps/raw.py with
BENCH_WORKFLOW=1 and no API, so the N functions (N=2 in run.py) are chained as Lambda tasks."""

import os
import runpy

os.environ["BENCH_WORKFLOW"] = "1"
os.environ["BENCH_API"] = "0"
runpy.run_module("benchmarks.apps.raw", run_name="__main__")
