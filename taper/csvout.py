"""CSV outputs: the day-level rows of a plan, the batch summary, and their provenance lines.

One writer for ``taper schedule --format csv``, ``taper batch`` and ``taper sweep``: every
file opens with ``#`` lines naming the tool, the table and the parameters; text cells that a
spreadsheet would run as a formula are neutralised unless asked otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from taper import __version__
from taper.formatting import printable
from taper.plan import DoseTime, Plan
from taper.records import SUMMARY_FIELDS, dumps_compact_json, number, request_record
from taper.table import EquivalenceTable

CSV_COLUMNS = (
    "day",
    "date",
    "step",
    "phase",
    "drug",
    "slot",
    "dose_mg",
    "diazepam_eq_mg",
    "diazepam_eq_mg_low",
    "diazepam_eq_mg_high",
    "take",
)


#: Characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def plan_csv(plan: Plan, table: EquivalenceTable, *, raw: bool = False) -> str:
    """Tidy CSV: one row per day, drug and dose time. Provenance leads as ``#`` lines.

    Text cells that a spreadsheet would read as a formula are neutralised unless ``raw``.
    """
    buffer = io.StringIO()
    parameters = dumps_compact_json(request_record(plan.request))
    buffer.write(provenance_lines(table, f"source {plan.source.id}; parameters {parameters}"))
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(plan_csv_rows(plan, raw=raw))
    return buffer.getvalue()


def plan_csv_rows(plan: Plan, *, raw: bool = False) -> Iterator[tuple[object, ...]]:
    """The data rows of :func:`plan_csv` (without header or provenance): one per day, drug
    and dose time, from day 1 to the first day without any drug."""
    cell = (lambda text: text) if raw else neutralise_cell
    cells: dict[DoseTime, tuple[object, ...]] = {}

    def dose_cells(dose: DoseTime) -> tuple[object, ...]:
        if dose not in cells:  # the same dose is written on many days: format it once
            value = plan.diazepam_of((dose,))
            if value is None:
                low = high = point = ""
            else:
                low_value, high_value = number(value[0]), number(value[1])
                low, high = str(low_value), str(high_value)
                point = low if low_value == high_value else ""
            text = cell(dose.preparation.text())
            cells[dose] = (cell(dose.drug), dose.slot, number(dose.dose_mg), point, low, high, text)
        return cells[dose]

    first = plan.start_date.toordinal() - 1
    for step in plan.steps:
        doses = [dose_cells(dose) for dose in step.doses]
        for day in range(step.start_day, step.end_day + 1):
            phase = step.phase
            if step.hold_days and day > step.end_day - step.hold_days:
                phase = "hold"
            date = dt.date.fromordinal(first + day).isoformat()
            for values in doses:
                yield (day, date, step.number, phase, *values)


#: The batch summary: the scenario, its status, the plan's summary
#: (:data:`taper.records.SUMMARY_FIELDS`) and the scenario's options as given (JSON).
SUMMARY_COLUMNS = ("scenario", "status", "error", *SUMMARY_FIELDS, "parameters")


#: The tidy dispensing file of a batch: one row per scenario and product.
DISPENSING_COLUMNS = ("scenario", "drug", "product", "quantity", "unit")


def dispensing_csv(scenario: str, plan: Plan, *, raw: bool = False) -> str:
    """The rows of the dispensing file for one plan: what to dispense for the whole plan."""
    cell = (lambda text: text) if raw else neutralise_cell
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        (cell(scenario), item.product.drug, item.product.label(), number(item.quantity), item.unit)
        for item in plan.dispensing
    )
    return buffer.getvalue()


def summary_row(
    scenario: str, error: str | None, summary: Mapping[str, object], *, raw: bool = False
) -> list[str]:
    """One row of the batch summary: the scenario, its status and its plan's summary.

    Control characters (and text that is not Unicode, such as a command line argument in
    another encoding) are written as escapes; text cells that a spreadsheet would read as a
    formula are neutralised unless ``raw``.
    """
    record = {
        "scenario": scenario,
        "status": "error" if error else "ok",
        "error": error or "",
        **summary,
    }
    cells = [printable(_cell(record.get(column, ""))) for column in SUMMARY_COLUMNS]
    return cells if raw else [neutralise_cell(cell) for cell in cells]


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def provenance_lines(table: EquivalenceTable, detail: str) -> str:
    """The ``#`` lines that open every CSV taper writes: version, table, and ``detail``.

    Control characters in the table's path or the detail are written as escapes, so that
    no text given to taper can end a ``#`` line and start a row of its own.
    """
    where = printable(str(table.path))
    return f"# taper {__version__}; table {where} sha256 {table.sha256}\n# {printable(detail)}\n"


def write_row(stream: IO[str], row: Sequence[str]) -> None:
    """One CSV row (a header or a summary row)."""
    csv.writer(stream, lineterminator="\n").writerow(row)
