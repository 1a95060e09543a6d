"""The files a schedule writes besides its main output: the curve as an image, the patient
handout and the calendar. Each needs an optional extra, imported only when asked for; all
are made before any is written, and written together with the main output, all or none."""

from __future__ import annotations

import re
from pathlib import Path

from taper.errors import InvalidRequestError, literal
from taper.files import PathLike, check_outputs, write_all_atomic
from taper.formatting import printable
from taper.options import SheetOptions
from taper.outputs import PlanOutputs
from taper.plan import Plan
from taper.table import EquivalenceTable, bundled_table_path


def check_schedule_outputs(
    outputs: PlanOutputs, table_file: Path | None, inputs: tuple[Path, ...] = ()
) -> None:
    """Refuse, before any work, outputs that cannot all be written (see check_outputs) and
    options that need an output not asked for."""
    o = outputs
    if o.reminders is not None and o.ics is None:
        raise _needs("{reminders} go into a calendar: add {ics} FILE", o)
    if o.note is not None and o.handout is None:
        raise _needs("{note} goes into the handout: add {handout} FILE", o)
    if o.patient_copy and o.handout is None:
        raise _needs("{patient_copy} leaves a page out of the handout: add {handout} FILE", o)
    if o.paper is not None and o.handout is None:
        raise _needs("{paper} sets the handout's paper: add {handout} FILE", o)
    if o.every_sheet and o.handout is None:
        raise _needs("{every_sheet} adds sheets to the handout: add {handout} FILE", o)
    if o.brands is not None and o.handout is None:
        raise _needs("{brands} sets the handout's brand names: add {handout} FILE", o)
    if o.emergency_number is not None and o.handout is None:
        raise _needs("{emergency_number} goes into the handout: add {handout} FILE", o)
    if o.patient is not None and o.handout is None and o.ics is None:
        raise _needs("{patient} goes into the handout or calendar: add {handout} FILE", o)
    if o.handout is not None and o.handout.suffix.lower() != ".pdf":
        raise InvalidRequestError(f"a handout file ends in .pdf, not {o.handout.suffix!r}")
    if o.ics is not None and o.ics.suffix.lower() != ".ics":
        raise InvalidRequestError(f"a calendar file ends in .ics, not {o.ics.suffix!r}")
    files = {"output": o.output_file, "plot_file": o.plot_file, "handout": o.handout,
             "ics": o.ics}  # fmt: skip
    check_outputs(
        files,
        force=o.force,
        inputs=[table_file if table_file is not None else bundled_table_path(), *inputs],
    )


def _needs(template: str, outputs: PlanOutputs) -> InvalidRequestError:
    names = re.findall(r"\{([a-z_]+)\}", template)
    return InvalidRequestError(
        template, parameters={name: getattr(outputs, name) or None for name in names}
    )


def write_side_files(
    plan: Plan,
    table: EquivalenceTable,
    outputs: PlanOutputs,
    *,
    main: tuple[PathLike, str] | None = None,
) -> None:
    """The files a schedule can write besides its main output: all made, then all written
    (with ``main``, the main output, if given), all or none. The request has passed
    :func:`check_schedule_outputs`."""
    o = outputs
    files: list[tuple[Path, bytes]] = []
    if o.plot_file is not None:
        from taper.curve import image_plot

        files.append((o.plot_file, image_plot(plan, table, o.plot_file.suffix.lower())))
    if o.handout is not None:
        from taper.handout import plan_handout

        handout = plan_handout(plan, patient=o.patient, note=o.note, paper=o.paper,
                               clinician_page=not o.patient_copy, brands=o.brands,
                               emergency_number=o.emergency_number,
                               every_sheet=o.every_sheet)  # fmt: skip
        files.append((o.handout, handout))
    if o.ics is not None:
        from taper.ics import parse_reminders, plan_calendar

        times = parse_reminders(o.reminders, plan.slots) if o.reminders else None
        calendar = plan_calendar(plan, times, patient=o.patient, revision=o.revision)
        files.append((o.ics, calendar))
    if main is not None:
        files.append((Path(main[0]), main[1].encode("utf-8")))
    if files:
        write_all_atomic(files, force=o.force)


def write_period_sheet(
    plan_file: Path, table: EquivalenceTable, table_file: Path | None, options: SheetOptions
) -> str:
    """``taper sheet``: one supply period's sheet (and diary) from a plan file taper wrote,
    read back and checked against its checksum as ``taper revise`` reads it, written to
    ``options.output``. Returns the line that says what was written."""
    from taper.handout import period_sheet, sheet_period, supply_by_period
    from taper.revise import load_plan

    o = options
    if o.output.suffix.lower() != ".pdf":
        raise InvalidRequestError(f"a sheet file ends in .pdf, not {literal(o.output.suffix)!r}")
    # The plan and the period first (reading it is quick): a period past the plan's end is
    # what to say, not that the output exists (its --force would only lead to that).
    plan = load_plan(plan_file, table)
    chosen = sheet_period(plan, o.period)
    check_outputs(
        {"output": o.output},
        force=o.force,
        inputs=[table_file if table_file is not None else bundled_table_path(), plan_file],
    )
    pdf = period_sheet(plan, o.period, patient=o.patient, paper=o.paper)
    write_all_atomic([(o.output, pdf)], force=o.force)
    count = len(supply_by_period(plan)[1])
    first, last = plan.date_of(chosen.start_day), plan.date_of(chosen.end_day)
    return (
        f"wrote {printable(str(o.output))}: supply period {o.period} of {count}, "
        f"{first.isoformat()} to {last.isoformat()}"
    )
