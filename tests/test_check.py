"""`taper check`: a plan written by someone else, checked as a pharmacist would."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taper.check import PlanFileError, check_plan
from taper.csvout import plan_csv
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

from .conftest import ROOT

START = "2027-01-04"


def write(tmp_path: Path, text: str, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def daily(doses: list[tuple[int, str]], header: str = "day,dose_mg") -> str:
    return header + "\n" + "".join(f"{day},{dose}\n" for day, dose in doses)


def steady(*doses: str, days: int = 14) -> list[tuple[int, str]]:
    rows = []
    for index, dose in enumerate(doses):
        rows += [(index * days + offset + 1, dose) for offset in range(days)]
    return rows


def test_a_careful_hand_written_plan_is_clean(tmp_path: Path, table: EquivalenceTable) -> None:
    # The first weeks of a taper (a plan that does not reach zero yet: noted, not a problem).
    path = write(tmp_path, daily(steady("1", "0.875", "0.75", "0.625", "0.5")))
    result = check_plan(path, table, drug="clonazepam")
    assert result.problems == ()
    assert result.clean
    assert result.notes == (
        "products of the US (by default: give the region the plan is dispensed in)",
        "the plan does not end at zero",
    )
    assert [s.cut_percent for s in result.steps][1:3] == [Decimal("12.5"), Decimal("14.3")]
    assert result.steps[0].diazepam_by_source["ashton"] == (20, 20)
    assert result.steps[0].diazepam_by_source["va-dod-2021"] == (10, 10)
    assert "who-2009" not in result.steps[0].diazepam_by_source  # no clonazepam value


@pytest.mark.parametrize(
    ("rows", "kind", "day"),
    [
        ([*steady("1", "0.3"), (29, "0")], "undispensable", 15),
        ([*steady("1", "0.75", "1"), (43, "0")], "increase", 29),
        ([*steady("1", "0.5"), (29, "0")], "ceiling", 15),
        ([*steady("1", "0.875"), (29, "0")], "stop", 29),
        ([r for r in steady("1", "0.875") if r[0] != 10] + [(29, "0")], "missing-days", 10),
        ([*steady("1", "0.875"), (14, "1"), (29, "0")], "repeated-day", 14),
    ],
)
def test_each_kind_of_problem_is_found(
    tmp_path: Path, table: EquivalenceTable, rows: list[tuple[int, str]], kind: str, day: int
) -> None:
    result = check_plan(write(tmp_path, daily(rows)), table, drug="clonazepam")
    assert (kind, day) in {(p.kind, p.day) for p in result.problems}
    assert not result.clean


def test_dates_slots_units_and_a_drug_column(tmp_path: Path, table: EquivalenceTable) -> None:
    text = (
        "# written by hand\n"
        "date,drug,slot,dose\n"
        "2027-01-04,Valium,morning,5mg\n2027-01-04,Valium,bedtime,10mg\n"
        "2027-01-05,Valium,morning,5mg\n2027-01-05,Valium,bedtime,10mg\n"
        "2027-01-06,Valium,morning,4mg\n2027-01-06,Valium,bedtime,10mg\n"
    )
    result = check_plan(write(tmp_path, text), table)
    assert result.drugs == ("diazepam",)
    assert str(result.first_date) == "2027-01-04"
    assert [(s.start_day, s.end_day) for s in result.steps] == [(1, 2), (3, 3)]
    assert result.steps[0].doses == {("diazepam", "morning"): 5, ("diazepam", "night"): 10}
    assert "the plan does not end at zero" in result.notes


@pytest.mark.parametrize(
    ("params", "region"),
    [
        ({"drug": "clonazepam", "dose": "1.5mg", "times": 3}, "us"),
        (
            {
                "drug": "diazepam",
                "dose": "morning=5mg,night=10mg",
                "method": "bands",
                "every": "1w",
            },
            "us",
        ),
        ({"drug": "clonazepam", "dose": "1mg", "region": "uk", "final": "0.1mg"}, "uk"),
        ({"drug": "alprazolam", "dose": "2mg", "times": 2, "switch_to": "diazepam"}, "us"),
    ],
)
def test_the_tools_own_plans_check_as_the_engine_flagged_them(
    tmp_path: Path, table: EquivalenceTable, params: dict[str, Any], region: str
) -> None:
    plan = plan_taper(start=START, table=table, **params)
    result = check_plan(write(tmp_path, plan_csv(plan, table)), table, region=region)
    flagged = {s.start_day for s in plan.steps if s.exceeds_ceiling}
    found = {p.day for p in result.problems if p.kind == "ceiling"}
    assert found == flagged
    engine_stop_warning = any("stops from" in w.message for w in plan.warnings)
    assert any(p.kind == "stop" for p in result.problems) == engine_stop_warning
    assert {p.kind for p in result.problems} <= {"ceiling", "stop"}
    totals = {(d.product.drug, d.product.label()): d.quantity for d in plan.dispensing}
    assert {(d.product.drug, d.product.label()): d.quantity for d in result.dispensing} == totals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("# only a comment\n", "has no header line"),
        ("dose_mg\n1\n", "needs a 'day', 'date' or 'from' column"),
        ("day,mg\n1,1\n", "cannot place column 'mg'; accepted: dose times (morning: morning"),
        ("day,drug\n1,x\n", "needs a 'dose_mg' or 'dose' column, or one per dose time; found"),
        (
            "date,dose_mg\n04/01/2027,1\n",
            "line 2: date '04/01/2027' could be day-first or month-first",
        ),
        ("date,dose_mg\n4 Jan 2027,1\n", "line 2: cannot read date '4 Jan 2027'; write YYYY-MM-DD"),
        ("from,morning\n1,1\n", "the last step has no end"),
        ("day,dose_mg\n", "has a header but no days"),
        ("day,dose_mg\n1,1,3\n", "line 2: has a different number of cells"),
        ("day,dose_mg\nx,1\n", "line 2: day 'x' is not a day number"),
        ("day,dose_mg\n1,=1+1\n", "line 2: dose_mg '=1+1' is not a plain number of mg"),
        ("date,dose_mg\n2027-02-30,1\n", "line 2:"),
        ("day,dose\n1,1/2mg\n", "line 2: invalid dose '1/2mg'"),
        ("day,dose_mg,drug\n1,1,aspirin\n", "line 2: unknown drug 'aspirin'"),
    ],
)
def test_bad_plan_files_report_file_and_line(
    tmp_path: Path, table: EquivalenceTable, text: str, message: str
) -> None:
    with pytest.raises(PlanFileError, match=r"plan\.csv") as caught:
        check_plan(write(tmp_path, text), table, drug="clonazepam")
    assert message in str(caught.value)


def test_binary_and_non_utf8_files_are_refused(tmp_path: Path, table: EquivalenceTable) -> None:
    binary = tmp_path / "plan.csv"
    binary.write_bytes(b"day,dose_mg\n1,\x00\x01\n")
    with pytest.raises(PlanFileError, match="binary"):
        check_plan(binary, table, drug="clonazepam")
    binary.write_bytes("day,dose_mg,note\n1,1,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(PlanFileError, match="not UTF-8"):
        check_plan(binary, table, drug="clonazepam")
    with pytest.raises(PlanFileError, match="no 'drug' column"):
        check_plan(write(tmp_path, "day,dose_mg\n1,1\n"), table)


def test_check_command_exit_status_and_json(run: Any, tmp_path: Path) -> None:
    clean = write(tmp_path, daily(steady("1", "0.875")), "clean.csv")
    result = run("check", str(clean), "--drug", "clonazepam")
    assert result.exit_status == 0, result.stdout
    assert "No problems found." in result.stdout
    risky = write(tmp_path, daily([*steady("1", "0.5"), (29, "0")]), "risky.csv")
    result = run("check", str(risky), "--drug", "clonazepam", "--format", "json")
    assert result.exit_status == 1
    document = result.json
    assert document["clean"] is False
    assert {p["kind"] for p in document["problems"]} == {"ceiling", "stop"}
    assert document["steps"][0]["diazepam_eq_mg"]["ashton"] == [20, 20]
    missing = run("check", str(tmp_path / "nope.csv"), "--drug", "clonazepam")
    assert missing.exit_status == 1
    assert missing.stderr.startswith("taper: error: ")
    assert "cannot be read" in missing.stderr


def test_a_row_the_csv_module_cannot_read_names_file_and_line(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    path = write(tmp_path, '# a comment\nday,dose_mg\n1,"' + "1" * 200_000 + '"\n')
    with pytest.raises(PlanFileError, match="field larger than field limit") as caught:
        check_plan(path, table, drug="clonazepam")
    assert caught.value.line == 3


def test_semicolon_separated_files_are_read(tmp_path: Path, table: EquivalenceTable) -> None:
    """Regression: a semicolon-separated CSV was refused as having no 'day' column."""
    text = "day;dose_mg\n" + "".join(f"{day};1\n" for day in range(1, 15)) + "15;0\n"
    result = check_plan(write(tmp_path, text), table, drug="clonazepam")
    assert [(s.start_day, s.end_day) for s in result.steps] == [(1, 14), (15, 15)]


@pytest.mark.parametrize(
    ("date_format", "written", "first"),
    [("dd/mm/yyyy", "04/01/2027", "2027-01-04"), ("mm/dd/yyyy", "01/04/2027", "2027-01-04")],
)
def test_day_first_and_month_first_dates_when_told(
    tmp_path: Path, table: EquivalenceTable, date_format: str, written: str, first: str
) -> None:
    text = f"date,dose_mg\n{written},1\n"
    result = check_plan(write(tmp_path, text), table, drug="clonazepam", date_format=date_format)
    assert str(result.first_date) == first


def test_a_date_that_could_be_either_is_one_clear_line(run: Any, tmp_path: Path) -> None:
    """Regression: '04/01/2027' was refused with Python's 'Invalid isoformat string'."""
    path = write(tmp_path, "date,dose_mg\n04/01/2027,1\n05/01/2027,0\n")
    result = run("check", str(path), "--drug", "clonazepam")
    assert result.exit_status == 1
    assert result.stderr.count("\n") == 1
    assert "isoformat" not in result.stderr
    assert "--date-format dd/mm/yyyy or mm/dd/yyyy" in result.stderr
    result = run("check", str(path), "--drug", "clonazepam", "--date-format", "dd/mm/yyyy")
    assert result.stderr == ""
    assert "2027-01-04" in result.stdout


def test_a_step_table_as_nhs_scotland_prints_it(tmp_path: Path, table: EquivalenceTable) -> None:
    """A row per step from its first date, a column per dose time, 'Stop' to end."""
    text = (
        "from;morning;night\n"
        "04/01/2027;10;10\n"
        "18/01/2027;9;10\n"
        "01/02/2027;8mg;10\n"
        "15/02/2027;Stop;Stop\n"
    )
    result = check_plan(
        write(tmp_path, text), table, drug="diazepam", date_format="dd/mm/yyyy", region="uk"
    )
    assert str(result.first_date) == "2027-01-04"
    assert [(s.start_day, s.end_day) for s in result.steps] == [
        (1, 14),
        (15, 28),
        (29, 42),
        (43, 43),
    ]
    assert result.steps[1].doses == {("diazepam", "morning"): 9, ("diazepam", "night"): 10}
    kinds = {p.kind for p in result.problems}
    assert "stop" in kinds  # from 8 + 10 mg to nothing
    assert kinds <= {"stop", "ceiling"}
    messages = " ".join(p.message for p in result.problems)
    assert "2027-02-15: " in messages  # the file's own terms: dates, not day numbers
    assert "day 43" not in messages


def test_problems_and_missing_days_are_dates_when_the_file_has_dates(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    rows = [f"2027-01-{day:02d},1\n" for day in range(4, 32) if day not in (10, 11)]
    result = check_plan(write(tmp_path, "date,dose_mg\n" + "".join(rows)), table, drug="clonazepam")
    (missing,) = [p for p in result.problems if p.kind == "missing-days"]
    assert missing.message.startswith("missing: 2027-01-10 to 2027-01-11 (each row is read")


def test_days_left_out_of_the_totals_are_named(tmp_path: Path, table: EquivalenceTable) -> None:
    path = write(tmp_path, daily([*steady("1", "0.3"), (29, "0")]))
    result = check_plan(path, table, drug="clonazepam")
    assert any(
        note.startswith("the totals to dispense leave out days 15-28: doses there cannot be made")
        for note in result.notes
    )


def test_an_empty_drug_cell_is_one_clear_line(run: Any, tmp_path: Path) -> None:
    """Regression: an empty drug cell was an internal error."""
    path = write(tmp_path, "day,drug,dose_mg\n1,clonazepam,1\n2,,1\n")
    result = run("check", str(path))
    assert result.exit_status == 1
    assert result.stderr == (
        f"taper: error: {path}, line 3: has an empty drug cell: fill it in or give --drug\n"
    )


def test_many_repeated_rows_stream_and_report_in_a_few_lines(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """Regression: a million repeated rows took 82 s and 672 MB, one problem per row."""
    path = write(tmp_path, "day,dose_mg\n" + "1,1\n" * 200_000)
    result = check_plan(path, table, drug="clonazepam")
    (repeated,) = result.problems
    assert repeated.message == (
        "day 1 gives the daily dose of clonazepam 200,000 times (line 3, 4, 5 and 199,996 more)"
    )
    many_days = "day,dose_mg\n" + "".join(f"{day},1\n{day},1\n" for day in range(1, 101))
    problems = check_plan(write(tmp_path, many_days), table, drug="clonazepam").problems
    assert len(problems) == 21
    assert problems[-1].message == "and 80 more doses given more than once"


def test_the_report_collapses_agreeing_sources_and_says_how_to_make_doses(
    run: Any, tmp_path: Path, table: EquivalenceTable
) -> None:
    """Regression: seven identical source columns for a diazepam plan; 'days 1-28' for a
    file written in dates; '1 tablets'; no word on how to make each dose."""
    plan = plan_taper("diazepam", "10mg", start=START, table=table, region="uk")
    path = write(tmp_path, plan_csv(plan, table))
    result = run("check", str(path), "--region", "uk")
    out = result.stdout
    assert "ashton (+" in out
    assert "agrees with va-dod-2021" in out
    assert "va-dod-2021 " not in out.split("agrees with")[0]  # not a column of its own
    assert "diazepam, 2027-01-04 to " in " ".join(out.split())  # the file's own terms
    assert "How to make them" in out
    assert "1 × 10 mg tablet" in out
    assert " 1 tablets " not in out


def test_one_tablet_is_singular() -> None:
    from taper.plan import DispensedProduct
    from taper.products import Product

    product = Product("diazepam", "tablet", Decimal(2))
    assert DispensedProduct(product, Decimal(1), "tablets").amount_text() == "1 tablet"
    assert DispensedProduct(product, Decimal(2), "tablets").amount_text() == "2 tablets"


def test_check_counts_supply_periods_carrying_halves_over(run: Any, tmp_path: Path) -> None:
    """A pharmacist sees what to dispense per period, the other half of a tablet split at
    the end of one period serving the next."""
    path = tmp_path / "plan.csv"
    path.write_text(
        "day,dose_mg\n" + "".join(f"{day},0.75\n" for day in range(1, 8)) + "8,0\n",
        encoding="utf-8",
    )
    result = run(
        "check", str(path), "--drug", "clonazepam", "--product", "0.5mg tablet scored",
        "--supply", "4d", "-f", "json",
    )  # fmt: skip
    periods = result.json["periods"]
    assert [(p["start_day"], p["end_day"]) for p in periods] == [(1, 4), (5, 7)]
    assert [p["items"][0]["quantity"] for p in periods] == [6, 5]  # 10.5 tablets: 11, not 12


def test_a_stop_from_a_dose_no_product_makes_is_checked_not_an_internal_error(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """A plan stopping from clonazepam 0.05 mg (below every product) raised IndexError in the
    clinical-end rule (found by the hostile plan-file fuzz)."""
    from taper.check import check_plan

    plan = tmp_path / "plan.csv"
    plan.write_text("day,drug,dose_mg\n1,clonazepam,0.05\n2,clonazepam,0\n", encoding="utf-8")
    result = check_plan(plan, table)
    assert not result.clean
    assert any("cannot be made" in problem.message for problem in result.problems)


def test_a_uk_plan_taper_wrote_is_checked_against_uk_products(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """A UK plan checked without --region was checked against US products (15 problems and
    'To dispense: ... 0.25 mg orally disintegrating tablet', a US-only product)."""
    plan = plan_taper("clonazepam", "1mg", times=2, region="uk", start="2027-01-04", table=table)
    path = tmp_path / "uk.csv"
    path.write_text(plan_csv(plan, table), encoding="utf-8")
    result = check_plan(path, table)
    assert result.clean, result.problems
    assert "products of the UK (the region named in the file's first lines)" in result.notes
    assert all("orally disintegrating" not in str(line) for line in result.dispensing)


def test_a_taper_plan_edited_by_hand_is_a_problem_of_the_check(run: Any, tmp_path: Path) -> None:
    """A reviewer: a plan CSV taper wrote, its 'take' edited to '2 × 0.5 mg tablet', was
    checked as taper's (its region and source trusted) and found to have no problems."""
    plan = tmp_path / "plan.csv"
    made = run("schedule", "clonazepam", "1mg", "--times", "2", "--start", "2027-01-04",
               "-o", str(plan))  # fmt: skip
    assert made.exit_status == 0, made.stderr
    assert run("check", str(plan)).exit_status == 0
    edited = tmp_path / "edited.csv"
    edited.write_text(
        plan.read_text(encoding="utf-8").replace("1 × 0.5 mg tablet", "2 × 0.5 mg tablet"),
        encoding="utf-8",
    )
    result = run("check", str(edited))
    assert result.exit_status == 1
    said = " ".join(result.stdout.split())
    assert "the file's first lines say taper wrote it, but it does not match its checksum" in said


def test_a_json_plan_is_refused_as_json_not_as_an_odd_column(run: Any, tmp_path: Path) -> None:
    """A reviewer: 'taper check plan.json' said "cannot place column '{'"."""
    plan = tmp_path / "plan.json"
    assert run("schedule", "diazepam", "10mg", "-o", str(plan)).exit_status == 0
    result = run("check", str(plan))
    assert result.exit_status == 1  # a file that cannot be read, as for every plan file
    assert "is JSON; the checker reads a plan as CSV" in result.stderr
    assert "cannot place column" not in result.stderr


def test_a_taper_plan_made_with_another_table_is_not_called_edited(
    run: Any, tmp_path: Path
) -> None:
    """taper's own file, made with another table, is checked against this one and said so;
    nothing in it was edited."""
    mine = tmp_path / "mine.toml"
    mine.write_text((ROOT / "equivalences.toml").read_text(encoding="utf-8") + "# mine\n")
    plan = tmp_path / "plan.csv"
    made = run("schedule", "clonazepam", "1mg", "--table", str(mine), "--start", "2027-01-04",
               "-o", str(plan))  # fmt: skip
    assert made.exit_status == 0, made.stderr
    result = run("check", str(plan))
    assert result.exit_status == 0, result.stdout
    said = " ".join(result.stdout.split())
    assert "the file was made with the equivalence table of sha256" in said
    assert "say taper wrote it, but" not in said
