"""How fast is a plan computed in-process? First and warm, as ratios against a baseline.

Plans built with :func:`taper.plan_taper` and walked day by day:

- a crossover: lorazepam 1 mg a day in 2 doses, switched to diazepam (10 mg diazepam
  equivalent under the default source: an ordinary dose, no high-dose option needed);
- a direct taper: diazepam 40 mg a day in two doses, 5% every week, US products;
- a target end: diazepam 20 mg a day in two doses, ``duration="26w"`` (the pace search plans
  the grid's paces from the slowest up), and the same plan with the pace it finds given as
  ``rate``, timed run by run in the same process (their ratio is the cost of the search).

"First" is the first plan of a fresh process (taper's modules imported and the table loaded
beforehand: it counts the product searches, other first-use work and any module a plan
imports on first use); "warm" is every later plan with the same products, as in a batch,
worked out again: the engine remembers whole plans by their request (issue 26), so its memo
of plans (and of remedies) is emptied before each warm plan, untimed; "remembered" is the
same plan asked again with the memo kept (the cost of a repeated request). Each child
process times one first plan, then ``--runs`` warm plans, each followed by the baseline:
making as many (day, date, Decimal dose) rows with the standard library alone. Every ratio
is taken sample by sample (a plan over the baseline run next to it) and printed as
``median (min-max)`` over all samples (first plans: one a process).

"Cold" (issue 26's row) is the first plan of a fresh process right after ``import taper``,
lorazepam 2 mg x2 -> diazepam, walked day by day: the engine's modules, the table's loading
and the first-use work all count. It is timed in CPU (user + system, which the load of a
shared machine disturbs less than wall-clock time) and taken over the CPU the same process
spent starting the interpreter and importing taper (its baseline), one process a round,
interleaved with the others. ``--cold`` times only these.

``--parts`` splits the same cold first plan into what it spends (CPU, one process a round):
the standard library's modules a plan imports (imported first, each one a plan imports
anyway), creating taper's dataclasses (``dataclasses``' own work, timed around each class it
makes), the rest of taper's modules, loading the table, and the plan itself; then it makes
classes of the same shapes (fields, frozen, keyword-only) again, as dataclasses and as
msgspec Structs, and times both: what the engine's types would cost as compiled structs.

    python benchmarks/schedule.py [--processes 7] [--runs 30] [--cold] [--parts] [--tiny]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from _measure import environment_note, ratios, spread

START = "2027-01-04"
PLANS: dict[str, dict[str, Any]] = {
    "clonazepam 1 mg x2 (direct)": {
        "drug": "clonazepam",
        "dose": "1mg",
        "times": 2,
        "start": START,
    },
    "lorazepam 2 mg x2 -> diazepam": {
        "drug": "lorazepam",
        "dose": "2mg",
        "times": 2,
        "switch_to": "diazepam",
        "start": START,
    },
    "lorazepam 1 mg x2 -> diazepam": {
        "drug": "lorazepam",
        "dose": "1mg",
        "times": 2,
        "switch_to": "diazepam",
        "start": START,
    },
    "diazepam 40 mg x2, 5%/1w": {
        "drug": "diazepam",
        "dose": "40mg",
        "times": 2,
        "rate": "5%",
        "every": "1w",
        "start": START,
    },
    "diazepam 20 mg x2, --duration 26w (pace search)": {
        "drug": "diazepam",
        "dose": "20mg",
        "times": 2,
        "duration": "26w",
        "start": START,
    },
}
#: The plan of the cold row: the first of a fresh process, after ``import taper``.
COLD = "lorazepam 2 mg x2 -> diazepam"
#: Timed together with the same plan with the pace it finds given as ``rate``, run by run in
#: the same child, for the cost of the search.
SEARCH = "diazepam 20 mg x2, --duration 26w (pace search)"


def _baseline(days: int) -> int:
    start = dt.date(2027, 1, 4)
    rows = [(day, start + dt.timedelta(days=day), Decimal(40) - day) for day in range(days)]
    return len(rows)


#: The cold child: nothing imported before taper but ``time`` (for process_time: user +
#: system CPU of the process).
COLD_CHILD = """
import time
import taper
started = time.process_time()
days = sum(1 for _ in taper.plan_taper(**{options!r}).days())
print(days, started, time.process_time() - started)
"""


#: The parts child (``--parts``): the stdlib modules the cold plan imports (each one it
#: imports: ``tests/test_benchmarks.py`` checks), then taper's modules with each dataclass
#: timed, the table, the plan; then the same shapes made again as dataclasses and as
#: msgspec Structs.
STDLIB_OF_A_PLAN = [
    "dataclasses",
    "inspect",
    "decimal",
    "datetime",
    "fractions",
    "hashlib",
    "pathlib",
    "csv",
    "signal",
    "textwrap",
    "threading",
    "contextvars",
    "traceback",
    "bisect",
    "math",
    "numbers",
    "errno",
    "tomllib",
]
PARTS_CHILD = """
import importlib, sys, time
import dataclasses
import taper
clock = time.process_time
started = clock()
for module in {stdlib!r}:
    importlib.import_module(module)
stdlib = clock() - started
made, shapes = [0.0], []
process_class = dataclasses._process_class
def timed(cls, *arguments):
    began = clock()
    done = process_class(cls, *arguments)
    made[0] += clock() - began
    frozen, kw_only = arguments[5], arguments[7]
    shapes.append((cls.__name__, tuple(cls.__dict__.get("__annotations__", {{}})), frozen, kw_only))
    return done
dataclasses._process_class = timed
began = clock()
import taper.engine, taper.schedule
modules = clock() - began
dataclasses._process_class = process_class
began = clock()
table = taper.load_table()
loaded = clock() - began
began = clock()
days = sum(1 for _ in taper.plan_taper(**{options!r}, table=table).days())
planned = clock() - began
import msgspec
def as_dataclasses():
    for name, fields, frozen, kw_only in shapes:
        made_class = type(name, (), {{"__annotations__": dict.fromkeys(fields, object)}})
        dataclasses.dataclass(made_class, frozen=frozen, kw_only=kw_only)
def as_structs():
    for name, fields, frozen, kw_only in shapes:
        msgspec.defstruct(name, [(field, object) for field in fields], frozen=frozen,
                          kw_only=kw_only)
def best(make):
    times = []
    for _ in range(5):
        began = clock()
        make()
        times.append(clock() - began)
    return min(times)
print(stdlib, made[0], modules - made[0], loaded, planned, len(shapes),
      sum(len(shape[1]) for shape in shapes), best(as_dataclasses), best(as_structs))
"""


def _child(name: str, runs: int, without_quicktions: bool) -> None:
    if without_quicktions:  # the core install's fractions.Fraction
        sys.modules["quicktions"] = None  # type: ignore[assignment]
    from taper import load_table
    from taper.schedule import plan_taper

    table = load_table()
    options = PLANS[name]
    import taper.engine as engine

    # Emptied before each warm plan, so that it is worked out again (absent before issue 26).
    memos = [getattr(engine, memo, None) for memo in ("_remembered_plan", "_cached_remedy")]

    def forget() -> None:
        for memo in memos:
            if memo is not None:
                memo.cache_clear()

    def plan(given: dict[str, Any] = options) -> int:
        return sum(1 for _ in plan_taper(**given, table=table).days())

    start = time.perf_counter()
    days = plan()
    first = time.perf_counter() - start
    start = time.perf_counter()
    _baseline(days)
    first_floor = time.perf_counter() - start
    warm, baseline, found = [], [], []
    rate = None
    if name == SEARCH:
        rate = plan_taper(**options, table=table).request.rate_percent
        given = {**options, "duration": None, "rate": rate}
        plan(given)
    remembered = []
    for _ in range(runs):
        forget()
        start = time.perf_counter()
        plan()
        warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan()
        remembered.append(time.perf_counter() - start)
        if name == SEARCH:
            forget()
            start = time.perf_counter()
            plan(given)
            found.append(time.perf_counter() - start)
        start = time.perf_counter()
        _baseline(days)
        baseline.append(time.perf_counter() - start)
    record = {
        "days": days,
        "first": first,
        "first_floor": first_floor,
        "warm": warm,
        "remembered": remembered,
        "baseline": baseline,
        "found": found,
        "rate": None if rate is None else str(rate),
    }
    print(json.dumps(record))


def _parts(processes: int) -> None:
    """``--parts``: what the cold first plan spends, one fresh process a round."""
    code = PARTS_CHILD.format(stdlib=STDLIB_OF_A_PLAN, options=PLANS[COLD])
    rounds = []
    for _ in range(processes):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the parts child failed:\n{done.stderr.strip()}")
        rounds.append([float(value) for value in done.stdout.split()])
    columns = list(zip(*rounds, strict=True))
    classes, fields = int(columns[5][0]), int(columns[6][0])
    print(f"{processes} processes; median (min-max); {environment_note()}")
    print(f"cold: the first plan of a fresh process after import taper, {COLD}, CPU ms")
    names = (
        "the standard library's modules a plan imports",
        f"creating taper's {classes} dataclasses ({fields} fields)",
        "the rest of taper's modules",
        "loading the table",
        "the plan",
    )
    for name, column in zip(names, columns[:5], strict=True):
        print(f"  {name}: {spread(column, 1000, 1)}")
    total = [sum(round_[:5]) for round_ in rounds]
    print(f"  all of it: {spread(total, 1000, 1)}")
    print(f"the same {classes} shapes made again (best of 5 a process):")
    print(f"  as dataclasses: {spread(columns[7], 1000, 1)}")
    print(f"  as msgspec Structs: {spread(columns[8], 1000, 2)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tiny", action="store_true", help="1 process x 2 runs (for CI)")
    parser.add_argument("--cold", action="store_true", help="only the cold first plans")
    parser.add_argument("--parts", action="store_true", help="what a cold first plan spends")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--without-quicktions", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.tiny:
        arguments.processes, arguments.runs = 1, 2
    if arguments.child:
        _child(arguments.child, arguments.runs, arguments.without_quicktions)
        return
    if arguments.parts:
        _parts(arguments.processes)
        return
    # With quicktions installed (the fast extra), each plan is also timed with the standard
    # library's Fraction, interleaved process by process.
    kinds = [""]
    if importlib.util.find_spec("quicktions") is not None:
        kinds = [" [quicktions]", " [fractions.Fraction]"]
    results: dict[str, list[dict[str, Any]]] = {name + kind: [] for name in PLANS for kind in kinds}
    cold: list[dict[str, Any]] = []
    plans = {} if arguments.cold else PLANS
    for _ in range(arguments.processes):
        code = COLD_CHILD.format(options=PLANS[COLD])
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the cold plan failed:\n{done.stderr.strip()}")
        days, started, first = done.stdout.split()
        cold.append({"days": int(days), "start": float(started), "first": float(first)})
        for name in plans:
            for kind in kinds:
                command = [sys.executable, __file__, "--child", name]
                command += ["--runs", str(arguments.runs)]
                if kind == " [fractions.Fraction]":
                    command.append("--without-quicktions")
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"{name}: the plan failed:\n{done.stderr.strip()}")
                results[name + kind].append(json.loads(done.stdout))
    print(
        f"{arguments.processes} processes x {arguments.runs} warm runs; "
        f"median (min-max); {environment_note()}"
    )
    first, start = [r["first"] for r in cold], [r["start"] for r in cold]
    print(f"cold: the first plan of a fresh process after import taper, {COLD}, CPU")
    print(f"  first plan {spread(first, 1000, 1)} ms; the process's start before it")
    print(f"  (interpreter and import taper) {spread(start, 1000, 1)} ms")
    print(f"  first plan / the start of the same process: {spread(ratios(first, start))}")
    for label, records in results.items():
        if not records:
            continue
        name = label.split(" [")[0]
        days = int(records[0]["days"])
        print(f"{label} ({days} days)")
        first = [record["first"] for record in records]
        first_floor = [record["first_floor"] for record in records]
        warm = [value for record in records for value in record["warm"]]
        floor = [value for record in records for value in record["baseline"]]
        print(f"  first     {spread(first, 1000)} ms, ratio {spread(ratios(first, first_floor))}")
        print(f"  warm      {spread(warm, 1000)} ms, ratio {spread(ratios(warm, floor))}")
        again = [value for record in records for value in record["remembered"]]
        print(f"  remembered {spread(again, 1000)} ms (the same request again, memo kept)")
        print(f"  baseline  {spread(floor, 1000, 3)} ms")
        if name == SEARCH:
            found = [value for record in records for value in record["found"]]
            rate = records[0]["rate"]
            print(f"  the same with rate {rate}% (the pace found), warm: {spread(found, 1000)} ms")
            print(f"  search / the same rate given, run by run: {spread(ratios(warm, found))}")
    if len(kinds) == 2 and plans:
        print("quicktions / fractions.Fraction, process by process (first; median of warm):")
        for name in PLANS:
            quick, standard = (results[name + kind] for kind in kinds)
            first = ratios([r["first"] for r in quick], [r["first"] for r in standard])
            warm = ratios(
                [statistics.median(r["warm"]) for r in quick],
                [statistics.median(r["warm"]) for r in standard],
            )
            print(f"  {name}: first {spread(first)}, warm {spread(warm)}")


if __name__ == "__main__":
    main()
