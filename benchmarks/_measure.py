"""What the benchmarks share: the spread of repeated samples, and the memory of a process tree.

Every ratio is taken sample by sample (a measured run against the floor run next to it, so
that both see the same load on the machine) and reported as its median with its spread,
``median (min-max)``, over the repeated, interleaved samples.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PROC = Path("/proc")


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """``median (min-max)`` of the values times ``scale``."""
    low, mid, high = (scale * v for v in (min(values), statistics.median(values), max(values)))
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def ratios(measured: Sequence[float], floors: Sequence[float]) -> list[float]:
    """Each sample over the floor sample taken next to it."""
    return [m / f for m, f in zip(measured, floors, strict=True)]


def rounds(description: str, default: int) -> int:
    """The number of interleaved rounds from the command line: ``--runs N``, or one with
    ``--tiny`` (for CI)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=default)
    parser.add_argument("--tiny", action="store_true", help="one round (for CI)")
    arguments = parser.parse_args()
    return 1 if arguments.tiny else int(arguments.runs)


def time_process(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, peak RSS) of one process in kB (0, 0 once it has gone)."""
    rss = hwm = 0
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


def run_tree(
    command: Sequence[str], env: dict[str, str], interval: float = 0.02
) -> tuple[float, float, float | None, float | None]:
    """Run a command; return its wall seconds, the CPU seconds (user + system) of all its
    processes, and (Linux only, else None) the peak over samples every ``interval`` s of
    the whole process tree's resident memory (the sum of its processes' RSS, MB: pages a
    forked worker still shares with its parent count in both) and the largest peak RSS of
    any one of its processes (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    tree_peak = largest = 0
    tracked = PROC.is_dir()
    while process.poll() is None:
        if tracked:
            pids, total = [process.pid], 0
            while pids:
                pid = pids.pop()
                rss, hwm = _memory_kb(pid)
                total += rss
                largest = max(largest, hwm)
                pids += _children(pid)
            tree_peak = max(tree_peak, total)
        time.sleep(interval)
    wall = time.perf_counter() - start
    if process.returncode not in (0, 1):  # 1: some scenarios failed, which is allowed
        raise subprocess.CalledProcessError(process.returncode, list(command))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if not tracked or not tree_peak:
        return wall, cpu, None, None
    return wall, cpu, tree_peak / 1024, largest / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def environment_note() -> str:
    """The Python and whether numpy is installed (pint imports it if it is)."""
    import importlib.util
    import sys

    numpy = importlib.util.find_spec("numpy") is not None
    return (
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores"
        f"{', numpy installed' if numpy else ''}"
    )
