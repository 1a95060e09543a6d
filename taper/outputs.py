"""Where an output goes and in which format: ``-o -`` is standard output, and a file's
extension names its format when ``--format`` is not given (a mismatch is refused)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from taper.errors import InvalidRequestError, literal
from taper.values import OptionSpec, Value


class ReportFormat(StrEnum):
    """The formats of a report (drugs, sources, a conversion, a check)."""

    TABLE = "table"
    JSON = "json"


#: The ``--format`` of a report.
REPORT_FORMAT = OptionSpec(
    Value.TEXT, "--format", "Options", "Output format.", "FORMAT", short="-f", choices=ReportFormat
)


class PlanFormat(StrEnum):
    """The formats a plan is written in."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


#: The help panel of the output options.
OUTPUTS = "Outputs"


@dataclass(frozen=True, kw_only=True)
class PlanOutputs:
    """Where a schedule goes and what goes with it: the main output and its format, the
    curve, the handout and the calendar, declared once like the schedule's options (each
    field's :class:`~taper.values.OptionSpec` gives its flag and help)."""

    plot: Annotated[
        bool, OptionSpec(Value.BOOL, "--plot", OUTPUTS,
                         "Draw the taper curve in the terminal (taper[plot]).")
    ] = False  # fmt: skip
    plot_file: Annotated[
        Path | None, OptionSpec(Value.PATH, "--plot-file", OUTPUTS,
                                "Write the taper curve to a .png or .svg (taper[plot]).", "FILE")
    ] = None  # fmt: skip
    handout: Annotated[
        Path | None, OptionSpec(Value.PATH, "--handout", OUTPUTS,
                                "Write a printable patient calendar, a .pdf (taper[pdf]).", "FILE")
    ] = None  # fmt: skip
    patient: Annotated[
        str | None, OptionSpec(Value.TEXT, "--patient", OUTPUTS,
                               "The patient's name, for the handout.", "NAME")
    ] = None  # fmt: skip
    note: Annotated[
        str | None, OptionSpec(Value.TEXT, "--note", OUTPUTS,
                               "The prescriber's note, for the handout.", "TEXT")
    ] = None  # fmt: skip
    paper: Annotated[
        str | None, OptionSpec(Value.TEXT, "--paper", OUTPUTS,
                               "Handout paper: a4 or letter (default: letter for --region us, "
                               "a4 for uk).", "SIZE")
    ] = None  # fmt: skip
    brands: Annotated[
        str | None, OptionSpec(Value.TEXT, "--brands", OUTPUTS,
                               "Brand names the handout prints beside the generic name: those "
                               "sold in us or uk, or none (default: the --region's).", "REGION")
    ] = None  # fmt: skip
    emergency_number: Annotated[
        str | None, OptionSpec(Value.TEXT, "--emergency-number", OUTPUTS,
                               "The number the handout says to call in an emergency (default: "
                               "the --region's, 911 or 999).", "NUMBER")
    ] = None  # fmt: skip
    every_sheet: Annotated[
        bool, OptionSpec(Value.BOOL, "--every-sheet", OUTPUTS,
                         "With --handout: a day-by-day sheet for every supply period, not only "
                         "the first.")
    ] = False  # fmt: skip
    patient_copy: Annotated[
        bool, OptionSpec(Value.BOOL, "--patient-copy", OUTPUTS,
                         "With --handout: leave out the page for the prescriber and pharmacist.")
    ] = False  # fmt: skip
    ics: Annotated[
        Path | None, OptionSpec(Value.PATH, "--ics", OUTPUTS,
                                "Write a calendar of dose changes, a .ics (taper[ics]).", "FILE")
    ] = None  # fmt: skip
    reminders: Annotated[
        str | None, OptionSpec(Value.TEXT, "--reminders", OUTPUTS,
                               "With --ics: a daily reminder per dose time at these times, e.g. "
                               "08:00,22:00.", "TIMES")
    ] = None  # fmt: skip
    #: None: the plan's own (0 for a first draft, the last revision's number for a plan
    #: ``taper revise`` wrote).
    revision: Annotated[
        int | None, OptionSpec(Value.INT, "--revision", OUTPUTS,
                        "With --ics: this plan's revision (0 first); raise it for a plan drafted "
                        "again by hand so that importing it replaces the old events ('taper "
                        "revise' numbers its own).", "N", minimum=0,
                        show_default=False)
    ] = None  # fmt: skip
    daily: Annotated[
        bool, OptionSpec(Value.BOOL, "--daily", OUTPUTS, "One row per day, not per step.")
    ] = False  # fmt: skip
    raw_csv: Annotated[
        bool, OptionSpec(Value.BOOL, "--raw-csv", OUTPUTS,
                         "Write CSV text exactly, without neutralising cells that a spreadsheet "
                         "would run as formulas.")
    ] = False  # fmt: skip
    format: Annotated[
        PlanFormat | None, OptionSpec(Value.TEXT, "--format", OUTPUTS,
                                      "table, csv or json (default: from the --output extension, "
                                      "else table).", "FORMAT", short="-f", choices=PlanFormat)
    ] = None  # fmt: skip
    output: Annotated[
        Path | None, OptionSpec(Value.PATH, "--output", OUTPUTS,
                                "Write to this file (atomically) instead of the terminal; - is "
                                "standard output.", "FILE", short="-o", show_default=False)
    ] = None  # fmt: skip
    force: Annotated[
        bool, OptionSpec(Value.BOOL, "--force", OUTPUTS, "Replace the --output file if it exists.")
    ] = False  # fmt: skip

    @property
    def output_file(self) -> Path | None:
        """The main output's file; None for the terminal or standard output (``-o -``)."""
        return None if is_stdout(self.output) else self.output


class BatchFormat(StrEnum):
    """The formats of many plans: CSV rows, or JSON Lines (one plan per line)."""

    CSV = "csv"
    JSONL = "jsonl"


#: The help panel of the options of ``taper batch`` and ``taper sweep``.
OPTIONS = "Options"


@dataclass(frozen=True, kw_only=True)
class BatchOutputs:
    """Where many plans go (``taper batch``, ``taper sweep``), declared like
    :class:`PlanOutputs`."""

    output: Annotated[
        Path, OptionSpec(Value.PATH, "--output", OPTIONS, "Where to write the plans.", "FILE",
                         short="-o", show_default=False)
    ]  # fmt: skip
    summary: Annotated[
        Path | None, OptionSpec(Value.PATH, "--summary", OPTIONS,
                                "Also write one summary row per scenario (CSV).", "FILE")
    ] = None  # fmt: skip
    dispensing: Annotated[
        Path | None, OptionSpec(Value.PATH, "--dispensing", OPTIONS,
                                "Also write what to dispense, one row per scenario and product "
                                "(CSV).", "FILE")
    ] = None  # fmt: skip
    format: Annotated[
        BatchFormat | None, OptionSpec(Value.TEXT, "--format", OPTIONS,
                                       "csv: one row per scenario, day, drug and dose time; "
                                       "jsonl: one plan per line (default: from the --output "
                                       "extension, else csv).", "FORMAT", short="-f",
                                       choices=BatchFormat)
    ] = None  # fmt: skip
    jobs: Annotated[
        int | None, OptionSpec(Value.INT, "--jobs", OPTIONS,
                               "Worker processes (default: all cores).", "N", short="-j",
                               show_default=False)
    ] = None  # fmt: skip
    quiet: Annotated[
        bool, OptionSpec(Value.BOOL, "--quiet", OPTIONS, "No progress bar.", short="-q")
    ] = False  # fmt: skip
    raw_csv: Annotated[
        bool, OptionSpec(Value.BOOL, "--raw-csv", OPTIONS, "Do not neutralise CSV formulas.")
    ] = False  # fmt: skip
    force: Annotated[
        bool, OptionSpec(Value.BOOL, "--force", OPTIONS, "Replace the --output file if it exists.")
    ] = False  # fmt: skip

    def chosen_format(self) -> BatchFormat:
        """The format asked, or named by the output's extension, else CSV."""
        formats = list(BatchFormat)
        return BatchFormat(output_format(self.format, self.output, formats, BatchFormat.CSV))


#: The output name that means standard output.
STDOUT = "-"
#: The format each known extension names.
FORMAT_OF_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".txt": "table"}
#: Extensions of the files other options write: ``-o plan.pdf`` is refused with the option.
SIDE_FILE_OPTION = {".pdf": "handout", ".png": "plot_file", ".svg": "plot_file", ".ics": "ics"}


def is_stdout(output: str | os.PathLike[str] | None) -> bool:
    """True for no output file, or ``-``: write to standard output."""
    return output is None or os.fspath(output) == STDOUT


def output_format(
    given: str | None,
    output: str | os.PathLike[str] | None,
    formats: Sequence[str],
    default: str,
) -> str:
    """The format to write: ``given``, else the one the output's extension names, else
    ``default``; refuses an extension that names another format than ``given``, or one the
    command cannot write."""
    suffix = "" if is_stdout(output) else Path(output or "").suffix.lower()
    shown = literal(str(output))
    if suffix in SIDE_FILE_OPTION:
        side = SIDE_FILE_OPTION[suffix]
        raise InvalidRequestError(
            f"{{output}} writes text ({', '.join(formats)}), not a {suffix} file; "
            f"write {shown} with {{{side}}}",
            parameters={"output": None, side: None},
        )
    implied = FORMAT_OF_SUFFIX.get(suffix)
    if implied is not None and implied not in formats:
        raise InvalidRequestError(
            f"{shown} names the format {implied}, which this command does not write "
            f"(it writes {', '.join(formats)}); give another name or {{format}}",
            parameters={"format": None},
        )
    if given is not None and implied is not None and given != implied:
        raise InvalidRequestError(
            f"{{format}} does not match the extension of {shown} ({implied}); change one of them",
            parameters={"format": str(given)},
        )
    return given or implied or default
