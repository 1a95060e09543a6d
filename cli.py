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
import functools
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast, get_type_hints

import typer
from typer.core import TyperCommand, TyperGroup

import taper
from taper.formatting import printable
from taper.options import (
    OPTION_SPECS,
    REGIMEN,
    TABLE,
    ScheduleOptions,
    SweepGrid,
    flag_spelling,
)
from taper.outputs import (
    REPORT_FORMAT,
    BatchFormat,
    BatchOutputs,
    PlanFormat,
    PlanOutputs,
    ReportFormat,
)
from taper.params import drug_dose_pairs
from taper.process import Environment, ExitCode, current, definition_lines
from taper.table import load_table
from taper.values import OptionSpec, option_specs

_Options = TypeVar("_Options")
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


def typer_option(spec: OptionSpec, panel: str | None = None) -> Any:
    """The typer option of a declaration, listed in ``panel`` (default: Options)."""
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
    )


def option_parameters(options: type[Any]) -> list[inspect.Parameter]:
    """One typer parameter per field of a dataclass of options, built from the field's
    :class:`~taper.values.OptionSpec` (flag, short name, placeholder, panel, help), its type
    and its default: the command line's copy of the declaration, never written by hand."""
    types, specs = get_type_hints(options), option_specs(options)
    parameters = []
    for field in dataclasses.fields(options):
        spec = specs[field.name]
        kind, default = types[field.name], field.default
        if default is dataclasses.MISSING:  # a required option
            default = inspect.Parameter.empty
        if spec.repeatable:  # --hold A --hold B: a list, empty when not given
            kind, default = list[str] | None, None
        info = typer_option(spec, spec.panel)
        parameters.append(
            inspect.Parameter(
                field.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=cast(Any, Annotated)[kind, info],
            )
        )
    return parameters


def options_object(options: type[_Options], values: Mapping[str, Any]) -> _Options:
    """The dataclass of options from the values of its parameters (lists as tuples)."""
    given = {name: tuple(v) if isinstance(v, list) else v for name, v in values.items()}
    return options(**{name: value for name, value in given.items() if value is not None})


def with_options(**bundles: type[Any]) -> Callable[[_Command], _Command]:
    """Give a command the options of each dataclass in ``bundles`` (its parameter's name ->
    the dataclass): typer sees one parameter per field (:func:`option_parameters`), and the
    command receives one object of each dataclass. Adding an option is one field."""

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            bundle = bundles.get(parameter.name)
            parameters.extend(
                option_parameters(bundle)
                if bundle
                else [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)]
            )

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            for name, bundle in bundles.items():
                fields = [field.name for field in dataclasses.fields(bundle)]
                values[name] = options_object(bundle, {f: values.pop(f) for f in fields})
            return command(**values)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return cast(_Command, run)

    return decorate


# Options other commands share with schedule, from the same declarations.
SourceOption = Annotated[str | None, typer_option(OPTION_SPECS["source"])]
RegionOption = Annotated[str, typer_option(OPTION_SPECS["region"])]
AllowHighDoseOption = Annotated[bool, typer_option(OPTION_SPECS["allow_high_dose"])]

FormatOption = Annotated[ReportFormat, typer_option(REPORT_FORMAT)]
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
        list[str] | None, typer.Argument(help="Drugs to show (default: all).", show_default=False)
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
def convert(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="DRUG DOSE [DRUG DOSE]...",
            help="Current drugs, each followed by its dose, e.g. clonazepam 1.5mg.",
            show_default=False,
        ),
    ],
    to: Annotated[str, typer.Option("--to", "-t", metavar="DRUG", help="The drug to convert to.")],
    source: SourceOption = None,
    all_sources: Annotated[
        bool, typer.Option("--all-sources", "-a", help="Show the result under every source.")
    ] = False,
    allow_high_dose: AllowHighDoseOption = False,
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
    conversion = convert_dose(
        drug_dose_pairs(items), to, source=source, table=table, allow_high_dose=allow_high_dose
    )
    conversion.require_writable()
    if output_format is ReportFormat.JSON:
        from taper.records import conversion_document

        flags = {"all_sources": all_sources, "allow_high_dose": allow_high_dose}
        _emit_json(conversion_document(conversion, table, **flags))
        return
    from taper.render import render_conversion

    render_conversion(conversion, table, all_sources=all_sources)


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
    from taper.schedule import plan_taper
    from taper.sidefiles import check_schedule_outputs, write_side_files

    check_schedule_outputs(outputs, table_file)
    table = load_table(table_file)
    plan = plan_taper(drug_dose_pairs(items), table=table, **dataclasses.asdict(options))
    curve = None
    if outputs.plot:
        from taper.curve import terminal_plot

        curve = terminal_plot(plan, table, width=min(current().terminal_width(), 120))
    chosen, text = _plan_output(plan, table, outputs)
    to_file = outputs.output_file
    main = None if to_file is None or text is None else (to_file, text)
    write_side_files(plan, table, outputs, main=main)
    if curve is not None:
        current().stdout.write(curve + "\n")
    _show_plan(plan, table, chosen, text, outputs)


def _plan_output(plan: Any, table: Any, outputs: PlanOutputs) -> tuple[PlanFormat, str | None]:
    """The format asked (or named by the output's extension) and the plan as text in it;
    None: render it on the terminal."""
    from taper.outputs import output_format

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
    from taper.render import plan_text

    return chosen, plan_text(plan, table, daily=outputs.daily)


def _show_plan(
    plan: Any, table: Any, chosen: PlanFormat, text: str | None, outputs: PlanOutputs
) -> None:
    """The plan to the terminal or standard output (``-o -``) unless written to a file; CSV
    warnings and the file written go to stderr."""
    if text is None:
        from taper.render import console, render_plan

        render_plan(plan, table, console(), daily=outputs.daily)
        return
    to_file = outputs.output_file
    if to_file is None:
        current().stdout.write(text)
    if chosen is PlanFormat.CSV:
        from taper.notices import warning_lines

        current().stderr.write(warning_lines(plan.warnings))
    if to_file is not None:
        current().stderr.write(f"wrote {printable(str(to_file))}: {plan.day_count} days\n")


@app.command(cls=PanelCommand)
def check(
    plan_file: Annotated[
        Path,
        typer.Argument(metavar="PLAN.csv", help="The plan to check (CSV).", show_default=False),
    ],
    drug: Annotated[
        str | None,
        typer.Option(
            "--drug", "-d", metavar="DRUG", help="The drug, when the file has no drug column."
        ),
    ] = None,
    region: RegionOption = "us",
    product: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            metavar="PRODUCT",
            help="The products dispensed (as for schedule). Repeatable.",
        ),
    ] = None,
    source: SourceOption = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            metavar="FORMAT",
            help="How the file writes dates that are not YYYY-MM-DD: dd/mm/yyyy or mm/dd/yyyy.",
        ),
    ] = None,
    supply: Annotated[
        str | None,
        typer.Option(
            "--supply",
            metavar="INTERVAL",
            help="Also count what to dispense per period, e.g. 28d (halves carried over).",
        ),
    ] = None,
    output_format: FormatOption = ReportFormat.TABLE,
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
    from taper.params import parse_days

    table = load_table(table_file)
    supply_days = parse_days(supply, "supply period") if supply else None
    result = check_plan(
        plan_file, table, drug=drug, region=region, products=product or (), source=source,
        date_format=date_format, supply_days=supply_days,
    )  # fmt: skip
    if output_format is ReportFormat.JSON:
        from taper.records import check_document

        _emit_json(check_document(result, table))
    else:
        from taper.render import render_check

        render_check(result, table)
    return ExitCode.OK if result.clean else ExitCode.DOMAIN_ERROR


@app.command(cls=PanelCommand)
@with_options(outputs=BatchOutputs)
def batch(
    scenarios: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIOS", help="Scenario file: .csv or .toml.", show_default=False
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
    what = f"scenarios from {scenarios}"
    return _run_batch(read_scenarios(scenarios), table, outputs, what, inputs=[scenarios])


@app.command(cls=PanelCommand)
@with_options(grid=SweepGrid, outputs=BatchOutputs)
def sweep(
    drug: Annotated[str, typer.Argument(help="The current drug.", show_default=False)],
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
    with progress(not o.quiet and env.stderr.isatty()) as advance:
        failed = write_batch(
            scenarios, table, o.output, summary=o.summary, dispensing=o.dispensing,
            jsonl=o.chosen_format() is BatchFormat.JSONL, what=what, jobs=o.jobs,
            raw_csv=o.raw_csv, force=o.force, inputs=inputs, on_progress=advance,
        )  # fmt: skip
    if failed:
        env.stderr.write(f"taper: {failed} scenario(s) failed; see the summary or the output\n")
    return ExitCode.DOMAIN_ERROR if failed else ExitCode.OK


def main() -> None:
    """The ``taper`` process: it owns its streams and signals (see :mod:`taper.process`)."""
    app(prog_name="taper", environment=Environment.for_process(spell=flag_spelling))


if __name__ == "__main__":
    main()
