"""Liquids as a last resort and doses a prescriber writes (issue 21; issue 19's 'Doses a
prescriber writes')."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from taper.errors import TaperError
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, load_table

START = "2027-01-04"
TABLE = load_table()


def liquid_of(dose: object) -> list[object]:
    return [p for p in dose.preparation.portions if p.volume_ml is not None]  # type: ignore[attr-defined]


def assert_prescribable(plan: Plan) -> None:
    """At most two products a dose, never two liquids at one dose time, never back from the
    bottle to tablets, and no liquid for a dose tablets make before its dose time's bottle."""
    bottles: dict[tuple[str, str], object] = {}
    for step in plan.steps:
        for dose in step.doses:
            portions = dose.preparation.portions
            assert len({p.product for p in portions}) <= 2, (step.number, dose)
            liquid = liquid_of(dose)
            assert len(liquid) <= 1
            key = (dose.drug, dose.slot)
            if step.phase != "taper" or not dose.dose_mg:
                continue
            if liquid:
                product = liquid[0].product  # type: ignore[attr-defined]
                assert bottles.setdefault(key, product) == product, (step.number, dose)
            elif key in bottles:
                raise AssertionError(f"step {step.number}: {dose.slot} back to tablets")
            else:
                assert plan.formularies[dose.drug].is_solid(dose.dose_mg) or liquid


def test_lorazepam_went_between_tablets_and_concentrate_three_times(
    table: EquivalenceTable,
) -> None:
    """Regression: US lorazepam 4 mg x4 went from tablets to the 2 mg/mL concentrate and
    back three times; and its 0.1-0.5 mL doses were not said to be below a measurable
    volume."""
    plan = plan_taper("lorazepam", "4mg", times=4, start=START, table=table)
    assert_prescribable(plan)
    (small,) = [w.message for w in plan.warnings if w.kind == "small-volume"]
    assert small.startswith(
        "doses of the 2 mg/mL oral concentrate under 0.5 mL (as little as 0.1 mL)"
    )


def test_an_unchanged_night_tablet_was_moved_to_ten_ml_of_solution(
    table: EquivalenceTable,
) -> None:
    """Regression: UK clonazepam 2 mg x2 moved the unchanged night dose from a 1 mg tablet to
    10 mL of solution at step 2 (2,695 mL for the plan)."""
    plan = plan_taper("clonazepam", "2mg", times=2, region="uk", start=START, table=table)
    night = {dose.slot: dose for dose in plan.steps[1].doses}["night"]
    assert night.dose_mg == 1
    assert night.preparation.text() == "1 × 1 mg tablet"
    solution = sum(d.quantity for d in plan.dispensing if d.product.is_liquid)
    assert solution < 2695
    assert_prescribable(plan)


def test_day_one_from_three_products_and_ten_pieces(table: EquivalenceTable) -> None:
    """Regression: clonazepam 4 mg x3 started on 1.375/1.25/1.375 mg from three products."""
    plan = plan_taper("clonazepam", "4mg", times=3, start=START, table=table)
    assert dict(plan.request.regimen) == {
        "morning": D("1.25"),
        "midday": D("1.25"),
        "night": D("1.5"),
    }
    for dose in plan.steps[0].doses:
        portions = dose.preparation.portions
        assert all(p.denominator <= 2 for p in portions)
        assert sum(p.pieces for p in portions) <= 3


def test_uk_clonazepam_1mg_x3_was_0_35_0_3_0_35_mg_of_solution(table: EquivalenceTable) -> None:
    """Regression: 0.35/0.3/0.35 mg as oral solution. The table lists the UK 0.5 mg tablets as
    unscored (scoring is per product), so 0.25 mg comes from the solution, on the half-tablet
    grid, and 0.5 mg from a tablet; with scored tablets given, all three are tablets."""
    plan = plan_taper("clonazepam", "1mg", times=3, region="uk", start=START, table=table)
    assert dict(plan.request.regimen) == {
        "morning": D("0.25"),
        "midday": D("0.25"),
        "night": D("0.5"),
    }
    night = {dose.slot: dose for dose in plan.steps[0].doses}["night"]
    assert not liquid_of(night)
    scored = plan_taper(
        "clonazepam",
        "1mg",
        times=3,
        region="uk",
        products=["0.5mg tablet scored", "2mg tablet"],
        start=START,
        table=table,
    )
    assert not any(liquid_of(dose) for dose in scored.steps[0].doses)


def test_uk_lorazepam_2_5mg_x3_went_to_liquid(table: EquivalenceTable) -> None:
    """Regression: every dose of UK lorazepam 2.5 mg x3 was liquid; only the 0.5 mg that no
    UK tablet makes is now."""
    plan = plan_taper("lorazepam", "2.5mg", times=3, region="uk", start=START, table=table)
    first = {dose.slot: dose for dose in plan.steps[0].doses}
    assert [bool(liquid_of(first[s])) for s in ("morning", "midday", "night")] == [
        False,
        True,
        False,
    ]


def test_finish_on_diazepam_held_7_5_ml_of_solution_for_three_weeks(
    table: EquivalenceTable,
) -> None:
    """Regression: --finish-on diazepam held 7.5 mL of solution through the last crossover
    stage and the stabilisation where tablets make 7 mg."""
    plan = plan_taper("clonazepam", "1mg", finish_on="diazepam", start=START, table=table)
    stable = [s for s in plan.steps if s.phase == "stabilization"]
    assert stable
    for step in stable:
        for dose in step.doses:
            if dose.drug == "diazepam" and dose.dose_mg:
                assert not liquid_of(dose), dose
                # From tablets: each crossover stage rounds down so that the day's
                # equivalent never rises (6 mg after three stages, not 7.5 mL of solution).
                assert dose.dose_mg in {6, 7}


REGIMENS = sorted(
    {
        (region, name, product.strength_mg)
        for region in ("us", "uk")
        for name, drug in TABLE.drugs.items()
        for product in drug.products_in(region)
        if not product.is_liquid
    }
)


@settings(max_examples=40)
@given(
    regimen=st.sampled_from(REGIMENS),
    times=st.integers(min_value=1, max_value=4),
    pieces=st.integers(min_value=1, max_value=4),
)
def test_every_default_plan_is_prescribable(
    regimen: tuple[str, str, D], times: int, pieces: int
) -> None:
    region, drug, strength = regimen
    try:
        plan = plan_taper(
            drug, f"{strength * pieces}mg", times=times, region=region, start=START, table=TABLE
        )
    except TaperError:
        return
    assert_prescribable(plan)


def test_what_to_take_contradicted_step_one(run: object) -> None:
    """Regression: the "What to take for each dose" list kept one way per dose, so 0.5 mg
    read "5 mL of solution" although step 1 takes a 0.5 mg tablet in the morning."""
    result = run(  # type: ignore[operator]
        "schedule", "clonazepam", "1.5mg", "--times", "2", "--region", "uk", "--start", START
    )
    out = " ".join(result.stdout.split())
    assert "0.5 mg (morning): 1 × 0.5 mg tablet" in out
    assert "0.5 mg (night): 5 mL of 0.5 mg/5 mL solution" in out


def test_the_check_says_a_concentrate_dose_is_under_half_a_ml(
    run: object, tmp_path: object
) -> None:
    path = f"{tmp_path}/plan.csv"
    made = run("schedule", "lorazepam", "4mg", "--times", "4", "--format", "csv", "-o", path)  # type: ignore[operator]
    assert made.exit_status == 0, made.stderr
    checked = run("check", path)  # type: ignore[operator]
    out = " ".join(checked.stdout.split())
    assert "Note: doses of the 2 mg/mL oral concentrate under 0.5 mL (as little as 0.1 mL)" in out


def test_a_uk_solution_measured_under_half_a_millilitre_is_said_so(
    table: EquivalenceTable,
) -> None:
    """Only concentrates were flagged: UK lorazepam 3 mg x3 measured 0.1-0.4 mL of the 1 mg/mL
    solution with no warning (a pharmacist's review)."""
    plan = plan_taper("lorazepam", "3mg", times=3, region="uk", start=START, table=table)
    volumes = [
        portion.volume_ml
        for step in plan.steps
        for dose in step.doses
        for portion in dose.preparation.portions
        if portion.volume_ml is not None
    ]
    assert min(volumes) < D("0.5")
    assert [w for w in plan.warnings if w.kind.value == "small-volume"]
