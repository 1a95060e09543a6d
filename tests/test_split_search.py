"""Splitting a daily total over dose times: a total the products can make at each dose time is
split, never refused; one that cannot be split names a remedy that works (a fresh user's
review: diazepam 2.5 mg over 2 dose times was refused, while 'morning=1mg,night=1.5mg'
planned)."""

from __future__ import annotations

import shlex
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taper.guideline import prescribing_step
from taper.params import TIMES
from taper.products import Formulary
from taper.regimen import products_for, split_daily_dose
from taper.table import EquivalenceTable, load_table, ratio_to_diazepam

D = Decimal
START = "2027-01-04"
_TABLE = load_table()
_DRUGS_REGIONS = sorted(
    (drug.name, region)
    for drug in _TABLE.drugs.values()
    for region in ("uk", "us")
    if drug.products_in(region)
)


def _formulary_and_step(
    table: EquivalenceTable, name: str, region: str
) -> tuple[Formulary, Fraction | None]:
    drug = table.drug(name)
    formulary = products_for(table, drug, region, (), name)
    ratio = ratio_to_diazepam(table, drug, table.source(table.default_source))
    return formulary, prescribing_step(None if ratio is None else ratio[0], formulary)


def _splittable(total: int, count: int, formulary: Formulary) -> bool:
    """Whether some ``count`` positive doses the products make add up to ``total`` quanta:
    by brute force over every dose up to the total."""
    makeable = [u for u in range(1, total + 1) if formulary.can_make(formulary.quantum * u)]
    sums = {0}
    for _ in range(count):
        sums = {s + u for s in sums for u in makeable if s + u <= total}
    return total in sums


@pytest.mark.parametrize(
    ("drug", "dose", "times", "region", "split"),
    [
        ("diazepam", "2.5mg", 2, "us", "1 mg morning, 1.5 mg night"),
        ("diazepam", "7.5mg", 3, "us", "2.5 mg morning, 2 mg midday, 3 mg night"),
        ("diazepam", "4.5mg", 3, "us", "1.5 mg morning, 1 mg midday, 2 mg night"),
        ("temazepam", "25mg", 2, "uk", "10 mg morning, 15 mg night"),
    ],
)
def test_a_makeable_total_off_the_prescribing_step_is_split_not_refused(
    run: Any, drug: str, dose: str, times: int, region: str, split: str
) -> None:
    result = run("schedule", drug, dose, "--times", str(times), "--region", region)
    assert result.exit_status == 0, result.stderr
    assert f"a day: {split}." in result.stdout


def test_a_revised_total_off_the_prescribing_step_is_split_over_the_plans_dose_times(
    run: Any, tmp_path: Any
) -> None:
    path = tmp_path / "p.json"
    made = run("schedule", "diazepam", "30mg", "--times", "3", "--start", START, "-o", str(path))
    assert made.exit_status == 0, made.stderr
    result = run("revise", str(path), "--on", "2027-02-01", "--taken", "22.5mg")
    assert result.exit_status == 0, result.stderr


def test_a_total_that_cannot_be_split_names_doses_per_dose_time_that_plan(run: Any) -> None:
    # 15 mg of temazepam from 7.5 mg capsules and up: two doses at most.
    refused = run("schedule", "temazepam", "15mg", "--times", "4", "--region", "us")
    assert refused.exit_status == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "cannot be split over 4 dose times" in refused.stderr
    suggested = refused.stderr.split("such as ")[1].strip()
    assert suggested == "'morning=7.5mg,night=7.5mg'"
    planned = run("schedule", "temazepam", *shlex.split(suggested), "--region", "us")
    assert planned.exit_status == 0, planned.stderr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drug_region=st.sampled_from(_DRUGS_REGIONS),
    quanta=st.integers(min_value=1, max_value=60),
    times=st.sampled_from([2, 3, 4]),
)
def test_a_total_some_makeable_doses_add_up_to_is_split_exactly(
    drug_region: tuple[str, str], quanta: int, times: int
) -> None:
    name, region = drug_region
    formulary, step = _formulary_and_step(_TABLE, name, region)
    total = D(formulary.quantum.numerator * quanta) / D(formulary.quantum.denominator)
    if not _splittable(quanta, times, formulary):
        with pytest.raises(ValueError, match="cannot be split"):
            split_daily_dose(total, TIMES[times], formulary, step)
        return
    split = split_daily_dose(total, TIMES[times], formulary, step)
    assert sum(split.values(), D(0)) == total
    assert set(split) == set(TIMES[times])
    assert all(dose > 0 and formulary.can_make(dose) for dose in split.values())
