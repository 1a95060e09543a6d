"""What people look at: the curve, the patient handout and the calendar."""

from __future__ import annotations

import datetime as dt
import io
import re
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
from taper.errors import InvalidRequestError
from taper.handout import HOW_TO_TAKE, forms_used, plan_handout
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
    phases = {phase for phase, _, _ in data.phases}
    assert phases >= {"crossover", "stabilization", "hold"}
    assert phases <= {"crossover", "stabilization", "hold", "held: products"}
    assert data.step_days[0] == 8


def test_terminal_plot_fits_80_columns(switch_plan: Plan, table: EquivalenceTable) -> None:
    text = terminal_plot(switch_plan, table, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b" not in text
    assert "diazepam equivalent" in text
    assert "crossover 2027-01-04 to " in text  # dates, not day numbers
    assert any(line.lstrip().startswith("2027-01-04") for line in lines)  # dated x-axis


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_and_svg_images(switch_plan: Plan, table: EquivalenceTable) -> None:
    assert _png_size(image_plot(switch_plan, table, ".png")) == (1000, 800)
    svg = ET.fromstring(image_plot(switch_plan, table, ".svg"))
    assert svg.tag.endswith("svg")
    assert svg.attrib["width"] == "720pt"
    assert svg.attrib["height"] == "576pt"  # the curve and a panel for each of two drugs
    assert image_plot(switch_plan, table, ".png") == image_plot(switch_plan, table, ".png")


def _svg_texts(svg: bytes) -> list[str]:
    """The text matplotlib draws, which it writes as a comment before each text's glyphs."""
    return [" ".join(t.split()) for t in re.findall(r"<!-- (.*?) -->", svg.decode(), re.DOTALL)]


def test_svg_is_the_same_bytes_in_another_process(
    switch_plan: Plan, table: EquivalenceTable
) -> None:
    """Regression: matplotlib salts SVG ids at random unless svg.hashsalt is set."""
    code = (
        "import sys\n"
        "from taper.curve import image_plot\n"
        "from taper.schedule import plan_taper\n"
        "from taper.table import load_table\n"
        "t = load_table(None)\n"
        "p = plan_taper('clonazepam', 'morning=0.5mg,night=1mg', switch_to='diazepam',"
        f" holds=['at:10mg:2w'], start='{START}', table=t)\n"
        "sys.stdout.buffer.write(image_plot(p, t, '.svg'))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT
    ).stdout
    assert other == image_plot(switch_plan, table, ".svg")


def test_plot_gives_each_drug_its_own_scale_and_dates(table: EquivalenceTable) -> None:
    """Regression: alprazolam (0-3 mg) shared diazepam's 0-60 mg axis and was a flat line;
    the x-axis showed day numbers; holds the products forced were not marked."""
    plan = plan_taper(
        "alprazolam", "morning=0.5mg,night=1mg", switch_to="diazepam", start=START, table=table
    )
    texts = _svg_texts(image_plot(plan, table, ".svg"))

    def top_tick(label: str) -> float:
        """The largest y tick of the panel whose y label starts with ``label``."""
        index = texts.index(label) - 1
        ticks = []
        while re.fullmatch(r"[0-9.]+", texts[index]):
            ticks.append(float(texts[index]))
            index -= 1
        return max(ticks)

    assert top_tick("alprazolam") <= 2  # its own scale, not diazepam's
    assert top_tick("diazepam") >= 20
    assert "2027" in texts
    assert "2028" in texts
    assert "date (day 1 = 2027-01-04)" in texts
    assert "same doses under va-dod-2021 (its equivalents)" in texts


def _pages(pdf: bytes) -> list[str]:
    """The text of each page, as pdfium reads it, with whitespace collapsed."""
    document = pypdfium2.PdfDocument(pdf)
    texts = [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    return [text.replace("\u00a0", " ") for text in texts]


def _clinician(pages: list[str]) -> str:
    """The prescriber's and pharmacist's pages (they may run onto a second page)."""
    start = next(i for i, page in enumerate(pages) if "For the prescriber and pharmacist" in page)
    return " ".join(pages[start:])


def test_handout_first_page_says_what_to_take_now_and_next(switch_plan: Plan) -> None:
    pages = _pages(plan_handout(switch_plan, patient="J. Smith", note="Call on Mondays."))
    first = pages[0]
    # US brand names for a US plan (issue 22: Rivotril is the UK's)
    assert "Your plan: clonazePAM (Klonopin) and diazePAM (Valium)" in first
    assert "What to take from Monday 4 January 2027" in first
    assert "Morning: clonazepam: one 0.5 mg tablet (0.5 mg)" in first
    assert "Your dose changes on Monday 11 January 2027" in first
    assert "Night: diazepam: two 10 mg tablets (20 mg)" in first  # the night dose stays there
    assert "Call on Mondays." in first
    assert "Prescriber's signature" in first
    assert "Get urgent help now (call 911)" in first
    assert "a fit (seizure)" in first
    assert "reviewed by your prescriber" not in " ".join(pages)
    for number, text in enumerate(pages, 1):  # name, plan date and page N of M on every page
        assert "J. Smith · taper plan from 4 January 2027" in text
        assert f"Page {number} of {len(pages)}" in text


def test_handout_grades_symptoms_and_says_how_to_take_the_doses(switch_plan: Plan) -> None:
    pages = _pages(plan_handout(switch_plan))
    guidance = pages[1]
    urgent, _, report = " ".join(pages[:2]).partition("Tell your prescriber if you have")
    assert "seizure" in urgent
    assert "trouble sleeping" in report
    assert "trouble sleeping" not in urgent  # not a reason to call at once
    for form, (title, _) in HOW_TO_TAKE.items():  # a note for each form the plan uses
        assert (title in guidance) == (form in forms_used(switch_plan))
    assert "never take two doses at once" in guidance
    clinician = _clinician(pages)
    assert clinician.startswith("J. Smith") is False
    assert "For the prescriber and pharmacist" in clinician
    assert "NOT CONFIRMED" in clinician
    for warning in switch_plan.warnings:
        assert " ".join(warning.message.split())[:50] in clinician


def test_handout_calendar_is_a_week_per_row_with_changes_marked(table: EquivalenceTable) -> None:
    """Regression: 18 pages for a 26-week plan, weeks split across pages, changes unmarked.
    Issue 22: an overview of the steps, then the first supply period's day-by-day sheet
    (every period's with every_sheet), the year on every row."""
    plan = plan_taper("diazepam", "morning=10mg,night=10mg", start=START, region="uk", table=table)
    pages = _pages(plan_handout(plan, patient="J. Smith"))
    first_sheet = next(i for i, page in enumerate(pages) if "Your day-by-day sheet" in page)
    overview = next(i for i, page in enumerate(pages) if "Your steps" in page)
    diary_start = next(i for i, page in enumerate(pages) if "Your symptom diary" in page)
    assert overview < first_sheet < diary_start
    assert diary_start - overview <= 3  # the steps and one sheet
    diary = [page for page in pages if "Your symptom diary" in page]
    assert len(diary) == 1  # the kinds of symptom, then four weeks of days, two side by side
    prescriber = len(pages) - next(
        i for i, page in enumerate(pages) if "For the prescriber and pharmacist" in page
    )
    assert prescriber <= 2
    every = _pages(plan_handout(plan, patient="J. Smith", every_sheet=True))
    start = next(i for i, page in enumerate(every) if "Your day-by-day sheet" in page)
    end = next(i for i, page in enumerate(every) if "Your symptom diary" in page)
    text = " ".join(every[start:end])
    weeks = plan.checks.duration_days / 7
    assert end - start <= weeks / 4 + 1  # a sheet per 4-week supply, a page each at most
    assert "Mon 4 Jan 2027 to Sun 10 Jan 2027" in text  # the year on every date
    changes = [step for step in plan.steps[1:] if step.phase != "stop"]
    first_change = plan.date_of(changes[0].start_day).strftime("%a %-d %b %Y")
    assert f"NEW DOSE {first_change} to" in text
    stop = plan.date_of(plan.steps[-1].start_day).strftime("%a %-d %b %Y")
    assert f"STOP from {stop} Stop: no more doses." in text
    assert "Half tablets" in pages[1]
    assert "Orally disintegrating" not in pages[1]
    assert "call 999" in pages[0]  # the UK's emergency number


def test_handout_patient_copy_leaves_out_the_prescriber_page(switch_plan: Plan) -> None:
    full = _pages(plan_handout(switch_plan))
    patient_copy = _pages(plan_handout(switch_plan, clinician_page=False))
    clinician_pages = len(full) - next(
        index for index, page in enumerate(full) if "For the prescriber and pharmacist" in page
    )
    assert len(patient_copy) == len(full) - clinician_pages
    assert not any("For the prescriber and pharmacist" in page for page in patient_copy)


@pytest.mark.parametrize(
    "name", ["Łukasz Wróbel", "Nguyễn Văn An", "Zoë “Jo” O’Brien", "Ελένη Παπαδοπούλου"]
)
def test_handout_prints_any_latin_greek_or_cyrillic_name(switch_plan: Plan, name: str) -> None:
    """Regression: a name outside Latin-1 crashed the handout."""
    pages = _pages(plan_handout(switch_plan, patient=name, note=f"For {name}."))
    assert all(page.startswith(f"{name} · taper plan") for page in pages)
    assert f"For {name}." in pages[0]


def test_handout_refuses_a_character_its_font_lacks_by_name(switch_plan: Plan) -> None:
    with pytest.raises(InvalidRequestError, match=r"cannot print '山' \(U\+5C71 CJK"):
        plan_handout(switch_plan, patient="山田太郎")


def test_handout_forms_are_named_in_words(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", "1mg", start=START, table=table, products=["0.125mg odt"])
    pages = _pages(plan_handout(plan))
    assert "orally disintegrating tablet" in pages[0]
    assert "ODT" not in pages[0]
    assert "Orally disintegrating tablets (ODT: tablets that melt in the mouth)" in pages[1]
    # a table's narrow column says "ODT", and its page says what that is
    prescriber = next(i for i, page in enumerate(pages) if "For the prescriber and" in page)
    assert any("ODT" in page for page in pages[2:prescriber])
    for page in pages[2:prescriber]:
        if "ODT" in page:
            assert "ODT: an orally disintegrating tablet, which melts in the mouth." in page


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
    # The switched drug keeps the patient's two dose times (issue 19: the 10 mg "largest
    # single dose" of diazepam was the US label's usual range and added a midday dose).
    # Issue 22: a change event only where the doses move; reminders recur daily (their
    # expansion is tested in test_calendar.py).
    reminders = parse_reminders("08:00,22:00", switch_plan.slots)
    calendar = icalendar.Calendar.from_ical(plan_calendar(switch_plan, reminders))
    events = list(calendar.walk("VEVENT"))
    changes = [e for e in events if "-change-" in str(e["UID"])]
    moved = [
        step
        for index, step in enumerate(switch_plan.steps)
        if index == 0
        or step.phase == "stop"
        or {(d.slot, d.drug, d.dose_mg) for d in step.doses if d.dose_mg}
        != {(d.slot, d.drug, d.dose_mg) for d in switch_plan.steps[index - 1].doses if d.dose_mg}
    ]
    assert [e.decoded("DTSTART") for e in changes] == [
        switch_plan.date_of(step.start_day) for step in moved
    ]
    daily = [e for e in events if "-reminder-" in str(e["UID"])]
    first_night = next(e for e in daily if "(night)" in str(e["SUMMARY"]))
    assert first_night.decoded("DTSTART") == dt.datetime(2027, 1, 4, 22, 0)
    assert all(e.walk("VALARM") for e in daily)
    assert plan_calendar(switch_plan, reminders) == plan_calendar(switch_plan, reminders)
    assert "ODT" not in plan_calendar(switch_plan, reminders).decode()


def test_calendar_revision_with_a_hold_replaces_every_event(table: EquivalenceTable) -> None:
    """Regression: a revised plan (one hold added) got all-new UIDs, so re-importing it left
    both sets of alarms on the patient's phone."""
    first = plan_taper("diazepam", "morning=5mg,night=5mg", start=START, table=table)
    revised = plan_taper(
        "diazepam", "morning=5mg,night=5mg", start=START, holds=["at:5mg:2w"], table=table
    )
    assert revised.checks.duration_days > first.checks.duration_days
    times = parse_reminders("08:00,22:00", first.slots)

    def events(plan: Plan, revision: int) -> dict[str, Any]:
        text = plan_calendar(plan, times, patient="J. Smith", revision=revision)
        return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}

    old, new = events(first, 0), events(revised, 1)
    assert set(old) <= set(new)  # every event imported before is replaced
    assert {e["SEQUENCE"] for e in old.values()} == {0}
    assert {e["SEQUENCE"] for e in new.values()} == {1}
    other = icalendar.Calendar.from_ical(plan_calendar(first, times, patient="A. Other"))
    assert not set(old) & {str(e["UID"]) for e in other.walk("VEVENT")}  # another plan


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
        (["--note", "x"], "add --handout"),
        (["--patient-copy"], "add --handout"),
        (["--paper", "letter"], "add --handout"),  # was ignored without a word
        (["--paper", "a5"], "add --handout"),
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


@pytest.mark.parametrize(
    "args", [["--paper", "letter"], ["--reminders", "08:00"], ["--note", "x"], ["--patient-copy"]]
)
def test_an_option_without_its_output_is_refused_before_any_planning(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """The refusal came only after the whole plan had been made."""
    import taper.schedule

    def planned(*_: Any, **__: Any) -> None:
        raise AssertionError("planned before the options were checked")

    monkeypatch.setattr(taper.schedule, "plan_taper", planned)
    monkeypatch.chdir(tmp_path)
    result = run("schedule", "clonazepam", "1mg", "--start", START, *args)
    assert result.exit_status == 2
    assert "add --" in result.stderr


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


def test_handout_dates_carry_the_year_and_the_prescriber_page_the_start(
    table: EquivalenceTable,
) -> None:
    """Regression: 'Mon 4 Jan' of 2027 and of 2028 looked the same in a 13-month plan; the
    prescriber's page said 'diazepam: from 2 mg a day' for a clonazepam 2 mg patient, and
    gave the first day without the drug as the last dose."""
    plan = plan_taper("clonazepam", "2mg", times=2, switch_to="diazepam", start=START, table=table)
    pages = _pages(plan_handout(plan))
    calendar = " ".join(pages[2:-1])
    assert "2027" in calendar
    if plan.checks.end_date.year > 2027:
        assert str(plan.checks.end_date.year) in calendar
    clinician = _clinician(pages)
    assert "Now: clonazepam 2 mg a day" in clinician
    last = plan.date_of(plan.checks.duration_days).isoformat()
    assert f"last dose {last}" in clinician
