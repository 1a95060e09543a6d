"""The current regimen and the products it is made from.

Which products a plan uses for each drug (the region's, or those given), whether the current
doses can be made and are within the usual maximum, and how a daily total is split over dose
times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from taper.doses import parse_dose
from taper.errors import HighDoseError, InvalidRequestError, UndispensableDoseError
from taper.formatting import format_dose
from taper.options import TaperRequest
from taper.params import SLOTS, TIMES, parse_regimen
from taper.products import Formulary, formulary_for, parse_product, product_drug
from taper.table import Drug, EquivalenceTable


def request_formulary(table: EquivalenceTable, drug: Drug, request: TaperRequest) -> Formulary:
    """The products used for ``drug`` in a plan (see :func:`products_for`)."""
    tapered = table.drug(request.switch_to or request.drug).name
    return products_for(table, drug, request.region, request.products, tapered)


def products_for(
    table: EquivalenceTable,
    drug: Drug,
    region: str,
    given: Sequence[str],
    default_drug: str,
) -> Formulary:
    """The products for ``drug``: those given (``--product``), else the region's.

    A given product naming a drug ("lorazepam 1mg tablet") applies to that drug; one naming
    none applies to ``default_drug``.
    """
    mine = []
    for text in given:
        named = product_drug(text)
        owner = table.drug(named).name if named else default_drug
        if owner == drug.name:
            mine.append(parse_product(text, drug.name, named))
    if mine:
        return formulary_for(drug.name, tuple(mine))
    products = drug.products_in(region)
    if not products:
        regions = sorted({region for p in drug.products for region in p.regions})
        where = f" (products are listed for: {', '.join(regions)})" if regions else ""
        raise InvalidRequestError(
            f"no {drug.name} products are listed for region {region!r}{where}; "
            f"give the products with --product, e.g. --product '{drug.name} 1mg tablet'"
        )
    return formulary_for(drug.name, products)


def check_regimen(
    drug: Drug, regimen: Mapping[str, Decimal], formulary: Formulary, request: TaperRequest
) -> None:
    """The current doses: not above the usual maximum (unless allowed), and dispensable."""
    total = sum(regimen.values(), Decimal(0))
    if drug.max_daily and total > drug.max_daily.mg and not request.allow_high_dose:
        raise HighDoseError(
            drug.name, format_dose(total), format_dose(drug.max_daily.mg), drug.max_daily.note
        )
    for slot, dose in regimen.items():
        if not formulary.can_make(dose):
            raise UndispensableDoseError(
                f"{drug.name} {format_dose(dose)} ({slot}) cannot be made from "
                f"{formulary.describe()}; give the products with --product"
            )


def split_daily_dose(
    total: Decimal, slots: Sequence[str], formulary: Formulary
) -> dict[str, Decimal]:
    """Split a daily total over dose times as evenly as the products allow.

    Every dose time but night gets the same dose, the largest that leaves a night dose the
    products can make and at least as large; night takes the remainder.
    """
    if len(slots) == 1:
        return {slots[0]: total}
    others = [slot for slot in slots if slot != "night"] if "night" in slots else list(slots[:-1])
    last = "night" if "night" in slots else slots[-1]
    share = Fraction(total) / len(slots)
    for dose in reversed(formulary.ladder(Decimal(math.floor(share * 1000)) / 1000)):
        remainder = total - dose * len(others)
        if dose > 0 and remainder >= dose and formulary.can_make(remainder):
            split = dict.fromkeys(others, dose) | {last: remainder}
            return {slot: split[slot] for slot in SLOTS if slot in split}
    raise UndispensableDoseError(
        f"{format_dose(total)} cannot be split over {len(slots)} dose times with "
        f"{formulary.describe()}"
    )


def current_regimen(
    table: EquivalenceTable, drug: Drug, text: str | None, times: int | None, request: TaperRequest
) -> dict[str, Decimal]:
    """One current drug's regimen: doses per dose time, or a daily total split evenly."""
    if text is None:
        raise InvalidRequestError(f"give the dose of {drug.name}")
    if "=" in text:
        if times is not None:
            raise InvalidRequestError("give --times only with a daily total, not with dose times")
        return parse_regimen(text)
    total = parse_dose(text)
    count = times if times is not None else 1
    formulary = request_formulary(table, drug, request)
    if not formulary.can_make(total) and count == 1:
        raise UndispensableDoseError(
            f"{drug.name} {format_dose(total)} cannot be made from {formulary.describe()}"
        )
    return split_daily_dose(total, TIMES[count], formulary)
