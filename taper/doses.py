"""The project's own strict dose parser.

A dose is a plain number (``2``, ``0.5``, ``.5``) followed by a unit from a short allowlist
(``mg``, ``mcg``, ``µg``, ``ug``, ``g``), spaces optional. Everything else is refused with a
message that says what to type instead. The text never reaches pint's string parser: the
number becomes a ``Decimal`` here, and pint only converts that Decimal between units, through
a minimal registry built on first use (and not at all for milligrams).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from taper.errors import DoseSyntaxError

if TYPE_CHECKING:
    from pint.facets.plain import PlainRegistry
    from pint.util import UnitsContainer

#: Units accepted on input, mapped to the name of the unit in the minimal pint registry.
INPUT_UNITS: dict[str, str] = {
    "mg": "milligram",
    "mcg": "microgram",
    "µg": "microgram",  # MICRO SIGN
    "μg": "microgram",  # GREEK SMALL LETTER MU
    "ug": "microgram",
    "g": "gram",
}

#: The largest dose accepted at all (above it, the text is surely a typing error).
MAX_DOSE_MG = Decimal(10000)
#: The finest resolution accepted: one microgram.
RESOLUTION_MG = Decimal("0.001")
#: Longest dose text read (anything longer is not a dose).
MAX_TEXT_LENGTH = 40

_DOSE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<unit>[^\s0-9.]+)?", re.ASCII)
_NUMBER_START = re.compile(r"[0-9.]")


#: The registry's units, each as (name, the unit or dimension it is defined by, how many of
#: that it is): what ``gram = [mass]``, ``milligram = gram / 1000`` and ``microgram =
#: milligram / 1000`` define, given to pint as definitions rather than text.
UNITS = (
    ("gram", "[mass]", Decimal(1)),
    ("milligram", "gram", Decimal("0.001")),
    ("microgram", "milligram", Decimal("0.001")),
)


@cache
def _registry() -> PlainRegistry:
    """The one unit registry: three mass units, exact decimals, built on first use.

    A plain registry (no contexts, systems, offsets or formatting facets) with no default
    definitions. Its units are given as pint's definition objects and named by unit
    containers, never as text: pint's text parser compiles Python's tokenizer patterns on
    its first use, about 4 ms of a command's start (issue 26). What remains of pint's cost
    is importing the package itself, paid only for doses given in mcg or g.
    """
    from pint.facets.plain import PlainRegistry, ScaleConverter, UnitDefinition

    registry = PlainRegistry(None, non_int_type=Decimal)
    for name, reference, scale in UNITS:
        # pint annotates a scale as a float and define() as taking text or a class; with
        # non_int_type=Decimal its own parser makes these same Decimal-scaled definitions.
        converter = ScaleConverter(scale)  # type: ignore[arg-type]
        unit = UnitDefinition(name, None, (), converter, _container(reference))
        registry.define(unit)  # type: ignore[arg-type]
    return registry


def _container(name: str) -> UnitsContainer:
    """One unit (or dimension) to the power one, as pint's parser would make it."""
    from pint.util import UnitsContainer

    return UnitsContainer({name: Decimal(1)}, non_int_type=Decimal)


def to_milligrams(amount: Decimal, unit: str) -> Decimal:
    """Convert an amount in an allowlisted input unit to milligrams, exactly."""
    unit_name = INPUT_UNITS[unit]
    if unit_name == "milligram":
        return amount
    registry = _registry()
    quantity = registry.Quantity(amount, registry.Unit(_container(unit_name)))
    converted = quantity.to(registry.Unit(_container("milligram")))
    magnitude = converted.magnitude
    assert isinstance(magnitude, Decimal)
    return magnitude


def _explain(text: str) -> str:
    """Why ``text`` is not a dose, in words that say what to type instead."""
    stripped = text.strip()
    if not stripped:
        return "it is empty; write a number and a unit, e.g. '0.5mg'"
    if len(stripped) > MAX_TEXT_LENGTH:
        return f"it is longer than {MAX_TEXT_LENGTH} characters"
    if re.fullmatch(r"[0-9]+,[0-9]+\s*\S*", stripped, re.ASCII):
        return "use '.' as the decimal point, e.g. '" + stripped.replace(",", ".", 1) + "'"
    if "/" in stripped or re.search(r"[0-9.]\s*[-+*x×]\s*[0-9.]", stripped):
        return "write a single number (no fractions or arithmetic), e.g. '0.5mg'"
    if stripped.startswith("-"):
        return "a dose must be greater than zero"
    if re.search(r"nan|inf", stripped, re.IGNORECASE):
        return "write a finite number, e.g. '0.5mg'"
    if re.search(r"[0-9]e[+-]?[0-9]", stripped, re.IGNORECASE):
        return "write the number out in full, without an exponent"
    if any(not ch.isascii() and ch.isnumeric() for ch in stripped):
        return "write the number with the digits 0-9 (no '½' or other number symbols)"
    if not _NUMBER_START.match(stripped):
        return "start with a number, e.g. '0.5mg'"
    return "write a number and one of the units mg, mcg or g, e.g. '0.5mg' or '500mcg'"


def parse_dose(text: str) -> Decimal:
    """Parse a dose typed by a person into an exact number of milligrams.

    >>> parse_dose("1.5mg"), parse_dose("500 mcg"), parse_dose(".25mg")
    (Decimal('1.5'), Decimal('0.500'), Decimal('0.25'))
    """
    if not isinstance(text, str):
        raise DoseSyntaxError(str(text), "a dose must be text such as '0.5mg'")
    stripped = text.strip()
    match = _DOSE.fullmatch(stripped) if len(stripped) <= MAX_TEXT_LENGTH else None
    if match is None:
        raise DoseSyntaxError(text, _explain(text))
    unit = match["unit"]
    if unit is None:
        raise DoseSyntaxError(text, "it has no unit; add mg, mcg or g, e.g. '" + stripped + "mg'")
    if unit not in INPUT_UNITS:
        hint = ""
        if unit.lower() in INPUT_UNITS:
            hint = f" (units are case-sensitive: write '{unit.lower()}')"
        raise DoseSyntaxError(text, f"unknown unit {unit!r}{hint}; use mg, mcg or g")
    number = match["number"]
    if number.endswith("."):
        raise DoseSyntaxError(text, "a decimal point must be followed by digits")
    amount = Decimal(number)
    if amount == 0:
        raise DoseSyntaxError(text, "a dose must be greater than zero")
    milligrams = to_milligrams(amount, unit)
    if milligrams > MAX_DOSE_MG:
        raise DoseSyntaxError(text, f"{milligrams.normalize():f} mg is not a plausible dose")
    if milligrams % RESOLUTION_MG != 0:
        raise DoseSyntaxError(text, "doses finer than 1 mcg (0.001 mg) cannot be measured")
    return milligrams
