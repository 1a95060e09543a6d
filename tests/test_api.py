"""The Python API takes Python values, and refuses anything else with the project's error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taper
from taper import ParameterError, TaperError, convert_dose, load_table, plan_taper
from taper.table import EquivalenceTable

from .conftest import ROOT

START = dt.date(2027, 1, 4)


def _parameters(plan: Any) -> dict[str, Any]:
    parameters: dict[str, Any] = plan.to_dict()["meta"]["parameters"]
    return parameters


def test_text_and_python_values_give_the_same_plan(table: EquivalenceTable) -> None:
    as_text = plan_taper(
        "clonazepam", "1mg", rate="10%", every="2w", start="2027-01-04", table=table
    )
    for dose in (1, Decimal(1), 1.0, "1 mg"):
        for rate in (10, Decimal(10), 10.0):
            for every in (14, dt.timedelta(weeks=2), "14d"):
                plan = plan_taper(
                    "clonazepam", dose, rate=rate, every=every, start=START, table=table
                )
                assert _parameters(plan) == _parameters(as_text)


def test_a_float_dose_goes_through_its_shortest_repr_never_binary_noise(
    table: EquivalenceTable,
) -> None:
    plan = plan_taper("clonazepam", 0.75, step=0.1, method="linear", start=START, table=table)
    assert plan.request.step_mg == Decimal("0.1")  # the float 0.1 is 0.1, exactly
    assert plan.steps[0].total_mg == Decimal("0.75")
    with pytest.raises(TaperError, match="finer than 1 mcg"):  # 0.30000000000000004
        plan_taper("clonazepam", 0.1 + 0.2, start=START, table=table)


def test_every_python_value_kind_is_accepted(table: EquivalenceTable) -> None:
    plan = plan_taper(
        "clonazepam",
        {"morning": 0.5, "night": Decimal("0.5")},
        rate=Decimal("7.5"),
        every=dt.timedelta(days=10),
        final=0.25,
        holds=["at:0.5mg:2w", "every:3:2w"],
        products=("0.5mg tablet scored", "0.125mg odt"),
        start=START,
        supply=dt.timedelta(days=28),
        used_for=dt.timedelta(days=400),
        age=70,
        seizures=False,
        with_opioids=True,
        table=table,
        today=dt.date(2026, 12, 1),
    )
    request = plan.request
    assert request.regimen == {"morning": Decimal("0.5"), "night": Decimal("0.5")}
    assert request.rate_percent == Decimal("7.5")
    assert request.interval_days == 10
    assert request.final_mg == Decimal("0.25")
    assert [hold.text() for hold in request.holds] == [
        "hold 14 days at 0.5 mg",
        "hold 14 days after every 3 steps",
    ]
    assert request.products == ("0.5mg tablet scored", "0.125mg odt")
    assert request.supply_days == 28
    assert request.factors.used_for_days == 400
    assert request.factors.with_opioids is True
    assert request.factors.seizures is False


def test_a_target_end_date_as_a_date(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", 1, start=START, until=dt.date(2028, 6, 30), table=table)
    assert plan.request.until == dt.date(2028, 6, 30)
    assert plan.checks.end_date <= dt.date(2028, 6, 30)


def test_one_hold_as_text_is_one_hold_not_one_per_character(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", "1mg", holds="at:0.5mg:2w", start=START, table=table)
    assert [hold.text() for hold in plan.request.holds] == ["hold 14 days at 0.5 mg"]


def test_several_drugs_with_number_doses_and_table_as_a_path() -> None:
    plan = plan_taper(
        [("lorazepam", 1), ("alprazolam", Decimal("0.5"))],
        switch_to="clonazepam",
        stabilize=0,
        start=START,
        table=str(ROOT / "equivalences.toml"),
    )
    assert [drug.name for drug in plan.drugs] == ["lorazepam", "alprazolam", "clonazepam"]
    assert plan.request.stabilize_days == 0


WRONG_CALLS: list[tuple[dict[str, Any], str]] = [
    ({"start": dt.datetime(2027, 1, 4, 9, 0)}, "start must be a date without a time"),
    ({"start": 20270104}, "start must be a datetime.date"),
    ({"rate": "fast"}, "cannot read rate 'fast'"),
    ({"rate": [10]}, "rate must be a number or text"),
    ({"rate": True}, "rate must be a number"),
    ({"rate": float("nan")}, "rate must be a finite number"),
    ({"rate": Decimal("1e999999")}, "rate must be a number of a plausible size"),
    ({"rate": Fraction(1, 10)}, "rate must be a number or text"),
    ({"every": dt.timedelta(hours=36)}, "every must be a whole number of days"),
    ({"every": 1.5}, "every must be a number of days"),
    ({"every": 0}, "must be at least one day"),
    ({"times": "2"}, "times must be a whole number"),
    ({"times": True}, "times must be a whole number"),
    ({"age": 70.5}, "age must be a whole number"),
    ({"seizures": "no"}, "seizures must be True or False, not str 'no'"),
    ({"seizures": 0}, "seizures must be True or False"),
    ({"cautious": None, "with_alcohol": "yes"}, "with_alcohol must be True or False"),
    ({"holds": [1, 2]}, "holds must be a list of texts"),
    ({"products": {"a": 1}}, "products must be a list of texts"),
    ({"steps": 5}, "steps must be a list of doses"),
    ({"method": 3}, "method must be text"),
    ({"source": ["ashton"]}, "source must be text"),
    ({"colour": "red"}, "unknown option"),
    ({"table": 123}, "table must be an EquivalenceTable or the path of a table file"),
    ({"today": "2027-01-04"}, "today must be a datetime.date"),
]


@pytest.mark.parametrize(("options", "message"), WRONG_CALLS, ids=lambda v: str(v)[:40])
def test_wrong_values_raise_the_projects_error_naming_the_parameter(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaperError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_taper("clonazepam", "1mg", **options)


@pytest.mark.parametrize(
    ("drug", "dose", "message"),
    [
        (123, None, "drug must be a drug name or a list"),
        ("clonazepam", None, "give the current dose"),
        ("clonazepam", [1], "dose must be a number or text"),
        ("clonazepam", -1, "invalid dose"),
        ("clonazepam", {"morning": "x"}, "invalid dose"),
        ("clonazepam", {1: 0.5}, "dose must be dose times"),
        ([("clonazepam", 1)], "1mg", "drug must be a drug name when a dose is given"),
        ([("clonazepam",)], None, "drug must be a drug name or a list"),
    ],
)
def test_wrong_drugs_and_doses_are_refused(drug: Any, dose: Any, message: str) -> None:
    with pytest.raises(TaperError, match=message):
        plan_taper(drug, dose, start=START)


def test_wrong_types_are_also_type_errors_for_callers_who_do_not_know_taper() -> None:
    with pytest.raises(TypeError) as caught:
        plan_taper("clonazepam", "1mg", rate=[10])
    assert isinstance(caught.value, ParameterError)
    assert caught.value.parameter == "rate"
    assert caught.value.value == [10]


def test_load_table_refuses_what_is_not_a_path() -> None:
    with pytest.raises(ParameterError, match="path must be the path of a table file"):
        load_table(123)  # type: ignore[arg-type]
    assert load_table(Path(ROOT / "equivalences.toml")).drugs


def test_convert_dose_simple_form_beside_the_pairs(table: EquivalenceTable) -> None:
    simple = convert_dose("clonazepam", "1.5mg", "diazepam", table=table)
    for dose in (1.5, Decimal("1.5"), "1.5 mg"):
        assert convert_dose("clonazepam", dose, "diazepam", table=table) == simple
    assert convert_dose([("clonazepam", 1.5)], "diazepam", table=table) == simple
    assert convert_dose([("clonazepam", 1.5)], to="diazepam", table=table) == simple
    assert simple.chosen.text() == "30 mg"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("clonazepam",), {"to": "diazepam"}, "give the dose of clonazepam"),
        (("clonazepam", "1mg", 5), {}, "to must be the name of the drug"),
        (([("clonazepam", "1mg")], 5), {}, "to must be the name of the drug"),
        ((123, "1mg", "diazepam"), {}, "doses must be a drug name"),
        (("clonazepam", [1], "diazepam"), {}, "must be a number"),
        (("clonazepam", "1mg", "diazepam"), {"source": 1}, "source must be a source id"),
        (("clonazepam", "1mg", "diazepam"), {"allow_high_dose": "no"}, "allow_high_dose must"),
        (("clonazepam", "1mg", "diazepam"), {"table": 1}, "table must be an EquivalenceTable"),
    ],
)
def test_convert_dose_refuses_wrong_values(args: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(TaperError, match=message):
        convert_dose(*args, **kwargs)


def test_every_public_result_is_decimal_never_fraction(table: EquivalenceTable) -> None:
    conversion = convert_dose("oxazepam", 10, "lorazepam", source="who-2009", table=table)
    for result in conversion.results:
        for value in (result.low_mg, result.high_mg):
            assert value is None or isinstance(value, Decimal)
    assert conversion.chosen.low_mg == Decimal("0.333")
    assert not conversion.chosen.is_exact
    assert conversion.spread is not None
    for value in (conversion.spread.low_mg, conversion.spread.high_mg, conversion.spread.fold):
        assert isinstance(value, Decimal)
    summary = plan_taper("clonazepam", 1, start=START, table=table).summary
    assert not any(isinstance(value, Fraction | float) for value in summary.values())


def test_the_error_type_is_public() -> None:
    assert "ParameterError" in taper.__all__


# ------------------------------------------------------------------ DataFrames

pandas = pytest.importorskip("pandas")

DAY_DTYPES = {
    "day": "Int64",
    "step": "Int64",
    "phase": "category",
    "drug": "category",
    "slot": "category",
    "dose_mg": "float64",
    "diazepam_eq_mg": "float64",
    "diazepam_eq_mg_low": "float64",
    "diazepam_eq_mg_high": "float64",
    "take": "string",
}


def _check_day_frame(frame: Any) -> None:
    for column, dtype in DAY_DTYPES.items():
        assert str(frame[column].dtype) == dtype, column
    assert str(frame["date"].dtype).startswith("datetime64")


def test_to_dataframe_is_typed_with_provenance_in_attrs(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", 1, switch_to="diazepam", start=START, table=table)
    frame = plan.to_dataframe()
    _check_day_frame(frame)
    assert frame["date"].iloc[0] == pandas.Timestamp("2027-01-04")
    # Diazepam 20 mg is at most 10 mg at one time (label), so the plan has a morning dose
    # time too: the current clonazepam dose is the night row.
    night = frame[(frame["drug"] == "clonazepam") & (frame["slot"] == "night")]
    assert night["dose_mg"].iloc[0] == 1.0  # a number: sums add, they do not concatenate
    assert list(frame["phase"].cat.categories[:3]) == ["crossover", "stabilization", "taper"]
    assert frame["phase"].cat.ordered
    assert frame.attrs["source"] == "ashton"
    assert frame.attrs["table_sha256"] == table.sha256
    assert frame.attrs["parameters"]["switch_to"] == "diazepam"
    assert frame.attrs["parameters"]["regimen_mg"] == {"night": 1}
    assert frame.attrs["tool"] == f"taper {taper.__version__}"


def test_read_plans_gives_back_the_same_frame(table: EquivalenceTable, tmp_path: Path) -> None:
    plan = plan_taper("clonazepam", 1, start=START, table=table)
    plan.to_csv(tmp_path / "plan.csv")
    again = taper.read_plans(tmp_path / "plan.csv")
    pandas.testing.assert_frame_equal(again, plan.to_dataframe())
    assert again.attrs == plan.to_dataframe().attrs


def test_read_plans_reads_batch_sweep_and_jsonl_outputs(run: Any, tmp_path: Path) -> None:
    days, summary, lines = tmp_path / "d.csv", tmp_path / "s.csv", tmp_path / "d.jsonl"
    args = ("sweep", "clonazepam", "0.5mg,1mg", "--rate", "5%,10%", "-q", "-j", "1")
    assert run(*args, "-o", str(days), "--summary", str(summary)).exit_status == 0
    assert run(*args, "-o", str(lines), "-f", "jsonl").exit_status == 0
    frame = taper.read_plans(days)
    _check_day_frame(frame)
    assert str(frame["scenario"].dtype) == "category"
    assert frame["scenario"].nunique() == 4
    assert "sweep of clonazepam" in frame.attrs["detail"]
    from_jsonl = taper.read_plans(lines)
    assert str(from_jsonl["dose_mg"].dtype) == "float64"
    assert str(from_jsonl["date"].dtype).startswith("datetime64")
    assert from_jsonl["dose_mg"].sum() == pytest.approx(frame["dose_mg"].sum())
    assert from_jsonl.attrs["table_sha256"] == frame.attrs["table_sha256"]
    rows = taper.read_plans(summary)
    assert str(rows["duration_days"].dtype) == "Int64"
    assert str(rows["end_date"].dtype).startswith("datetime64")
    assert str(rows["forced_by_products"].dtype) == "boolean"
    assert str(rows["stop_from_mg"].dtype) == "float64"
    for column in rows.columns:
        if column.startswith("warnings") or column.endswith("_days"):
            assert str(rows[column].dtype) == "Int64", column
        if column.endswith(("_mg", "_percent", "_ml")) and column != "steps_mg":
            assert str(rows[column].dtype) == "float64", column
    assert str(rows["target_end_date"].dtype).startswith("datetime64")


def test_read_plans_refuses_what_taper_did_not_write(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(TaperError, match=r"x\.jsonl, line 1: not JSON Lines"):
        taper.read_plans(path)
    with pytest.raises(TaperError, match="cannot be read"):
        taper.read_plans(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: taper.format_dose("x"), "value must be a number"),
        (lambda t: taper.format_dose_range(1.5, 2), "value must be a number"),
        (lambda t: taper.check_plan(123, t), "path must be a path"),
        (lambda t: taper.read_plans(1), "path must be a path"),
        (lambda t: taper.build_plan("x"), "request must be a TaperRequest"),
        (lambda t: plan_taper("clonazepam", 1, table=t).to_csv(123), "path must be a path"),
        (lambda t: plan_taper("clonazepam", 1, table=t).to_csv("p.csv", force="no"), "force"),
        (lambda t: t.drug(1), "drug must be a drug name"),
        (lambda t: t.source(None), "source must be a source id"),
        (lambda t: plan_taper("clonazepam", 1, every=-1, table=t), "every must be from 0"),
        (lambda t: plan_taper("clonazepam", 1, every=10**9, table=t), "every must be from 0"),
        (lambda t: convert_dose(None), "doses must be a drug name or a list"),
    ],
)
def test_every_public_function_refuses_wrong_values_with_the_projects_error(
    table: EquivalenceTable, call: Any, message: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TaperError, match=message):
        call(table)
    assert not (tmp_path / "p.csv").exists()


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10000), places=3))
def test_a_number_of_mg_reads_as_exactly_its_decimal_whatever_its_type(dose: Decimal) -> None:
    """A float goes through its shortest repr: the float nearest 0.1 is read as 0.1."""
    from taper.doses import parse_dose
    from taper.values import dose_text

    assert parse_dose(dose_text(dose, "dose")) == dose
    assert parse_dose(dose_text(float(dose), "dose")) == dose
    if dose == dose.to_integral_value():
        assert parse_dose(dose_text(int(dose), "dose")) == dose
