"""The `taper` command line: a thin translator over the `taper` library.

Each command declares its options, calls the library and hands the result to the terminal
renderer (:mod:`taper.render`) or writes the library's JSON or CSV. All error display happens
in :class:`TaperGroup.main`: one line on stderr, ``taper: error: ...``, with exit status 1
(domain), 2 (usage) or 130 (interrupted); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

import taper
from taper import files
from taper.errors import InvalidRequestError, TaperError, shorten_message
from taper.formatting import printable
from taper.table import load_table


class ExitCode(IntEnum):
    OK = 0
    DOMAIN_ERROR = 1
    USAGE_ERROR = 2
    SOFTWARE = 70  # EX_SOFTWARE: an internal error, a bug in taper
    HUNG_UP = 129  # 128 + SIGHUP
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143  # 128 + SIGTERM


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class PlanFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: ExitCode) -> NoReturn:
    """One line on stderr: control characters of file names or table keys made visible."""
    with contextlib.suppress(OSError, AttributeError, ValueError):  # stderr closed: just exit
        sys.stderr.write(f"taper: error: {shorten_message(printable(shorten_message(message)))}\n")
        sys.stderr.flush()
    sys.exit(code)


def _root_debug(argv: list[str]) -> bool:
    """Whether ``--debug`` is given as the root option (before the command), and only there:
    ``taper schedule ... --note --debug`` is a note, not a request for tracebacks."""
    command = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), len(argv))
    return "--debug" in argv[:command]


#: What taper says when a stop signal (:data:`taper.files.STOP_SIGNALS`) ends it.
STOP_MESSAGES = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "terminated",
    signal.SIGHUP: "hung up",
}


class Stopped(BaseException):
    """A signal asked taper to stop: clean-up runs (workers, temporary files), then it exits
    with 128 + the signal's number. Not an Exception, so that nothing catches it by mistake."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    for number in files.STOP_SIGNALS:  # a second signal must not interrupt the clean-up
        signal.signal(number, signal.SIG_IGN)
    raise Stopped(signum)


def _catch_stop_signals() -> Callable[[], None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped`; returns how to undo it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {number: signal.getsignal(number) for number in files.STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])  # as it is: to put back at the end
    for number, handler in previous.items():
        if handler is not signal.SIG_IGN:  # ignored by whoever started taper (nohup): keep
            signal.signal(number, _stop)

    def restore() -> None:
        """Put the handlers back with the signals held, and let a stop signal that came
        after the command had finished change nothing (its outcome stands). The taper
        process itself ends right after: it ignores them to the end instead."""
        signal.pthread_sigmask(signal.SIG_BLOCK, files.STOP_SIGNALS)
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_IGN if files.HOLD_SIGNALS_AFTER_COMMIT else handler)
        late = signal.sigpending() & set(files.STOP_SIGNALS)
        for _ in late:
            signal.sigwait(late)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    return restore


def _discard_stdout() -> None:
    """After a failed write to stdout, let the exit flush nothing more (no second message)."""
    with contextlib.suppress(OSError, AttributeError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class _ClosedOutput(io.TextIOBase):
    """Standard output when taper was started with it closed: every write fails clearly."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _prepare_streams() -> None:
    """Standard output closed or unable to encode the text: never an internal error."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            reconfigure(errors="backslashreplace")  # PYTHONIOENCODING=ascii: "\u2192", no crash


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
        if any("\x00" in arg for arg in argv):  # typer < 0.29 fails on it in os.stat
            _fail(
                "an argument contains a NUL character; no file name or value can hold one",
                ExitCode.USAGE_ERROR,
            )
        debug = _root_debug(argv)
        restore_signals = _catch_stop_signals()
        try:
            code = super().main(
                args=argv,
                prog_name=prog_name or "taper",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            if threading.current_thread() is threading.main_thread():
                signal.pthread_sigmask(signal.SIG_BLOCK, files.STOP_SIGNALS)  # the work is done
            sys.stdout.flush()
        except Stopped as exc:
            _fail(STOP_MESSAGES[signal.Signals(exc.signum)], ExitCode(128 + exc.signum))
        except TaperError as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), ExitCode.USAGE_ERROR if exc.is_usage else ExitCode.DOMAIN_ERROR)
        except typer.TyperException as exc:
            if debug:
                traceback.print_exc()
            message = " ".join(exc.format_message().split())
            context = getattr(exc, "ctx", None)
            if context is not None:
                message = f"{message.rstrip('.')}; try '{context.command_path} -h' for help"
            option = str(getattr(exc, "option_name", ""))
            if option[1:2].isdigit() or option[1:2] == ".":  # "-1mg" read as an option
                message = f"invalid dose starting {option!r}: a dose must be greater than zero"
            _fail(message, ExitCode(getattr(exc, "exit_code", ExitCode.USAGE_ERROR)))
        except (typer.Abort, KeyboardInterrupt):
            _fail("interrupted", ExitCode.INTERRUPTED)
        except OSError as exc:  # writing to standard output: closed, full, a closed pipe
            _discard_stdout()
            _fail(f"cannot write to standard output: {exc.strerror or exc}", ExitCode.DOMAIN_ERROR)
        except Exception as exc:  # a bug in taper: still one line, unless --debug
            if debug:
                raise
            _fail(
                f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it",
                ExitCode.SOFTWARE,
            )
        finally:
            restore_signals()
        if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into exit status 130
            _fail("interrupted", ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Bare ``taper`` prints the help as click formats it, on standard output (exit 0)."""
        if not args and not ctx.resilient_parsing:
            typer.echo(ctx.get_help())
            ctx.exit(ExitCode.OK)
        return super().parse_args(ctx, args)


class PanelCommand(TyperCommand):
    """A command whose options are listed in panels (``PANELS``, by parameter name), each
    help text wrapped at spaces only, so that no example such as a dose is broken."""

    #: Each panel's title and the names of its parameters (space-separated).
    PANELS: ClassVar[Mapping[str, str]] = {}

    def format_options(self, ctx: Any, formatter: Any) -> None:
        panel_of = {name: panel for panel, names in self.PANELS.items() for name in names.split()}
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if param.param_type_name == "argument":  # its metavar, without a type after it
                record = (param.metavar or str(param.name).upper(), getattr(param, "help", ""))
            if record is not None:
                kind = "Arguments" if param.param_type_name == "argument" else "Options"
                panel = panel_of.get(param.name or "", kind)
                panels.setdefault(panel, []).append(record)
        for panel, records in panels.items():
            with formatter.section(panel):
                _write_definitions(formatter, records)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] DRUG DOSE [DRUG DOSE]...``: arguments by their metavars as written."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(param.metavar or str(param.name).upper())
        return pieces


def _write_definitions(formatter: Any, records: list[tuple[str, str]]) -> None:
    import textwrap

    indent = " " * formatter.current_indent
    first = min(max(len(term) for term, _ in records), 24)
    width = max(formatter.width - formatter.current_indent - first - 2, 20)
    for term, text in records:
        lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
        if len(term) > first:
            formatter.write(f"{indent}{term}\n")
        else:
            formatter.write(f"{indent}{term:<{first}}  {lines.pop(0) if lines else ''}".rstrip())
            formatter.write("\n")
        for line in lines:
            formatter.write(f"{indent}{'':<{first}}  {line}\n")


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

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", metavar="FORMAT", help="Output format.", case_sensitive=False),
]
TableOption = Annotated[
    Path | None,
    typer.Option(
        "--table",
        metavar="FILE",
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
        metavar="SOURCE",
        help="Equivalence source id (see 'taper sources'). Default: the table's default, ashton.",
        show_default=False,
    ),
]


OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to this file (atomically) instead of the terminal; - is standard output.",
        show_default=False,
    ),
]
RegionOption = Annotated[
    str,
    typer.Option(
        "--region",
        metavar="REGION",
        envvar="TAPER_REGION",
        help="Product set: us or uk (any case; default from TAPER_REGION, else us).",
        callback=lambda value: value.strip().lower() if isinstance(value, str) else value,
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


# ------------------------------------------------------------------ helpers


def _emit_json(record: dict[str, Any]) -> None:
    from taper.records import dumps_json

    sys.stdout.write(dumps_json(record))


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    if len(items) % 2:
        raise InvalidRequestError(
            f"give each current drug with its dose (DRUG DOSE ...); {items[-1]!r} has no dose"
        )
    return list(zip(items[0::2], items[1::2], strict=True))


# ------------------------------------------------------------------ commands


@app.command(cls=PanelCommand)
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
        from taper.records import drugs_document

        _emit_json(drugs_document(table, selected))
        return
    from taper.render import render_drugs

    render_drugs(table, selected)


@app.command(cls=PanelCommand)
def sources(
    output_format: FormatOption = OutputFormat.table,
    table_file: TableOption = None,
) -> None:
    """List the equivalence sources: id, title, year, grade, reference dose, address.

    Example: taper sources --format json
    """
    table = load_table(table_file)
    if output_format is OutputFormat.json:
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
    output_format: FormatOption = OutputFormat.table,
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
        _pairs(items), to, source=source, table=table, allow_high_dose=allow_high_dose
    )
    conversion.require_writable()
    if output_format is OutputFormat.json:
        from taper.records import conversion_document

        _emit_json(
            conversion_document(
                conversion, table, all_sources=all_sources, allow_high_dose=allow_high_dose
            )
        )
        return
    from taper.render import render_conversion

    render_conversion(conversion, table, all_sources=all_sources)


class ScheduleCommand(PanelCommand):
    PANELS: ClassVar[Mapping[str, str]] = {
        "Regimen": "items times source allow_high_dose table_file",
        "Pace": "method rate every step steps slow_below slow_rate final end holds order start "
        "until duration ed50 emax occupancy_step cautious",
        "Products": "region products supply",
        "Switch": "switch_to finish_on finish_from switch_reduction crossover stage stabilize part",
        "Patient": "used_for days_per_week age seizures with_opioids with_alcohol liver_impairment",
        "Outputs": "plot plot_file handout patient note paper patient_copy ics reminders revision "
        "daily raw_csv "
        "output_format output force",
    }


@app.command(
    cls=ScheduleCommand, short_help="Draft a day-by-day taper, direct or switching drugs first."
)
def schedule(
    ctx: typer.Context,
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
            "--times",
            metavar="N",
            help="Split a daily total over 1-4 usual dose times.",
            min=1,
            max=4,
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            metavar="METHOD",
            help="percent (exponential: a fixed % of the current dose), linear (fixed mg), "
            "bands (NICE CKS fixed steps), steps (your list), occupancy (equal steps in "
            "receptor occupancy; needs --ed50, for which no published benzodiazepine value "
            "exists).",
        ),
    ] = "percent",
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate",
            "-r",
            metavar="PERCENT",
            help="percent: cut per interval (default 10%; 5% --cautious).",
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            "-e",
            metavar="INTERVAL",
            help="Interval between cuts: '14d', '2w' (default 2w).",
        ),
    ] = None,
    step: Annotated[
        str | None,
        typer.Option("--step", metavar="DOSE", help="linear: mg cut per interval, e.g. 0.125mg."),
    ] = None,
    steps: Annotated[
        str | None,
        typer.Option(
            "--steps",
            metavar="DOSES",
            help="steps: daily doses in order, e.g. '0.75mg,0.5mg,0.25mg'.",
        ),
    ] = None,
    slow_below: Annotated[
        str | None,
        typer.Option("--slow-below", metavar="DOSE", help="Use --slow-rate at or below this dose."),
    ] = None,
    slow_rate: Annotated[
        str | None,
        typer.Option(
            "--slow-rate", metavar="PERCENT", help="percent: cut per interval at low doses."
        ),
    ] = None,
    final: Annotated[
        str | None,
        typer.Option(
            "--final",
            metavar="DOSE",
            help="Stop after this daily dose (default: see --end).",
        ),
    ] = None,
    end: Annotated[
        str,
        typer.Option(
            "--end",
            metavar="END",
            help="clinical: stop from about 1 mg diazepam equivalent (or the smallest dose the "
            "products make), in fixed steps below 10 mg diazepam equivalent (NICE CKS, NHS "
            "Scotland); micro: percent cuts down to the smallest dose the products make, e.g. "
            "with a liquid (hyperbolic tapering, Maudsley Deprescribing Guidelines): much "
            "longer plans.",
        ),
    ] = "clinical",
    holds: Annotated[
        list[str] | None,
        typer.Option(
            "--hold",
            metavar="HOLD",
            help="Stay longer at a dose: 'after-step:3:2w', 'every:3:2w', 'at:0.5mg:4w'. "
            "Repeatable.",
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            metavar="ORDER",
            help="Which dose times go down first: auto (daytime-first for long-acting drugs, "
            "even for short-acting ones), daytime-first (one dose time at a time: midday, "
            "then morning, then night; Ashton, NHS Scotland), even (largest dose first, keeping "
            "every dose time), night-first.",
        ),
    ] = "auto",
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="DATE",
            help="First day, YYYY-MM-DD (default: today, as the output says).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Find the pace that stops by this date."),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(
            "--duration", metavar="DURATION", help="Find the pace that stops within e.g. 26w."
        ),
    ] = None,
    region: RegionOption = "us",
    products: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            metavar="PRODUCT",
            help="Use these products instead of the region's, e.g. '0.5mg tablet scored', "
            "'0.125mg odt', '0.5mg/5mL solution'. Repeatable.",
        ),
    ] = None,
    source: SourceOption = None,
    ed50: Annotated[
        str | None,
        typer.Option(
            "--ed50", metavar="DOSE", help="occupancy: dose giving half of Emax (cite it)."
        ),
    ] = None,
    emax: Annotated[
        str, typer.Option("--emax", metavar="PERCENT", help="occupancy: maximum occupancy, %.")
    ] = "100",
    occupancy_step: Annotated[
        str,
        typer.Option(
            "--occupancy-step", metavar="POINTS", help="occupancy: points of occupancy per step."
        ),
    ] = "5",
    supply: Annotated[
        str | None,
        typer.Option(
            "--supply", metavar="INTERVAL", help="Also count what to dispense per period, e.g. 28d."
        ),
    ] = None,
    switch_to: Annotated[
        str | None,
        typer.Option(
            "--switch-to",
            metavar="DRUG",
            help="Cross over to this drug (e.g. diazepam, chlordiazepoxide, clonazepam) before "
            "tapering it.",
        ),
    ] = None,
    finish_on: Annotated[
        str | None,
        typer.Option(
            "--finish-on",
            metavar="DRUG",
            help="Taper the current drug while its products keep the pace (or to "
            "--finish-from), then cross over to this drug (e.g. diazepam) and finish on it "
            "(Ashton Manual).",
        ),
    ] = None,
    finish_from: Annotated[
        str | None,
        typer.Option(
            "--finish-from",
            metavar="DOSE",
            help="With --finish-on: the daily dose at which to cross over.",
        ),
    ] = None,
    switch_reduction: Annotated[
        str | None,
        typer.Option(
            "--switch-reduction",
            metavar="PERCENT",
            help="Start the new drug this much below the full equivalent, e.g. 25% "
            "(incomplete cross-tolerance, e.g. in older people).",
        ),
    ] = None,
    crossover: Annotated[
        str,
        typer.Option(
            "--crossover",
            metavar="STRATEGY",
            help="slot: one whole dose time per stage, night first (Ashton); partial: --part "
            "of one dose time per stage; direct: everything at once.",
        ),
    ] = "slot",
    stage: Annotated[
        str, typer.Option("--stage", metavar="INTERVAL", help="Length of a crossover stage.")
    ] = "1w",
    stabilize: Annotated[
        str,
        typer.Option(
            "--stabilize",
            metavar="INTERVAL",
            help="Time on the new drug before the taper (0 allowed).",
        ),
    ] = "2w",
    part: Annotated[
        str | None,
        typer.Option(
            "--part",
            metavar="DOSE",
            help="partial: mg of the current drug switched per stage (default: half).",
        ),
    ] = None,
    used_for: Annotated[
        str | None,
        typer.Option(
            "--used-for",
            metavar="DURATION",
            help="How long the drug has been used: '10d', '6w', '18m', '2y'.",
        ),
    ] = None,
    days_per_week: Annotated[
        int | None,
        typer.Option("--days-per-week", metavar="DAYS", help="Days a week it is taken (1-7)."),
    ] = None,
    age: Annotated[
        int | None, typer.Option("--age", metavar="YEARS", help="The patient's age in years.")
    ] = None,
    seizures: Annotated[
        bool, typer.Option("--seizures", help="The patient has a history of seizures.")
    ] = False,
    with_opioids: Annotated[
        bool, typer.Option("--with-opioids", help="Taken together with opioids.")
    ] = False,
    with_alcohol: Annotated[
        bool, typer.Option("--with-alcohol", help="Taken together with alcohol.")
    ] = False,
    liver_impairment: Annotated[
        bool, typer.Option("--liver", help="The patient has liver impairment.")
    ] = False,
    cautious: Annotated[
        bool,
        typer.Option(
            "--cautious",
            help="Slower defaults: 5% every 2 weeks and a 2-week hold after every third cut.",
        ),
    ] = False,
    plot: Annotated[
        bool, typer.Option("--plot", help="Draw the taper curve in the terminal (taper[plot]).")
    ] = False,
    plot_file: Annotated[
        Path | None,
        typer.Option(
            "--plot-file",
            metavar="FILE",
            help="Write the taper curve to a .png or .svg (taper[plot]).",
        ),
    ] = None,
    handout: Annotated[
        Path | None,
        typer.Option(
            "--handout",
            metavar="FILE",
            help="Write a printable patient calendar, a .pdf (taper[pdf]).",
        ),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", metavar="NAME", help="The patient's name, for the handout."),
    ] = None,
    note: Annotated[
        str | None,
        typer.Option("--note", metavar="TEXT", help="The prescriber's note, for the handout."),
    ] = None,
    paper: Annotated[
        str | None,
        typer.Option("--paper", metavar="SIZE", help="Handout paper: a4 (default) or letter."),
    ] = None,
    patient_copy: Annotated[
        bool,
        typer.Option(
            "--patient-copy",
            help="With --handout: leave out the page for the prescriber and pharmacist.",
        ),
    ] = False,
    ics: Annotated[
        Path | None,
        typer.Option(
            "--ics", metavar="FILE", help="Write a calendar of dose changes, a .ics (taper[ics])."
        ),
    ] = None,
    reminders: Annotated[
        str | None,
        typer.Option(
            "--reminders",
            metavar="TIMES",
            help="With --ics: a daily reminder per dose time at these times, e.g. 08:00,22:00.",
        ),
    ] = None,
    revision: Annotated[
        int,
        typer.Option(
            "--revision",
            metavar="N",
            min=0,
            help="With --ics: this plan's revision (0 first); raise it for a revised plan so "
            "that importing it replaces the old events.",
        ),
    ] = 0,
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
        PlanFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="table, csv or json (default: from the --output extension, else table).",
            case_sensitive=False,
        ),
    ] = None,
    output: OutputOption = None,
    force: ForceOption = False,
    table_file: TableOption = None,
) -> None:
    """Draft a day-by-day taper, direct or switching drugs first, that can be dispensed.

    A direct taper lowers the current drug; with --switch-to the plan first crosses over to
    another drug, holds it, then tapers it. Every dose can be made with the region's products
    (or those given with --product); the plan is checked against the 2025 Joint Guideline's
    pace (5-10% every 2-4 weeks to start, not more than 25% in 2 weeks), and says where the
    products force a larger cut.

    Example: taper schedule clonazepam 1.5mg --times 3 --start 2027-01-04
    """

    from taper.options import OPTION_KINDS
    from taper.outputs import is_stdout
    from taper.schedule import plan_taper
    from taper.sidefiles import check_schedule_outputs, write_side_files

    to_file = None if is_stdout(output) else output
    check_schedule_outputs(
        output=to_file, plot_file=plot_file, handout=handout, ics=ics, force=force,
        table_file=table_file, patient=patient, note=note, paper=paper,
        clinician_page=not patient_copy, reminders=reminders,
    )  # fmt: skip
    table = load_table(table_file)
    options = {k: v for k, v in ctx.params.items() if k in OPTION_KINDS and v is not None}
    plan = plan_taper(_pairs(items), table=table, **options)
    curve = None
    if plot:
        from taper.curve import terminal_plot
        from taper.render import console

        curve = terminal_plot(plan, table, width=min(console().width, 120))
    chosen, text = _plan_output(plan, table, output_format, output, raw_csv=raw_csv, daily=daily)
    write_side_files(
        plan,
        table,
        plot_file=plot_file,
        handout=handout,
        patient=patient,
        note=note,
        paper=paper,
        clinician_page=not patient_copy,
        ics=ics,
        reminders=reminders,
        revision=revision,
        force=force,
        main=None if to_file is None or text is None else (to_file, text),
    )
    if curve is not None:
        sys.stdout.write(curve + "\n")
    _show_plan(plan, table, chosen, text, to_file, daily=daily)


def _plan_output(
    plan: Any,
    table: Any,
    given: PlanFormat | None,
    output: Path | None,
    *,
    raw_csv: bool,
    daily: bool,
) -> tuple[PlanFormat, str | None]:
    """The format asked (or named by the output's extension) and the plan as text in it;
    None: render it on the terminal."""
    from taper.outputs import output_format

    chosen = PlanFormat(output_format(given, output, list(PlanFormat), PlanFormat.table))
    if chosen is PlanFormat.json:
        from taper.records import dumps_json, plan_document

        return chosen, dumps_json(plan_document(plan, table))
    if chosen is PlanFormat.csv:
        from taper.csvout import plan_csv

        return chosen, plan_csv(plan, table, raw=raw_csv)
    if output is None:
        return chosen, None
    from taper.render import plan_text

    return chosen, plan_text(plan, table, daily=daily)


def _show_plan(
    plan: Any,
    table: Any,
    chosen: PlanFormat,
    text: str | None,
    to_file: Path | None,
    *,
    daily: bool,
) -> None:
    """The plan to the terminal or standard output (``-o -``) unless written to a file; CSV
    warnings and the file written go to stderr."""
    if text is None:
        from taper.render import console, render_plan

        render_plan(plan, table, console(), daily=daily)
        return
    if to_file is None:
        sys.stdout.write(text)
    if chosen is PlanFormat.csv:
        from taper.notices import warning_lines

        sys.stderr.write(warning_lines(plan.warnings))
    if to_file is not None:
        sys.stderr.write(f"wrote {printable(str(to_file))}: {plan.day_count} days\n")


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
    from taper.params import parse_days

    if region not in {"us", "uk"}:
        raise InvalidRequestError(f"unknown region {region!r}; use us or uk")
    table = load_table(table_file)
    result = check_plan(
        plan_file,
        table,
        drug=drug,
        region=region,
        products=product or (),
        source=source,
        date_format=date_format,
        supply_days=parse_days(supply, "supply period") if supply else None,
    )
    if output_format is OutputFormat.json:
        from taper.records import check_document

        _emit_json(check_document(result, table))
    else:
        from taper.render import render_check

        render_check(result, table)
    return ExitCode.OK if result.clean else ExitCode.DOMAIN_ERROR


class BatchFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        help="Worker processes (default: all cores).",
        show_default=False,
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
SummaryOption = Annotated[
    Path | None,
    typer.Option(
        "--summary", metavar="FILE", help="Also write one summary row per scenario (CSV)."
    ),
]
DispensingOption = Annotated[
    Path | None,
    typer.Option(
        "--dispensing",
        metavar="FILE",
        help="Also write what to dispense, one row per scenario and product (CSV).",
    ),
]


@app.command(cls=PanelCommand)
def batch(
    scenarios: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIOS", help="Scenario file: .csv or .toml.", show_default=False
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where to write the plans.", show_default=False
        ),
    ],
    summary: SummaryOption = None,
    dispensing: DispensingOption = None,
    output_format: Annotated[
        BatchFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv: one row per scenario, day, drug and dose time; jsonl: one plan per line "
            "(default: from the --output extension, else csv).",
            case_sensitive=False,
        ),
    ] = None,
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
        summary=summary,
        dispensing=dispensing,
        jsonl=_batch_format(output_format, output) is BatchFormat.jsonl,
        what=f"scenarios from {scenarios}",
        jobs=jobs,
        quiet=quiet,
        raw_csv=raw_csv,
        force=force,
        inputs=[scenarios],
    )


@app.command(cls=PanelCommand)
def sweep(
    drug: Annotated[str, typer.Argument(help="The current drug.", show_default=False)],
    doses: Annotated[
        str, typer.Argument(help="Daily doses to try, e.g. 0.5mg,1mg,2mg.", show_default=False)
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where to write the plans.", show_default=False
        ),
    ],
    rate: Annotated[
        str | None, typer.Option("--rate", metavar="PERCENT,...", help="Rates, e.g. 5%,10%,25%.")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", metavar="INTERVAL,...", help="Intervals, e.g. 2w,4w.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", "-s", metavar="SOURCE,...", help="Sources, e.g. ashton,va-dod-2021."
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option("--method", metavar="METHOD,...", help="Methods, e.g. percent,bands."),
    ] = None,
    switch_to: Annotated[
        str | None,
        typer.Option(
            "--switch-to", metavar="DRUG,...", help="Drugs to cross over to, e.g. diazepam."
        ),
    ] = None,
    times: Annotated[
        str | None, typer.Option("--times", metavar="N,...", help="Dose times a day, e.g. 1,2,3.")
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", metavar="DURATION,...", help="Target durations, e.g. 26w,52w."),
    ] = None,
    final: Annotated[str | None, typer.Option("--final", help="Final doses, e.g. 1mg,2mg.")] = None,
    region: RegionOption = "us",
    start: Annotated[
        str, typer.Option("--start", metavar="DATE", help="First day of every plan, YYYY-MM-DD.")
    ] = "2027-01-04",
    summary: SummaryOption = None,
    dispensing: DispensingOption = None,
    output_format: Annotated[
        BatchFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv or jsonl (default: from the --output extension, else csv).",
            case_sensitive=False,
        ),
    ] = None,
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
        summary=summary,
        dispensing=dispensing,
        jsonl=_batch_format(output_format, output) is BatchFormat.jsonl,
        what=f"sweep of {drug} {doses}",
        jobs=jobs,
        quiet=quiet,
        raw_csv=False,
        force=force,
    )


def _batch_format(given: BatchFormat | None, output: Path) -> BatchFormat:
    from taper.outputs import output_format

    return BatchFormat(output_format(given, output, list(BatchFormat), BatchFormat.csv))


def _run_batch(scenarios: Any, table: Any, output: Path, *, quiet: bool, **options: Any) -> int:
    """Write a batch with a progress count on a terminal; exit status 1 if any failed."""
    from taper.batch import write_batch
    from taper.render import progress

    with progress(not quiet and sys.stderr.isatty()) as advance:
        failed = write_batch(scenarios, table, output, on_progress=advance, **options)
    if failed:
        sys.stderr.write(f"taper: {failed} scenario(s) failed; see the summary or the output\n")
    return ExitCode.DOMAIN_ERROR if failed else ExitCode.OK


def main() -> None:
    """The ``taper`` process: it owns its signals, so once a command's outputs are in place
    or it has finished, a late stop signal is let go (the outcome stands)."""
    files.HOLD_SIGNALS_AFTER_COMMIT = True
    _prepare_streams()
    app(prog_name="taper")


if __name__ == "__main__":
    main()
