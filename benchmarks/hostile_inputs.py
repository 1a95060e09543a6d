"""Do small hostile files cost in proportion to their size? Ratios, not milliseconds.

Times, in one process, reading the header of a CSV plan (``taper.files.csv_records``: the
delimiter sniffing and the repeated-column check) for headers of N and 10 N columns, and for
a header made to make ``csv.Sniffer`` backtrack; prints each time and the ratio of the wide to
the narrow one. A ratio near 10 is linear; near 100 would be quadratic (issue 23: 40,000
columns took 40 s, a 140 kB sniffed header a minute). Measured: 40,000 -> 400,000 columns,
ratios 13.9 (wide header) and 9.5 (backtracking header).

    python benchmarks/hostile_inputs.py [--columns 40000]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

from taper.files import csv_records


def _fail(line: int | None, reason: str) -> ValueError:
    return ValueError(reason)


def _header(columns: int) -> str:
    return ",".join(["day", "drug", "dose_mg", *(f"c{i}" for i in range(columns))]) + "\n1\n"


def _backtracking(columns: int) -> str:
    return 'a,"b";' * (columns // 2) + "\n" + "x" * 1000 + "\n"


def _seconds(text: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(ValueError):
            csv_records(text, _fail)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=40_000)
    columns = parser.parse_args().columns
    for name, make in (("wide header", _header), ("backtracking header", _backtracking)):
        narrow, wide = _seconds(make(columns)), _seconds(make(10 * columns))
        print(
            f"{name:20} {columns:>7,} columns {narrow * 1000:8.1f} ms   "
            f"{10 * columns:>7,} columns {wide * 1000:8.1f} ms   ratio {wide / narrow:5.1f}"
        )


if __name__ == "__main__":
    main()
