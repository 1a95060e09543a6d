"""Terminal rendering: the rich tables and lines that ``taper`` prints.

The only part of the library that imports rich. Everything shown here is computed by the
library (doses, cuts, quantities, wording of results); this module lays it out for a
terminal, with markup off so that no text from a user's table is read as markup, and with
every control character of such text (and of file paths) made visible
(:func:`taper.formatting.printable`): no escape sequence of a user's table reaches the
terminal.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table

from taper import __version__
from taper.formatting import (
    format_cut,
    format_dose,
    format_dose_range,
    format_number,
    printable,
)
from taper.notices import Kind

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from taper.check import PlanCheck
    from taper.convert import Conversion
    from taper.outputs import PlanFormat, PlanOutputs
    from taper.plan import Plan, SupplyPeriod
    from taper.table import Drug, EquivalenceTable, ValueRange

DRAFT_NOTICE = (
    "Draft for clinical review: equivalences are approximate and vary between people "
    "and between sources."
)


#: Holds a number to its unit (and other pairs that must not part) while rich wraps lines: a
#: blank that is not whitespace to rich. It is written out as a plain space.
GLUE = "\u2800"
_GLUED = re.compile(
    r"(?<=[0-9]) (?=(?:mg|mL|mcg|days?|tablets?|capsules?|d|times|sources?)\b)|(?<=\bto) (?=[0-9])"
    r"|(?<=[0-9]) (?=×)|(?<=×) (?=\S)|(?<=[0-9]) (?=to [0-9])"
)


def glue(text: str) -> str:
    """``"15 mg"`` as one word for wrapping: a line never breaks between a number and its
    unit."""
    return _GLUED.sub(GLUE, text)


class _Unglued:
    """Standard output (whatever it is when written to), with the glue written as spaces."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text.replace(GLUE, " "))

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()

    @property
    def encoding(self) -> str:
        return getattr(sys.stdout, "encoding", "utf-8") or "utf-8"


class GluedConsole(Console):
    """A console that keeps numbers with their units when it wraps text."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(glue(o) if isinstance(o, str) else o for o in objects), **kwargs)


class GluedTable(Table):
    """A table whose text cells keep numbers with their units."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(glue(r) if isinstance(r, str) else r for r in renderables), **kwargs)


def console() -> Console:
    """The console for standard output (no highlighting, no soft wrapping)."""
    return GluedConsole(highlight=False, soft_wrap=False, file=cast(IO[str], _Unglued()))


def footer(table: EquivalenceTable) -> str:
    return f"taper {__version__} · table {printable(table.path)} · sha256 {table.sha256[:12]}"


def value_text(value: ValueRange | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text, high = format_number(value.low), format_number(value.high)
    if high != text:  # one value when both ends show alike, never "1 to 1"
        text += f" to {high}"
    return f"{text} {unit}".rstrip()


def render_drugs(table: EquivalenceTable, selected: list[Drug]) -> None:
    """The drugs, their half-lives, usual maximum and equivalents under each source."""
    title = (
        f"Doses equal to {table.reference_drug} {format_dose(table.reference_dose_mg)}, by source"
    )
    headings = ("Drug", "Class", "Half-life (hours)", "Usual max/day", "Equivalent (mg)")
    rows: list[tuple[str, ...]] = []
    for drug in selected:
        names_cell = "\n".join(printable(n) for n in [drug.tall_man or drug.name, *drug.aliases])
        half_lives = [
            f"{source_id}: {value_text(value)}"
            + (
                f" [{value_text(drug.metabolite_half_life_hours[source_id])}]"
                if source_id in drug.metabolite_half_life_hours
                else ""
            )
            for source_id, value in drug.half_life_hours.items()
        ]
        equivalents = []
        for source in table.sources.values():
            value = table.equivalent(drug, source)
            if value is not None:
                marker = " *" if table.rescale_factor(source) != 1 else ""
                equivalents.append(f"{source.id}: {value_text(value)}{marker}")
        maximum = "—"
        if drug.max_daily:
            single = drug.max_daily.single_mg
            maximum = "\n".join(
                [format_dose(drug.max_daily.mg)]
                + ([f"{format_dose(single)} at one time"] if single is not None else [])
                + [f"({printable(drug.max_daily.note)})"]
            )
        acting = f"\n{drug.acting}-acting" if drug.acting else ""
        rows.append(
            (
                names_cell,
                drug.drug_class + acting,
                "\n".join(half_lives) or "not in reference",
                maximum,
                "\n".join(equivalents + [printable(note) for note in drug.notes]),
            )
        )
    out = console()
    print_table_or_records(out, title, headings, rows)
    out.print(
        "* published per diazepam 5 mg and doubled here. [brackets]: active metabolite.",
        markup=False,
    )
    out.print(footer(table), markup=False, style="dim")


def render_sources(table: EquivalenceTable) -> None:
    """The equivalence sources: id, title, year, grade, reference dose; the addresses after
    them, one a line and never broken, so that they can be copied."""
    headings = ("Id", "Source", "Year", "Grade", "Published per")
    rows: list[tuple[str, ...]] = []
    addresses: list[str] = []
    for source in table.sources.values():
        factor = table.rescale_factor(source)
        reference = f"{table.reference_drug} {format_dose(source.reference_dose_mg)}"
        if factor != 1:
            reference += f"\n(values ×{format_number(factor)} here)"
        default = "\n(default)" if source.id == table.default_source else ""
        details = "\n".join(
            printable(part) for part in (source.title, source.author, source.note) if part
        )
        rows.append(
            (
                source.id + default,
                details,
                str(source.year) if source.year else "—",
                source.grade,
                reference,
            )
        )
        if source.url:
            addresses.append(f"{source.id}: {printable(source.url)}")
    out = console()
    print_table_or_records(out, "Equivalence sources", headings, rows)
    if addresses:
        out.print("Addresses:", markup=False)
        for line in addresses:
            out.print(line, markup=False, soft_wrap=True)
    out.print(
        "Grades: A guideline, regulator or label; B professional secondary source; "
        "C secondary copy.",
        markup=False,
    )
    out.print(footer(table), markup=False, style="dim")


def render_paces() -> None:
    """The named paces (``--pace``): what each does, the options it sets as the command line
    takes them, the drugs it covers; its source after them, one a line, never broken."""
    from taper.options import flag_spelling
    from taper.presets import PACES

    rows = [
        (
            pace.name,
            pace.summary,
            "\n".join(
                flag_spelling(name, value).replace(" ", GLUE)  # a flag with its value
                for name, value in pace.sets.items()
            ),
            pace.covers or "every drug",
        )
        for pace in PACES.values()
    ]
    out = console()
    print_table_or_records(out, "Named paces (--pace NAME)", ("Pace", "What it does",
                           "Sets", "Covers"), rows)  # fmt: skip
    out.print("Sources:", markup=False)
    for pace in PACES.values():
        out.print(f"{pace.name}: {printable(pace.source)}", markup=False, soft_wrap=True)
    out.print(
        "Options given with --pace override what it sets (the plan says which).", markup=False
    )
    out.print(f"taper {__version__}", markup=False, style="dim")


def print_table_or_records(
    out: Console, title: str, headings: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """Rows as a table whose columns keep every word whole (and every number with its
    unit); when the terminal is too narrow for that, as records: the first cell as a
    heading line, then one ``Heading: value`` paragraph per other cell, wrapped at spaces."""
    widths = column_widths(headings, rows, out.width)
    if widths is not None:
        grid = GluedTable(title=title, show_lines=True)
        for heading, size in zip(headings, widths, strict=True):
            grid.add_column(heading, width=size)
        for row in rows:
            grid.add_row(*row)
        out.print(grid, markup=False)
        return
    import textwrap

    out.print(title, markup=False, style="bold")
    for first, *cells in rows:
        out.print(markup=False)
        out.print(" · ".join(first.splitlines()), markup=False, style="bold", soft_wrap=True)
        for heading, cell in zip(headings[1:], cells, strict=True):
            text = glue(f"{heading}: " + "; ".join(cell.splitlines()))
            for line in textwrap.wrap(
                text,
                width=max(out.width - 1, 20),
                initial_indent="  ",
                subsequent_indent="    ",
                break_long_words=False,
                break_on_hyphens=False,
            ):
                out.print(line, markup=False, soft_wrap=True)
    out.print(markup=False)


#: What a source's grade means (the schema of equivalences.toml).
GRADE_WORDS = {
    "A": "= a guideline, regulator or label",
    "B": "= a professional secondary source",
    "C": "= another secondary source",
}


def render_conversion(
    conversion: Conversion, table: EquivalenceTable, *, all_sources: bool
) -> None:
    inputs = " + ".join(
        f"{item.drug.name} {format_dose(item.dose_mg)}" for item in conversion.inputs
    )
    chosen = conversion.chosen
    grid = GluedTable()
    grid.add_column("Source")
    grid.add_column("Grade")
    grid.add_column(f"{conversion.target.name} dose", justify="right")
    results = conversion.results if all_sources else (chosen,)
    for result in results:
        label = result.source.id + (" (chosen)" if result is chosen and all_sources else "")
        grid.add_row(label, result.source.grade, result.text())
    spread = conversion.spread
    if all_sources and spread is not None:
        grid.add_section()
        grid.add_row(
            "all sources",
            "",
            spread.summary(),
        )
    out = console()
    out.print(DRAFT_NOTICE, markup=False, style="bold")
    out.print(f"{inputs} → {conversion.target.name}", markup=False)
    for item, part in conversion.parts:
        out.print(
            f"  {item.drug.name} {format_dose(item.dose_mg)} → {part.text()} "
            f"{conversion.target.name} (by {part.source.id})",
            markup=False,
        )
    out.print(grid, markup=False)
    grades = sorted({result.source.grade for result in results})
    out.print(
        "Grade: " + "; ".join(f"{grade} {GRADE_WORDS.get(grade, grade)}" for grade in grades),
        markup=False,
    )
    if conversion.disagreement and not all_sources:
        out.print(conversion.disagreement, markup=False)
    for warning in conversion.warnings:
        out.print(f"Warning: {printable(str(warning))}", markup=False, style="yellow")
    out.print(footer(table), markup=False, style="dim")


def column_widths(
    headings: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> list[int] | None:
    """Widths for the columns of a table ``width`` characters wide in which no word (and no
    number with its unit) is broken: each column gets its longest word, and the room left is
    shared in proportion to how much more each column's longest line needs. None when even
    the longest words do not fit."""
    columns = list(zip(headings, *rows, strict=True))
    least = [
        max(len(word) for text in column for word in glue(text).split() or [""])
        for column in columns
    ]
    most = [
        max(len(line) for text in column for line in text.splitlines() or [""])
        for column in columns
    ]
    room = width - 3 * len(columns) - 1
    if sum(least) > room:
        return None
    if sum(most) <= room:
        return most
    spare = room - sum(least)
    wanted = [high - low for low, high in zip(least, most, strict=True)]
    shares = [spare * extra // sum(wanted) for extra in wanted]
    return [low + share for low, share in zip(least, shares, strict=True)]


def _steps_table(headings: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> Table:
    """The steps as a table, a column per dose time where it fits; where it does not, each
    step's doses stacked in one column, one dose time a line."""
    widths = column_widths(headings, rows, width)
    if widths is not None:
        grid = GluedTable()
        for heading, size in zip(headings, widths, strict=True):
            grid.add_column(heading, width=size)
        for row in rows:
            grid.add_row(*row)
        return grid
    grid = GluedTable(show_lines=True)
    grid.add_column(f"{headings[0]} / {headings[1]}")
    grid.add_column("Doses")
    slots = headings[2:-2]
    for number, start, *doses, total, cut in rows:
        lines = [
            f"{slot}: {' + '.join(dose.splitlines())}"
            for slot, dose in zip(slots, doses, strict=True)
        ]
        *taken, equivalent = total.splitlines()
        lines.append(f"total: {' + '.join(taken)}, diazepam {equivalent.strip('()')}")
        if cut:
            lines.append(f"cut: {', '.join(cut.splitlines())}")
        grid.add_row(f"{number}\n{start}", "\n".join(lines))
    return grid


#: Notes a plan's text shows first, under the draft notice, rather than with its warnings.
_FIRST_LINES = frozenset({Kind.DOSE_TIME_ADDED, Kind.PACE})


def render_plan(plan: Plan, table: EquivalenceTable, out: Console, *, daily: bool) -> None:
    request = plan.request
    out.print(DRAFT_NOTICE, markup=False, style="bold")
    for warning in plan.warnings:  # an added dose time, and the pace asked for: said first
        if warning.kind in _FIRST_LINES:
            out.print(f"Note: {printable(str(warning))}", markup=False, style="bold yellow")
    out.print(plan.regimen_text(), markup=False)
    if plan.conversion is not None:
        current = " + ".join(
            f"{item.drug.name} {format_dose(item.dose_mg)}" for item in plan.conversion.inputs
        )
        first = (
            f"Taper {plan.drugs[0].name} while its products keep the pace, then switch "
            if request.finish_on
            else "Switch "
        )
        out.print(
            f"{first}{current} a day to {plan.drug.name}: crossover {request.crossover.value}, "
            f"stages of {request.stage_days} days, then {request.stabilize_days} days of "
            f"stabilization. The {plan.drug.name} dose a day under each source:",
            markup=False,
        )
        for result in plan.conversion.results:
            chosen = " (used)" if result.source.id == plan.source.id else ""
            out.print(f"  {result.source.id}: {result.text()}{chosen}", markup=False)
    pace = request.pace_text()
    out.print(
        f"{printable(plan.drug.tall_man or plan.drug.name)}: {request.method.value} taper, "
        f"{pace}, every "
        f"{request.interval_days} days; order {request.order.value}; diazepam equivalents "
        f"by {plan.source.id}.",
        markup=False,
    )
    for drug in plan.drugs:
        out.print(
            f"Products for {drug.name}: {printable(plan.formularies[drug.name].describe())}.",
            markup=False,
        )
    if plan.resolved_pace:
        out.print(f"Pace found for the target end: {plan.resolved_pace}.", markup=False)
    if plan.risk is not None:
        band = (
            f"; dose band {plan.risk.dose_band} (by {plan.risk.band_basis})"
            if plan.risk.dose_band
            else ""
        )
        out.print(f"Withdrawal risk: {plan.risk.summary}{band}.", markup=False)
    start_note = " (today: set --start to fix it)" if plan.start_is_default else ""
    out.print(f"Starts {plan.start_date.isoformat()}{start_note}.", markup=False)
    for revision in plan.revisions:
        out.print(
            f"Revision {revision.number} from {revision.on.isoformat()}: "
            f"{printable(revision.description)}; replaces the plan with sha256 "
            f"{revision.replaces_sha256[:12]}...",
            markup=False,
            style="bold",
        )
        for note in revision.notes:
            out.print(f"  {note}", markup=False)
    grid: Table = GluedTable()
    phases = plan.is_substitution
    if daily:
        for column in ("Day", "Date", "Phase", *plan.slots, "Daily total"):
            grid.add_column(column)
        for day in plan.days():
            grid.add_row(
                str(day.day),
                day.date.isoformat(),
                day.phase,
                *(plan.doses_text([d for d in day.doses if d.slot == slot]) for slot in plan.slots),
                plan.doses_text(day.doses),
            )
    else:
        rows = []
        for item in plan.steps:
            flags = [
                *(["held"] if any(n.startswith("held") for n in item.notes) else []),
                *([f"hold {item.hold_days} d"] if item.hold_days else []),
                *(["forced"] if item.forced else []),
                *(["over ceiling"] if item.exceeds_ceiling else []),
                *(["stop"] if item.phase == "stop" else []),
            ]
            cut = format_cut(item.cut_percent)
            days = f"{item.days} days" if item.days > 1 else "1 day"
            phase = f"\n{item.phase}" if phases and item.phase != "stop" else ""
            rows.append(
                (
                    str(item.number),
                    f"{plan.date_of(item.start_day).isoformat()}\n{days}{phase}",
                    *(
                        plan.doses_text([d for d in item.doses if d.slot == slot])
                        for slot in plan.slots
                    ),
                    f"{plan.doses_text(item.doses)}\n({plan.diazepam_text(item.doses)})",
                    "\n".join([cut, *flags]).strip(),
                )
            )
        headings = ("Step", "From", *plan.slots, "Daily total (diazepam)", "Cut")
        grid = _steps_table(headings, rows, out.width)
    out.print(grid, markup=False)
    # Each way a dose is made, with the dose times that take it that way where a dose is
    # made in more than one way (a 0.5 mg night tablet and 5 mL of solution in the morning):
    # the list never contradicts a step.
    ways: dict[tuple[str, Decimal], dict[str, list[str]]] = {}
    for item in plan.steps:
        for dose in item.doses:
            if dose.dose_mg > 0:
                made = ways.setdefault((dose.drug, dose.dose_mg), {})
                slots = made.setdefault(dose.preparation.text(), [])
                if dose.slot not in slots:
                    slots.append(dose.slot)
    out.print("What to take for each dose:", markup=False)
    for drug_name, dose_mg in sorted(ways, key=lambda key: (key[0], -key[1])):
        name = f" {drug_name}" if phases else ""
        made = ways[drug_name, dose_mg]
        for text, slots in made.items():
            where = f" ({', '.join(s for s in plan.slots if s in slots)})" if len(made) > 1 else ""
            out.print(f"  {format_dose(dose_mg)}{name}{where}: {text}", markup=False)
    for line in plan.cutting_notes():
        out.print(f"  {printable(line)}", markup=False)
    checks = plan.checks
    out.print(
        f"Duration {checks.duration_days} days, {checks.reductions} reductions, last dose "
        f"{plan.date_of(checks.duration_days).isoformat()}, first day without "
        f"{plan.drug.name} {checks.end_date.isoformat()}. Largest cut in any 2 weeks: "
        f"{format_number(checks.largest_14_day_reduction_percent)}% (from day "
        f"{checks.largest_14_day_window_start}); first 2 weeks: "
        f"{format_number(checks.first_14_day_reduction_percent)}%.",
        markup=False,
    )
    out.print(
        "held: the products cannot make a smaller cut yet; forced: the products cannot make a "
        "cut within the ceiling there; over ceiling: the pace cuts more than 25% (and more "
        "than 2 mg diazepam equivalent) in the 2 weeks up to it.",
        markup=False,
        style="dim",
    )
    for warning in plan.warnings:
        if warning.kind not in _FIRST_LINES:
            out.print(f"Warning: {printable(str(warning))}", markup=False, style="yellow")
    from taper.reviews import plan_reviews

    reviews = plan_reviews(plan)
    if reviews:
        out.print(
            "Reviews (NHS Scotland 2024; 2025 Joint Guideline): "
            + ", ".join(f"{review.date.isoformat()} ({review.kind})" for review in reviews)
            + f". Plan sha256 {plan.content_sha256()}.",
            markup=False,
        )
    dispense = GluedTable(title="To dispense for the whole plan", title_justify="left")
    dispense.add_column("Product")
    dispense.add_column("Quantity", justify="right")
    for entry in plan.dispensing:
        drug_name = f"{entry.product.drug} " if plan.is_substitution else ""
        dispense.add_row(drug_name + entry.product.label(), entry.amount_text())
    out.print(dispense, markup=False)
    _print_supply(out, plan.supply, plan.start_date)
    out.print(footer(table), markup=False, style="dim")


def _print_supply(
    out: Console, periods: Sequence[SupplyPeriod], first_date: dt.date | None
) -> None:
    """What to dispense per supply period, one line each (halves carried over), the period
    given by its dates when day 1 has a date, else by its day numbers."""
    for period in periods:
        _print_hanging(out, f"{period.when_text(first_date)}:", period.items_text())


def _print_hanging(out: Console, head: str, text: str) -> None:
    """``head`` and ``text`` on one line, or ``text`` wrapped to the console's width under
    its own first column (a number kept with its unit); no trailing blanks."""
    room = out.width - len(head) - 1
    indent = " " * (len(head) + 1) if room >= 30 else "    "
    lines = textwrap.wrap(
        glue(f"{head} {text}"),
        out.width,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )
    for line in lines:
        out.print(line.replace(GLUE, " "), markup=False)


def plan_text(plan: Plan, table: EquivalenceTable, *, daily: bool) -> str:
    """The plan's table as text for a file (120 columns, no colour)."""
    buffer = io.StringIO()
    render_plan(plan, table, Console(file=buffer, width=120, highlight=False), daily=daily)
    return buffer.getvalue().replace(GLUE, " ")


#: The most lines a step's row of the check table may take before the table is laid out
#: another way (issue 22: 11 lines a step at 80 columns was unreadable).
MOST_LINES_A_ROW = 3


def _lines_needed(rows: Sequence[Sequence[str]], widths: Sequence[int]) -> int:
    """The most lines any row takes with its cells wrapped to ``widths`` (as rich wraps:
    at blanks, a number kept with its unit)."""
    return max(
        (
            max(
                sum(
                    len(textwrap.wrap(line, size, break_on_hyphens=False)) or 1
                    for line in glue(cell).splitlines() or [""]
                )
                for cell, size in zip(row, widths, strict=True)
            )
            for row in rows
        ),
        default=0,
    )


def _check_table(
    title: str, headings: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> tuple[Table, bool]:
    """The check's step table ``width`` characters wide, and whether the way to make each
    step's doses (the third column) was left out of it to be listed below it. Where every
    row fits in :data:`MOST_LINES_A_ROW` lines: a column each; else the same without the
    third column; else each step's doses, cut and equivalents stacked in one column."""
    widths = column_widths(headings, rows, width)
    if widths is not None and _lines_needed(rows, widths) <= MOST_LINES_A_ROW:
        return _plain_table(title, headings, rows, widths), False
    headings = [*headings[:2], *headings[3:]]
    rows = [[*row[:2], *row[3:]] for row in rows]
    widths = column_widths(headings, rows, width)
    if widths is not None and _lines_needed(rows, widths) <= MOST_LINES_A_ROW:
        return _plain_table(title, headings, rows, widths), True
    grid = GluedTable(title=title, title_justify="left", show_lines=True)
    grid.add_column(headings[0], no_wrap=True)
    grid.add_column("Doses, cut; diazepam equivalent by source")
    for when, doses, cut, *equivalents in rows:
        doses = " ".join(doses.split())
        lines = [f"{doses}, cut {cut}" if cut else doses]
        lines.append(
            "; ".join(
                f"{heading} {' '.join(value.split())}"
                for heading, value in zip(headings[3:], equivalents, strict=True)
            )
        )
        grid.add_row(when, "\n".join(lines))
    return grid, True


def _plain_table(
    title: str, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> Table:
    grid = GluedTable(title=title, title_justify="left")
    for heading, size in zip(headings, widths, strict=True):
        grid.add_column(heading, width=size)
    for row in rows:
        grid.add_row(*row)
    return grid


def _agreeing_sources(result: PlanCheck) -> list[list[str]]:
    """The sources, grouped where they give the same equivalent for every step."""
    groups: dict[tuple[object, ...], list[str]] = {}
    for source in result.steps[0].diazepam_by_source:
        values = tuple(step.diazepam_by_source[source] for step in result.steps)
        groups.setdefault(values, []).append(source)
    return list(groups.values())


def render_check(result: PlanCheck, table: EquivalenceTable) -> None:
    from taper.check import day_name, describe_doses

    out = console()
    first, last = result.steps[0].start_day, result.steps[-1].end_day
    if result.first_date is not None:
        span = f"{day_name(first, result.first_date)} to {day_name(last, result.first_date)}"
    else:
        span = f"days {first} to {last}"
    out.print(
        f"Checked {printable(str(result.path))}: {', '.join(result.drugs)}, {span}, "
        f"{len(result.steps)} steps; equivalents by {result.source.id}.",
        markup=False,
    )
    groups = _agreeing_sources(result)
    headings = [
        "From" if result.first_date else "Days",
        "Doses",
        "How to make them",
        "Cut",
        *(group[0] if len(group) == 1 else f"{group[0]} (+{len(group) - 1})" for group in groups),
    ]
    rows = []
    for step in result.steps:
        cut = step.cut_percent
        if result.first_date is not None:
            days = day_name(step.start_day, result.first_date)
        else:
            days = str(step.start_day)
            if step.end_day > step.start_day:
                days += f"-{step.end_day}"
        rows.append(
            [
                days,
                describe_doses(step, with_drug=len(result.drugs) > 1),
                "\n".join(step.how),
                ""
                if cut is None
                else f"+{format_number(-cut)}%"
                if cut < 0
                else f"{format_number(cut)}%",
                *(format_dose_range(*step.diazepam_by_source[group[0]]) for group in groups),
            ]
        )
    title = "Each step, and its diazepam equivalent by source"
    grid, listed = _check_table(title, headings, rows, out.width)
    out.print(grid, markup=False)
    if listed:
        # Each step's way of making its doses under the step's date, on lines of its own:
        # too long for a column of a table this narrow.
        out.print("How to make each step's doses:", markup=False)
        for row, step in zip(rows, result.steps, strict=True):
            if step.how:
                key = row[0] if result.first_date else f"day{'s' * ('-' in row[0])} {row[0]}"
                _print_hanging(out, f"  {key}:", "; ".join(step.how))
    for group in groups:
        if len(group) > 1:
            out.print(f"{group[0]} (+{len(group) - 1}): agrees with {', '.join(group[1:])}.")
    for problem in result.problems:
        out.print(f"Problem: {printable(problem.message)}", markup=False, style="red")
    if result.clean and result.unchecked:
        # never "no problems" about a column that was not read (the notes say why)
        columns = ", ".join(repr(column) for column in result.unchecked)
        out.print(
            f"No problems found in the columns checked; not checked: {printable(columns)} (see "
            "the notes).",
            markup=False,
            style="green",
        )
    elif result.clean:
        out.print("No problems found.", markup=False, style="green")
    for note in result.notes:
        out.print(f"Note: {printable(note)}", markup=False)
    for entry in result.dispensing:
        out.print(
            f"To dispense: {entry.amount_text()} of {entry.product.drug} {entry.product.label()}",
            markup=False,
        )
    _print_supply(out, result.supply, result.first_date)
    out.print(footer(table), markup=False, style="dim")


@contextmanager
def progress(
    show: bool, total: int | None = None, *, stream: IO[str] | None = None
) -> Iterator[Callable[[], None] | None]:
    """Progress of a batch on standard error (or ``stream``), or nothing when not ``show``
    (on a pipe): the count of scenarios (out of ``total`` when known), a bar, the rate and
    the time left, then one closing line when the batch is over."""
    if not show:
        yield None
        return
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f}/s")

    out = Console(file=stream, stderr=stream is None, highlight=False)
    if total is None:
        columns: tuple[ProgressColumn, ...] = (
            SpinnerColumn(),
            TextColumn("{task.completed:,} scenarios"),
            RateColumn(),
            TimeElapsedColumn(),
        )
    else:
        columns = (
            TextColumn("scenarios"),
            MofNCompleteColumn(),
            BarColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        )
    started = time.monotonic()
    done = 0
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task("plans", total=total)

        def advance() -> None:
            nonlocal done
            done += 1
            bar.advance(task)

        yield advance
    elapsed = time.monotonic() - started
    rate = f" ({done / elapsed:,.0f} a second)" if elapsed > 0 and done else ""
    out.print(f"taper: planned {done:,} scenarios in {elapsed:,.1f} s{rate}", markup=False)


def plan_output(
    plan: Plan, table: EquivalenceTable, outputs: PlanOutputs
) -> tuple[PlanFormat, str | None]:
    """The format asked (or named by the output's extension) and the plan as text in it;
    None: render it on the terminal (:func:`show_plan`)."""
    from taper.outputs import PlanFormat, output_format

    given, output = outputs.format, outputs.output
    chosen = PlanFormat(output_format(given, output, list(PlanFormat), PlanFormat.TABLE))
    if chosen is PlanFormat.JSON:
        from taper.records import dumps_json, plan_document

        return chosen, dumps_json(plan_document(plan, table))
    if chosen is PlanFormat.CSV:
        from taper.csvout import plan_csv

        return chosen, plan_csv(plan, table, raw=outputs.raw_csv)
    if output is None:
        return chosen, None
    return chosen, plan_text(plan, table, daily=outputs.daily)


def show_plan(
    plan: Plan,
    table: EquivalenceTable,
    chosen: PlanFormat,
    text: str | None,
    outputs: PlanOutputs,
) -> None:
    """The plan to the terminal or standard output (``-o -``) unless written to a file; the
    warnings of a CSV or JSON plan, and the file written, go to stderr (the prescriber at the
    terminal sees them whatever the file holds)."""
    from taper.outputs import PlanFormat
    from taper.process import current

    if text is None:
        render_plan(plan, table, console(), daily=outputs.daily)
        return
    to_file = outputs.output_file
    if to_file is None:
        current().stdout.write(text)
    if chosen in {PlanFormat.CSV, PlanFormat.JSON}:
        from taper.notices import warning_lines

        current().stderr.write(warning_lines(plan.warnings))
    if to_file is not None:
        days = plan.steps[-1].end_day  # day 1 to the first day without any drug
        current().stderr.write(f"wrote {printable(str(to_file))}: {days} days\n")
