"""What the engine remembers (issue 26) changes nothing it says.

A warning that the method's pace goes over the ceiling names a remedy checked by planning
slower paces; batches ask the same questions again, so ``engine._breaches`` keeps the last
answers, keyed by every field of the request, the table (by identity) and today, and
``engine._remembered_remedy`` the remedy of each request, keyed alike. The split of
a daily total over dose times is remembered by the exact total, the dose times, the products
and the step (``regimen._remembered_split``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import taper.engine as engine
import taper.regimen as regimen
from taper.errors import TaperError
from taper.params import TIMES
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, load_table


def _warnings(table: EquivalenceTable, **options: Any) -> list[str] | str:
    try:
        plan = plan_taper(**options, table=table, start="2027-01-04")
    except TaperError as error:
        return f"refused: {error}"
    return [notice.message for notice in plan.warnings]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drug=st.sampled_from(
        [("clonazepam", Decimal(1)), ("lorazepam", Decimal(1)), ("diazepam", Decimal(10))]
    ),
    scale=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(3), places=1),
    times=st.integers(min_value=1, max_value=3),
    rate=st.decimals(min_value=Decimal(10), max_value=Decimal(30), places=1),
    every=st.sampled_from(["1w", "2w"]),
)
def test_a_plan_warns_alike_with_and_without_the_remembered_answers(
    table: EquivalenceTable,
    monkeypatch: pytest.MonkeyPatch,
    drug: tuple[str, Decimal],
    scale: Decimal,
    times: int,
    rate: Decimal,
    every: str,
) -> None:
    name, unit = drug
    options = {"drug": name, "dose": unit * scale, "times": times, "rate": rate, "every": every}
    remembered = _warnings(table, **options)  # with whatever earlier examples left behind
    with monkeypatch.context() as patch:
        patch.setattr(engine, "_breaches", engine._plan_breaches)
        patch.setattr(
            engine, "_remembered_remedy", lambda r, t, today, _: engine._checked_remedy(r, t, today)
        )
        afresh = _warnings(table, **options)
    assert remembered == afresh


def test_the_answers_are_keyed_by_the_table_and_the_exact_values() -> None:
    engine._cached_breach.cache_clear()
    engine._cached_remedy.cache_clear()
    engine._remembered_plan.cache_clear()
    first, second = load_table(), load_table()
    options = {"drug": "clonazepam", "dose": "1mg", "times": 2, "rate": "20%", "every": "1w"}
    plan = plan_taper(**options, table=first, start="2027-01-04")
    assert any(engine.METHOD_PACE_CAUSE in notice.message for notice in plan.warnings)
    asked = engine._cached_breach.cache_info().misses
    assert asked > 0
    assert engine._cached_remedy.cache_info().misses == 1
    engine._remembered_plan.cache_clear()  # the plan itself is remembered too: plan afresh
    plan_taper(**options, table=first, start="2027-01-04")
    assert engine._cached_breach.cache_info().misses == asked  # remembered
    assert engine._cached_remedy.cache_info()[:2] == (1, 1)  # the remedy itself: one hit
    plan_taper(**options, table=second, start="2027-01-04")
    assert engine._cached_breach.cache_info().misses == 2 * asked  # another table: asked anew
    assert engine._cached_remedy.cache_info().misses == 2
    assert engine._frozen(Decimal("1.0")) != engine._frozen(Decimal("1"))
    assert engine._frozen({"morning": Decimal(1)}) != engine._frozen({"morning": 1})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["clonazepam", "lorazepam", "diazepam", "alprazolam"]),
    total=st.decimals(min_value=Decimal("0.25"), max_value=Decimal(40), places=3),
    times=st.sampled_from([2, 3, 4]),
    region=st.sampled_from(["us", "uk"]),
)
def test_a_remembered_split_is_the_split_worked_out_afresh(
    table: EquivalenceTable, name: str, total: Decimal, times: int, region: str
) -> None:
    """The split of a daily total is remembered (issue 26) by the exact total, the dose
    times, the products and the step: the same doses, in the same order, as afresh, and the
    same refusal."""
    drug = table.drug(name)
    try:
        formulary = regimen.products_for(table, drug, region, (), name)
    except TaperError:  # no products listed for this drug in this region
        reject()

    def outcome(split: Any) -> Any:
        try:
            return list(split(total, TIMES[times], formulary).items())
        except TaperError as error:
            return f"refused: {error}"

    remembered = outcome(regimen.split_daily_dose)
    again = outcome(regimen.split_daily_dose)
    original = regimen._remembered_split
    try:
        regimen._remembered_split = original.__wrapped__  # type: ignore[assignment]
        afresh = outcome(regimen.split_daily_dose)
    finally:
        regimen._remembered_split = original
    assert remembered == again == afresh


def _plan_text(table: EquivalenceTable, **options: Any) -> str:
    """Everything a plan says, as text (its JSON document), or its refusal."""
    from taper.records import dumps_compact_json, plan_document

    try:
        plan = plan_taper(**options, table=table)
    except TaperError as error:
        return f"refused: {error}"
    return dumps_compact_json(plan_document(plan, table))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drug=st.sampled_from(
        [("clonazepam", Decimal(1)), ("lorazepam", Decimal(1)), ("diazepam", Decimal(10))]
    ),
    scale=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(3), places=1),
    times=st.integers(min_value=1, max_value=3),
    rate=st.decimals(min_value=Decimal(5), max_value=Decimal(30), places=1),
    every=st.sampled_from(["1w", "2w"]),
    switch=st.sampled_from([None, "diazepam"]),
)
def test_a_remembered_plan_is_the_plan_worked_out_afresh(
    table: EquivalenceTable,
    monkeypatch: pytest.MonkeyPatch,
    drug: tuple[str, Decimal],
    scale: Decimal,
    times: int,
    rate: Decimal,
    every: str,
    switch: str | None,
) -> None:
    """A plan is remembered by its request (issue 26): asked twice, the second is the one
    remembered; both say, to the byte, what the plan worked out afresh says."""
    name, unit = drug
    options: dict[str, Any] = {
        "drug": name,
        "dose": unit * scale,
        "times": times,
        "rate": rate,
        "every": every,
        "start": "2027-01-04",
    }
    if switch is not None and switch != name:
        options["switch_to"] = switch
    first = _plan_text(table, **options)
    again = _plan_text(table, **options)
    with monkeypatch.context() as patch:
        patch.setattr(
            engine,
            "_remembered_plan",
            lambda q, t, today, _: engine._planned(q.request, t.table, today, None),
        )
        patch.setattr(engine, "_breaches", engine._plan_breaches)
        patch.setattr(
            engine, "_remembered_remedy", lambda r, t, today, _: engine._checked_remedy(r, t, today)
        )
        afresh = _plan_text(table, **options)
    assert first == again == afresh


def test_a_plan_is_remembered_by_the_table_the_day_and_the_exact_values() -> None:
    import datetime as dt

    engine._remembered_plan.cache_clear()
    first, second = load_table(), load_table()
    options = {"drug": "clonazepam", "dose": "1mg", "times": 2, "rate": "10%"}
    plan = plan_taper(**options, table=first, today=dt.date(2027, 1, 4))
    assert engine._remembered_plan.cache_info()[:2] == (0, 1)
    again = plan_taper(**options, table=first, today=dt.date(2027, 1, 4))
    assert engine._remembered_plan.cache_info()[:2] == (1, 1)
    assert again is not plan  # a new TaperPlan...
    assert again.steps is plan.steps  # ...of the remembered plan
    plan_taper(**options, table=second, today=dt.date(2027, 1, 4))  # another table
    later = plan_taper(**options, table=first, today=dt.date(2027, 1, 5))  # another day
    assert engine._remembered_plan.cache_info()[:2] == (1, 3)
    assert later.start_date == dt.date(2027, 1, 5)
    plan_taper(**{**options, "rate": "10.0%"}, table=first, today=dt.date(2027, 1, 4))
    assert engine._remembered_plan.cache_info()[:2] == (1, 4)  # 10.0% is not 10%: asked anew


def test_without_a_start_a_remembered_plan_is_one_made_today(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan without a start date starts on the day it is made: one remembered yesterday is
    not handed out today (its key holds the day the plan starts on)."""
    import datetime as dt
    from types import SimpleNamespace

    engine._remembered_plan.cache_clear()
    options = {"drug": "clonazepam", "dose": "1mg", "times": 2, "table": load_table()}
    plan_taper(**options)
    plan_taper(**options)
    assert engine._remembered_plan.cache_info()[:2] == (1, 1)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    monkeypatch.setattr(engine, "dt", SimpleNamespace(date=SimpleNamespace(today=lambda: tomorrow)))
    plan_taper(**options)
    assert engine._remembered_plan.cache_info()[:2] == (1, 2)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rate=st.sampled_from(["10%", "25%"]),
    hold=st.sampled_from([None, "every:2:1w"]),
    leads=st.lists(st.text(alphabet='ab,"=+ \n', min_size=1, max_size=4), min_size=2, max_size=3),
    raw=st.booleans(),
)
def test_rows_kept_for_a_remembered_plan_are_the_rows_written_afresh(
    table: EquivalenceTable, rate: str, hold: str | None, leads: list[str], raw: bool
) -> None:
    """A batch keeps the CSV rows (without their lead) of the last plans it wrote, by the
    identity of their steps: a remembered plan is written from them, to the byte what
    writing it afresh gives, whatever the lead (quoted or not)."""
    import dataclasses
    import datetime as dt

    from taper.csvout import DoseCells, plan_csv_text

    options: dict[str, Any] = {"drug": "clonazepam", "dose": "1mg", "times": 2, "rate": rate}
    if hold is not None:
        options["holds"] = [hold]
    cells = DoseCells()
    for lead in leads:
        plan = plan_taper(**options, table=table, start="2027-01-04")
        kept = plan_csv_text(plan, raw=raw, lead=(lead,), cells=cells)
        assert kept == plan_csv_text(plan, raw=raw, lead=(lead,))  # fresh cells, fresh rows
    # The same steps from another first day, or written raw the other way: not the kept rows.
    moved = dataclasses.replace(plan, start_date=plan.start_date + dt.timedelta(days=3))
    assert plan_csv_text(moved, raw=raw, cells=cells) == plan_csv_text(moved, raw=raw)
    assert plan_csv_text(plan, raw=not raw, cells=cells) == plan_csv_text(plan, raw=not raw)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dose=st.sampled_from(["0.5mg", "1mg", "morning=0.5mg,night=1mg", "lots"]),
    rate=st.sampled_from(["10%", "20%", "25.0%"]),
    start=st.sampled_from([None, "2027-01-04"]),
    line=st.integers(min_value=0, max_value=3),
)
def test_a_remembered_scenario_gives_the_outcome_worked_out_afresh(
    table: EquivalenceTable,
    monkeypatch: pytest.MonkeyPatch,
    dose: str,
    rate: str,
    start: str | None,
    line: int,
) -> None:
    """A batch remembers the plan of a scenario's options (issue 26): the same options under
    another id give the same rows, summary and dispensing as planned afresh; a refusal is
    not remembered and names its own line."""
    import taper.batch as batch

    options = {"drug": "clonazepam", "dose": dose, "times": "2", "rate": rate, "every": "1w"}
    if start is not None:
        options["start"] = start
    first = batch.run_scenario(batch.Scenario("a", options, line), table)
    again = batch.run_scenario(batch.Scenario("a", options, line + 1), table)
    with monkeypatch.context() as patch:
        patch.setattr(
            batch,
            "_remembered_scenario",
            lambda given, same, _: batch.plan_taper(
                **batch._arguments(dict(given)), table=same.table
            ),
        )
        patch.setattr(
            engine,
            "_remembered_plan",
            lambda q, t, today, _: engine._planned(q.request, t.table, today, None),
        )
        afresh = batch.run_scenario(batch.Scenario("a", options, line + 1), table)
    assert again == afresh
    if first.ok:
        assert first == again
    else:
        assert first.error is not None
        assert (f"line {line}: " in first.error) == bool(line)


def _each_mapping(plan: Any) -> list[tuple[str, Any]]:
    """Every mapping a caller can reach on a plan and its table, named."""
    table = plan.table
    found = [
        ("plan.ratios", plan.ratios),
        ("plan.formularies", plan.formularies),
        ("plan.request.regimen", plan.request.regimen),
        ("table.drugs", table.drugs),
        ("table.sources", table.sources),
    ]
    for name, drug in table.drugs.items():
        found += [
            (f"{name}.equivalents", drug.equivalents),
            (f"{name}.half_life_hours", drug.half_life_hours),
            (f"{name}.metabolite_half_life_hours", drug.metabolite_half_life_hours),
            (f"{name}.brands", drug.brands),
        ]
        if drug.max_daily is not None:
            found.append((f"{name}.max_daily.regions", drug.max_daily.regions))
    found += [(f"plan.request.also[{n}]", regimen) for n, regimen in plan.request.also]
    return found


@pytest.mark.parametrize(
    "options",
    [
        {"drug": "clonazepam", "dose": "1mg", "times": 2},
        {
            "drug": [("lorazepam", "1mg"), ("alprazolam", "0.5mg")],
            "times": 2,
            "switch_to": "diazepam",
        },
    ],
    ids=["direct", "switch"],
)
def test_a_remembered_plan_cannot_be_changed_through_a_plan_handed_out(
    table: EquivalenceTable, options: dict[str, Any]
) -> None:
    """The engine hands out the parts of a remembered plan (issue 26): a caller that wrote
    into a plan's mappings (its ratios, formularies, regimen) or its table's would change
    the plan the next caller is given, silently. Each is read-only: writing into it is
    refused, and the next plan is the one worked out afresh."""
    options = {**options, "start": "2027-01-04"}
    plan = plan_taper(**options, table=table)
    for name, mapping in _each_mapping(plan):
        key = next(iter(mapping), "x")
        with pytest.raises(TypeError):
            mapping[key] = None  # type: ignore[index]
        assert not hasattr(mapping, "clear"), name
    assert plan_taper(**options, table=table) == plan


def test_read_only_parts_still_pickle_and_copy(table: EquivalenceTable) -> None:
    """A researcher's pool pickles plans and tables (and a batch on a platform without fork
    pickles the table for each worker): the read-only parts travel as plain data and come
    back read-only and equal."""
    import copy
    import pickle

    plan = plan_taper(
        "lorazepam", "1mg", times=2, switch_to="diazepam", start="2027-01-04", table=table
    )
    for made in (pickle.loads(pickle.dumps(plan)), copy.deepcopy(plan)):
        assert made == plan
        assert made.table == table
        with pytest.raises(TypeError):
            made.ratios["lorazepam"] = None  # type: ignore[index]
        with pytest.raises(TypeError):
            made.table.drugs["x"] = None  # type: ignore[index]
