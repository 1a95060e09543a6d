"""How fast do one-off commands start? Each as a ratio against the import floor.

Runs, interleaved in one session, whole ``taper`` processes (the start-up rows of issue 16)
and the floor ``python -c "import typer, rich, pint"``, and prints for each the median of its
times and of its ratios to the floor, each sample over the floor sample of the same round,
with their spread, ``median (min-max)``, for wall-clock time and for CPU time (user + system,
which the load of a shared machine disturbs much less). The figure to watch is the ratio (target: at
most 1.0 for ``convert``, ``drugs`` and ``sources``; 1.2 for ``schedule``), not the
milliseconds, which depend on the machine and its load. Measure in an environment with the
core install only (``pip install -e .``): with matplotlib installed, pint imports numpy,
which slows the floor and flatters the ratios.

    python benchmarks/startup.py [--runs 21] [--tiny]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from _measure import environment_note, ratios, rounds, spread, time_process

FLOOR = "floor: import typer, rich, pint"


def main() -> None:
    runs = rounds(__doc__.splitlines()[0], 21)
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
        time_process(command, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(time_process(command, env))
    floor_walls = [wall for wall, _ in samples[FLOOR]]
    floor_cpus = [cpu for _, cpu in samples[FLOOR]]
    print(f"{runs} interleaved rounds, median (min-max); {environment_note()}")
    print(f"{'':42} {'wall ms':>20} {'ratio':>17}   {'CPU ms':>20} {'ratio':>17}")
    for name, values in samples.items():
        walls = [wall for wall, _ in values]
        cpus = [cpu for _, cpu in values]
        print(
            f"{name:42} {spread(walls, 1000, 1):>20} {spread(ratios(walls, floor_walls)):>17}"
            f"   {spread(cpus, 1000, 1):>20} {spread(ratios(cpus, floor_cpus)):>17}"
        )


if __name__ == "__main__":
    main()
