"""The patient handout: a first page to live by, a compact calendar, and a page for the
prescriber and pharmacist (PDF, with fpdf2).

fpdf2 is an optional extra (``pip install 'taper[pdf]'``), imported only when a handout is
asked for. The text is set in DejaVu Sans, the TrueType font that matplotlib ships (the same
extra installs it), so names such as "Łukasz Wróbel" or "Nguyễn Văn An" print as written; a
character the font lacks (Chinese, Japanese or Korean script, for instance) is refused by
name rather than dropped.

The first page fits by construction (:func:`lay_out_first_page`): its blocks are measured on
the paper before anything is placed; the title, today's doses and the urgent-help block always
stay, the urgent-help block whole and first among the safety content; a block that does not fit
(the last dose's line, the prescriber's note, the contacts, the next change, in that order)
moves to the top of page 2 and leaves a one-line pointer.

The patient pages are left-aligned plain language at 14 pt or more. Every page carries the
patient's name, the plan's first day and "Page N of M". The calendar is one of fpdf2's
tables: a row is at most a week (a new row starts each Monday and on each dose change), the
heading row repeats on every page and a row is never split between pages. The page is laid out
to fit both A4 and US Letter (a 180 mm wide text block that breaks pages before Letter's
shorter bottom).

What the patient is told about taking each form, a missed dose and which symptoms are urgent
comes from :data:`PATIENT_SOURCES`; the grading of symptoms is inferred from those sources and
is printed, with what could not be confirmed, on the prescriber's page for review.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from taper.dispensing import supply_periods
from taper.errors import InvalidRequestError, literal, require_extra
from taper.formatting import escape_code, format_dose, format_number
from taper.plan import DoseTime, Plan, Step, SupplyPeriod
from taper.products import FORM_WORDS, Product
from taper.reviews import plan_reviews
from taper.table import Drug

PAPER = {"a4": "A4", "letter": "Letter"}
WIDTH_MM = 180  # fits inside both A4 (210 mm) and Letter (215.9 mm) with margins
FONT_NAME = "DejaVu Sans"
#: Patient text is never smaller than this (points).
BODY_PT = 14
NBSP = "\u00a0"
#: Where a word too long for its column may break, with a hyphen shown (a drug's name).
SOFT_HYPHEN = "\u00ad"
EMERGENCY_NUMBER = {"uk": "999", "us": "911"}

#: Get urgent help now: the severe features of withdrawal.
URGENT_SYMPTOMS = (
    "a fit (seizure)",
    "trouble breathing",
    "confusion, or seeing or hearing things that are not there",
    "thoughts of harming yourself",
)
#: Tell the prescriber: common withdrawal symptoms, which often ease but may mean a slower pace.
REPORT_SYMPTOMS = (
    "trouble sleeping",
    "anxiety, panic or irritability",
    "shaking (tremor)",
    "muscle pain or stiffness",
    "blurred vision",
    "memory problems",
    "an upset stomach",
    "low mood",
)

MISSED_DOSE = (
    "If you forget a dose, never take two doses at once to make up for it. If it is nearly "
    "time for your next dose, skip the one you missed and take the next one as usual. "
    "Otherwise, follow the leaflet in your medicine's pack, or ask your pharmacist."
)
HOW_TO_TAKE = {
    "half": (
        "Half tablets",
        "Some doses need half a tablet. Break only tablets with a score line, along that line. "
        "A tablet cutter from the pharmacy makes it easier. Keep the other half for your next "
        "half dose. If splitting is hard for you, ask your pharmacist.",
    ),
    "odt": (
        "Orally disintegrating tablets (ODT: tablets that melt in the mouth)",
        "With dry hands, peel back the foil of the blister; do not push the tablet through the "
        "foil. Put the tablet on your tongue: it melts in a few seconds, and you can swallow "
        "with or without water. Follow the leaflet in the pack.",
    ),
    "concentrate": (
        "Oral concentrate (a strong liquid)",
        "Measure each dose with the dropper that comes with it, exactly to the mark your "
        "pharmacist shows you; never with a spoon. Mix it into a little water, juice or soft "
        "food such as apple sauce, and take all of it straight away.",
    ),
    "solution": (
        "Liquid medicine",
        "Measure each dose with the oral syringe or spoon that comes with the medicine. If you "
        "do not have one, ask your pharmacist for one. Do not use a kitchen teaspoon: it will "
        "not measure the right amount.",
    ),
}


@dataclass(frozen=True)
class Source:
    topic: str
    citation: str
    grade: str
    confirmed: str


#: Where the patient wording comes from (grades: A guideline, regulator or label; B formulary
#: or drug-information service; C secondary copy), and what could not be confirmed.
PATIENT_SOURCES = (
    Source(
        "Missed dose",
        "NZ Formulary patient sheet, clonazepam (mymedicines.nz); Healthwise 'Clonazepam Oral "
        "Tablet'; Changi General Hospital 'Benzodiazepines: dosage'",
        "B, B/C",
        "Found for clonazepam and the class only; the leaflets disagree on when a dose is too "
        "late (NZ: same day; others: nearly time for the next dose), so the handout refers to "
        "the product leaflet. NOT CONFIRMED for diazepam, lorazepam, alprazolam or "
        "chlordiazepoxide from an A/B source.",
    ),
    Source(
        "Orally disintegrating tablets",
        "Copies of clonazepam ODT instructions (toplist.info; Clinical Pain Advisor monograph)",
        "C, B/C",
        "NOT CONFIRMED against the ODT label's Dosage and Administration or Medication Guide.",
    ),
    Source(
        "Oral liquid",
        "NHS.uk 'How and when to take lorazepam'",
        "B",
        "Confirmed (lorazepam liquid); applied to every oral solution.",
    ),
    Source(
        "Oral concentrate",
        "Lorazepam Intensol (oral concentrate) dosage, as summarised at renalandurologynews.com "
        "('Mix with liquid or semi-solid food. Consume mixture immediately.'; supplied 'w. "
        "dropper')",
        "C",
        "NOT CONFIRMED against the concentrate's label itself; the dropper's markings were not "
        "found (a reviewer reports 0.25 mL steps): doses of a concentrate finer than its "
        "dropper measures need an oral syringe from the pharmacy.",
    ),
    Source(
        "Half tablets",
        "Australian Prescriber 2002;25:133 'Splitting tablets'; clonazepam US labels "
        "(scoring is per product)",
        "B, A",
        "NOT CONFIRMED from NHS.uk or MedlinePlus: the wording 'break only scored tablets'.",
    ),
    Source(
        "Symptoms and urgency",
        "FDA Drug Safety Communication, 23 September 2020 (seizures); University of Utah "
        "Pharmacy Services summary (trouble breathing; common symptoms); Healthwise",
        "A, B/C",
        "The split into 'urgent' and 'tell your prescriber' is inferred, not quoted: no A/B "
        "source grading withdrawal symptoms was found. Thoughts of self-harm as urgent is NOT "
        "CONFIRMED from a withdrawal source. Please review.",
    ),
)


#: The paper a region prints on when none is asked for.
REGION_PAPER = {"us": "letter", "uk": "a4"}
#: What ``brands=`` takes besides a region: no brand names at all.
NO_BRANDS = "none"


def drug_names(drug: Drug, region: str = NO_BRANDS) -> str:
    """``"ALPRAZolam (Xanax)"``: Tall Man lettering where recommended, and the brand names
    sold in ``region`` (none for a region the table gives none, or for ``"none"``)."""
    name = drug.tall_man or drug.name
    brands = drug.brands.get(region, ())
    return f"{name} ({', '.join(brands)})" if brands else name


def emergency_number(plan: Plan, override: str | None = None) -> str:
    """The number to call in an emergency: ``override``, else the plan's region's."""
    return override or EMERGENCY_NUMBER.get(plan.request.region, "999 or 911")


_EMERGENCY_FORMAT = re.compile(r"[0-9][0-9 +\-]{0,18}[0-9]|[0-9]")


@dataclass(frozen=True)
class RegionalWords:
    """The words of a handout that depend on where it is printed, each overridable: the
    paper, the brand names beside the generic ones and the emergency number."""

    paper: str
    brands: str
    emergency: str


def regional_words(
    plan: Plan,
    *,
    paper: str | None = None,
    brands: str | None = None,
    emergency: str | None = None,
) -> RegionalWords:
    """The plan's region's words, with any given overrides checked."""
    region = str(plan.request.region)
    paper = paper if paper is not None else REGION_PAPER.get(region, "a4")
    if paper not in PAPER:
        raise InvalidRequestError(
            f"unknown paper {literal(paper)!r} in {{paper}}; use a4 or letter",
            parameters={"paper": None},
        )
    brands = brands if brands is not None else region
    if brands not in (*REGION_PAPER, NO_BRANDS):
        raise InvalidRequestError(
            f"unknown brand names {literal(brands)!r} in {{brands}}; use us, uk or none",
            parameters={"brands": None},
        )
    if emergency is not None and not _EMERGENCY_FORMAT.fullmatch(emergency):
        raise InvalidRequestError(
            f"{{emergency_number}} {literal(emergency)!r} is not a telephone number (digits, "
            "with spaces, + or -, at most 20 characters)",
            parameters={"emergency_number": None},
        )
    return RegionalWords(paper, brands, emergency_number(plan, emergency))


def font_path(style: str = "") -> Path:
    """DejaVu Sans (or its bold) as shipped by matplotlib, found without importing it."""
    require_extra("matplotlib", "a handout", "pdf", parameter="handout")
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None
    assert spec.origin is not None
    name = "DejaVuSans-Bold.ttf" if style == "B" else "DejaVuSans.ttf"
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name


@functools.cache
def _covered() -> frozenset[int]:
    """The characters the handout's font can print (and the line break)."""
    from fontTools.ttLib import TTFont

    return frozenset({*TTFont(font_path(), lazy=True).getBestCmap(), ord("\n")})


def check_printable(text: str, what: str) -> None:
    """Refuse, by name, a character the handout's font cannot print."""
    covered = _covered()
    for char in text:
        if ord(char) not in covered:
            name = unicodedata.name(char, "an unnamed character")
            raise InvalidRequestError(
                f"the handout's font ({FONT_NAME}) cannot print {char!r} (U+{ord(char):04X} "
                f"{name}) in {{{what}}}; write it in Latin, Greek or Cyrillic letters",
                parameters={what: None},
            )


#: The longest patient name (it heads every page, on one line) and prescriber's note.
MAX_PATIENT_CHARS = 60
MAX_NOTE_CHARS = 2000

#: fpdf2's alias for the number of pages, set only while a footer is drawn.
PAGE_COUNT = "{nb}"


def _drawable(text: str) -> str:
    """Text as the handout draws it: a control or format character (bidi overrides), or one
    the font cannot print (from a custom table's notes or titles), written as its escape
    (``\\x1b``, ``\\u202e``), never handed to the PDF library, which would warn with the raw
    character on stderr."""
    covered = _covered()
    return "".join(char if _drawn_as_is(char, covered) else escape_code(char) for char in text)


def _drawn_as_is(char: str, covered: frozenset[int]) -> bool:
    return char in ("\n", SOFT_HYPHEN) or (
        ord(char) in covered and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )


#: Control, format (bidi), separator, surrogate, private and unassigned characters.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _long_date(day: dt.date) -> str:
    return day.strftime("%A %d %B %Y").replace(" 0", " ")


def _short_date(day: dt.date, *, year: bool = False) -> str:
    """``"Mon 4 Jan"`` (``"Mon 4 Jan 2027"`` with ``year``), never broken between lines."""
    text = day.strftime("%a %d %b %Y" if year else "%a %d %b").replace(" 0", " ")
    return text.replace(" ", NBSP)


def _unbroken(text: str) -> str:
    """Numbers kept with their units: ``"10 mg"`` never splits between lines."""
    return re.sub(r"([0-9]) (mg|mL|tablet|tablets)\b", rf"\1{NBSP}\2", text)


def _taken(doses: tuple[DoseTime, ...], slot: str) -> list[DoseTime]:
    return [dose for dose in doses if dose.slot == slot and dose.dose_mg]


def _slot_text(
    plan: Plan, doses: list[DoseTime], *, short: bool = False, named: bool | None = None
) -> str:
    """``"one 0.5 mg tablet (0.5 mg)"``; in a switch, each drug named (unless ``named`` is
    False: a sheet of one drug says which above it); ``short`` for a table's column
    (``"three 0.125 mg ODTs (0.375 mg)"``)."""
    named = plan.is_substitution if named is None else named
    if not doses:
        return "no dose"
    parts = []
    for dose in doses:
        words = dose.preparation.words(short=short)
        made = _unbroken(f"{words} ({format_dose(dose.dose_mg)})")
        if named:  # a table's narrow column: the drug's name on its own line
            made = f"{dose.drug}\n{made}" if short else f"{dose.drug}: {made}"
        parts.append(made)
    return "\n".join(parts)


def forms_used(plan: Plan) -> list[str]:
    """Which of the how-to-take notes the plan needs, in a fixed order."""
    used: set[str] = set()
    for step in plan.steps:
        for dose in step.doses:
            for portion in dose.preparation.portions:
                if portion.product.form in ("odt", "concentrate"):
                    used.add(portion.product.form)
                elif portion.product.is_liquid:
                    used.add("solution")
                if portion.volume_ml is None and portion.denominator > 1:
                    used.add("half")
    return [form for form in HOW_TO_TAKE if form in used]


@dataclass(frozen=True)
class CalendarRow:
    """At most a week of one step: a new row starts each Monday and on each dose change."""

    first: dt.date
    last: dt.date
    step: Step
    #: The dose times whose doses change on this row's first day.
    changed: frozenset[str]


def _slot_doses(step: Step, slot: str) -> tuple[tuple[str, Decimal], ...]:
    return tuple((dose.drug, dose.dose_mg) for dose in _taken(step.doses, slot))


def _dose_key(step: Step) -> tuple[tuple[str, str, Decimal], ...]:
    """What the patient takes in ``step``: each dose time's drug and mg (a hold splits a step
    into two with the same key: no change for the patient)."""
    return tuple((d.slot, d.drug, d.dose_mg) for d in step.doses if d.dose_mg)


def next_change(plan: Plan, step: Step) -> Step | None:
    """The first step after ``step`` whose doses differ from it (the stop counts), else
    None: a step at the same doses (a hold's remainder) is not a change."""
    for following in plan.steps[step.number :]:
        if following.phase == "stop" or _dose_key(following) != _dose_key(step):
            return following
    return None


def merged_steps(steps: list[Step]) -> list[tuple[Step, int, int]]:
    """Consecutive steps at the same doses as one: ``(step, start_day, end_day)``."""
    merged: list[tuple[Step, int, int]] = []
    for step in steps:
        if merged and _dose_key(merged[-1][0]) == _dose_key(step):
            merged[-1] = (merged[-1][0], merged[-1][1], step.end_day)
        else:
            merged.append((step, step.start_day, step.end_day))
    return merged


def calendar_rows(
    plan: Plan, from_day: int = 1, to_day: int | None = None, max_days: int = 7
) -> Iterator[CalendarRow]:
    """The calendar's rows from ``from_day`` (a revision's first day) to ``to_day`` (else
    the last dose): a new row each Monday, on each dose change and after ``max_days``."""
    previous: Step | None = None
    for step in plan.steps:
        if step.phase == "stop":
            continue
        if step.end_day < from_day:
            previous = step
            continue
        if to_day is not None and step.start_day > to_day:
            break
        first = plan.date_of(max(step.start_day, from_day))
        end = plan.date_of(min(step.end_day, to_day) if to_day is not None else step.end_day)
        changed = frozenset(
            slot
            for slot in plan.slots
            if previous is not None
            and step.start_day >= from_day
            and _slot_doses(step, slot) != _slot_doses(previous, slot)
        )
        previous = step
        while first <= end:
            sunday = first + dt.timedelta(days=6 - first.weekday())
            last = min(end, sunday, first + dt.timedelta(days=max_days - 1))
            yield CalendarRow(first, last, step, changed)
            first, changed = last + dt.timedelta(days=1), frozenset()


def plan_handout(
    plan: Plan,
    *,
    patient: str | None = None,
    note: str | None = None,
    paper: str | None = None,
    clinician_page: bool = True,
    brands: str | None = None,
    emergency_number: str | None = None,
    every_sheet: bool = False,
) -> bytes:
    """The handout as PDF bytes. ``paper``, ``brands`` (a region's brand names, or
    ``"none"``) and ``emergency_number`` default to the plan's region's (Letter, US brands
    and 911 for the US; A4, UK brands and 999 for the UK). The calendar is an overview of
    the steps and the day-by-day sheet of the first supply period; ``every_sheet`` adds the
    sheet of every period."""
    words = regional_words(plan, paper=paper, brands=brands, emergency=emergency_number)
    require_extra("fpdf", "a handout", "pdf", parameter="handout")
    for text, what, limit in ((patient, "patient", MAX_PATIENT_CHARS),
                              (note, "note", MAX_NOTE_CHARS)):  # fmt: skip
        if text is not None:
            if len(text) > limit:
                raise InvalidRequestError(
                    f"{{{what}}} is {len(text):,} characters; the handout takes at most {limit:,}",
                    parameters={what: None},
                )
            check_printable(text, what)
    for revision in plan.revisions:
        if revision.reason:
            check_printable(revision.reason, f"the reason of revision {revision.number}")
    pdf = _document(plan, patient, PAPER[words.paper])
    moved = _first_page(pdf, plan, note, words)
    _guidance_page(pdf, plan, moved)
    _calendar(pdf, plan, every_sheet=every_sheet)
    _diary(pdf, plan, words)
    if clinician_page:
        _clinician_page(pdf, plan)
    return bytes(pdf.output())


def period_sheet(
    plan: Plan,
    period: int,
    *,
    patient: str | None = None,
    paper: str | None = None,
    emergency_number: str | None = None,
) -> bytes:
    """One supply period's day-by-day sheet and its symptom diary as PDF bytes: the pages
    that go with that dispensing (``period`` 1 is the first; the periods are the plan's
    ``supply=``, else 28 days, as on the prescriber's page). The sheet of period 1 is the
    handout's. A period past the plan's end is refused, naming how many it has."""
    chosen = sheet_period(plan, period)
    words = regional_words(plan, paper=paper, emergency=emergency_number)
    require_extra("fpdf", "a sheet", "pdf", parameter="output")
    if patient is not None:
        if len(patient) > MAX_PATIENT_CHARS:
            raise InvalidRequestError(
                f"{{patient}} is {len(patient):,} characters; the sheet takes at most "
                f"{MAX_PATIENT_CHARS}",
                parameters={"patient": None},
            )
        check_printable(patient, "patient")
    pdf = _document(plan, patient, PAPER[words.paper])
    _sheet(pdf, plan, chosen.start_day, chosen.end_day, more=False)
    _diary(pdf, plan, words, chosen.start_day, chosen.end_day)
    return bytes(pdf.output())


def sheet_period(plan: Plan, period: int) -> SupplyPeriod:
    """Supply period number ``period`` of the plan (numbered from 1, as on the prescriber's
    page), or a refusal naming how many it has."""
    days, periods = supply_by_period(plan)
    count = len(periods)
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise InvalidRequestError(
            f"{{period}} is not a supply period: they are numbered from 1 (this plan has {count})",
            parameters={"period": period},
        )
    if period > count:
        raise InvalidRequestError(
            f"{{period}} is past the plan's end: it has {count} supply period"
            f"{'s' if count > 1 else ''} of {days} days (1 to {count})",
            parameters={"period": period},
        )
    return periods[period - 1]


def _document(plan: Plan, patient: str | None, paper: str) -> Any:
    from fpdf import FPDF

    running = (
        f"{patient or 'Name: ______________________'} · taper plan from "
        f"{plan.start_date.strftime('%d %B %Y').lstrip('0')}"
    )
    if plan.revisions:
        running += f", revised {plan.revisions[-1].on.strftime('%d %B %Y').lstrip('0')}"

    class Handout(FPDF):
        """Every text drawn goes through :func:`_drawable`; the page-count alias ``{nb}``
        is on only while the footer is drawn, so that no other text can become it."""

        def cell(self, w: Any = None, h: Any = None, text: str = "", *a: Any, **k: Any) -> Any:
            return super().cell(w, h, _drawable(text), *a, **k)

        def multi_cell(self, w: Any, h: Any = None, text: str = "", *a: Any, **k: Any) -> Any:
            return super().multi_cell(w, h, _drawable(text), *a, **k)

        closing = False

        def header(self) -> None:
            size = 11.0
            self.set_font(FONT_NAME, "", size)
            while size > 6 and self.get_string_width(_drawable(running)) > WIDTH_MM:
                size -= 0.5  # a long name in wide letters: smaller, never past the margin
                self.set_font(FONT_NAME, "", size)
            self.cell(WIDTH_MM, 6, running, align="L", new_x="LMARGIN", new_y="NEXT")
            self.line(self.l_margin, self.get_y(), self.l_margin + WIDTH_MM, self.get_y())
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-20)
            self.set_font(FONT_NAME, "", 11)
            self.alias_nb_pages(PAGE_COUNT)
            try:
                self.cell(WIDTH_MM, 6, f"Page {self.page_no()} of {PAGE_COUNT}", align="L")
            finally:
                # fpdf2 fills the count in at output only while an alias is set; the last
                # page's footer, drawn at output, is the last text drawn
                self.alias_nb_pages(PAGE_COUNT if self.closing else "")

        def output(self, *a: Any, **k: Any) -> Any:
            self.closing = True
            return super().output(*a, **k)

    pdf = Handout(orientation="portrait", unit="mm", format=paper)
    pdf.alias_nb_pages("")
    pdf.add_font(FONT_NAME, "", font_path())
    pdf.add_font(FONT_NAME, "B", font_path("B"))
    pdf.set_creation_date(dt.datetime.combine(plan.start_date, dt.time(0), tzinfo=dt.UTC))
    pdf.set_title(f"{plan.drug.name} taper plan")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=25)  # leaves Letter's shorter page enough room
    return pdf


def _heading(pdf: Any, text: str, size: int = 18) -> None:
    pdf.set_font(FONT_NAME, "B", size)
    pdf.multi_cell(WIDTH_MM, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _paragraph(pdf: Any, text: str, style: str = "", size: float = BODY_PT, gap: float = 2) -> None:
    pdf.set_font(FONT_NAME, style, size)
    pdf.multi_cell(WIDTH_MM, size * 0.45, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def first_day(plan: Plan) -> int:
    """The first day the handout covers: the last revision's date, else day 1."""
    if not plan.revisions:
        return 1
    return (plan.revisions[-1].on - plan.start_date).days + 1


def revised_text(plan: Plan) -> str:
    """``"Revised on Wednesday 10 February 2027 (revision 1): ... This replaces the plan of
    Monday 4 January 2027."``"""
    last = plan.revisions[-1]
    why = f" because of {last.reason}" if last.reason else ""
    earlier = (
        f"the plan of {_long_date(last.replaces_start)}"
        if last.number == 1
        else f"revision {last.number - 1} of {_long_date(plan.revisions[-2].on)}"
    )
    return (
        f"Revised on {_long_date(last.on)} (revision {last.number}){why}. This replaces "
        f"{earlier}: use this one from {_long_date(last.on)}."
    )


#: The withdrawal symptom domains of the 2025 Joint Guideline's Table 3, in plain words; a
#: star marks the signs it notes typically come with abrupt stopping of high doses (get
#: urgent help), and thoughts of self-harm are urgent as on the first page.
DIARY_DOMAINS = (
    ("Body", "headache, sweating, feeling hot"),
    ("Feelings", "anxiety or panic, low mood, irritability or anger"),
    ("Heart", "chest pain, a pounding or fast heartbeat"),
    ("Stomach", "cramps, diarrhoea, feeling or being sick"),
    (
        "Brain and senses",
        "poor memory or concentration, confusion*, a fit (seizure)*, light, noise or touch "
        "too strong, tingling or numbness, ringing in the ears",
    ),
    ("Muscles", "clumsiness, odd skin feelings, muscle pain, twitches, shaking"),
    (
        "Mind",
        "restlessness, feeling unreal or detached, seeing or hearing things that are not "
        "there*, thoughts of harming yourself*",
    ),
    ("Sleep", "trouble sleeping, sleeping too much, nightmares"),
)
#: Days of diary printed: the first four weeks of the plan, or of its revision.
DIARY_DAYS = 28
DIARY_NOTE = "This diary is not a validated scale: it helps you talk with your prescriber."
DIARY_SOURCES = (
    "Symptom diary: the withdrawal sign domains of the 2025 Joint Clinical Practice Guideline "
    "on Benzodiazepine Tapering, Table 3 (p10), in plain words; starred signs are those it "
    "notes typically come with abrupt cessation of high doses (confusion/delirium, seizures, "
    "psychosis), and thoughts of self-harm are urgent as on the first page (NOT CONFIRMED "
    "from a withdrawal source). Not a validated scale, and no score ties to a dose decision "
    "in any source. For a validated measure use the CIWA-B (Busto et al. 1989) or the BWSQ "
    "(Tyrer et al. 1990; licensed by Imperial College): their items are not reproduced here."
)
REVIEW_RULE = (
    "Review schedule: 5-7 days after a switch is complete (NHS Scotland 2024); at a cut, "
    "before the new dose, at most every 2 weeks (the 2025 Joint Guideline evaluates "
    "symptoms with each reduction; NHS Scotland reviews and reduces every 2-4 weeks; the "
    "diary covers the cuts in between); never more than 4 weeks without a review (NHS "
    "Scotland), which keeps the Joint Guideline's review at least every 3 months."
)


def _diary(
    pdf: Any, plan: Plan, words: RegionalWords, start: int | None = None, end: int | None = None
) -> None:
    """The symptom diary: the kinds of symptom (the Joint Guideline's Table 3 domains), then a
    row per day from ``start`` to ``end`` (else of the first supply period, from the plan's
    first day or its revision's), four weeks at most, two side by side."""
    if start is None or end is None:
        start = first_day(plan)
        _, periods = supply_by_period(plan)
        end = next((p.end_day for p in periods if p.end_day >= start), start + DIARY_DAYS - 1)
    last = min(start + DIARY_DAYS - 1, end, plan.checks.duration_days + 14)
    days = [plan.date_of(day) for day in range(start, last + 1)]
    pdf.add_page()
    _heading(pdf, "Your symptom diary", 16)
    _paragraph(
        pdf,
        "Each day, tick each kind of symptom you had. Tell your prescriber at your next "
        f"review, or sooner if it is bad or getting worse. {DIARY_NOTE}",
    )
    _paragraph(pdf, f"* Get urgent help now (call {words.emergency}) for a starred symptom.", "B")
    for index, (title, signs) in enumerate(DIARY_DOMAINS, start=1):
        _paragraph(pdf, f"{index}  {title}: {signs}", gap=0)
    pdf.ln(3)
    _diary_table(pdf, days)


def _diary_table(pdf: Any, days: list[dt.date]) -> None:
    """Days as rows of tick boxes, one for each kind of symptom; two weeks side by side. The
    year heads the dates (``"Mon 4 Jan"``), or, for days across New Year, is on every date
    (``"30 Dec 2027"``)."""
    kinds = len(DIARY_DOMAINS)
    years = sorted({day.year for day in days})
    across = len(years) > 1
    pdf.set_font(FONT_NAME, "B", BODY_PT)
    # across New Year each date says its year, without its weekday to leave room for the boxes
    date_width = pdf.get_string_width(f"30 Sep{NBSP}2027" if across else "Wed 30 Sep") + 2.5
    half = WIDTH_MM / 2 if len(days) > 7 else WIDTH_MM
    width = (half - date_width) / kinds
    rows = -(-len(days) // 2) if half < WIDTH_MM else len(days)
    heading = ["Date" if across else str(years[0]), *(str(i) for i in range(1, kinds + 1))]
    _keep_room(pdf, 7.3 * (rows + 1))
    pdf.set_font(FONT_NAME, "", BODY_PT)
    with pdf.table(
        col_widths=[date_width, *([width] * kinds)] * (2 if half < WIDTH_MM else 1),
        width=WIDTH_MM,
        text_align="LEFT",
        line_height=BODY_PT * 0.45,
        padding=0.5,
        headings_style=_bold(),
    ) as table:
        table.row(heading * (2 if half < WIDTH_MM else 1))
        for row in range(rows):
            cells: list[str] = []
            for day in (days[row], days[row + rows] if row + rows < len(days) else None):
                if half == WIDTH_MM and day is not days[row]:
                    break
                date = (_day_month_year(day) if across else _short_date(day)) if day else ""
                cells += [date, *(["☐"] * kinds)] if day else [""] * (kinds + 1)
            table.row(cells)


@dataclass(frozen=True)
class Line:
    """One heading or paragraph of the first page, measured before it is placed."""

    text: str
    style: str = ""
    size: int = BODY_PT
    heading: bool = False
    #: Space above it (mm).
    gap: float = 0


#: A block of the first page: lines kept together, whole on one page.
Block = tuple[Line, ...]


def _line_height(line: Line) -> float:
    return line.size * (0.5 if line.heading else 0.45)


def _block_height(pdf: Any, block: Block) -> float:
    """The height (mm) the block takes, measured as fpdf2 would break its lines."""
    height = 0.0
    for line in block:
        pdf.set_font(FONT_NAME, "B" if line.heading else line.style, line.size)
        lines = pdf.multi_cell(
            WIDTH_MM, _line_height(line), line.text, dry_run=True, output="LINES"
        )
        height += line.gap + len(lines) * _line_height(line) + 2
    return height


def _place(pdf: Any, block: Block) -> None:
    for line in block:
        pdf.ln(line.gap)
        if line.heading:
            _heading(pdf, line.text, line.size)
        else:
            _paragraph(pdf, line.text, line.style, line.size)


def _slot_lines(plan: Plan, step: Step, slots: list[str]) -> tuple[Line, ...]:
    return tuple(
        Line(f"{slot.capitalize()}: {_slot_text(plan, _taken(step.doses, slot))}") for slot in slots
    )


def _taken_slots(step: Step, slots: tuple[str, ...]) -> list[str]:
    return [slot for slot in slots if _taken(step.doses, slot)]


@dataclass(frozen=True)
class FirstPage:
    """The first page's blocks in reading order, and those moved to page 2 (each leaves a
    pointer where it would have been)."""

    placed: tuple[tuple[str, Block], ...]
    moved: tuple[tuple[str, Block], ...]


#: What a moved block leaves on the first page.
POINTERS = {
    "next": "Your next dose change: see page 2.",
    "last": "Your last dose and the calendar: see page 2.",
    "contacts": "Who to call, and the prescriber's signature: see page 2.",
    "note": "Your prescriber has written you a note: see page 2.",
}


def first_page_blocks(plan: Plan, note: str | None, words: RegionalWords) -> dict[str, Block]:
    """The first page's blocks, by name, in reading order: what the patient takes now and
    next, then the safety content with the urgent-help block first."""
    names = " and ".join(drug_names(drug, words.brands) for drug in plan.drugs)
    title: list[Line] = [
        Line(f"Your plan: {names}", size=18, heading=True),
        Line(
            "Do not stop this plan, and do not go faster, without talking to your prescriber.",
            "B",
        ),
    ]
    if plan.revisions:
        title.append(Line(revised_text(plan), "B"))
    from_day = first_day(plan)
    first = next(step for step in plan.steps if step.start_day <= from_day <= step.end_day)
    now_slots = _taken_slots(first, plan.slots)
    blocks: dict[str, Block] = {
        "title": tuple(title),
        "now": (
            Line(f"What to take from {_long_date(plan.date_of(from_day))}", size=16, heading=True),
            *_slot_lines(plan, first, now_slots),
        ),
    }
    following = next_change(plan, first)
    if following is not None:
        when = _long_date(plan.date_of(following.start_day))
        if following.phase == "stop":
            blocks["next"] = (
                Line(f"On {when}: stop", size=16, heading=True),
                Line("From this day, take no more doses."),
            )
        else:
            # a dose time the patient has now or from the change; one never taken is left out
            next_slots = [
                slot for slot in plan.slots
                if slot in now_slots or _taken(following.doses, slot)
            ]  # fmt: skip
            blocks["next"] = (
                Line(f"Your dose changes on {when}", size=16, heading=True),
                *_slot_lines(plan, following, next_slots),
            )
    last = plan.date_of(plan.checks.duration_days)
    blocks["last"] = (
        Line(
            f"The calendar pages show every change. Your last dose is on {_long_date(last)}. "
            "Tick each dose when you take it."
        ),
    )
    number = words.emergency
    blocks["urgent"] = (
        Line(f"Get urgent help now (call {number}) if you have", size=16, heading=True),
        *(Line(f"•  {item}") for item in URGENT_SYMPTOMS),
    )
    blocks["contacts"] = (
        Line("Who to call", size=16, heading=True),
        Line(f"Emergency (a fit, trouble breathing): call {number}.", "B"),
        *(
            Line(f"{who}: ______________________  Phone: ________________")
            for who in ("Prescriber", "Pharmacy")
        ),
        Line("Prescriber's signature: ______________________  Date: ____________", gap=4),
    )
    if note:
        blocks["note"] = (Line("From your prescriber", size=16, heading=True), Line(note))
    return blocks


#: The order in which blocks give way when the first page is full: the title, today's doses
#: and the urgent-help block never do.
GIVES_WAY = ("last", "note", "contacts", "next")


def lay_out_first_page(pdf: Any, plan: Plan, note: str | None, words: RegionalWords) -> FirstPage:
    """Which blocks fit on the first page, measured on this paper before anything is placed;
    the others move to page 2, each leaving a one-line pointer."""
    blocks = first_page_blocks(plan, note, words)
    room = pdf.page_break_trigger - pdf.get_y()
    moved: set[str] = set()

    def height() -> float:
        kept = sum(_block_height(pdf, b) for name, b in blocks.items() if name not in moved)
        pointers = sum(_block_height(pdf, (Line(POINTERS[name], "B"),)) for name in moved)
        return kept + pointers

    for name in GIVES_WAY:
        if height() <= room:
            break
        if name in blocks:
            moved.add(name)
    for name in reversed(GIVES_WAY):  # one moved early may fit again beside a later move
        if name in moved:
            moved.discard(name)
            if height() > room:
                moved.add(name)
    return FirstPage(
        placed=tuple((n, b) for n, b in blocks.items() if n not in moved),
        moved=tuple((n, b) for n, b in blocks.items() if n in moved),
    )


def _first_page(
    pdf: Any, plan: Plan, note: str | None, words: RegionalWords
) -> tuple[tuple[str, Block], ...]:
    """Draw the first page; return the blocks moved to page 2."""
    pdf.add_page()
    layout = lay_out_first_page(pdf, plan, note, words)
    moved = {name for name, _ in layout.moved}
    for name in first_page_blocks(plan, note, words):
        if name in moved:
            _place(pdf, (Line(POINTERS[name], "B"),))
        else:
            _place(pdf, dict(layout.placed)[name])
    return layout.moved


def _bullets(pdf: Any, items: tuple[str, ...]) -> None:
    for item in items:
        _paragraph(pdf, f"•  {item}")


def _guidance_page(pdf: Any, plan: Plan, moved: tuple[tuple[str, Block], ...] = ()) -> None:
    pdf.add_page()
    for _, block in moved:  # what did not fit on the first page comes first
        _place(pdf, block)
    _heading(pdf, "Tell your prescriber if you have", 16)
    _bullets(pdf, REPORT_SYMPTOMS)
    _paragraph(
        pdf,
        "These are common when the dose goes down and often get better within a few weeks. "
        "Your prescriber may keep you on a dose for longer: ask.",
    )
    _heading(pdf, "How to take your medicine", 16)
    for form in forms_used(plan):
        title, text = HOW_TO_TAKE[form]
        _paragraph(pdf, title, "B")
        _paragraph(pdf, text)
    _paragraph(pdf, "If you miss a dose", "B")
    _paragraph(pdf, MISSED_DOSE)
    _reviews(pdf, plan)


#: What a review is for, when it is not on the day of a dose cut.
REVIEW_WORDS = {"switch": "the switch", "interval": "regular check"}


def _reviews(pdf: Any, plan: Plan) -> None:
    """The review dates in order, four to a row under a row for each year; a review that is
    not on the day of a cut says what it is for."""
    reviews = [r for r in plan_reviews(plan) if r.day >= first_day(plan)]
    if not reviews:
        return
    columns = 4
    by_year: dict[int, list[str]] = {}
    for review in reviews:
        what = REVIEW_WORDS.get(review.kind, "")
        if review.reason.startswith("before the stop"):
            what = "before the stop"
        when = _short_date(review.date)
        by_year.setdefault(review.date.year, []).append(f"{when}\n{what}" if what else when)
    _keep_room(pdf, 60)
    _heading(pdf, "Your reviews with your prescriber", 16)
    _paragraph(
        pdf,
        "Book these with your prescriber. Each is on the day of a dose cut, before you take "
        "the new dose, unless it says what it is for. Bring your symptom diary. A review can "
        "keep you on a dose for longer, or slow the plan down.",
    )
    pdf.set_font(FONT_NAME, "", BODY_PT)
    width = WIDTH_MM / columns
    with _dates_table(
        pdf, width, width, columns - 1, padding=0.8, first_row_as_headings=False
    ) as table:
        for year, cells in by_year.items():
            table.row().cell(str(year), colspan=columns, style=_bold())
            cells += [""] * (-len(cells) % columns)
            for row in range(0, len(cells), columns):
                table.row(cells[row : row + columns])


def _bold() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD")


def _keep_room(pdf: Any, height: float) -> None:
    """A new page unless ``height`` mm are left on this one (a heading stays with what
    follows it)."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _overview_cell(step: Step, slot: str) -> str:
    """A dose time's dose (``"10 mg"``); while more than one drug is taken, each named on
    its own line above its dose (a single drug is named once, on a row above its steps)."""
    doses = _taken(step.doses, slot)
    if not doses:
        return "-"
    named = len(step.totals_by_drug()) > 1
    return "\n".join(
        f"{d.drug}\n{_unbroken(format_dose(d.dose_mg))}" if named else
        _unbroken(format_dose(d.dose_mg))
        for d in doses
    )  # fmt: skip


def single_drug_runs(steps: list[tuple[Step, int, int]]) -> dict[int, tuple[str, int, int]]:
    """Where a run of steps of one drug starts (its index in ``steps``): ``(drug, first day,
    last day)``. Its cells give doses only; a row above the run names the drug once."""
    runs: dict[int, tuple[str, int, int]] = {}
    current: int | None = None
    for index, (step, first, last) in enumerate(steps):
        drugs = list(step.totals_by_drug())
        if len(drugs) != 1:
            current = None
        elif current is not None and runs[current][0] == drugs[0]:
            runs[current] = (drugs[0], runs[current][1], last)
        else:
            current = index
            runs[index] = (drugs[0], first, last)
    return runs


def _day_month_year(day: dt.date) -> str:
    """``"4 Jan 2027"``, never broken between lines."""
    return f"{day.day}{NBSP}{day.strftime('%b')}{NBSP}{day.year}"


def _date_span(first: dt.date, last: dt.date) -> str:
    """``"4 to 17 Jan 2027"``, ``"18 Jan to 1 Feb 2027"``, ``"27 Dec 2027 to 23 Jan 2028"``:
    each date whole, the year always said."""
    end = _day_month_year(last)
    if first.year != last.year:
        return f"{_day_month_year(first)} to {end}"
    if first.month != last.month:
        return f"{first.day}{NBSP}{first:%b} to {end}"
    return f"{first.day} to {end}"


def _overview(pdf: Any, plan: Plan) -> None:
    """Every step on a row: its dates (with the year) and each dose time's dose."""
    start = first_day(plan)
    runs = merged_steps([s for s in plan.steps if s.phase != "stop" and s.end_day >= start])
    steps = [step for step, _, _ in runs]
    _keep_room(pdf, 70)
    _heading(pdf, "Your steps", 16)
    _paragraph(
        pdf,
        "Each row is a step: take these doses every day from its first date to its last. "
        "The day-by-day sheet to tick follows.",
    )
    pdf.set_font(FONT_NAME, "", BODY_PT)
    cells = [_overview_cell(s, slot) for s in steps for slot in plan.slots]
    # a dose on one line (a drug's name, on its own line in a switch's mixed row, may break)
    widest = max(
        (
            pdf.get_string_width(line)
            for cell in cells
            for line in cell.split("\n")
            if not line.isalpha()
        ),
        default=0,
    )
    spans = [(plan.date_of(max(first, start)), plan.date_of(last)) for _, first, last in runs]
    dates = [_date_span(first, last) for first, last in spans]
    # a step within a year on one line (one from one year into the next takes two)
    within = [text for text, (a, b) in zip(dates, spans, strict=True) if a.year == b.year]
    longest = max((pdf.get_string_width(text) for text in within), default=40) + 2 + 0.5
    # the dates on one line when the doses still fit beside them, else on two
    one_line = (WIDTH_MM - longest) / len(plan.slots) - 2.5 >= widest
    date_width = longest if one_line else 44
    slot_width = (WIDTH_MM - date_width) / len(plan.slots)
    size = _cell_size(pdf, cells, slot_width - 2)
    with _dates_table(
        pdf, date_width, slot_width, len(plan.slots), padding=0.6, size=size
    ) as table:
        table.row(["Dates", *(slot.capitalize() for slot in plan.slots)])
        labels = single_drug_runs(runs) if plan.is_substitution else {}
        for index, (step, text) in enumerate(zip(steps, dates, strict=True)):
            if index in labels:
                drug, first, last = labels[index]
                span = _date_span(plan.date_of(max(first, start)), plan.date_of(last))
                row = table.row()
                row.cell(f"{span}: {drug} only", colspan=len(plan.slots) + 1, style=_bold())
            doses = (_hyphenated(pdf, _overview_cell(step, s), slot_width - 2)
                     for s in plan.slots)  # fmt: skip
            table.row([text, *doses])
        stop = plan.steps[-1]
        if stop.phase == "stop":
            row = table.row()
            row.cell(f"From {_day_month_year(plan.date_of(stop.start_day))}")
            row.cell("Stop: no more doses.", colspan=len(plan.slots))


#: The smallest text of a patient's table (points): only for a word as wide as a drug's name.
MIN_TABLE_PT = 12


def _cell_size(pdf: Any, texts: list[str], room: float) -> float:
    """The size of a table's cells: the body's 14 pt, or smaller (12 pt at least) when a word
    would not fit on one line of its column (``room`` mm): a long drug name in a switch.
    Numbers stay with their units (no-break spaces), so they count as one word."""
    pdf.set_font(FONT_NAME, "", BODY_PT)
    widest = max(
        (
            pdf.get_string_width(word)
            for text in texts
            for word in text.replace("\n", " ").split(" ")
        ),
        default=0,
    )
    if widest <= room:
        return BODY_PT
    return max(MIN_TABLE_PT, int(BODY_PT * room / widest * 2) / 2)


_SYLLABLE_BREAK = re.compile(
    r"(?<=[aeiouy])(?=[^aeiouxy\W\d][aeiouy])"  # a vowel, then a consonant and a vowel
    r"|(?<=[aeiouy][^aeiouy\W\d])(?=[^aeiouxy\W\d][aeiouy])",  # between two consonants
    re.IGNORECASE,
)


def _hyphenated(pdf: Any, text: str, room: float) -> str:
    """``text`` with soft hyphens in each word of letters wider than ``room`` mm in the
    current font (``"chlor-dia-ze-poxide"``: before a consonant that starts a syllable, never
    an x, which ends one; at least three letters from either end), so that a drug's name too
    long for a column breaks at a syllable with a hyphen, never anywhere. Every
    other word is left as it is."""

    def soften(match: re.Match[str]) -> str:
        word = match.group(0)
        if pdf.get_string_width(word) <= room:
            return word
        cuts = [
            m.start() for m in _SYLLABLE_BREAK.finditer(word) if 3 <= m.start() <= len(word) - 3
        ]
        pieces = [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)], strict=True)]
        return SOFT_HYPHEN.join(pieces)

    return re.sub(r"[^\W\d_]{7,}", soften, text)


def _box_capacity(pdf: Any, width: float) -> int:
    """How many tick boxes fit on one line of a column ``width`` mm wide (bold, the wider)."""
    pdf.set_font(FONT_NAME, "B", BODY_PT)
    box, space = pdf.get_string_width("☐"), pdf.get_string_width(NBSP)
    return max(1, min(7, int((width - 3 + space) / (box + space) + 1e-6)))


def _calendar(pdf: Any, plan: Plan, *, every_sheet: bool = False) -> None:
    """The overview of the steps, then the day-by-day sheet of the first supply period (of
    every period with ``every_sheet``)."""
    _overview(pdf, plan)
    start = first_day(plan)
    _, periods = supply_by_period(plan)
    chosen = [p for p in periods if p.end_day >= start]
    shown = chosen if every_sheet else chosen[:1]
    for period in shown:
        _sheet(pdf, plan, max(period.start_day, start), period.end_day, more=len(chosen) > 1
               and not every_sheet)  # fmt: skip


def _sheet(pdf: Any, plan: Plan, from_day: int, to_day: int, *, more: bool) -> None:
    """One supply period's day-by-day sheet: a row is at most a week (fewer days where the
    boxes would not fit on one line), the year on every row. A row that starts a new dose
    (and the sheet's first) says how to make each dose; the others give the dose in mg (and
    a liquid's mL)."""
    from fpdf.enums import TableCellFillMode
    from fpdf.fonts import FontFace

    pdf.add_page()
    first, last = _long_date(plan.date_of(from_day)), _long_date(plan.date_of(to_day))
    _heading(pdf, f"Your day-by-day sheet: {first} to {last}", 16)
    _paragraph(
        pdf,
        "Rows with NEW DOSE start a new dose; the doses that change are grey. Tick a box for "
        "each dose taken.",
    )
    drugs = {dose.drug for step in _steps_within(plan, from_day, to_day) for dose in step.doses
             if dose.dose_mg}  # fmt: skip
    named = len(drugs) > 1
    if plan.is_substitution and not named:
        _paragraph(pdf, f"Every dose on this sheet is {', '.join(drugs)}.", "B")
    for line in _short_words_key(plan, from_day, to_day):
        _paragraph(pdf, line)
    if more:
        _paragraph(
            pdf,
            "This sheet covers one supply of your medicine. Your steps above show the whole "
            "plan; ask for the next sheet and diary with your next supply.",
        )
    slots = sheet_slots(plan, from_day, to_day)
    pdf.set_font(FONT_NAME, "B", BODY_PT)
    date_width = pdf.get_string_width(f"to Wed 30 Sep{NBSP}2027") + 2.5  # the widest, bold
    slot_width = (WIDTH_MM - date_width) / len(slots)
    max_days = _box_capacity(pdf, slot_width)
    rows = list(calendar_rows(plan, from_day, to_day, max_days))
    texts = [
        _slot_text(plan, doses, short=True, named=named) if row.changed or number == 0
        else _dose_reminder(plan, doses, named=named)
        for number, row in enumerate(rows)
        for doses in (_taken(row.step.doses, slot) for slot in slots)
        if doses
    ]  # fmt: skip
    size = _cell_size(pdf, texts, slot_width - 2)
    # the doses in regular weight: bold would break "(0.625 mg)" in four columns
    change_style = FontFace(emphasis="BOLD", fill_color=(215, 215, 215))
    new_style = FontFace(fill_color=(215, 215, 215))
    with _dates_table(
        pdf,
        date_width,
        slot_width,
        len(slots),
        padding=1,
        size=size,
        cell_fill_mode=TableCellFillMode.NONE,
    ) as table:
        table.row(["Dates", *(slot.capitalize() for slot in slots)])
        for number, item in enumerate(rows):
            dates = _short_date(item.first, year=True)
            if item.last != item.first:  # "to" starts the second line: the dates stay whole
                dates += f"\nto {_short_date(item.last, year=True)}"
            row = table.row()
            if item.changed:
                row.cell(f"NEW DOSE\n{dates}", style=change_style)
            else:
                row.cell(dates)
            boxes = NBSP.join("☐" * ((item.last - item.first).days + 1))
            for slot in slots:
                doses = _taken(item.step.doses, slot)
                how = (
                    _slot_text(plan, doses, short=True, named=named)
                    if item.changed or number == 0
                    else _dose_reminder(plan, doses, named=named)
                )
                text = f"{_hyphenated(pdf, how, slot_width - 2)}\n{boxes}" if doses else "no dose"
                row.cell(text, style=new_style if slot in item.changed else None)
        stop = plan.steps[-1]
        if stop.phase == "stop" and from_day <= stop.start_day <= to_day + 1:
            row = table.row()
            stop_day = plan.date_of(stop.start_day)
            row.cell(f"STOP from {_short_date(stop_day, year=True)}", style=change_style)
            row.cell("Stop: no more doses.", colspan=len(slots), style=change_style)


def sheet_slots(plan: Plan, from_day: int, to_day: int) -> list[str]:
    """The dose times a sheet from ``from_day`` to ``to_day`` has a column for: those taken
    on one of its days, and one that stops on its first day (its "no dose" is a change)."""
    rows = calendar_rows(plan, from_day, to_day)
    stopped = next(rows).changed
    taken = {
        slot
        for step in _steps_within(plan, from_day, to_day)
        for slot in _taken_slots(step, plan.slots)
    }
    return [slot for slot in plan.slots if slot in taken or slot in stopped] or list(plan.slots)


def _dose_reminder(plan: Plan, doses: list[DoseTime], *, named: bool) -> str:
    """A sheet's row after the one that says how to make the dose: the dose in mg
    (``"0.5 mg"``), with the mL of a liquid (``"0.4 mL (0.8 mg)"``), since a liquid is
    measured in mL; a dose of a liquid and tablets is said in full."""
    parts = []
    for dose in doses:
        portions = dose.preparation.portions
        amount = format_dose(dose.dose_mg)
        volumes = [p.volume_ml for p in portions if p.volume_ml is not None]
        if volumes and len(portions) > 1:
            return _slot_text(plan, doses, short=True, named=named)
        text = f"{format_dose(volumes[0], 'mL')} ({amount})" if volumes else amount
        parts.append(_unbroken(f"{dose.drug}\n{text}" if named else text))
    return "\n".join(parts)


def _steps_within(plan: Plan, from_day: int, to_day: int) -> list[Step]:
    """The steps with a day from ``from_day`` to ``to_day``."""
    return [step for step in plan.steps if step.start_day <= to_day and step.end_day >= from_day]


def _short_words_key(plan: Plan, from_day: int, to_day: int) -> list[str]:
    """What the sheet's short words mean: ``"ODT"`` and each liquid by its strength."""
    products = {
        portion.product: None
        for step in _steps_within(plan, from_day, to_day)
        for dose in step.doses
        for portion in dose.preparation.portions
    }
    key = []
    if any(product.form == "odt" for product in products):
        key.append("ODT: an orally disintegrating tablet, which melts in the mouth.")
    for product in products:
        if product.is_liquid:
            words = FORM_WORDS[product.form]
            strength = product.label().removesuffix(f" {words}")
            extra = " (a strong liquid)" if product.form == "concentrate" else ""
            key.append(_unbroken(f"{strength} liquid: your {product.label()}{extra}."))
    return key


#: Which form's wording each source backs (None: every handout's).
SOURCE_FORMS = {
    "Orally disintegrating tablets": "odt",
    "Oral liquid": "solution",
    "Oral concentrate": "concentrate",
    "Half tablets": "half",
}
#: The step table's phase column (short enough for its column).
PHASE_WORDS = {"taper": "taper", "crossover": "crossover", "stabilization": "stabilise"}
#: The supply period the prescriber's page counts in when the plan has none (``supply=``).
DEFAULT_SUPPLY_DAYS = 28


def sources_used(plan: Plan) -> list[Source]:
    """The sources of the wording this handout prints: the forms the plan uses, and the
    missed-dose and symptom wording every handout has."""
    forms = set(forms_used(plan))
    return [s for s in PATIENT_SOURCES if SOURCE_FORMS.get(s.topic, "") in forms | {""}]


def supply_by_period(plan: Plan) -> tuple[int, tuple[SupplyPeriod, ...]]:
    """What to dispense per supply period: the plan's (``supply=``), else 28-day periods."""
    if plan.supply:
        first = plan.supply[0]
        return first.end_day - first.start_day + 1, plan.supply
    runs = [(s.start_day, s.end_day, s.doses) for s in plan.steps if s.phase != "stop"]
    products = tuple(p for d in plan.drugs for p in plan.formularies[d.name].products)
    return DEFAULT_SUPPLY_DAYS, supply_periods(runs, DEFAULT_SUPPLY_DAYS, products)


def _date_range(plan: Plan, first_day: int, last_day: int) -> str:
    return f"{plan.date_of(first_day).isoformat()} to {plan.date_of(last_day).isoformat()}"


def _step_dose_text(step: Step, slot: str) -> str:
    """A step table's cell: ``"10 mg"``; each drug named while more than one is taken
    (``"lorazepam 1 mg"``), the number always with its unit."""
    doses = _taken(step.doses, slot)
    if not doses:
        return "-"
    named = len(step.totals_by_drug()) > 1
    return "\n".join(
        _unbroken(f"{d.drug} {format_dose(d.dose_mg)}" if named else format_dose(d.dose_mg))
        for d in doses
    )


def _step_total_text(step: Step) -> str:
    """A step table's mg/day: ``"40"``; with more than one drug, each named, ``"lorazepam
    3 mg +"`` / ``"diazepam 10 mg"``, so that two totals never read as one number."""
    totals = step.totals_by_drug()
    if len(totals) <= 1:
        return "\n".join(format_number(total) for total in totals.values()) or "0"
    return f"{NBSP}+\n".join(
        _unbroken(f"{drug} {format_dose(total)}") for drug, total in totals.items()
    )


#: The size of the prescriber's tables and sources (points).
CLINICIAN_TABLE_PT = 9
#: The size of the notes on where the patient wording comes from (points): references.
REFERENCE_PT = 8
#: The most products the supply table gives a column each (more: a line of text each period).
SUPPLY_COLUMNS = 5


def _supply_table(pdf: Any, plan: Plan, periods: tuple[SupplyPeriod, ...], size: float) -> None:
    """A row per supply period: a column per product, or the quantities as text when the
    plan uses more products than fit."""
    products = list(dict.fromkeys(item.product for p in periods for item in p.items))
    period_width = pdf.get_string_width("2027-01-04 to 2027-01-31") + 4
    by_column = len(products) <= SUPPLY_COLUMNS
    widths = (
        [(WIDTH_MM - period_width) / max(1, len(products))] * len(products)
        if by_column
        else [WIDTH_MM - period_width]
    )
    with pdf.table(
        col_widths=(period_width, *widths),
        width=WIDTH_MM,
        text_align="LEFT",
        line_height=size * 0.42,
        padding=0.3,
        headings_style=_bold(),
    ) as table:
        if by_column:
            table.row([
                "Period",
                *(_hyphenated(pdf, _unbroken((f"{p.drug} " if plan.is_substitution else "")
                                             + _pharmacy_label(p)), widths[0] - 1)
                  for p in products),
            ])  # fmt: skip
        else:
            table.row(["Period", "Quantity"])
        for period in periods:
            amounts = {item.product: item for item in period.items}
            dates = _date_range(plan, period.start_day, period.end_day)
            if by_column:
                table.row([
                    dates,
                    *(amounts[p].amount_text() if p in amounts else "-" for p in products),
                ])  # fmt: skip
                continue
            items = "; ".join(
                (f"{i.product.drug} " if plan.is_substitution else "")
                + f"{i.product.label()}: {i.amount_text()}"
                for i in period.items
            )
            table.row([dates, items or "nothing"])


def _clinician_tables(pdf: Any, plan: Plan) -> None:
    """The pharmacist's facts: what to dispense per supply period, and the step table."""
    from fpdf.fonts import FontFace

    days, periods = supply_by_period(plan)
    _paragraph(
        pdf,
        f"To dispense, per {days}-day supply period (split tablets' other halves carried over"
        + ("" if plan.supply else f"; {DEFAULT_SUPPLY_DAYS} days as no supply period was set")
        + ")",
        "B",
        11,
    )
    size = CLINICIAN_TABLE_PT
    pdf.set_font(FONT_NAME, "", size)
    _supply_table(pdf, plan, periods, size)
    pdf.ln(2)
    _keep_room(pdf, 30)
    _paragraph(pdf, "Steps", "B", 11)
    slots = plan.slots
    pdf.set_font(FONT_NAME, "", size)
    widths = (pdf.get_string_width(text) + 2 for text in ("99", "2027-01-04 to 2027-01-31",
                                                            "crossover"))  # fmt: skip
    fixed = tuple(widths)
    # a switch's mixed total on two lines: "lorazepam 3 mg +" / "diazepam 10 mg"
    total = pdf.get_string_width(f"lorazepam 3{NBSP}mg{NBSP}+") + 2 if plan.is_substitution else 18
    slot_width = (WIDTH_MM - sum(fixed) - total) / len(slots)
    runs = single_drug_runs([(s, s.start_day, s.end_day) for s in plan.steps if s.phase != "stop"])
    with pdf.table(
        col_widths=(*fixed, *([slot_width] * len(slots)), total),
        width=WIDTH_MM,
        text_align="LEFT",
        line_height=size * 0.42,
        padding=0.3,
        headings_style=FontFace(emphasis="BOLD"),
    ) as table:
        table.row(["#", "Dates", "Phase", *(slot.capitalize() for slot in slots), "mg/day"])
        for index, step in enumerate(plan.steps):
            if plan.is_substitution and index in runs:
                drug, first, last = runs[index]
                upto = next(s.number for s in plan.steps if s.end_day == last)
                numbers = f"Step {upto}" if upto == step.number else f"Steps {step.number}-{upto}"
                row = table.row()
                row.cell(
                    f"{numbers}, {_date_range(plan, first, last)}: {drug} only",
                    colspan=len(slots) + 4,
                    style=FontFace(emphasis="BOLD"),
                )
            if step.phase == "stop":
                when = plan.date_of(step.start_day).isoformat()
                table.row([str(step.number), f"from {when}", "stop", *(["-"] * len(slots)), "0"])
                continue
            phase = PHASE_WORDS.get(step.phase, str(step.phase))
            if step.hold_days == step.days:
                phase = "hold"
            table.row([
                str(step.number),
                _date_range(plan, step.start_day, step.end_day),
                phase,
                *(_hyphenated(pdf, _step_dose_text(step, slot), slot_width - 1)
                  for slot in slots),
                _hyphenated(pdf, _step_total_text(step), total - 1),
            ])  # fmt: skip
    pdf.ln(2)


def _clinician_page(pdf: Any, plan: Plan) -> None:
    """The prescriber's and pharmacist's pages: the plan, its warnings and revisions, what to
    dispense, the steps, where the patient wording comes from, and signatures."""
    pdf.add_page()
    _heading(pdf, "For the prescriber and pharmacist", 16)
    checks = plan.checks
    last_dose = plan.date_of(checks.duration_days)
    _paragraph(
        pdf,
        f"{plan.regimen_text()} Plan: {checks.duration_days} days, {checks.reductions} "
        f"reductions, ending with {plan.drug.name}; last dose {last_dose.isoformat()}, first "
        f"day without {plan.drug.name} {checks.end_date.isoformat()}; equivalence source: "
        f"{plan.source.title}.",
        size=11,
    )
    if plan.warnings:
        _paragraph(pdf, "Warnings", "B", 11)
        for warning in plan.warnings:
            _paragraph(pdf, f"•  {warning.message}", size=10, gap=1)
    for note in plan.cutting_notes():
        _paragraph(pdf, f"•  {note}", size=10, gap=1)
    if plan.revisions:
        _paragraph(pdf, "Revisions", "B", 11)
        for revision in plan.revisions:
            _paragraph(
                pdf,
                f"•  Revision {revision.number} from {revision.on.isoformat()}: "
                f"{revision.description}. Replaces the plan with sha256 "
                f"{revision.replaces_sha256[:16]}..."
                + "".join(f" {note}." for note in revision.notes),
                size=10,
                gap=1,
            )
    _clinician_tables(pdf, plan)
    _keep_room(pdf, 30)
    _paragraph(pdf, "Where the patient wording comes from", "B", 11)
    for source in sources_used(plan):
        _paragraph(
            pdf,
            f"{source.topic}: {source.citation} (grade {source.grade}). {source.confirmed}",
            size=REFERENCE_PT,
            gap=1,
        )
    for text in (DIARY_SOURCES, REVIEW_RULE, f"Plan sha256 {plan.content_sha256()}."):
        _paragraph(pdf, text, size=REFERENCE_PT, gap=1)
    pdf.ln(2)
    _keep_room(pdf, 3 * (12 * 0.45 + 2))  # the three lines below
    _paragraph(pdf, "Drafted with taper; not a prescription until signed.", size=12)
    for who in ("Prescriber", "Pharmacist"):
        _paragraph(pdf, f"{who}: ________________  Signature: ____________  Date: ________", "", 12)


def _pharmacy_label(product: Product) -> str:
    """``"0.125 mg ODT"``, ``"0.5 mg tablet (scored)"``: a product as a pharmacist writes it."""
    return product.label().replace(FORM_WORDS["odt"], "ODT")


def _dates_table(
    pdf: Any,
    date_width: float,
    width: float,
    columns: int,
    padding: float = 1.5,
    size: float = BODY_PT,
    **extra: Any,
) -> Any:
    """A table of a dates column and ``columns`` columns ``width`` wide (the steps overview,
    the day-by-day sheet, the reviews), in the handout's body text (or ``size``)."""
    from fpdf.fonts import FontFace

    pdf.set_font(FONT_NAME, "", size)
    return pdf.table(
        col_widths=(date_width, *([width] * columns)),
        width=WIDTH_MM,
        text_align="LEFT",
        line_height=size * 0.45,
        padding=padding,
        headings_style=FontFace(emphasis="BOLD"),
        **extra,
    )
