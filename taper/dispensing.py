"""What to dispense: quantities of each product over a plan or a supply period.

Split pieces are pooled: a tablet split for one dose leaves its other half for a later one,
so halves are never rounded up per day, only once over the run (or carried across periods).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from taper.plan import DispensedProduct, DoseTime, Step, SupplyPeriod
from taper.products import Product


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
    steps: Sequence[Step], period: int, products: Sequence[Product]
) -> tuple[SupplyPeriod, ...]:
    """What to dispense for each period of ``period`` days, from day 1 to the stop.

    Split pieces carry over: each period dispenses the whole tablets needed up to its end
    less those dispensed before, so the other half of a tablet split at the end of one
    period serves the next.
    """
    last_day = steps[-1].start_day - 1
    periods = []
    dispensed: dict[Product, Fraction] = {}
    for first in range(1, last_day + 1, period):
        last = min(first + period - 1, last_day)
        needed = units_used(
            (step.doses, min(last, step.end_day) - step.start_day + 1)
            for step in steps
            if step.start_day <= last and step.phase != "stop"
        )
        this_period = {}
        for product, amount in needed.items():
            whole = amount if product.is_liquid else Fraction(math.ceil(amount))
            this_period[product] = whole - dispensed.get(product, Fraction(0))
            dispensed[product] = whole
        periods.append(SupplyPeriod(first, last, quantities(this_period, products)))
    return tuple(periods)
