"""The current regimen and the products it is made from.

Which products a plan uses for each drug (the region's, or those given), whether the current
doses can be made and are within the usual maximum, and how a daily total is split over dose
times.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal

from taper.doses import parse_dose
from taper.errors import HighDoseError, InvalidRequestError, UndispensableDoseError, literal
from taper.formatting import dose_argument, format_dose
from taper.guideline import prescribing_step
from taper.options import End, TaperRequest
from taper.params import SLOTS, TIMES, parse_regimen
from taper.products import Formulary, formulary_for, parse_product, product_drug
from taper.rational import Fraction
from taper.table import Drug, EquivalenceTable, ratio_to_diazepam


def request_formulary(table: EquivalenceTable, drug: Drug, request: TaperRequest) -> Formulary:
    """The products used for ``drug`` in a plan (see :func:`products_for`)."""
    tapered = table.drug(request.switch_to or request.drug).name
    return products_for(table, drug, request.region, request.products, tapered)


def check_products_belong(
    table: EquivalenceTable, given: Sequence[str], drugs: Sequence[str]
) -> None:
    """Refuse a given product that names a drug the plan does not use: it would be ignored."""
    for text in given:
        named = product_drug(text)
        if named and table.drug(named).name not in drugs:
            raise InvalidRequestError(
                f"product {text!r} is a product of {table.drug(named).name}, which this plan "
                f"does not use ({' and '.join(drugs)})"
            )


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
    spelled: dict[tuple[object, ...], str] = {}
    for text in given:
        named = product_drug(text)
        owner = table.drug(named).name if named else default_drug
        if owner == drug.name:
            product = parse_product(text, drug.name, named)
            # A product given twice (however spelled, scored or not) is refused, neither
            # listed twice nor quietly once: the second was most likely meant to be another
            # product (a 0.5 mg tablet, say), and the prescriber should see the slip.
            same = (product.form, product.strength_mg, product.volume_ml)
            if same in spelled:
                first = spelled[same]
                twice = (
                    f"{first!r} twice"
                    if first == text
                    else f"the same product twice, {first!r} and {text!r}"
                )
                raise InvalidRequestError(
                    f"{{products}} gives {literal(twice)}: give each product once",
                    parameters={"products": None},
                )
            spelled[same] = text
            mine.append(product)
    if mine:
        return formulary_for(drug.name, tuple(mine))
    products = drug.products_in(region)
    if not products:
        regions = sorted({region for p in drug.products for region in p.regions})
        where = f" (products are listed for: {', '.join(regions)})" if regions else ""
        example = (
            f", e.g. '{drug.name} {drug.products[0].label()}' if it is dispensed there"
            if drug.products
            else f" ('{drug.name} STRENGTH FORM', e.g. the tablet the patient has)"
        )
        raise InvalidRequestError(
            f"no {drug.name} products are listed for {{region}}{where}; "
            f"give the products dispensed with {{products}}{literal(example)}",
            parameters={"region": str(region), "products": None},
        )
    return formulary_for(drug.name, products)


def check_regimen(
    drug: Drug, regimen: Mapping[str, Decimal], formulary: Formulary, request: TaperRequest
) -> None:
    """The current doses: not above the usual maximum (unless allowed), and dispensable."""
    total = sum(regimen.values(), Decimal(0))
    limit = drug.maximum(request.region)
    if limit and total > limit.mg and not request.allow_high_dose:
        raise HighDoseError(drug.name, format_dose(total), format_dose(limit.mg), limit.note)
    for slot, dose in regimen.items():
        if not formulary.can_make(dose):
            raise UndispensableDoseError(
                f"{drug.name} {format_dose(dose)} ({slot}) cannot be made from "
                f"{formulary.describe()}; give the products with {{products}}",
                parameters={"products": None},
            )


#: When a daily total is split unevenly, which dose times take the larger doses: night first
#: (the largest dose at bedtime, as labels and Ashton's schedules give it), then morning,
#: then the later daytime doses (which a daytime-first taper reduces first).
SPLIT_PREFERENCE = ("night", "morning", "evening", "afternoon", "midday")


def dose_step(
    request: TaperRequest, ratio: tuple[Fraction, Fraction] | None, formulary: Formulary
) -> Fraction | None:
    """The plan's doses come in multiples of this (mg), as a prescriber writes them: about
    1 mg diazepam equivalent, on the products' grid (no 9.7 mg of diazepam as 9.7 mL, no
    8.5 mg as three pieces). None with ``--end micro`` or without a diazepam equivalent."""
    if request.end is End.MICRO or ratio is None:
        return None
    return prescribing_step(ratio[0], formulary)


def split_daily_dose(
    total: Decimal,
    slots: Sequence[str],
    formulary: Formulary,
    dose_step: Fraction | None = None,
) -> dict[str, Decimal]:
    """Split a daily total over dose times as a prescriber writes it.

    Among the splits near an even one, the fewest doses that need a liquid come first, then
    the fewest that are not *simple* (at most four whole or half tablets or capsules of one
    form and at most two products: clonazepam 4 mg over 3 is 1.25 + 1.25 + 1.5 mg, not
    1.375 + 1.25 + 1.375 mg from tablets and orally disintegrating tablets of three
    strengths), then the fewest doses off the grid of half the smallest tablet (a liquid
    measures 0.25 mg, not 0.35 mg, where tablets halve to 0.25 mg); then the most even (the
    smallest largest difference from an even split); among equally even splits the larger
    doses go to night, then morning.
    """
    if len(slots) == 1:
        return {slots[0]: total}
    split = _remembered_split(Fraction(total), tuple(slots), formulary, dose_step)
    if split is None and Fraction(total) % formulary.quantum:
        raise UndispensableDoseError(
            f"{formulary.drug} {format_dose(total)} cannot be made from {formulary.describe()}"
        )
    if split is None:
        remedy, parameters = _fewer_times(total, len(slots), formulary, dose_step)
        raise UndispensableDoseError(
            f"{format_dose(total)} cannot be split over {len(slots)} dose times with "
            f"{literal(formulary.describe())}; {remedy}",
            parameters=parameters,
        )
    return dict(split)


def _fewer_times(
    total: Decimal, count: int, formulary: Formulary, dose_step: Fraction | None
) -> tuple[str, dict[str, object]]:
    """The remedy for a total that cannot be split over ``count`` dose times: doses per dose
    time at the most dose times that can take it (a split worked out, so it can be made), or
    the total at one dose time."""
    for fewer in range(count - 1, 1, -1):
        split = _remembered_split(Fraction(total), TIMES[fewer], formulary, dose_step)
        if split is not None:
            doses = ",".join(f"{slot}={dose_argument(dose)}" for slot, dose in split)
            return literal(f"give the doses per dose time, such as '{doses}'"), {}
    return "give it at one dose time, {times}", {"times": 1}


@functools.lru_cache(maxsize=4096)
def _remembered_split(
    total: Fraction, slots: tuple[str, ...], formulary: Formulary, dose_step: Fraction | None
) -> tuple[tuple[str, Decimal], ...] | None:
    """The split of :func:`split_daily_dose` (None if there is none), remembered for the last
    4,096 questions: it depends only on the exact total, the dose times, the products (a
    Formulary is equal to another of the same drug and products) and the step."""
    order = sorted(slots, key=SPLIT_PREFERENCE.index)
    quantum = formulary.quantum
    if total % quantum:  # no doses the products make add up to it (never rounded down)
        return None
    whole = int(total / quantum)
    units = [u for u in formulary.ladder_units(_mg(total), dose_step) if u]
    best = _prescribable_split(whole, len(order), units, formulary)
    if best is None:
        # No split on the prescribing step (diazepam 2.5 mg over 2 needs a 1.5 mg dose): any
        # doses the products make, as the same preferences rank them (a fresh user's review:
        # 2.5 mg over 2 was refused, while 'morning=1mg,night=1.5mg' planned).
        makeable = [u for u in range(1, whole + 1) if formulary.can_make(quantum * u)]
        best = _prescribable_split(whole, len(order), makeable, formulary, every_kind=True)
        if best is None:
            best = _any_split(whole, len(order), makeable, formulary)
    if best is None:
        return None
    split = {slot: _mg(quantum * u) for slot, u in zip(order, best, strict=True)}
    return tuple((slot, split[slot]) for slot in SLOTS if slot in split)


def _mg(amount: Fraction) -> Decimal:
    return Decimal(amount.numerator) / Decimal(amount.denominator)


def _dose_kind(units: int, formulary: Formulary, grid: Fraction) -> tuple[int, int, int]:
    """(needs a liquid, is not simple, is off the ``grid`` of half the smallest tablet) of a
    dose, each 0 or 1."""
    quantum = formulary.quantum
    preparation = formulary.preparation(quantum * units)
    off_grid = int((quantum * units) % grid != 0)
    if preparation is None or any(p.volume_ml is not None for p in preparation.portions):
        return 1, 1, off_grid
    portions = preparation.portions
    simple = (
        all(portion.denominator <= 2 for portion in portions)
        and len({portion.product for portion in portions}) <= 2
        and sum(portion.pieces for portion in portions) <= 4
        and len({portion.product.form for portion in portions}) == 1
    )
    return 0, int(not simple), off_grid


def _prescribable_split(
    total: int,
    count: int,
    doses: Sequence[int],
    formulary: Formulary,
    *,
    every_kind: bool = False,
) -> tuple[int, ...] | None:
    """The split of ``total`` (in quanta) into ``count`` doses (dose times in order of
    preference) that :func:`split_daily_dose` describes, from the ``doses`` near the even
    share (the four nearest of each kind among the twelve nearest, or with ``every_kind``
    among all the ``doses``: a tablet dose 2.5 mg from the even share comes before liquid
    doses 0.1 mg from it); None if none adds up. Counted in integers: ``count * dose -
    total`` is the difference from the even share, scaled by ``count``."""
    solids = [p for p in formulary.products if not p.is_liquid]
    grid = min((Fraction(p.strength_mg) / 2 for p in solids), default=formulary.quantum)
    # The doses nearest the even share (a day-1 split far from even is never the answer).
    nearest = sorted(doses, key=lambda dose: (abs(count * dose - total), dose))
    if not every_kind:
        nearest = nearest[:12]
    kinds = {dose: _dose_kind(dose, formulary, grid) for dose in nearest}
    near: list[int] = []
    for rank in sorted(set(kinds.values())):  # the nearest doses of each kind
        near += [dose for dose in nearest if kinds[dose] == rank][:4]
    allowed = set(doses)
    score: dict[int, tuple[int, int, int, int]] = {}

    def scored(dose: int) -> tuple[int, int, int, int]:
        if dose not in score:
            score[dose] = (*_dose_kind(dose, formulary, grid), abs(count * dose - total))
        return score[dose]

    best: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    for combination in itertools.product(sorted(set(near)), repeat=count - 1):
        last = total - sum(combination)
        if last not in allowed:
            continue
        # The larger doses first (to the dose times preferred for them), whichever of them
        # was the one left over: the counts and the evenness do not depend on the order.
        chosen = tuple(sorted((*combination, last), reverse=True))
        scores = [scored(dose) for dose in chosen]
        key = (
            sum(s[0] for s in scores),
            sum(s[1] for s in scores),
            sum(s[2] for s in scores),
            max(s[3] for s in scores),
            *(-dose for dose in chosen),
        )
        if best is None or key < best[0]:
            best = (key, chosen)
    return None if best is None else best[1]


def _any_split(
    total: int, count: int, doses: Sequence[int], formulary: Formulary
) -> tuple[int, ...] | None:
    """The split of :func:`_prescribable_split` found among all the ``doses``, not only those
    near the even share; None only if no ``count`` of them add up to ``total``.

    Larger doses go first (to the dose times preferred for them), so each split is searched
    once, largest first; a partial split goes on only while what is left can still be made by
    the doses left to choose (the sums each number of doses reaches, as bits).
    """
    allowed = sorted(set(doses), reverse=True)
    reach = [1]  # reach[k]: bit s set when some k doses add up to s
    for _ in range(count - 1):
        sums = 0
        for dose in allowed:
            sums |= reach[-1] << dose
        reach.append(sums & ((1 << (total + 1)) - 1))
    solids = [p for p in formulary.products if not p.is_liquid]
    grid = min((Fraction(p.strength_mg) / 2 for p in solids), default=formulary.quantum)
    best: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    def search(chosen: tuple[int, ...], left: int) -> None:
        nonlocal best
        if len(chosen) == count - 1:
            if left in doses and left <= chosen[-1]:
                split = (*chosen, left)
                scores = [(*_dose_kind(d, formulary, grid), abs(count * d - total)) for d in split]
                key = (
                    *(sum(s[i] for s in scores) for i in range(3)),
                    max(s[3] for s in scores),
                    *(-dose for dose in split),
                )
                if best is None or key < best[0]:
                    best = (key, split)
            return
        remaining = count - len(chosen) - 1
        for dose in allowed:
            if chosen and dose > chosen[-1]:
                continue
            if dose * (remaining + 1) < left:
                break  # the rest, none larger than this one, cannot add up to what is left
            if dose < left and reach[remaining] >> (left - dose) & 1:
                search((*chosen, dose), left - dose)

    search((), total)
    return None if best is None else best[1]


def current_regimen(
    table: EquivalenceTable, drug: Drug, text: str | None, times: int | None, request: TaperRequest
) -> dict[str, Decimal]:
    """One current drug's regimen: doses per dose time, or a daily total split evenly."""
    if text is None:
        raise InvalidRequestError(f"give the dose of {drug.name}")
    if "=" in text:
        if times is not None:
            raise InvalidRequestError(
                "give {times} only with a daily total, not with dose times",
                parameters={"times": times},
            )
        return parse_regimen(text)
    total = parse_dose(text)
    count = times if times is not None else 1
    formulary = request_formulary(table, drug, request)
    # A total no doses of the products add up to is refused at any number of dose times: day
    # 1 is the current regimen (a fresh user's review: temazepam 20 mg x2 from 7.5 mg
    # capsules was split as 7.5 + 7.5 mg, silently).
    unmade = count == 1 or Fraction(total) % formulary.quantum != 0
    if unmade and not formulary.can_make(total):
        raise UndispensableDoseError(
            f"{drug.name} {format_dose(total)} cannot be made from {formulary.describe()}"
        )
    source = table.source(request.source or table.default_source)
    step = dose_step(request, ratio_to_diazepam(table, drug, source), formulary)
    return split_daily_dose(total, TIMES[count], formulary, step)
