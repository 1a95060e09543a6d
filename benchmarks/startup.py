"""How fast do one-off commands start? Each as a ratio against the import floor.

Runs, interleaved in one session, whole ``taper`` processes (the start-up rows of issue 16)
and the floor ``python -c "import typer, rich, pint"``, and prints the median of each and its
ratio to the floor's median, for wall-clock time and for CPU time (user + system, which the
load of a shared machine disturbs much less). The figure to watch is the ratio (target: at
most 1.0 for ``convert``, ``drugs`` and ``sources``; 1.2 for ``schedule``), not the
milliseconds, which depend on the machine and its load. Measure in an environment with the
core install only (``pip install -e .``): with matplotlib installed, pint imports numpy,
which slows the floor and flatters the ratios.

    python benchmarks/startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = "floor: import typer, rich, pint"


def _time(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    exe = shutil.which("taper", path=str(Path(sys.executable).parent)) or shutil.which("taper")
    assert exe, "taper is not installed next to this Python"
    convert = [exe, "convert", "clonazepam", "1.5mg", "--to", "diazepam"]
    commands = {
        FLOOR: [sys.executable, "-c", "import typer, rich, pint"],
        "convert clonazepam 1.5mg --to diazepam": convert,
        "  the same, --format json": [*convert, "--format", "json"],
        "convert Klonopin 500mcg --to Librium": [
            *(exe, "convert", "Klonopin", "500mcg", "--to", "Librium"),
        ],
        "drugs": [exe, "drugs"],
        "sources": [exe, "sources"],
        "schedule clonazepam 1.5mg --times 3": [
            *(exe, "schedule", "clonazepam", "1.5mg", "--times", "3", "--start", "2027-01-04"),
        ],
    }
    env = {**os.environ, "COLUMNS": "100"}
    for command in commands.values():  # warm the file cache and bytecode
        _time(command, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(_time(command, env))
    wall_floor = statistics.median(wall for wall, _ in samples[FLOOR])
    cpu_floor = statistics.median(cpu for _, cpu in samples[FLOOR])
    print(f"{runs} interleaved runs, medians; Python {sys.version.split()[0]}")
    print(f"{'':42} {'wall':>9} {'ratio':>6}   {'CPU':>9} {'ratio':>6}")
    for name, values in samples.items():
        wall = statistics.median(wall for wall, _ in values)
        cpu = statistics.median(cpu for _, cpu in values)
        print(
            f"{name:42} {wall * 1000:6.1f} ms {wall / wall_floor:6.2f}"
            f"   {cpu * 1000:6.1f} ms {cpu / cpu_floor:6.2f}"
        )


if __name__ == "__main__":
    main()
