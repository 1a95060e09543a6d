"""One judgement for plans and checks (issue 21): the schedule and `taper check` flag cuts
forced by the products, the clinical stop and breaches of the pace by the same rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taper.check import check_plan
from taper.csvout import plan_csv
from taper.errors import TaperError
from taper.guideline import CutVerdict, judge_cut
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, load_table

TABLE = load_table()
REGIMENS = [
    (region, name, product.strength_mg)
    for region in ("us", "uk")
    for name, drug in TABLE.drugs.items()
    for product in drug.products_in(region)
    if not product.is_liquid
]


def checked(tmp_path: Path, table: EquivalenceTable, region: str, **params: object) -> object:
    plan = plan_taper(table=table, region=region, start="2027-01-04", **params)
    path = tmp_path / "plan.csv"
    path.write_text(plan_csv(plan, table), encoding="utf-8")
    return plan, check_plan(path, table, region=region)


@pytest.mark.parametrize(
    ("region", "drug", "dose"),
    [
        ("us", "clonazepam", "0.5mg"),
        ("us", "clonazepam", "1mg"),
        ("us", "clonazepam", "2mg"),
        ("us", "clonazepam", "4mg"),
        ("us", "alprazolam", "1mg"),
        ("us", "alprazolam", "2mg"),
        ("us", "alprazolam", "4mg"),
        ("us", "oxazepam", "30mg"),
        ("us", "oxazepam", "45mg"),
        ("uk", "oxazepam", "30mg"),
        ("uk", "oxazepam", "45mg"),
    ],
)
def test_default_plans_failed_their_own_check(
    tmp_path: Path, table: EquivalenceTable, region: str, drug: str, dose: str
) -> None:
    """Regression: the cuts the schedule marks forced by the products, and the stop from the
    smallest product, were reported by the check as ceiling breaches (exit 1)."""
    plan, result = checked(tmp_path, table, region, drug=drug, dose=dose)
    assert result.problems == ()  # type: ignore[attr-defined]
    if any(step.forced for step in plan.steps):  # type: ignore[attr-defined]
        assert any("the products force" in note for note in result.notes)  # type: ignore[attr-defined]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    regimen=st.sampled_from(REGIMENS),
    times=st.integers(min_value=1, max_value=4),
    pieces=st.integers(min_value=1, max_value=4),
)
def test_every_default_plan_passes_its_check(
    tmp_path: Path, regimen: tuple[str, str, Decimal], times: int, pieces: int
) -> None:
    region, drug, strength = regimen
    try:
        _plan, result = checked(
            tmp_path, TABLE, region, drug=drug, dose=f"{strength * pieces}mg", times=times
        )
    except TaperError:
        return  # a refused request (above the maximum, not dispensable): no plan to check
    assert result.problems == (), [p.message for p in result.problems]  # type: ignore[attr-defined]


def test_the_checker_still_reports_a_cut_the_products_did_not_force(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    path = tmp_path / "plan.csv"
    rows = [(day, "1") for day in range(1, 15)] + [(day, "0.5") for day in range(15, 29)]
    path.write_text("day,dose_mg\n" + "".join(f"{d},{v}\n" for d, v in rows) + "29,0\n")
    result = check_plan(path, table, drug="clonazepam")
    problem, stop = [p for p in result.problems if p.kind == "ceiling"]
    assert (problem.day, stop.day) == (15, 29)
    assert "a smaller cut could be made from the products" in problem.message


@pytest.mark.parametrize(
    ("window", "before", "after", "possible", "verdict"),
    [
        (Fraction(20), Fraction(20), Fraction(18), Fraction(19), CutVerdict.WITHIN),
        (Fraction(20), Fraction(20), Fraction(10), Fraction(19), CutVerdict.BREACH),
        (Fraction(5), Fraction(5), Fraction(0), Fraction(0), CutVerdict.FORCED),
        (Fraction(20), Fraction(20), Fraction(10), None, CutVerdict.BREACH),
        (Fraction(2), Fraction(2), Fraction(0), Fraction(1), CutVerdict.WITHIN),  # CKS 2 mg
    ],
)
def test_judge_cut(
    window: Fraction,
    before: Fraction,
    after: Fraction,
    possible: Fraction | None,
    verdict: CutVerdict,
) -> None:
    assert judge_cut(window, before, after, possible, diazepam=True) is verdict


def test_taper_check_exits_0_on_the_tools_own_clonazepam_plan(run: Any, tmp_path: Path) -> None:
    """Regression: `taper check` exited 1 on `taper schedule clonazepam 1mg --times 2`'s own
    CSV, reporting its forced cuts and its stop as ceiling breaches."""
    path = tmp_path / "plan.csv"
    made = run("schedule", "clonazepam", "1mg", "--times", "2", "--format", "csv", "-o", str(path))
    assert made.exit_status == 0, made.stderr
    checked = run("check", str(path))
    assert checked.exit_status == 0, checked.stdout
    out = " ".join(checked.stdout.split())
    assert "No problems found." in out
    assert "Note: the products force the cuts over the guideline's ceiling" in out


@pytest.mark.parametrize(
    ("region", "drug", "dose", "times", "options"),
    [
        ("uk", "oxazepam", "45mg", 3, {"switch_to": "diazepam"}),
        ("us", "temazepam", "30mg", 2, {"switch_to": "diazepam"}),
        ("uk", "lorazepam", "2.5mg", 1, {"switch_to": "diazepam"}),
        ("us", "clonazepam", "0.25mg", 2, {"switch_to": "diazepam"}),
        ("us", "temazepam", "30mg", 1, {"finish_on": "diazepam"}),
        ("uk", "clonazepam", "2mg", 2, {}),
    ],
)
def test_the_check_dispensed_otherwise_than_the_plan(
    tmp_path: Path,
    table: EquivalenceTable,
    region: str,
    drug: str,
    dose: str,
    times: int,
    options: dict[str, str],
) -> None:
    """Regression: `taper check` of the tool's own switch plans put later doses on the bottle
    that a crossover dose had started (159 of 454 plans of a generated set gave other totals
    to dispense than the plan)."""
    plan, result = checked(tmp_path, table, region, drug=drug, dose=dose, times=times, **options)
    totals = {(d.product.drug, d.product.label()): d.quantity for d in plan.dispensing}  # type: ignore[attr-defined]
    found = {(d.product.drug, d.product.label()): d.quantity for d in result.dispensing}  # type: ignore[attr-defined]
    assert found == totals
