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
#: NICE CKS fixed-step bands (diazepam mg/day): above the threshold, cut by the step, every
#: 1-2 weeks. CKS gives steps of 2-4, 1-2, 1 and 0.5-1 mg and estimates 30-60 weeks in all
#: from 40 mg and 20-40 weeks from 20 mg; the larger step of each range, at the slower
#: interval (2 weeks), lands inside those estimates (40 and 30 weeks), while the smaller steps
#: would not (68-70 and 48-50 weeks).
CKS_BANDS = (
    (Decimal(20), Decimal(4)),
    (Decimal(10), Decimal(2)),
    (Decimal(5), Decimal(1)),
    (Decimal(0), Decimal(1)),
)
#: The clinical end of a taper (diazepam mg/day): CKS's last band steps 0.5-1 mg "until
#: completely stopped", and NHS Scotland's example stops from 1 mg; a plan stops from about
#: 1 mg diazepam equivalent (or the smallest dose the products make, where that is larger).
END_DIAZEPAM_MG = Decimal(1)
#: Below this daily dose (diazepam mg) CKS cuts in fixed steps (1 mg every 1-2 weeks from
#: 10 mg): a percent taper goes on in fixed steps, each the method's cut at this dose (10%
#: gives 1 mg), instead of ever-smaller percentages.
TAIL_FROM_DIAZEPAM_MG = Decimal(10)
#: CKS's last band: from 5 mg diazepam a day, 0.5-1 mg every 1-2 weeks until stopped; a
#: tail step is never larger than 1 mg there, so that the end of a plan slows down.
LAST_BAND_FROM_DIAZEPAM_MG = Decimal(5)
LAST_BAND_STEP_DIAZEPAM_MG = Decimal(1)
#: In the tail of a taper, CKS allows 1 mg every week (10 -> 5 mg) and 0.5-1 mg every 1-2
#: weeks (5 -> 0): up to 2 mg diazepam equivalent in 2 weeks, which is more than 25% below
#: 8 mg. A 14-day window is over the ceiling only when it cuts more than both.
TAIL_ALLOWANCE_DIAZEPAM_MG = Decimal(2)
#: A plan longer than this is flagged as very long (two years).
LONG_PLAN_DAYS = 730


def percent(fraction: Fraction) -> Decimal:
    """A fraction as a percentage to one decimal place: ``Fraction(1, 8)`` -> ``12.5``."""
    value = fraction * 100
    try:
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"))
    except InvalidOperation:  # pragma: no cover - only for absurd magnitudes
        return Decimal(0)


def cks_band_step(diazepam_mg: Decimal) -> Decimal:
    """The CKS step (diazepam mg) for a daily diazepam-equivalent dose (the last band's step
    at or below zero, where a plan's ideal can fall while the dose taken is still held)."""
    return next(
        (step for threshold, step in CKS_BANDS if diazepam_mg > threshold), CKS_BANDS[-1][1]
    )


def smallest_dose_mg(formulary: Formulary, total: Decimal) -> Decimal:
    """The smallest daily dose the products make (zero for a zero total)."""
    return formulary.ladder(total)[1] if total > 0 else Decimal(0)


def over_ceiling(before: Fraction, after: Fraction, diazepam: bool) -> bool:
    """Whether 2 weeks going from the daily load ``before`` to ``after`` cut too much: more
    than 25% (Joint Guideline) and, where the loads are diazepam equivalents (``diazepam``),
    more than CKS's 2 mg as well."""
    if before <= 0 or (before - after) / before <= CEILING_FRACTION:
        return False
    return not diazepam or before - after > Fraction(TAIL_ALLOWANCE_DIAZEPAM_MG)
