"""The `taper` command line: a thin translator over the `taper` library.

Each command declares its arguments, takes its options as objects built from their
declarations (:func:`with_options`: ``ScheduleOptions``, ``PlanOutputs``, ``BatchOutputs``),
calls the library and hands the result to the terminal renderer (:mod:`taper.render`) or
writes the library's JSON or CSV. Running them as a process (streams, signals, exit codes) is
:mod:`taper.process`: all error display happens in its one boundary, one line on stderr,
``taper: error: ...`` with the library's parameters spelled as flags, exit status 1 (domain),
2 (usage) or 130 (interrupted); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

import taper
from taper import signatures
from taper.completion import COMPLETIONS, complete_drugs
from taper.options import (
    OPTION_SPECS,
    REGIMEN,
    TABLE,
    CheckOptions,
    ConvertOptions,
    ReviseOptions,
    ScheduleOptions,
    ServeOptions,
    SheetOptions,
    SweepGrid,
    flag_spelling,
)
from taper.outputs import (
    REPORT_FORMAT,
    BatchFormat,
    BatchOutputs,
    PlanOutputs,
    ReportFormat,
)
from taper.params import drug_dose_pairs
from taper.process import Environment, ExitCode, Stopped, current, definition_lines
from taper.table import load_table
from taper.values import OptionSpec

_Command = TypeVar("_Command", bound=Callable[..., Any])


class TaperGroup(TyperGroup):
    """The commands, run inside the process's one error boundary
    (:meth:`taper.process.Environment.run`)."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        environment: Environment | None = None,
        **extra: Any,
    ) -> Any:
        env = environment or Environment(spell=flag_spelling)
        argv = list(sys.argv[1:] if args is None else args)

        def command() -> Any:
            return super(TaperGroup, self).main(
                args=argv,
                prog_name=prog_name or "taper",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )

        env.run(command, argv, explain=_usage_error)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Bare ``taper`` prints the help as click formats it, on standard output (exit 0)."""
        if not args and not ctx.resilient_parsing:
            typer.echo(ctx.get_help())
            ctx.exit(ExitCode.OK)
        return super().parse_args(ctx, args)


class PanelCommand(TyperCommand):
    """A command whose options are listed in panels (each parameter's ``rich_help_panel``,
    from its option's declaration), each help text wrapped at spaces only, so that no example
    such as a dose is broken."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if param.param_type_name == "argument":  # its metavar, without a type after it
                record = (param.metavar or str(param.name).upper(), getattr(param, "help", ""))
            if record is not None:
                kind = "Arguments" if param.param_type_name == "argument" else "Options"
                panel = getattr(param, "rich_help_panel", None) or kind
                panels.setdefault(panel, []).append(record)
        for panel, records in panels.items():
            with formatter.section(panel):
                for line in definition_lines(records, formatter.current_indent, formatter.width):
                    formatter.write(line + "\n")

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] DRUG DOSE [DRUG DOSE]...``: arguments by their metavars as written."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(param.metavar or str(param.name).upper())
        return pieces


def _usage_error(exc: Exception) -> tuple[str, int] | None:
    """A usage error of typer (click) as one line and its exit status; None for others."""
    if isinstance(exc, typer.Abort):
        return "interrupted", ExitCode.INTERRUPTED
    if not isinstance(exc, typer.TyperException):
        return None
    message = " ".join(exc.format_message().split())
    context = getattr(exc, "ctx", None)
    if context is not None:
        message = f"{message.rstrip('.')}; try '{context.command_path} -h' for help"
    option = str(getattr(exc, "option_name", ""))
    if option[1:2].isdigit() or option[1:2] == ".":  # "-1mg" read as an option
        message = f"invalid dose starting {option!r}: a dose must be greater than zero"
    return message, getattr(exc, "exit_code", ExitCode.USAGE_ERROR)


app = typer.Typer(
    cls=TaperGroup,
    name="taper",
    help="Benzodiazepine dose equivalence and taper schedules: a drafting aid for clinicians.",
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is shown as written: "[plot]" is not markup
    context_settings={"help_option_names": ["-h", "--help"]},
)

# ------------------------------------------------------------------ options, defined once


def typer_option(spec: OptionSpec, panel: str | None = None, name: str | None = None) -> Any:
    """The typer option of a declaration, listed in ``panel`` (default: Options), with the
    shell completion of the field ``name``'s values if they are names."""
    return typer.Option(
        *(spec.flag, *([spec.short] if spec.short else [])),
        metavar=spec.placeholder,
        help=spec.help,
        envvar=spec.envvar,
        min=spec.minimum,
        max=spec.maximum,
        show_default=spec.show_default,
        case_sensitive=False,
        rich_help_panel=panel,
        autocompletion=COMPLETIONS.get(name or ""),
    )


def with_options(**bundles: type[Any]) -> Callable[[_Command], _Command]:
    """Give a command the options of each dataclass in ``bundles`` as typer options (see
    :func:`taper.signatures.with_options`)."""
    return signatures.with_options(
        lambda spec, name: typer_option(spec, spec.panel, name), **bundles
    )


# Options other commands share with schedule, from the same declarations.
RegionOption = Annotated[str, typer_option(OPTION_SPECS["region"], name="region")]

FormatOption = Annotated[ReportFormat, typer_option(REPORT_FORMAT)]
PlanFileArgument = Annotated[
    Path,
    typer.Argument(metavar="PLAN", help="A plan taper wrote: its JSON or CSV.", show_default=False),
]
TableOption = Annotated[Path | None, typer_option(TABLE)]


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


# ------------------------------------------------------------------ helpers


def _emit_json(record: dict[str, Any]) -> None:
    from taper.records import dumps_json

    current().stdout.write(dumps_json(record))


# ------------------------------------------------------------------ commands


@app.command(cls=PanelCommand)
def drugs(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Drugs to show (default: all).", show_default=False, autocompletion=complete_drugs
        ),
    ] = None,
    output_format: FormatOption = ReportFormat.TABLE,
    table_file: TableOption = None,
) -> None:
    """List drugs: names, class, half-lives, maximum daily dose, equivalents per source.

    Equivalents are the dose equal to diazepam 10 mg under each source; a value published
    per diazepam 5 mg is doubled and marked *.

    Example: taper drugs clonazepam Xanax
    """
    table = load_table(table_file)
    selected = [table.drug(name) for name in names] if names else list(table.drugs.values())
    if output_format is ReportFormat.JSON:
        from taper.records import drugs_document

        _emit_json(drugs_document(table, selected))
        return
    from taper.render import render_drugs

    render_drugs(table, selected)


@app.command(cls=PanelCommand)
def sources(
    output_format: FormatOption = ReportFormat.TABLE,
    table_file: TableOption = None,
) -> None:
    """List the equivalence sources: id, title, year, grade, reference dose, address.

    Example: taper sources --format json
    """
    table = load_table(table_file)
    if output_format is ReportFormat.JSON:
        from taper.records import sources_document

        _emit_json(sources_document(table))
        return
    from taper.render import render_sources

    render_sources(table)


@app.command(cls=PanelCommand)
def paces(output_format: FormatOption = ReportFormat.TABLE) -> None:
    """List the named paces for --pace: what each does and sets, the drugs it covers, source.

    Example: taper paces --format json
    """
    if output_format is ReportFormat.JSON:
        from taper.records import paces_document

        _emit_json(paces_document())
        return
    from taper.render import render_paces

    render_paces()


@app.command(cls=PanelCommand)
@with_options(given=ConvertOptions)
def convert(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="DRUG DOSE [DRUG DOSE]...",
            help="Current drugs, each followed by its dose, e.g. clonazepam 1.5mg.",
            show_default=False,
            autocompletion=complete_drugs,
        ),
    ],
    given: ConvertOptions,
    output_format: FormatOption = ReportFormat.TABLE,
    table_file: TableOption = None,
) -> None:
    """Convert current doses into an equivalent dose of another drug.

    Several current drugs are summed into one target dose. The result is shown under the
    chosen source, with one line on what the other sources say; --all-sources shows each.

    Example: taper convert clonazepam 1.5mg --to diazepam --all-sources
    """
    from taper.convert import convert_dose

    table = load_table(table_file)
    o = given
    conversion = convert_dose(
        drug_dose_pairs(items), o.to, source=o.source, table=table,
        allow_high_dose=o.allow_high_dose,
    )  # fmt: skip
    conversion.require_writable()
    if output_format is ReportFormat.JSON:
        from taper.records import conversion_document

        flags = {"all_sources": o.all_sources, "allow_high_dose": o.allow_high_dose}
        _emit_json(conversion_document(conversion, table, **flags))
        return
    from taper.render import render_conversion

    render_conversion(conversion, table, all_sources=o.all_sources)


@app.command(
    cls=PanelCommand, short_help="Draft a day-by-day taper, direct or switching drugs first."
)
@with_options(options=ScheduleOptions, outputs=PlanOutputs)
def schedule(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="DRUG DOSE [DRUG DOSE]...",
            help="The current drug and its total daily dose ('1.5mg', split with --times) or "
            "dose per time of day ('morning=0.5mg,night=1mg'; times: morning, midday, "
            "afternoon, evening, night). Several drugs need --switch-to.",
            show_default=False,
            rich_help_panel=REGIMEN,
            autocompletion=complete_drugs,
        ),
    ],
    options: ScheduleOptions,
    outputs: PlanOutputs,
    table_file: Annotated[Path | None, typer_option(TABLE, REGIMEN)] = None,
) -> None:
    """Draft a day-by-day taper, direct or switching drugs first, that can be dispensed.

    A direct taper lowers the current drug; with --switch-to the plan first crosses over to
    another drug, holds it, then tapers it. Every dose can be made with the region's products
    (or those given with --product); the plan is checked against the 2025 Joint Guideline's
    pace (5-10% every 2-4 weeks to start, not more than 25% in 2 weeks), and says where the
    products force a larger cut.

    Example: taper schedule clonazepam 1.5mg --times 3 --start 2027-01-04
    """
    from taper.render import plan_output, show_plan
    from taper.schedule import plan_taper
    from taper.sidefiles import check_schedule_outputs, write_side_files

    check_schedule_outputs(outputs, table_file)
    table = load_table(table_file)
    plan = plan_taper(drug_dose_pairs(items), table=table, **dataclasses.asdict(options))
    curve = None
    if outputs.plot:
        from taper.curve import terminal_plot

        curve = terminal_plot(plan, table, width=min(current().terminal_width(), 120))
    chosen, text = plan_output(plan, table, outputs)
    to_file = outputs.output_file
    main = None if to_file is None or text is None else (to_file, text)
    write_side_files(plan, table, outputs, main=main)
    if curve is not None:
        current().stdout.write(curve + "\n")
    show_plan(plan, table, chosen, text, outputs)


@app.command(cls=PanelCommand)
@with_options(given=CheckOptions)
def check(
    plan_file: Annotated[
        Path,
        typer.Argument(
            metavar="PLAN.csv",
            help="The plan to check (CSV); - reads it from standard input.",
            show_default=False,
        ),
    ],
    given: CheckOptions,
    output_format: FormatOption = ReportFormat.TABLE,
    table_file: TableOption = None,
) -> int:
    """Check a plan someone wrote: dispensable doses, increases, pace, missing days.

    The plan is a CSV with a 'day', 'date' or 'from' (step table) column and a 'dose_mg' (or
    'dose', with a unit) column or one per dose time ('Morning', 'Lunchtime', 'Bedtime',
    'AM', 'Night (mg)'...), optionally 'Total', 'slot' and 'drug' (or --drug); a column it
    cannot place is refused by name (docs/check.md lists them); the CSV of 'taper schedule'
    works as it is. Reports the diazepam equivalent of each step under each source and the
    total to dispense. Exit status 0 when no problem is found, 1 otherwise.

    Example: taper check plan.csv --drug clonazepam
    """
    from taper.check import check_plan
    from taper.params import parse_days

    table = load_table(table_file)
    o = given
    supply_days = parse_days(o.supply, "supply period") if o.supply else None
    result = check_plan(
        plan_file, table, drug=o.drug, region=o.region, products=o.products, source=o.source,
        date_format=o.date_format, supply_days=supply_days,
    )  # fmt: skip
    if output_format is ReportFormat.JSON:
        from taper.check import check_document

        _emit_json(check_document(result, table))
    else:
        from taper.render import render_check

        render_check(result, table)
    return ExitCode.OK if result.clean else ExitCode.DOMAIN_ERROR


@app.command(cls=PanelCommand)
@with_options(change=ReviseOptions, outputs=PlanOutputs)
def revise(
    plan_file: PlanFileArgument,
    change: ReviseOptions,
    outputs: PlanOutputs,
    table_file: TableOption = None,
) -> None:
    """Revise a running plan from a date: hold, step back, the dose taken, or a new pace.

    Every day before --on stays as it was; the revision's number, date and reason go into
    every output, with the checksum of the plan it replaces. A plan file edited by hand is
    refused. See docs/revise.md.

    Example: taper revise plan.json --on 2027-02-10 --hold 2w --reason "poor sleep" -o plan-1.json
    """
    from taper.render import plan_output, show_plan
    from taper.schedule import load_plan
    from taper.sidefiles import check_schedule_outputs, write_side_files

    check_schedule_outputs(outputs, table_file, inputs=(plan_file,))
    table = load_table(table_file)
    plan = load_plan(plan_file, table=table).revise(**dataclasses.asdict(change))
    chosen, text = plan_output(plan, table, outputs)
    to_file = outputs.output_file
    main = None if to_file is None or text is None else (to_file, text)
    write_side_files(plan, table, outputs, main=main)
    show_plan(plan, table, chosen, text, outputs)


@app.command(cls=PanelCommand)
@with_options(given=SheetOptions)
def sheet(plan_file: PlanFileArgument, given: SheetOptions, table_file: TableOption = None) -> None:
    """Print one supply period's day-by-day sheet from a plan file, for that dispensing.

    The sheet to tick (and a symptom diary for the same days) that goes with each supply;
    the handout holds the first. Periods are the plan's --supply, else 28 days, numbered from
    1 as on the prescriber's page. A plan file edited by hand is refused.

    Example: taper sheet plan.json --period 2 -o sheet-2.pdf
    """
    from taper.sidefiles import write_period_sheet

    written = write_period_sheet(plan_file, load_table(table_file), table_file, given)
    current().stderr.write(written + "\n")


@app.command(cls=PanelCommand)
@with_options(outputs=BatchOutputs)
def batch(
    scenarios: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIOS",
            help="Scenario file: .csv or .toml; - reads CSV from standard input.",
            show_default=False,
        ),
    ],
    outputs: BatchOutputs,
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
    shown = "standard input" if str(scenarios) == "-" else scenarios
    return _run_batch(
        read_scenarios(scenarios), table, outputs, f"scenarios from {shown}", inputs=[scenarios]
    )


@app.command(cls=PanelCommand)
@with_options(grid=SweepGrid, outputs=BatchOutputs)
def sweep(
    drug: Annotated[
        str,
        typer.Argument(
            help="The current drug (one).", show_default=False, autocompletion=complete_drugs
        ),
    ],
    doses: Annotated[
        str, typer.Argument(help="Daily doses to try, e.g. 0.5mg,1mg,2mg.", show_default=False)
    ],
    *,
    grid: Any,
    region: RegionOption = "us",
    start: Annotated[
        str, typer.Option("--start", metavar="DATE", help="First day of every plan, YYYY-MM-DD.")
    ] = "2027-01-04",
    outputs: BatchOutputs,
    table_file: TableOption = None,
) -> int:
    """Plan every combination of the values given (comma-separated): a parameter sweep.

    Example: taper sweep clonazepam 0.5mg,1mg,2mg --rate 5%,10%,25% --every 2w,4w -o sweep.csv
    """
    from taper.batch import sweep_scenarios

    table = load_table(table_file)
    values = {name: value for name, value in dataclasses.asdict(grid).items() if value}
    scenarios = sweep_scenarios(drug, doses, values, {"region": region, "start": start})
    return _run_batch(scenarios, table, outputs, f"sweep of {drug} {doses}")


def _run_batch(
    scenarios: Any, table: Any, outputs: BatchOutputs, what: str, inputs: Sequence[Path] = ()
) -> int:
    """Write a batch with a progress count on a terminal; exit status 1 if any failed."""
    from taper.batch import write_batch
    from taper.render import progress

    o, env = outputs, current()
    total = len(scenarios) if hasattr(scenarios, "__len__") else None  # a sweep's is known
    with progress(not o.quiet and env.stderr.isatty(), total) as advance:
        failed = write_batch(
            scenarios, table, o.output, summary=o.summary, dispensing=o.dispensing,
            jsonl=o.chosen_format() is BatchFormat.JSONL, what=what, jobs=o.jobs,
            raw_csv=o.raw_csv, force=o.force, inputs=inputs, on_progress=advance,
        )  # fmt: skip
    if failed:
        env.stderr.write(f"taper: {failed} scenario(s) failed; see the summary or the output\n")
    return ExitCode.DOMAIN_ERROR if failed else ExitCode.OK


@app.command(cls=PanelCommand)
@with_options(given=ServeOptions)
def serve(given: ServeOptions) -> None:
    """Serve the plan, convert and check pages in a local web page (taper[web]).

    The pages use the bundled table and the same library as the command line; the files they
    download are the bytes 'taper schedule' writes. Ctrl-C stops the server.

    Example: taper serve --open
    """
    from taper.web.server import serve as run_server

    env = current()
    try:
        run_server(
            given.host,
            given.port,
            open_browser=given.open_browser,
            say=lambda line: print(line, file=env.stdout, flush=True),
            warn=lambda line: print(line, file=env.stderr, flush=True),
        )
    except Stopped:  # Ctrl-C is how a server is stopped: not an error
        env.stderr.write("taper: stopped\n")


def main() -> None:
    """The ``taper`` process: it owns its streams and signals (see :mod:`taper.process`)."""
    app(prog_name="taper", environment=Environment.for_process(spell=flag_spelling))


if __name__ == "__main__":
    main()
