"""How fast and how lean is a large sweep? Ratio against the csv I/O floor, and peak memory.

Runs ``taper sweep`` over N scenarios of six-month plans (diazepam at many starting doses,
in 1 to 3 doses a day, 4 sources, 10 final doses, 2 intervals, 3 methods, each plan's
pace found to stop within 26 weeks) to a CSV
file, in a child process whose peak memory is read from the operating system. Then, in this
process, times writing the same number of rows with the standard ``csv`` module alone: the
I/O floor. Prints the time of each, their ratio (target: at most 3), and the peak memory
(target: under 200 MB).

    python benchmarks/batch.py [--scenarios 10000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _grid(scenarios: int) -> tuple[str, list[str]]:
    """At least ``scenarios`` combinations: 4 sources x 1-3 dose times x 10 final doses x 2
    intervals x 3 methods (720 a dose), over doses from 10 mg upwards in 0.1 mg steps."""
    count = -(-scenarios // 720)
    doses = ",".join(f"{10 + n / 10:.1f}mg" for n in range(count))
    options = [
        "--source",
        "ashton,va-dod-2021,nhs-scotland-2024,who-2009",
        "--times",
        "1,2,3",
        "--final",
        ",".join(f"{0.5 * (n + 1):g}mg" for n in range(10)),
        "--every",
        "1w,2w",
        "--method",
        "percent,linear,bands",
    ]
    return doses, options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args()
    taper_exe = shutil.which("taper") or str(Path(sys.executable).with_name("taper"))
    doses, options = _grid(arguments.scenarios)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "sweep.csv"
        command = [
            taper_exe,
            "sweep",
            "diazepam",
            doses,
            *options,
            "--duration",
            "26w",
            "-o",
            str(output),
            "--jobs",
            str(arguments.jobs),
            "--quiet",
        ]
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        # The floor: as many rows, written with the csv module alone. Rows are taken from
        # the output itself, cycling through a sample so that memory stays small.
        sample: list[list[str]] = []
        total = 0
        scenario_ids = set()
        with output.open(encoding="utf-8") as stream:
            reader = csv.reader(line for line in stream if not line.startswith("#"))
            next(reader)
            for row in reader:
                total += 1
                scenario_ids.add(row[0])
                if len(sample) < 100_000:
                    sample.append(row)
        floor_file = Path(folder) / "floor.csv"
        start = time.perf_counter()
        with floor_file.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            for index in range(total):
                writer.writerow(sample[index % len(sample)])
        floor = time.perf_counter() - start
    print(f"scenarios {len(scenario_ids)}, rows {total}, jobs {arguments.jobs}")
    print(f"taper sweep to CSV   {elapsed:8.2f} s   ratio to the csv floor {elapsed / floor:6.1f}")
    print(f"csv floor            {floor:8.2f} s")
    print(f"peak memory of the largest process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
