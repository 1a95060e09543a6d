"""Many plans at once: scenario files, parameter sweeps, streamed outputs, several cores.

A *scenario* is an id and the options of ``taper schedule`` (the keyword arguments of
:func:`taper.plan_taper`, as text). Scenario files are CSV (a column per option, an ``id``
column; several drugs or holds or products separated by ``;``) or TOML (``[[scenario]]``
tables). A bad scenario does not stop the others: its summary row says what was wrong.

Outputs stream to disk in scenario order whatever the number of processes, so memory stays
flat however many scenarios there are, and the same input gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from taper.errors import DataFileError, InvalidRequestError, TaperError
from taper.textfiles import Fail, csv_records, read_text

#: Options a scenario may set, with their type: text, whole number, yes/no, or a list.
OPTIONS: dict[str, str] = {
    "drug": "list",
    "dose": "list",
    "times": "int",
    "method": "text",
    "rate": "text",
    "every": "text",
    "step": "text",
    "steps": "text",
    "slow_below": "text",
    "slow_rate": "text",
    "final": "text",
    "holds": "list",
    "order": "text",
    "start": "text",
    "until": "text",
    "duration": "text",
    "region": "text",
    "products": "list",
    "source": "text",
    "ed50": "text",
    "emax": "text",
    "occupancy_step": "text",
    "supply": "text",
    "switch_to": "text",
    "crossover": "text",
    "stage": "text",
    "stabilize": "text",
    "part": "text",
    "used_for": "text",
    "days_per_week": "int",
    "age": "int",
    "seizures": "bool",
    "with_opioids": "bool",
    "with_alcohol": "bool",
    "liver_impairment": "bool",
    "cautious": "bool",
    "allow_high_dose": "bool",
}
MAX_SCENARIO_FILE_BYTES = 50 * 1024 * 1024
#: Scenarios handed to the worker processes at a time: bounds memory, keeps order.
WINDOW = 512


class ScenarioFileError(DataFileError):
    """A scenario file that cannot be read at all."""


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


# ------------------------------------------------------------------ reading scenarios


def read_scenarios(path: str | os.PathLike[str]) -> Iterator[Scenario]:
    """The scenarios of a CSV or TOML file, one at a time."""
    shown = str(path)

    def fail(line: int | None, reason: str) -> ScenarioFileError:
        return ScenarioFileError(shown, line, reason)

    text, _ = read_text(
        Path(path), kind="scenario file", max_bytes=MAX_SCENARIO_FILE_BYTES, fail=fail
    )
    if Path(path).suffix.lower() == ".toml":
        yield from _toml_scenarios(text, fail)
    else:
        yield from _csv_scenarios(text, fail)


def _csv_scenarios(text: str, fail: Fail) -> Iterator[Scenario]:
    header, header_line, records = csv_records(text, fail)
    unknown = [name for name in header if name not in OPTIONS and name != "id"]
    if unknown:
        raise fail(
            header_line,
            f"unknown column(s) {', '.join(unknown)}; columns are id and the schedule options "
            f"({', '.join(OPTIONS)})",
        )
    for required in ("drug", "dose"):
        if required not in header:
            raise fail(header_line, f"needs a {required!r} column")
    scenario_id = None
    for index, (line, record) in enumerate(records):
        given = record.get("id") or ""
        scenario_id = given.strip() or f"row-{index + 1}"
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
    tables = document.get("scenario")
    if not isinstance(tables, list) or set(document) != {"scenario"} or not tables:
        raise fail(None, "expected [[scenario]] tables and nothing else")
    for index, table in enumerate(tables):
        scenario_id = str(table.get("id", f"scenario-{index + 1}"))
        problems = [key for key in table if key not in OPTIONS and key != "id"]
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
        kind = OPTIONS[key]
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
    scenario: Scenario, table: Any, *, raw_csv: bool = False, jsonl: bool = False
) -> Outcome:
    """Plan one scenario and format the output asked for (CSV rows, or a JSON line) and its
    summary; a bad scenario becomes an error outcome."""
    from taper.export import dumps_compact_json, plan_csv_rows, plan_document, plan_summary
    from taper.schedule import plan_taper

    if scenario.error is not None:
        return _failed(scenario, scenario.error)
    try:
        plan = plan_taper(**_arguments(scenario.options), table=table)
    except TaperError as exc:
        return _failed(scenario, str(exc))
    days_csv = line = ""
    if jsonl:
        line = dumps_compact_json({"scenario": scenario.id, **plan_document(plan, table)}) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows((scenario.id, *row) for row in plan_csv_rows(plan, raw=raw_csv))
        days_csv = buffer.getvalue()
    summary = {**plan_summary(plan), "parameters": dumps_compact_json(dict(scenario.options))}
    return Outcome(scenario.id, True, None, days_csv, summary, line)


def _failed(scenario: Scenario, error: str) -> Outcome:
    from taper.export import dumps_compact_json

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


_worker_table: Any = None


def _initialise(table: Any) -> None:
    global _worker_table
    _worker_table = table


def _work(item: tuple[Scenario, bool, bool]) -> Outcome:
    return run_scenario(item[0], _worker_table, raw_csv=item[1], jsonl=item[2])


def run_batch(
    scenarios: Iterable[Scenario],
    table: Any,
    *,
    jobs: int | None = None,
    raw_csv: bool = False,
    jsonl: bool = False,
    on_outcome: Callable[[Outcome], None],
) -> None:
    """Run every scenario, calling ``on_outcome`` in scenario order.

    With more than one job, scenarios go to worker processes a window at a time, so that
    memory stays flat and the order of outputs never depends on the number of jobs.
    """
    if jobs is not None and jobs < 1:
        raise InvalidRequestError("--jobs must be at least 1")
    jobs = jobs or os.cpu_count() or 1
    items = ((scenario, raw_csv, jsonl) for scenario in scenarios)
    if jobs == 1:
        _initialise(table)
        for item in items:
            on_outcome(_work(item))
        return
    import multiprocessing

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(jobs, initializer=_initialise, initargs=(table,)) as pool:
        while window := list(itertools.islice(items, WINDOW)):
            for outcome in pool.imap(_work, window, chunksize=max(1, len(window) // (4 * jobs))):
                on_outcome(outcome)


SUMMARY_COLUMNS = (
    "scenario",
    "status",
    "error",
    "drug",
    "switched_from",
    "source",
    "start_date",
    "start_date_is_today",
    "end_date",
    "duration_days",
    "steps",
    "reductions",
    "largest_14_day_reduction_percent",
    "first_14_day_reduction_percent",
    "exceeds_guideline_ceiling",
    "starts_faster_than_guideline",
    "forced_by_products",
    "stop_from_mg",
    "dispensing",
    "warnings",
    "parameters",
)


def summary_row(outcome: Outcome) -> list[str]:
    record = {
        "scenario": outcome.id,
        "status": "ok" if outcome.ok else "error",
        "error": outcome.error or "",
        **outcome.summary,
    }
    return [_cell(record.get(column, "")) for column in SUMMARY_COLUMNS]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def provenance_lines(table: Any, what: str) -> str:
    from taper import __version__

    return (
        f"# taper {__version__}; table {table.path} sha256 {table.sha256}\n"
        f"# {what}; each scenario's parameters are in the summary and the JSON Lines output\n"
    )


def write_row(stream: IO[str], row: Sequence[str]) -> None:
    """One CSV row (a header or a summary row)."""
    csv.writer(stream, lineterminator="\n").writerow(row)


def loads_jsonl(text: str) -> list[dict[str, Any]]:
    """Parse JSON Lines (for tests and readers of the output)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
