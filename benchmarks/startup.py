"""How fast does a one-off conversion start? Ratio against the import floor.

Runs, interleaved in one session, the whole process
``taper convert clonazepam 1mg --to diazepam`` and the floor
``python -c "import typer, rich, pint"``, and prints the median of each and their ratio.
The figure to watch is the ratio (target: at most 1.2), not the seconds, which depend on
the machine.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    taper_exe = shutil.which("taper") or str(Path(sys.executable).with_name("taper"))
    commands = {
        "taper convert (JSON)": [
            taper_exe,
            "convert",
            "clonazepam",
            "1mg",
            "--to",
            "diazepam",
            "--format",
            "json",
        ],
        "taper convert (table)": [taper_exe, "convert", "clonazepam", "1mg", "--to", "diazepam"],
        "floor: import typer, rich, pint": [sys.executable, "-c", "import typer, rich, pint"],
    }
    for command in commands.values():  # warm the file cache and bytecode
        _time(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(_time(command))
    floor = statistics.median(samples["floor: import typer, rich, pint"])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:34} median {median * 1000:7.1f} ms   ratio to floor {median / floor:.2f}")


if __name__ == "__main__":
    main()
