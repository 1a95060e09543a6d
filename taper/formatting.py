"""Printing doses the way the ISMP list of error-prone dose designations asks.

One formatter for every dose the project prints (clinical reference, section 7):
no trailing zero (``1 mg``, never ``1.0 mg``), always a leading zero (``0.5 mg``), a space
before the unit, ``mcg`` and ``mL`` spelled so, thousands separated by commas, and no slash
between two doses (a range reads ``0.25 to 0.5 mg``). pint's unit symbols never reach the
output.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import cast

from taper.errors import ParameterError
from taper.rational import RATIONAL_TYPES, Fraction
from taper.values import is_bool, number_text

#: Units the formatter prints, exactly as the ISMP list spells them.
DISPLAY_UNITS = ("mg", "mcg", "mL")

#: Doses are shown to the microgram: 0.001 mg.
DISPLAY_QUANTUM = Decimal("0.001")

#: What every formatted dose looks like: used by the tests and by callers that check text.
ISMP_DOSE_PATTERN = re.compile(r"^(?:0|[1-9]\d{0,2}(?:,\d{3})*)(?:\.\d*[1-9])? (?:mg|mcg|mL)$")


def to_decimal(value: Decimal | Fraction | int) -> tuple[Decimal, bool]:
    """Return ``value`` as a Decimal at display precision, and whether that is exact."""
    if is_bool(value) or not isinstance(value, (Decimal, numbers.Integral, *RATIONAL_TYPES)):
        raise ParameterError("value", value, "a number (Decimal, Fraction or int)")
    if isinstance(value, numbers.Integral):
        value = int(value)  # numpy's integers too
    if isinstance(value, Decimal) and not value.is_finite():
        raise ParameterError("value", value, "a finite number")
    if isinstance(value, RATIONAL_TYPES):
        exact_decimal = Decimal(value.numerator) / Decimal(value.denominator)
        rounded = exact_decimal.quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_EVEN)
        return rounded, Fraction(rounded) == value
    value = Decimal(cast("Decimal | int", value))  # a Decimal or an int by now
    rounded = value.quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_EVEN)
    return rounded, rounded == value


def format_number(value: Decimal | Fraction | int) -> str:
    """A plain number the ISMP way: ``0.5``, ``12``, ``1,250``; never ``.5`` or ``1.0``."""
    number, _ = to_decimal(value)
    if number < 0:
        raise ValueError(f"a dose cannot be negative: {number}")
    return format(number.normalize(), ",f")


def format_dose(value: Decimal | Fraction | int, unit: str = "mg") -> str:
    """``Decimal("0.50")`` -> ``"0.5 mg"``. Inexact fractions are rounded to 0.001."""
    if unit not in DISPLAY_UNITS:
        raise ValueError(f"unit {unit!r} is not one the formatter prints")
    return f"{format_number(value)} {unit}"


def dose_argument(value: Decimal | Fraction | int) -> str:
    """A dose as a command-line option takes it, pasteable as printed: ``"0.09mg"`` (no space
    between number and unit, no thousands separator), for remedies that name an option."""
    return number_text(to_decimal(value)[0]) + "mg"


def format_cut(cut: Decimal | None) -> str:
    """A step's change from the step before: ``"12.5%"`` for a cut, ``"up 14.3%"`` for a rise
    (a revision's step back), ``""`` for none."""
    if not cut:
        return ""
    return f"up {format_number(-cut)}%" if cut < 0 else f"{format_number(cut)}%"


def format_dose_range(
    low: Decimal | Fraction | int, high: Decimal | Fraction | int, unit: str = "mg"
) -> str:
    """One dose, or ``"0.25 to 0.5 mg"`` for a range (no slash, no dash that reads as minus)."""
    low_text, high_text = format_number(low), format_number(high)
    if low_text == high_text:
        return f"{low_text} {unit}"
    return f"{low_text} to {high_text} {unit}"


def format_percent_range(low: Decimal | Fraction | int, high: Decimal | Fraction | int) -> str:
    """A range of percentages, ``"25-50%"``; one value, ``"50%"``, when both ends show alike
    (never ``"50-50%"``)."""
    low_text, high_text = format_number(low), format_number(high)
    if low_text == high_text:
        return f"{low_text}%"
    return f"{low_text}-{high_text}%"


def is_exact(value: Decimal | Fraction | int) -> bool:
    """True when ``value`` shows without rounding at display precision."""
    return to_decimal(value)[1]


#: Characters that reorder text on a terminal (Trojan Source): shown as escapes too.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with every control character made visible as an escape (``\\x1b``, ``\\n``).

    For text that did not come from the project itself (a user's table, file names, scenario
    ids) before it reaches a terminal or a one-line record: no escape sequence, no new line,
    no reordering of what follows.
    """
    if text.isprintable() and not _BIDI_CONTROLS.intersection(text):
        return text
    return "".join(_visible(char) for char in text)


def _visible(char: str) -> str:
    if (char.isprintable() and char not in _BIDI_CONTROLS) or char == " ":
        return char
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    return escape_code(char)


def escape_code(char: str) -> str:
    """A character as its Python escape by code point: ``\\x1b``, ``\\u202e``."""
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def consecutive_runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted whole numbers as runs of consecutive ones: ``[3, 4, 5, 9]`` ->
    ``[(3, 5), (9, 9)]``."""
    groups: list[list[int]] = []
    for number in numbers:
        if groups and number == groups[-1][1] + 1:
            groups[-1][1] = number
        else:
            groups.append([number, number])
    return [(first, last) for first, last in groups]
