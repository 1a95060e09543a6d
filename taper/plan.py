"""What a plan is: the request that defines it, its steps and days, checks and quantities.

Plain, immutable data (dataclasses, and a named tuple for the many day rows), built by the
engine (:mod:`taper.engine`) and turned into records, CSV and pictures by the output modules
above it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from taper.convert import Conversion
from taper.formatting import format_dose, format_dose_range, is_exact, to_decimal
from taper.guardrails import RiskAssessment
from taper.notices import Notice
from taper.options import TaperRequest
from taper.products import Formulary, Preparation, Product
from taper.rational import Fraction
from taper.readonly import ReadOnlyMappings
from taper.table import Drug, EquivalenceSource, EquivalenceTable


class Phase(StrEnum):
    """What a stretch of a plan does (``phase`` in every output)."""

    CROSSOVER = "crossover"
    STABILIZATION = "stabilization"
    TAPER = "taper"
    #: The days a dose is held longer (day rows only).
    HOLD = "hold"
    STOP = "stop"


@dataclass(frozen=True)
class DoseTime:
    drug: str
    slot: str
    dose_mg: Decimal
    preparation: Preparation


@dataclass(frozen=True)
class Step:
    """A stretch of days at one regimen. Step 1 is the current regimen."""

    number: int
    start_day: int
    days: int
    doses: tuple[DoseTime, ...]
    total_mg: Decimal
    #: The cut from the previous step, in percent of its daily total (None for step 1).
    cut_percent: Decimal | None
    phase: Phase  # crossover, stabilization, taper or stop
    hold_days: int = 0
    #: The products forced a cut larger than the method's pace.
    forced: bool = False
    #: The 14 days ending with this step's first day cut more than the guideline ceiling.
    exceeds_ceiling: bool = False
    notes: tuple[str, ...] = ()

    @property
    def end_day(self) -> int:
        return self.start_day + self.days - 1

    def totals_by_drug(self) -> dict[str, Decimal]:
        """Daily total of each drug taken in this step (drugs at zero left out)."""
        totals: dict[str, Decimal] = {}
        for dose in self.doses:
            if dose.dose_mg:
                totals[dose.drug] = totals.get(dose.drug, Decimal(0)) + dose.dose_mg
        return totals


class Day(NamedTuple):
    """One day of a plan (a named tuple: there are hundreds per plan)."""

    day: int
    date: dt.date
    step: int
    phase: Phase
    doses: tuple[DoseTime, ...]
    total_mg: Decimal


@dataclass(frozen=True)
class Checks:
    duration_days: int
    reductions: int
    end_date: dt.date
    largest_14_day_reduction_percent: Decimal
    largest_14_day_window_start: int
    first_14_day_reduction_percent: Decimal
    stop_from_mg: Decimal
    smallest_dose_mg: Decimal


@dataclass(frozen=True)
class DispensedProduct:
    product: Product
    #: Whole tablets or capsules (a split tablet's other half serves a later dose), or mL.
    quantity: Decimal
    unit: str  # "tablets", "capsules" or "mL"

    def amount_text(self) -> str:
        """``"12 tablets"``, ``"1,367.8 mL"``."""
        if self.unit == "mL":
            return format_dose(self.quantity, "mL")
        unit = self.unit.removesuffix("s") if self.quantity == 1 else self.unit
        return f"{self.quantity} {unit}"


@dataclass(frozen=True)
class SupplyPeriod:
    start_day: int
    end_day: int
    items: tuple[DispensedProduct, ...]

    def days_text(self) -> str:
        """``"Days 1-28"``."""
        return f"Days {self.start_day}-{self.end_day}"

    def when_text(self, first_date: dt.date | None) -> str:
        """The period's dates when day 1 has one (``"2027-01-04 to 2027-01-31"``, as the
        handout's prescriber page and the check report give dates), else its day numbers
        (``"Days 1-28"``)."""
        if first_date is None:
            return self.days_text()
        first, last = (
            first_date + dt.timedelta(days=day - 1) for day in (self.start_day, self.end_day)
        )
        return f"{first.isoformat()} to {last.isoformat()}"

    def items_text(self) -> str:
        """``"56 × clonazepam 0.5 mg tablet; 140 mL of clonazepam 0.5 mg/5 mL solution"``."""
        return (
            "; ".join(
                format_dose(item.quantity, "mL")
                + f" of {item.product.drug} {item.product.short_label()}"
                if item.unit == "mL"
                else f"{item.quantity} × {item.product.drug} {item.product.short_label()}"
                for item in self.items
            )
            or "nothing"
        )


@dataclass(frozen=True)
class Revision:
    """One revision of a running plan (:mod:`taper.revise`): from ``on``, the plan changed.

    ``parameters`` are what rebuilds it from the plan it replaces (JSON-ready: numbers as
    Decimal or int, dates as text), ``replaces_sha256`` that plan's checksum.
    """

    number: int
    on: dt.date
    action: str  # "hold", "back", "taken" or "pace"
    description: str
    reason: str | None
    replaces_sha256: str
    replaces_start: dt.date
    parameters: Mapping[str, Any]
    #: What the prescriber should know about the revision (a patient's own fast cut...).
    notes: tuple[str, ...] = ()
    #: The pace the plan goes on at from this revision (the method's request from the
    #: revision's date; a hold keeps the pace before it). Rebuilt with the revision.
    pace: TaperRequest | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Plan(ReadOnlyMappings):
    """A day-by-day plan: the steps, the checks, what to dispense, and how it was made.

    ``drug`` is the drug tapered (after a crossover, the new one); ``drugs`` every drug in the
    plan, current drugs first.
    """

    request: TaperRequest
    drug: Drug
    drugs: tuple[Drug, ...]
    source: EquivalenceSource
    formularies: Mapping[str, Formulary]
    slots: tuple[str, ...]
    start_date: dt.date
    start_is_default: bool
    steps: tuple[Step, ...]
    checks: Checks
    warnings: tuple[Notice, ...]
    dispensing: tuple[DispensedProduct, ...]
    supply: tuple[SupplyPeriod, ...]
    #: The resolved pace when a target end was given.
    resolved_pace: str | None
    #: Diazepam mg per mg of each drug under the source (low, high), or None if it has none.
    ratios: Mapping[str, tuple[Fraction, Fraction] | None]
    #: The equivalence table the plan was made with (its provenance goes into every output).
    table: EquivalenceTable = field(repr=False, compare=False)
    #: For a substitution: the current regimen converted to the new drug under every source.
    conversion: Conversion | None = None
    #: Withdrawal risk and dose band at the start, from the guardrails.
    risk: RiskAssessment | None = None
    #: The revisions that made this plan from the one first drafted, oldest first.
    revisions: tuple[Revision, ...] = ()
    #: The plan this one revises (None for a plan as first drafted).
    replaces: Plan | None = field(default=None, repr=False, compare=False)

    _mappings = ("formularies", "ratios")

    @property
    def revision(self) -> int:
        """This plan's revision number: 0 as first drafted."""
        return self.revisions[-1].number if self.revisions else 0

    def content_sha256(self) -> str:
        """The plan's checksum: SHA-256 of its content (first date, each step's days, phase
        and doses, and its revisions) as canonical text (see :func:`content_checksum`)."""
        return content_checksum(
            self.start_date,
            (
                (
                    step.start_day,
                    step.days,
                    step.hold_days,
                    "hold" if step.hold_days == step.days else step.phase,
                    [
                        (dose.drug, dose.slot, _plain(dose.dose_mg), dose.preparation.text())
                        for dose in step.doses
                    ],
                )
                for step in self.steps
            ),
            (
                (revision.number, revision.on.isoformat(), revision.action,
                 revision.parameters, revision.reason)
                for revision in self.revisions
            ),
        )  # fmt: skip

    @property
    def formulary(self) -> Formulary:
        """The products of the drug tapered."""
        return self.formularies[self.drug.name]

    @property
    def is_substitution(self) -> bool:
        return len(self.drugs) > 1

    def days(self) -> Iterator[Day]:
        """One row per day, from day 1 to the first day without any drug."""
        for step in self.steps:
            for offset in range(step.days):
                day = step.start_day + offset
                phase = step.phase
                if step.hold_days and offset >= step.days - step.hold_days:
                    phase = Phase.HOLD
                yield Day(
                    day=day,
                    date=self.start_date + dt.timedelta(days=day - 1),
                    step=step.number,
                    phase=phase,
                    doses=step.doses,
                    total_mg=step.total_mg,
                )

    def date_of(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day - 1)

    def diazepam_of(self, doses: Iterable[DoseTime]) -> tuple[Decimal, Decimal] | None:
        """The diazepam equivalent of some doses under the plan's source (low, high), in mg
        at 0.001 mg, or None if the source gives no equivalent."""
        value = diazepam_of(doses, self.ratios)
        return None if value is None else (to_decimal(value[0])[0], to_decimal(value[1])[0])

    def diazepam_exact(self, doses: Iterable[DoseTime]) -> tuple[Fraction, Fraction] | None:
        """The same, exactly (for arithmetic on plans)."""
        return diazepam_of(doses, self.ratios)

    def regimen_text(self) -> str:
        """The current regimen in words, so that a split is seen at once:
        ``"clonazepam 1 mg a day: 0.25 mg morning, 0.25 mg midday, 0.5 mg night"``."""
        parts = []
        for drug in self.drugs:
            doses = [d for d in self.steps[0].doses if d.drug == drug.name and d.dose_mg]
            if not doses:
                continue
            total = format_dose(sum((d.dose_mg for d in doses), Decimal(0)))
            times = ", ".join(f"{format_dose(d.dose_mg)} {d.slot}" for d in doses)
            parts.append(f"{drug.name} {total} a day: {times}")
        return "Now: " + "; ".join(parts) + "."

    def cutting_notes(self) -> tuple[str, ...]:
        """What the table says about cutting each product the plan cuts, one sentence each:
        ``"Cutting the diazePAM 2 mg tablet: halving 2 mg tablets is common; off-licence in
        the UK."`` (a prescriber's review: the note was in the table and never shown)."""
        region = self.request.region
        cut = {
            (dose.drug, portion.product)
            for step in self.steps
            for dose in step.doses
            for portion in dose.preparation.portions
            if portion.denominator > 1 and portion.product.note_in(region)
        }
        names = {drug.name: drug.tall_man or drug.name for drug in self.drugs}
        return tuple(
            f"Cutting the {names.get(drug, drug)} {product.short_label()}: "
            f"{product.note_in(region).rstrip('.')}."
            for drug, product in sorted(cut, key=lambda item: (item[0], item[1].strength_mg))
        )

    def doses_text(self, doses: Iterable[DoseTime]) -> str:
        """Doses (of one dose time, or of a day) in words: ``"0.5 mg"``, or one line per drug
        in a substitution; ``"—"`` for none."""
        taken = [dose for dose in doses if dose.dose_mg]
        if not taken:
            return "—"
        if not self.is_substitution:
            return format_dose(sum((dose.dose_mg for dose in taken), Decimal(0)))
        by_drug: dict[str, Decimal] = {}
        for dose in taken:
            by_drug[dose.drug] = by_drug.get(dose.drug, Decimal(0)) + dose.dose_mg
        return "\n".join(f"{format_dose(total)} {drug}" for drug, total in by_drug.items())

    def doses_line(self, doses: Iterable[DoseTime]) -> str:
        """Doses in words on one line, for a sentence: ``"0.5 mg"``, or the drugs of a
        substitution joined, ``"1 mg lorazepam + 10 mg diazepam"``."""
        return " + ".join(self.doses_text(doses).splitlines())

    def diazepam_text(self, doses: Iterable[DoseTime]) -> str:
        value = self.diazepam_exact(doses)
        if value is None:
            return "—"
        text = format_dose_range(*value)
        return text if is_exact(value[0]) and is_exact(value[1]) else f"about {text}"


#: A step as the checksum reads it: first day, days, days of hold, the first day's phase,
#: and each dose (drug, dose time, mg as plain text, what to take).
ContentStep = tuple[int, int, int, str, Iterable[tuple[str, str, str, str]]]
#: A revision as the checksum reads it: number, date, action, parameters, reason.
ContentRevision = tuple[int, str, str, Mapping[str, Any], "str | None"]


def content_checksum(
    start_date: dt.date, steps: Iterable[ContentStep], revisions: Iterable[ContentRevision]
) -> str:
    """SHA-256 of a plan's content as canonical text: a first line naming the format and the
    first date, a line per step (``start days hold phase`` and its doses as
    ``drug|slot|mg|take``), a line per revision (number, date, action, parameters sorted,
    reason). What a plan file says of its steps and revisions gives it back, so a file can be
    checked without rebuilding its plan."""
    lines = [f"taper plan content 1; start {start_date.isoformat()}"]
    for start, days, hold, phase, doses in steps:
        text = " ".join("|".join(dose) for dose in doses)
        lines.append(f"{start} {days} {hold} {phase} {text}")
    for number, on, action, parameters, reason in revisions:
        lines.append(f"revision {number} {on} {action} {_canonical(parameters)} {reason or ''}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _canonical(value: object) -> str:
    """Recorded parameters as one text, whatever the exponent of their Decimals."""
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}={_canonical(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def _plain(value: Decimal) -> str:
    """``Decimal("0.750")`` -> ``"0.75"``, ``Decimal("10")`` -> ``"10"`` (never exponents)."""
    return f"{value.normalize():f}"


def diazepam_of(
    doses: Iterable[DoseTime], ratios: Mapping[str, tuple[Fraction, Fraction] | None]
) -> tuple[Fraction, Fraction] | None:
    low = high = Fraction(0)
    for dose in doses:
        if not dose.dose_mg:
            continue
        ratio = ratios.get(dose.drug)
        if ratio is None:
            return None
        low += ratio[0] * Fraction(dose.dose_mg)
        high += ratio[1] * Fraction(dose.dose_mg)
    return low, high
