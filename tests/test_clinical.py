"""Plans a prescriber would sign: the clinical end, rounding toward the slower plan, warnings
that are true, safe switches (issues "Plans a prescriber would sign" and "Safe switches").

Regression tests are named after the finding they pin; properties hold over generated plans.
"""

from __future__ import annotations

import itertools
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taper.direct import method_pace
from taper.errors import HighDoseError, InvalidRequestError
from taper.guideline import over_ceiling
from taper.regimen import split_daily_dose
from taper.schedule import TaperPlan, plan_taper
from taper.table import EquivalenceTable, ratio_to_diazepam

D = Decimal
START = "2027-01-04"


def plan(table: EquivalenceTable, drug: Any, dose: str | None = None, **options: Any) -> TaperPlan:
    return plan_taper(drug, dose, start=START, table=table, **options)


def diazepam_loads(plan: TaperPlan) -> list[Fraction]:
    return [plan.diazepam_of(step.doses)[0] for step in plan.steps]  # type: ignore[index]


def kinds(plan: TaperPlan) -> set[str]:
    return {warning.kind.value for warning in plan.warnings}


# ------------------------------------------------------------------ the clinical end


@pytest.mark.parametrize(("dose", "most_weeks"), [("10mg", 30), ("20mg", 40)])
def test_default_diazepam_plans_stop_from_the_clinical_end_within_cks_and_pass_check(
    run: Any, tmp_path: Path, dose: str, most_weeks: int
) -> None:
    """CKS: 20-40 weeks from 20 mg (and its bands give 10-30 from 10 mg); stop from 0.5-1 mg."""
    out = tmp_path / "plan.csv"
    made = run("schedule", "diazepam", dose, "--times", "2", "--start", START, "-f", "csv")
    assert made.exit_status == 0, made.stderr
    out.write_text(made.stdout, encoding="utf-8")
    checked = run("check", str(out))
    assert checked.exit_status == 0, checked.stdout
    document = run(
        "schedule", "diazepam", dose, "--times", "2", "--start", START, "-f", "json"
    ).json
    assert D("0.5") <= D(str(document["checks"]["stop_from_mg"])) <= 1
    assert document["checks"]["duration_days"] <= most_weeks * 7


def test_micro_dose_tails_are_gone(table: EquivalenceTable) -> None:
    """diazepam 10 mg took 575 days, 252 of them below 1 mg, stopping from 0.1 mg."""
    diazepam = plan(table, "diazepam", "10mg", times=2)
    assert diazepam.checks.duration_days == 140
    assert min(step.total_mg for step in diazepam.steps[:-1]) == 1
    clonazepam = plan(table, "clonazepam", "1mg", times=2, region="uk")
    assert clonazepam.checks.duration_days < 300  # was 574 days, down to 0.01 mg
    assert clonazepam.checks.stop_from_mg == D("0.05")  # 1 mg diazepam equivalent (Ashton)
    assert all(step.total_mg % D("0.05") == 0 for step in clonazepam.steps)  # no 0.03 mg
    older = plan(table, "diazepam", "40mg", times=4, age=80, cautious=True)
    assert older.checks.duration_days < 2002
    assert "long-plan" in kinds(older)  # 5% every 2 weeks with holds: 120 weeks, said to be long


@pytest.mark.parametrize(
    ("drug", "region", "doses"),
    [
        ("diazepam", "us", ["2mg", "5mg", "10mg", "20mg", "40mg"]),
        ("clonazepam", "uk", ["0.5mg", "1mg", "2mg"]),
        ("clonazepam", "us", ["0.5mg", "1mg", "2mg"]),
        ("chlordiazepoxide", "us", ["25mg", "50mg"]),
    ],
)
def test_no_default_plan_goes_below_the_clinical_end(
    table: EquivalenceTable, drug: str, region: str, doses: list[str]
) -> None:
    for dose in doses:
        made = plan(table, drug, dose, region=region)
        smallest = made.diazepam_of((next(d for d in made.steps[-2].doses if d.dose_mg),))
        assert smallest is not None
        for load in diazepam_loads(made)[:-1]:
            assert load >= min(Fraction(1), smallest[0])


def test_micro_end_goes_on_to_the_smallest_dose_when_asked(table: EquivalenceTable) -> None:
    clinical = plan(table, "clonazepam", "1mg", region="uk")
    micro = plan(table, "clonazepam", "1mg", region="uk", end="micro")
    assert micro.checks.stop_from_mg < clinical.checks.stop_from_mg
    assert micro.checks.duration_days > clinical.checks.duration_days


def test_normal_ends_are_not_problems_for_check(
    run: Any, tmp_path: Path, table: EquivalenceTable
) -> None:
    """A stop from 0.5 mg diazepam was reported as a stop although 0.1 mg could be made."""
    path = tmp_path / "plan.csv"
    path.write_text(
        "day,dose_mg\n"
        + "".join(f"{d},{1 if d <= 14 else 0.5 if d <= 28 else 0}\n" for d in range(1, 30)),
        encoding="utf-8",
    )
    assert run("check", str(path), "--drug", "diazepam").exit_status == 0
    path.write_text("day,dose_mg\n1,5\n2,5\n3,0\n", encoding="utf-8")
    result = run("check", str(path), "--drug", "diazepam")
    assert result.exit_status == 1
    assert "clinical end" in result.stdout


# ------------------------------------------------------------------ rounding and holds


def test_rounding_takes_the_slower_dose(table: EquivalenceTable) -> None:
    """A 10% method made 12.5% cuts (clonazepam 2 -> 1.75 mg) where 1.875 mg could be made."""
    made = plan(table, "clonazepam", "2mg", times=2)
    assert made.steps[1].total_mg == D("1.875")
    assert "start-pace" not in kinds(made)


def _percent_plans() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "drug_dose": st.sampled_from(
                [
                    ("clonazepam", "us", "2mg"),
                    ("clonazepam", "us", "1.5mg"),
                    ("clonazepam", "uk", "1mg"),
                    ("diazepam", "us", "30mg"),
                    ("diazepam", "uk", "12mg"),
                    ("alprazolam", "us", "3mg"),
                    ("lorazepam", "us", "4mg"),
                    ("chlordiazepoxide", "us", "60mg"),
                ]
            ),
            "rate": st.sampled_from(["5%", "10%", "15%", "20%"]),
            "every": st.sampled_from(["1w", "2w", "4w"]),
            "times": st.sampled_from([1, 2, 3]),
        }
    )


def _built(table: EquivalenceTable, params: dict[str, Any]) -> TaperPlan | None:
    drug, region, dose = params["drug_dose"]
    try:
        return plan(
            table,
            drug,
            dose,
            region=region,
            rate=params["rate"],
            every=params["every"],
            times=params["times"],
        )
    except (HighDoseError, ValueError):
        return None  # refused (the products cannot split the dose that way, or too high)


@settings(max_examples=40, deadline=None)
@given(params=_percent_plans())
def test_cuts_are_never_larger_than_the_method_asks_and_holds_keep_the_pace(
    table: EquivalenceTable, params: dict[str, Any]
) -> None:
    made = _built(table, params)
    if made is None:
        return
    ratio = ratio_to_diazepam(table, made.drug, made.source)
    start = made.steps[0].total_mg
    asked, _ = method_pace(made.request, ratio, made.source, made.drug, start)
    assert asked is not None
    interval = made.request.interval_days
    taper = [step for step in made.steps if step.phase == "taper"]
    with localcontext(prec=34):
        # The plan never gets ahead of the method's curve: at every interval boundary the
        # dose taken is at least the ideal, so the average pace is the method's at most.
        ideal, day = start, 1
        for step in taper[1:]:
            while day + interval <= step.start_day:
                ideal, day = asked(ideal), day + interval
            assert step.total_mg >= ideal.quantize(D("0.001")) - D("0.001")
        # A cut is larger than the method's cut from the dose actually taken only where no
        # smaller cut can be made: then the step is the next dose down the plan's doses.
        doses = sorted({step.total_mg for step in made.steps}, reverse=True)
        for before, after in itertools.pairwise(taper):
            if after.total_mg < asked(before.total_mg) - D("0.0001"):
                assert doses.index(after.total_mg) == doses.index(before.total_mg) + 1


def test_the_end_is_never_faster_than_the_middle(table: EquivalenceTable) -> None:
    """After a product-forced 70-day hold at 0.25 mg came 0.125 mg for 14 days, then the stop."""
    made = plan(table, "clonazepam", "2mg", times=2)
    last = made.steps[-2]
    assert last.total_mg == D("0.125")
    assert last.days > made.request.interval_days


def test_splits_are_as_even_as_the_products_allow(table: EquivalenceTable) -> None:
    """lorazepam 2.5 mg over 3 was 0.5/0.5/1.5; chlordiazepoxide 75 mg over 4 was 15/15/15/30."""
    lorazepam = plan(table, "lorazepam", "2.5mg", times=3)
    assert dict(lorazepam.request.regimen) == {"morning": 1, "midday": D("0.5"), "night": 1}
    chlordiazepoxide = plan(table, "chlordiazepoxide", "75mg", times=4)
    assert sorted(chlordiazepoxide.request.regimen.values()) == [15, 20, 20, 20]
    assert chlordiazepoxide.request.regimen["night"] == 20
    assert "Now: chlordiazepoxide 75 mg a day: 20 mg morning" in chlordiazepoxide.regimen_text()


@settings(max_examples=40, deadline=None)
@given(
    drug_total=st.sampled_from(
        [
            ("clonazepam", "us", ["0.75", "1", "1.25", "1.5", "2", "2.5", "3"]),
            ("diazepam", "us", ["5", "7", "11", "13", "25"]),
            ("chlordiazepoxide", "us", ["35", "45", "75", "95"]),
        ]
    ).flatmap(lambda c: st.tuples(st.just(c[0]), st.just(c[1]), st.sampled_from(c[2]))),
    times=st.sampled_from([2, 3, 4]),
)
def test_splits_minimise_the_largest_difference_from_an_even_split(
    table: EquivalenceTable, drug_total: tuple[str, str, str], times: int
) -> None:
    from taper.params import TIMES
    from taper.regimen import products_for

    name, region, total = drug_total
    drug = table.drug(name)
    formulary = products_for(table, drug, region, (), name)
    try:
        split = split_daily_dose(D(total), TIMES[times], formulary)
    except ValueError:
        return
    share = Fraction(D(total)) / times
    deviation = max(abs(Fraction(dose) - share) for dose in split.values())
    every = [d for d in formulary.ladder(D(total)) if d > 0]
    solid = [d for d in every if formulary.is_solid(d)]

    def deviations(doses: list[Decimal]) -> list[Fraction]:
        return [
            max(abs(Fraction(d) - share) for d in (*combo, D(total) - sum(combo, D(0))))
            for combo in itertools.product(doses, repeat=times - 1)
            if D(total) - sum(combo, D(0)) in doses
        ]

    def simple(dose: Decimal) -> bool:
        preparation = formulary.preparation(dose)
        assert preparation is not None
        portions = preparation.portions
        return (
            all(p.denominator <= 2 and p.volume_ml is None for p in portions)
            and len({p.product for p in portions}) <= 2
            and sum(p.pieces for p in portions) <= 4
            and len({p.product.form for p in portions}) == 1
        )

    # The most even split of simple doses (at most four whole or half tablets of one form and
    # at most two products) if they can make it, else from tablets and capsules, else with a
    # liquid.
    simple_doses = [d for d in solid if simple(d)]
    assert deviation == min(deviations(simple_doses) or deviations(solid) or deviations(every))


def test_liquids_only_where_tablets_cannot_keep_the_pace(table: EquivalenceTable) -> None:
    """diazepam 9.7 mg and 8.7 mg from a liquid; 5 mg over 3 as 1.6/1.6/1.8 mL."""
    five = plan(table, "diazepam", "5mg", times=3)
    assert dict(five.request.regimen) == {"morning": 2, "midday": 1, "night": 2}
    for made in (five, plan(table, "diazepam", "10mg"), plan(table, "diazepam", "30mg", times=3)):
        for step in made.steps:
            for dose in step.doses:
                assert all(p.volume_ml is None for p in dose.preparation.portions)
                assert dose.dose_mg == dose.dose_mg.to_integral_value()


def test_daytime_doses_go_to_zero_one_at_a_time(table: EquivalenceTable) -> None:
    """From diazepam 10/10/10, daytime-first cut morning and midday together (9/9, 8/8...)."""
    made = plan(table, "diazepam", "morning=10mg,midday=10mg,night=10mg")
    seen_morning_cut = False
    for step in made.steps:
        morning, midday, night = (dose.dose_mg for dose in step.doses)
        if morning < 10:
            seen_morning_cut = True
            assert midday == 0  # midday reached zero first (Ashton, NHS Scotland)
        if night < 10 and step.phase != "stop":
            assert morning == midday == 0
    assert seen_morning_cut


@pytest.mark.parametrize(("dose", "weeks"), [("40mg", (30, 60)), ("20mg", (20, 40))])
def test_bands_land_inside_ckss_own_estimates(
    table: EquivalenceTable, dose: str, weeks: tuple[int, int]
) -> None:
    """--method bands took 68-70 weeks from 40 mg and 48-50 from 20 mg."""
    made = plan(table, "diazepam", dose, times=2, method="bands")
    assert weeks[0] * 7 <= made.checks.duration_days <= weeks[1] * 7
    assert made.checks.stop_from_mg == 1


# ------------------------------------------------------------------ warnings that are true


def test_an_ordinary_sweep_has_no_pace_warnings_and_forced_cuts_name_their_remedy(
    table: EquivalenceTable,
) -> None:
    """36 of 36 ordinary plans were flagged over the ceiling and 32 as starting too fast."""
    for (drug, region, dose), rate, every in itertools.product(
        [
            ("clonazepam", "uk", "0.5mg"),
            ("clonazepam", "uk", "1mg"),
            ("clonazepam", "uk", "2mg"),
            ("diazepam", "us", "5mg"),
            ("diazepam", "us", "10mg"),
            ("diazepam", "us", "20mg"),
            ("clonazepam", "us", "1mg"),
            ("clonazepam", "us", "2mg"),
        ],
        ["5%", "10%"],
        ["2w", "4w"],
    ):
        made = plan(table, drug, dose, region=region, rate=rate, every=every)
        assert not {"ceiling", "start-pace", "target-pace", "stop-dose"} & kinds(made)
        assert not any(step.exceeds_ceiling for step in made.steps)
        forced = [w for w in made.warnings if w.kind == "forced-cut"]
        if region == "us" and drug == "clonazepam":
            assert forced
            assert "--finish-on diazepam" in forced[0].message
        else:
            assert not forced


def test_forced_is_never_said_of_a_cut_the_products_could_make_smaller(
    table: EquivalenceTable,
) -> None:
    """'Forced by the products' appeared on a 13 -> 11 mg diazepam step (12 mg can be made)."""
    for dose in ("13mg", "20mg", "40mg"):
        made = plan(table, "diazepam", dose, rate="20%")
        assert not any(step.forced for step in made.steps)


def test_target_pace_warning_does_not_blame_the_target_for_forced_cuts(
    table: EquivalenceTable,
) -> None:
    """'needs 9.5% every 14 days, which breaks the ceiling: consider a later target' blamed the
    target for the 50% cut the products force at the end."""
    made = plan(table, "clonazepam", "2mg", times=2, duration="52w")
    assert "target-pace" not in kinds(made)
    assert "forced-cut" in kinds(made)


def test_cautious_is_not_suggested_when_given(table: EquivalenceTable) -> None:
    made = plan(table, "diazepam", "20mg", age=80, cautious=True)
    assert not any("--cautious" in w.message for w in made.warnings)
    assert any("--cautious" in w.message for w in plan(table, "diazepam", "20mg", age=80).warnings)


def test_finish_on_diazepam_builds_ashtons_way_out(table: EquivalenceTable) -> None:
    made = plan(table, "clonazepam", "2mg", times=2, finish_on="diazepam")
    assert [d.name for d in made.drugs] == ["clonazepam", "diazepam"]
    assert not any(step.forced or step.exceeds_ceiling for step in made.steps)
    assert made.checks.stop_from_mg == 1  # diazepam 1 mg: the clinical end
    phases = [step.phase for step in made.steps]
    assert phases[0] == "taper"
    assert "crossover" in phases
    loads = diazepam_loads(made)
    # The equivalent never rises, except that a crossover stage may make up what an earlier
    # stage lost to rounding, never above where the crossover started.
    first = phases.index("crossover")
    assert all(
        loads[index] <= (loads[first - 1] if phases[index] == "crossover" else loads[index - 1])
        for index in range(1, len(loads))
    )
    assert made.request.finish_on == "diazepam"


# ------------------------------------------------------------------ safe switches


def test_a_switch_above_the_new_drugs_maximum_is_refused(run: Any) -> None:
    """alprazolam 2/2/2 mg switched to diazepam 40 mg three times a day (120 mg a day)."""
    result = run(
        "schedule", "alprazolam", "morning=2mg,midday=2mg,night=2mg", "--switch-to", "diazepam"
    )
    assert result.exit_status == 1
    assert "diazepam 120 mg is above the usual maximum of 40 mg" in result.stderr
    assert "inpatient" in result.stderr
    result = run(
        "schedule", "alprazolam", "morning=1mg,midday=1mg,night=1mg", "--switch-to", "diazepam"
    )
    assert result.exit_status == 1
    assert "va-dod-2021" in result.stderr
    assert "--switch-reduction" in result.stderr
    assert "inpatient" in result.stderr


@settings(max_examples=30, deadline=None)
@given(
    regimen=st.sampled_from(
        [
            ("alprazolam", "morning=1mg,night=1mg"),
            ("alprazolam", "morning=2mg,midday=2mg,night=2mg"),
            ("lorazepam", "morning=2mg,night=2mg"),
            ("clonazepam", "night=2mg"),
            ("clonazepam", "morning=1mg,night=3mg"),
            ("clonazepam", "morning=0.25mg,midday=0.25mg,night=1mg"),
            ("alprazolam", "morning=0.5mg,midday=0.5mg,night=1mg"),
        ]
    ),
    target=st.sampled_from(["diazepam", "chlordiazepoxide"]),
    source=st.sampled_from(["ashton", "va-dod-2021"]),
    crossover=st.sampled_from(["slot", "partial", "direct"]),
)
def test_a_switch_never_goes_above_the_maximum_nor_raises_the_equivalent(
    table: EquivalenceTable, regimen: tuple[str, str], target: str, source: str, crossover: str
) -> None:
    try:
        made = plan(
            table, regimen[0], regimen[1], switch_to=target, source=source, crossover=crossover
        )
    except HighDoseError:
        return
    except ValueError:
        return  # a dose the products cannot make that way is refused
    drug = table.drug(target)
    assert drug.max_daily is not None
    loads = diazepam_loads(made)
    for index, step in enumerate(made.steps):
        assert step.totals_by_drug().get(target, 0) <= drug.max_daily.mg
        single = drug.max_daily.single_mg
        if single is not None:
            assert all(d.dose_mg <= single for d in step.doses if d.drug == target)
        if index and step.phase in {"crossover", "stabilization"}:
            # Never above where the switch started (a stage may make up what rounding lost
            # at an earlier one: no cascade of rounding down).
            assert loads[index] <= loads[0]


def test_older_people_and_liver_impairment_are_warned_of_accumulation(
    table: EquivalenceTable,
) -> None:
    made = plan(
        table, "lorazepam", "2mg", times=2, switch_to="diazepam", age=82, liver_impairment=True
    )
    accumulation = [w for w in made.warnings if w.kind == "accumulation"]
    assert accumulation
    assert "oxazepam" in accumulation[0].message
    assert "older people and liver impairment" in accumulation[0].message
    assert "accumulation" not in kinds(plan(table, "lorazepam", "2mg", switch_to="diazepam"))


def test_one_dose_time_is_never_switched_in_one_step(table: EquivalenceTable) -> None:
    """clonazepam night=2mg went to diazepam 40 mg overnight, with no warning."""
    made = plan(table, "clonazepam", "night=2mg", switch_to="diazepam", source="va-dod-2021")
    crossover = [s for s in made.steps if s.phase == "crossover"]
    assert len(crossover) >= 3
    loads = diazepam_loads(made)
    for before, after in itertools.pairwise(crossover):
        moved = before.totals_by_drug().get("clonazepam", 0) - after.totals_by_drug().get(
            "clonazepam", 0
        )
        assert moved <= before.totals_by_drug().get("clonazepam", 0)
    assert loads[0] == 20
    direct = plan(
        table,
        "clonazepam",
        "night=2mg",
        switch_to="diazepam",
        source="va-dod-2021",
        crossover="direct",
    )
    assert "switch-at-once" in kinds(direct)
    assert "switch-at-once" not in kinds(made)


def test_the_switched_dose_can_start_lower(table: EquivalenceTable) -> None:
    made = plan(table, "lorazepam", "2mg", times=2, switch_to="diazepam", switch_reduction="25%")
    stabilised = next(s for s in made.steps if s.phase == "stabilization")
    # 20 mg less 25% is 7.5 mg a dose time; tablets make 7 mg (issue 19: no crossover dose
    # from a liquid where tablets make one) and the dose time switched last makes up the
    # half mg the first lost: 7 + 8 = 15 mg, the reduced equivalent, nothing lost.
    assert stabilised.totals_by_drug() == {"diazepam": 15}
    assert all("mL" not in dose.preparation.text() for dose in stabilised.doses)
    assert "switch-reduction" in kinds(made)
    assert "switch-rounding" not in kinds(made)


def test_dose_bands_follow_the_guidelines_own_examples(table: EquivalenceTable) -> None:
    """clonazepam 1 mg was 'a high dose'; lorazepam 2 mg at 2 months 'real risk, high band'."""
    clonazepam = plan(table, "clonazepam", "1mg")
    assert clonazepam.risk is not None
    assert clonazepam.risk.dose_band == "moderate"
    assert "example for clonazepam" in clonazepam.risk.band_basis
    lorazepam = plan(table, "lorazepam", "2mg", times=2, used_for="2m")
    assert lorazepam.risk is not None
    assert (lorazepam.risk.dose_band, lorazepam.risk.level) == ("low", "lower")


def test_the_opioid_warning_names_the_real_risk(table: EquivalenceTable) -> None:
    made = plan(table, "diazepam", "10mg", with_opioids=True, with_alcohol=True)
    opioids = next(w for w in made.warnings if w.kind == "opioids")
    assert "respiratory depression" in opioids.message
    assert "FDA" in opioids.message
    assert "withdrawal" not in opioids.message
    alcohol = next(w for w in made.warnings if w.kind == "alcohol")
    assert "respiratory depression" in alcohol.message


def test_the_partial_crossover_that_crashed_gives_a_plan(run: Any) -> None:
    """'internal error (ValueError: a dose cannot be negative)': 15 -> 14.5 -> 15 mg."""
    result = run(
        "schedule",
        "clonazepam",
        "morning=0.5mg,midday=0.5mg,night=0.5mg",
        "--switch-to",
        "diazepam",
        "--crossover",
        "partial",
        "--source",
        "va-dod-2021",
        "--region",
        "uk",
        "--start",
        START,
        "-f",
        "json",
    )
    assert result.exit_status == 0, result.stderr
    loads = [step["diazepam_eq_mg_low"] for step in result.json["steps"]]
    phases = [step["phase"] for step in result.json["steps"]]
    crossing = [load for load, phase in zip(loads, phases, strict=True) if phase == "crossover"]
    assert all(b <= a for a, b in itertools.pairwise(crossing))


def test_over_ceiling_allows_cks_tail_steps() -> None:
    assert not over_ceiling(Fraction(2), Fraction(1), True)  # 1 mg diazepam: CKS
    assert not over_ceiling(Fraction(1), Fraction(0), True)  # the stop from 1 mg
    assert over_ceiling(Fraction(5), Fraction(2), True)  # 3 mg in 2 weeks: too much
    assert over_ceiling(Fraction(2), Fraction(1), False)  # no diazepam equivalent: 50%


# ------------------------------------------------------------------ from the prescriber review


def test_short_acting_drugs_keep_several_dose_times(table: EquivalenceTable) -> None:
    """alprazolam 1 mg three times a day ended 1 -> 0.75 -> 0.5 -> 0.25 mg once at night."""
    made = plan(table, "alprazolam", "morning=1mg,midday=1mg,night=1mg")
    assert made.request.order == "even"
    for step in made.steps:
        taken = [dose.dose_mg for dose in step.doses if dose.dose_mg]
        if sum(taken) >= D("0.75"):  # while the products make a dose at every time
            assert len(taken) == 3
    assert plan(table, "diazepam", "morning=5mg,night=5mg").request.order == "daytime-first"


def test_a_target_the_products_cannot_meet_closely_says_how_early_it_stops(
    table: EquivalenceTable,
) -> None:
    made = plan(table, "diazepam", "20mg", times=2, duration="26w")
    assert made.resolved_pace is not None
    assert "days before the target" in made.resolved_pace


def test_tail_steps_slow_down_in_ckss_last_band(table: EquivalenceTable) -> None:
    """A 20% plan ended 9 -> 7 -> 5 -> 3 -> 1 mg: faster at the end than in the middle."""
    made = plan(table, "diazepam", "20mg", times=2, rate="20%")
    totals = [step.total_mg for step in made.steps]
    for before, after in itertools.pairwise(totals[:-1]):
        if before <= 5:
            assert before - after <= 1


def test_the_last_dose_lasts_as_long_as_the_one_before(table: EquivalenceTable) -> None:
    """clonazepam 0.25 mg for 42 days, then 0.125 mg for 14 days, then the stop."""
    for made in (plan(table, "clonazepam", "1mg"), plan(table, "chlordiazepoxide", "30mg")):
        before, last = made.steps[-3], made.steps[-2]
        assert last.days >= before.days - before.hold_days


def test_specialist_thresholds_do_not_depend_on_the_chosen_source(
    table: EquivalenceTable,
) -> None:
    """clonazepam 4 mg: 'consider inpatient withdrawal' by Ashton (80 mg), nothing by VA/DoD."""
    for source in ("ashton", "va-dod-2021"):
        made = plan(table, "clonazepam", "4mg", times=2, source=source)
        specialist = [w for w in made.warnings if w.kind == "specialist-dose"]
        assert specialist
        assert "inpatient" in specialist[0].message


def test_a_switch_into_a_higher_dose_band_warns(table: EquivalenceTable) -> None:
    """A direct switch leaving diazepam 40 mg a day was labelled 'dose band moderate'."""
    made = plan(
        table,
        "alprazolam",
        "morning=0.5mg,midday=0.5mg,night=1mg",
        switch_to="diazepam",
        crossover="direct",
    )
    assert any("after the switch, diazepam 40 mg" in w.message for w in made.warnings)


def test_the_first_two_weeks_are_the_plans_own(table: EquivalenceTable) -> None:
    """diazepam 5 mg reported 20% in the 'first 2 weeks' although nothing changed for 28 days."""
    made = plan(table, "diazepam", "5mg")
    held = made.steps[0].days
    expected = 0 if held > 15 else made.checks.first_14_day_reduction_percent
    assert made.checks.first_14_day_reduction_percent == expected
    assert made.summary["starts_faster_than_guideline"] is False


def test_check_reads_the_source_the_plan_was_made_with(run: Any, tmp_path: Path) -> None:
    """taper check judged a VA/DoD switch by Ashton and reported a 50% cut at day 15."""
    path = tmp_path / "switch.csv"
    made = run(
        "schedule",
        "clonazepam",
        "2mg",
        "--times",
        "2",
        "--switch-to",
        "diazepam",
        "--source",
        "va-dod-2021",
        "--start",
        START,
        "-f",
        "csv",
    )
    path.write_text(made.stdout, encoding="utf-8")
    checked = run("check", str(path))
    assert checked.exit_status == 0, checked.stdout
    assert "equivalents by va-dod-2021" in checked.stdout
    assert run("check", str(path), "--source", "ashton").exit_status == 1


def test_older_patients_are_not_offered_diazepam_as_the_way_out(table: EquivalenceTable) -> None:
    made = plan(table, "clonazepam", "2mg", times=2, age=82)
    forced = next(w for w in made.warnings if w.kind == "forced-cut")
    assert "--finish-on diazepam" not in forced.message
    accumulation = plan(table, "lorazepam", "2mg", times=2, switch_to="diazepam", age=82)
    message = next(w for w in accumulation.warnings if w.kind == "accumulation").message
    assert "lorazepam" not in message.split("may be preferred")[0].split(";")[-1]


def test_a_switch_that_no_four_doses_could_carry_is_refused(tmp_path: Path) -> None:
    """With a label's largest single dose of 2 mg, diazepam 10 mg a day cannot be given in
    four doses: refused, not given above the limit."""
    from taper.table import bundled_table_path, load_table

    text = bundled_table_path().read_text(encoding="utf-8")
    lowered = tmp_path / "table.toml"
    limit = "[drugs.diazepam.max_daily]\nmg = 40\n"
    lowered.write_text(text.replace(limit, limit + "single_mg = 2\n", 1), encoding="utf-8")
    table = load_table(lowered)
    assert table.drug("diazepam").max_daily.single_mg == 2  # type: ignore[union-attr]
    with pytest.raises(InvalidRequestError, match="in four doses or fewer"):
        plan_taper("lorazepam", "1mg", switch_to="diazepam", table=table, start=START)


def test_a_switch_into_a_higher_band_warns_for_any_new_drug(table: EquivalenceTable) -> None:
    """Only a switch to diazepam (which has the guideline's examples) warned."""
    made = plan(table, "alprazolam", "1.5mg", times=3, switch_to="chlordiazepoxide")
    assert any("after the switch, chlordiazepoxide" in w.message for w in made.warnings)


def test_finishing_on_diazepam_tapers_diazepam_daytime_first(table: EquivalenceTable) -> None:
    """A short-acting drug finished on diazepam kept the short-acting order for diazepam."""
    made = plan(table, "alprazolam", "1mg", times=2, finish_on="diazepam")
    assert made.drug.name == "diazepam"
    # The doses show it (the recorded order stays "auto", which rebuilds both tapers).
    diazepam = [
        {dose.slot: dose.dose_mg for dose in step.doses if dose.drug == "diazepam"}
        for step in made.steps
        if step.phase == "taper" and step.totals_by_drug().keys() == {"diazepam"}
    ]
    assert len(diazepam) > 3
    for before, after in itertools.pairwise(diazepam):
        if after["night"] < before["night"]:
            assert before["morning"] == 0


def test_a_lower_start_is_not_suggested_when_given(table: EquivalenceTable) -> None:
    made = plan(
        table, "lorazepam", "2mg", times=2, switch_to="diazepam", age=80, switch_reduction="25%"
    )
    accumulation = next(w for w in made.warnings if w.kind == "accumulation")
    assert "--switch-reduction" not in accumulation.message


def test_once_on_a_liquid_a_plan_stays_on_it(table: EquivalenceTable) -> None:
    """Plans went from the bottle back to tablets and back again (UK clonazepam)."""
    made = plan(table, "clonazepam", "1.5mg", times=2, region="uk")
    on_liquid: set[str] = set()  # per dose time: another dose time's tablet stays a tablet
    for step in made.steps:
        for dose in step.doses:
            liquid = [p for p in dose.preparation.portions if p.volume_ml is not None]
            if liquid:
                on_liquid.add(dose.slot)
            if dose.slot in on_liquid and dose.dose_mg:
                assert liquid, (step.number, dose)
    assert on_liquid


def test_finish_on_keeps_the_products_given_for_the_current_drug(table: EquivalenceTable) -> None:
    """Attack review: '--product 0.125mg odt --finish-on diazepam' was an internal error: the
    product (no drug named) went to diazepam at the crossover, leaving alprazolam's doses
    unmakeable."""
    made = plan(table, "alprazolam", "1mg", products=["0.125mg odt"], finish_on="diazepam")
    assert made.drug.name == "diazepam"
    used = {p.product.label() for s in made.steps for d in s.doses for p in d.preparation.portions}
    assert "0.125 mg orally disintegrating tablet" in used
    diazepam_taper = [
        portion
        for step in made.steps
        if step.phase == "taper"
        for dose in step.doses
        if dose.drug == "diazepam"
        for portion in dose.preparation.portions
    ]
    assert diazepam_taper
    assert all(p.volume_ml is None for p in diazepam_taper)  # a crossover starts no bottle


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": "0.5mg,0.25mg"}, "steps='0.5mg,0.25mg' goes with method='steps'"),
        ({"step": "0.125mg"}, "step='0.125mg' goes with method='linear'"),
        ({"ed50": "1mg"}, "ed50='1mg' goes with method='occupancy'"),
        ({"rate": "10.5%", "until": "2027-12-31"}, "give rate='10.5%' or a target end"),
        (
            {"method": "linear", "step": "0.5mg", "duration": "20w"},
            "give step='0.5mg' or a target end",
        ),
        ({"part": "0.5mg"}, "part='0.5mg' goes with switch_to="),
    ],
)
def test_an_option_the_plan_would_not_use_is_refused(
    table: EquivalenceTable, options: dict[str, str], message: str
) -> None:
    """Attack review: '--steps 0.5mg,0.25mg' without '--method steps' gave a 10% plan, the
    steps dropped without a word (and recorded in the parameters)."""
    with pytest.raises(InvalidRequestError, match=message):
        plan(table, "clonazepam", "1mg", **options)


# ------------------------------------------------------------------ day 1 is the regimen

DRUGS_WITH_PRODUCTS = ["temazepam", "lorazepam", "alprazolam", "clonazepam", "diazepam", "oxazepam"]
DRUGS_WITH_PRODUCTS += ["chlordiazepoxide", "nitrazepam"]


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(DRUGS_WITH_PRODUCTS),
    region=st.sampled_from(["us", "uk"]),
    total=st.decimals(min_value=D("0.25"), max_value=D(60), places=2),
    times=st.integers(min_value=1, max_value=4),
)
def test_day_one_is_the_total_prescribed_or_it_is_refused(
    table: EquivalenceTable, name: str, region: str, total: Decimal, times: int
) -> None:
    """A fresh user's review: a daily total the products cannot make was split over two or
    more dose times after rounding it down to the products' grid, silently: temazepam 20 mg
    x2 (US capsules of 7.5 mg) started at 15 mg a day, lorazepam 1.25 mg x2 at 1.2 mg (0.2 +
    1 mg), though the same totals were refused with --times 1. Day 1 is the current regimen:
    the plan's regimen and first step add up to exactly the total given, or it is refused."""
    from taper.errors import TaperError

    try:
        made = plan(table, name, f"{total}mg", times=times, region=region)
    except TaperError:
        return
    assert sum(made.request.regimen.values()) == total
    assert made.steps[0].total_mg == total


@pytest.mark.parametrize(
    ("drug", "dose"), [("temazepam", "20mg"), ("lorazepam", "1.25mg"), ("temazepam", "40mg")]
)
@pytest.mark.parametrize("times", [1, 2, 3])
def test_a_total_the_products_cannot_make_is_refused_at_any_number_of_dose_times(
    run: Any, drug: str, dose: str, times: int
) -> None:
    result = run("schedule", drug, dose, "--times", str(times), "--region", "us")
    assert result.exit_status != 0
    assert f"{drug} {dose.removesuffix('mg')} mg cannot be made from" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
