"""Many plans at once: scenario files, parameter sweeps, streamed outputs, several cores.

A *scenario* is an id and the options of ``taper schedule`` (the keyword arguments of
:func:`taper.plan_taper`, as text). Scenario files are CSV (a column per option, an ``id``
column; several drugs or holds or products separated by ``;``) or TOML (``[[scenario]]``
tables). A bad scenario does not stop the others: its summary row says what was wrong.

Outputs stream to disk in scenario order whatever the number of processes, so memory stays
flat however many scenarios there are, and the same input gives the same bytes.

From Python, :func:`batch` and :func:`sweep` run the same scenarios into typed DataFrames;
the module itself is callable, ``taper.batch(scenarios)`` being :func:`batch`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import math
import os
import signal
import sys
import time
import tomllib
import types
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, overload

from taper.csvout import (
    CSV_COLUMNS,
    DISPENSING_COLUMNS,
    SUMMARY_COLUMNS,
    DoseCells,
    dispensing_csv,
    neutralise_cell,
    plan_csv_text,
    provenance_lines,
    summary_row,
    write_row,
)
from taper.engine import SameTable
from taper.errors import (
    InvalidRequestError,
    ParameterError,
    ScenarioFileError,
    TaperError,
    shorten,
    shorten_message,
)
from taper.files import (
    STDIN,
    Fail,
    atomic_text_streams,
    check_outputs,
    csv_records,
    read_text,
    text_lines,
    too_long,
)
from taper.formatting import printable
from taper.options import OPTION_KINDS
from taper.outputs import is_stdout
from taper.process import STOP_SIGNALS
from taper.records import dumps_compact_json, plan_document, plan_summary
from taper.schedule import TaperPlan, plan_taper
from taper.table import EquivalenceTable, table_file, table_of

#: What a scenario may set: the current drugs and doses, and the schedule options.
SCENARIO_COLUMNS = {"drug": "list", "dose": "list", **OPTION_KINDS}
MAX_SCENARIO_FILE_BYTES = 50 * 1024 * 1024
#: Scenarios a worker takes at once: small, so that a stopped batch ends within moments.
MAX_CHUNK = 16
#: Scenarios handed to the worker processes at a time: bounds memory, keeps order.
WINDOW = 512
#: --jobs is capped at this many worker processes per core (and at the number of scenarios).
MAX_JOBS_PER_CORE = 4


@dataclass(frozen=True)
class Scenario:
    id: str
    #: Options as given (text), or the reason the row could not be read.
    options: Mapping[str, str]
    line: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One scenario's outputs, already formatted (cheap to pass between processes)."""

    id: str
    ok: bool
    error: str | None
    days_csv: str
    summary: dict[str, Any]
    jsonl: str
    #: Rows of the tidy dispensing file: scenario, drug, product, quantity, unit.
    dispensing_csv: str = ""


# ------------------------------------------------------------------ reading scenarios


def read_scenarios(path: str | os.PathLike[str]) -> Iterator[Scenario]:
    """The scenarios of a CSV or TOML file, one at a time; a file in which two scenarios
    have one id is refused at the second (see :func:`_each_id_once`)."""
    again = None if str(path) == STDIN else (lambda: _scenarios_of(path))
    return _each_id_once(_scenarios_of(path), again, str(path))


def _scenarios_of(path: str | os.PathLike[str]) -> Generator[Scenario, None, None]:
    shown = str(path)

    def fail(line: int | None, reason: str) -> ScenarioFileError:
        return ScenarioFileError(shown, line, reason)

    kind, limit = "scenario file", MAX_SCENARIO_FILE_BYTES
    if Path(path).suffix.lower() == ".toml":  # TOML is parsed whole
        text, _ = read_text(Path(path), kind=kind, max_bytes=limit, fail=fail)
        yield from _toml_scenarios(text, fail)
    else:  # CSV is read a row at a time: memory stays flat in the number of scenarios
        with text_lines(Path(path), kind=kind, max_bytes=limit, fail=fail) as lines:
            yield from _csv_scenarios(lines, fail)


def _each_id_once(
    scenarios: Iterator[Scenario],
    again: Callable[[], Generator[Scenario, None, None]] | None,
    shown: str,
) -> Iterator[Scenario]:
    """The scenarios, refused at the first whose id an earlier scenario has: its rows and
    summary would be written under one id with the other's, and a join on the id would merge
    two scenarios (a fresh user's review). Of a file, what is kept of each id is its hash
    (about 80 bytes an id: the one cost that grows with the file), and an id whose hash was
    seen is confirmed, and the earlier scenario found, by reading the file ``again`` up to
    it; standard input (``again`` None) cannot be read again, so its ids are kept whole."""
    hashes: set[int] = set()
    ids: dict[str, tuple[int, int]] = {}
    for number, scenario in enumerate(scenarios, start=1):
        first: tuple[int, int] | None = None
        if again is None:
            first = ids.setdefault(scenario.id, (number, scenario.line))
            first = None if first[0] == number else first
        elif hash(scenario.id) in hashes:
            with contextlib.closing(again()) as reread:
                earlier = itertools.islice(enumerate(reread, start=1), number - 1)
                first = next(((n, s.line) for n, s in earlier if s.id == scenario.id), None)
        else:
            hashes.add(hash(scenario.id))
        if first is not None:
            where = f"line {first[1]}" if first[1] else f"scenario {first[0]}"
            here = "" if scenario.line else f"scenario {number}: "
            raise ScenarioFileError(
                shown,
                scenario.line or None,
                f"{here}id {scenario.id!r} is also the id of {where}: each scenario needs its "
                "own id",
            )
        yield scenario


def _csv_scenarios(lines: Iterable[str], fail: Fail) -> Iterator[Scenario]:
    header, header_line, records = csv_records(lines, fail)
    unknown = [name for name in header if name not in SCENARIO_COLUMNS and name != "id"]
    if unknown:
        raise fail(
            header_line,
            f"unknown column(s) {', '.join(unknown)}; columns are id and the schedule options "
            f"({', '.join(SCENARIO_COLUMNS)})",
        )
    for required in ("drug", "dose"):
        if required not in header:
            raise fail(header_line, f"needs a {required!r} column")
    scenario_id = None
    for index, (line, record) in enumerate(records):
        given = record.get("id") or ""
        scenario_id = printable(given.strip()) or f"row-{index + 1}"
        if None in record or any(value is None for value in record.values()):
            yield Scenario(scenario_id, {}, line, "the row has a different number of cells")
            continue
        options = {str(k): v.strip() for k, v in record.items() if k != "id" and v and v.strip()}
        yield Scenario(scenario_id, options, line)
    if scenario_id is None:
        raise fail(None, "has a header but no scenarios")


def _toml_scenarios(text: str, fail: Fail) -> Iterator[Scenario]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(None, f"TOML syntax error: {exc}") from exc
    except RecursionError:
        raise fail(None, "arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer longer than Python reads (4,300 digits)
        raise fail(None, f"a number is too long to read: {too_long(exc)}") from None
    tables = document.get("scenario")
    if not isinstance(tables, list) or set(document) != {"scenario"} or not tables:
        raise fail(None, "expected [[scenario]] tables and nothing else")
    if not all(isinstance(table, dict) for table in tables):
        raise fail(None, "expected [[scenario]] tables and nothing else")
    for index, table in enumerate(tables):
        scenario_id = printable(str(table.get("id", f"scenario-{index + 1}")))
        problems = [key for key in table if key not in SCENARIO_COLUMNS and key != "id"]
        if problems:
            yield Scenario(scenario_id, {}, 0, f"unknown key(s) {', '.join(problems)}")
            continue
        options = {}
        for key, value in table.items():
            if key == "id":
                continue
            if isinstance(value, list):
                value = ";".join(str(item) for item in value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            options[key] = str(value)
        yield Scenario(scenario_id, options, 0)


def sweep_scenarios(
    drug: str, doses: str, grid: Mapping[str, str], fixed: Mapping[str, str]
) -> Grid:
    """The cartesian product of comma-separated values: ``doses`` and each ``grid`` option.

    ``drug`` is one drug: a comma list there is refused at once, not once per scenario."""
    if "," in drug:
        raise InvalidRequestError(
            f"sweep one drug at a time, not {shorten(drug)!r}: run 'taper sweep' once per drug, "
            "or write the drugs into a scenario file for 'taper batch' (a drug column)"
        )
    axes = [("dose", _split(doses, "dose"))]
    axes += [(name, _split(values, name)) for name, values in grid.items() if values]
    return Grid({"drug": drug, **fixed}, tuple((name, tuple(v)) for name, v in axes))


@dataclass(frozen=True)
class Grid:
    """The scenarios of a sweep, numbered ``sweep-000001`` on: every combination of the
    values of its axes (the first axis varies slowest), with the fixed options. Its length
    is known before any is planned (for a progress bar's total)."""

    fixed: Mapping[str, str]
    axes: tuple[tuple[str, tuple[str, ...]], ...]

    def __len__(self) -> int:
        return math.prod(len(values) for _, values in self.axes)

    def __iter__(self) -> Iterator[Scenario]:
        names = [name for name, _ in self.axes]
        combinations = itertools.product(*(values for _, values in self.axes))
        for number, values in enumerate(combinations, start=1):
            options = {**self.fixed, **dict(zip(names, values, strict=True))}
            yield Scenario(f"sweep-{number:06d}", options)


def _split(values: str, name: str) -> list[str]:
    parts = [part.strip() for part in values.split(",")]
    if not all(parts):
        raise InvalidRequestError(f"--{name.replace('_', '-')} {values!r} has an empty value")
    return parts


# ------------------------------------------------------------------ running


def _arguments(options: Mapping[str, str]) -> dict[str, Any]:
    """plan_taper's keyword arguments from the text of a scenario."""
    arguments: dict[str, Any] = {}
    for key, value in options.items():
        kind = SCENARIO_COLUMNS[key]
        if kind == "int":
            if not value.isascii() or not value.isdigit() or len(value) > 9:
                raise InvalidRequestError(
                    f"{key} {shorten(value)!r} is not a plausible whole number"
                )
            arguments[key] = int(value)
        elif kind == "bool":
            lowered = value.lower()
            if lowered not in {"true", "false", "yes", "no", "1", "0"}:
                raise InvalidRequestError(f"{key} {value!r} is not yes or no")
            arguments[key] = lowered in {"true", "yes", "1"}
        elif kind == "list":
            arguments[key] = [part.strip() for part in value.split(";") if part.strip()]
        else:
            arguments[key] = value
    drugs, doses = arguments.pop("drug", []), arguments.pop("dose", [])
    if not drugs or len(drugs) != len(doses):
        raise InvalidRequestError("give each drug with its dose (drug and dose columns)")
    arguments["drug"] = list(zip(drugs, doses, strict=True))
    return arguments


def run_scenario(
    scenario: Scenario,
    table: EquivalenceTable,
    *,
    raw_csv: bool = False,
    jsonl: bool = False,
    with_summary: bool = True,
    with_dispensing: bool = True,
    cells: DoseCells | None = None,
) -> Outcome:
    """Plan one scenario and format the output asked for (CSV rows, or a JSON line) and, if
    asked, its summary and dispensing rows; a bad scenario becomes an error outcome.
    ``cells`` keeps the cells of the doses written across the scenarios of a batch."""
    plan, error = plan_scenario(scenario, table)
    if plan is None:
        return _failed(scenario, error)
    days_csv = line = ""
    if jsonl:
        line = dumps_compact_json({"scenario": scenario.id, **plan_document(plan, table)}) + "\n"
    else:
        scenario_id = scenario.id if raw_csv else neutralise_cell(scenario.id)
        days_csv = plan_csv_text(plan, raw=raw_csv, lead=(scenario_id,), cells=cells)
    summary: dict[str, Any] = {}
    if with_summary:
        summary = {**plan_summary(plan), "parameters": dumps_compact_json(dict(scenario.options))}
    dispensing = dispensing_csv(scenario.id, plan, raw=raw_csv) if with_dispensing else ""
    return Outcome(scenario.id, True, None, days_csv, summary, line, dispensing)


def plan_scenario(scenario: Scenario, table: EquivalenceTable) -> tuple[TaperPlan | None, str]:
    """One scenario's plan, or None and what was wrong with the scenario (its error row's
    text, with the line of the scenario file it came from)."""
    where = f"line {scenario.line}: " if scenario.line else ""
    if scenario.error is not None:
        return None, where + scenario.error
    options = tuple(scenario.options.items())
    # Without a start, a plan starts today: the day is part of what decides it.
    first_day = None if "start" in scenario.options else dt.date.today()
    try:
        return _remembered_scenario(options, SameTable(table), first_day), ""
    except TaperError as exc:
        return None, where + str(exc)
    except Exception as exc:  # a bug in taper for this scenario must not cost the others
        # their results: it becomes this scenario's error row
        return None, f"{where}internal error ({type(exc).__name__}: {exc}); report it"


@functools.lru_cache(maxsize=64)
def _remembered_scenario(
    options: tuple[tuple[str, str], ...], table: SameTable, first_day: dt.date | None
) -> TaperPlan:
    """The plan of a scenario's options (text, in the order given), remembered for the last
    64 scenarios (a refusal is not: it is worked out again, and its row names its line): a
    batch that repeats a scenario reads and resolves its options once. The plan itself is
    the engine's (:func:`taper.engine.make_plan` remembers plans by their request)."""
    return plan_taper(**_arguments(dict(options)), table=table.table)


def _failed(scenario: Scenario, error: str) -> Outcome:
    error = shorten_message(error)
    record = {"scenario": scenario.id, "error": error}
    return Outcome(
        scenario.id,
        False,
        error,
        "",
        {"parameters": dumps_compact_json(dict(scenario.options))},
        dumps_compact_json(record) + "\n",
    )


_worker_table: EquivalenceTable | None = None
_worker_cells: DoseCells | None = None


def _initialise(table: EquivalenceTable) -> None:
    global _worker_table, _worker_cells
    _worker_table = table
    _worker_cells = DoseCells()


def _initialise_worker(table: EquivalenceTable, parent: int) -> None:
    """A worker process leaves Ctrl-C, SIGTERM and hang-ups to the main process, which
    stops the pool (each worker finishes its small chunk and exits) and removes its
    temporary files: no traceback from a worker, and no worker dies holding a lock.
    It ends when its parent ``parent`` does, even by ``kill -9`` (see :func:`_die_with`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by _start_pool
    _die_with(parent)
    _initialise(table)


#: ``prctl(PR_SET_PDEATHSIG, ...)`` (Linux): a signal sent to this process when its parent dies.
_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent, where the kernel cannot be asked to tell.
_WATCH_SECONDS = 1.0


def _die_with(parent: int) -> None:
    """End this worker when its parent ends: at once on Linux (the kernel sends SIGKILL,
    which nothing can ignore), else within a second (a thread watching ``os.getppid()``).
    A worker whose parent is already gone ends now. Without it, workers of a batch killed
    with ``kill -9`` stayed alive, ignoring SIGTERM."""
    if not _parent_death_signal():
        import threading

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(_WATCH_SECONDS)
            os._exit(1)

        threading.Thread(target=watch, name="taper-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # died before the signal was asked for
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask Linux for SIGKILL when the parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _start_pool(jobs: int, table: EquivalenceTable) -> Any:
    """The worker processes (a ``concurrent.futures`` pool, which copes with a worker that
    dies, where ``multiprocessing.Pool`` can deadlock on a lock the dead worker held), made
    with the stop signals blocked so that none arriving meanwhile is lost or run twice."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_initialise_worker, initargs=(table, os.getpid())
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _work(item: tuple[Scenario, bool, bool, bool, bool]) -> Outcome:
    assert _worker_table is not None, "set by _initialise in every worker"
    scenario, raw_csv, jsonl, with_summary, with_dispensing = item
    return run_scenario(
        scenario,
        _worker_table,
        raw_csv=raw_csv,
        jsonl=jsonl,
        with_summary=with_summary,
        with_dispensing=with_dispensing,
        cells=_worker_cells,
    )


def run_batch(
    scenarios: Iterable[Scenario],
    table: EquivalenceTable,
    *,
    jobs: int | None = None,
    raw_csv: bool = False,
    jsonl: bool = False,
    with_summary: bool = True,
    with_dispensing: bool = True,
    on_outcome: Callable[[Outcome], None],
) -> None:
    """Run every scenario, calling ``on_outcome`` in scenario order.

    With more than one job, scenarios go to worker processes a window at a time, so that
    memory stays flat and the order of outputs never depends on the number of jobs.
    """
    if jobs is not None and jobs < 1:
        raise InvalidRequestError("{jobs} must be at least 1", parameters={"jobs": jobs})
    cores = os.cpu_count() or 1
    items = ((scenario, raw_csv, jsonl, with_summary, with_dispensing) for scenario in scenarios)
    first = list(itertools.islice(items, WINDOW))
    # never more workers than scenarios, nor than a few per core
    jobs = min(jobs or cores, MAX_JOBS_PER_CORE * cores, max(1, len(first)))
    if jobs == 1:
        _initialise(table)
        for item in itertools.chain(first, items):
            on_outcome(_work(item))
        return
    pool = _start_pool(jobs, table)
    try:
        while window := first or list(itertools.islice(items, WINDOW)):
            first = []
            chunk = max(1, min(MAX_CHUNK, len(window) // (4 * jobs)))
            for outcome in pool.map(_work, window, chunksize=chunk):
                on_outcome(outcome)
    except BaseException:
        # Stopped by a signal, or a bug: cancel what is queued; the workers finish the chunk
        # they hold (or have died of the signal) and exit, and the pool never waits on them.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def write_batch(
    scenarios: Iterable[Scenario],
    table: EquivalenceTable,
    output: str | os.PathLike[str],
    *,
    summary: str | os.PathLike[str] | None = None,
    dispensing: str | os.PathLike[str] | None = None,
    jsonl: bool = False,
    what: str,
    jobs: int | None = None,
    raw_csv: bool = False,
    force: bool = False,
    inputs: Sequence[str | os.PathLike[str]] = (),
    on_progress: Callable[[], None] | None = None,
) -> int:
    """Plan every scenario into ``output`` (day-level CSV, or JSON Lines) and, if asked, one
    summary row per scenario into ``summary`` and the quantities to dispense, one row per
    scenario and product, into ``dispensing``; the files appear only when all is written.

    Every path is checked before any work (see :func:`taper.files.check_outputs`): no two
    may be the same file, nor one of ``inputs`` (the scenario file) or the table.

    Returns the number of scenarios that failed.
    """
    if any(path is not None and is_stdout(path) for path in (summary, dispensing)):
        raise InvalidRequestError(
            "only {output} can be standard output ('-')", parameters={"output": None}
        )
    named = {
        "output": None if is_stdout(output) else output,
        "summary": summary,
        "dispensing": dispensing,
    }
    check_outputs(named, force=force, inputs=[*inputs, table_file(table)])
    failed = 0
    detail = f"{what}; each scenario's parameters are in the summary and the JSON Lines output"
    with contextlib.ExitStack() as stack:
        given = {option: path for option, path in named.items() if path is not None}
        opened = stack.enter_context(atomic_text_streams(list(given.values()), force=force))
        streams = dict(zip(given, opened, strict=True))
        out = streams.get("output", sys.stdout)
        summary_stream = streams.get("summary")
        dispensing_stream = streams.get("dispensing")
        if not jsonl:
            out.write(provenance_lines(table, detail))
            write_row(out, ("scenario", *CSV_COLUMNS))
        if summary_stream is not None:
            summary_stream.write(provenance_lines(table, detail))
            write_row(summary_stream, SUMMARY_COLUMNS)
        if dispensing_stream is not None:
            dispensing_stream.write(provenance_lines(table, detail))
            write_row(dispensing_stream, DISPENSING_COLUMNS)

        def take(outcome: Outcome) -> None:
            nonlocal failed
            failed += not outcome.ok
            out.write(outcome.jsonl if jsonl else outcome.days_csv)
            if summary_stream is not None:
                write_row(
                    summary_stream,
                    summary_row(outcome.id, outcome.error, outcome.summary, raw=raw_csv),
                )
            if dispensing_stream is not None:
                dispensing_stream.write(outcome.dispensing_csv)
            if on_progress is not None:
                on_progress()

        run_batch(
            scenarios,
            table,
            jobs=jobs,
            raw_csv=raw_csv,
            jsonl=jsonl,
            with_summary=summary_stream is not None,
            with_dispensing=dispensing_stream is not None,
            on_outcome=take,
        )
    return failed


def loads_jsonl(text: str) -> list[dict[str, Any]]:
    """Parse JSON Lines (for tests and readers of the output)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------ the Python API

#: The first day of every plan of a sweep unless another is given (as ``taper sweep``), so
#: that a sweep gives the same plans whenever it is run.
SWEEP_START = "2027-01-04"


@dataclass(frozen=True)
class BatchFrames:
    """What :func:`batch` and :func:`sweep` return: typed pandas DataFrames (see
    :mod:`taper.frames`), the same as :func:`taper.read_plans` gives for the files that
    ``taper batch`` writes.

    ``days`` has one row per scenario, day, drug and dose time; ``summary`` one row per
    scenario (``status`` is ``ok`` or ``error``, ``error`` says what was wrong, and
    ``parameters`` holds the scenario's options as JSON); ``dispensing`` one row per scenario
    and product to dispense."""

    days: Any
    summary: Any
    dispensing: Any

    @property
    def failed(self) -> int:
        """The number of scenarios that have an error row instead of a plan."""
        return int((self.summary["status"] == "error").sum())


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario of :func:`batch` or :func:`sweep` with ``plans=True``: its id, and its
    plan or what was wrong with it (the text of its error row)."""

    id: str
    plan: TaperPlan | None
    error: str | None


def _is_frame(value: object) -> bool:
    return hasattr(value, "itertuples") and hasattr(value, "columns")


def _is_array(value: object) -> bool:
    """A numpy array, a pandas Series or Index: one axis of values."""
    return getattr(value, "ndim", 0) == 1 and hasattr(value, "tolist")


def _items(value: object) -> list[object]:
    """The values of a list, tuple, numpy array or pandas Series; else the one value."""
    if isinstance(value, list | tuple | range) or _is_array(value):
        return list(cast(Iterable[object], value))
    return [value]


def _drug_text(value: object) -> str:
    from taper.values import text_value

    names = _items(value)
    if not names:
        raise ParameterError("drug", value, "a drug name or a list of drug names")
    return ";".join(text_value(name, "drug") for name in names)


def _dose_text(value: object) -> str:
    from taper.values import regimen_text

    doses = _items(value)
    if not doses:
        raise ParameterError("dose", value, "a dose or a list of doses (one per drug)")
    return ";".join(regimen_text(dose, "dose") for dose in doses)


def option_text(name: str, value: object) -> str | None:
    """A scenario's value (text or a Python value, see :mod:`taper.values`) as the text of a
    scenario file's cell, checked against the option's kind; None when it is missing (None,
    NaN, ``pandas.NA``, ``NaT`` or blank), as an empty cell is."""
    from taper.options import OPTION_VALUES
    from taper.values import is_missing, option_value

    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value.strip()  # as a scenario file's cell: the same parser reads it
    if name == "drug":
        return _drug_text(value)
    if name == "dose":
        return _dose_text(value)
    if _is_array(value):
        value = value.tolist()  # type: ignore[attr-defined]
    converted = option_value(OPTION_VALUES[name], value, name)
    if isinstance(converted, bool):
        return "true" if converted else "false"
    if isinstance(converted, tuple):
        return ";".join(converted)
    return str(converted)


def _given_options(options: object) -> dict[str, object]:
    """The fields of a ScheduleOptions that differ from their defaults."""
    import dataclasses

    return {
        field.name: getattr(options, field.name)
        for field in dataclasses.fields(options)  # type: ignore[arg-type]
        if getattr(options, field.name) != field.default
    }


def _unknown(names: Iterable[object]) -> list[str]:
    return [str(name) for name in names if name not in SCENARIO_COLUMNS and name != "id"]


def _scenario(number: int, item: object, common: Mapping[str, object]) -> Scenario:
    """One scenario from a row (a mapping), a ScheduleOptions or ``(drug, dose, options)``,
    with the options every scenario shares; a value that cannot be read makes an error row,
    as a bad row of a scenario file does."""
    from taper.options import ScheduleOptions
    from taper.values import is_missing

    values: dict[Any, object] = dict(common)
    if isinstance(item, ScheduleOptions):
        values |= _given_options(item)
    elif isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], ScheduleOptions):
        values |= {"drug": item[0], "dose": item[1], **_given_options(item[2])}
    elif isinstance(item, Mapping):
        values |= {key: value for key, value in item.items() if not is_missing(value)}
    else:
        shown = shorten(repr(item))
        reason = f"a scenario is a dict, a ScheduleOptions or (drug, dose, options), not {shown}"
        return Scenario(f"row-{number}", {}, 0, reason)
    given_id = values.pop("id", None)
    scenario_id = f"row-{number}" if is_missing(given_id) else printable(str(given_id).strip())
    unknown = _unknown(values)
    if unknown:
        return Scenario(scenario_id, {}, 0, f"unknown option(s) {', '.join(unknown)}")
    try:
        options = {
            str(key): text
            for key, value in values.items()
            if (text := option_text(str(key), value)) is not None
        }
    except TaperError as exc:
        return Scenario(scenario_id, {}, 0, str(exc))
    return Scenario(scenario_id, options, 0)


def scenarios_of(scenarios: object, common: Mapping[str, object]) -> Iterator[Scenario]:
    """The scenarios :func:`batch` takes: a pandas DataFrame (a column per option, and an
    ``id`` column), an iterable of dicts, of ``ScheduleOptions`` or of ``(drug, dose,
    ScheduleOptions)``, or the path of a scenario file; ``common`` options apply to every
    scenario that does not set them. Unknown columns or options are refused at once."""
    unknown = _unknown(common)
    if unknown:
        raise InvalidRequestError(
            f"unknown option(s) {', '.join(unknown)}; options are {', '.join(SCENARIO_COLUMNS)}"
        )
    if isinstance(scenarios, str | os.PathLike):
        return read_scenarios(scenarios)
    if _is_frame(scenarios):
        columns = list(scenarios.columns)  # type: ignore[attr-defined]
        repeated = sorted({str(c) for c in columns if columns.count(c) > 1})
        if repeated:  # one would win without a word (a scenario file is refused the same way)
            raise InvalidRequestError(
                f"scenarios has column(s) {', '.join(repeated)} more than once: keep one of each"
            )
        unknown = _unknown(columns)
        if unknown:
            raise InvalidRequestError(
                f"scenarios has unknown column(s) {', '.join(unknown)}; columns are id and "
                f"the schedule options ({', '.join(SCENARIO_COLUMNS)})"
            )
        rows = scenarios.itertuples(index=False, name=None)  # type: ignore[attr-defined]
        items: Iterable[object] = (dict(zip(columns, row, strict=True)) for row in rows)
    elif isinstance(scenarios, Iterable) and not isinstance(scenarios, Mapping | bytes):
        items = scenarios
    else:
        raise ParameterError(
            "scenarios",
            scenarios,
            "a DataFrame, a list of dicts or of ScheduleOptions, or a scenario file's path",
        )
    return (_scenario(number, item, common) for number, item in enumerate(items, start=1))


def _run(
    scenarios: Iterable[Scenario], table: EquivalenceTable, plans: object, jobs: object
) -> BatchFrames | Iterator[ScenarioPlan]:
    from taper.values import bool_value, int_value

    if bool_value(plans, "plans"):
        return (
            ScenarioPlan(scenario.id, plan, error or None)
            for scenario in scenarios
            for plan, error in [plan_scenario(scenario, table)]
        )
    jobs = int_value(jobs, "jobs")
    if jobs < 1:
        raise ParameterError("jobs", jobs, "at least 1")
    return _frames(scenarios, table, jobs)


def _frames(scenarios: Iterable[Scenario], table: EquivalenceTable, jobs: int) -> BatchFrames:
    from taper.frames import csv_frame, provenance_attrs, typed_frame

    days: list[str] = []
    summaries: list[list[str]] = []
    dispensing: list[str] = []

    def take(outcome: Outcome) -> None:
        days.append(outcome.days_csv)
        summaries.append(summary_row(outcome.id, outcome.error, outcome.summary, raw=True))
        dispensing.append(outcome.dispensing_csv)

    run_batch(scenarios, table, jobs=jobs, raw_csv=True, on_outcome=take)
    frames = BatchFrames(
        csv_frame(("scenario", *CSV_COLUMNS), "".join(days)),
        typed_frame(summaries, SUMMARY_COLUMNS),
        csv_frame(DISPENSING_COLUMNS, "".join(dispensing)),
    )
    for frame in (frames.days, frames.summary, frames.dispensing):
        frame.attrs = provenance_attrs(table)
    return frames


@overload
def batch(
    scenarios: object,
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = ...,
    plans: Literal[False] = ...,
    jobs: int = ...,
    **common: object,
) -> BatchFrames: ...


@overload
def batch(
    scenarios: object,
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = ...,
    plans: Literal[True],
    jobs: int = ...,
    **common: object,
) -> Iterator[ScenarioPlan]: ...


def batch(
    scenarios: object,
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = None,
    plans: bool = False,
    jobs: int = 1,
    **common: object,
) -> BatchFrames | Iterator[ScenarioPlan]:
    """Plan many scenarios: the library's ``taper batch``, with the same engine and rows.

    ``scenarios`` is a pandas DataFrame with a column per option (``drug``, ``dose``,
    ``rate``, ...; an ``id`` column names the scenarios, else they are ``row-1``, ...), a
    list (or any iterable) of dicts, of :class:`~taper.options.ScheduleOptions` (with
    ``drug=`` and ``dose=`` among ``common``) or of ``(drug, dose, ScheduleOptions)``, or the
    path of a scenario file. Values are text, as in a scenario file, or Python values (see
    :mod:`taper.values`: numpy and pandas values too); a missing value (None, NaN, ``NA``,
    ``NaT``) is an option not given. ``common`` options apply to every scenario that leaves
    them out. A scenario that cannot be planned does not stop the others: its summary row
    (``status`` ``error``) says why, in the words of ``taper batch``.

    Returns :class:`BatchFrames` (``.days``, ``.summary``, ``.dispensing``: typed
    DataFrames equal to :func:`taper.read_plans` of the files ``taper batch`` writes), or
    with ``plans=True`` an iterator of :class:`ScenarioPlan` (planned one at a time, as the
    iterator is read). ``jobs`` worker processes plan the frames (default 1: one process;
    on a cluster, see ``docs/python.md``).

    >>> import taper
    >>> result = taper.batch([{"id": "a", "drug": "clonazepam", "dose": 1},
    ...                       {"id": "b", "drug": "clonazepam", "dose": "lots"}],
    ...                      start="2027-01-04")
    >>> result.summary["status"].tolist()
    ['ok', 'error']
    >>> result.summary["error"][1].startswith("invalid dose 'lots'")
    True
    """
    the_table = table_of(table)
    return _run(scenarios_of(scenarios, common), the_table, plans, jobs)


@overload
def sweep(
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = ...,
    plans: Literal[False] = ...,
    jobs: int = ...,
    **grid: object,
) -> BatchFrames: ...


@overload
def sweep(
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = ...,
    plans: Literal[True],
    jobs: int = ...,
    **grid: object,
) -> Iterator[ScenarioPlan]: ...


def sweep(
    *,
    table: EquivalenceTable | str | os.PathLike[str] | None = None,
    plans: bool = False,
    jobs: int = 1,
    **grid: object,
) -> BatchFrames | Iterator[ScenarioPlan]:
    """Plan every combination of the values given: the library's ``taper sweep``.

    Each keyword is an option; a list (or tuple, range, numpy array or pandas Series) is an
    axis of values to try, anything else a value every scenario shares. ``drug`` and
    ``dose`` are needed; a list of drugs is an axis too (one drug per scenario). For
    ``holds`` and ``products``, whose one value is a list, an axis is a list of lists. The
    scenarios are numbered ``sweep-000001`` on, the ``drug`` and ``dose`` axes varying
    slowest then the others in the order given, as ``taper sweep`` numbers them; the plans
    start on 2027-01-04 unless ``start`` is given. Returns what :func:`batch` returns.

    >>> import taper
    >>> result = taper.sweep(drug="clonazepam", dose=[0.5, 1], rate=[10, 25])
    >>> result.summary["scenario"].tolist()
    ['sweep-000001', 'sweep-000002', 'sweep-000003', 'sweep-000004']
    >>> result.summary[["dose_mg", "rate_percent"]].values.tolist()
    [[0.5, 10.0], [0.5, 25.0], [1.0, 10.0], [1.0, 25.0]]
    """
    from taper.options import OPTION_VALUES
    from taper.values import Value

    the_table = table_of(table)
    unknown = [name for name in grid if name not in SCENARIO_COLUMNS]
    if unknown:
        raise InvalidRequestError(
            f"unknown option(s) {', '.join(unknown)}; options are {', '.join(SCENARIO_COLUMNS)}"
        )
    for needed in ("drug", "dose"):
        if needed not in grid:
            raise InvalidRequestError(f"give the {needed} (drug= and dose=) to sweep")
    grid = {"start": SWEEP_START, **grid}
    order = ["drug", "dose", *(name for name in grid if name not in {"drug", "dose"})]
    fixed: dict[str, str] = {}
    axes: list[tuple[str, tuple[str, ...]]] = []
    for name in order:
        value = grid[name]
        listed = isinstance(value, list | tuple | range) or _is_array(value)
        values = _items(value)
        is_list_option = name in OPTION_VALUES and OPTION_VALUES[name] is Value.LIST
        if is_list_option and not all(isinstance(v, list | tuple) for v in values):
            listed, values = False, [value]  # one list of texts: one value
        texts = []
        for item in values:
            _refuse_comma_list(name, item)
            text = option_text(name, item)
            if text is None:
                raise ParameterError(name, item, "a value (not a missing one)")
            texts.append(text)
        if not texts:
            raise ParameterError(name, value, "at least one value")
        if listed:
            axes.append((name, tuple(texts)))
        else:
            fixed[name] = texts[0]
    return _run(Grid(fixed, tuple(axes)), the_table, plans, jobs)


def _refuse_comma_list(name: str, value: object) -> None:
    """A sweep's values are a list in Python: ``"0.5mg,1mg"`` (the command line's way) is
    refused at once, not planned as one value that every scenario then fails on. The
    options whose one value has commas (``steps``, doses per dose time) keep them."""
    if not isinstance(value, str) or "," not in value or name == "steps":
        return
    if name == "dose" and "=" in value:
        return
    items = [part.strip() for part in value.split(",")]
    raise ParameterError(name, value, f"one value; to sweep several, give a list: {items!r}")


class _CallableModule(types.ModuleType):
    """``taper.batch`` is both this module and its function :func:`batch`: calling the
    module plans a batch. (A package's submodule and a function of the same name cannot
    both be its attribute: importing ``taper.batch`` sets the attribute to the module.)"""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return batch(*args, **kwargs)

    @property
    def __signature__(self) -> Any:
        """The function's signature, for ``help()``, ``inspect`` and notebooks' hints."""
        import inspect

        return inspect.signature(batch)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled by name, as a module is (a function sent to a Dask worker refers to it)."""
        import importlib

        return importlib.import_module, (self.__name__,)


sys.modules[__name__].__class__ = _CallableModule
