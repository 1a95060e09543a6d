"""What to dispense: quantities of each product over a plan or a supply period.

Split pieces are pooled: a tablet split for one dose leaves its other half for a later one,
so halves are never rounded up per day, only once over the run (or carried across periods).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from taper.plan import DispensedProduct, DoseTime, SupplyPeriod
from taper.products import MEASURABLE_CONCENTRATE_ML, Formulary, Preparation, Product
from taper.rational import Fraction


class DosePreparer:
    """How to make each dose of a plan, taken in day order: a dose a tablet or capsule makes
    comes from it until its dose time has started a liquid (a liquid only where the solids
    cannot make the dose); once a dose time's doses come from a liquid, every later dose
    there that the same liquid measures comes from it too, so that a patient does not go
    from the bottle back to tablets and back again, and never takes two liquids at one dose
    time. Other dose times are not moved to the bottle by it (an unchanged night tablet
    stays a tablet), and neither is a dose carried unchanged from a crossover (a converted
    dose a liquid makes exactly): a dose time starts a bottle with a dose of its own taper."""

    def __init__(self, formularies: Mapping[str, Formulary]) -> None:
        self.formularies = formularies
        #: The liquid each (drug, dose time) has started.
        self.liquid: dict[tuple[str, str], Product] = {}
        #: The last dose of each (drug, dose time), and whether it was outside the taper.
        self.last: dict[tuple[str, str], tuple[Decimal, bool]] = {}

    def prepare(
        self, drug: str, dose: Decimal, *, taper: bool = True, slot: str = ""
    ) -> Preparation | None:
        """How to make ``dose`` at ``slot``; doses outside the taper itself (a crossover,
        where a liquid may make a converted dose exactly) neither start nor follow a
        bottle."""
        formulary = self.formularies[drug]
        key = (drug, slot)
        previous = self.last.get(key)
        self.last[key] = (
            dose,
            not taper if previous is None or previous[0] != dose else previous[1],
        )
        if not taper:
            return formulary.preparation(dose)
        bottle = self.liquid.get(key)
        preparation = (
            formulary.liquid_preparation(dose, bottle) if bottle and dose else None
        ) or formulary.preparation(dose)
        carried = previous is not None and previous == (dose, True)  # from a crossover
        if preparation is not None and not carried:
            for portion in preparation.portions:
                if portion.volume_ml is not None:
                    self.liquid.setdefault(key, portion.product)
        return preparation


#: What to do about a dose of a concentrate under a measurable volume.
SMALL_VOLUME_ADVICE = (
    "measure each with the product's own oral syringe or calibrated dropper and check the "
    "volume; a misplaced decimal point is a tenfold dose"
)


def small_volumes(
    doses: Iterable[tuple[int, DoseTime]],
) -> dict[Product, tuple[Decimal, list[int]]]:
    """Doses of a liquid (an oral solution or concentrate) measured in less than 0.5 mL
    (:data:`taper.products.MEASURABLE_CONCENTRATE_ML`): for each liquid, the least volume
    and the numbers (steps or days) given with the doses, in order and once each."""
    small: dict[Product, tuple[Decimal, list[int]]] = {}
    for number, dose in doses:
        for portion in dose.preparation.portions:
            volume = portion.volume_ml
            if volume is None or volume >= MEASURABLE_CONCENTRATE_ML:
                continue
            least, numbers = small.get(portion.product, (volume, []))
            if not numbers or numbers[-1] != number:
                numbers.append(number)
            small[portion.product] = (min(least, volume), numbers)
    return small


def units_used(runs: Iterable[tuple[tuple[DoseTime, ...], int]]) -> dict[Product, Fraction]:
    """Tablets or capsules (a half counts 1/2) or mL of each product over runs of days."""
    # Days taken of each distinct portion, counted in integers; the exact amounts (Fractions)
    # are made once per distinct portion, not once per dose and run.
    days_of: dict[tuple[Product, Decimal | None, int, int], int] = {}
    for doses, days in runs:
        for dose in doses:
            for portion in dose.preparation.portions:
                key = (portion.product, portion.volume_ml, portion.pieces, portion.denominator)
                days_of[key] = days_of.get(key, 0) + days
    units: dict[Product, Fraction] = {}
    for (product, volume_ml, pieces, denominator), days in days_of.items():
        amount = Fraction(volume_ml) if volume_ml is not None else Fraction(pieces, denominator)
        units[product] = units.get(product, Fraction(0)) + amount * days
    return units


def quantities(
    units: Mapping[Product, Fraction], products: Sequence[Product]
) -> tuple[DispensedProduct, ...]:
    items = []
    for product in products:
        amount = units.get(product, Fraction(0))
        if amount == 0:
            continue
        if product.is_liquid:
            quantity = Decimal(amount.numerator) / Decimal(amount.denominator)
            items.append(DispensedProduct(product, quantity, "mL"))
        else:
            unit = "capsules" if product.form == "capsule" else "tablets"
            items.append(DispensedProduct(product, Decimal(math.ceil(amount)), unit))
    return tuple(items)


def supply_periods(
    runs: Sequence[tuple[int, int, tuple[DoseTime, ...]]], period: int, products: Sequence[Product]
) -> tuple[SupplyPeriod, ...]:
    """What to dispense for each period of ``period`` days, over runs of days at the same
    doses (first day, last day, doses), from the first run to the last.

    Split pieces carry over: each period dispenses the whole tablets needed up to its end
    less those dispensed before, so the other half of a tablet split at the end of one
    period serves the next.
    """
    first_day = min(start for start, _, _ in runs)
    last_day = max(end for _, end, _ in runs)
    periods = []
    dispensed: dict[Product, Fraction] = {}
    for first in range(first_day, last_day + 1, period):
        last = min(first + period - 1, last_day)
        needed = units_used(
            (doses, min(last, end) - start + 1) for start, end, doses in runs if start <= last
        )
        this_period = {}
        for product, amount in needed.items():
            whole = amount if product.is_liquid else Fraction(math.ceil(amount))
            this_period[product] = whole - dispensed.get(product, Fraction(0))
            dispensed[product] = whole
        periods.append(SupplyPeriod(first, last, quantities(this_period, products)))
    return tuple(periods)
