"""What a plan is: the request that defines it, its steps and days, checks and quantities.

Plain, immutable data (dataclasses, and a named tuple for the many day rows), built by
:mod:`taper.schedule` and turned into text by :mod:`taper.export` and the command line.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from taper.errors import InvalidRequestError
from taper.formatting import format_dose_range, is_exact
from taper.guardrails import PatientFactors, RiskAssessment
from taper.params import Hold
from taper.products import Formulary, Preparation, Product
from taper.table import Drug, EquivalenceSource, EquivalenceTable

if TYPE_CHECKING:
    from taper.convert import Conversion


class Method(StrEnum):
    PERCENT = "percent"
    LINEAR = "linear"
    BANDS = "bands"
    STEPS = "steps"
    OCCUPANCY = "occupancy"


class Crossover(StrEnum):
    SLOT = "slot"
    PARTIAL = "partial"
    DIRECT = "direct"


class Order(StrEnum):
    DAYTIME_FIRST = "daytime-first"
    EVEN = "even"
    NIGHT_FIRST = "night-first"


@dataclass(frozen=True)
class TaperRequest:
    """Everything that defines a plan; with the table, it reproduces the plan exactly."""

    drug: str
    regimen: Mapping[str, Decimal]
    method: Method = Method.PERCENT
    rate_percent: Decimal = Decimal(10)
    interval_days: int = 14
    step_mg: Decimal | None = None
    steps_mg: tuple[Decimal, ...] = ()
    slow_below_mg: Decimal | None = None
    slow_rate_percent: Decimal | None = None
    final_mg: Decimal | None = None
    holds: tuple[Hold, ...] = ()
    order: Order = Order.DAYTIME_FIRST
    start: dt.date | None = None
    region: str = "us"
    products: tuple[str, ...] = ()
    source: str | None = None
    ed50_mg: Decimal | None = None
    emax_percent: Decimal = Decimal(100)
    occupancy_step: Decimal = Decimal(5)
    until: dt.date | None = None
    duration_days: int | None = None
    supply_days: int | None = None
    allow_high_dose: bool = False
    #: Substitution: the drug to cross over to, further current drugs and their regimens,
    #: the crossover strategy, stage and stabilisation lengths, and the part moved per stage.
    switch_to: str | None = None
    also: tuple[tuple[str, Mapping[str, Decimal]], ...] = ()
    crossover: Crossover = Crossover.SLOT
    stage_days: int = 7
    stabilize_days: int = 14
    part_mg: Decimal | None = None
    #: How the drug has been used and who takes it (guardrail warnings only), and whether
    #: the cautious defaults were asked for.
    factors: PatientFactors = field(default_factory=PatientFactors)
    cautious: bool = False


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
    phase: str  # "crossover", "stabilization", "taper" or "stop"
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
    phase: str  # "crossover", "stabilization", "taper", "hold" or "stop"
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


@dataclass(frozen=True)
class SupplyPeriod:
    start_day: int
    end_day: int
    items: tuple[DispensedProduct, ...]


@dataclass(frozen=True)
class Plan:
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
    warnings: tuple[str, ...]
    dispensing: tuple[DispensedProduct, ...]
    supply: tuple[SupplyPeriod, ...]
    #: The resolved pace when a target end was given.
    resolved_pace: str | None
    #: Diazepam mg per mg of each drug under the source (low, high), or None if it has none.
    ratios: Mapping[str, tuple[Fraction, Fraction] | None]
    #: For a substitution: the current regimen converted to the new drug under every source.
    conversion: Conversion | None = None
    #: Withdrawal risk and dose band at the start, from the guardrails.
    risk: RiskAssessment | None = None
    #: The equivalence table the plan was made with (its provenance goes into every output).
    table: EquivalenceTable | None = field(default=None, repr=False, compare=False)

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
                    phase = "hold"
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

    def diazepam_of(self, doses: Iterable[DoseTime]) -> tuple[Fraction, Fraction] | None:
        """The diazepam equivalent of some doses under the plan's source (low, high)."""
        return diazepam_of(doses, self.ratios)

    @property
    def summary(self) -> dict[str, Any]:
        """One flat record of the plan: what a researcher compares across scenarios."""
        from taper.export import plan_summary

        return plan_summary(self)

    def to_dict(self) -> dict[str, Any]:
        """The whole plan as plain data: the JSON document of ``taper schedule -f json``."""
        from taper.export import plan_document

        return plan_document(self, self._table())

    def to_csv(self, path: str | os.PathLike[str] | None = None, *, force: bool = False) -> str:
        """The tidy day-level CSV (as ``taper schedule -f csv``); written to ``path`` if given."""
        from taper.export import plan_csv

        text = plan_csv(self, self._table())
        if path is not None:
            from taper.output import write_atomic

            write_atomic(path, text, force=force)
        return text

    def to_dataframe(self) -> Any:
        """The day-level rows as a pandas DataFrame (pandas is not a dependency of taper)."""
        try:
            import pandas
        except ImportError as exc:
            raise InvalidRequestError("to_dataframe needs pandas: pip install pandas") from exc
        import csv as csv_module
        import io

        lines = [line for line in self.to_csv().splitlines() if not line.startswith("#")]
        rows = list(csv_module.DictReader(io.StringIO("\n".join(lines))))
        return pandas.DataFrame(rows)

    def _table(self) -> EquivalenceTable:
        assert self.table is not None, "a plan made by build_plan carries its table"
        return self.table

    def diazepam_text(self, doses: Iterable[DoseTime]) -> str:
        value = self.diazepam_of(doses)
        if value is None:
            return "—"
        text = format_dose_range(*value)
        return text if is_exact(value[0]) and is_exact(value[1]) else f"about {text}"


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
