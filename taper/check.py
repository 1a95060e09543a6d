"""Check a taper plan someone else wrote: what a pharmacist runs before dispensing.

A plan is a CSV file. The simple format has a header and one row per day (or per day and
dose time); lines starting with ``#`` are comments:

    day,dose_mg            (or date,dose_mg; add a slot column for doses per time of day,
    1,1                     and a drug column, or give the drug with --drug)
    2,1
    ...

Columns: ``day`` (1, 2, ...) and/or ``date`` (YYYY-MM-DD); ``dose_mg`` (a number of mg) or
``dose`` (with a unit: ``0.5mg``, ``500mcg``); optional ``slot`` (morning, midday,
afternoon, evening, night, bedtime) and ``drug``. Other columns are ignored, so the CSV that
``taper schedule --format csv`` writes is read as it is.

The check reports: doses that no product can make, increases, steps and 14-day windows beyond
the guideline ceiling (25% in 2 weeks), a stop from a dose higher than the products' smallest,
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
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from pathlib import Path

from taper.dispensing import DosePreparer, quantities, supply_periods, units_used
from taper.doses import parse_dose
from taper.errors import InvalidRequestError, NoEquivalenceError, PlanFileError, TaperError
from taper.files import csv_records, read_text
from taper.formatting import format_dose, format_number, to_decimal
from taper.guideline import (
    END_DIAZEPAM_MG,
    WINDOW_DAYS,
    over_ceiling,
    percent,
    smallest_dose_mg,
)
from taper.params import parse_slot
from taper.plan import DispensedProduct, DoseTime, SupplyPeriod
from taper.products import Formulary
from taper.regimen import products_for
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ratio_to_diazepam
from taper.values import path_value

#: Plan files larger than this are not plans.
MAX_PLAN_BYTES = 20 * 1024 * 1024
#: The longest plan checked: twice the ten years of the longest plan taper makes (one step
#: row from year 1 to 9999 took 20 s and 800 MB, day by day).
MAX_PLAN_DAYS = 7305
#: A rise of the diazepam equivalent by more than this, with several drugs, is an increase
#: (a crossover rounds each new dose to its products).
CROSSOVER_TOLERANCE = Fraction(5, 100)
DAILY = "daily"


@dataclass(frozen=True)
class Problem:
    kind: str  # undispensable, increase, ceiling, stop, missing-days, repeated-day
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


def _dose(text: str, column: str) -> Decimal:
    text = text.strip()
    if column == "dose":
        return Decimal(0) if text in {"0", "0mg"} else parse_dose(text)
    if column != "dose_mg":  # a column per dose time, or a step table: "10", "10mg", "stop"
        if text.lower().replace(" ", "") in NO_DOSE:
            return Decimal(0)
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text, re.ASCII):
            return parse_dose(text)
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text, re.ASCII):
        raise InvalidRequestError(f"dose_mg {text!r} is not a plain number of mg")
    value = Decimal(text)
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
            f"date {text!r} could be day-first or month-first: say which with "
            "--date-format dd/mm/yyyy or --date-format mm/dd/yyyy"
        )
    try:
        return dt.datetime.strptime(re.sub(r"[.-]", "/", text), DATE_FORMATS[date_format]).date()
    except ValueError:
        raise InvalidRequestError(f"date {text!r} is not a {date_format} date") from None


def _columns(header: list[str]) -> tuple[str | None, dict[str, str]]:
    """The dose column (``dose_mg`` or ``dose``) or, without one, a column per dose time."""
    if "dose_mg" in header:
        return "dose_mg", {}
    if "dose" in header:
        return "dose", {}
    wide = {}
    for name in header:
        try:
            wide[name] = parse_slot(name)
        except InvalidRequestError:
            continue
    return None, wide


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
    header, header_line, records = csv_records(text, fail)
    steps = "from" in header
    if not steps and "day" not in header and "date" not in header:
        raise fail(header_line, "needs a 'day', 'date' or 'from' column")
    dose_column, wide = _columns(header)
    if dose_column is None and not wide:
        raise fail(header_line, "needs a 'dose_mg' or 'dose' column, or one per dose time")
    if "drug" not in header and drug is None:
        raise fail(header_line, "has no 'drug' column: give the drug with --drug")
    default_drug = table.drug(drug).name if drug else None
    names: dict[str, str] = {}
    # Day numbers, and date ordinals until the first date is known.
    found: dict[tuple[bool, int], Doses] = {}
    ends: dict[tuple[bool, int], tuple[bool, int]] = {}  # a step table's 'to' cells
    repeats: dict[tuple[bool, int, str, str], list[int]] = {}
    anchor: dt.date | None = None  # day 1's date, from a row with both a day and a date
    for line, cells in records:
        if None in cells or any(value is None for value in cells.values()):
            raise fail(line, "has a different number of cells than the header")
        record = {str(key): str(value) for key, value in cells.items()}
        try:
            if steps:
                if not record["from"].strip():
                    raise InvalidRequestError("gives no 'from' day or date")
                key = _when(record["from"], "from", date_format)
                if record.get("to", "").strip():
                    ends[key] = _when(record["to"], "to", date_format)
            elif record.get("day", "").strip():
                key = _when(record["day"], "day", date_format)
                if anchor is None and record.get("date", "").strip():
                    dated = parse_plan_date(record["date"], date_format)
                    anchor = dated - dt.timedelta(days=key[1] - 1)
            elif record.get("date", "").strip():
                key = _when(record["date"], "date", date_format)
            else:
                raise InvalidRequestError("gives neither a day nor a date")
            name = record.get("drug", "").strip()
            if not name and default_drug is None:
                raise InvalidRequestError("has an empty drug cell: fill it in or give --drug")
            the_drug = (names.get(name) or table.drug(name).name) if name else default_drug
            assert the_drug is not None
            names[name] = the_drug
            if dose_column is not None:
                slot = parse_slot(record["slot"]) if record.get("slot", "").strip() else DAILY
                doses = [(slot, _dose(record[dose_column], dose_column))]
            else:
                doses = [(slot, _dose(record[column], "slot")) for column, slot in wide.items()]
        except (TaperError, ValueError) as exc:
            raise fail(line, str(exc)) from exc
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
        by_day = _expand_steps(by_day, {day_of(k): day_of(v) for k, v in ends.items()}, fail)
    return PlanRows(
        by_day,
        first_date,
        sha256,
        _repeat_problems(repeats, offset, first_date),
        _provenance_source(text),
    )


_PROVENANCE_SOURCE = re.compile(r"# source ([a-z0-9][a-z0-9-]*); ", re.ASCII)


def _provenance_source(text: str) -> str | None:
    """The source a plan written by taper was made with, from its leading ``#`` lines."""
    for line in itertools.islice(io.StringIO(text), 5):
        if not line.startswith("#"):
            return None
        if match := _PROVENANCE_SOURCE.match(line):
            return match.group(1)
    return None


def _expand_steps(
    starts: dict[int, Doses], ends: dict[int, int], fail: Callable[[int | None, str], Exception]
) -> dict[int, Doses]:
    """A step table (a row per step, from its first day) as the doses of each day."""
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
        for day in range(first, last + 1):
            by_day[day] = doses
    return by_day


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
    region: str = "us",
    products: Sequence[str] = (),
    source: str | None = None,
    date_format: str | None = None,
    supply_days: int | None = None,
) -> PlanCheck:
    """Read and check a plan file (see the module docstring)."""
    path = path_value(path, "path")
    read = read_plan(path, table, drug, date_format)
    by_day, first_date = read.by_day, read.first_date
    chosen = table.source(source or read.source or table.default_source)
    days = sorted(by_day)
    drug_names = tuple(dict.fromkeys(name for day in days for name, _ in by_day[day]))
    drugs = [table.drug(name) for name in drug_names]
    problems: list[Problem] = list(read.problems)
    notes: list[str] = []
    if source is None and read.source is not None:
        notes.append(f"equivalents by {chosen.id}, the source named in the file's first lines")
    missing = sorted(set(range(days[0], days[-1] + 1)) - set(days))
    if missing:
        problems.append(
            Problem("missing-days", missing[0], f"missing: {_ranges(missing, first_date)}")
        )
    if days[0] != 1:
        notes.append(f"the plan starts on day {days[0]}")

    keys = sorted({key for doses in by_day.values() for key in doses})
    steps = _steps(by_day, keys, table, drugs, problems)
    formularies = _formularies(table, drugs, region, products, notes)
    _check_dispensable(steps, formularies, problems, first_date)
    loads = _loads(steps, table, drugs, chosen)
    per_diazepam = None
    if chosen.id in steps[0].diazepam_by_source:
        ratios = {drug.name: ratio_to_diazepam(table, drug, chosen) for drug in drugs}
        per_diazepam = {name: ratio[0] for name, ratio in ratios.items() if ratio is not None}
    _check_pace(steps, loads, formularies, problems, notes, per_diazepam, first_date)
    runs = []
    left_out: list[int] = []
    preparer = DosePreparer(formularies)
    for index, step in enumerate(steps):
        made = []
        for (name, slot), dose in step.doses.items():
            formulary = formularies.get(name)
            preparation = preparer.prepare(name, dose) if formulary else None
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
        supply=supply_periods([run for run in runs if run[2]], supply_days, all_products)
        if supply_days and any(run[2] for run in runs)
        else (),
    )


def _ranges(days: Sequence[int], first_date: dt.date | None = None) -> str:
    """``[3, 4, 5, 9]`` -> ``"days 3-5, 9"``; with dates, ``"2027-01-06 to 2027-01-08, ..."``."""
    groups: list[list[int]] = []
    for day in days:
        if groups and day == groups[-1][1] + 1:
            groups[-1][1] = day
        else:
            groups.append([day, day])
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
                f"no {drug.name} products are listed for region {region!r}: its doses were not "
                "checked against products (give them with --product)"
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


def _check_pace(
    steps: list[CheckedStep],
    loads: Sequence[Fraction],
    formularies: Mapping[str, Formulary],
    problems: list[Problem],
    notes: list[str],
    per_diazepam: Mapping[str, Fraction] | None,
    first_date: dt.date | None,
) -> None:
    """Increases, 14-day windows over the ceiling (as the engine judges them, the stop
    included), and a stop from more than the clinical end. ``per_diazepam`` holds each
    drug's diazepam mg per mg when the loads are diazepam equivalents."""
    single = len({name for step in steps for name in step.totals_by_drug()}) <= 1
    starts = [step.start_day for step in steps]

    def load_on(day: int) -> Fraction:
        return loads[max(0, bisect.bisect_right(starts, day) - 1)]

    for index in range(1, len(steps)):
        before, now = loads[index - 1], loads[index]
        day = steps[index].start_day
        if before:
            steps[index] = _with_cut(steps[index], (before - now) / before)
        rise = now - before
        if rise > 0 and (single or rise > before * CROSSOVER_TOLERANCE):
            problems.append(
                Problem("increase", day, f"{day_name(day, first_date)}: the dose goes up")
            )
        earlier = load_on(day - WINDOW_DAYS)
        if over_ceiling(earlier, now, per_diazepam is not None):
            cut = format_number(percent((earlier - now) / earlier))
            problems.append(
                Problem(
                    "ceiling",
                    day,
                    f"{day_name(day, first_date)}: the 14 days up to it cut {cut}%, above the 2025 "
                    "Joint Guideline's ceiling of 25% every 2 weeks"
                    + ("" if per_diazepam is None else " (and CKS's 2 mg diazepam equivalent)"),
                )
            )
    if loads[-1] != 0:
        notes.append("the plan does not end at zero")
        return
    last = steps[-2] if len(steps) > 1 else steps[-1]
    for name, total in last.totals_by_drug().items():
        formulary = formularies.get(name)
        if formulary is None:
            continue
        end = smallest_dose_mg(formulary, total)
        if per_diazepam is not None:
            end = max(end, _decimal(Fraction(END_DIAZEPAM_MG) / per_diazepam[name]))
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
