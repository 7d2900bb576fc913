"""Measurement hooks shared by the benchmark apps (imported first, before anything heavy).

An app calls `start()` first thing, `mark("constructed")` after building the stacks, and
`finish(app)` after `app.synth()`; `finish` writes a JSON record to $BENCH_PROBE with the
phase times, this Python process's CPU time and peak RSS, and the peak RSS of the jsii Node
process(es) still running under it (read from /proc/<pid>/status VmHWM, which is the kernel's
own high-water mark, so no polling is needed: after synth the kernel does no more work).
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

_T0 = time.perf_counter()
_marks: dict[str, float] = {}
_cpu_marks: dict[str, float] = {}


def start() -> None:
    _marks["start"] = time.perf_counter() - _T0


def mark(name: str) -> None:
    """Record the wall time and the CPU time so far of this process and its jsii node processes
    (so each phase has its own CPU time, which a loaded machine distorts less than wall time)."""
    _marks[name] = time.perf_counter() - _T0
    node = sum(_cpu_seconds(pid) or 0.0 for pid in _descendants(os.getpid()))
    _cpu_marks[name] = time.process_time() + node


def _children(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        found.extend(int(p) for p in text.split())
    return found


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(_children(child))
    return out


def _status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def finish(extra: dict[str, object] | None = None) -> None:
    mark("synthesized")
    out = os.environ.get("BENCH_PROBE")
    if not out:
        return
    own = resource.getrusage(resource.RUSAGE_SELF)
    node = [
        {
            "pid": pid,
            "comm": _comm(pid),
            "peak_rss_kb": _status_kb(pid, "VmHWM"),
            "cpu_s": _cpu_seconds(pid),
        }
        for pid in _descendants(os.getpid())
    ]
    record = {
        "marks": _marks,
        "cpu_marks": _cpu_marks,
        "python_cpu_s": own.ru_utime + own.ru_stime,
        "python_peak_rss_kb": own.ru_maxrss,
        "children": node,
        **(extra or {}),
    }
    Path(out).write_text(json.dumps(record))
