"""Clinical guardrails: withdrawal risk, high doses and patient factors, each with its source.

These only warn; a plan is changed only when the user asks (``--cautious``). Sources, as
collected in the project's clinical reference (section 4 and 6):

- 2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering, Table 2: the risk of
  clinically significant withdrawal by pattern and length of use, and its dose bands (low at
  most 10 mg, moderate 10 to 15 mg, high above 15 mg diazepam equivalents a day) with its
  own per-drug examples (footnotes d-f), which are used as they stand for those drugs: they
  imply lower potencies than Ashton's equivalents (clonazepam 1 mg is "moderate");
- Australian guidance: above 40 mg diazepam equivalents a day calls for specialist advice
  (a state health service's "Alprazolam and other benzodiazepine withdrawal", grade C copy),
  above 50 mg inpatient withdrawal (SA Health, "Benzodiazepine withdrawal management");
- ASAM, via the source article this project grew from: age, anxiety disorders and use with
  alcohol or opioids raise the risk of withdrawal; seizures are the gravest risk;
- the FDA boxed warning (2016, updated 2020): benzodiazepines with opioids "may result in
  profound sedation, respiratory depression, coma, and death"; the Medication Guides say the
  same of alcohol ("severe drowsiness, breathing problems (respiratory depression), coma and
  death");
- the 2025 Joint Guideline: conversion depends on age, metabolism and other medicines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from taper.errors import InvalidRequestError
from taper.formatting import format_dose, format_dose_range
from taper.guideline import JOINT_GUIDELINE
from taper.notices import Kind, Notice
from taper.rational import Fraction

_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class PatientFactors:
    """How the drug has been used and who takes it: the inputs of the guardrails."""

    used_for_days: int | None = None
    days_per_week: int | None = None
    age: int | None = None
    seizures: bool = False
    with_opioids: bool = False
    with_alcohol: bool = False
    liver_impairment: bool = False


@dataclass(frozen=True)
class RiskAssessment:
    """The withdrawal risk and dose band, in words, with the warnings they call for."""

    level: str  # "rare", "lower", "real" or "unknown"
    summary: str
    dose_band: str | None  # "low", "moderate", "high" or None when unknown
    warnings: tuple[Notice, ...]
    #: How the dose band was found (the guideline's own example, or diazepam equivalents).
    band_basis: str = ""


def parse_duration_of_use(text: str) -> int:
    """``"18m"`` (months), ``"6w"``, ``"2y"``, ``"10d"`` -> days (a month counts 30 days)."""
    match = re.fullmatch(r"\s*([0-9]{1,4})\s*([dwmy])\s*", text.lower(), re.ASCII)
    if match is None:
        raise InvalidRequestError(
            f"cannot read duration of use {text!r}; write e.g. '10d', '6w', '18m' or '2y'"
        )
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2)]
    if days < 1 or days > 100 * 365:
        raise InvalidRequestError(f"duration of use {text!r} must be from 1 day to 100 years")
    return days


#: The Joint Guideline's own examples of its dose bands (mg a day: low up to the first,
#: moderate up to the second, high above), Table 2 footnotes d-f; diazepam's are its bands.
BAND_EXAMPLES = {
    "diazepam": (Decimal(10), Decimal(15)),
    "clonazepam": (Decimal("0.5"), Decimal("1.5")),
    "lorazepam": (Decimal(2), Decimal(3)),
    "alprazolam": (Decimal(1), Decimal(2)),
}


def dose_band(
    current: Mapping[str, Decimal], diazepam_mg: tuple[Fraction, Fraction] | None
) -> tuple[str | None, str, str]:
    """The dose band, how it was found, and the dose it speaks of: by the guideline's own
    example for a single drug it gives one for, else by the diazepam equivalent under the
    plan's source."""
    if len(current) == 1:
        ((drug, mg),) = current.items()
        if drug in BAND_EXAMPLES:
            low, moderate = BAND_EXAMPLES[drug]
            band = "low" if mg <= low else "moderate" if mg <= moderate else "high"
            return band, f"the {JOINT_GUIDELINE}'s example for {drug}", f"{drug} {format_dose(mg)}"
    if diazepam_mg is None:
        return None, "no diazepam equivalent", ""
    low_de, high_de = diazepam_mg
    band = "high" if low_de > 15 else "moderate" if low_de > 10 else "low"
    if high_de > 15 and band != "high":
        band = f"{band} to high"
    dose = f"{format_dose_range(low_de, high_de)} diazepam equivalents"
    return band, "diazepam equivalents under the plan's source", dose


def assess(
    factors: PatientFactors,
    diazepam_mg: tuple[Fraction, Fraction] | None,
    current: Mapping[str, Decimal] | None = None,
    *,
    cautious: bool = False,
    highest: tuple[Fraction, str] | None = None,
) -> RiskAssessment:
    """Withdrawal risk (Joint Guideline Table 2), dose band and patient-factor warnings.

    ``diazepam_mg`` is the current daily diazepam equivalent (low, high), or None when the
    source gives no equivalent; ``current`` the current daily mg of each drug; ``cautious``
    whether the cautious defaults are already asked for (then they are not suggested);
    ``highest`` the highest diazepam equivalent under any source, and that source's id: the
    specialist and inpatient thresholds are judged on it, so that they do not depend on the
    source chosen for the plan.
    """
    warnings: list[Notice] = []
    high = diazepam_mg[1] if diazepam_mg is not None else None
    band, basis, dose = dose_band(current or {}, diazepam_mg)
    if band is not None and band.endswith("high"):
        warnings.append(
            Notice(
                Kind.HIGH_DOSE,
                f"a high dose: {dose} a day (dose band by {basis}; {JOINT_GUIDELINE}, Table 2)",
            )
        )
    highest_mg, by = highest if highest is not None else (high, "the plan's source")
    if highest_mg is not None and highest_mg > 40:
        over = format_dose(highest_mg)
        warnings.append(
            Notice(
                Kind.SPECIALIST_DOSE,
                f"up to {over} diazepam equivalents a day (by {by}, the highest of the sources): "
                + (
                    "above 50 mg, consider inpatient withdrawal (SA Health, Benzodiazepine "
                    "withdrawal management)"
                    if highest_mg > 50
                    else "above 40 mg, specialist supervision may be needed (Australian state "
                    "guidance)"
                ),
            )
        )

    level, summary = _withdrawal_risk(factors, band)
    if level == "rare":
        warnings.append(
            Notice(
                Kind.RARE_USE,
                f"{summary}: a taper may not be needed; review whether to stop without one "
                f"({JOINT_GUIDELINE}, Table 2)",
            )
        )
    review = (
        "closer review" if cautious else "consider a slower pace (--cautious) and closer review"
    )
    if factors.age is not None and factors.age >= 65:
        warnings.append(
            Notice(
                Kind.AGE,
                f"age {factors.age}: age raises the risk of withdrawal (ASAM), and conversion "
                f"between drugs depends on age ({JOINT_GUIDELINE}); {review}",
            )
        )
    if factors.seizures:
        warnings.append(
            Notice(
                Kind.SEIZURES,
                "history of seizures: seizures are the gravest risk of withdrawal (ASAM); "
                + review,
            )
        )
    if factors.with_opioids:
        warnings.append(
            Notice(
                Kind.OPIOIDS,
                "used with opioids: together they may cause profound sedation, respiratory "
                "depression, coma and death (FDA boxed warning, 2016, updated 2020); review "
                "both medicines, and taper under close monitoring",
            )
        )
    if factors.with_alcohol:
        warnings.append(
            Notice(
                Kind.ALCOHOL,
                "used with alcohol: together they can cause severe drowsiness, respiratory "
                "depression, coma and death (FDA Medication Guides; MHRA), and alcohol use "
                f"raises the risk of withdrawal (ASAM); {review}",
            )
        )
    if factors.liver_impairment:
        warnings.append(
            Notice(
                Kind.LIVER,
                "liver impairment: conversion between drugs depends on metabolism "
                f"({JOINT_GUIDELINE}); {review}",
            )
        )
    return RiskAssessment(level, summary, band, tuple(warnings), basis)


def _withdrawal_risk(factors: PatientFactors, band: str | None) -> tuple[str, str]:
    """Joint Guideline Table 2, as summarised in clinical reference section 4 (at 1 to 3
    months of use the risk is lower in the low band: 10 mg diazepam equivalents or less)."""
    if factors.days_per_week is not None and factors.days_per_week <= 3:
        return "rare", (
            f"use on {factors.days_per_week} day(s) a week: clinically significant withdrawal "
            "is rare"
        )
    days = factors.used_for_days
    if days is None:
        return "unknown", "not assessed (give --used-for and --days-per-week)"
    if days < 30:
        return "lower", "under 1 month of use: the risk of withdrawal is lower but possible"
    if days < 90:
        if band == "low":
            return "lower", "1 to 3 months of use at a low dose: the risk of withdrawal is lower"
        return "real", ("1 to 3 months of use above a low dose: the risk of withdrawal is real")
    return "real", (
        "3 months of use or more: the risk of withdrawal is real, and rises with dose and duration"
    )
