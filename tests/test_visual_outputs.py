"""What people look at: the curve, the patient handout and the calendar."""

from __future__ import annotations

import datetime as dt
import io
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import icalendar
import pypdfium2
import pytest
from pypdf import PdfReader

from taper.curve import curve_data, image_plot, terminal_plot
from taper.handout import plan_handout
from taper.ics import parse_reminders, plan_calendar
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

from .conftest import ROOT

START = "2027-01-04"


@pytest.fixture(scope="module")
def switch_plan(table: EquivalenceTable) -> Plan:
    return plan_taper(
        "clonazepam",
        "morning=0.5mg,night=1mg",
        switch_to="diazepam",
        holds=["at:10mg:2w"],
        start=START,
        table=table,
    )


def test_curve_data_has_each_series(switch_plan: Plan, table: EquivalenceTable) -> None:
    data = curve_data(switch_plan, table)
    assert len(data.days) == switch_plan.checks.duration_days + 1
    assert data.diazepam[0] == 30  # Ashton: clonazepam 1.5 mg = diazepam 30 mg
    assert data.other_source is not None
    assert data.other[0] == 15  # the same doses by a source that halves them
    assert set(data.drugs) == {"clonazepam", "diazepam"}
    assert {phase for phase, _, _ in data.phases} == {"crossover", "stabilization", "hold"}
    assert data.step_days[0] == 8


def test_terminal_plot_fits_80_columns(switch_plan: Plan, table: EquivalenceTable) -> None:
    text = terminal_plot(switch_plan, table, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b" not in text
    assert "diazepam equivalent" in text
    assert "crossover days 1-" in text


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_and_svg_images(switch_plan: Plan, table: EquivalenceTable) -> None:
    assert _png_size(image_plot(switch_plan, table, ".png")) == (1000, 650)
    svg = ET.fromstring(image_plot(switch_plan, table, ".svg"))
    assert svg.tag.endswith("svg")
    assert svg.attrib["width"] == "720pt"
    assert svg.attrib["height"] == "468pt"
    assert image_plot(switch_plan, table, ".png") == image_plot(switch_plan, table, ".png")


def test_handout_has_every_day_and_the_warnings(switch_plan: Plan) -> None:
    pdf = plan_handout(switch_plan, patient="J. Smith", note="Call on Mondays.")
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "J. Smith" in text
    assert "Call on Mondays." in text
    assert "Do not stop this plan, and do not go faster" in text
    assert "seizures" in text
    for day in switch_plan.days():
        assert day.date.strftime("%a %d %b") in text
    for step in switch_plan.steps:
        for dose in step.doses:
            if dose.dose_mg:
                assert (
                    f"{dose.drug} {dose.dose_mg.normalize():f} mg: {dose.preparation.words()}"
                    in text
                )
    for warning in switch_plan.warnings:
        assert warning.message[:60] in text
    assert "clonazePAM (Klonopin, Rivotril)" in text  # ISMP Tall Man lettering


@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_handout_renders_on_a4_and_letter(
    switch_plan: Plan, paper: str, size: tuple[int, int]
) -> None:
    document = pypdfium2.PdfDocument(plan_handout(switch_plan, paper=paper))
    assert len(document) >= 3
    for index in range(len(document)):
        page = document[index]
        assert tuple(round(v) for v in page.get_size()) == size
        image = page.render(scale=0.5).to_pil()
        assert image.size[0] > 100
    assert plan_handout(switch_plan) == plan_handout(switch_plan)  # reproducible


def test_tall_man_names_in_the_handout(table: EquivalenceTable) -> None:
    plan = plan_taper("alprazolam", "1mg", start=START, table=table)
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(plan_handout(plan))).pages)
    assert "ALPRAZolam (Xanax)" in text


def test_calendar_parses_back_with_the_same_events(switch_plan: Plan) -> None:
    # Diazepam 30 mg at most 10 mg at a time (label): three dose times.
    reminders = parse_reminders("08:00,13:00,22:00", switch_plan.slots)
    calendar = icalendar.Calendar.from_ical(plan_calendar(switch_plan, reminders))
    events = list(calendar.walk("VEVENT"))
    changes = [e for e in events if "RRULE" not in e]
    assert len(changes) == len(switch_plan.steps)
    assert [e.decoded("DTSTART") for e in changes] == [
        switch_plan.date_of(step.start_day) for step in switch_plan.steps
    ]
    daily = [e for e in events if "RRULE" in e]
    first_night = next(e for e in daily if "(night)" in str(e["SUMMARY"]))
    assert first_night.decoded("DTSTART") == dt.datetime(2027, 1, 4, 22, 0)
    assert first_night["RRULE"]["COUNT"] == [switch_plan.steps[0].days]
    assert all(e.walk("VALARM") for e in daily)
    assert plan_calendar(switch_plan, reminders) == plan_calendar(switch_plan, reminders)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00", "one reminder time for each dose time"),
        ("22:00,08:00", "in order"),
        ("8am,9pm", "write HH:MM"),
        ("25:00,26:00", "not a time of day"),
    ],
)
def test_bad_reminders(text: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        parse_reminders(text, ("morning", "night"))


def test_cli_writes_every_file(run: Any, tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("plan.png", "plan.svg", "plan.pdf", "plan.ics")}
    result = run(
        "schedule",
        "clonazepam",
        "2mg",
        "--start",
        START,
        "--plot",
        "--plot-file",
        str(files["plan.png"]),
        "--handout",
        str(files["plan.pdf"]),
        "--patient",
        "J. Smith",
        "--ics",
        str(files["plan.ics"]),
        "--reminders",
        "22:00",
    )
    assert result.exit_status == 0, result.stderr
    assert "diazepam equivalent per day" in result.stdout
    assert all(files[name].stat().st_size > 1000 for name in ("plan.png", "plan.pdf", "plan.ics"))
    again = run(
        "schedule", "clonazepam", "2mg", "--start", START, "--plot-file", str(files["plan.png"])
    )
    assert again.exit_status == 1
    assert "--force" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plot-file", "plan.jpg"], "ends in .png or .svg"),
        (["--handout", "plan.txt"], "ends in .pdf"),
        (["--ics", "plan.txt"], "ends in .ics"),
        (["--reminders", "08:00"], "add --ics"),
        (["--patient", "J. Smith"], "add --handout"),
        (["--handout", "plan.pdf", "--paper", "a5"], "unknown paper"),
        (["--ics", "plan.ics", "--reminders", "08:00,09:00"], "one reminder time for each"),
    ],
)
def test_bad_visual_output_requests(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("schedule", "clonazepam", "1mg", "--start", START, *args)
    assert result.exit_status == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_missing_extra_says_how_to_install_it(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fpdf" else real(name, *a)
    )
    result = run("schedule", "clonazepam", "1mg", "--handout", "x.pdf")
    assert result.exit_status == 1
    assert "pip install 'taper[pdf]'" in result.stderr


def test_plain_commands_do_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from taper.__main__ import load_cli\n"
        "for args in (['convert', 'clonazepam', '1mg', '--to', 'diazepam'],\n"
        "             ['schedule', 'clonazepam', '1mg', '--start', '2027-01-04', '-f', 'csv']):\n"
        "    sys.argv = ['taper', *args]\n"
        "    try:\n"
        "        load_cli().main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'matplotlib', 'plotext', 'fpdf', 'icalendar'} & set(sys.modules)\n"
        "print(sorted(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"
