"""How fast and how lean is a large sweep? Ratios against the csv floor, and peak memory.

Runs ``taper sweep`` over N scenarios of six-month plans (diazepam from 10 mg upwards in
1 mg steps, in 1 to 3 doses a day, 4 sources, 10 final doses, 2 intervals, the percent and
bands methods, each plan's pace found to stop within 26 weeks; 10,080 scenarios go up to
30 mg) to a CSV file, with ``--jobs 1`` and ``--jobs 2``, each in a
child process whose peak memory (of its largest process) is read from the operating system.
After each run, this process times the baseline: writing as many rows with ``csv.writer``
alone (cycling through the first 100,000 rows of the output, so that memory stays small).
Prints the wall-clock time of each and its ratio to the baseline (targets, issue 16:
``--jobs 1`` at most 1.5, ``--jobs 2`` at most 1.0), the CPU time of all of taper's
processes against the baseline's (less disturbed by other work on a shared machine; with
``--jobs 1`` it is the figure to trust) and the peak memory (target: flat in N).

Byte identity: the SHA-256 of the output is compared with the one recorded in
``benchmarks/sweep-digests.txt`` for the same N (both runs must also agree with each other).
The digests belong to the current engine: a change meant to change plans changes them. Once
the change is checked (``tests/test_sweep_digest.py`` and the golden files show it at a
smaller scale), record the new digest with ``--record-digest``.

    python benchmarks/batch.py [--scenarios 10000] [--jobs 1,2] [--record-digest]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIGESTS = Path(__file__).with_name("sweep-digests.txt")
#: Scenarios per starting dose in the grid.
PER_DOSE = 480
#: Runs a command and prints the peak memory of its largest process (kB) and the CPU seconds
#: (user + system) of all its processes.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False, "
    "stdout=subprocess.DEVNULL); usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
)


def _grid(scenarios: int) -> tuple[str, list[str]]:
    """At least ``scenarios`` combinations: 4 sources x 1-3 dose times x 10 final doses x 2
    intervals x 2 methods (480 a dose), over doses from 10 mg upwards in 1 mg steps."""
    count = -(-scenarios // PER_DOSE)
    doses = ",".join(f"{10 + n}mg" for n in range(count))
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
        "percent,bands",
    ]
    return doses, options


def _recorded() -> dict[str, str]:
    if not DIGESTS.exists():
        return {}
    lines = DIGESTS.read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _floor(output: Path, target: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds to write as many rows as ``output`` has with csv.writer alone,
    and the number of rows."""
    sample: list[list[str]] = []
    total = 0
    with output.open(encoding="utf-8") as stream:
        reader = csv.reader(line for line in stream if not line.startswith("#"))
        next(reader)
        for row in reader:
            total += 1
            if len(sample) < 100_000:
                sample.append(row)
    start, cpu = time.perf_counter(), _cpu()
    with target.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        for index in range(total):
            writer.writerow(sample[index % len(sample)])
    return time.perf_counter() - start, _cpu() - cpu, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--jobs", default="1,2", help="comma-separated, e.g. 1,2")
    parser.add_argument("--record-digest", action="store_true")
    arguments = parser.parse_args()
    exe = shutil.which("taper", path=str(Path(sys.executable).parent)) or shutil.which("taper")
    assert exe, "taper is not installed next to this Python"
    doses, options = _grid(arguments.scenarios)
    results: list[tuple[int, float, float, float, float, float]] = []
    digests: set[str] = set()
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ)
        for jobs in (int(value) for value in arguments.jobs.split(",")):
            output = Path(folder) / f"sweep-{jobs}.csv"
            command = [exe, "sweep", "diazepam", doses, *options, "--duration", "26w"]
            command += ["-o", str(output), "--jobs", str(jobs), "--quiet"]
            start = time.perf_counter()
            peak_kb, cpu_seconds = subprocess.run(
                [sys.executable, "-c", PEAK, *command],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout.split()
            elapsed = time.perf_counter() - start
            # The baseline right after each run, so that both see the same load on the machine.
            floor, floor_cpu, rows = _floor(output, Path(folder) / "floor.csv")
            results.append(
                (jobs, elapsed, floor, float(cpu_seconds), floor_cpu, int(peak_kb) / 1024)
            )
            digests.add(hashlib.sha256(output.read_bytes()).hexdigest())
            output.unlink()
    key = f"{arguments.scenarios}-scenarios"
    count = PER_DOSE * len(doses.split(","))
    print(f"{count} scenarios, {rows} rows; Python {sys.version.split()[0]}")
    for jobs, elapsed, floor, cpu, floor_cpu, peak_mb in results:
        print(
            f"taper sweep --jobs {jobs}: wall {elapsed:6.2f} s, baseline {floor:5.2f} s, ratio "
            f"{elapsed / floor:4.2f};  CPU (all processes) {cpu:6.2f} s, baseline "
            f"{floor_cpu:5.2f} s, ratio {cpu / floor_cpu:4.2f};  peak memory {peak_mb:.0f} MB"
        )
    (digest,) = digests if len(digests) == 1 else (None,)
    if digest is None:
        print("DIFFERENT outputs for different --jobs: a bug")
        sys.exit(1)
    recorded = _recorded().get(key)
    if arguments.record_digest:
        entries = {**_recorded(), key: digest}
        lines = [f"{name} {value}" for name, value in sorted(entries.items())]
        header = "# SHA-256 of benchmarks/batch.py's sweep output, by scenario count\n"
        DIGESTS.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        print(f"digest {digest[:16]}… recorded for {key}")
    elif recorded is None:
        print(f"digest {digest[:16]}… (none recorded for {key}; --record-digest stores it)")
    elif recorded == digest:
        print(f"digest {digest[:16]}… matches the recorded one: byte-identical output")
    else:
        print(f"digest {digest[:16]}… DIFFERS from the recorded {recorded[:16]}…")
        sys.exit(1)


if __name__ == "__main__":
    main()
