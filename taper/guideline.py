"""The published numbers and rules that plans are built and checked against.

One place for the figures shared by the engine (:mod:`taper.direct`, :mod:`taper.assemble`)
and the checker (:mod:`taper.check`), each with its source (see the clinical reference,
section 4).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING

from taper.rational import Fraction

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
    """The smallest daily dose the products make up to ``total`` (zero for a zero total; the
    total itself when the products make nothing that small, such as a plan file's 0.05 mg of
    clonazepam, which the check reports as a dose no product makes)."""
    ladder = formulary.ladder(total) if total > 0 else ()
    return ladder[1] if len(ladder) > 1 else max(total, Decimal(0))


def over_ceiling(before: Fraction, after: Fraction, diazepam: bool) -> bool:
    """Whether 2 weeks going from the daily load ``before`` to ``after`` cut too much: more
    than 25% (Joint Guideline) and, where the loads are diazepam equivalents (``diazepam``),
    more than CKS's 2 mg as well."""
    if before <= 0 or (before - after) / before <= CEILING_FRACTION:
        return False
    return not diazepam or before - after > Fraction(TAIL_ALLOWANCE_DIAZEPAM_MG)


# One judgement for plans and checks: the schedule (:mod:`taper.assemble`) flags its steps
# and the checker (:mod:`taper.check`) reports a plan's problems by these rules, so that a plan
# the tool makes passes its own check, and a check reports what the schedule would have warned
# about.


class CutVerdict(Enum):
    """How the guideline judges a step: its 14 days keep the pace (``WITHIN``), go over the
    ceiling because no smaller cut can be made from the dose before (``FORCED``, the
    products are the cause) or go over it when a smaller cut could be made (``BREACH``)."""

    WITHIN = "within"
    FORCED = "forced"
    BREACH = "breach"


def judge_cut(
    window_start: Fraction,
    before: Fraction,
    after: Fraction,
    possible: Fraction | None,
    diazepam: bool,
) -> CutVerdict:
    """Judge a step of load ``after`` (diazepam equivalent, or mg of one drug) that follows a
    step of load ``before``, the load 14 days before it being ``window_start``. ``possible``
    is the load after the smallest cut the products allow from the step before (see
    :func:`smallest_cut`; None where there is none to compare, e.g. in a crossover)."""
    if not over_ceiling(window_start, after, diazepam):
        return CutVerdict.WITHIN
    if possible is not None and over_ceiling(before, possible, diazepam):
        return CutVerdict.FORCED
    return CutVerdict.BREACH


def smallest_cut(
    config: tuple[Decimal, ...], formulary: Formulary, step: Fraction | None
) -> tuple[Decimal, ...]:
    """The configuration one dose down at whichever dose time makes the smallest cut: the
    smallest cut the products allow from ``config`` (doses of one drug at its dose times),
    whatever the order of dose times; ``step`` is the plan's dose step
    (:func:`prescribing_step`)."""
    best: tuple[Decimal, ...] | None = None
    for slot, dose in enumerate(config):
        if not dose:
            continue
        below = [d for d in formulary.ladder(dose, step) if d < dose]
        lowered = (*config[:slot], below[-1] if below else Decimal(0), *config[slot + 1 :])
        if best is None or sum(lowered) > sum(best):
            best = lowered
    return best if best is not None else config


def prescribing_step(per_mg: Fraction | None, formulary: Formulary) -> Fraction | None:
    """The step a plan's doses come in (mg): about 1 mg diazepam equivalent on the products'
    grid, as a prescriber writes them; None without a diazepam equivalent (``per_mg``, the
    diazepam mg per mg of the drug)."""
    if per_mg is None:
        return None
    step = Fraction(END_DIAZEPAM_MG) / per_mg
    return max(formulary.quantum, formulary.quantum * int(step / formulary.quantum))


def clinical_end_mg(formulary: Formulary, stop_from: Decimal, per_mg: Fraction | None) -> Decimal:
    """The clinical end of a drug's taper (mg a day): about 1 mg diazepam equivalent (NICE
    CKS), or the smallest dose the products make where that is larger (the smallest dose
    alone without a diazepam equivalent). A stop from no more than this is the normal end."""
    smallest = smallest_dose_mg(formulary, stop_from)
    if per_mg is None:
        return smallest
    end = Fraction(END_DIAZEPAM_MG) / per_mg
    return max(
        smallest,
        (Decimal(end.numerator) / Decimal(end.denominator)).quantize(
            Decimal("0.001"), rounding=ROUND_CEILING
        ),
    )
