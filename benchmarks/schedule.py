"""How fast is a two-year day-by-day schedule computed in-process?

Builds, in one process, a two-year plan (diazepam 40 mg a day in two doses, 5% every week,
US products with an oral solution: 770 days, 78 reductions) and walks its 770 day rows,
then times a baseline in the same process: making 770 (day, date, dose) rows with the
standard library alone. Prints the median of each and their ratio. Target: the plan in well
under 10 ms. "Cold" is the first plan of a process (the product searches are done then and
cached); "warm" is every later plan with the same products, as in a batch.

    python benchmarks/schedule.py [--runs 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal
from typing import Any

from taper import load_table
from taper.products import formulary_for
from taper.schedule import plan_taper


def _plan(table: Any) -> int:
    plan = plan_taper(
        "diazepam", "40mg", times=2, rate="5%", every="1w", start="2027-01-04", table=table
    )
    return sum(1 for _ in plan.days())


def _baseline(days: int) -> int:
    start = dt.date(2027, 1, 4)
    rows = [(day, start + dt.timedelta(days=day), Decimal(40) - day) for day in range(days)]
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    table = load_table()
    cold = []
    for _ in range(5):
        formulary_for.cache_clear()
        start = time.perf_counter()
        days = _plan(table)
        cold.append(time.perf_counter() - start)
    warm, baseline = [], []
    for _ in range(runs):
        start = time.perf_counter()
        _plan(table)
        warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        _baseline(days)
        baseline.append(time.perf_counter() - start)
    floor = statistics.median(baseline)
    print(f"two-year plan: {days} days")
    for name, values in (("plan, cold", cold), ("plan, warm", warm), ("baseline", baseline)):
        median = statistics.median(values)
        print(f"{name:12} median {median * 1000:6.2f} ms   ratio to baseline {median / floor:6.1f}")


if __name__ == "__main__":
    main()
