"""The two-task workflow benchmark, (c') with SecureStateMachine: benchmarks/apps/secure.py with
BENCH_WORKFLOW=1 and no API, so the N functions (N=2 in run.py) are chained as Lambda tasks."""

import os
import runpy

os.environ["BENCH_WORKFLOW"] = "1"
os.environ["BENCH_API"] = "0"
runpy.run_module("benchmarks.apps.secure", run_name="__main__")
