"""The exact rational type of the engine: ``quicktions.Fraction`` when it is installed (the
``fast`` extra), else the standard library's ``fractions.Fraction``.

quicktions is a compiled implementation of the standard library's ``Fraction`` with the same
arithmetic, comparisons, hashing and rounding; plans are byte-identical with either
(``tests/test_rational.py`` checks both on generated values and whole sweeps), and a warm plan
costs about a third less with quicktions (docs/speed.md). Code that checks whether a value is
a fraction uses :data:`RATIONAL_TYPES`, which holds both, since a caller may pass either.
"""

from __future__ import annotations

import fractions
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction
else:
    try:
        from quicktions import Fraction
    except ImportError:  # the core install: the standard library's, with the same results
        from fractions import Fraction

#: The fraction types a value may come in: the engine's and the standard library's.
RATIONAL_TYPES: tuple[type[Fraction], ...] = (Fraction, fractions.Fraction)

__all__ = ["RATIONAL_TYPES", "Fraction"]
