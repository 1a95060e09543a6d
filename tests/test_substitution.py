"""Substitution tapers: crossover, stabilisation and taper in one plan."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taper.errors import (
    HighDoseError,
    InvalidRequestError,
    NoEquivalenceError,
    UndispensableDoseError,
    UnknownNameError,
)
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

D = Decimal
START = "2027-01-04"


def phases(plan: Plan) -> list[str]:
    return [step.phase for step in plan.steps]


def load(plan: Plan, step_index: int) -> Fraction:
    value = plan.diazepam_of(plan.steps[step_index].doses)
    assert value is not None
    return value[0]


def test_alprazolam_to_diazepam_one_dose_time_at_a_time_night_first(
    table: EquivalenceTable,
) -> None:
    plan = plan_taper(
        "alprazolam",
        "morning=0.5mg,midday=0.5mg,night=1mg",
        switch_to="diazepam",
        start=START,
        table=table,
    )
    assert phases(plan)[:5] == ["crossover"] * 4 + ["stabilization"]
    assert [step.days for step in plan.steps[:5]] == [7, 7, 7, 7, 14]
    first, night, midday, morning = (step.totals_by_drug() for step in plan.steps[:4])
    assert first == {"alprazolam": D(2)}
    assert night == {"alprazolam": D(1), "diazepam": D(20)}  # Ashton: alprazolam 0.5 mg = 10 mg
    assert midday == {"alprazolam": D("0.5"), "diazepam": D(30)}
    assert morning == {"diazepam": D(40)}
    assert all(load(plan, i) == 40 for i in range(5))
    assert plan.steps[5].phase == "taper"
    assert plan.steps[5].cut_percent == 10
    assert plan.conversion is not None
    assert plan.conversion.spread is not None
    assert any("depends on the equivalence source" in w.message for w in plan.warnings)


def test_partial_crossover_moves_a_fixed_part_per_stage(table: EquivalenceTable) -> None:
    plan = plan_taper(
        "clonazepam",
        "morning=0.5mg,midday=0.5mg,night=0.5mg",
        switch_to="diazepam",
        crossover="partial",
        part="0.25mg",
        start=START,
        table=table,
    )
    crossover = [step for step in plan.steps if step.phase == "crossover"]
    assert len(crossover) == 7  # the current regimen, then 6 parts of 0.25 mg
    assert crossover[1].totals_by_drug() == {"clonazepam": D("1.25"), "diazepam": D(5)}
    assert crossover[-1].totals_by_drug() == {"diazepam": D(30)}


def test_direct_crossover_warns(table: EquivalenceTable) -> None:
    plan = plan_taper(
        "lorazepam",
        "2mg",
        times=2,
        switch_to="diazepam",
        crossover="direct",
        start=START,
        table=table,
    )
    assert phases(plan)[:3] == ["crossover", "crossover", "stabilization"]
    assert any("over 1-2 weeks" in w.message for w in plan.warnings)


def test_source_changes_the_new_dose(table: EquivalenceTable) -> None:
    ashton = plan_taper(
        "clonazepam", "2mg", times=2, switch_to="chlordiazepoxide", start=START, table=table
    )
    va = plan_taper(
        "clonazepam",
        "2mg",
        times=2,
        switch_to="chlordiazepoxide",
        source="va-dod-2021",
        start=START,
        table=table,
    )

    def stabilised(plan):
        return next(s for s in plan.steps if s.phase == "stabilization").totals_by_drug()

    assert stabilised(ashton) == {"chlordiazepoxide": D(100)}  # 2 mg x 25 / 0.5
    assert stabilised(va) == {"chlordiazepoxide": D(50)}  # 2 mg x 25 / 1


def test_several_current_drugs_cross_over_together(table: EquivalenceTable) -> None:
    plan = plan_taper(
        [("lorazepam", "1mg"), ("alprazolam", "0.5mg")],
        switch_to="clonazepam",
        start=START,
        table=table,
    )
    assert [d.name for d in plan.drugs] == ["lorazepam", "alprazolam", "clonazepam"]
    # Both drugs are at night, the one dose time: it is moved in parts, never in one stage.
    crossover = [s for s in plan.steps if s.phase == "crossover"]
    assert len(crossover) >= 3  # the current regimen, then two stages or more
    assert crossover[1].totals_by_drug()["clonazepam"] < 1
    assert crossover[-1].totals_by_drug() == {"clonazepam": D(1)}  # 0.5 + 0.5 mg (Ashton)
    assert {p.product.drug for p in plan.dispensing} == {"lorazepam", "alprazolam", "clonazepam"}


def test_switching_to_the_same_drug_is_a_direct_taper(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", "1mg", switch_to="Klonopin", start=START, table=table)
    assert not plan.is_substitution
    assert set(phases(plan)) == {"taper", "stop"}


def test_bad_substitutions(table: EquivalenceTable) -> None:
    with pytest.raises(UnknownNameError, match="unknown drug 'diazepan'"):
        plan_taper("clonazepam", "1mg", switch_to="diazepan", table=table)
    with pytest.raises(NoEquivalenceError, match="sources that do: ashton, va-dod-2021"):
        plan_taper("clonazepam", "1mg", switch_to="diazepam", source="who-2009", table=table)
    with pytest.raises(InvalidRequestError, match="needs one value"):
        plan_taper("clonazepam", "1mg", switch_to="diazepam", source="medscape", table=table)
    with pytest.raises(InvalidRequestError, match="larger than the night dose"):
        plan_taper(
            "clonazepam", "1mg", switch_to="diazepam", crossover="partial", part="2mg", table=table
        )
    with pytest.raises(InvalidRequestError, match="add switch_to="):
        plan_taper([("lorazepam", "1mg"), ("alprazolam", "0.5mg")], table=table)
    with pytest.raises(UndispensableDoseError, match="which the products cannot make"):
        plan_taper(
            "clonazepam",
            "1mg",
            switch_to="diazepam",
            crossover="partial",
            part="0.3mg",
            products=["clonazepam 0.5mg tablet"],
            table=table,
        )


substitutions = st.sampled_from(
    [
        ("alprazolam", ["1mg", "2mg", "3mg"], "diazepam"),
        ("alprazolam", ["1mg", "2mg"], "clonazepam"),
        ("lorazepam", ["1mg", "2mg", "4mg"], "diazepam"),
        ("lorazepam", ["2mg", "3mg"], "chlordiazepoxide"),
        ("clonazepam", ["1mg", "1.5mg", "2mg"], "diazepam"),
        ("clonazepam", ["1mg", "2mg"], "chlordiazepoxide"),
        ("diazepam", ["10mg", "20mg"], "clonazepam"),
    ]
).flatmap(
    lambda choice: st.fixed_dictionaries(
        {
            "drug": st.just(choice[0]),
            "dose": st.sampled_from(choice[1]),
            "switch_to": st.just(choice[2]),
            "times": st.sampled_from([1, 2, 3]),
            "crossover": st.sampled_from(["slot", "partial", "direct"]),
            "source": st.sampled_from(["ashton", "va-dod-2021"]),
            "stabilize": st.sampled_from(["0", "1w", "2w"]),
        }
    )
)


@settings(max_examples=60)
@given(params=substitutions)
def test_substitution_invariants(table: EquivalenceTable, params: dict[str, Any]) -> None:
    try:
        plan = plan_taper(start=START, table=table, **params)
    except (UndispensableDoseError, HighDoseError):
        return  # refused: a dose the products cannot make, or above the new drug's maximum
    target = params["switch_to"]
    ratio = plan.ratios[target]
    assert ratio is not None
    # The coarsest step between the doses a plan may use of the new drug ("what the products
    # allow"): rounding one dose time moves the day's equivalent by at most half of it.
    ladder = [Fraction(d) for d in plan.formularies[target].ladder(Decimal(200))]
    coarsest = max(b - a for a, b in itertools.pairwise(ladder))
    days = list(plan.days())
    first = {(d.drug, d.slot): d.dose_mg for d in days[0].doses if d.dose_mg}
    assert set(first) == {(params["drug"], slot) for slot in plan.request.regimen}
    before = plan.steps[0]
    start_load = load(plan, 0)
    for index, step in enumerate(plan.steps[1:], start=1):
        # Old drugs never go up; at most one dose time changes drug per slot stage.
        for old, new in zip(before.doses, step.doses, strict=True):
            if old.drug != target:
                assert new.dose_mg <= old.dose_mg
        if step.phase in {"crossover", "stabilization"}:
            changed = {
                new.slot
                for old, new in zip(before.doses, step.doses, strict=True)
                if old.dose_mg != new.dose_mg and old.drug != target
            }
            # One dose time of the old drug is replaced per stage. The new drug may be
            # spread over other dose times too where its largest single dose (label) does
            # not fit in the one replaced; the equivalent still never rises (below).
            if params["crossover"] != "direct":
                assert len(changed) <= 1
            # The diazepam equivalent never rises above where the switch started (a stage
            # may make up what rounding lost at an earlier one), and falls only by what
            # rounding to the products loses: less than one of their steps per dose time
            # and stage.
            assert load(plan, index) <= start_load
            assert start_load - load(plan, index) < ratio[0] * coarsest * index * len(plan.slots)
        else:
            # After the crossover only the new drug remains, and nothing goes up.
            assert set(step.totals_by_drug()) <= {target}
            for old, new in zip(before.doses, step.doses, strict=True):
                assert new.dose_mg <= old.dose_mg
        before = step
    assert [d.day for d in days] == list(range(1, len(days) + 1))
    assert days[-1].total_mg == 0
    for step in plan.steps:
        for dose in step.doses:
            assert sum((p.mg for p in dose.preparation.portions), Fraction(0)) == dose.dose_mg


def test_golden_clonazepam_to_diazepam_three_times_daily(run: Any, golden: Any) -> None:
    result = run(
        "schedule",
        "clonazepam",
        "morning=0.5mg,midday=0.5mg,night=0.5mg",
        "--switch-to",
        "diazepam",
        "--start",
        START,
    )
    assert result.exit_status == 0, result.stderr
    golden("switch_clonazepam_to_diazepam.txt", result.stdout)


def test_golden_alprazolam_to_clonazepam_csv(run: Any, golden: Any) -> None:
    result = run(
        "schedule",
        "alprazolam",
        "1.5mg",
        "--times",
        "3",
        "--switch-to",
        "clonazepam",
        "--stabilize",
        "1w",
        "--final",
        "0.5mg",
        "--start",
        START,
        "--format",
        "csv",
    )
    assert result.exit_status == 0, result.stderr
    assert ",crossover,alprazolam," in result.stdout
    assert ",stabilization,clonazepam," in result.stdout
    golden("switch_alprazolam_to_clonazepam.csv", result.stdout)


def test_golden_two_drugs_to_chlordiazepoxide_json(run: Any, golden: Any) -> None:
    result = run(
        "schedule",
        "lorazepam",
        "morning=1mg,night=1mg",
        "oxazepam",
        "night=30mg",
        "--switch-to",
        "Librium",
        "--product",
        "oxazepam 15mg capsule",
        "--final",
        "40mg",
        "--start",
        START,
        "--format",
        "json",
    )
    assert result.exit_status == 0, result.stderr
    document = result.json
    assert document["meta"]["drugs"] == ["lorazepam", "oxazepam", "chlordiazepoxide"]
    assert document["meta"]["source"] == "ashton"
    assert {r["source"] for r in document["meta"]["switch"]} >= {"ashton", "va-dod-2021"}
    golden("switch_two_drugs_to_chlordiazepoxide.json", result.stdout)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["clonazepam", "1mg", "--switch-to", "valium2"], 2, "unknown drug 'valium2'"),
        (["clonazepam", "1mg", "--switch-to", "diazepam", "-s", "who-2009"], 1, "sources that do"),
        (
            [
                "clonazepam",
                "1mg",
                "--switch-to",
                "diazepam",
                "--crossover",
                "partial",
                "--part",
                "2mg",
            ],
            2,
            "larger than the night dose",
        ),
        (
            ["clonazepam", "1mg", "--switch-to", "diazepam", "--crossover", "sideways"],
            2,
            "unknown --crossover sideways; use slot, partial, direct",
        ),
        (["clonazepam", "1mg", "--switch-to", "diazepam", "--stage", "0d"], 2, "at least one day"),
        (["lorazepam", "1mg", "alprazolam", "0.5mg"], 2, "add --switch-to"),
        (["lorazepam", "1mg", "alprazolam"], 2, "'alprazolam' has no dose"),
    ],
)
def test_bad_substitution_input(run: Any, args: list[str], status: int, message: str) -> None:
    result = run("schedule", *args)
    assert result.exit_status == status, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
