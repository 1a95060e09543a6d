"""CSV outputs: the day-level rows of a plan, the batch summary, and their provenance lines.

One writer for ``taper schedule --format csv``, ``taper batch`` and ``taper sweep``: every
file opens with ``#`` lines naming the tool, the table and the parameters; text cells that a
spreadsheet would run as a formula are neutralised unless asked otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from taper import __version__
from taper.formatting import printable
from taper.plan import DoseTime, Plan, diazepam_of
from taper.rational import Fraction
from taper.records import (
    SUMMARY_FIELDS,
    dumps_compact_json,
    number,
    request_record,
    review_records,
    revision_records,
)
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


#: A formula start after a separator a spreadsheet may split on (";" in many locales).
_SPLIT_FORMULA = re.compile(r"([;\t])([=+\-@])")


def neutralise_cell(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP), and
    any part of it that would start a formula once split on ``;`` or a tab."""
    text = _SPLIT_FORMULA.sub(r"\1'\2", text)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def plan_csv(plan: Plan, table: EquivalenceTable, *, raw: bool = False) -> str:
    """Tidy CSV: one row per day, drug and dose time. Provenance leads as ``#`` lines.

    Text cells that a spreadsheet would read as a formula are neutralised unless ``raw``.
    """
    parameters = dumps_compact_json(request_record(plan.request))
    return (
        provenance_lines(table, f"source {plan.source.id}; parameters {parameters}")
        + plan_lines(plan)
        + csv_line(CSV_COLUMNS)
        + plan_csv_text(plan, raw=raw)
    )


def plan_lines(plan: Plan) -> str:
    """The ``#`` lines of a plan after its provenance: its checksum and revision number, its
    revisions (JSON, oldest first) if any, and its review schedule (JSON)."""
    lines = f"# plan sha256 {plan.content_sha256()}; revision {plan.revision}\n"
    if plan.revisions:
        lines += f"# revisions {_neutral_json(dumps_compact_json(revision_records(plan)))}\n"
    reviews = [{k: r[k] for k in ("date", "kind", "reason")} for r in review_records(plan)]
    return lines + f"# reviews {_neutral_json(printable(dumps_compact_json(reviews)))}\n"


def _neutral_json(text: str) -> str:
    """JSON for a ``#`` line: a comma or semicolon inside a string that a spreadsheet would
    split the line on right before a formula start (a revision's reason ``a,=1+2``) is
    written as its JSON escape, which reads back as the same text; the JSON's own commas are
    left alone (an attacker's review: the ``# revisions`` line let ``=1+2`` into a cell)."""
    out = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string and not escaped and char in ",;" and _FORMULA_AFTER.match(text, index + 1):
            out.append(f"\\u{ord(char):04x}")
            continue
        out.append(char)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
    return "".join(out)


def csv_line(row: Iterable[object]) -> str:
    """One row as the ``csv`` module writes it (minimal quoting, ``\n`` line ends)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def plan_csv_text(
    plan: Plan, *, raw: bool = False, lead: Sequence[str] = (), cells: DoseCells | None = None
) -> str:
    """The data rows of :func:`plan_csv` (without header or provenance) as CSV text: one row
    per day, drug and dose time, from day 1 to the first day without any drug. Each row
    starts with the cells ``lead`` (the scenario id, in a batch).

    The same bytes as writing every row with ``csv.writer``, built faster: a row is its lead,
    its day, its date and the cells of its step, so each step's cells are written once (with
    ``csv.writer``, for its quoting) and repeated for each of its days; the cells of a dose
    are made once per plan, or once per batch when the batch passes its ``cells``, which
    also keeps the rows (without their lead) of a plan written again (the engine remembers
    plans: the same request twice is the same plan), so that it is written from them.
    """
    cells = cells if cells is not None else DoseCells()
    head = csv_line(lead)[:-1] + "," if lead else ""
    kept = cells.kept_rows(plan, raw)
    if kept is not None:
        return head + head.join(kept)
    parts: list[str] = []
    for day_text, tails in _step_rows(plan, raw, cells):
        # The rows of a day are its lead cells, then each dose's cells: the lead is written
        # before the first row and joins the others (every row ends with a line break).
        lead_text = head + day_text
        parts.append(lead_text)
        parts.append(lead_text.join(tails))
    return "".join(parts)


def _plan_rows(plan: Plan, raw: bool, cells: DoseCells) -> list[str]:
    """The rows of :func:`plan_csv_text` without their lead, each ending with a line break."""
    return [day_text + tail for day_text, tails in _step_rows(plan, raw, cells) for tail in tails]


def _step_rows(plan: Plan, raw: bool, cells: DoseCells) -> Iterator[tuple[str, list[str]]]:
    """Each day's ``"day,date,"`` and the rest of its rows (step, phase and each dose's cells,
    written by ``csv.writer`` for its quoting, once per step and phase)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def written(row: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    first = plan.start_date.toordinal() - 1
    ratios = plan.ratios
    for step in plan.steps:
        doses = [cells.of(dose, ratios.get(dose.drug), raw) for dose in step.doses]
        if not doses:
            continue
        tails = {
            phase: [written((step.number, phase, *values)) for values in doses]
            for phase in ((step.phase, "hold") if step.hold_days else (step.phase,))
        }
        hold_after = step.end_day - step.hold_days
        for day in range(step.start_day, step.end_day + 1):
            phase = "hold" if step.hold_days and day > hold_after else step.phase
            yield f"{day},{_date_text(first + day)},", tails[phase]


def plan_csv_rows(plan: Plan, *, raw: bool = False) -> Iterator[tuple[object, ...]]:
    """The data rows of :func:`plan_csv` as values (for a DataFrame): one per day, drug and
    dose time, from day 1 to the first day without any drug."""
    cells = DoseCells()
    first = plan.start_date.toordinal() - 1
    for step in plan.steps:
        doses = [cells.of(dose, plan.ratios.get(dose.drug), raw) for dose in step.doses]
        hold_after = step.end_day - step.hold_days
        for day in range(step.start_day, step.end_day + 1):
            phase = "hold" if step.hold_days and day > hold_after else step.phase
            date = _date_text(first + day)
            for values in doses:
                yield (day, date, step.number, phase, *values)


@functools.lru_cache(maxsize=4096)
def _date_text(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


#: Diazepam mg per mg of a drug (low, high).
Ratio = tuple[Fraction, Fraction]


class DoseCells:
    """The cells of each dose written: drug, slot, dose_mg, diazepam_eq_mg (point, low,
    high) and take. A batch keeps one across its plans, which write the same doses again and
    again; it empties itself when full, so that memory stays flat."""

    def __init__(self, limit: int = 20_000, plans: int = 64) -> None:
        self.limit = limit
        self.plans = plans
        self._cells: dict[tuple[DoseTime, Ratio | None, bool], tuple[object, ...]] = {}
        #: The last plans written, by the identity of their steps: [the steps, the ratios,
        #: the first date, raw, the rows once written again]. A plan the engine remembered
        #: shares its steps and ratios with the plan it was first handed out as.
        self._rows: dict[int, list[Any]] = {}

    def kept_rows(self, plan: Plan, raw: bool) -> list[str] | None:
        """The CSV rows of ``plan`` without their lead (see :func:`plan_csv_text`) if a plan
        with the very same steps, ratios, first date and ``raw`` was written before (its
        rows are made the second time, and kept), else None (the plan is noted: a batch of
        distinct plans pays a note per plan, not the rows). An entry holds the steps, so
        that their identity is not reused while it lives."""
        found = self._rows.get(id(plan.steps))
        if (
            found is not None
            and found[0] is plan.steps
            and found[1] is plan.ratios
            and found[2] == plan.start_date
            and found[3] == raw
        ):
            rows: list[str] = found[4] if found[4] is not None else _plan_rows(plan, raw, self)
            found[4] = rows
            return rows
        if len(self._rows) >= self.plans:
            self._rows.clear()
        self._rows[id(plan.steps)] = [plan.steps, plan.ratios, plan.start_date, raw, None]
        return None

    def of(self, dose: DoseTime, ratio: Ratio | None, raw: bool) -> tuple[object, ...]:
        """The cells of ``dose``: they depend on the dose, the diazepam ratio of its drug
        (low, high) and ``raw`` alone."""
        key = (dose, ratio, raw)
        found = self._cells.get(key)
        if found is None:
            found = _dose_cells(dose, ratio, raw)
            if len(self._cells) >= self.limit:
                self._cells.clear()
            self._cells[key] = found
        return found


def _dose_cells(dose: DoseTime, ratio: Ratio | None, raw: bool) -> tuple[object, ...]:
    cell = (lambda text: text) if raw else neutralise_cell
    value = diazepam_of((dose,), {dose.drug: ratio})
    if value is None:
        low = high = point = ""
    else:
        low_value, high_value = number(value[0]), number(value[1])
        low, high = str(low_value), str(high_value)
        point = low if low_value == high_value else ""
    text = cell(dose.preparation.text())
    return (cell(dose.drug), dose.slot, number(dose.dose_mg), point, low, high, text)


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


#: A comma or semicolon that a spreadsheet would split a ``#`` line on right before a formula
#: start (spaces and a quote may come between).
_COMMENT_SPLIT_FORMULA = re.compile(r"[,;](?= *\"?[=+\-@])")
#: What follows such a comma inside a JSON string: spaces and an escaped quote may come between.
_FORMULA_AFTER = re.compile(r' *(?:\\")?[=+\-@]')


def provenance_lines(table: EquivalenceTable, detail: str) -> str:
    """The ``#`` lines that open every CSV taper writes: version, table, and ``detail``.

    Control characters in the table's path or the detail are written as escapes, so that
    no text given to taper can end a ``#`` line and start a row of its own; a comma or
    semicolon that would make a spreadsheet read the rest as a formula cell (``t,=1+2``) is
    written as its JSON escape (``t\\u002c=1+2``), which the parameters' JSON reads back as
    the same text.
    """
    where = printable(str(table.path))
    lines = f"# taper {__version__}; table {where} sha256 {table.sha256}\n# {printable(detail)}\n"
    return _COMMENT_SPLIT_FORMULA.sub(lambda match: f"\\u{ord(match[0]):04x}", lines)


def write_row(stream: IO[str], row: Sequence[str]) -> None:
    """One CSV row (a header or a summary row)."""
    stream.write(csv_line(row))
