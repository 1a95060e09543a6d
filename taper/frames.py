"""pandas DataFrames of plans, typed for analysis, and a reader for what taper wrote.

:meth:`taper.TaperPlan.to_dataframe` and :func:`read_plans` give the same frame for the same
plan: day-level rows with numbers as numbers (``float64`` for mg and percent, nullable
integers for days and steps), dates as ``datetime64[s]``, categories for the columns that name
a phase, drug, dose time, scenario or status (phases and dose times ordered as in a plan and a
day, scenarios in their order), and the provenance (tool, table and its
SHA-256, source, parameters) in ``df.attrs``. :func:`read_plans` reads the day-level CSV of
``taper schedule``, ``taper batch`` and ``taper sweep``, their JSON Lines, and the batch
summary, typed by the same rules.

Floats are for analysis: the exact decimals are in the CSV and JSON outputs (every number
there has at most three decimals, which a float carries to the same printed value). pandas
is not a dependency of taper: install it to use this module.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from taper.csvout import CSV_COLUMNS, csv_line, plan_csv_rows
from taper.errors import DataFileError, require_extra, shorten
from taper.files import read_text
from taper.guardrails import PatientFactors
from taper.options import TaperRequest
from taper.params import SLOTS
from taper.plan import Plan
from taper.records import dumps_compact_json, loads_json, provenance, request_record
from taper.table import EquivalenceTable
from taper.values import path_value

#: Columns that are categories; columns ending in ``_mg``, ``_percent`` or ``_ml`` (or one of
#: ``NUMBER_COLUMNS``) are floats; ``INTEGER_COLUMNS``, columns ending in ``_days`` and the
#: counts of warning kinds are nullable integers; ``date`` and columns ending in ``_date`` are
#: dates; columns whose text is only ``true``/``false`` are booleans.
CATEGORY_COLUMNS = frozenset(
    {"phase", "drug", "slot", "scenario", "status", "source", "switched_from", "method",
     "order", "region", "crossover", "switch_to", "end", "finish_on", "unit", "product"}
)  # fmt: skip
NUMBER_COLUMNS = frozenset({"fold", "emax_percent", "occupancy_step", "quantity"})
INTEGER_COLUMNS = frozenset(
    {"day", "step", "steps", "reductions", "times", "age", "days_per_week", "warnings",
     "dispensed_tablets", "dispensed_capsules"}
)  # fmt: skip
#: Columns of booleans (nullable): the summary's yes/no checks and the request's switches,
#: so that a frame without rows (Dask's meta) or with only error rows is typed as a full one.
BOOLEAN_COLUMNS = frozenset(
    {"start_date_is_today", "exceeds_guideline_ceiling", "starts_faster_than_guideline",
     "forced_by_products"}
    | {f.name for f in dataclasses.fields(TaperRequest) if f.type == "bool"}
    | {f.name for f in dataclasses.fields(PatientFactors) if f.type == "bool"}
)  # fmt: skip
#: Columns of text although their names end like numbers' (lists, joined by "; ").
TEXT_COLUMNS = frozenset({"steps_mg"})
#: Categories with a natural order: phases in the order of a plan, dose times in the day's.
ORDERED = {
    "phase": ("crossover", "stabilization", "taper", "hold", "stop"),
    "slot": SLOTS,
    "status": ("ok", "error"),  # a batch summary's: both always, so that frames concatenate
}
#: Largest output file read back.
MAX_PLANS_FILE_BYTES = 2 * 1024 * 1024 * 1024
#: The most columns a file read back may have (taper's widest output, the batch summary, has
#: under 100); pandas takes about 2 ms a column (40,000 columns took minutes).
MAX_COLUMNS = 1000

_PROVENANCE = re.compile(r"# taper (?P<tool>\S+); table (?P<table>.*) sha256 (?P<sha256>\S*)")


def _pandas() -> Any:
    require_extra("pandas", "a DataFrame", "pandas")
    import pandas

    return pandas


def typed_frame(rows: Iterable[Sequence[object]], columns: Sequence[str]) -> Any:
    """A DataFrame of cells written as text, each column converted by its name (see above)."""
    pandas = _pandas()
    frame = pandas.DataFrame(
        [["" if cell is None else str(cell) for cell in row] for row in rows],
        columns=list(columns),
        dtype=object,
    )
    return _typed(pandas, frame)


def _typed(pandas: Any, frame: Any) -> Any:
    for column in frame.columns:
        frame[column] = _convert(pandas, str(column), frame[column].astype(object))
    return frame


def _convert(pandas: Any, column: str, values: Any) -> Any:
    blank = values == ""
    present = values[~blank]
    if column in ORDERED:
        known = list(ORDERED[column])  # all of them, so that frames concatenate cleanly
        others = sorted(set(present) - set(known))
        return pandas.Categorical(values.where(~blank, None), [*known, *others], ordered=True)
    if column == "scenario":  # in the order of the scenarios, as groupby then shows them
        return pandas.Categorical(values.where(~blank, None), list(dict.fromkeys(present)))
    if column in CATEGORY_COLUMNS:
        return values.where(~blank, None).astype("category")
    if column == "date" or column.endswith("_date") or column in {"start", "until"}:
        # one unit whatever the values (pandas infers one per column): days, years 1 to 9999
        dates = pandas.to_datetime(values.where(~blank, None), format="%Y-%m-%d")
        return dates.astype("datetime64[s]")
    if column in TEXT_COLUMNS:
        return values.astype("string")
    if column in INTEGER_COLUMNS or column.startswith("warnings_") or column.endswith("_days"):
        return pandas.to_numeric(values.where(~blank, None)).astype("Int64")
    if (
        column.endswith(("_mg", "_mg_low", "_mg_high", "_percent", "_ml"))
        or column in NUMBER_COLUMNS
    ):
        return pandas.to_numeric(values.where(~blank, None)).astype("float64")
    if column in BOOLEAN_COLUMNS or (len(present) and present.isin(["true", "false"]).all()):
        return values.map({"true": True, "false": False, "": None}).astype("boolean")
    return values.astype("string")


def csv_frame(columns: Sequence[str], rows: str) -> Any:
    """A DataFrame of CSV rows without their header (as a batch writes them), read and typed
    as :func:`read_plans` reads a file."""
    pandas = _pandas()
    text = csv_line(columns) + rows
    body = pandas.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return _typed(pandas, body)


def provenance_attrs(table: EquivalenceTable) -> dict[str, Any]:
    """The provenance of frames made with ``table``: the ``attrs`` of :func:`read_plans`."""
    origin = provenance(table)
    return {
        "tool": f"{origin['tool']['name']} {origin['tool']['version']}",
        "table": origin["table"]["path"],
        "table_sha256": origin["table"]["sha256"],
    }


def plan_frame(plan: Plan) -> Any:
    """The day-level rows of a plan (the columns of its CSV), typed, provenance in attrs."""
    frame = typed_frame(plan_csv_rows(plan, raw=True), CSV_COLUMNS)
    origin = provenance(plan.table)
    frame.attrs = {
        "tool": f"{origin['tool']['name']} {origin['tool']['version']}",
        "table": origin["table"]["path"],
        "table_sha256": origin["table"]["sha256"],
        "source": plan.source.id,
        "parameters": json.loads(
            dumps_compact_json(request_record(plan.request)), parse_float=Decimal
        ),
    }
    return frame


def read_plans(path: str | os.PathLike[str]) -> Any:
    """Read back what taper wrote, typed as :meth:`~taper.TaperPlan.to_dataframe`.

    A CSV from ``taper schedule -f csv``, ``taper batch`` or ``taper sweep`` (day rows, with a
    ``scenario`` column for the last two), a batch summary (``--summary``), or JSON Lines
    (``--format jsonl``: one row per day, drug and dose time, the ``scenario`` in front).
    The ``#`` provenance lines go into ``df.attrs``.
    """
    path = path_value(path, "path")
    pandas = _pandas()
    shown = str(path)

    def fail(line: int | None, reason: str) -> DataFileError:
        return DataFileError(shown, line, reason)

    text, _ = read_text(Path(path), kind="taper output", max_bytes=MAX_PLANS_FILE_BYTES, fail=fail)
    try:
        return _frame(pandas, path, text, fail)
    except DataFileError:
        raise
    except RecursionError:
        raise fail(None, "is not a taper output: JSON nested too deeply") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:  # pandas'
        first = (str(exc).splitlines() or [""])[0]  # own errors too, on one line
        raise fail(
            None, f"is not a taper CSV or JSON Lines output ({shorten(first, 120)})"
        ) from exc


def _frame(pandas: Any, path: str | os.PathLike[str], text: str, fail: Any) -> Any:
    if Path(path).suffix.lower() in {".jsonl", ".ndjson"}:
        return _jsonl_frame(text, fail)
    lines = text.splitlines(keepends=True)
    comments = 0
    while comments < len(lines) and lines[comments].startswith("#"):
        comments += 1
    if comments == len(lines):
        raise fail(None, "has no header row")
    columns = lines[comments].count(",") + 1  # at least the columns: pandas is slow per column
    if columns > MAX_COLUMNS:
        raise fail(
            comments + 1,
            f"has {columns:,} columns: not a taper output (they have at most {MAX_COLUMNS:,})",
        )
    body = pandas.read_csv(io.StringIO("".join(lines[comments:])), dtype=str, keep_default_na=False)
    if not {"day", "scenario"} & set(body.columns):
        raise fail(comments + 1, "has no 'day' or 'scenario' column: not a taper CSV output")
    frame = _typed(pandas, body)
    frame.attrs = _attrs([line.rstrip("\n") for line in lines[:comments]])
    return frame


def _attrs(comments: Sequence[str]) -> dict[str, Any]:
    """Provenance from the ``#`` lines: tool, table, its SHA-256, and the detail line (a
    plan's source and parameters, parsed)."""
    attrs: dict[str, Any] = {}
    if comments and (match := _PROVENANCE.fullmatch(comments[0])):
        attrs |= {
            "tool": f"taper {match['tool']}",
            "table": match["table"],
            "table_sha256": match["sha256"],
        }
    detail = comments[1][2:] if len(comments) > 1 else ""
    plan = re.fullmatch(r"source (?P<source>\S+); parameters (?P<parameters>\{.*\})", detail)
    if plan:
        parameters = loads_json(plan["parameters"], parse_float=Decimal)
        attrs |= {"source": plan["source"], "parameters": parameters}
    elif detail:
        attrs["detail"] = detail
    return attrs


def _finite(text: str) -> float:
    """A JSON number that a float holds (``1e400`` is no day or dose)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {shorten(text, 20)} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number taper writes")


def _jsonl_frame(text: str, fail: Any) -> Any:
    columns = ("scenario", "day", "date", "step", "phase", "drug", "slot", "dose_mg", "error")
    rows: list[tuple[object, ...]] = []
    attrs: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record: Mapping[str, Any] = loads_json(
                line, parse_float=_finite, parse_constant=_no_constant
            )
        except json.JSONDecodeError as exc:
            raise fail(number, f"not JSON Lines ({exc.msg})") from None
        except ValueError as exc:
            raise fail(number, f"not a row taper wrote ({exc})") from None
        if not attrs and "tool" in record:
            attrs = {
                "tool": f"{record['tool']['name']} {record['tool']['version']}",
                "table": record["table"]["path"],
                "table_sha256": record["table"]["sha256"],
            }
        scenario = record.get("scenario", "")
        if "days" not in record:
            rows.append((scenario, "", "", "", "", "", "", "", record.get("error", "")))
            continue
        for day in record["days"]:
            for dose in day["doses"]:
                rows.append(
                    (scenario, day["day"], day["date"], day["step"], day["phase"],
                     dose["drug"], dose["slot"], dose["dose_mg"], "")
                )  # fmt: skip
    frame = typed_frame(rows, columns)
    frame.attrs = attrs
    return frame
