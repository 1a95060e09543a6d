"""What can be dispensed: products, the doses they can make, and what to take for a dose.

A :class:`Formulary` is the set of products used for one drug in one plan. It answers two
questions exactly: which doses can be made at one dose time (:meth:`Formulary.ladder`), and
how to make a given dose with the fewest, simplest pieces (:meth:`Formulary.preparation`).

A dose is made either from solids (whole tablets or capsules, and halves or quarters of
tablets scored for it) or from one liquid measured in steps of its smallest measurable
volume. Solids and a liquid are not mixed in one dose.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from functools import cached_property

from taper.errors import InvalidRequestError
from taper.formatting import format_dose, format_number, to_decimal
from taper.rational import Fraction


class Form(StrEnum):
    """The forms a product comes in (``form`` in the table and in ``--product``)."""

    TABLET = "tablet"
    ODT = "odt"
    CAPSULE = "capsule"
    SOLUTION = "solution"
    SUSPENSION = "suspension"
    CONCENTRATE = "concentrate"


FORM_WORDS = {
    "tablet": "tablet",
    "odt": "orally disintegrating tablet",
    "capsule": "capsule",
    "solution": "oral solution",
    "suspension": "oral suspension",
    "concentrate": "oral concentrate",
}
#: Forms measured by volume: an oral solution, or a suspension (shaken before measuring).
LIQUID_FORMS = frozenset({Form.SOLUTION, Form.SUSPENSION, Form.CONCENTRATE})
PIECES_PER_UNIT = {"none": 1, "half": 2, "quarter": 4}
#: Cost of one piece by how finely it is cut: whole pieces are preferred, then halves.
_PIECE_COST = {1: 10, 2: 14, 4: 18}
#: The pieces a product can be taken in, by its scoring.
_DENOMINATORS = {"none": (1,), "half": (1, 2), "quarter": (1, 2, 4)}
#: Cost of using one more product in a dose.
_PRODUCT_COST = 15
#: The most products of one drug a plan searches (the bundled table lists at most 8 for a
#: region): the search for what to take grows with the cube of this number.
MAX_PRODUCTS = 10
#: The most quanta (the finest step the products allow) a dose may be made of: bounds the
#: time and memory of the search, whatever strengths are given.
MAX_STEPS = 10_000
#: A dose of a liquid (solution or concentrate) measured in less than this is a tenfold-error
#: risk and is said so in the plan's warnings (issue 21's "measurable 0.5 mL"; a pharmacist's
#: review: UK lorazepam 1 mg/mL solution at 0.1 mL was not flagged because only concentrates
#: were; the markings of syringes and droppers are NOT CONFIRMED).
MEASURABLE_CONCENTRATE_ML = Decimal("0.5")
#: A liquid fills in between solid doses only where their step is more than 1/10 (10%) of
#: the dose.
LIQUID_STEP_DENOMINATOR = 10


@dataclass(frozen=True)
class Product:
    """One marketed (or user-declared) product of a drug."""

    drug: str
    form: Form
    strength_mg: Decimal
    split: str = "none"
    volume_ml: Decimal | None = None
    min_volume_ml: Decimal | None = None
    regions: tuple[str, ...] = ()
    note: str = ""
    #: Where the product's marketing was confirmed (table data; not part of its identity).
    source: str = field(default="", compare=False)
    #: (region, note) for what holds in one region only (table data, as ``source``).
    region_notes: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def note_in(self, region: str) -> str:
        """The note as it holds in ``region``: the note, then the region's own, if any
        (``"halving 2 mg tablets is common; off-licence in the UK"`` in the UK only)."""
        own = [note for where, note in self.region_notes if where == region]
        return "; ".join(note for note in (self.note, *own) if note)

    @property
    def is_liquid(self) -> bool:
        return self.form in LIQUID_FORMS

    @property
    def concentration(self) -> Fraction:
        """mg per mL (liquids only)."""
        assert self.volume_ml is not None
        return Fraction(self.strength_mg) / Fraction(self.volume_ml)

    @property
    def smallest_piece_mg(self) -> Fraction:
        """The smallest amount this product gives: a quarter, half, tablet or measured volume."""
        if self.is_liquid:
            assert self.min_volume_ml is not None
            return self.concentration * Fraction(self.min_volume_ml)
        return Fraction(self.strength_mg) / PIECES_PER_UNIT[self.split]

    def short_label(self) -> str:
        """``"0.5 mg tablet"``, ``"0.125 mg ODT"``, ``"0.5 mg/5 mL solution"``: for what to take."""
        if self.is_liquid:
            return self.label().replace(f"oral {self.form}", self.form)
        form = "ODT" if self.form == "odt" else self.form
        return f"{format_dose(self.strength_mg)} {form}"

    def label(self) -> str:
        """``"0.5 mg tablet (scored)"`` or ``"0.5 mg/5 mL oral solution"``."""
        if self.is_liquid:
            assert self.volume_ml is not None
            volume = "mL" if self.volume_ml == 1 else f"{format_number(self.volume_ml)} mL"
            return f"{format_dose(self.strength_mg)}/{volume} {FORM_WORDS[self.form]}"
        scoring = {"none": "", "half": " (scored)", "quarter": " (quarter-scored)"}[self.split]
        return f"{format_dose(self.strength_mg)} {FORM_WORDS[self.form]}{scoring}"


@dataclass(frozen=True)
class Portion:
    """Part of a dose from one product: whole units and pieces, or a liquid volume."""

    product: Product
    #: Pieces of size 1/denominator of a unit (denominator 1: whole tablets or capsules).
    pieces: int = 0
    denominator: int = 1
    volume_ml: Decimal | None = None

    @property
    def mg(self) -> Fraction:
        if self.volume_ml is not None:
            return self.product.concentration * Fraction(self.volume_ml)
        return Fraction(self.product.strength_mg) * self.pieces / self.denominator

    def text(self) -> str:
        """Words a patient can follow: ``"half of a 0.5 mg tablet"``, ``"2.5 mL of ..."``."""
        label = self.product.short_label()
        if self.volume_ml is not None:
            return f"{format_dose(self.volume_ml, 'mL')} of {label}"
        if self.denominator == 1:
            return f"{self.pieces} × {label}"
        word = {2: "half", 4: "quarter"}[self.denominator]
        if self.pieces == 1:
            return f"{word} of a {label}"
        return f"{self.pieces} {word}s of a {label}"


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Preparation:
    """How to make one dose: portions whose amounts add up to it exactly."""

    dose_mg: Decimal
    portions: tuple[Portion, ...]

    def text(self) -> str:
        """For prescribers and pharmacists: ``"1 × 0.5 mg tablet + half of a 0.5 mg tablet"``."""
        if not self.portions:
            return "nothing"
        return " + ".join(portion.text() for portion in self.portions)

    def words(self, *, short: bool = False) -> str:
        """For patients: ``"one 0.5 mg tablet and half of a 0.5 mg tablet"``. ``short`` for
        a narrow column, with short words a key explains: ``"three 0.125 mg ODTs"``,
        ``"0.25 mL of 2 mg/mL liquid"``."""
        if not self.portions:
            return "nothing"
        parts = []
        for portion in self.portions:
            product = portion.product
            if portion.volume_ml is not None:
                volume = format_dose(portion.volume_ml, "mL")
                if short:
                    strength = product.label().removesuffix(f" {FORM_WORDS[product.form]}")
                    parts.append(f"{volume} of {strength} liquid")
                else:
                    parts.append(f"{volume} of the {product.label()}")
                continue
            form = "ODT" if short and product.form == "odt" else FORM_WORDS[product.form]
            strength = format_dose(product.strength_mg)
            if portion.denominator == 1:
                count = portion.pieces
                number = _NUMBER_WORDS[count] if count < len(_NUMBER_WORDS) else str(count)
                plural = "s" if count > 1 else ""
                parts.append(f"{number} {strength} {form}{plural}")
            else:
                word = {2: "half", 4: "quarter"}[portion.denominator]
                label = f"{strength} {form}"
                if portion.pieces == 1:
                    parts.append(f"{word} of a {label}")
                else:
                    parts.append(f"{portion.pieces} {word}s of a {label}")
        return " and ".join(parts)


def _terminates(value: Fraction) -> bool:
    """Whether a fraction is an exact decimal (its denominator has no factor but 2 and 5)."""
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def _approx(value: Fraction) -> str:
    """A fraction of a mg to six significant figures, for a message."""
    with localcontext(prec=6):
        return str(Decimal(value.numerator) / Decimal(value.denominator))


def _as_decimal(value: Fraction) -> Decimal:
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    assert Fraction(decimal) == value, value
    return decimal


@dataclass(frozen=True)
class Formulary:
    """The products of one drug used in a plan, and the doses they can make.

    Doses are counted internally in whole *quanta* (the finest step the products allow), so
    that the search for what to take is integer arithmetic; results are exact Decimals.
    """

    drug: str
    products: tuple[Product, ...]
    _preparations: dict[int, Preparation | None] = field(
        default_factory=dict, repr=False, compare=False
    )
    _size_cache: dict[tuple[int, ...], tuple[tuple[int, int, int], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _ladders: dict[tuple[int, int, bool], tuple[int, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _dose_ladders: dict[tuple[int, int, bool], tuple[Decimal, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    #: Per combination of products: for each amount, (cost, last piece) of the cheapest way.
    _tables: dict[tuple[int, ...], list[tuple[int, int] | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.products:
            raise InvalidRequestError(
                f"no products are known for {self.drug}; give them with {{products}}",
                parameters={"products": None},
            )
        for product in self.products:
            piece = product.smallest_piece_mg
            if not _terminates(piece):
                what = "its smallest measured volume" if product.is_liquid else "its piece"
                raise InvalidRequestError(
                    f"{product.label()} cannot be measured in exact doses ({what} holds "
                    f"{_approx(piece)}... mg, which no decimal writes exactly)"
                )
        if len(set(self.products)) > MAX_PRODUCTS:
            raise InvalidRequestError(
                f"{len(set(self.products))} products of {self.drug} are more than a plan can "
                f"search (at most {MAX_PRODUCTS}); give the strengths that are dispensed"
            )

    def _require_few_steps(self, units: int) -> None:
        """Bound the search: doses are made from at most MAX_STEPS quanta."""
        if units > MAX_STEPS:
            raise InvalidRequestError(
                f"the {self.drug} products given make doses in steps of "
                f"{format_number(self.quantum)} mg, and "
                f"{format_dose(_as_decimal(self.quantum * units))} would be more than "
                f"{MAX_STEPS:,} such steps; give products with rounder strengths"
            )

    @cached_property
    def quantum(self) -> Fraction:
        """The finest step between doses the products can make."""
        amounts = [
            Fraction(product.strength_mg) / denominator
            for product in self.products
            if not product.is_liquid
            for denominator in _DENOMINATORS[product.split]
        ]
        amounts += [p.smallest_piece_mg for p in self.products if p.is_liquid]
        scale = math.lcm(*(amount.denominator for amount in amounts))
        return Fraction(math.gcd(*(int(amount * scale) for amount in amounts)), scale)

    @cached_property
    def _pieces(self) -> tuple[tuple[int, int, int, int], ...]:
        """(product index, size in quanta, denominator, cost) of every kind of solid piece."""
        return tuple(
            (
                index,
                int(Fraction(product.strength_mg) / denominator / self.quantum),
                denominator,
                _PIECE_COST[denominator],
            )
            for index, product in enumerate(self.products)
            if not product.is_liquid
            for denominator in _DENOMINATORS[product.split]
        )

    @cached_property
    def _liquids(self) -> tuple[tuple[Product, int], ...]:
        """(liquid, quanta per smallest measurable volume), least concentrated first."""
        liquids = [p for p in self.products if p.is_liquid]
        return tuple(
            (liquid, int(liquid.smallest_piece_mg / self.quantum))
            for liquid in sorted(liquids, key=lambda p: p.concentration)
        )

    def _cheapest(self, units: int, subset: tuple[int, ...]) -> int | None:
        """Cost of the cheapest way to make ``units`` from the pieces of ``subset``."""
        table = self._tables.get(subset)
        if table is None:
            table = self._tables[subset] = [(0, -1)]
        sizes = self._sizes(subset)
        for amount in range(len(table), units + 1):
            best: tuple[int, int] | None = None
            for size, cost, number in sizes:
                if size <= amount:
                    previous = table[amount - size]
                    if previous is not None and (best is None or previous[0] + cost < best[0]):
                        best = (previous[0] + cost, number)
            table.append(best)
        found = table[units]
        return None if found is None else found[0]

    def _sizes(self, subset: tuple[int, ...]) -> tuple[tuple[int, int, int], ...]:
        """(size in quanta, cost, piece number) of the pieces of a combination of products."""
        sizes = self._size_cache.get(subset)
        if sizes is None:
            sizes = self._size_cache[subset] = tuple(
                (size, cost, number)
                for number, (product, size, _, cost) in enumerate(self._pieces)
                if product in subset
            )
        return sizes

    def _solid(self, units: int) -> tuple[Portion, ...] | None:
        """The cheapest pieces that make ``units`` quanta, or None.

        Cost counts each piece (a cut piece more than a whole one) and each distinct product
        used, so that a dose is made from few products and few pieces, as a pharmacist would
        dispense it. Combinations of up to two products are considered (a prescriber writes
        no dose from three).
        """
        solid = sorted({product for product, _, _, _ in self._pieces})
        best: tuple[int, tuple[int, ...]] | None = None
        for size in range(1, min(2, len(solid)) + 1):
            for subset in itertools.combinations(solid, size):
                cost = self._cheapest(units, subset)
                if cost is not None and (best is None or cost + _PRODUCT_COST * size < best[0]):
                    best = (cost + _PRODUCT_COST * size, subset)
        if best is None:
            return None
        table = self._tables[best[1]]
        counts: dict[int, int] = {}
        amount = units
        while amount:
            entry = table[amount]
            assert entry is not None
            counts[entry[1]] = counts.get(entry[1], 0) + 1
            amount -= self._pieces[entry[1]][1]
        ordered = sorted(counts, key=lambda number: (-self._pieces[number][1], number))
        return tuple(
            Portion(self.products[self._pieces[n][0]], counts[n], self._pieces[n][2])
            for n in ordered
        )

    def preparation(self, dose_mg: Decimal | Fraction) -> Preparation | None:
        """How to make ``dose_mg`` at one dose time, or None if these products cannot."""
        units = Fraction(dose_mg) / self.quantum
        if units < 0 or units.denominator != 1:
            return None
        self._require_few_steps(int(units) // 3)  # the ladder looks up to twice its top
        return self._preparation(int(units))

    def _preparation(self, units: int) -> Preparation | None:
        if units in self._preparations:
            return self._preparations[units]
        dose = _as_decimal(self.quantum * units)
        preparation: Preparation | None = None
        if units == 0:
            preparation = Preparation(dose, ())
        elif (portions := self._solid(units) if self._pieces else None) is not None:
            preparation = Preparation(dose, portions)
        else:
            for liquid, step in self._liquids:
                if units % step == 0:
                    volume = _as_decimal(Fraction(dose) / liquid.concentration)
                    preparation = Preparation(dose, (Portion(liquid, volume_ml=volume),))
                    break
        self._preparations[units] = preparation
        return preparation

    def liquid_preparation(self, dose_mg: Decimal, liquid: Product) -> Preparation | None:
        """``dose_mg`` measured from ``liquid`` (one of these products), or None if that
        liquid cannot measure it: to stay on a liquid once a plan has started one."""
        units = Fraction(dose_mg) / self.quantum
        step = dict(self._liquids).get(liquid)
        if step is None or units <= 0 or units.denominator != 1 or int(units) % step:
            return None
        volume = _as_decimal(Fraction(dose_mg) / liquid.concentration)
        return Preparation(Decimal(dose_mg), (Portion(liquid, volume_ml=volume),))

    def _solid_makes(self, units: int) -> bool:
        preparation = self._preparation(units)
        return preparation is not None and all(p.volume_ml is None for p in preparation.portions)

    def is_solid(self, dose_mg: Decimal | Fraction) -> bool:
        """Whether the dose is made from tablets or capsules (no liquid)."""
        preparation = self.preparation(dose_mg)
        return preparation is not None and all(p.volume_ml is None for p in preparation.portions)

    def can_make(self, dose_mg: Decimal | Fraction) -> bool:
        return self.preparation(dose_mg) is not None

    def ladder(
        self, up_to_mg: Decimal, dose_step: Fraction | None = None, *, liquids: bool = True
    ) -> tuple[Decimal, ...]:
        """The doses a plan may use at one dose time, from 0 up to ``up_to_mg``.

        Every dose the solids make, and (unless ``liquids`` is false) the doses only a liquid
        makes where the solids are too coarse (their step there is more than 10% of the
        dose): nobody measures 32.4 mL of solution where tablets make 32 mg and 33 mg. With
        ``dose_step`` (mg), every dose but ``up_to_mg`` itself is a multiple of it, as a
        prescriber would write it (no 8.5 mg of diazepam as 5 mg, half of 5 mg and half of
        2 mg when 8 mg and 9 mg can be made).
        """
        key = self._ladder_key(up_to_mg, dose_step, liquids)
        if key not in self._dose_ladders:
            self._dose_ladders[key] = tuple(
                _as_decimal(self.quantum * units)
                for units in self.ladder_units(up_to_mg, dose_step, liquids=liquids)
            )
        return self._dose_ladders[key]

    def ladder_units(
        self, up_to_mg: Decimal, dose_step: Fraction | None = None, *, liquids: bool = True
    ) -> tuple[int, ...]:
        """The same doses as :meth:`ladder`, counted in quanta."""
        key = self._ladder_key(up_to_mg, dose_step, liquids)
        self._require_few_steps(key[0])
        if key not in self._ladders:
            self._ladders[key] = self._ladder_units(*key)
        return self._ladders[key]

    @property
    def has_liquid(self) -> bool:
        return bool(self._liquids)

    def bottle_ladder_units(
        self, up_to_mg: Decimal, dose_step: Fraction | None = None
    ) -> tuple[int, ...]:
        """The doses one dose time may go through once it is on the liquid (the least
        concentrated, as :meth:`preparation` measures it), in quanta: ``up_to_mg`` itself and
        every smaller dose that liquid measures (on the ``dose_step`` grid), so that the dose
        time stays on the bottle to its end and never goes back to tablets and back again."""
        top, step, _ = self._ladder_key(up_to_mg, dose_step, True)
        self._require_few_steps(top)
        measure = self._liquids[0][1]
        return tuple(
            units for units in range(top + 1) if units == top or not units % math.lcm(measure, step)
        )

    def bottle_ladder(
        self, up_to_mg: Decimal, dose_step: Fraction | None = None
    ) -> tuple[Decimal, ...]:
        """The same doses as :meth:`bottle_ladder_units`, in mg."""
        return tuple(
            _as_decimal(self.quantum * units)
            for units in self.bottle_ladder_units(up_to_mg, dose_step)
        )

    def _ladder_key(
        self, up_to_mg: Decimal, dose_step: Fraction | None, liquids: bool
    ) -> tuple[int, int, bool]:
        top = int(Fraction(up_to_mg) / self.quantum)
        step = 1 if dose_step is None else max(1, int(dose_step / self.quantum))
        return top, step, liquids

    def _ladder_units(self, top: int, step: int, liquids: bool) -> tuple[int, ...]:
        solid = [u for u in range(top + 1) if self._solid_makes(u)]
        beyond = next((u for u in range(top + 1, 2 * top + 2) if self._solid_makes(u)), None)
        units = []
        for amount in range(top + 1):
            preparation = self._preparation(amount)
            if preparation is None or (amount % step and amount != top):
                continue
            if any(portion.volume_ml is not None for portion in preparation.portions):
                if not liquids and amount != top:
                    continue
                position = bisect.bisect_right(solid, amount)
                below = solid[position - 1] if position else 0
                above = solid[position] if position < len(solid) else beyond
                if above is not None and (above - below) * LIQUID_STEP_DENOMINATOR <= amount:
                    continue  # the solids are fine enough here
            units.append(amount)
        return tuple(units)

    def describe(self) -> str:
        return ", ".join(product.label() for product in self.products)


_PRODUCT_SPEC = re.compile(
    r"^\s*(?:(?P<drug>[A-Za-z][A-Za-z-]*)\s+)?(?P<strength>[0-9.]+\s*(?:mg|mcg))"
    r"(?:\s*/\s*(?P<volume>[0-9.]+)?\s*mL)?\s+"
    # The forms as taper prints them too ("oral solution", "orally disintegrating tablet",
    # "tablet (scored)"), so that a product label pasted back names the same product.
    r"(?:oral\s+(?=solution|suspension|concentrate|liquid))?"
    r"(?P<form>tablet|odt|orally\s+disintegrating\s+tablet|capsule|solution|suspension"
    r"|concentrate|liquid)"
    r"(?:\s+(?P<split>scored|unscored|quarter-scored|\((?:scored|quarter-scored)\)))?\s*$"
)


#: Form words a product text may use for a form by another name.
_FORM_NAMES = {"liquid": Form.SOLUTION, "orally": Form.ODT}


def product_drug(text: str) -> str | None:
    """The drug a product text names, if any: ``"lorazepam 1mg tablet"`` -> ``"lorazepam"``."""
    match = _PRODUCT_SPEC.match(text)
    return match["drug"] if match and match["drug"] else None


def parse_product(text: str, drug: str, named: str | None = None) -> Product:
    """``"clonazepam 0.5mg tablet scored"``, ``"0.5mg/5mL solution"`` -> a :class:`Product`.

    ``named`` is the drug name as the text spells it, when the caller has resolved it (a
    brand name, say) to ``drug``.
    """
    from taper.doses import parse_dose

    match = _PRODUCT_SPEC.match(text)
    if match is None:
        raise InvalidRequestError(
            f"cannot read product {text!r}; write e.g. '0.5mg tablet scored', '1mg tablet', "
            "'0.125mg odt', '10mg capsule' or '0.5mg/5mL solution'"
        )
    if match["drug"] and match["drug"].lower() not in {drug.lower(), (named or "").lower()}:
        raise InvalidRequestError(f"product {text!r} is not a product of {drug}")
    form = _FORM_NAMES.get(match["form"].split()[0]) or Form(match["form"])
    strength = parse_dose(match["strength"].replace(" ", ""))
    if form in LIQUID_FORMS:  # a solution, suspension or concentrate
        if match["split"]:
            raise InvalidRequestError(f"product {text!r}: a liquid cannot be scored")
        volume = _volume(match["volume"], text)
        return Product(drug, form, strength, volume_ml=volume, min_volume_ml=Decimal("0.1"))
    if match["volume"] is not None or "/" in text:
        raise InvalidRequestError(
            f"product {text!r}: only a liquid (solution, suspension, concentrate) has a volume"
        )
    scoring = (match["split"] or "").strip("()")
    split = {"scored": "half", "quarter-scored": "quarter"}.get(scoring, "none")
    if form in {"capsule", "odt"} and split != "none":
        raise InvalidRequestError(f"product {text!r}: a {FORM_WORDS[form]} cannot be split")
    return Product(drug, form, strength, split=split)


#: The largest volume a product may declare: a bottle, not a tank.
MAX_VOLUME_ML = Decimal(1000)


def _volume(given: str | None, text: str) -> Decimal:
    """The volume of a liquid product: a plain number, greater than zero, that the ISMP
    formatter writes as it is (no digits beyond 0.001 mL), at most a litre."""
    if given is None:
        return Decimal(1)
    if not re.fullmatch(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?", given):
        raise InvalidRequestError(
            f"product {text!r}: the volume {given!r} is not a number such as 5 or 2.5"
        )
    volume = Decimal(given)
    if volume <= 0:
        raise InvalidRequestError(f"product {text!r}: the volume must be greater than zero")
    if volume > MAX_VOLUME_ML:
        raise InvalidRequestError(f"product {text!r}: the volume is more than 1,000 mL")
    if not to_decimal(volume)[1]:
        raise InvalidRequestError(
            f"product {text!r}: a volume is written to 0.001 mL; {given} mL cannot be written "
            "faithfully"
        )
    return volume


@functools.lru_cache(maxsize=128)
def formulary_for(drug: str, products: tuple[Product, ...]) -> Formulary:
    """One shared Formulary per product set, so that its searches are done once per process."""
    return Formulary(drug, products)
