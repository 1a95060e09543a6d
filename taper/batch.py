"""Many plans at once: scenario files, parameter sweeps, streamed outputs, several cores.

A *scenario* is an id and the options of ``taper schedule`` (the keyword arguments of
:func:`taper.plan_taper`, as text). Scenario files are CSV (a column per option, an ``id``
column; several drugs or holds or products separated by ``;``) or TOML (``[[scenario]]``
tables). A bad scenario does not stop the others: its summary row says what was wrong.

Outputs stream to disk in scenario order whatever the number of processes, so memory stays
flat however many scenarios there are, and the same input gives the same bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from taper.errors import InvalidRequestError, ScenarioFileError, TaperError
from taper.files import (
    STOP_SIGNALS,
    Fail,
    atomic_text_streams,
    check_outputs,
    csv_records,
    read_text,
    text_lines,
)
from taper.formatting import printable
from taper.options import OPTION_KINDS
from taper.outputs import is_stdout
from taper.records import dumps_compact_json, plan_document, plan_summary
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, table_file

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
    """The scenarios of a CSV or TOML file, one at a time."""
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
) -> Iterator[Scenario]:
    """The cartesian product of comma-separated values: ``doses`` and each ``grid`` option."""
    axes = [("dose", _split(doses, "dose"))]
    axes += [(name, _split(values, name)) for name, values in grid.items() if values]
    names = [name for name, _ in axes]
    for number, values in enumerate(itertools.product(*(v for _, v in axes)), start=1):
        options = {"drug": drug, **fixed, **dict(zip(names, values, strict=True))}
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
            if not value.isascii() or not value.isdigit():
                raise InvalidRequestError(f"{key} {value!r} is not a whole number")
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
    if scenario.error is not None:
        return _failed(scenario, scenario.error)
    try:
        plan = plan_taper(**_arguments(scenario.options), table=table)
    except TaperError as exc:
        return _failed(scenario, str(exc))
    except Exception as exc:  # a bug in taper for this scenario must not cost the others
        # their results: it becomes this scenario's error row
        return _failed(scenario, f"internal error ({type(exc).__name__}: {exc}); report it")
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


def _failed(scenario: Scenario, error: str) -> Outcome:
    where = f"line {scenario.line}: " if scenario.line else ""
    record = {"scenario": scenario.id, "error": where + error}
    return Outcome(
        scenario.id,
        False,
        where + error,
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


def _initialise_worker(table: EquivalenceTable) -> None:
    """A worker process leaves Ctrl-C, SIGTERM and hang-ups to the main process, which
    stops the pool (each worker finishes its small chunk and exits) and removes its
    temporary files: no traceback from a worker, and no worker dies holding a lock."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by _start_pool
    _initialise(table)


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
            jobs, mp_context=context, initializer=_initialise_worker, initargs=(table,)
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
        raise InvalidRequestError("--jobs must be at least 1")
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
        raise InvalidRequestError("only --output can be standard output (-o -)")
    named = {
        "--output": None if is_stdout(output) else output,
        "--summary": summary,
        "--dispensing": dispensing,
    }
    check_outputs(named, force=force, inputs=[*inputs, table_file(table)])
    failed = 0
    detail = f"{what}; each scenario's parameters are in the summary and the JSON Lines output"
    with contextlib.ExitStack() as stack:
        given = {option: path for option, path in named.items() if path is not None}
        opened = stack.enter_context(atomic_text_streams(list(given.values()), force=force))
        streams = dict(zip(given, opened, strict=True))
        out = streams.get("--output", sys.stdout)
        summary_stream = streams.get("--summary")
        dispensing_stream = streams.get("--dispensing")
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
