"""Check a taper plan someone else wrote: what a pharmacist runs before dispensing.

A plan is a CSV file. The simple format has a header and one row per day (or per day and
dose time); lines starting with ``#`` are comments:

    day,dose_mg            (or date,dose_mg; add a slot column for doses per time of day,
    1,1                     and a drug column, or give the drug with --drug)
    2,1
    ...

Columns: ``day`` (1, 2, ...) and/or ``date`` (YYYY-MM-DD), or ``from`` for a step table;
``dose_mg`` (a number of mg) or ``dose`` (with a unit: ``0.5mg``, ``500mcg``), or a column per
dose time under the names clinics use (:data:`DOSE_TIME_NAMES`: ``Breakfast``, ``Lunchtime``,
``Teatime``, ``Bedtime``, ``AM``/``PM``, ``Morning (mg)``...) with an optional ``Total``;
optional ``slot`` and ``drug``. Every column is read or the file is refused naming the column
it cannot place (:data:`COLUMN_NAMES` lists those only informative, such as the ``step`` of
the CSV that ``taper schedule --format csv`` writes, which is read as it is); its ``take``
and ``diazepam_eq_mg`` cells are checked against their rows' doses (:mod:`taper.stated`).

The check reports: doses that no product can make, increases, 14-day windows beyond the
guideline ceiling (25% in 2 weeks) judged as the schedule judges its own steps
(:func:`taper.guideline.judge_cut`: a cut the products force is a note), a stop from more
than the clinical end, a ``Total`` that is not the sum of the doses,
days missing or repeated, the diazepam equivalent of each step under each source, and the
total to dispense.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from taper.dispensing import (
    SMALL_VOLUME_ADVICE,
    DosePreparer,
    quantities,
    small_volumes,
    supply_periods,
    units_used,
)
from taper.doses import parse_dose
from taper.errors import (
    DataFileError,
    InvalidRequestError,
    NoEquivalenceError,
    PlanFileError,
    TaperError,
    literal,
)
from taper.files import csv_records, read_text
from taper.formatting import consecutive_runs, format_dose, format_number, to_decimal
from taper.guideline import (
    WINDOW_DAYS,
    CutVerdict,
    clinical_end_mg,
    judge_cut,
    percent,
    prescribing_step,
    smallest_cut,
)
from taper.params import SLOTS, Region, parse_choice, parse_slot
from taper.plan import DispensedProduct, DoseTime, SupplyPeriod
from taper.products import MEASURABLE_CONCENTRATE_ML, Formulary
from taper.rational import Fraction
from taper.regimen import products_for
from taper.stated import (
    EQUIVALENT,
    EQUIVALENT_HIGH,
    EQUIVALENT_LOW,
    STATED_ROLES,
    TAKE,
    TAKE_WORDING,
    StatedCell,
    stated_problems,
    together_problems,
)
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ratio_to_diazepam
from taper.values import days_value, path_value

#: Plan files larger than this are not plans.
MAX_PLAN_BYTES = 20 * 1024 * 1024
#: The longest plan checked: twice the ten years of the longest plan taper makes (one step
#: row from year 1 to 9999 took 20 s and 800 MB, day by day).
MAX_PLAN_DAYS = 7305
#: In a crossover (steps of several drugs, and the stage that completes it), a stage may
#: raise the day's diazepam equivalent as it makes up what rounding to the products lost at
#: an earlier one (taper's crossovers do): up to the load before the crossover and this
#: share of it (a clinic may round to the nearest dose) it is a note; above it, or any rise
#: outside a crossover, is an increase.
CROSSOVER_PERCENT = Decimal(5)
CROSSOVER_TOLERANCE = Fraction(5, 100)
DAILY = "daily"


@dataclass(frozen=True)
class Problem:
    #: undispensable, increase, ceiling, stop, missing-days, repeated-day, total, take,
    #: diazepam-eq, edited
    kind: str
    day: int | None
    message: str


@dataclass(frozen=True)
class CheckedStep:
    start_day: int
    end_day: int
    doses: Mapping[tuple[str, str], Decimal]
    #: Diazepam equivalent (low, high) under each source that covers every drug of the plan,
    #: in mg at 0.001 mg (a Decimal, like every number of a result).
    diazepam_by_source: Mapping[str, tuple[Decimal, Decimal]]
    cut_percent: Decimal | None
    #: How to make each dose from the products (empty where it cannot be made).
    how: tuple[str, ...] = ()

    def totals_by_drug(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for (drug, _), dose in self.doses.items():
            if dose:
                totals[drug] = totals.get(drug, Decimal(0)) + dose
        return totals


@dataclass(frozen=True)
class PlanCheck:
    path: str
    sha256: str
    drugs: tuple[str, ...]
    source: EquivalenceSource
    first_date: dt.date | None
    steps: tuple[CheckedStep, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    dispensing: tuple[DispensedProduct, ...]
    #: What to dispense for each supply period (``supply_days``), halves carried over.
    supply: tuple[SupplyPeriod, ...] = ()
    #: The file's columns that say something of its doses but were not checked (all or some
    #: of their cells could not be read with certainty; the notes say which and why).
    unchecked: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.problems


#: How dates in a plan file may be written (``--date-format``); ISO dates are always read.
DATE_FORMATS = {"yyyy-mm-dd": "%Y-%m-%d", "dd/mm/yyyy": "%d/%m/%Y", "mm/dd/yyyy": "%m/%d/%Y"}
#: Cells that mean no dose in a step table or a column per dose time.
NO_DOSE = {"", "-", "–", "—", "0", "0mg", "stop", "none", "nil"}
#: Repeated days reported one by one before the rest are counted in one line.
MAX_REPEAT_PROBLEMS = 20

Doses = dict[tuple[str, str], Decimal]


@dataclass
class PlanRows:
    """A plan file read: the doses of each day, the date of day 1 (if dates are given),
    the file's hash, and the days given twice."""

    by_day: dict[int, Doses]
    first_date: dt.date | None
    sha256: str
    problems: list[Problem]
    #: The equivalence source named in the file's provenance line (a taper plan's ``#``
    #: line "# source ID; parameters ..."), if any.
    source: str | None = None
    #: The file's text when its first lines say taper wrote it (a ``# plan sha256`` line), so
    #: that it is compared with what taper writes, and its revisions read back, from the very
    #: bytes that were checked.
    taper_text: str | None = None
    #: The file is a step table (a ``from`` column): each row lasts to the next.
    step_table: bool = False
    #: The file gives its days only as dates (a ``date`` column and no ``day``).
    dated: bool = False
    #: Days the file's ``phase`` column puts in a crossover or stabilization.
    off_taper_days: frozenset[int] = frozenset()
    #: The region named in the file's provenance line (a taper plan's parameters), if any.
    region: str | None = None
    #: The cells that say something of their row's dose (``take``, ``diazepam_eq_mg``...),
    #: each with its first line and how many lines say it.
    stated: dict[StatedCell, tuple[int, int]] = field(default_factory=dict)
    #: Each row's equivalent cells together (two or more), with first line and lines.
    stated_together: dict[tuple[StatedCell, ...], tuple[int, int]] = field(default_factory=dict)
    #: Such columns that are not checked, by header, and why.
    unread: dict[str, str] = field(default_factory=dict)


def _dose(text: str, column: str, per_unit: Decimal | None = None) -> Decimal:
    """A dose cell in mg. ``column``: ``dose`` (a unit in the cell unless the header gives
    one), ``dose_mg`` (a plain number) or ``slot`` (a column per dose time or a total: a
    plain number of mg, a dose with its unit, or a word for no dose). ``per_unit``: mg per
    plain number, from a unit in brackets in the header (None: none given)."""
    text = text.strip()
    if column == "slot" and text.lower().replace(" ", "") in NO_DOSE:
        return Decimal(0)
    if column == "dose" and text in {"0", "0mg"}:
        return Decimal(0)
    if re.fullmatch(r"\.[0-9]+", text, re.ASCII) and column != "dose":
        # ISMP: never a naked decimal point (".5" is read as 5); the cell is refused rather
        # than read, so that the writer corrects it where a reader could misread it
        raise InvalidRequestError(
            f"dose {text!r} has no leading zero: write 0{text} (a naked decimal point is "
            "misread as a dose ten times larger)"
        )
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text, re.ASCII):
        if column == "dose_mg":
            raise InvalidRequestError(f"dose_mg {text!r} is not a plain number of mg")
        return parse_dose(text)
    if column == "dose" and per_unit is None:
        return parse_dose(text)  # a unit is needed: the parser says so
    value = Decimal(text) * (per_unit or Decimal(1))
    if value > 10000 or value % Decimal("0.001"):
        raise InvalidRequestError(f"dose {text!r} is not a plausible dose")
    return value


def parse_plan_date(text: str, date_format: str | None) -> dt.date:
    """A date cell: ISO always; ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (``/``, ``-`` or ``.``
    between the parts) only when the user says which."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text, re.ASCII):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidRequestError(f"date {text!r} is not a day of the calendar") from None
    if not re.fullmatch(r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}", text, re.ASCII):
        raise InvalidRequestError(f"cannot read date {text!r}; write YYYY-MM-DD")
    if date_format is None or date_format == "yyyy-mm-dd":
        raise InvalidRequestError(
            f"date {literal(repr(text))} could be day-first or month-first: say which with "
            "{date_format} dd/mm/yyyy or mm/dd/yyyy",
            parameters={"date_format": None},
        )
    try:
        return dt.datetime.strptime(re.sub(r"[.-]", "/", text), DATE_FORMATS[date_format]).date()
    except ValueError:
        raise InvalidRequestError(f"date {text!r} is not a {date_format} date") from None


#: The names a clinic's file may give each dose time (any case; a unit in brackets after the
#: name, ``Morning (mg)``, says what plain numbers in the column are). The one table of
#: accepted dose-time headers: the checker reads it and ``docs/check.md`` shows it.
DOSE_TIME_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("morning", ("morning", "am", "a.m.", "breakfast", "mane", "morning dose", "breakfast time")),
    ("midday", ("midday", "noon", "lunch", "lunchtime", "lunch time", "midday dose")),
    ("afternoon", ("afternoon", "afternoon dose")),
    (
        "evening",
        (
            "evening",
            "pm",
            "p.m.",
            "dinner",
            "tea",
            "teatime",
            "tea time",
            "supper",
            "evening dose",
            "dinner time",
            "supper time",
        ),
    ),
    (
        "night",
        (
            "night",
            "bedtime",
            "nocte",
            "at night",
            "bed time",
            "night time",
            "at bedtime",
            "night dose",
            "bedtime dose",
        ),
    ),
)
#: The other columns, by what they hold (any case; ``_`` and spaces are the same).
COLUMN_NAMES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("day", ("day",), "day number of a row (1, 2, ...)"),
    ("date", ("date",), "date of a row, one row per day"),
    (
        "from",
        ("from", "from date", "start", "start date", "starting"),
        "a step table: the first day or date of each step, which lasts to the next row",
    ),
    ("to", ("to", "to date", "until", "end date"), "the last day or date of a step (optional)"),
    ("drug", ("drug", "medicine", "medication"), "the drug of a row (or give --drug)"),
    ("slot", ("slot", "dose time", "time"), "the dose time of a row in a long table"),
    ("dose_mg", ("dose_mg",), "a plain number of mg"),
    ("dose", ("dose",), "a dose with its unit, such as 0.5mg or 500mcg"),
    (
        "total",
        ("total", "total dose", "total daily dose", "daily total", "daily dose", "total_mg"),
        "the day's total, compared with the sum of the dose-time columns",
    ),
    (
        "phase",
        ("phase",),
        "taper's own phase of a row: doses of a crossover or stabilization neither start nor "
        "follow a liquid, as in the schedule",
    ),
    (
        TAKE,
        (TAKE,),
        "how to make the row's dose, in taper's wording (`1 × 0.5 mg tablet`, `half of a 2 mg "
        "tablet`): checked against the dose and the products (a file with a dose column)",
    ),
    (
        EQUIVALENT,
        (EQUIVALENT,),
        "the dose's diazepam equivalent in mg: checked against the source the file's first lines "
        "name, else against every source of the table (a file with a dose column)",
    ),
    (EQUIVALENT_LOW, (EQUIVALENT_LOW,), "the low end of that equivalent: checked the same way"),
    (EQUIVALENT_HIGH, (EQUIVALENT_HIGH,), "the high end of that equivalent: checked the same way"),
    (
        "not read",
        ("note", "notes", "comment", "comments", "step"),
        "information only (taper's own step number, notes)",
    ),
)
#: Units a header may give in brackets, as mg per unit.
HEADER_UNITS = {"mg": Decimal(1), "mcg": Decimal("0.001"), "microgram": Decimal("0.001")}
_HEADER_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^)\]]*?)\s*[)\]]\s*$")


@dataclass(frozen=True)
class Column:
    """What a header of a plan file holds: ``role`` (a key of :data:`COLUMN_NAMES`, or
    ``"time"``), the dose time for a dose-time column, and mg per plain number."""

    header: str
    role: str
    slot: str = ""
    #: mg per plain number, from a unit in brackets (None: the header gives no unit).
    per_unit: Decimal | None = None


def _normal(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


_ROLE_OF = {_normal(name): role for role, names, _ in COLUMN_NAMES for name in names}
_SLOT_OF = {_normal(name): slot for slot, names in DOSE_TIME_NAMES for name in names}


def _slot_cell(text: str) -> str:
    """A ``slot`` cell: a dose-time name of :data:`DOSE_TIME_NAMES` or the tool's own."""
    return _SLOT_OF.get(_normal(text)) or parse_slot(text)


def accepted_headers() -> str:
    """The accepted headers in one line, for an error message."""
    times = "; ".join(f"{slot}: {', '.join(names)}" for slot, names in DOSE_TIME_NAMES)
    others = ", ".join(names[0] for role, names, _ in COLUMN_NAMES if role != "not read")
    return f"dose times ({times}), or {others}"


def columns_markdown() -> str:
    """The table of accepted headers as Markdown (``docs/check.md`` holds it; a test keeps
    the two the same)."""
    lines = ["| Column | Headers accepted (any case) | Holds |", "| --- | --- | --- |"]
    for slot, names in DOSE_TIME_NAMES:
        shown = ", ".join(f"`{name}`" for name in names)
        lines.append(f"| dose time {slot} | {shown} | that dose time's dose |")
    for role, names, meaning in COLUMN_NAMES:
        shown = ", ".join(f"`{name}`" for name in names)
        lines.append(f"| {role} | {shown} | {meaning} |")
    return "\n".join(lines) + "\n"


def classify_columns(header: Sequence[str]) -> list[Column]:
    """Each header's role; a header that is none of the accepted names is an error naming it
    and listing what is accepted (never a column dropped without a word)."""
    result = []
    for raw in header:
        name, per_unit = raw, None
        if match := _HEADER_UNIT.match(raw):
            unit = match.group(2).strip().lower()
            if unit.endswith("s") and unit[:-1] in HEADER_UNITS:
                unit = unit[:-1]
            if unit not in HEADER_UNITS:
                raise InvalidRequestError(
                    f"column {raw!r} gives its doses in {match.group(2)!r}; "
                    f"write them in {' or '.join(HEADER_UNITS)}"
                )
            name, per_unit = match.group(1), HEADER_UNITS[unit]
        key = _normal(name)
        if key in _SLOT_OF:
            result.append(Column(raw, "time", _SLOT_OF[key], per_unit))
        elif key in _ROLE_OF:
            result.append(Column(raw, _ROLE_OF[key], per_unit=per_unit))
        else:
            raise InvalidRequestError(
                f"cannot place column {raw!r}; accepted: {accepted_headers()} (see docs/check.md)"
            )
    return result


def _columns(header: list[str]) -> tuple[list[Column], str | None, list[Column]]:
    """The columns, the dose column (a header of role ``dose_mg`` or ``dose``) or, without
    one, a column per dose time."""
    columns = classify_columns(header)
    times = [column for column in columns if column.role == "time"]
    doses = [column for column in columns if column.role in {"dose_mg", "dose"}]
    for role in ("day", "date", "from", "to", "drug", "slot", "total", *STATED_ROLES):
        given = [column.header for column in columns if column.role == role]
        if len(given) > 1:
            raise InvalidRequestError(f"columns {', '.join(map(repr, given))} both give the {role}")
    if len(doses) > 1:
        raise InvalidRequestError(
            f"columns {', '.join(repr(c.header) for c in doses)} both give the dose"
        )
    by_slot: dict[str, list[str]] = {}
    for column in times:
        by_slot.setdefault(column.slot, []).append(column.header)
    for slot, headers in by_slot.items():
        if len(headers) > 1:
            raise InvalidRequestError(
                f"columns {', '.join(map(repr, headers))} are both the {slot} dose"
            )
    if doses and times:
        raise InvalidRequestError(
            f"gives doses both in column {doses[0].header!r} and in columns per dose time "
            f"({', '.join(repr(c.header) for c in times)}): give one or the other"
        )
    if not doses and any(column.role == "slot" for column in columns):
        raise InvalidRequestError("has a 'slot' column but no 'dose_mg' or 'dose' column")
    if doses and any(column.role == "total" for column in columns):
        raise InvalidRequestError(
            "a 'total' column is read only with a column per dose time (each row one day)"
        )
    return columns, (doses[0].header if doses else None), times


def _when(cell: str, column: str, date_format: str | None) -> tuple[bool, int]:
    """A day or date cell: (is a date, day number or date ordinal)."""
    cell = cell.strip()
    if re.fullmatch(r"[0-9]{1,5}", cell, re.ASCII):
        if int(cell) < 1:
            raise InvalidRequestError("days are numbered from 1")
        return False, int(cell)
    if column == "day":
        raise InvalidRequestError(f"day {cell!r} is not a day number")
    return True, parse_plan_date(cell, date_format).toordinal()


def read_plan(
    path: str | os.PathLike[str],
    table: EquivalenceTable,
    drug: str | None = None,
    date_format: str | None = None,
) -> PlanRows:
    """Read a plan file row by row (a file of a million rows is not held as rows)."""
    shown = str(path)
    if date_format is not None and date_format not in DATE_FORMATS:
        raise InvalidRequestError(
            f"unknown date format {date_format!r}; use {', '.join(DATE_FORMATS)}"
        )

    def fail(line: int | None, reason: str) -> PlanFileError:
        return PlanFileError(shown, line, reason)

    text, sha256 = read_text(Path(path), kind="CSV plan", max_bytes=MAX_PLAN_BYTES, fail=fail)
    if text.lstrip("\ufeff \t\r\n")[:1] in {"{", "["}:
        raise fail(
            None,
            "is JSON; the checker reads a plan as CSV (the CSV 'taper schedule' writes, or a "
            "clinic's table): write the plan as CSV",
        )
    header, header_line, records = csv_records(text, fail)
    try:
        columns, dose_column, wide = _columns(header)
    except InvalidRequestError as exc:
        raise fail(header_line, str(exc)) from exc
    role = {column.role: column.header for column in columns if column.role != "time"}
    steps = "from" in role
    if not steps and "day" not in role and "date" not in role:
        raise fail(header_line, "needs a 'day', 'date' or 'from' column")
    if dose_column is None and not wide:
        raise fail(
            header_line,
            f"needs a 'dose_mg' or 'dose' column, or one per dose time; found "
            f"{', '.join(repr(name) for name in header)}; accepted: {accepted_headers()}",
        )
    if "drug" not in role and drug is None:
        raise PlanFileError(
            shown, header_line, "has no 'drug' column: give the drug with {drug}",
            parameters={"drug": None},
        )  # fmt: skip
    default_drug = table.drug(drug).name if drug else None
    per_unit = next((c.per_unit for c in columns if c.header == dose_column), None)
    total_column = next((c for c in columns if c.role == "total"), None)
    said_columns = [c for c in columns if c.role in STATED_ROLES]
    # (header, role, drug, slot, dose, cell) -> [first line, lines]: a plain tuple, as a
    # file of a million rows says the same few things again and again
    said_cells: dict[tuple[str, str, str, str, Decimal, str], list[int]] = {}
    said_together: dict[tuple[tuple[str, str, str, str, Decimal, str], ...], list[int]] = {}
    unread = (
        {}
        if dose_column is not None
        else {
            column.header: "a row of this file holds a dose for each dose time, not one dose"
            for column in said_columns
        }
    )
    if dose_column is None:
        said_columns = []
    names: dict[str, str] = {}
    # Day numbers, and date ordinals until the first date is known.
    found: dict[tuple[bool, int], Doses] = {}
    off_taper: set[tuple[bool, int]] = set()  # rows of a crossover or stabilization
    ends: dict[tuple[bool, int], tuple[bool, int]] = {}  # a step table's 'to' cells
    step_rows: dict[tuple[bool, int], tuple[int, str, str]] = {}  # line, 'from' and 'to'
    repeats: dict[tuple[bool, int, str, str], list[int]] = {}
    totals: list[Problem] = []
    anchor: dt.date | None = None  # day 1's date, from a row with both a day and a date
    anchored: tuple[int, int, str] | None = None  # that row: its line, day and date cell
    previous: tuple[int, tuple[bool, int], str] | None = None  # a step table's last row
    for line, cells in records:
        if None in cells or any(value is None for value in cells.values()):
            raise fail(line, "has a different number of cells than the header")
        record = {role_name: str(cells[name]) for role_name, name in role.items()}
        try:
            if steps:
                if not record["from"].strip():
                    raise InvalidRequestError(f"gives no {role['from']!r} day or date")
                key = _when(record["from"], "from", date_format)
                if previous is not None and key[0] == previous[1][0] and key < previous[1]:
                    # each step lasts to the next row's: rows out of order are not re-sorted
                    unit = "" if key[0] else "day "
                    raise InvalidRequestError(
                        f"the step from {unit}{literal(record['from'].strip())} comes after the "
                        f"step from {unit}{literal(previous[2])} (line {previous[0]}): each step "
                        "lasts to the next row's, so the rows go in order; put them in order, "
                        "or correct the " + ("date" if key[0] else "day")
                    )
                previous = (line, key, record["from"].strip())
                if record.get("to", "").strip():
                    ends[key] = _when(record["to"], "to", date_format)
                step_rows[key] = (line, record["from"].strip(), record.get("to", "").strip())
            elif record.get("day", "").strip():
                key = _when(record["day"], "day", date_format)
                if record.get("date", "").strip():
                    dated = parse_plan_date(record["date"], date_format)
                    if anchor is None:
                        anchor = dated - dt.timedelta(days=key[1] - 1)
                        anchored = (line, key[1], record["date"].strip())
                    elif anchored is not None and dated != anchor + dt.timedelta(key[1] - 1):
                        raise InvalidRequestError(
                            _day_and_date(key[1], record["date"], anchor, anchored)
                        )
            elif record.get("date", "").strip():
                key = _when(record["date"], "date", date_format)
            else:
                raise InvalidRequestError("gives neither a day nor a date")
            if record.get("phase", "").strip().lower() in {"crossover", "stabilization"}:
                off_taper.add(key)
            name = record.get("drug", "").strip()
            if not name and default_drug is None:
                raise InvalidRequestError(
                    "has an empty drug cell: fill it in or give {drug}", parameters={"drug": None}
                )
            the_drug = (names.get(name) or table.drug(name).name) if name else default_drug
            assert the_drug is not None
            if default_drug is not None and the_drug != default_drug:
                # what the user said and what the file says differ: neither is guessed right
                raise InvalidRequestError(
                    f"the {literal(repr(role['drug']))} column says {literal(name)}, but "
                    "{drug} was given: correct the one that is wrong",
                    parameters={"drug": drug},
                )
            names[name] = the_drug
            if dose_column is not None:
                slot = _slot_cell(record["slot"]) if record.get("slot", "").strip() else DAILY
                kind = "dose_mg" if role.get("dose_mg") == dose_column else "dose"
                doses = [(slot, _dose(str(cells[dose_column]), kind, per_unit))]
            else:
                doses = [
                    (column.slot, _dose(str(cells[column.header]), "slot", column.per_unit))
                    for column in wide
                ]
            if total_column is not None and str(cells[total_column.header]).strip():
                stated = _dose(str(cells[total_column.header]), "slot", total_column.per_unit)
                summed = sum((dose for _, dose in doses), Decimal(0))
                if stated != summed:
                    totals.append(
                        Problem(
                            "total",
                            None,
                            f"line {line}: the {total_column.header!r} cell says "
                            f"{format_dose(stated)} but the doses add up to {format_dose(summed)}",
                        )
                    )
        except TaperError as exc:  # at its line, still naming its parameters
            reason = literal(exc.context) + exc.template if exc.parameters else str(exc)
            raise PlanFileError(shown, line, reason, parameters=exc.parameters) from exc
        except ValueError as exc:
            raise fail(line, str(exc)) from exc
        row_equivalents = []
        for column in said_columns:
            if said := str(cells[column.header]).strip():
                cell = (column.header, column.role, the_drug, *doses[0], said)
                seen = said_cells.setdefault(cell, [line, 0])
                seen[1] += 1
                if column.role != TAKE:
                    row_equivalents.append(cell)
        if len(row_equivalents) > 1:  # judged together too: one source must give them all
            seen = said_together.setdefault(tuple(row_equivalents), [line, 0])
            seen[1] += 1
        dosed = [(slot, dose) for slot, dose in doses if dose]
        if record.get("phase", "").strip().lower() == "stop" and dosed:
            # a row that says the drug has stopped and gives a dose (the second review)
            slot, dose = dosed[0]
            totals.append(
                Problem(
                    "phase",
                    None,
                    f"line {line}: the 'phase' cell says 'stop', but the row gives "
                    f"{format_dose(dose)} of {the_drug} ({slot})",
                )
            )
        target = found.setdefault(key, {})
        for slot, dose in doses:
            if (the_drug, slot) in target:
                repeats.setdefault((*key, the_drug, slot), []).append(line)
            else:
                target[the_drug, slot] = dose
    if not found:
        raise fail(None, "has a header but no days")
    ordinals = [value for is_date, value in found if is_date]
    first_date = dt.date.fromordinal(min(ordinals)) if ordinals else anchor
    offset = min(ordinals) - 1 if ordinals else 0
    if anchor is not None and ordinals:
        # rows with a date and no day are placed by the dates the day numbers have
        if min(ordinals) < anchor.toordinal():
            raise fail(
                None,
                f"a row dated {dt.date.fromordinal(min(ordinals)).isoformat()} (with no day "
                f"number) comes before day 1, {anchor.isoformat()}, by the rows with both",
            )
        first_date, offset = anchor, anchor.toordinal() - 1

    def day_of(key: tuple[bool, int]) -> int:
        return key[1] - offset if key[0] else key[1]

    by_day: dict[int, Doses] = {}
    for key, given in found.items():
        day = by_day.setdefault(day_of(key), {})
        for pair, dose in given.items():
            if pair in day:  # the same day given as a number and as a date
                repeats.setdefault((False, day_of(key), *pair), []).append(0)
            else:
                day[pair] = dose
    last_day = max(by_day) if not ends else max(*by_day, *(day_of(end) for end in ends.values()))
    if last_day - min(by_day) >= MAX_PLAN_DAYS:
        raise fail(
            None,
            f"spans {last_day - min(by_day) + 1:,} days: a plan checked here lasts at most "
            f"{MAX_PLAN_DAYS:,} days (twenty years)",
        )
    if steps:
        by_day = _expand_steps(
            by_day,
            {day_of(k): day_of(v) for k, v in ends.items()},
            {day_of(k): row for k, row in step_rows.items()},
            fail,
        )
    return PlanRows(
        by_day,
        first_date,
        sha256,
        [*_repeat_problems(repeats, offset, first_date), *totals[:MAX_REPEAT_PROBLEMS]],
        _provenance_source(text),
        text if _leads_with(text, "# plan sha256 ") else None,
        step_table=steps,
        dated="date" in role and "day" not in role,
        off_taper_days=frozenset(day_of(key) for key in off_taper),
        region=_provenance_region(text),
        stated={StatedCell(*cell): (first, n) for cell, (first, n) in said_cells.items()},
        stated_together={
            tuple(StatedCell(*cell) for cell in row): (first, n)
            for row, (first, n) in said_together.items()
        },
        unread=unread,
    )


def _day_and_date(day: int, date: str, anchor: dt.date, anchored: tuple[int, int, str]) -> str:
    """A row whose day and date disagree with the first row that gives both."""
    line, first_day, first_date = anchored
    expected = (anchor + dt.timedelta(days=day - 1)).isoformat()
    return (
        f"day {day} is dated {literal(date.strip())}, but line {line} dates day {first_day} "
        f"{literal(first_date)}, which makes day {day} {expected}: the 'day' and 'date' "
        "columns disagree (which one was meant cannot be known); correct the one that is wrong"
    )


def _leads_with(text: str, start: str) -> bool:
    """Whether one of the file's leading ``#`` lines starts with ``start``."""
    for line in itertools.islice(text.splitlines(), 8):
        if not line.startswith("#"):
            return False
        if line.startswith(start):
            return True
    return False


_PROVENANCE_SOURCE = re.compile(r"# source ([a-z0-9][a-z0-9-]*); ", re.ASCII)
_PROVENANCE_REGION = re.compile(
    r'# source [a-z0-9-]+; parameters \{.*?"region":"(us|uk)"', re.ASCII
)


def _provenance_region(text: str) -> str | None:
    """The region a plan written by taper was made for, from its leading ``#`` lines."""
    for line in itertools.islice(io.StringIO(text), 5):
        if not line.startswith("#"):
            return None
        if match := _PROVENANCE_REGION.match(line):
            return match.group(1)
    return None


def _provenance_source(text: str) -> str | None:
    """The source a plan written by taper was made with, from its leading ``#`` lines."""
    for line in itertools.islice(io.StringIO(text), 5):
        if not line.startswith("#"):
            return None
        if match := _PROVENANCE_SOURCE.match(line):
            return match.group(1)
    return None


def _expand_steps(
    starts: dict[int, Doses],
    ends: dict[int, int],
    rows: Mapping[int, tuple[int, str, str]],
    fail: Callable[[int | None, str], Exception],
) -> dict[int, Doses]:
    """A step table (a row per step, from its first day) as the doses of each day; a step
    whose 'to' runs into the next step is refused (neither is cut short silently). ``rows``:
    each step's line and its 'from' and 'to' cells."""
    firsts = sorted(starts)
    by_day: dict[int, Doses] = {}
    for index, first in enumerate(firsts):
        doses = starts[first]
        if first in ends:
            last = ends[first]
        elif index + 1 < len(firsts):
            last = firsts[index + 1] - 1
        elif not any(doses.values()):
            last = first  # the stop
        else:
            raise fail(
                None,
                "the last step has no end: end the table with a stop row or give a 'to' column",
            )
        if last < first:
            raise fail(None, f"a step ends before it starts (from day {first})")
        if first in ends and index + 1 < len(firsts) and last >= firsts[index + 1]:
            line, since, until = rows[first]
            later, later_since, _ = rows[firsts[index + 1]]
            raise fail(
                later,
                f"the step from {_cell_day(later_since)} starts before the step above it ends: "
                f"line {line} runs from {_cell_day(since)} to {_cell_day(until)}; the steps "
                "overlap (which dose was meant on the days both give cannot be known): "
                "correct the 'to' or the 'from'",
            )
        for day in range(first, last + 1):
            by_day[day] = doses
    return by_day


def _cell_day(cell: str) -> str:
    """A step table's day or date cell as said: ``day 10`` or ``2027-01-18``."""
    return ("day " if cell.isdigit() else "") + literal(cell)


def _repeat_problems(
    repeats: Mapping[tuple[bool, int, str, str], list[int]],
    offset: int,
    first_date: dt.date | None,
) -> list[Problem]:
    problems: list[Problem] = []
    ordered = sorted(repeats.items(), key=lambda item: (item[0][1] - offset * item[0][0], item))
    for (is_date, value, drug, slot), lines in ordered:
        day = value - offset if is_date else value
        if len(problems) == MAX_REPEAT_PROBLEMS:
            rest = len(repeats) - MAX_REPEAT_PROBLEMS
            problems.append(
                Problem("repeated-day", day, f"and {rest:,} more doses given more than once")
            )
            break
        shown = [str(line) for line in lines if line][:3]
        more = len(lines) - len(shown)
        where = (
            f" (line {', '.join(shown)}{f' and {more:,} more' if more else ''})" if shown else ""
        )
        times = "twice" if len(lines) == 1 else f"{len(lines) + 1:,} times"
        problems.append(
            Problem(
                "repeated-day",
                day,
                f"{day_name(day, first_date)} gives the {slot} dose of {drug} {times}{where}",
            )
        )
    return problems


def day_name(day: int, first_date: dt.date | None) -> str:
    """``"day 15"``, or its date when the file gives dates: ``"2027-01-18"``."""
    if first_date is None:
        return f"day {day}"
    return (first_date + dt.timedelta(days=day - 1)).isoformat()


def check_plan(
    path: str | os.PathLike[str],
    table: EquivalenceTable,
    *,
    drug: str | None = None,
    region: Region | str | None = None,
    products: Sequence[str] = (),
    source: str | None = None,
    date_format: str | None = None,
    supply_days: int | None = None,
) -> PlanCheck:
    """Read and check a plan file (see the module docstring). ``region`` is a
    :class:`~taper.params.Region` or its name in any case; None: the region a plan taper
    wrote names in its first lines, else the US (the report says which)."""
    path = path_value(path, "path")
    given_region = None if region is None else parse_choice(Region, region, "region")
    if supply_days is not None:
        supply_days = days_value(supply_days, "supply_days")
    read = read_plan(path, table, drug, date_format)
    if given_region is not None:
        region, said = given_region, "as asked"
    elif read.region is not None:
        region, said = Region(read.region), "the region named in the file's first lines"
    else:
        region, said = Region.US, "by default: give the region the plan is dispensed in"
    by_day, first_date = read.by_day, read.first_date
    chosen = table.source(source or read.source or table.default_source)
    days = sorted(by_day)
    drug_names = tuple(dict.fromkeys(name for day in days for name, _ in by_day[day]))
    drugs = [table.drug(name) for name in drug_names]
    problems: list[Problem] = list(read.problems)
    notes: list[str] = []
    notes.append(f"products of the {region.value.upper()} ({said})")
    if source is None and read.source is not None:
        notes.append(f"equivalents by {chosen.id}, the source named in the file's first lines")
    missing = sorted(set(range(days[0], days[-1] + 1)) - set(days))
    if missing:
        column = "date" if read.dated else "day"
        problems.append(
            Problem(
                "missing-days",
                missing[0],
                f"missing: {_ranges(missing, first_date)} (each row is read as one day; if "
                f"each row starts a step that lasts until the next row, name the {column!r} "
                "column 'from' to read the file as a step table, see docs/check.md)",
            )
        )
        notes.append("the totals to dispense count only the days the file lists")
    if days[0] != 1:
        notes.append(f"the plan starts on day {days[0]}")

    keys = sorted(
        {key for doses in by_day.values() for key in doses},
        key=lambda key: (drug_names.index(key[0]), _day_order(key[1])),
    )
    steps = _steps(by_day, keys, table, drugs, problems)
    formularies = _formularies(table, drugs, region, products, notes)
    _check_dispensable(steps, formularies, problems, first_date)
    # the file's equivalents are those of the source it names (not of one asked for the report)
    named = table.source(read.source) if read.source else None
    unchecked = _check_stated(read, table, formularies, named)
    problems += unchecked.problems
    notes += unchecked.notes
    loads = _loads(steps, table, drugs, chosen)
    per_diazepam = None
    if chosen.id in steps[0].diazepam_by_source:
        ratios = {drug.name: ratio_to_diazepam(table, drug, chosen) for drug in drugs}
        per_diazepam = {name: ratio[0] for name, ratio in ratios.items() if ratio is not None}
    rises = _recorded_rises(read, table, first_date, problems, notes, str(path))
    _check_pace(steps, loads, formularies, problems, notes, per_diazepam, first_date, rises)
    runs = []
    left_out: list[int] = []
    preparer = DosePreparer(formularies)
    for index, step in enumerate(steps):
        made = []
        # A step of several drugs, or one the file's phase column puts in a crossover or
        # stabilization, is not the taper: its doses neither start nor follow a bottle, as in
        # the schedule (a liquid may make a converted dose exactly).
        tapering = len(step.totals_by_drug()) <= 1 and step.start_day not in read.off_taper_days
        for (name, slot), dose in step.doses.items():
            formulary = formularies.get(name)
            preparation = (
                preparer.prepare(name, dose, slot=slot, taper=tapering) if formulary else None
            )
            if preparation is not None and dose:
                made.append(DoseTime(name, slot, dose, preparation))
            elif dose and formulary is not None:
                left_out += range(step.start_day, step.end_day + 1)
        runs.append((step.start_day, step.end_day, tuple(made)))
        how = tuple(
            f"{dose.drug + ' ' if len(drugs) > 1 else ''}{dose.slot if dose.slot != DAILY else ''}"
            f"{': ' if dose.slot != DAILY or len(drugs) > 1 else ''}{dose.preparation.text()}"
            for dose in made
        )
        steps[index] = replace(step, how=how)
    small = small_volumes((start, dose) for start, _, doses in runs for dose in doses)
    for product, (least, days) in small.items():
        notes.append(
            f"doses of the {product.label()} under "
            f"{format_dose(MEASURABLE_CONCENTRATE_ML, 'mL')} (as little as "
            f"{format_dose(least, 'mL')}) from {day_name(days[0], first_date)}: "
            f"{SMALL_VOLUME_ADVICE}"
        )
    if left_out:
        notes.append(
            f"the totals to dispense leave out {_ranges(sorted(set(left_out)), first_date)}: "
            "doses there cannot be made from the products (see the problems above)"
        )
    all_products = tuple(p for f in formularies.values() for p in f.products)
    return PlanCheck(
        path=str(path),
        sha256=read.sha256,
        drugs=drug_names,
        source=chosen,
        first_date=first_date,
        steps=tuple(steps),
        problems=tuple(sorted(problems, key=lambda p: (p.day or 0, p.kind))),
        notes=tuple(notes),
        dispensing=quantities(
            units_used((doses, end - start + 1) for start, end, doses in runs), all_products
        ),
        unchecked=unchecked.columns,
        supply=supply_periods([run for run in runs if run[2]], supply_days, all_products)
        if supply_days and any(run[2] for run in runs)
        else (),
    )


@dataclass(frozen=True)
class _StatedCheck:
    problems: list[Problem]
    notes: list[str]
    columns: tuple[str, ...]


def _check_stated(
    read: PlanRows,
    table: EquivalenceTable,
    formularies: Mapping[str, Formulary],
    source: EquivalenceSource | None,
) -> _StatedCheck:
    """The ``take`` and ``diazepam_eq_mg`` cells against their rows' doses
    (:mod:`taper.stated`): a contradiction is a problem naming its line; a column whose cells
    could not all be read is named as not checked."""
    found, unread = stated_problems(read.stated, table, formularies, source, DAILY)
    found += together_problems(read.stated_together, table, source, DAILY)
    problems = [Problem(kind, None, message) for kind, message in found]
    notes = []
    for header, why in read.unread.items():
        notes.append(f"the {header!r} column was not checked: {why}")
    for header, (line, text, count) in unread.items():
        more = f" and {count - 1:,} more line{'s' * (count > 2)}" if count > 1 else ""
        why = (
            f"it is not in taper's wording ({TAKE_WORDING})"
            if _ROLE_OF.get(_normal(header)) == TAKE
            else "it is not a number of mg, or no source gives an equivalent for the drug"
            + ("" if source is None else f" under {source.id}")
        )
        notes.append(
            f"the {header!r} column was not checked on line {line}{more}: its cell {text!r} "
            f"could not be read with certainty ({why})"
        )
    if source is None and any(cell.role != TAKE for cell in read.stated):
        notes.append(
            "the file names no equivalence source: its diazepam equivalents were checked "
            "against every source of the table (a row's values pass when one source gives "
            "them all)"
        )
    columns = tuple(dict.fromkeys([*read.unread, *unread]))
    return _StatedCheck(problems, notes, columns)


def _day_order(slot: str) -> int:
    """Where a dose time comes in the day (a daily total first)."""
    return SLOTS.index(slot) if slot in SLOTS else -1


def _ranges(days: Sequence[int], first_date: dt.date | None = None) -> str:
    """``[3, 4, 5, 9]`` -> ``"days 3-5, 9"``; with dates, ``"2027-01-06 to 2027-01-08, ..."``."""
    groups = consecutive_runs(days)
    if first_date is not None:
        return ", ".join(
            day_name(a, first_date)
            if a == b
            else f"{day_name(a, first_date)} to {day_name(b, first_date)}"
            for a, b in groups
        )
    one = len(days) == 1
    return ("day " if one else "days ") + ", ".join(
        str(a) if a == b else f"{a}-{b}" for a, b in groups
    )


def _steps(
    by_day: Mapping[int, Mapping[tuple[str, str], Decimal]],
    keys: Sequence[tuple[str, str]],
    table: EquivalenceTable,
    drugs: Sequence[Drug],
    problems: list[Problem],
) -> list[CheckedStep]:
    """Consecutive days with the same doses, with the diazepam equivalent under each source."""
    steps: list[CheckedStep] = []
    current: dict[tuple[str, str], Decimal] | None = None
    start = previous_day = 0
    for day in sorted(by_day):
        doses = {key: by_day[day].get(key, Decimal(0)) for key in keys}
        if doses != current or day != previous_day + 1:
            if current is not None:
                steps.append(_checked(start, previous_day, current, table, drugs))
            current, start = doses, day
        previous_day = day
    assert current is not None
    steps.append(_checked(start, previous_day, current, table, drugs))
    return steps


def _checked(
    start: int,
    end: int,
    doses: Mapping[tuple[str, str], Decimal],
    table: EquivalenceTable,
    drugs: Sequence[Drug],
) -> CheckedStep:
    by_source = {}
    for source in table.sources.values():
        ratios = {}
        for drug in drugs:
            ratio = ratio_to_diazepam(table, drug, source)
            if ratio is None:
                break
            ratios[drug.name] = ratio
        else:
            low = high = Fraction(0)
            for (name, _), dose in doses.items():
                low += ratios[name][0] * Fraction(dose)
                high += ratios[name][1] * Fraction(dose)
            by_source[source.id] = (to_decimal(low)[0], to_decimal(high)[0])
    return CheckedStep(start, end, dict(doses), by_source, None)


def _formularies(
    table: EquivalenceTable,
    drugs: Sequence[Drug],
    region: str,
    products: Sequence[str],
    notes: list[str],
) -> dict[str, Formulary]:
    formularies = {}
    for drug in drugs:
        try:
            formularies[drug.name] = products_for(table, drug, region, products, drugs[-1].name)
        except InvalidRequestError:
            notes.append(
                f"no {drug.name} products are listed for region '{region}': its doses were "
                "not checked against products (give them with --product)"
            )
    return formularies


def _check_dispensable(
    steps: Sequence[CheckedStep],
    formularies: Mapping[str, Formulary],
    problems: list[Problem],
    first_date: dt.date | None,
) -> None:
    for step in steps:
        for (name, slot), dose in step.doses.items():
            formulary = formularies.get(name)
            if formulary is None or not dose or formulary.can_make(dose):
                continue
            when = "a day" if slot == DAILY else f"({slot})"
            problems.append(
                Problem(
                    "undispensable",
                    step.start_day,
                    f"{day_name(step.start_day, first_date)}: {name} {format_dose(dose)} "
                    f"{when} cannot be made from {formulary.describe()}",
                )
            )


def _loads(
    steps: Sequence[CheckedStep],
    table: EquivalenceTable,
    drugs: Sequence[Drug],
    source: EquivalenceSource,
) -> list[Fraction]:
    """Each step's diazepam equivalent under the chosen source (mg for one drug without one)."""
    if source.id in steps[0].diazepam_by_source:
        return [Fraction(step.diazepam_by_source[source.id][0]) for step in steps]
    if len(drugs) > 1:
        missing = next(d for d in drugs if ratio_to_diazepam(table, d, source) is None)
        covering = list(steps[0].diazepam_by_source)
        raise NoEquivalenceError(missing.name, source.id, covering)
    return [Fraction(sum(step.doses.values(), Decimal(0))) for step in steps]


def _possible_load(
    step: CheckedStep,
    formularies: Mapping[str, Formulary],
    per_diazepam: Mapping[str, Fraction] | None,
) -> Fraction | None:
    """The load after the smallest cut the products allow from ``step`` (at any one dose
    time of any drug), as the schedule measures it; None if a drug has no products."""
    best: Fraction | None = None
    doses = step.doses
    # the drugs the step gives (a drug of the plan with no dose here has no cut to make)
    for name in dict.fromkeys(drug for (drug, _), dose in doses.items() if dose):
        formulary = formularies.get(name)
        if formulary is None:
            return None
        keys = [key for key in doses if key[0] == name]
        per_mg = None if per_diazepam is None else per_diazepam[name]
        lowered = smallest_cut(
            tuple(doses[key] for key in keys), formulary, prescribing_step(per_mg, formulary)
        )
        changed = {**doses, **dict(zip(keys, lowered, strict=True))}
        load = sum(
            (
                (Fraction(1) if per_diazepam is None else per_diazepam[drug]) * Fraction(dose)
                for (drug, _), dose in changed.items()
            ),
            Fraction(0),
        )
        if best is None or load > best:
            best = load
    return best


def _check_pace(
    steps: list[CheckedStep],
    loads: Sequence[Fraction],
    formularies: Mapping[str, Formulary],
    problems: list[Problem],
    notes: list[str],
    per_diazepam: Mapping[str, Fraction] | None,
    first_date: dt.date | None,
    rises: Mapping[int, str] | None = None,
) -> None:
    """Increases (a revision's step back in ``rises`` is noted instead), 14-day windows over
    the ceiling, and a stop from more than the clinical end, judged by the rules the schedule
    flags its own steps by (:func:`taper.guideline.judge_cut`,
    :func:`taper.guideline.clinical_end_mg`): a cut the products force is noted, not a
    problem. ``per_diazepam`` holds each drug's diazepam mg per mg when the loads are diazepam
    equivalents."""
    starts = [step.start_day for step in steps]
    forced: list[int] = []
    crossing = _crossover_starts(steps, loads)
    what = "dose" if per_diazepam is None else "diazepam equivalent"

    def load_on(day: int) -> Fraction:
        return loads[max(0, bisect.bisect_right(starts, day) - 1)]

    for index in range(1, len(steps)):
        before, now = loads[index - 1], loads[index]
        day = steps[index].start_day
        if before:
            steps[index] = _with_cut(steps[index], (before - now) / before)
        rise = now - before
        level = crossing.get(index)
        went = (
            f"the {what} a day goes from {format_dose(_decimal(before))} to "
            f"{format_dose(_decimal(now))} (+{format_number(percent(rise / before))}%)"
            if before and rise > 0
            else ""
        )
        if rise > 0 and rises and day in rises:
            notes.append(f"{day_name(day, first_date)}: the dose goes up: {rises[day]}")
        elif rise > 0 and level is not None and now <= level * (1 + CROSSOVER_TOLERANCE):
            # taper's own rule: a crossover stage may make up what rounding to the products
            # lost at an earlier one, never above where the switch started
            notes.append(
                f"{day_name(day, first_date)}: in the crossover, {went}, making up what "
                "rounding to the products lost at an earlier stage: no more than the "
                f"{format_dose(_decimal(level))} a day before the crossover"
                + ("" if now <= level else f" and its {format_number(CROSSOVER_PERCENT)}%")
            )
        elif rise > 0:
            above = (
                ""
                if level is None
                else f", above the {format_dose(_decimal(level))} a day before the crossover"
            )
            problems.append(
                Problem(
                    "increase",
                    day,
                    f"{day_name(day, first_date)}: the dose goes up"
                    + (f": {went}{above}" if went else ""),
                )
            )
        earlier = load_on(day - WINDOW_DAYS)
        verdict = judge_cut(
            earlier,
            before,
            now,
            _possible_load(steps[index - 1], formularies, per_diazepam)
            if len(steps[index - 1].totals_by_drug()) == 1
            else None,  # a crossover: no reduction path to compare with, as in the schedule
            per_diazepam is not None,
        )
        if verdict is CutVerdict.FORCED:
            forced.append(day)
        elif verdict is CutVerdict.BREACH:
            cut = format_number(percent((earlier - now) / earlier))
            problems.append(
                Problem(
                    "ceiling",
                    day,
                    f"{day_name(day, first_date)}: the 14 days up to it cut {cut}%, above the 2025 "
                    "Joint Guideline's ceiling of 25% every 2 weeks"
                    + ("" if per_diazepam is None else " (and CKS's 2 mg diazepam equivalent)")
                    + "; a smaller cut could be made from the products",
                )
            )
    if forced:
        notes.append(
            f"the products force the cuts over the guideline's ceiling on "
            f"{', '.join(day_name(day, first_date) for day in forced)}: no smaller cut can be "
            "made at these dose times from the products (not a problem of the plan's pace)"
        )
    if loads[-1] != 0:
        notes.append("the plan does not end at zero")
        return
    last = steps[-2] if len(steps) > 1 else steps[-1]
    for name, total in last.totals_by_drug().items():
        formulary = formularies.get(name)
        if formulary is None:
            continue
        end = clinical_end_mg(
            formulary, total, None if per_diazepam is None else per_diazepam[name]
        )
        if total > end:
            problems.append(
                Problem(
                    "stop",
                    steps[-1].start_day,
                    f"{day_name(steps[-1].start_day, first_date)}: stops from "
                    f"{format_dose(total)} of {name} a day, more than its clinical end of "
                    f"{format_dose(end)} (about 1 mg diazepam equivalent, NICE CKS, or the "
                    "smallest dose the products make)",
                )
            )


def _crossover_starts(
    steps: Sequence[CheckedStep], loads: Sequence[Fraction]
) -> dict[int, Fraction]:
    """The steps of a crossover (several drugs, or drugs other than the step before's: the
    last stage, on the new drug alone), by index, each with the load before the crossover
    began (the step before its first stage)."""
    starts: dict[int, Fraction] = {}
    level: Fraction | None = None
    for index in range(1, len(steps)):
        drugs = set(steps[index].totals_by_drug())
        earlier = set(steps[index - 1].totals_by_drug())
        if drugs and (len(drugs) > 1 or (earlier and drugs != earlier)):
            if index - 1 not in starts:
                level = loads[index - 1]
            assert level is not None
            starts[index] = level
    return starts


def _recorded_rises(
    read: PlanRows,
    table: EquivalenceTable,
    first_date: dt.date | None,
    problems: list[Problem],
    notes: list[str],
    shown: str,
) -> dict[int, str]:
    """The days on which a revised plan taper wrote goes back up on purpose (a revision's
    step back, or a dose taken above the plan's), by day: only from a file that is what taper
    wrote (:func:`taper.revise.plan_from_text`), so that no edited line can excuse a rise.
    A file whose first lines say taper wrote it, but which is not what taper writes, is a
    problem (``edited``): its revisions excuse nothing, and its doses are checked as they are
    (with the region and source its first lines name, as the notes say). One made with another
    table is a note. Read from the text that was checked (standard input is read once)."""
    if read.taper_text is None:
        return {}
    from taper.revise import plan_from_text, recorded_table

    recorded = _leads_with(read.taper_text, "# revisions ")
    revisions = "; its revisions are not taken into account" if recorded else ""
    made_with = recorded_table(read.taper_text)
    if made_with is not None and made_with != table.sha256:
        # taper's own file, made with another table: nothing to say against the file
        notes.append(
            f"the file was made with the equivalence table of sha256 {made_with[:12]}"
            f"..., not this one: its doses are checked against this one{revisions}"
        )
        return {}
    try:
        plan = plan_from_text(read.taper_text, table, shown)
    except TaperError as exc:
        line = exc.line if isinstance(exc, DataFileError) else None
        where = f"its line {line}" if line else "it"
        reason = str(exc).removeprefix(f"{shown}, line {line}: " if line else f"{shown}: ")
        problems.append(
            Problem(
                "edited",
                None,
                f"the file's first lines say taper wrote it, but {where} {reason}; its doses "
                f"are checked as they are{revisions}",
            )
        )
        return {}
    if first_date is None:
        return {}
    return {
        (revision.on - first_date).days + 1: f"revision {revision.number} ({revision.description})"
        for revision in plan.revisions
        if revision.action in {"back", "taken"}
    }


def _decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal at the 0.001 mg resolution of doses (rounded up)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_CEILING
    )


def _with_cut(step: CheckedStep, cut: Fraction) -> CheckedStep:
    return CheckedStep(
        step.start_day, step.end_day, step.doses, step.diazepam_by_source, percent(cut)
    )


def describe_doses(step: CheckedStep, *, with_drug: bool = True) -> str:
    """``"clonazepam 0.5 mg morning, clonazepam 1 mg night"`` for a step's doses."""
    parts = []
    for (name, slot), dose in step.doses.items():
        if dose:
            drug = f"{name} " if with_drug else ""
            where = "" if slot == DAILY else f" {slot}"
            parts.append(f"{drug}{format_dose(dose)}{where}")
    return ", ".join(parts) or "nothing"


def check_document(result: PlanCheck, table: EquivalenceTable) -> dict[str, Any]:
    """``taper check`` as JSON: the steps found, the problems and the total to dispense."""
    from taper.records import SCHEMA_VERSION, dispensed_records, number, period_records, provenance

    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "input": {"path": result.path, "sha256": result.sha256, "source": result.source.id},
        "clean": result.clean,
        "drugs": list(result.drugs),
        "first_date": None if result.first_date is None else result.first_date.isoformat(),
        "steps": [
            {
                "start_day": step.start_day,
                "end_day": step.end_day,
                "doses": describe_doses(step),
                "total_mg_by_drug": {d: number(t) for d, t in step.totals_by_drug().items()},
                "cut_percent": None if step.cut_percent is None else number(step.cut_percent),
                "diazepam_eq_mg": {
                    source: [number(low), number(high)]
                    for source, (low, high) in step.diazepam_by_source.items()
                },
            }
            for step in result.steps
        ],
        "problems": [
            {"kind": problem.kind, "day": problem.day, "message": problem.message}
            for problem in result.problems
        ],
        "notes": list(result.notes),
        "unchecked_columns": list(result.unchecked),
        "dispensing": dispensed_records(result.dispensing),
        "periods": period_records(result.supply),
    }
