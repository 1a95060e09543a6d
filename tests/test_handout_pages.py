"""The handout's first page fits by construction (issue 22): measured before anything is
placed, the urgent-help block whole and first among the safety content, a note that does not
fit moved to page 2 with a pointer, and only the dose times the patient has."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from taper.handout import MAX_NOTE_CHARS, MAX_PATIENT_CHARS, URGENT_SYMPTOMS, plan_handout
from taper.plan import Plan
from taper.revise import revise_plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"
URGENT = "Get urgent help now (call 911) if you have"
LONGEST_NOTE = ("Please read this note before you start the plan. " * 50)[:MAX_NOTE_CHARS]
LONGEST_NAME = "Wilhelmina-Maximiliana Featherstonehaugh-Cholmondeley Wóźniak"[:MAX_PATIENT_CHARS]


def _pages(pdf: bytes) -> list[str]:
    """Each page's text as pypdf extracts it, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def _urgent_pages(pages: list[str]) -> set[int]:
    """The pages (from 1) that carry a part of the urgent-help block."""
    return {
        number
        for number, text in enumerate(pages, 1)
        for part in (URGENT, *(f"• {item}" for item in URGENT_SYMPTOMS))
        if part in text
    }


@pytest.fixture(scope="module")
def plans(table: EquivalenceTable) -> dict[str, Plan]:
    """Four dose times and a switch between the longest drug names, and a plain plan."""
    return {
        "four times": plan_taper("clonazepam", "2mg", times=4, start=START, table=table),
        "switch": plan_taper(
            "clonazepam",
            "morning=0.5mg,evening=0.5mg,night=1mg",
            switch_to="chlordiazepoxide",
            start=START,
            table=table,
        ),
        "switch, a dose time never taken": plan_taper(
            "lorazepam",
            "morning=1mg,evening=1mg,night=2mg",
            switch_to="chlordiazepoxide",
            start=START,
            table=table,
        ),
    }


@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("note", [None, "Review at 4 weeks.", LONGEST_NOTE])
@pytest.mark.parametrize("kind", ["four times", "switch", "switch, a dose time never taken"])
def test_urgent_help_block_is_whole_on_the_first_page(
    plans: dict[str, Plan], kind: str, note: str | None, paper: str
) -> None:
    """Regression: on Letter three of the four urgent bullets moved to page 2, and a
    crossover plan with a note on A4 left 'thoughts of harming yourself' alone there."""
    pages = _pages(plan_handout(plans[kind], patient=LONGEST_NAME, note=note, paper=paper))
    assert _urgent_pages(pages) == {1}
    first = pages[0]
    # nothing of the first page spilled over: its last line and today's doses are there
    assert "Prescriber's signature" in first or "Who to call, and" in first
    assert "What to take from Monday 4 January 2027" in first
    assert first.index(URGENT) < first.index("Who to call")  # first among the safety content
    if note:
        assert note[:40] in first or (
            "Your prescriber has written you a note: see page 2." in first and note[:40] in pages[1]
        )


def test_clonazepam_four_times_on_letter_with_a_note_keeps_the_urgent_block_whole(
    plans: dict[str, Plan],
) -> None:
    """Regression: `clonazepam 2mg --times 4 --paper letter --note 'Review at 4 weeks.'`."""
    pages = _pages(plan_handout(plans["four times"], paper="letter", note="Review at 4 weeks."))
    assert _urgent_pages(pages) == {1}
    assert "Review at 4 weeks." in " ".join(pages[:2])


def test_the_longest_note_moves_to_page_2_with_a_pointer(plans: dict[str, Plan]) -> None:
    pages = _pages(plan_handout(plans["switch"], paper="letter", note=LONGEST_NOTE))
    assert "Your prescriber has written you a note: see page 2." in pages[0]
    assert LONGEST_NOTE[:60] not in pages[0]
    assert "From your prescriber" in pages[1]
    assert pages[1].index("From your prescriber") < pages[1].index(
        "Tell your prescriber if you have"
    )


def test_first_page_shows_no_dose_time_the_patient_never_has(plans: dict[str, Plan]) -> None:
    """Regression: 'Midday: no dose' on page 1 of a switch whose midday dose comes later."""
    plan = plans["switch, a dose time never taken"]
    assert "midday" in plan.slots
    first = _pages(plan_handout(plan))[0]
    assert "no dose" not in first
    assert "Midday" not in first
    assert "Morning: lorazepam: one 1 mg tablet (1 mg)" in first
    assert "Night: chlordiazepoxide: one 25 mg capsule (25 mg)" in first


def test_a_dose_time_that_stops_at_the_next_change_says_no_dose(table: EquivalenceTable) -> None:
    plan = plan_taper("diazepam", "morning=2mg,night=5mg", start=START, table=table)
    first = plan.steps[0]
    following = plan.steps[1]
    pages = _pages(plan_handout(plan))
    for slot in plan.slots:
        now = any(d.slot == slot and d.dose_mg for d in first.doses)
        later = any(d.slot == slot and d.dose_mg for d in following.doses)
        assert (f"{slot.capitalize()}:" in pages[0]) == (now or later)


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_revised_plan_keeps_the_urgent_block_whole(plans: dict[str, Plan], paper: str) -> None:
    revised = revise_plan(plans["switch"], on="2027-02-10", hold="2w", reason="a hard week")
    pages = _pages(plan_handout(revised, paper=paper, note=LONGEST_NOTE, patient=LONGEST_NAME))
    assert "Revised on Wednesday 10 February 2027" in pages[0]
    assert _urgent_pages(pages) == {1}
