"""The `taper` command line: a thin translator over the `taper` library.

Each command parses its options, calls one library function and renders the result as a rich
table or JSON. All error display happens in :class:`TaperGroup.main`: one line on stderr,
``taper: error: ...``, with exit status 1 (domain), 2 (usage) or 130 (interrupted);
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import io
import sys
import traceback
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

import taper
from taper import export
from taper.convert import Conversion, convert_dose, format_fold
from taper.errors import InvalidRequestError, TaperError
from taper.formatting import format_dose, format_dose_range, format_number
from taper.table import EquivalenceTable, ValueRange, load_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from taper.check import PlanCheck
    from taper.plan import DoseTime

if TYPE_CHECKING:
    from rich.console import Console

    from taper.plan import Plan


class ExitCode(IntEnum):
    OK = 0
    DOMAIN_ERROR = 1
    USAGE_ERROR = 2
    INTERRUPTED = 130


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class PlanFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


DRAFT_NOTICE = (
    "Draft for clinical review: equivalences are approximate and vary between people "
    "and between sources."
)


def _fail(message: str, code: ExitCode) -> NoReturn:
    sys.stderr.write(f"taper: error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


class TaperGroup(TyperGroup):
    """The one error boundary: every failure becomes one line on stderr and an exit code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            code = super().main(
                args=argv,
                prog_name=prog_name or "taper",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except TaperError as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), ExitCode.USAGE_ERROR if exc.is_usage else ExitCode.DOMAIN_ERROR)
        except typer.TyperException as exc:
            if debug:
                traceback.print_exc()
            message = " ".join(exc.format_message().split())
            option = str(getattr(exc, "option_name", ""))
            if option[1:2].isdigit() or option[1:2] == ".":  # "-1mg" read as an option
                message = f"invalid dose starting {option!r}: a dose must be greater than zero"
            _fail(message, ExitCode(getattr(exc, "exit_code", ExitCode.USAGE_ERROR)))
        except (typer.Abort, KeyboardInterrupt):
            _fail("interrupted", ExitCode.INTERRUPTED)
        except Exception as exc:  # a bug in taper: still one line, unless --debug
            if debug:
                raise
            _fail(
                f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it",
                ExitCode.DOMAIN_ERROR,
            )
        if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into exit status 130
            _fail("interrupted", ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


app = typer.Typer(
    cls=TaperGroup,
    name="taper",
    help="Benzodiazepine dose equivalence and taper schedules: a drafting aid for clinicians.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is shown as written: "[plot]" is not markup
    context_settings={"help_option_names": ["-h", "--help"]},
)

# ------------------------------------------------------------------ options, defined once

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]
TableOption = Annotated[
    Path | None,
    typer.Option(
        "--table",
        envvar="TAPER_TABLE",
        help="An equivalence table file with the schema of the bundled equivalences.toml "
        "(for a local formulary). Default: the bundled table.",
        dir_okay=True,
        show_default=False,
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        "-s",
        help="Equivalence source id (see 'taper sources'). Default: the table's default, ashton.",
        show_default=False,
    ),
]


OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically) instead of the terminal.",
        show_default=False,
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the --output file if it exists.")
]
AllowHighDoseOption = Annotated[
    bool,
    typer.Option("--allow-high-dose", help="Accept doses above the usual maximum."),
]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"taper {taper.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    """Benzodiazepine dose equivalence and taper schedules: a drafting aid for clinicians.

    Every result needs clinical review before it reaches a patient.
    """


# ------------------------------------------------------------------ rendering helpers


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _emit_json(record: export.Record) -> None:
    sys.stdout.write(export.dumps_json(record))


def _footer(table: EquivalenceTable) -> str:
    return f"taper {taper.__version__} · table {table.path} · sha256 {table.sha256[:12]}"


def _value_text(value: ValueRange | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = format_number(value.low)
    if not value.is_point:
        text += f" to {format_number(value.high)}"
    return f"{text} {unit}".rstrip()


# ------------------------------------------------------------------ commands


@app.command()
def drugs(
    names: Annotated[
        list[str] | None, typer.Argument(help="Drugs to show (default: all).", show_default=False)
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    table_file: TableOption = None,
) -> None:
    """List drugs: names, class, half-lives, maximum daily dose, equivalents per source.

    Equivalents are the dose equal to diazepam 10 mg under each source; a value published
    per diazepam 5 mg is doubled and marked *.

    Example: taper drugs clonazepam Xanax
    """
    table = load_table(table_file)
    selected = [table.drug(name) for name in names] if names else list(table.drugs.values())
    if output_format is OutputFormat.json:
        _emit_json(export.drugs_document(table, selected))
        return
    from rich.table import Table

    grid = Table(
        title=f"Doses equal to {table.reference_drug} "
        f"{format_dose(table.reference_dose_mg)}, by source",
        show_lines=True,
    )
    for column in ("Drug", "Class", "Half-life (hours)", "Usual max/day", "Equivalent (mg)"):
        grid.add_column(column, overflow="fold")
    for drug in selected:
        names_cell = "\n".join([drug.tall_man or drug.name, *drug.aliases])
        half_lives = [
            f"{source_id}: {_value_text(value)}"
            + (
                f" [{_value_text(drug.metabolite_half_life_hours[source_id])}]"
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
                equivalents.append(f"{source.id}: {_value_text(value)}{marker}")
        maximum = (
            f"{format_dose(drug.max_daily.mg)}\n({drug.max_daily.note})" if drug.max_daily else "—"
        )
        grid.add_row(
            names_cell,
            drug.drug_class,
            "\n".join(half_lives) or "not in reference",
            maximum,
            "\n".join(equivalents + list(drug.notes)),
        )
    console = _console()
    console.print(grid, markup=False)
    console.print(
        "* published per diazepam 5 mg and doubled here. [brackets]: active metabolite.",
        markup=False,
    )
    console.print(_footer(table), markup=False, style="dim")


@app.command()
def sources(
    output_format: FormatOption = OutputFormat.table,
    table_file: TableOption = None,
) -> None:
    """List the equivalence sources: id, title, year, grade, reference dose, address.

    Example: taper sources --format json
    """
    table = load_table(table_file)
    if output_format is OutputFormat.json:
        _emit_json(export.sources_document(table))
        return
    from rich.table import Table

    grid = Table(title="Equivalence sources", show_lines=True)
    for column in ("Id", "Source", "Year", "Grade", "Published per"):
        grid.add_column(column, overflow="fold")
    for source in table.sources.values():
        factor = table.rescale_factor(source)
        reference = f"{table.reference_drug} {format_dose(source.reference_dose_mg)}"
        if factor != 1:
            reference += f"\n(values ×{format_number(factor)} here)"
        default = "\n(default)" if source.id == table.default_source else ""
        details = "\n".join(
            part for part in (source.title, source.author, source.url, source.note) if part
        )
        grid.add_row(
            source.id + default,
            details,
            str(source.year) if source.year else "—",
            source.grade,
            reference,
        )
    console = _console()
    console.print(grid, markup=False)
    console.print(
        "Grades: A guideline, regulator or label; B professional secondary source; "
        "C secondary copy.",
        markup=False,
    )
    console.print(_footer(table), markup=False, style="dim")


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    if len(items) % 2:
        raise InvalidRequestError(
            f"give each current drug with its dose (DRUG DOSE ...); {items[-1]!r} has no dose"
        )
    return list(zip(items[0::2], items[1::2], strict=True))


@app.command()
def convert(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="DRUG DOSE [DRUG DOSE]...",
            help="Current drugs, each followed by its dose, e.g. clonazepam 1.5mg.",
            show_default=False,
        ),
    ],
    to: Annotated[str, typer.Option("--to", "-t", help="The drug to convert to.")],
    source: SourceOption = None,
    all_sources: Annotated[
        bool, typer.Option("--all-sources", "-a", help="Show the result under every source.")
    ] = False,
    allow_high_dose: AllowHighDoseOption = False,
    output_format: FormatOption = OutputFormat.table,
    table_file: TableOption = None,
) -> None:
    """Convert current doses into an equivalent dose of another drug.

    Several current drugs are summed into one target dose. The result is shown under the
    chosen source, with one line on what the other sources say; --all-sources shows each.

    Example: taper convert clonazepam 1.5mg --to diazepam --all-sources
    """
    table = load_table(table_file)
    conversion = convert_dose(
        _pairs(items), to, source=source, table=table, allow_high_dose=allow_high_dose
    )
    if output_format is OutputFormat.json:
        _emit_json(
            export.conversion_document(
                conversion, table, all_sources=all_sources, allow_high_dose=allow_high_dose
            )
        )
        return
    _render_conversion(conversion, table, all_sources=all_sources)


def _render_conversion(
    conversion: Conversion, table: EquivalenceTable, *, all_sources: bool
) -> None:
    from rich.table import Table

    inputs = " + ".join(
        f"{item.drug.name} {format_dose(item.dose_mg)}" for item in conversion.inputs
    )
    chosen = conversion.chosen
    grid = Table()
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
            f"{format_dose_range(spread.low_mg, spread.high_mg)} ({format_fold(spread.fold)})",
        )
    console = _console()
    console.print(DRAFT_NOTICE, markup=False, style="bold")
    console.print(f"{inputs} → {conversion.target.name}", markup=False)
    console.print(grid, markup=False)
    if conversion.disagreement and not all_sources:
        console.print(conversion.disagreement, markup=False)
    for warning in conversion.warnings:
        console.print(f"Warning: {warning}", markup=False, style="yellow")
    console.print(_footer(table), markup=False, style="dim")


@app.command()
def schedule(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="DRUG DOSE [DRUG DOSE]...",
            help="The current drug and its total daily dose ('1.5mg', split with --times) or "
            "dose per time of day ('morning=0.5mg,night=1mg'; times: morning, midday, "
            "afternoon, evening, night). Several drugs need --switch-to.",
            show_default=False,
        ),
    ],
    times: Annotated[
        int | None,
        typer.Option(
            "--times", help="Split a daily total over 1-4 usual dose times.", min=1, max=4
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            help="percent (exponential: a fixed % of the current dose), linear (fixed mg), "
            "bands (NICE CKS fixed steps), steps (your list), occupancy (equal steps in "
            "receptor occupancy; needs --ed50, for which no published benzodiazepine value "
            "exists).",
        ),
    ] = "percent",
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate", "-r", help="percent: cut per interval (default 10%; 5% --cautious)."
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every", "-e", help="Interval between cuts: '14d', '2w' (default 2w; 4w --cautious)."
        ),
    ] = None,
    step: Annotated[
        str | None, typer.Option("--step", help="linear: mg cut per interval, e.g. 0.125mg.")
    ] = None,
    steps: Annotated[
        str | None,
        typer.Option("--steps", help="steps: daily doses in order, e.g. '0.75mg,0.5mg,0.25mg'."),
    ] = None,
    slow_below: Annotated[
        str | None, typer.Option("--slow-below", help="Use --slow-rate at or below this dose.")
    ] = None,
    slow_rate: Annotated[
        str | None, typer.Option("--slow-rate", help="percent: cut per interval at low doses.")
    ] = None,
    final: Annotated[
        str | None,
        typer.Option(
            "--final",
            help="Stop after this daily dose (default: the smallest the products can make).",
        ),
    ] = None,
    hold: Annotated[
        list[str] | None,
        typer.Option(
            "--hold",
            help="Stay longer at a dose: 'after-step:3:2w', 'every:3:2w', 'at:0.5mg:4w'. "
            "Repeatable.",
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help="Which dose times go down first: daytime-first (Ashton, NHS Scotland), even, "
            "night-first.",
        ),
    ] = "daytime-first",
    start: Annotated[
        str | None,
        typer.Option("--start", help="First day, YYYY-MM-DD (default: today, as the output says)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Find the pace that stops by this date.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="Find the pace that stops within e.g. 26w.")
    ] = None,
    region: Annotated[str, typer.Option("--region", help="Product set: us or uk.")] = "us",
    product: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            help="Use these products instead of the region's, e.g. '0.5mg tablet scored', "
            "'0.125mg odt', '0.5mg/5mL solution'. Repeatable.",
        ),
    ] = None,
    source: SourceOption = None,
    ed50: Annotated[
        str | None, typer.Option("--ed50", help="occupancy: dose giving half of Emax (cite it).")
    ] = None,
    emax: Annotated[str, typer.Option("--emax", help="occupancy: maximum occupancy, %.")] = "100",
    occupancy_step: Annotated[
        str, typer.Option("--occupancy-step", help="occupancy: points of occupancy per step.")
    ] = "5",
    supply: Annotated[
        str | None,
        typer.Option("--supply", help="Also count what to dispense per period, e.g. 28d."),
    ] = None,
    switch_to: Annotated[
        str | None,
        typer.Option(
            "--switch-to",
            help="Cross over to this drug (e.g. diazepam, chlordiazepoxide, clonazepam) before "
            "tapering it.",
        ),
    ] = None,
    crossover: Annotated[
        str,
        typer.Option(
            "--crossover",
            help="slot: one whole dose time per stage, night first (Ashton); partial: --part "
            "of one dose time per stage; direct: everything at once.",
        ),
    ] = "slot",
    stage: Annotated[str, typer.Option("--stage", help="Length of a crossover stage.")] = "1w",
    stabilize: Annotated[
        str, typer.Option("--stabilize", help="Time on the new drug before the taper (0 allowed).")
    ] = "2w",
    part: Annotated[
        str | None,
        typer.Option(
            "--part", help="partial: mg of the current drug switched per stage (default: half)."
        ),
    ] = None,
    used_for: Annotated[
        str | None,
        typer.Option(
            "--used-for", help="How long the drug has been used: '10d', '6w', '18m', '2y'."
        ),
    ] = None,
    days_per_week: Annotated[
        int | None, typer.Option("--days-per-week", help="Days a week it is taken (1-7).")
    ] = None,
    age: Annotated[int | None, typer.Option("--age", help="The patient's age in years.")] = None,
    seizures: Annotated[
        bool, typer.Option("--seizures", help="The patient has a history of seizures.")
    ] = False,
    with_opioids: Annotated[
        bool, typer.Option("--with-opioids", help="Taken together with opioids.")
    ] = False,
    with_alcohol: Annotated[
        bool, typer.Option("--with-alcohol", help="Taken together with alcohol.")
    ] = False,
    liver: Annotated[
        bool, typer.Option("--liver", help="The patient has liver impairment.")
    ] = False,
    cautious: Annotated[
        bool,
        typer.Option(
            "--cautious",
            help="Slower defaults: 5% every 4 weeks and a 2-week hold after every third cut.",
        ),
    ] = False,
    plot: Annotated[
        bool, typer.Option("--plot", help="Draw the taper curve in the terminal (taper[plot]).")
    ] = False,
    plot_file: Annotated[
        Path | None,
        typer.Option("--plot-file", help="Write the taper curve to a .png or .svg (taper[plot])."),
    ] = None,
    handout: Annotated[
        Path | None,
        typer.Option("--handout", help="Write a printable patient calendar, a .pdf (taper[pdf])."),
    ] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="The patient's name, for the handout.")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="The prescriber's note, for the handout.")
    ] = None,
    paper: Annotated[str, typer.Option("--paper", help="Handout paper: a4 or letter.")] = "a4",
    ics: Annotated[
        Path | None,
        typer.Option("--ics", help="Write a calendar of dose changes, a .ics (taper[ics])."),
    ] = None,
    reminders: Annotated[
        str | None,
        typer.Option(
            "--reminders",
            help="With --ics: a daily reminder per dose time at these times, e.g. 08:00,22:00.",
        ),
    ] = None,
    daily: Annotated[bool, typer.Option("--daily", help="One row per day, not per step.")] = False,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="Write CSV text exactly, without neutralising cells that a spreadsheet would "
            "run as formulas.",
        ),
    ] = False,
    allow_high_dose: AllowHighDoseOption = False,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = PlanFormat.table,
    output: OutputOption = None,
    force: ForceOption = False,
    table_file: TableOption = None,
) -> None:
    """Draft a day-by-day direct taper that can be dispensed with real products.

    Every dose can be made with the region's products (or those given with --product); the
    plan is checked against the 2025 Joint Guideline's pace (5-10% every 2-4 weeks to start,
    not more than 25% in 2 weeks), and says where the products force a larger cut.

    Example: taper schedule clonazepam 1.5mg --times 3 --start 2027-01-04
    """

    from taper.schedule import plan_taper

    table = load_table(table_file)
    plan = plan_taper(
        _pairs(items),
        times=times,
        method=method,
        rate=rate,
        every=every,
        step=step,
        steps=steps,
        slow_below=slow_below,
        slow_rate=slow_rate,
        final=final,
        holds=hold or (),
        order=order,
        start=start,
        until=until,
        duration=duration,
        region=region,
        products=product or (),
        source=source,
        ed50=ed50,
        emax=emax,
        occupancy_step=occupancy_step,
        supply=supply,
        switch_to=switch_to,
        crossover=crossover,
        stage=stage,
        stabilize=stabilize,
        part=part,
        used_for=used_for,
        days_per_week=days_per_week,
        age=age,
        seizures=seizures,
        with_opioids=with_opioids,
        with_alcohol=with_alcohol,
        liver_impairment=liver,
        cautious=cautious,
        allow_high_dose=allow_high_dose,
        table=table,
    )
    curve = None
    if plot:
        from taper.curve import terminal_plot

        curve = terminal_plot(plan, table, width=min(_console().width, 120))
    _write_extras(plan, table, plot_file, handout, patient, note, paper, ics, reminders, force)
    if curve is not None:
        sys.stdout.write(curve + "\n")
    if output_format is PlanFormat.json:
        text = export.dumps_json(export.plan_document(plan, table))
    elif output_format is PlanFormat.csv:
        text = export.plan_csv(plan, table, raw=raw_csv)
    elif output is None:
        _render_plan(plan, table, _console(), daily=daily)
        return
    else:
        from rich.console import Console

        buffer = io.StringIO()
        _render_plan(plan, table, Console(file=buffer, width=120, highlight=False), daily=daily)
        text = buffer.getvalue()
    if output is None:
        sys.stdout.write(text)
    else:
        from taper.output import write_atomic

        write_atomic(output, text, force=force)


def _write_extras(
    plan: Plan,
    table: EquivalenceTable,
    plot_file: Path | None,
    handout: Path | None,
    patient: str | None,
    note: str | None,
    paper: str,
    ics: Path | None,
    reminders: str | None,
    force: bool,
) -> None:
    """The files a schedule can write besides its main output: all made, then all written."""
    from taper.output import write_atomic

    if reminders is not None and ics is None:
        raise InvalidRequestError("--reminders go into a calendar: add --ics FILE")
    if (patient is not None or note is not None) and handout is None:
        raise InvalidRequestError("--patient and --note go into the handout: add --handout FILE")
    files: list[tuple[Path, bytes]] = []
    if plot_file is not None:
        from taper.curve import image_plot

        files.append((plot_file, image_plot(plan, table, plot_file.suffix.lower())))
    if handout is not None:
        from taper.handout import plan_handout

        if handout.suffix.lower() != ".pdf":
            raise InvalidRequestError(f"a handout file ends in .pdf, not {handout.suffix!r}")
        files.append((handout, plan_handout(plan, patient=patient, note=note, paper=paper)))
    if ics is not None:
        from taper.ics import parse_reminders, plan_calendar

        if ics.suffix.lower() != ".ics":
            raise InvalidRequestError(f"a calendar file ends in .ics, not {ics.suffix!r}")
        times = parse_reminders(reminders, plan.slots) if reminders else None
        files.append((ics, plan_calendar(plan, times)))
    for path, content in files:
        write_atomic(path, content, force=force)


def _dose_cell(plan: Plan, doses: Sequence[DoseTime]) -> str:
    """The doses of one dose time (or of a day): "0.5 mg", or one line per drug."""
    taken = [dose for dose in doses if dose.dose_mg]
    if not taken:
        return "—"
    if not plan.is_substitution:
        return format_dose(sum((dose.dose_mg for dose in taken), Decimal(0)))
    by_drug: dict[str, Decimal] = {}
    for dose in taken:
        by_drug[dose.drug] = by_drug.get(dose.drug, Decimal(0)) + dose.dose_mg
    return "\n".join(f"{format_dose(total)} {drug}" for drug, total in by_drug.items())


def _render_plan(plan: Plan, table: EquivalenceTable, console: Console, *, daily: bool) -> None:
    from rich.table import Table

    request = plan.request
    console.print(DRAFT_NOTICE, markup=False, style="bold")
    if plan.conversion is not None:
        current = " + ".join(
            f"{item.drug.name} {format_dose(item.dose_mg)}" for item in plan.conversion.inputs
        )
        console.print(
            f"Switch {current} a day to {plan.drug.name}: crossover {request.crossover.value}, "
            f"stages of {request.stage_days} days, then {request.stabilize_days} days of "
            f"stabilisation. The {plan.drug.name} dose a day under each source:",
            markup=False,
        )
        for result in plan.conversion.results:
            chosen = " (used)" if result.source.id == plan.source.id else ""
            console.print(f"  {result.source.id}: {result.text()}{chosen}", markup=False)
    pace = {
        "percent": f"{format_number(request.rate_percent)}% of the current dose (exponential)",
        "linear": f"{format_dose(request.step_mg or 0)} each time",
        "bands": "NICE CKS bands through diazepam equivalents",
        "steps": "the listed doses",
        "occupancy": f"{format_number(request.occupancy_step)} occupancy points "
        f"(ED50 {format_dose(request.ed50_mg or 0)}, Emax {format_number(request.emax_percent)}%)",
    }[request.method.value]
    console.print(
        f"{plan.drug.tall_man or plan.drug.name}: {request.method.value} taper, {pace}, every "
        f"{request.interval_days} days; order {request.order.value}; diazepam equivalents "
        f"by {plan.source.id}.",
        markup=False,
    )
    for drug in plan.drugs:
        console.print(
            f"Products for {drug.name}: {plan.formularies[drug.name].describe()}.", markup=False
        )
    if plan.resolved_pace:
        console.print(f"Pace found for the target end: {plan.resolved_pace}.", markup=False)
    if plan.risk is not None:
        band = f"; dose band {plan.risk.dose_band}" if plan.risk.dose_band else ""
        console.print(f"Withdrawal risk: {plan.risk.summary}{band}.", markup=False)
    start_note = " (today: set --start to fix it)" if plan.start_is_default else ""
    console.print(f"Starts {plan.start_date.isoformat()}{start_note}.", markup=False)
    grid = Table()
    phases = plan.is_substitution
    if daily:
        for column in ("Day", "Date", "Phase", *plan.slots, "Daily total"):
            grid.add_column(column)
        for day in plan.days():
            grid.add_row(
                str(day.day),
                day.date.isoformat(),
                day.phase,
                *(
                    _dose_cell(plan, [d for d in day.doses if d.slot == slot])
                    for slot in plan.slots
                ),
                _dose_cell(plan, day.doses),
            )
    else:
        grid.add_column("Step", no_wrap=True)
        grid.add_column("From", no_wrap=True)
        for slot in plan.slots:
            grid.add_column(slot, overflow="fold")
        grid.add_column("Daily total (diazepam)", overflow="fold")
        grid.add_column("Cut")
        for item in plan.steps:
            flags = [
                *(["held"] if any(n.startswith("held") for n in item.notes) else []),
                *([f"hold {item.hold_days} d"] if item.hold_days else []),
                *(["forced"] if item.forced else []),
                *(["over ceiling"] if item.exceeds_ceiling else []),
                *(["stop"] if item.phase == "stop" else []),
            ]
            cut = f"{format_number(item.cut_percent)}%" if item.cut_percent else ""
            days = f"{item.days} days" if item.days > 1 else "1 day"
            phase = f"\n{item.phase}" if phases and item.phase != "stop" else ""
            grid.add_row(
                str(item.number),
                f"{plan.date_of(item.start_day).isoformat()}\n{days}{phase}",
                *(
                    _dose_cell(plan, [d for d in item.doses if d.slot == slot])
                    for slot in plan.slots
                ),
                f"{_dose_cell(plan, item.doses)}\n({plan.diazepam_text(item.doses)})",
                "\n".join([cut, *flags]).strip(),
            )
    console.print(grid, markup=False)
    preparations = {
        (dose.drug, dose.dose_mg): dose.preparation
        for item in plan.steps
        for dose in item.doses
        if dose.dose_mg > 0
    }
    console.print("What to take for each dose:", markup=False)
    for drug_name, dose_mg in sorted(preparations, key=lambda key: (key[0], -key[1])):
        name = f" {drug_name}" if phases else ""
        console.print(
            f"  {format_dose(dose_mg)}{name}: {preparations[drug_name, dose_mg].text()}",
            markup=False,
        )
    checks = plan.checks
    console.print(
        f"Duration {checks.duration_days} days, {checks.reductions} reductions, last dose "
        f"{plan.date_of(checks.duration_days).isoformat()}, first day without "
        f"{plan.drug.name} {checks.end_date.isoformat()}. Largest cut in any 2 weeks: "
        f"{format_number(checks.largest_14_day_reduction_percent)}% (from day "
        f"{checks.largest_14_day_window_start}); first 2 weeks: "
        f"{format_number(checks.first_14_day_reduction_percent)}%.",
        markup=False,
    )
    console.print(
        "held: the products cannot make a smaller cut yet; forced: the products force a cut at "
        "least 1.5 times the method's; over ceiling: more than 25% in the 2 weeks up to it.",
        markup=False,
        style="dim",
    )
    for warning in plan.warnings:
        console.print(f"Warning: {warning}", markup=False, style="yellow")
    dispense = Table(title="To dispense for the whole plan", title_justify="left")
    dispense.add_column("Product")
    dispense.add_column("Quantity", justify="right")
    for entry in plan.dispensing:
        amount = (
            format_dose(entry.quantity, "mL")
            if entry.unit == "mL"
            else f"{entry.quantity} {entry.unit}"
        )
        drug_name = f"{entry.product.drug} " if plan.is_substitution else ""
        dispense.add_row(drug_name + entry.product.label(), amount)
    console.print(dispense, markup=False)
    for period in plan.supply:
        parts = [
            format_dose(i.quantity, "mL") + f" of {i.product.drug} {i.product.short_label()}"
            if i.unit == "mL"
            else f"{i.quantity} × {i.product.drug} {i.product.short_label()}"
            for i in period.items
        ]
        console.print(
            f"Days {period.start_day}-{period.end_day}: {'; '.join(parts) or 'nothing'}",
            markup=False,
        )
    console.print(_footer(table), markup=False, style="dim")


@app.command()
def check(
    plan_file: Annotated[
        Path,
        typer.Argument(metavar="PLAN.csv", help="The plan to check (CSV).", show_default=False),
    ],
    drug: Annotated[
        str | None,
        typer.Option("--drug", "-d", help="The drug, when the file has no drug column."),
    ] = None,
    region: Annotated[str, typer.Option("--region", help="Product set: us or uk.")] = "us",
    product: Annotated[
        list[str] | None,
        typer.Option("--product", help="The products dispensed (as for schedule). Repeatable."),
    ] = None,
    source: SourceOption = None,
    output_format: FormatOption = OutputFormat.table,
    table_file: TableOption = None,
) -> int:
    """Check a plan someone wrote: dispensable doses, increases, pace, missing days.

    The plan is a CSV with a 'day' or 'date' column and a 'dose_mg' (or 'dose', with a unit)
    column, optionally 'slot' and 'drug' (or --drug); the CSV of 'taper schedule' works as
    it is. Reports the diazepam equivalent of each step under each source and the total to
    dispense. Exit status 0 when no problem is found, 1 otherwise.

    Example: taper check plan.csv --drug clonazepam
    """
    from taper.check import check_plan

    if region not in {"us", "uk"}:
        raise InvalidRequestError(f"unknown region {region!r}; use us or uk")
    table = load_table(table_file)
    result = check_plan(
        plan_file, table, drug=drug, region=region, products=product or (), source=source
    )
    if output_format is OutputFormat.json:
        _emit_json(export.check_document(result, table))
    else:
        _render_check(result, table)
    return ExitCode.OK if result.clean else ExitCode.DOMAIN_ERROR


def _render_check(result: PlanCheck, table: EquivalenceTable) -> None:
    from rich.table import Table

    from taper.check import describe_doses

    console = _console()
    first = result.steps[0].start_day
    last = result.steps[-1].end_day
    dates = f" from {result.first_date.isoformat()}" if result.first_date else ""
    console.print(
        f"Checked {result.path}: {', '.join(result.drugs)}, days {first} to {last}{dates}, "
        f"{len(result.steps)} steps; equivalents by {result.source.id}.",
        markup=False,
    )
    sources = list(result.steps[0].diazepam_by_source)
    grid = Table(title="Diazepam equivalent of each step, by source", title_justify="left")
    for column in ("Days", "Doses", "Cut", *sources):
        grid.add_column(column, overflow="fold")
    for step in result.steps:
        cut = step.cut_percent
        days = str(step.start_day)
        if step.end_day > step.start_day:
            days += f"-{step.end_day}"
        grid.add_row(
            days,
            describe_doses(step, with_drug=len(result.drugs) > 1),
            ""
            if cut is None
            else f"+{format_number(-cut)}%"
            if cut < 0
            else f"{format_number(cut)}%",
            *(format_dose_range(*step.diazepam_by_source[source]) for source in sources),
        )
    console.print(grid, markup=False)
    for problem in result.problems:
        console.print(f"Problem: {problem.message}", markup=False, style="red")
    if result.clean:
        console.print("No problems found.", markup=False, style="green")
    for note in result.notes:
        console.print(f"Note: {note}", markup=False)
    for entry in result.dispensing:
        amount = format_dose(entry.quantity, "mL") if entry.unit == "mL" else f"{entry.quantity}"
        console.print(
            f"To dispense: {amount} {'' if entry.unit == 'mL' else entry.unit + ' of '}"
            f"{entry.product.drug} {entry.product.label()}",
            markup=False,
        )
    console.print(_footer(table), markup=False, style="dim")


class BatchFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


JobsOption = Annotated[
    int | None,
    typer.Option("--jobs", "-j", help="Worker processes (default: all cores).", show_default=False),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
SummaryOption = Annotated[
    Path | None,
    typer.Option("--summary", help="Also write one summary row per scenario (CSV)."),
]


@app.command()
def batch(
    scenarios: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIOS", help="Scenario file: .csv or .toml.", show_default=False
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the plans.", show_default=False)
    ],
    summary: SummaryOption = None,
    output_format: Annotated[
        BatchFormat,
        typer.Option(
            "--format",
            "-f",
            help="csv: one row per scenario, day, drug and dose time; jsonl: one plan per line.",
            case_sensitive=False,
        ),
    ] = BatchFormat.csv,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
    raw_csv: Annotated[
        bool, typer.Option("--raw-csv", help="Do not neutralise CSV formulas.")
    ] = False,
    force: ForceOption = False,
    table_file: TableOption = None,
) -> int:
    """Plan every scenario of a file: one per row (CSV) or [[scenario]] table (TOML).

    Columns (or keys) are an id and the options of 'taper schedule' (drug, dose, times,
    method, rate, every, ...; several drugs, holds or products separated by ';'). A bad
    scenario does not stop the others: its summary row says what was wrong, and the exit
    status is 1.

    Example: taper batch scenarios.csv -o days.csv --summary summary.csv
    """
    from taper.batch import read_scenarios

    table = load_table(table_file)
    return _run_batch(
        read_scenarios(scenarios),
        table,
        output,
        summary,
        output_format,
        jobs,
        quiet,
        raw_csv,
        force,
        f"scenarios from {scenarios}",
    )


@app.command()
def sweep(
    drug: Annotated[str, typer.Argument(help="The current drug.", show_default=False)],
    doses: Annotated[
        str, typer.Argument(help="Daily doses to try, e.g. 0.5mg,1mg,2mg.", show_default=False)
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the plans.", show_default=False)
    ],
    rate: Annotated[str | None, typer.Option("--rate", help="Rates, e.g. 5%,10%,25%.")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Intervals, e.g. 2w,4w.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Sources, e.g. ashton,va-dod-2021.")
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="Methods, e.g. percent,bands.")
    ] = None,
    switch_to: Annotated[
        str | None, typer.Option("--switch-to", help="Drugs to cross over to, e.g. diazepam.")
    ] = None,
    times: Annotated[
        str | None, typer.Option("--times", help="Dose times a day, e.g. 1,2,3.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="Target durations, e.g. 26w,52w.")
    ] = None,
    final: Annotated[str | None, typer.Option("--final", help="Final doses, e.g. 1mg,2mg.")] = None,
    region: Annotated[str, typer.Option("--region", help="Product set: us or uk.")] = "us",
    start: Annotated[
        str, typer.Option("--start", help="First day of every plan, YYYY-MM-DD.")
    ] = "2027-01-04",
    summary: SummaryOption = None,
    output_format: Annotated[
        BatchFormat, typer.Option("--format", "-f", help="csv or jsonl.", case_sensitive=False)
    ] = BatchFormat.csv,
    jobs: JobsOption = None,
    quiet: QuietOption = False,
    force: ForceOption = False,
    table_file: TableOption = None,
) -> int:
    """Plan every combination of the values given (comma-separated): a parameter sweep.

    Example: taper sweep clonazepam 0.5mg,1mg,2mg --rate 5%,10%,25% --every 2w,4w -o sweep.csv
    """
    from taper.batch import sweep_scenarios

    table = load_table(table_file)
    grid = {
        "rate": rate,
        "every": every,
        "source": source,
        "method": method,
        "switch_to": switch_to,
        "times": times,
        "duration": duration,
        "final": final,
    }
    scenarios = sweep_scenarios(
        drug, doses, {k: v for k, v in grid.items() if v}, {"region": region, "start": start}
    )
    return _run_batch(
        scenarios,
        table,
        output,
        summary,
        output_format,
        jobs,
        quiet,
        False,
        force,
        f"sweep of {drug} {doses}",
    )


def _run_batch(
    scenarios: Any,
    table: EquivalenceTable,
    output: Path,
    summary: Path | None,
    output_format: BatchFormat,
    jobs: int | None,
    quiet: bool,
    raw_csv: bool,
    force: bool,
    what: str,
) -> int:
    import contextlib

    from taper.batch import (
        SUMMARY_COLUMNS,
        Outcome,
        provenance_lines,
        run_batch,
        summary_row,
        write_row,
    )
    from taper.export import CSV_COLUMNS
    from taper.output import atomic_text_stream

    failed = 0
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_text_stream(output, force=force))
        summary_stream = (
            stack.enter_context(atomic_text_stream(summary, force=force)) if summary else None
        )
        if output_format is BatchFormat.csv:
            out.write(provenance_lines(table, what))
            write_row(out, ("scenario", *CSV_COLUMNS))
        if summary_stream is not None:
            summary_stream.write(provenance_lines(table, what))
            write_row(summary_stream, SUMMARY_COLUMNS)
        progress = None
        if not quiet and sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            progress = stack.enter_context(
                Progress(
                    SpinnerColumn(),
                    TextColumn("{task.completed} scenarios"),
                    TimeElapsedColumn(),
                    console=_stderr_console(),
                    transient=True,
                )
            )
            task = progress.add_task("plans", total=None)

        def take(outcome: Outcome) -> None:
            nonlocal failed
            failed += not outcome.ok
            out.write(outcome.days_csv if output_format is BatchFormat.csv else outcome.jsonl)
            if summary_stream is not None:
                write_row(summary_stream, summary_row(outcome))
            if progress is not None:
                progress.advance(task)

        run_batch(
            scenarios,
            table,
            jobs=jobs,
            raw_csv=raw_csv,
            jsonl=output_format is BatchFormat.jsonl,
            on_outcome=take,
        )
    if failed:
        sys.stderr.write(f"taper: {failed} scenario(s) failed; see the summary or the output\n")
    return ExitCode.DOMAIN_ERROR if failed else ExitCode.OK


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def main() -> None:
    app(prog_name="taper")


if __name__ == "__main__":
    main()
