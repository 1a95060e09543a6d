"""A target end (``--until``, ``--duration``) gets the slowest pace on the grid that stops in
time: checked against plans made with each pace given alone (``rate=``, ``step=``,
``every=``), never against the search's own reasoning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from taper.errors import InvalidRequestError, UndispensableDoseError
from taper.plan import Plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

D = Decimal
START = "2027-01-04"
PERCENT_GRID = [D(n) / 2 for n in range(1, 100)]  # 0.5% to 49.5%


def _days(plan: Plan) -> int:
    return plan.checks.duration_days


def _steps(plan: Plan) -> list[tuple[Decimal, int]]:
    return [(step.total_mg, step.days) for step in plan.steps]


def _as_decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _alone(table: EquivalenceTable, drug: str, dose: Any, **options: Any) -> Plan | None:
    """The plan of one pace given alone (None: refused)."""
    try:
        return plan_taper(drug, dose, start=START, table=table, **options)
    except InvalidRequestError:
        return None


def test_duration_picks_the_slowest_rate_not_a_faster_one_bisection_found(
    table: EquivalenceTable,
) -> None:
    """Bisection picked 8.5% (84 days) and said no pace in between was possible, while 7.5%
    stops on day 91, the target."""
    options = {"times": 1, "final": "0.5mg", "every": "1w"}
    made = plan_taper("diazepam", "10mg", duration="13w", start=START, table=table, **options)
    assert made.request.rate_percent <= D("7.5")
    assert _days(made) <= 91
    assert made.resolved_pace == "7.5% every 7 days"
    alone = _alone(table, "diazepam", "10mg", rate="7.5%", **options)
    assert alone is not None
    assert _steps(alone) == _steps(made)
    assert _days(alone) == 91


def test_until_picks_the_same_pace_as_the_matching_duration(table: EquivalenceTable) -> None:
    options = {"times": 1, "final": "0.5mg", "every": "1w", "start": START}
    by_date = plan_taper("diazepam", "10mg", until="2027-04-05", table=table, **options)
    by_days = plan_taper("diazepam", "10mg", duration="91d", table=table, **options)
    assert by_date.request.rate_percent == by_days.request.rate_percent == D("7.5")
    assert by_date.checks.end_date <= dt.date(2027, 4, 5)


def test_a_pace_stopping_early_says_so_truthfully(table: EquivalenceTable) -> None:
    made = plan_taper("diazepam", "20mg", times=2, duration="26w", start=START, table=table)
    assert made.resolved_pace is not None
    assert "days before the target: no slower pace, in steps of 0.5%, stops in time" in (
        made.resolved_pace
    )
    assert "allow no pace in between" not in made.resolved_pace
    slower = _alone(
        table, "diazepam", "20mg", times=2, rate=f"{made.request.rate_percent - D('0.5')}%"
    )
    assert slower is None or _days(slower) > 26 * 7


def test_no_pace_in_time_names_the_paces_tried(table: EquivalenceTable) -> None:
    with pytest.raises(InvalidRequestError, match=r"tried 0\.5% every 14 days to 49\.5%"):
        plan_taper("diazepam", "20mg", times=2, duration="3w", start=START, table=table)


def test_linear_and_interval_searches_pick_the_slowest_that_stops_in_time(
    table: EquivalenceTable,
) -> None:
    linear = plan_taper(
        "diazepam", "10mg", method="linear", every="1w", duration="20w", start=START, table=table
    )
    step = linear.request.step_mg
    assert step is not None
    assert _days(linear) <= 140
    smaller = step - _as_decimal(linear.formulary.quantum)
    if smaller > 0:
        slower = _alone(table, "diazepam", "10mg", method="linear", every="1w", step=smaller)
        assert slower is None or _days(slower) > 140
    bands = plan_taper("diazepam", "20mg", method="bands", duration="40w", start=START, table=table)
    assert _days(bands) <= 280
    longer = _alone(
        table, "diazepam", "20mg", method="bands", every=f"{bands.request.interval_days + 1}d"
    )
    assert longer is None or _days(longer) > 280


REGIMENS = st.one_of(
    st.tuples(st.just("diazepam"), st.decimals(min_value=2, max_value=30, places=0)),
    st.tuples(
        st.just("clonazepam"),
        st.decimals(min_value=2, max_value=24, places=0).map(lambda n: n * D("0.125")),
    ),
    st.tuples(
        st.just("lorazepam"),
        st.decimals(min_value=1, max_value=12, places=0).map(lambda n: n * D("0.5")),
    ),
)


def _grid(method: str, quantum: Decimal, dose: Decimal) -> list[dict[str, Any]]:
    """Every pace the search may choose, from the slowest, as options given alone (linear
    steps in quanta of the products, as Python values: 0.0625 mg cannot be typed)."""
    if method == "percent":
        return [{"rate": rate} for rate in PERCENT_GRID]
    if method == "linear":
        count = int(dose / quantum)
        return [{"method": "linear", "step": quantum * n} for n in range(1, count + 1)]
    return [{"method": method, "every": days} for days in range(56, 0, -1)]


def _pace(method: str, plan: Plan) -> dict[str, Any]:
    request = plan.request
    if method == "percent":
        return {"rate": request.rate_percent}
    if method == "linear":
        return {"method": "linear", "step": request.step_mg}
    return {"method": method, "every": request.interval_days}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regimen=REGIMENS,
    times=st.integers(min_value=1, max_value=3),
    every=st.sampled_from(["1w", "2w"]),
    method=st.sampled_from(["percent", "percent", "linear", "bands"]),
    target=st.integers(min_value=14, max_value=730),
)
def test_no_slower_pace_on_the_grid_also_stops_in_time(
    table: EquivalenceTable,
    regimen: tuple[str, Decimal],
    times: int,
    every: str,
    method: str,
    target: int,
) -> None:
    drug, dose = regimen
    options = {"times": times, "every": every}
    try:
        plain = plan_taper(drug, dose, start=START, table=table, **options)
    except UndispensableDoseError:
        reject()  # a regimen these products cannot split over these dose times
    grid = _grid(method, _as_decimal(plain.formulary.quantum), dose)
    try:
        made = plan_taper(
            drug,
            dose,
            method=method,
            duration=f"{target}d",
            start=START,
            table=table,
            **options,
        )
    except InvalidRequestError as error:
        if "stops within" not in str(error):
            reject()  # refused for another reason (a method this drug cannot use)
        slower = grid  # the message says that none does: check every one
    else:
        assert _days(made) <= target
        pace = _pace(method, made)
        alone = _alone(table, drug, dose, **{**options, **pace})
        assert alone is not None
        assert _steps(alone) == _steps(made)
        slower = grid[: grid.index(pace)]
    for option in slower:
        plan = _alone(table, drug, dose, **{**options, **option})
        assert plan is None or _days(plan) > target, f"{option} also stops in time"


def test_a_target_of_one_day_is_said_in_the_singular(run: Any) -> None:
    """A helper's review: 'stops within 1 days'."""
    result = run("schedule", "clonazepam", "1mg", "--duration", "1d")
    assert result.exit_status != 0
    assert "stops within 1 day (tried" in result.stderr
