"""A prescriber's review of switches: the reduction and the Ashton cuts, the refusal's
remedies, rounding at the crossover, the night dose (each test named after the bug)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from taper.notices import Kind
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

D = Decimal
START = "2027-01-04"
DAYTIME = ("morning", "midday", "afternoon", "evening")


def switched_load(plan: Plan) -> Fraction:
    """The diazepam equivalent a day on the last day of the crossover."""
    last = [step for step in plan.steps if step.phase == "crossover"][-1]
    value = plan.diazepam_exact(last.doses)
    assert value is not None
    return value[0]


def message(plan: Plan, kind: Kind) -> str:
    found = [notice.message for notice in plan.warnings if notice.kind is kind]
    assert len(found) == 1, [str(notice) for notice in plan.warnings]
    return found[0]


def test_switch_reduction_and_ashton_cuts_never_cut_below_40mg_diazepam_equivalent(
    table: EquivalenceTable,
) -> None:
    """alprazolam 6 mg (120 mg diazepam equivalent by Ashton) less 25% is 90 mg; the Ashton
    cuts went on as if from 120 mg and ended on 35 mg, below the 40 mg they promise."""
    plan = plan_taper(
        "alprazolam",
        "6mg",
        times=3,
        switch_to="diazepam",
        region="us",
        switch_reduction="25%",
        crossover="ashton",
        allow_high_dose=True,
        start=START,
        table=table,
    )
    assert switched_load(plan) == 45
    cut = message(plan, Kind.CROSSOVER_CUT)
    assert "cuts 45 mg" in cut
    assert "from 90 mg a day (the equivalent less the 25% reduction) to 45 mg" in cut
    assert "as asked" in message(plan, Kind.SWITCH_REDUCTION)


def test_age_adjusted_switch_reduction_is_said_to_be_for_the_patient_and_not_below_40mg(
    table: EquivalenceTable,
) -> None:
    """The age-80 switch said the reduction was 'as asked' (age set it), cut 15 mg to 30 mg,
    and said it tapered at 5% every 2 weeks while the Ashton pace tapers in diazepam steps."""
    plan = plan_taper(
        "alprazolam",
        "3mg",
        times=3,
        switch_to="diazepam",
        pace="ashton",
        age=80,
        region="us",
        allow_high_dose=True,
        start=START,
        table=table,
    )
    assert switched_load(plan) == 40
    reduction = message(plan, Kind.SWITCH_REDUCTION)
    assert "as asked" not in reduction
    assert "for the patient (age 80" in reduction
    assert "cuts 5 mg" in message(plan, Kind.CROSSOVER_CUT)
    accumulation = message(plan, Kind.ACCUMULATION)
    assert plan.request.method.value == "steps"
    assert "tapers at 5%" not in accumulation
    assert "5% every" not in accumulation
    assert "cautious pace" not in accumulation
    assert "2 weeks longer after every third cut" in accumulation
    assert any(step.hold_days == 14 for step in plan.steps if step.phase == "taper")


@pytest.mark.parametrize(("dose", "times"), [("1.5mg", 3), ("1mg", 1)])
def test_crossover_rounding_does_not_cascade_below_what_tablets_make(
    table: EquivalenceTable, dose: str, times: int
) -> None:
    """Each stage rounded down from the day before, so 7.5 mg diazepam equivalent became
    6 mg although 5 + 2 mg tablets make 7 mg."""
    plan = plan_taper(
        "clonazepam",
        dose,
        times=times,
        region="us",
        finish_on="diazepam",
        start=START,
        table=table,
    )
    stabilization = next(step for step in plan.steps if step.phase == "stabilization")
    assert stabilization.totals_by_drug() == {"diazepam": D(7)}
    rounding = message(plan, Kind.SWITCH_ROUNDING)
    assert "from 7.5 mg to 7 mg" in rounding
    assert "make no dose at the exact equivalent" in rounding
    # Never above the full equivalent of what has moved, and tablets only.
    for step in plan.steps:
        if step.phase == "crossover":
            assert all("mL" not in dose.preparation.text() for dose in step.doses)
            value = plan.diazepam_exact(step.doses)
            assert value is not None
            assert value[0] <= Fraction(15, 2)


@pytest.mark.parametrize(
    "options",
    [
        {"drug": "lorazepam", "dose": "6mg", "region": "uk"},
        {"drug": "alprazolam", "dose": "3mg", "region": "us", "age": 80},
    ],
)
def test_night_dose_is_smaller_than_a_daytime_dose_after_an_ashton_switch(
    table: EquivalenceTable, options: dict[str, Any]
) -> None:
    """The Ashton cuts fall on the dose times switched first (night), leaving diazepam
    10/20/10 mg; the night dose should be at least any daytime dose after a switch."""
    options = dict(options)
    plan = plan_taper(
        options.pop("drug"),
        options.pop("dose"),
        times=3,
        switch_to="diazepam",
        pace="ashton",
        allow_high_dose=True,
        start=START,
        table=table,
        **options,
    )
    first_taper = next(step for step in plan.steps if step.phase != "crossover")
    doses = {dose.slot: dose.dose_mg for dose in first_taper.doses if dose.drug == "diazepam"}
    assert doses["night"] >= max(doses.get(slot, D(0)) for slot in DAYTIME), doses


@pytest.mark.parametrize(
    ("reduction", "crossover"),
    [(None, "slot"), ("25%", "slot"), ("50%", "slot"), (None, "ashton"), ("25%", "ashton")],
)
def test_high_dose_refusal_suggests_a_switch_reduction_that_still_refuses(
    run: Any, reduction: str | None, crossover: str
) -> None:
    """The refusal suggested '--switch-reduction, e.g. 25%', which still refused (90 mg),
    and suggested 25% again when 50% was given: each way forward it names must clear it."""
    base = ["schedule", "alprazolam", "6mg", "--times", "3", "--switch-to", "diazepam"]
    base += ["--region", "us", "--start", START, "--crossover", crossover]
    asked = ["--switch-reduction", reduction] if reduction else []
    refused = run(*base, *asked)
    assert refused.exit_status == 1
    assert "e.g. 25%" not in refused.stderr
    found = re.search(r"--switch-reduction of at least (\d+)%", refused.stderr)
    assert found, refused.stderr
    least = int(found.group(1))
    assert run(*base, "--switch-reduction", f"{least}%").exit_status == 0
    assert run(*base, "--switch-reduction", f"{least - 1}%").exit_status == 1
    if "the Ashton Manual's crossover" in refused.stderr:
        assert run(*base, *asked, "--crossover", "ashton").exit_status == 0
    sources = re.search(r"a source whose equivalents give less \(([^)]*)\)", refused.stderr)
    for source in sources.group(1).split(", ") if sources else []:
        assert run(*base, *asked, "--source", source).exit_status == 0, source


def test_label_pace_stop_said_to_be_the_final_dose_asked_for(run: Any) -> None:
    """The label pace sets its own last dose (0.125 mg twice daily): the plan said the stop
    from 0.25 mg was 'the final dose asked for' and that the products forced it."""
    base = ["schedule", "clonazepam", "1mg", "--times", "2", "--pace", "label"]
    base += ["--region", "us", "--start", START, "--format", "json"]
    result = run(*base)
    assert result.exit_status == 0
    warnings = {w["kind"]: w["message"] for w in json.loads(result.stdout)["warnings"]}
    stop = warnings["stop-dose"]
    assert "asked" not in stop
    assert "the label pace's last dose" in stop
    assert "0.125 mg twice daily" in stop
    assert "forced-cut" not in warnings
    # The remedy it names clears it.
    assert "--final 0.125mg" in stop
    remedied = run(*base, "--final", "0.125mg")
    kinds = {w["kind"] for w in json.loads(remedied.stdout)["warnings"]}
    assert "stop-dose" not in kinds
    # A final dose the user gives is still said to be asked for.
    asked = run(*base, "--final", "0.25mg")
    messages = {w["kind"]: w["message"] for w in json.loads(asked.stdout)["warnings"]}
    assert "(the final dose asked for)" in messages["stop-dose"]


def test_deprescribing_pace_cuts_20_to_50_percent_near_the_end_without_saying_why(
    run: Any,
) -> None:
    """deprescribing.org's 12.5% near the end was recorded but the clinical end's fixed
    steps cut 20-50% below 0.5 mg of lorazepam, and the plan did not say which rule won."""
    base = ["schedule", "lorazepam", "2mg", "--times", "2", "--pace", "deprescribing"]
    base += ["--age", "80", "--region", "uk", "--start", START, "--format", "json"]
    made = json.loads(run(*base).stdout)
    said = [w["message"] for w in made["warnings"] if "12.5%" in w["message"]]
    said = [message for message in said if "clinical end's fixed steps win" in message]
    assert len(said) == 1
    assert "below 0.5 mg of lorazepam a day the plan cuts 20-50% a step" in said[0]
    assert "that the deprescribing pace sets" in said[0]
    assert "--end micro" in said[0]
    # The remedy it names clears it.
    micro = json.loads(run(*base, "--end", "micro").stdout)
    assert not any("fixed steps win" in w["message"] for w in micro["warnings"])


def test_single_dose_refusal_names_a_switch_reduction_without_its_size(run: Any) -> None:
    """Chlordiazepoxide 87.5 mg a day does not fit four UK doses of at most 20 mg: the
    refusal said 'a lower start' without how much; the size it names must clear it."""
    base = ["schedule", "lorazepam", "3.5mg", "--times", "2", "--switch-to", "chlordiazepoxide"]
    base += ["--region", "uk", "--start", START]
    refused = run(*base)
    assert refused.exit_status != 0
    found = re.search(r"--switch-reduction of at least (\d+)%", refused.stderr)
    assert found, refused.stderr
    least = int(found.group(1))
    assert run(*base, "--switch-reduction", f"{least}%").exit_status == 0
    assert run(*base, "--switch-reduction", f"{least - 1}%").exit_status != 0


@pytest.mark.parametrize("drug", ["lorazepam", "alprazolam", "clonazepam"])
def test_stages_lengthened_for_a_switch_reduction_say_why(
    table: EquivalenceTable, drug: str, run: Any, tmp_path: Any
) -> None:
    """A fresh user's review: with --pace ashton, a 50% switch reduction moved the crossover
    from 7-day to 14-day stages (32% kept 7) without a word. The reduction's note says why,
    and a plan file with it reads back (the note is true of the plan as recorded)."""
    options = {"times": 2, "switch_to": "diazepam", "pace": "ashton", "start": START}
    made = plan_taper(drug, "2mg", switch_reduction="50%", table=table, **options)
    assert made.request.stage_days == 14
    said = [w.message for w in made.warnings if w.kind is Kind.SWITCH_REDUCTION]
    assert any(
        "stages of 14 days, as stages of 7 days would cut more than the ceiling within 2 weeks"
        in message
        for message in said
    ), said
    kept = plan_taper(drug, "2mg", switch_reduction="0%", table=table, **options)
    assert not any("stages of 14" in w.message for w in kept.warnings)
    path = tmp_path / "plan.json"
    written = run("schedule", drug, "2mg", "--times", "2", "--switch-to", "diazepam", "--pace",
                  "ashton", "--switch-reduction", "50%", "--start", START, "-o", str(path))  # fmt: skip
    assert written.exit_status == 0, written.stderr
    revised = run("revise", str(path), "--on", "2027-01-20", "--hold", "1w")
    assert revised.exit_status == 0, revised.stderr
