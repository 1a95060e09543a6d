"""The published numbers and rules that plans are built and checked against.

One place for the figures shared by the engine (:mod:`taper.direct`, :mod:`taper.assemble`)
and the checker (:mod:`taper.check`), each with its source (see the clinical reference,
section 4).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taper.products import Formulary

JOINT_GUIDELINE = "2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering"

#: 2025 Joint Guideline: generally not more than 25% every 2 weeks.
CEILING_FRACTION = Fraction(25, 100)
#: 2025 Joint Guideline: an initial pace of 5-10% every 2-4 weeks.
START_FRACTION = Fraction(10, 100)
#: The window over which the ceiling and the start pace are measured (2 weeks).
WINDOW_DAYS = 14
#: NICE CKS fixed-step bands (diazepam mg/day): above the threshold, cut by the step.
#: CKS gives 2-4, 1-2, 1 and 0.5-1 mg; the gentler end of each range is used.
CKS_BANDS = (
    (Decimal(20), Decimal(2)),
    (Decimal(10), Decimal(1)),
    (Decimal(5), Decimal(1)),
    (Decimal(0), Decimal("0.5")),
)
#: A cut at least this many times the method's own cut is flagged as forced by the products.
FORCED_FACTOR = Fraction(3, 2)


def percent(fraction: Fraction) -> Decimal:
    """A fraction as a percentage to one decimal place: ``Fraction(1, 8)`` -> ``12.5``."""
    value = fraction * 100
    try:
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"))
    except InvalidOperation:  # pragma: no cover - only for absurd magnitudes
        return Decimal(0)


def cks_band_step(diazepam_mg: Decimal) -> Decimal:
    """The CKS step (diazepam mg) for a daily diazepam-equivalent dose."""
    return next(step for threshold, step in CKS_BANDS if diazepam_mg > threshold)


def smallest_stop_mg(formulary: Formulary, total: Decimal) -> Decimal:
    """The stop rule: the smallest daily dose the products make (a plan may stop from it)."""
    return formulary.ladder(total)[1] if total > 0 else Decimal(0)
