"""The files a schedule writes besides its main output: the curve as an image, the patient
handout and the calendar. Each needs an optional extra, imported only when asked for; all
are made before any is written, and written together with the main output, all or none."""

from __future__ import annotations

from pathlib import Path

from taper.errors import InvalidRequestError
from taper.files import PathLike, check_outputs, write_all_atomic
from taper.plan import Plan
from taper.table import EquivalenceTable, bundled_table_path


def check_schedule_outputs(
    *,
    output: Path | None,
    plot_file: Path | None,
    handout: Path | None,
    ics: Path | None,
    force: bool,
    table_file: Path | None,
    patient: str | None = None,
    note: str | None = None,
    paper: str | None = None,
    clinician_page: bool = True,
    reminders: str | None = None,
    inputs: tuple[Path, ...] = (),
) -> None:
    """Refuse, before any work, outputs that cannot all be written (see check_outputs) and
    options that need an output not asked for."""
    if reminders is not None and ics is None:
        raise InvalidRequestError("--reminders go into a calendar: add --ics FILE")
    if (note is not None or not clinician_page) and handout is None:
        raise InvalidRequestError(
            "--note and --patient-copy go into the handout: add --handout FILE"
        )
    if paper is not None and handout is None:
        raise InvalidRequestError("--paper sets the handout's paper: add --handout FILE")
    if patient is not None and handout is None and ics is None:
        raise InvalidRequestError("--patient goes into the handout or calendar: add --handout FILE")
    if handout is not None and handout.suffix.lower() != ".pdf":
        raise InvalidRequestError(f"a handout file ends in .pdf, not {handout.suffix!r}")
    if ics is not None and ics.suffix.lower() != ".ics":
        raise InvalidRequestError(f"a calendar file ends in .ics, not {ics.suffix!r}")
    outputs = {"--output": output, "--plot-file": plot_file, "--handout": handout, "--ics": ics}
    check_outputs(
        outputs,
        force=force,
        inputs=[table_file if table_file is not None else bundled_table_path(), *inputs],
    )


def write_side_files(
    plan: Plan,
    table: EquivalenceTable,
    *,
    plot_file: Path | None = None,
    handout: Path | None = None,
    patient: str | None = None,
    note: str | None = None,
    paper: str | None = None,
    clinician_page: bool = True,
    ics: Path | None = None,
    reminders: str | None = None,
    revision: int | None = 0,
    force: bool = False,
    main: tuple[PathLike, str] | None = None,
) -> None:
    """The files a schedule can write besides its main output: all made, then all written
    (with ``main``, the main output, if given), all or none. The request has passed
    :func:`check_schedule_outputs`."""
    files: list[tuple[Path, bytes]] = []
    if plot_file is not None:
        from taper.curve import image_plot

        files.append((plot_file, image_plot(plan, table, plot_file.suffix.lower())))
    if handout is not None:
        from taper.handout import plan_handout

        files.append(
            (
                handout,
                plan_handout(
                    plan,
                    patient=patient,
                    note=note,
                    paper=paper or "a4",
                    clinician_page=clinician_page,
                ),
            )
        )
    if ics is not None:
        from taper.ics import parse_reminders, plan_calendar

        times = parse_reminders(reminders, plan.slots) if reminders else None
        files.append((ics, plan_calendar(plan, times, patient=patient, revision=revision)))
    if main is not None:
        files.append((Path(main[0]), main[1].encode("utf-8")))
    if files:
        write_all_atomic(files, force=force)
