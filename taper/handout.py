"""The patient handout: a printable week-by-week calendar of the plan (PDF, with fpdf2).

fpdf2 is an optional extra (``pip install 'taper[pdf]'``), imported only when a handout is
asked for. The page is laid out to fit both A4 and US Letter (a 180 mm wide text block that
breaks pages before Letter's shorter bottom), in large type that prints well in black and
white. Doses follow the ISMP rules; what to take is said in words.
"""

from __future__ import annotations

import datetime as dt

from taper.errors import InvalidRequestError, require_extra
from taper.formatting import format_dose
from taper.plan import DoseTime, Plan
from taper.table import Drug

#: Symptoms to report, from the clinical reference (section 4, the source article via ASAM).
SYMPTOMS = (
    "anxiety or agitation",
    "trouble sleeping",
    "cravings",
    "poor concentration or confusion",
    "seeing or hearing things that are not there",
    "dizziness",
    "muscle cramps or twitching",
    "shaking (tremor)",
    "headache",
    "fever or sweating",
    "a racing heart",
    "fits or seizures (the most serious: get help at once)",
)
PAPER = {"a4": "A4", "letter": "Letter"}
WIDTH_MM = 180  # fits inside both A4 (210 mm) and Letter (215.9 mm) with margins
_LATIN1 = str.maketrans({"—": "-", "–": "-", "→": "to", "≈": "about", "’": "'"})


def _text(value: str) -> str:
    """Text the PDF core fonts can show (Latin-1); doses never need anything else."""
    converted = value.translate(_LATIN1)
    converted.encode("latin-1")  # raises if anything else slipped through
    return converted


def drug_names(drug: Drug) -> str:
    """``"ALPRAZolam (Xanax)"``: Tall Man lettering where recommended, and brand names."""
    name = drug.tall_man or drug.name
    return f"{name} ({', '.join(drug.aliases)})" if drug.aliases else name


def _what_to_take(doses: list[DoseTime]) -> str:
    return "; ".join(
        f"{dose.drug} {format_dose(dose.dose_mg)}: {dose.preparation.words()}" for dose in doses
    )


def plan_handout(
    plan: Plan, *, patient: str | None = None, note: str | None = None, paper: str = "a4"
) -> bytes:
    """The handout as PDF bytes."""
    if paper not in PAPER:
        raise InvalidRequestError(f"unknown paper {paper!r}; use a4 or letter")
    require_extra("fpdf", "--handout", "pdf")
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format=PAPER[paper])
    pdf.set_creation_date(dt.datetime.combine(plan.start_date, dt.time(0), tzinfo=dt.UTC))
    pdf.set_title(_text(f"{plan.drug.name} taper plan"))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=25)  # leaves Letter's shorter page enough room
    pdf.add_page()

    def heading(text: str, size: int = 18) -> None:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(WIDTH_MM, size * 0.5, _text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str, size: int = 13, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(WIDTH_MM, 6.5, _text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    names = " and ".join(drug_names(drug) for drug in plan.drugs)
    heading(f"Your taper plan: {names}")
    if patient:
        paragraph(f"For: {patient}", 14, "B")
    paragraph(
        f"Starts {plan.start_date.strftime('%A %d %B %Y')}. The last dose is on "
        f"{plan.date_of(plan.checks.duration_days).strftime('%A %d %B %Y')}."
    )
    paragraph(
        "Do not stop this plan, and do not go faster, without talking to your prescriber. "
        "If you feel unwell, a step can be held longer: ask.",
        13,
        "B",
    )
    if note:
        paragraph(f"From your prescriber: {note}")

    heading("What changes, and when", 15)
    for step in plan.steps:
        taken = [dose for dose in step.doses if dose.dose_mg]
        when = plan.date_of(step.start_day).strftime("%a %d %b %Y")
        if step.phase == "stop":
            paragraph(f"{when}: stop. No more doses from this day.", 13, "B")
            continue
        by_slot: dict[str, list[DoseTime]] = {}
        for dose in taken:
            by_slot.setdefault(dose.slot, []).append(dose)
        lines = "; ".join(f"{slot}: {_what_to_take(doses)}" for slot, doses in by_slot.items())
        phase = {"crossover": ", changing over", "stabilization": ", settling on the new dose"}
        paragraph(f"{when} ({step.days} days{phase.get(step.phase, '')}): {lines}")

    heading("Tell your prescriber at once if you have", 15)
    paragraph(", ".join(SYMPTOMS) + ".")
    if plan.warnings:
        heading("Notes for your prescriber and pharmacist", 12)
        for warning in plan.warnings:
            paragraph(f"- {warning}", 10)
    paragraph("This plan was drafted with taper and reviewed by your prescriber.", 10)

    _calendar(pdf, plan)
    return bytes(pdf.output())


def _line_count(pdf: object, width: float, text: str) -> int:
    """How many lines ``text`` takes in a cell ``width`` wide, at the current font."""
    lines = pdf.multi_cell(width, 5.5, text, dry_run=True, output="LINES")  # type: ignore[attr-defined]
    assert isinstance(lines, list)
    return len(lines)


def _calendar(pdf: object, plan: Plan) -> None:
    """Week by week: one row per day, a box to tick for each dose time, what to take."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    slots = plan.slots
    date_width = 36
    slot_width = (WIDTH_MM - date_width) / len(slots)
    week_start = None
    for day in plan.days():
        if week_start is None or (day.date - week_start).days >= 7:
            week_start = day.date
            if pdf.get_y() + 110 > pdf.page_break_trigger:  # room for a whole week
                pdf.add_page()
            else:
                pdf.ln(6)
            pdf.set_font("Helvetica", "B", 15)
            week_end = min(
                week_start + dt.timedelta(days=6), plan.date_of(plan.steps[-1].start_day)
            )
            pdf.cell(
                WIDTH_MM,
                9,
                _text(f"Week of {week_start.strftime('%d %B %Y')} to {week_end.strftime('%d %B')}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.set_font("Helvetica", "B", 12)
            pdf.cell(date_width, 8, "Day", border=1)
            for slot in slots:
                pdf.cell(slot_width, 8, _text(slot.capitalize()), border=1)
            pdf.ln()
        doses_by_slot = {
            slot: [d for d in day.doses if d.slot == slot and d.dose_mg] for slot in slots
        }
        texts = [
            _what_to_take(doses_by_slot[slot]) if doses_by_slot[slot] else "nothing"
            for slot in slots
        ]
        pdf.set_font("Helvetica", "", 11)
        lines = max(_line_count(pdf, slot_width - 9, _text(text)) for text in texts)
        height = max(12.0, lines * 5.5 + 3)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(date_width, height, _text(day.date.strftime("%a %d %b")), border=1)
        pdf.set_font("Helvetica", "", 11)
        for index, text in enumerate(texts):
            left = pdf.l_margin + date_width + index * slot_width
            pdf.rect(left, top, slot_width, height)
            if doses_by_slot[slots[index]]:
                pdf.rect(left + 2, top + 2.5, 5, 5)  # the box to tick
            pdf.set_xy(left + 8, top + 1.5)
            pdf.multi_cell(slot_width - 9, 5.5, _text(text))
        pdf.set_xy(pdf.l_margin, top + height)
