"""How fast is a plan computed in-process? First and warm, as ratios against a baseline.

Two plans, each built with :func:`taper.plan_taper` and walked day by day:

- the crossover of issue 16: alprazolam 4 mg a day in 4 doses, switched to diazepam (80 mg
  diazepam equivalent, above the usual maximum: asked for with ``allow_high_dose``);
- a direct taper: diazepam 40 mg a day in two doses, 5% every week, US products.

"First" is the first plan of a fresh process (modules imported, including those the plan
imports on first use, and the table loaded beforehand: it counts the product searches and
other first-use work, not imports);
"warm" is every later plan with the same products, as in a batch. Each child process times
one first plan, then ``--runs`` warm plans interleaved with the baseline: making as many
(day, date, Decimal dose) rows with the standard library alone. Prints medians over the
children and their ratio to the baseline. Targets (issue 16, crossover): first <= 5 ms,
warm <= 1.5 ms.

    python benchmarks/schedule.py [--processes 7] [--runs 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

PLANS: dict[str, dict[str, Any]] = {
    "alprazolam 4 mg x4 -> diazepam": {
        "drug": "alprazolam",
        "dose": "4mg",
        "times": 4,
        "switch_to": "diazepam",
        "start": "2027-01-04",
        # 80 mg diazepam equivalent: above the usual maximum, so the switch must be asked for.
        "allow_high_dose": True,
    },
    "diazepam 40 mg x2, 5%/1w": {
        "drug": "diazepam",
        "dose": "40mg",
        "times": 2,
        "rate": "5%",
        "every": "1w",
        "start": "2027-01-04",
    },
}


def _baseline(days: int) -> int:
    start = dt.date(2027, 1, 4)
    rows = [(day, start + dt.timedelta(days=day), Decimal(40) - day) for day in range(days)]
    return len(rows)


def _child(name: str, runs: int) -> None:
    import msgspec  # noqa: F401  (imported on first use by the options' validation)

    from taper import load_table
    from taper.schedule import plan_taper

    table = load_table()
    options = PLANS[name]

    def plan() -> int:
        return sum(1 for _ in plan_taper(**options, table=table).days())

    start = time.perf_counter()
    days = plan()
    first = time.perf_counter() - start
    warm, baseline = [], []
    for _ in range(runs):
        start = time.perf_counter()
        plan()
        warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        _baseline(days)
        baseline.append(time.perf_counter() - start)
    record = {
        "days": days,
        "first": first,
        "warm": statistics.median(warm),
        "baseline": statistics.median(baseline),
    }
    print(json.dumps(record))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments.child, arguments.runs)
        return
    results: dict[str, list[dict[str, float]]] = {name: [] for name in PLANS}
    for _ in range(arguments.processes):
        for name in PLANS:
            command = [sys.executable, __file__, "--child", name, "--runs", str(arguments.runs)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[name].append(json.loads(output))
    print(f"{arguments.processes} processes x {arguments.runs} warm runs, medians")
    for name, records in results.items():
        days = int(records[0]["days"])
        floor = statistics.median(record["baseline"] for record in records)
        print(f"{name} ({days} days)")
        for what in ("first", "warm", "baseline"):
            median = statistics.median(record[what] for record in records)
            print(f"  {what:9} {median * 1000:7.2f} ms   ratio to baseline {median / floor:6.1f}")


if __name__ == "__main__":
    main()
