from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from taper.errors import InvalidRequestError
from taper.guardrails import PatientFactors, assess, parse_duration_of_use
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"


def point(mg: int | str) -> tuple[Fraction, Fraction]:
    value = Fraction(Decimal(mg))
    return value, value


@pytest.mark.parametrize(
    ("factors", "dose", "level"),
    [
        (PatientFactors(used_for_days=400, days_per_week=2), point(20), "rare"),
        (PatientFactors(used_for_days=20, days_per_week=7), point(20), "lower"),
        (PatientFactors(used_for_days=60, days_per_week=7), point(10), "lower"),
        (PatientFactors(used_for_days=60, days_per_week=7), point("10.5"), "real"),
        (PatientFactors(used_for_days=90, days_per_week=7), point(5), "real"),
        (PatientFactors(), point(5), "unknown"),
    ],
)
def test_withdrawal_risk_follows_the_joint_guideline_table(
    factors: PatientFactors, dose: tuple[Fraction, Fraction], level: str
) -> None:
    assert assess(factors, dose).level == level


def test_rare_risk_says_a_taper_may_not_be_needed() -> None:
    risk = assess(PatientFactors(used_for_days=400, days_per_week=3), point(5))
    assert any("a taper may not be needed" in w.message for w in risk.warnings)


@pytest.mark.parametrize(
    ("dose", "band", "warnings"),
    [
        (point(10), "low", 0),
        (point(15), "moderate", 0),
        (point(16), "high", 1),
        (point(41), "high", 2),
    ],
)
def test_dose_bands_and_high_dose_warnings(
    dose: tuple[Fraction, Fraction], band: str, warnings: int
) -> None:
    risk = assess(PatientFactors(), dose)
    assert risk.dose_band == band
    assert len(risk.warnings) == warnings


def test_a_range_straddling_a_band_says_so() -> None:
    risk = assess(PatientFactors(), (Fraction(10), Fraction(20)))
    assert risk.dose_band == "low to high"
    assert any("10 to 20 mg" in w.message for w in risk.warnings)


def test_each_patient_factor_adds_a_warning_naming_why() -> None:
    risk = assess(
        PatientFactors(
            age=70, seizures=True, with_opioids=True, with_alcohol=True, liver_impairment=True
        ),
        None,
    )
    text = " | ".join(w.message for w in risk.warnings)
    for reason in ("age 70", "seizures", "opioids", "alcohol", "liver impairment"):
        assert reason in text
    assert assess(PatientFactors(age=64), None).warnings == ()


@pytest.mark.parametrize(("text", "days"), [("10d", 10), ("6w", 42), ("18m", 540), ("2y", 730)])
def test_duration_of_use(text: str, days: int) -> None:
    assert parse_duration_of_use(text) == days


@pytest.mark.parametrize("text", ["", "forever", "0d", "-1m", "1.5y", "18 months"])
def test_bad_duration_of_use(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_duration_of_use(text)


def test_cautious_slows_the_default_pace_and_adds_holds(table: EquivalenceTable) -> None:
    plain = plan_taper("diazepam", "20mg", start=START, table=table)
    cautious = plan_taper("diazepam", "20mg", cautious=True, start=START, table=table)
    assert (cautious.request.rate_percent, cautious.request.interval_days) == (Decimal(5), 14)
    assert [hold.text() for hold in cautious.request.holds] == ["hold 14 days after every 3 steps"]
    assert cautious.checks.duration_days > 2 * plain.checks.duration_days
    explicit = plan_taper(
        "diazepam", "20mg", cautious=True, rate="10%", every="2w", start=START, table=table
    )
    assert (explicit.request.rate_percent, explicit.request.interval_days) == (Decimal(10), 14)


def test_guardrails_reach_the_plan_and_its_outputs(run: Any) -> None:
    document = run(
        "schedule",
        "clonazepam",
        "2mg",
        "--used-for",
        "18m",
        "--days-per-week",
        "7",
        "--age",
        "70",
        "--with-opioids",
        "--start",
        START,
        "-f",
        "json",
    ).json
    assert document["meta"]["risk"]["level"] == "real"
    assert document["meta"]["risk"]["dose_band"] == "high"
    assert document["meta"]["parameters"]["age"] == 70
    assert any("opioids" in w["message"] for w in document["warnings"])
    # Regression: a patient taking it 2 days a week got a plan of daily doses (more than they
    # took), with only a warning that a taper may not be needed (a prescriber's review).
    refused = run(
        "schedule",
        "clonazepam",
        "0.5mg",
        "--used-for",
        "2y",
        "--days-per-week",
        "2",
        "--start",
        START,
    )
    assert refused.exit_status == 2
    message = " ".join(refused.stderr.split())
    assert "--days-per-week 2: clinically significant withdrawal is rare" in message
    assert "gives a dose every day, more than the patient takes now" in message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days-per-week", "8"], "--days-per-week 8 must be from 1 to 7"),
        (["--age", "200"], "--age 200 must be from 0 to 130"),
        (["--used-for", "a while"], "cannot read duration of use"),
    ],
)
def test_bad_guardrail_input(run: Any, args: list[str], message: str) -> None:
    result = run("schedule", "clonazepam", "1mg", *args)
    assert result.exit_status == 2
    assert message in result.stderr
