"""How fast and how lean are batches? Ratios against the csv floor, and peak memory.

Sweep: runs ``taper sweep`` over N scenarios of six-month plans (diazepam from 10 mg upwards
in 1 mg steps, in 1 to 3 doses a day, 4 sources, 10 final doses, 2 intervals, the percent
and bands methods, each plan's pace found to stop within 26 weeks; 10,080 scenarios go up to
30 mg) to a CSV file, with ``--jobs 1`` and ``--jobs 2``, ``--repeats`` times, interleaved:
after each run this process times the floor, writing as many rows with ``csv.writer`` alone
(cycling through the first 100,000 rows of the output, so that memory stays small). Each
ratio is a run over the floor run next to it, printed as ``median (min-max)`` over the
repeats (targets, issue 16: ``--jobs 1`` at most 1.5, ``--jobs 2`` at most 1.0), for wall
time and for the CPU time of all of taper's processes against the floor's (less disturbed
by other work on a shared machine; with ``--jobs 1`` it is the figure to trust).

Scenario file: writes CSV scenario files of each size in ``--file-scenarios`` (short plans
of clonazepam, lorazepam and diazepam cycling through 40 combinations) and runs ``taper
batch FILE`` on each, reading the peak memory of the whole process tree (the sum of the
resident set sizes of the main process and its workers, sampled every 20 ms) and the
largest peak of any one process (Linux only). Target (issue 28): the largest file's peak
within 10% of the smallest's.

Short plans (issue 26): ``taper batch FILE`` on 2,000 short clonazepam plans (1-week steps
of 10-20%, default jobs) and on 2,000 rate plans (clonazepam 1 mg / diazepam 20 mg, 5-15%
every 2 weeks, ``--jobs 1``), ``--repeats`` times, each run next to its floor: an interpreter
start (``python -c pass``) plus writing as many rows with ``csv.writer`` (targets: 2.0 and
1.3).

Byte identity: the SHA-256 of the sweep output is compared with the one recorded in
``benchmarks/sweep-digests.txt`` for the same N (all runs must also agree with each other).
The digests belong to the current engine: a change meant to change plans changes them. Once
the change is checked (``tests/test_sweep_digest.py`` and the golden files show it at a
smaller scale), record the new digest with ``--record-digest``.

    python benchmarks/batch.py [--scenarios 10000] [--jobs 1,2] [--repeats 3]
        [--file-scenarios 10000,100000] [--file-jobs 2] [--part sweep,file,short]
        [--record-digest] [--tiny]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measure import cpu_seconds, environment_note, ratios, run_tree, spread, time_process

DIGESTS = Path(__file__).with_name("sweep-digests.txt")
#: Scenarios per starting dose in the grid (4 sources x 3 x 10 final doses x 2 x 2).
PER_DOSE = 480
#: The tiny grid (CI): 1 source x 3 x 1 final dose x 2 x 2.
PER_DOSE_TINY = 12
#: The short plans of the scenario files, cycled through.
FILE_PLANS = list(
    itertools.product(
        [
            ("clonazepam", "0.5mg"),
            ("clonazepam", "1mg"),
            ("lorazepam", "1mg"),
            ("diazepam", "5mg"),
            ("diazepam", "10mg"),
        ],
        ["1", "2"],
        ["25%", "50%"],
        ["1w", "2w"],
    )
)


def _grid(scenarios: int, tiny: bool = False) -> tuple[str, list[str]]:
    """At least ``scenarios`` combinations: 4 sources x 1-3 dose times x 10 final doses x 2
    intervals x 2 methods (480 a dose), over doses from 10 mg upwards in 1 mg steps (tiny:
    one source and one final dose, 12 a dose)."""
    count = -(-scenarios // (PER_DOSE_TINY if tiny else PER_DOSE))
    doses = ",".join(f"{10 + n}mg" for n in range(count))
    sources = "ashton" if tiny else "ashton,va-dod-2021,nhs-scotland-2024,who-2009"
    finals = "1mg" if tiny else ",".join(f"{0.5 * (n + 1):g}mg" for n in range(10))
    options = ["--source", sources, "--times", "1,2,3", "--final", finals]
    options += ["--every", "1w,2w", "--method", "percent,bands"]
    return doses, options


def _recorded() -> dict[str, str]:
    if not DIGESTS.exists():
        return {}
    lines = DIGESTS.read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


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
    start, cpu = time.perf_counter(), cpu_seconds()
    with target.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        for index in range(total):
            writer.writerow(sample[index % len(sample)])
    return time.perf_counter() - start, cpu_seconds() - cpu, total


def _memory(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} MB"


def _sweeps(exe: str, arguments: argparse.Namespace, folder: str) -> None:
    doses, options = _grid(arguments.scenarios, arguments.tiny)
    env = {**os.environ, "TAPER_CACHE_DIR": folder}
    jobs_list = [int(value) for value in arguments.jobs.split(",")]
    runs: dict[int, list[tuple[float, float, float, float, float | None, float | None]]] = {
        jobs: [] for jobs in jobs_list
    }
    digests: set[str] = set()
    rows = 0
    for _, jobs in itertools.product(range(arguments.repeats), jobs_list):
        output = Path(folder) / f"sweep-{jobs}.csv"
        command = [exe, "sweep", "diazepam", doses, *options, "--duration", "26w"]
        command += ["-o", str(output), "--jobs", str(jobs), "--quiet", "--force"]
        wall, cpu, tree, largest = run_tree(command, env)
        # The floor right after each run, so that both see the same load on the machine.
        floor, floor_cpu, rows = _floor(output, Path(folder) / "floor.csv")
        runs[jobs].append((wall, floor, cpu, floor_cpu, tree, largest))
        digests.add(hashlib.sha256(output.read_bytes()).hexdigest())
        output.unlink()
    count = (PER_DOSE_TINY if arguments.tiny else PER_DOSE) * len(doses.split(","))
    print(f"sweep: {count} scenarios, {rows} rows, {arguments.repeats} repeats interleaved")
    for jobs, samples in runs.items():
        walls, floors, cpus, floor_cpus, trees, largest = (
            list(v) for v in zip(*samples, strict=True)
        )
        peaks = [value for value in trees if value is not None]
        biggest = [value for value in largest if value is not None]
        print(
            f"  taper sweep --jobs {jobs}: wall {spread(walls)} s, floor {spread(floors)} s, "
            f"ratio {spread(ratios(walls, floors))}; CPU (all processes) {spread(cpus)} s, "
            f"floor {spread(floor_cpus)} s, ratio {spread(ratios(cpus, floor_cpus))}; "
            f"peak memory, process tree {spread(peaks, digits=1) if peaks else 'n/a'} MB, "
            f"largest process {spread(biggest, digits=1) if biggest else 'n/a'} MB"
        )
    (digest,) = digests if len(digests) == 1 else (None,)
    if digest is None:
        print("DIFFERENT outputs for different --jobs: a bug")
        sys.exit(1)
    key = f"{arguments.scenarios}-scenarios{'-tiny' if arguments.tiny else ''}"
    recorded = _recorded().get(key)
    if arguments.record_digest:
        entries = {**_recorded(), key: digest}
        lines = [f"{name} {value}" for name, value in sorted(entries.items())]
        header = "# SHA-256 of benchmarks/batch.py's sweep output, by scenario count\n"
        DIGESTS.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        print(f"  digest {digest[:16]}… recorded for {key}")
    elif recorded is None:
        print(f"  digest {digest[:16]}… (none recorded for {key}; --record-digest stores it)")
    elif recorded == digest:
        print(f"  digest {digest[:16]}… matches the recorded one: byte-identical output")
    else:
        print(f"  digest {digest[:16]}… DIFFERS from the recorded {recorded[:16]}…")
        sys.exit(1)


def _write_scenarios(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as stream:
        stream.write("id,drug,dose,times,rate,every,start\n")
        for number in range(count):
            (drug, dose), times, rate, every = FILE_PLANS[number % len(FILE_PLANS)]
            stream.write(f"s{number + 1:07d},{drug},{dose},{times},{rate},{every},2027-01-04\n")


def _files(exe: str, arguments: argparse.Namespace, folder: str) -> None:
    env = {**os.environ, "TAPER_CACHE_DIR": folder}
    sizes = [int(value) for value in arguments.file_scenarios.split(",")]
    peaks: dict[int, list[float]] = {size: [] for size in sizes}
    print(
        f"taper batch FILE --jobs {arguments.file_jobs}: {arguments.file_repeats} repeat(s), "
        "peak memory of the whole process tree (sum of RSS) and of the largest process"
    )
    for _, size in itertools.product(range(arguments.file_repeats), sizes):
        scenarios, output = Path(folder) / f"s{size}.csv", Path(folder) / "batch.csv"
        _write_scenarios(scenarios, size)
        command = [exe, "batch", str(scenarios), "-o", str(output), "--quiet", "--force"]
        command += ["--jobs", str(arguments.file_jobs)]
        wall, cpu, tree, largest = run_tree(command, env)
        megabytes = scenarios.stat().st_size / 2**20
        print(
            f"  {size:>7} scenarios ({megabytes:.1f} MB file): wall {wall:.1f} s, CPU "
            f"{cpu:.1f} s; peak memory, process tree {_memory(tree)}, largest process "
            f"{_memory(largest)}"
        )
        if tree is not None:
            peaks[size].append(tree)
        output.unlink(missing_ok=True)
        scenarios.unlink()
    small, large = sizes[0], sizes[-1]
    if large != small and peaks[small] and peaks[large]:
        growth = [b / a for a, b in zip(peaks[small], peaks[large], strict=True)]
        print(
            f"  peak at {large} / peak at {small}: {spread(growth)} "
            f"(median peaks {statistics.median(peaks[large]):.1f} / "
            f"{statistics.median(peaks[small]):.1f} MB)"
        )


#: The short-plan batches of issue 26: name, scenario rows (drug, dose, rate), interval, jobs.
SHORT = [
    (
        "2,000 clonazepam plans, 1-week steps of 10-20%, default jobs",
        [("clonazepam", dose, f"{rate}%") for dose in ("0.5mg", "1mg") for rate in range(10, 21)],
        "1w",
        None,
    ),
    (
        "2,000 rate plans (clonazepam 1 mg / diazepam 20 mg, 5-15% every 2 weeks), --jobs 1",
        [
            (drug, dose, f"{rate}%")
            for drug, dose in (("clonazepam", "1mg"), ("diazepam", "20mg"))
            for rate in range(5, 16)
        ],
        "2w",
        1,
    ),
]


def _short(exe: str, arguments: argparse.Namespace, folder: str) -> None:
    """Short-plan batches against the floor: an interpreter start (``python -c pass``) plus
    writing as many rows with csv.writer, each run next to its floor."""
    env = {**os.environ, "TAPER_CACHE_DIR": folder}
    count = 40 if arguments.tiny else 2000
    for name, plans, every, jobs in SHORT:
        scenarios, output = Path(folder) / "short.csv", Path(folder) / "short-out.csv"
        with scenarios.open("w", encoding="utf-8") as stream:
            stream.write("id,drug,dose,times,rate,every,start\n")
            for number in range(count):
                drug, dose, rate = plans[number % len(plans)]
                stream.write(f"s{number + 1:05d},{drug},{dose},2,{rate},{every},2027-01-04\n")
        walls, cpus, floor_walls, floor_cpus, rows = [], [], [], [], 0
        for _ in range(arguments.repeats):
            command = [exe, "batch", str(scenarios), "-o", str(output), "--quiet", "--force"]
            command += [] if jobs is None else ["--jobs", str(jobs)]
            wall, cpu, _, _ = run_tree(command, env)
            start_wall, start_cpu = time_process([sys.executable, "-c", "pass"])
            floor, floor_cpu, rows = _floor(output, Path(folder) / "floor.csv")
            walls.append(wall)
            cpus.append(cpu)
            floor_walls.append(floor + start_wall)
            floor_cpus.append(floor_cpu + start_cpu)
        print(
            f"{name.replace('2,000', f'{count:,}')}: {rows} rows; wall {spread(walls)} s, "
            f"floor {spread(floor_walls)} s, ratio {spread(ratios(walls, floor_walls))}; "
            f"CPU {spread(cpus)} s, floor {spread(floor_cpus)} s, "
            f"ratio {spread(ratios(cpus, floor_cpus))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--jobs", default="1,2", help="comma-separated, e.g. 1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--file-scenarios", default="10000,100000")
    parser.add_argument("--file-jobs", type=int, default=2)
    parser.add_argument("--file-repeats", type=int, default=1)
    parser.add_argument("--part", default="sweep,file,short", help="sweep, file, short")
    parser.add_argument("--record-digest", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="a few dozen scenarios (for CI)")
    arguments = parser.parse_args()
    if arguments.tiny:
        arguments.scenarios, arguments.repeats = 24, 1
        arguments.file_scenarios, arguments.file_repeats = "20,60", 1
    exe = shutil.which("taper", path=str(Path(sys.executable).parent)) or shutil.which("taper")
    assert exe, "taper is not installed next to this Python"
    print(environment_note())
    parts = arguments.part.split(",")
    with tempfile.TemporaryDirectory() as folder:
        if "sweep" in parts:
            _sweeps(exe, arguments, folder)
        if "file" in parts:
            _files(exe, arguments, folder)
        if "short" in parts:
            _short(exe, arguments, folder)


if __name__ == "__main__":
    main()
