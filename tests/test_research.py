"""Researchers at scale: taper.batch and taper.sweep, numpy and pandas values, typed frames."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import taper
from taper import ParameterError, ScheduleOptions, TaperError, plan_taper
from taper.table import EquivalenceTable

numpy = pytest.importorskip("numpy")
pandas = pytest.importorskip("pandas")

START = dt.date(2027, 1, 4)


def _parameters(plan: Any) -> Any:
    return plan.to_dict()["meta"]["parameters"]


# ------------------------------------------------------------------ values


def test_a_numpy_float64_dose_is_read_not_a_raw_invalid_operation(table: EquivalenceTable) -> None:
    """dose=numpy.float64(...) raised decimal.InvalidOperation (repr 'np.float64(1.5)')."""
    plan = plan_taper("clonazepam", numpy.float64(1.5), start=START, table=table)
    assert plan.steps[0].total_mg == Decimal("1.5")
    converted = taper.convert_dose([("clonazepam", numpy.float64(1.5))], to="diazepam")
    assert converted.chosen.text() == "30 mg"


def test_a_numpy_int64_is_accepted_where_an_int_is(table: EquivalenceTable) -> None:
    """numpy.int64 was refused outright."""
    plan = plan_taper(
        "clonazepam", numpy.int64(2), times=numpy.int64(2), age=numpy.int64(70),
        every=numpy.int64(14), rate=numpy.int64(10), start=START, table=table,
    )  # fmt: skip
    as_text = plan_taper(
        "clonazepam", "2mg", times=2, age=70, every="14d", rate="10%", start=START, table=table
    )
    assert _parameters(plan) == _parameters(as_text)
    assert taper.format_dose(numpy.int64(3)) == "3 mg"


def test_pandas_timestamps_and_timedeltas_are_dates_and_days(table: EquivalenceTable) -> None:
    plan = plan_taper(
        "clonazepam", 1, start=pandas.Timestamp("2027-01-04"), every=pandas.Timedelta(weeks=2),
        supply=numpy.timedelta64(28, "D"), seizures=numpy.bool_(True), table=table,
        today=pandas.Timestamp("2026-12-01"),
    )  # fmt: skip
    assert plan.start_date == START
    assert plan.request.interval_days == 14
    assert plan.request.supply_days == 28
    assert plan.request.factors.seizures is True
    assert (
        plan_taper("clonazepam", 1, start=numpy.datetime64("2027-01-04"), table=table).start_date
        == START
    )


def test_a_whole_float_is_a_whole_number_as_a_pandas_column_with_a_gap_holds_it(
    table: EquivalenceTable,
) -> None:
    plan = plan_taper("clonazepam", 1, age=70.0, times=numpy.float64(2), start=START, table=table)
    assert plan.request.factors.age == 70
    assert len(plan.slots) == 2


REFUSED = [
    ({"dose": numpy.float64("nan")}, "dose must be a finite number"),
    ({"dose": numpy.float64("inf")}, "dose must be a finite number"),
    ({"dose": pandas.NA}, "dose must be a number or text"),
    ({"rate": 0.1}, "rates are percentages: 10 or '10%'"),
    ({"rate": numpy.float64(0.5)}, "rates are percentages: 10 or '10%'"),
    ({"slow_below": "1mg", "slow_rate": Decimal("0.25")}, "slow_rate must be a number of percent"),
    ({"start": pandas.Timestamp("2027-01-04 09:30")}, "start must be a date without a time"),
    ({"start": pandas.Timestamp("2027-01-04", tz="UTC")}, "start must be a date without a time"),
    ({"start": pandas.NaT}, "start must be a datetime.date or text"),
    ({"start": numpy.datetime64("2027-01-04T01:00")}, "start must be a date without a time"),
    ({"every": pandas.Timedelta(hours=36)}, "every must be a whole number of days"),
    ({"every": numpy.timedelta64(5, "h")}, "every must be a whole number of days"),
    ({"every": pandas.NaT}, "every must be a number of days"),
    ({"every": numpy.float64(1.5)}, "every must be a number of days"),
    ({"age": numpy.float64(70.5)}, "age must be a whole number"),
    ({"times": numpy.bool_(True)}, "times must be a whole number"),
    ({"seizures": numpy.int64(1)}, "seizures must be True or False"),
    ({"today": pandas.Timestamp("2027-01-04 12:00")}, "today must be a date without a time"),
]


@pytest.mark.parametrize(("options", "message"), REFUSED, ids=lambda v: str(v)[:50])
def test_numpy_and_pandas_values_refused_name_the_parameter(
    options: dict[str, Any], message: str
) -> None:
    dose = options.pop("dose", 1)
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        plan_taper("clonazepam", dose, **options)


def test_a_fraction_rate_is_refused_and_a_rate_below_one_percent_needs_its_sign(
    table: EquivalenceTable,
) -> None:
    """rate=0.1 made a ten-year plan with no hint that rates are percentages."""
    with pytest.raises(ParameterError, match=r"rate must .*rates are percentages: 10 or '10%'"):
        plan_taper("clonazepam", 1, rate=0.1, table=table)
    plan = plan_taper(
        "clonazepam", 1, rate="0.5%", every="1w", end="micro", start=START, table=table
    )
    assert plan.request.rate_percent == Decimal("0.5")
    assert plan_taper("clonazepam", 1, rate=1, start=START, table=table).request.rate_percent == 1


@pytest.mark.parametrize(
    ("option", "text"), [("--rate", "0.5"), ("--rate", "0.1"), ("--switch-reduction", "0.25")]
)
def test_a_percentage_below_one_without_its_sign_is_refused_everywhere(
    run: Any, tmp_path: Path, option: str, text: str
) -> None:
    """A fresh user's review: '--rate 0.5' on the command line was read as 0.5% (a plan of
    years), and a scenario file's rate 0.1 made an error row saying the plan would last more
    than ten years, though rates below 1 given as Python numbers are refused as fractions.
    Text below 1 without its % sign is refused the same way, naming the option."""
    switch = ["--switch-to", "diazepam"] if option == "--switch-reduction" else []
    result = run("schedule", "clonazepam", "1mg", *switch, option, text)
    assert result.exit_status == 2, result.stderr
    assert "rates are percentages: 10 or '10%'" in result.stderr
    assert option in result.stderr
    assert run("schedule", "clonazepam", "1mg", *switch, option, f"{text}%", "--end", "micro")
    scenarios = tmp_path / "s.csv"
    scenarios.write_text(f"id,drug,dose,rate\na,clonazepam,1mg,{text}\n", encoding="utf-8")
    batch = run("batch", str(scenarios), "-o", str(tmp_path / "o.csv"), "--summary",
                str(tmp_path / "s-summary.csv"))  # fmt: skip
    summary = (tmp_path / "s-summary.csv").read_text(encoding="utf-8")
    assert batch.exit_status == 1
    assert "rates are percentages" in summary
    assert "ten years" not in summary


def _numpy_kinds(value: Decimal) -> list[object]:
    kinds: list[object] = [value, float(value), numpy.float64(float(value))]
    if abs(value.as_tuple().exponent) <= 3 and value.adjusted() < 3:  # type: ignore[operator]
        kinds.append(numpy.float32(float(value)))  # 7 digits: exact at float32's precision
    if value == value.to_integral_value():
        kinds += [int(value), numpy.int64(int(value)), numpy.int32(int(value))]
    return kinds


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5000), places=3))
def test_every_numpy_kind_of_a_number_reads_as_exactly_its_decimal(dose: Decimal) -> None:
    from taper.doses import parse_dose
    from taper.values import dose_text, number_value_text

    for value in _numpy_kinds(dose):
        assert parse_dose(dose_text(value, "dose")) == dose, repr(value)
        assert Decimal(number_value_text(value, "emax")) == dose, repr(value)


@given(st.integers(min_value=0, max_value=99_999))
def test_every_numpy_and_pandas_kind_of_days_reads_as_its_days(days: int) -> None:
    from taper.values import days_text

    kinds = [days, numpy.int64(days), float(days), dt.timedelta(days=days),
             pandas.Timedelta(days=days), numpy.timedelta64(days, "D"),
             numpy.timedelta64(days * 24, "h")]  # fmt: skip
    assert {days_text(kind, "every") for kind in kinds} == {f"{days}d"}


@given(st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_every_numpy_and_pandas_kind_of_a_date_reads_as_its_date(day: dt.date) -> None:
    from taper.values import date_text

    midnight = dt.datetime.combine(day, dt.time())
    kinds = [day, midnight, pandas.Timestamp(day), numpy.datetime64(day),
             numpy.datetime64(midnight, "ns")]  # fmt: skip
    assert {date_text(kind, "start") for kind in kinds} == {day.isoformat()}


@settings(max_examples=15)
@given(
    dose=st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("1.5"), Decimal(2), Decimal(4)]),
    rate=st.integers(min_value=5, max_value=40),
    weeks=st.integers(min_value=1, max_value=4),
)
def test_numpy_and_pandas_values_give_the_plan_their_text_gives(
    table: EquivalenceTable, dose: Decimal, rate: int, weeks: int
) -> None:
    as_text = plan_taper(
        "clonazepam", f"{dose}mg", rate=f"{rate}%", every=f"{weeks}w", start="2027-01-04",
        table=table,
    )  # fmt: skip
    as_numpy = plan_taper(
        "clonazepam", numpy.float64(float(dose)), rate=numpy.int64(rate),
        every=pandas.Timedelta(weeks=weeks), start=pandas.Timestamp("2027-01-04"), table=table,
    )  # fmt: skip
    assert _parameters(as_numpy) == _parameters(as_text)
    by_text = taper.convert_dose("clonazepam", f"{dose}mg", "diazepam", table=table)
    by_numpy = taper.convert_dose("clonazepam", numpy.float32(float(dose)), "diazepam", table=table)
    assert by_numpy.chosen == by_text.chosen
    frames = taper.batch(
        pandas.DataFrame({"drug": ["clonazepam"], "dose": [numpy.float64(float(dose))],
                          "rate": [numpy.int64(rate)], "every": [pandas.Timedelta(weeks=weeks)],
                          "start": [pandas.Timestamp("2027-01-04")]}),
        table=table,
    )  # fmt: skip
    pandas.testing.assert_frame_equal(
        frames.days.drop(columns="scenario"), as_text.to_dataframe(), check_dtype=False
    )


def test_no_public_function_lets_a_raw_decimal_error_out(table: EquivalenceTable) -> None:
    for call in (
        lambda: plan_taper("clonazepam", numpy.float64("nan"), table=table),
        lambda: taper.convert_dose([("clonazepam", numpy.float64("nan"))], to="diazepam"),
        lambda: taper.format_dose(Decimal("NaN")),
        lambda: taper.batch([{"drug": "clonazepam", "dose": 1}], jobs=numpy.float64(0.5)),
        lambda: taper.sweep(drug="clonazepam", dose=[1, numpy.float64("nan")], table=table),
    ):
        with pytest.raises(TaperError) as caught:
            call()
        assert not isinstance(caught.value, decimal.InvalidOperation)


# ------------------------------------------------------------------ batch and sweep


def test_batch_takes_dicts_options_and_triples_alike(table: EquivalenceTable) -> None:
    rows = [
        {"id": "a", "drug": "clonazepam", "dose": 1, "rate": 10},
        (  "clonazepam", 1, ScheduleOptions(rate="10%")),
        ScheduleOptions(rate="10%"),
    ]  # fmt: skip
    frames = taper.batch(rows, drug="clonazepam", dose="1mg", start=START, table=table)
    assert frames.summary["scenario"].tolist() == ["a", "row-2", "row-3"]
    assert frames.summary["status"].tolist() == ["ok"] * 3
    days = frames.days
    by_scenario = [days[days["scenario"] == s].drop(columns="scenario").reset_index(drop=True)
                   for s in ("a", "row-2", "row-3")]  # fmt: skip
    pandas.testing.assert_frame_equal(by_scenario[0], by_scenario[1])
    pandas.testing.assert_frame_equal(by_scenario[0], by_scenario[2])
    assert frames.failed == 0


def test_a_bad_scenario_is_an_error_row_and_the_others_are_planned(table: EquivalenceTable) -> None:
    rows = [
        {"id": "nan", "drug": "clonazepam", "dose": numpy.float64("nan")},
        {"id": "fraction", "drug": "clonazepam", "dose": 1, "rate": 0.1},
        {"id": "colour", "drug": "clonazepam", "dose": 1, "colour": "red"},
        {"id": "ok", "drug": "clonazepam", "dose": 1},
        "clonazepam 1mg",
    ]
    frames = taper.batch(rows, start=START, table=table)
    summary = frames.summary.set_index("scenario")
    assert summary["status"].tolist() == ["error", "error", "error", "ok", "error"]
    assert summary.loc["nan", "error"] == "give each drug with its dose (drug and dose columns)"
    assert "rates are percentages: 10 or '10%'" in summary.loc["fraction", "error"]
    assert summary.loc["colour", "error"] == "unknown option(s) colour"
    assert summary.loc["row-5", "error"].startswith("a scenario is a dict")
    assert frames.failed == 4
    assert set(frames.days["scenario"].unique()) == {"ok"}


def test_batch_refuses_unknown_columns_and_options_at_once(table: EquivalenceTable) -> None:
    with pytest.raises(TaperError, match="unknown column"):
        taper.batch(pandas.DataFrame({"drug": ["clonazepam"], "dose": [1], "colour": ["red"]}))
    with pytest.raises(TaperError, match="unknown option"):
        taper.batch([], colour="red")
    with pytest.raises(ParameterError, match="scenarios must be a DataFrame"):
        taper.batch({"drug": "clonazepam", "dose": 1})
    with pytest.raises(ParameterError, match="plans must be True or False"):
        taper.batch([], plans="yes")
    with pytest.raises(ParameterError, match="jobs must be at least 1"):
        taper.batch([], jobs=0)


def test_batch_plans_come_one_at_a_time(table: EquivalenceTable) -> None:
    planned: list[str] = []

    def rows() -> Any:
        for number in range(1, 4):
            planned.append(str(number))
            yield {"id": str(number), "drug": "clonazepam", "dose": number}

    plans = taper.batch(rows(), plans=True, start=START, table=table)
    first = next(plans)
    assert planned == ["1"]
    assert first.id == "1"
    assert first.error is None
    assert first.plan is not None
    assert first.plan.steps[0].total_mg == 1
    assert [result.id for result in plans] == ["2", "3"]


def test_batch_reads_a_scenario_file_too(table: EquivalenceTable, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,drug,dose\nx,clonazepam,1mg\n", encoding="utf-8")
    frames = taper.batch(path, start=START, table=table)
    assert frames.summary["scenario"].tolist() == ["x"]


def test_batch_in_worker_processes_gives_the_same_frames(table: EquivalenceTable) -> None:
    rows = [{"drug": "clonazepam", "dose": dose, "rate": 10} for dose in (0.5, 1, 2, 3)]
    one = taper.batch(rows, start=START, table=table)
    two = taper.batch(rows, start=START, table=table, jobs=2)
    pandas.testing.assert_frame_equal(one.days, two.days)
    pandas.testing.assert_frame_equal(one.summary, two.summary)


def test_taper_batch_is_the_module_and_the_function() -> None:
    from taper import batch

    assert batch.Scenario.__name__ == "Scenario"  # the module, as before
    assert taper.batch is batch
    assert "batch" in taper.__all__
    assert "sweep" in taper.__all__
    assert callable(taper.batch)


def test_sweep_gives_the_plans_of_taper_sweep(run: Any, tmp_path: Path) -> None:
    days, summary = tmp_path / "d.csv", tmp_path / "s.csv"
    result = run(
        "sweep", "clonazepam", "0.5mg,1mg", "--rate", "5%,10%", "--every", "2w,4w",
        "-o", str(days), "--summary", str(summary), "-q", "-j", "1",
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    frames = taper.sweep(drug="clonazepam", dose=[0.5, 1], rate=[5, 10], every=[14, 28])
    pandas.testing.assert_frame_equal(frames.days, taper.read_plans(days))
    from_cli = taper.read_plans(summary).drop(columns="parameters")
    pandas.testing.assert_frame_equal(frames.summary.drop(columns="parameters"), from_cli)


def test_sweep_axes_and_fixed_values() -> None:
    frames = taper.sweep(
        drug=["clonazepam", "lorazepam"], dose=numpy.array([1.0]), rate=pandas.Series([10, 20]),
        holds=["every:3:2w"], region="uk",
    )  # fmt: skip
    summary = frames.summary
    assert summary["drug"].tolist() == ["clonazepam", "clonazepam", "lorazepam", "lorazepam"]
    assert summary["rate_percent"].tolist() == [10, 20, 10, 20]
    assert set(summary["holds"]) == {"hold 14 days after every 3 steps"}
    assert set(summary["region"]) == {"uk"}
    with pytest.raises(TaperError, match="give the dose"):
        taper.sweep(drug="clonazepam")
    holds = taper.sweep(drug="clonazepam", dose=1, holds=[["every:3:2w"], []], plans=True)
    assert [len(p.plan.request.holds) for p in holds if p.plan] == [1, 0]


# ------------------------------------------------------------------ frames


def _assert_analysable(frame: Any, where: str) -> None:
    for column in frame.columns:
        dtype = str(frame[column].dtype)
        assert dtype != "object", f"{where}: {column} is an object column"
        if column.endswith(("_mg", "_percent", "_ml", "_days")) and column != "steps_mg":
            assert dtype in {"float64", "Int64"}, f"{where}: {column} is {dtype}"
        if column == "date" or column.endswith("_date"):
            assert dtype.startswith("datetime64"), f"{where}: {column} is {dtype}"


def test_no_frame_the_library_returns_has_object_columns(
    table: EquivalenceTable, run: Any, tmp_path: Path
) -> None:
    plan = plan_taper("lorazepam", 2, switch_to="diazepam", start=START, table=table)
    frames = taper.batch(
        [{"drug": "clonazepam", "dose": 1}, {"drug": "lorazepam;alprazolam", "dose": "1mg;0.5mg",
                                              "switch_to": "diazepam"},
         {"drug": "clonazepam", "dose": "x"}], start=START, table=table,
    )  # fmt: skip
    returned = {"to_dataframe": plan.to_dataframe(), "days": frames.days,
                "summary": frames.summary, "dispensing": frames.dispensing}  # fmt: skip
    days, summary, lines = tmp_path / "d.csv", tmp_path / "s.csv", tmp_path / "d.jsonl"
    args = ("sweep", "clonazepam", "0.5mg,1mg", "-q", "-j", "1")
    assert run(*args, "-o", str(days), "--summary", str(summary)).exit_status == 0
    assert run(*args, "-o", str(lines)).exit_status == 0
    dispensing = tmp_path / "p.csv"
    assert (
        run(*args, "-o", str(tmp_path / "x.csv"), "--dispensing", str(dispensing)).exit_status == 0
    )
    for path in (days, summary, lines, dispensing):
        returned[path.name] = taper.read_plans(path)
    for where, frame in returned.items():
        _assert_analysable(frame, where)
    assert list(frames.summary["status"].cat.categories) == ["ok", "error"]
    assert frames.summary["status"].cat.ordered
    assert list(frames.days["phase"].cat.categories)[:3] == ["crossover", "stabilization", "taper"]
    assert frames.days["phase"].cat.ordered


# ------------------------------------------------------------------ a plan in a notebook


def test_a_plans_repr_is_one_short_line_not_23883_characters(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", 1, start=START, table=table)
    text = repr(plan)
    assert len(text) < 250
    assert "\n" not in text
    assert text.startswith("<TaperPlan clonazepam 1 mg a day to 0: 10% of the current dose")
    assert "2027-01-04 to " in text
    assert f"({plan.checks.duration_days} days, {len(plan.steps)} steps)" in text
    switch = plan_taper([("lorazepam", 2), ("alprazolam", 0.5)], switch_to="diazepam", table=table)
    assert "lorazepam 2 mg a day, alprazolam 0.5 mg a day, onto diazepam" in repr(switch)


def test_a_plan_shows_its_steps_and_curve_in_a_notebook(table: EquivalenceTable) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    backend = matplotlib.get_backend()
    plan = plan_taper("clonazepam", 1, start=START, table=table)
    page = plan._repr_html_()
    assert page.count("<tr>") == len(plan.steps) + 1  # the heading row and one per step
    assert "<td>2027-01-04</td>" in page
    assert "<svg" in page
    assert "the products&#x27; finest step" in page  # warnings, escaped
    assert matplotlib.get_backend() == backend


def test_without_the_plot_extra_a_notebook_shows_the_table(
    table: EquivalenceTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    page = plan_taper("clonazepam", 1, start=START, table=table)._repr_html_()
    assert "<table>" in page
    assert "<svg" not in page


def test_check_plan_takes_its_supply_period_as_numpy_or_pandas_values(
    table: EquivalenceTable, tmp_path: Path
) -> None:
    path = tmp_path / "plan.csv"
    plan_taper("clonazepam", 1, start=START, table=table).to_csv(path)
    by_int = taper.check_plan(path, table, supply_days=28)
    for value in (numpy.int64(28), pandas.Timedelta(weeks=4), numpy.timedelta64(28, "D")):
        assert taper.check_plan(path, table, supply_days=value).supply == by_int.supply
    with pytest.raises(ParameterError, match="supply_days must be a whole number of days"):
        taper.check_plan(path, table, supply_days=pandas.Timedelta(hours=12))
    with pytest.raises(ParameterError, match="supply_days must be a number of days"):
        taper.check_plan(path, table, supply_days="28d")


def test_a_dataframe_of_pandas_extension_dtypes_is_read_by_value() -> None:
    cohort = pandas.DataFrame(
        {
            "id": pandas.array(["a", "b"], dtype="string"),
            "drug": pandas.Categorical(["clonazepam", "lorazepam"]),
            "dose": pandas.array([1, 2], dtype="Int64"),
            "rate": pandas.array([25, None], dtype="Int64"),  # <NA>: not given, so 10%
            "seizures": pandas.array([True, None], dtype="boolean"),
            "start": pandas.to_datetime(["2027-01-04", "2027-02-01"]),
            "every": pandas.to_timedelta(["14D", "28D"]),
        }
    )
    summary = taper.batch(cohort).summary
    assert summary["status"].tolist() == ["ok", "ok"]
    assert summary["rate_percent"].tolist() == [25, 10]
    assert summary["seizures"].tolist() == [True, False]
    assert summary["interval_days"].tolist() == [14, 28]
    assert [day.date() for day in summary["start_date"]] == [START, dt.date(2027, 2, 1)]


def test_sweep_refuses_the_command_lines_comma_lists_at_once() -> None:
    """As `taper sweep clonazepam,lorazepam 1mg` is one usage error, not one per scenario."""
    with pytest.raises(
        ParameterError,
        match=r"drug must be one value; to sweep several, give a list: \['clonazepam', 'lorazepam'\]",
    ):
        taper.sweep(drug="clonazepam,lorazepam", dose=1)
    with pytest.raises(ParameterError, match="rate must be one value"):
        taper.sweep(drug="clonazepam", dose=1, rate="5%,10%")
    frames = taper.sweep(drug="clonazepam", dose="morning=0.5mg,night=0.5mg", method="steps",
                         steps="0.75mg,0.5mg,0.25mg")  # fmt: skip
    assert frames.summary["status"].tolist() == ["ok"]


def test_a_frame_with_a_column_twice_is_refused_not_read_one_way() -> None:
    """A DataFrame with two 'dose' columns planned the second without a word, while the same
    table as a scenario file is refused (an attacker's review)."""
    import pandas as pd

    import taper
    from taper.errors import InvalidRequestError

    frame = pd.DataFrame([["diazepam", 10, 20]], columns=["drug", "dose", "dose"])
    with pytest.raises(InvalidRequestError, match="column\\(s\\) dose more than once"):
        taper.batch(frame, start="2027-01-04")
