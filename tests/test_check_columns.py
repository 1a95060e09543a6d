"""`taper check` reads every column of a clinic's file or refuses it by name (issue 21)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taper.check import DOSE_TIME_NAMES, PlanFileError, check_plan, columns_markdown
from taper.table import EquivalenceTable

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_meal_columns_were_dropped_and_only_bedtime_read(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """Regression: ``from;breakfast;lunch;dinner;bedtime`` was checked as '2 mg night'."""
    text = (
        "from;breakfast;lunch;dinner;bedtime\n"
        "1;1;1;1;2\n15;1;1;0.5;2\n29;1;0.5;0.5;2\n43;stop;stop;stop;stop\n"
    )
    result = check_plan(write(tmp_path, text), table, drug="lorazepam")
    assert [s.totals_by_drug().get("lorazepam", 0) for s in result.steps] == [5, 4.5, 4, 0]
    assert list(result.steps[1].doses) == [
        ("lorazepam", "morning"),
        ("lorazepam", "midday"),
        ("lorazepam", "evening"),
        ("lorazepam", "night"),
    ]
    assert result.steps[1].doses["lorazepam", "evening"] == Decimal("0.5")
    tablets = sum(entry.quantity for entry in result.dispensing)
    assert tablets >= 14 * 5  # every dose time dispensed, not the night dose alone


def test_lunchtime_and_teatime_are_read(tmp_path: Path, table: EquivalenceTable) -> None:
    text = (
        "from;Morning;Lunchtime;Teatime;Bedtime\n1;1;1;1;2\n15;1;1;0.5;2\n29;Stop;Stop;Stop;Stop\n"
    )
    result = check_plan(write(tmp_path, text), table, drug="lorazepam")
    assert [slot for _, slot in result.steps[0].doses] == ["morning", "midday", "evening", "night"]
    assert result.steps[0].totals_by_drug() == {"lorazepam": 5}


def test_units_in_brackets_and_a_total_column_were_refused(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """Regression: a spreadsheet export's headers were refused without naming them."""
    text = (
        "day;Morning (mg);Night (mg);Total daily dose (mg)\n"
        + "".join(f"{day};5;10;15\n" for day in range(1, 15))
        + "".join(f"{day};4;10;14\n" for day in range(15, 29))
    )
    result = check_plan(write(tmp_path, text), table, drug="diazepam")
    assert result.steps[0].doses == {("diazepam", "morning"): 5, ("diazepam", "night"): 10}
    assert not [p for p in result.problems if p.kind == "total"]


def test_a_total_that_is_not_the_sum_of_the_doses_is_a_problem(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    text = "day;Morning (mg);Night (mg);Total\n1;5;10;15\n2;4;10;15\n"
    result = check_plan(write(tmp_path, text), table, drug="diazepam")
    (problem,) = [p for p in result.problems if p.kind == "total"]
    assert problem.message == "line 3: the 'total' cell says 15 mg but the doses add up to 14 mg"
    assert not result.clean


def test_a_header_in_micrograms_is_read_in_micrograms(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    text = "day,Morning (mcg),Night (mcg)\n1,250,500\n"
    result = check_plan(write(tmp_path, text), table, drug="clonazepam")
    assert result.steps[0].doses == {
        ("clonazepam", "morning"): Decimal("0.25"),
        ("clonazepam", "night"): Decimal("0.5"),
    }


def test_am_and_pm_were_refused(tmp_path: Path, table: EquivalenceTable) -> None:
    """Regression: ``AM;PM`` was refused as having no dose column."""
    text = "day;AM;PM\n1;0.5;0.5\n2;0.5;0.5\n"
    result = check_plan(write(tmp_path, text), table, drug="clonazepam")
    assert list(result.steps[0].doses) == [("clonazepam", "morning"), ("clonazepam", "evening")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("day;morning;elevenses", "cannot place column 'elevenses'; accepted: dose times"),
        ("day;morning (ml)", "column 'morning (ml)' gives its doses in 'ml'; write them in mg"),
        ("day;pm;dinner", "columns 'pm', 'dinner' are both the evening dose"),
        ("day;dose_mg;night", "gives doses both in column 'dose_mg' and in columns per dose"),
    ],
)
def test_a_column_that_cannot_be_placed_is_refused_by_name(
    tmp_path: Path, table: EquivalenceTable, header: str, message: str
) -> None:
    cells = ";".join("1" for _ in header.split(";"))
    with pytest.raises(PlanFileError, match="line 1") as caught:
        check_plan(write(tmp_path, f"{header}\n{cells}\n"), table, drug="clonazepam")
    assert message in str(caught.value)


def test_a_step_table_with_a_date_column_was_read_as_daily_rows(
    tmp_path: Path, table: EquivalenceTable
) -> None:
    """Regression: rows of a step table under 'date' were read as single days, without a
    hint; they still are (the file does not say it is a step table), but the problem says
    how to make it one, and 'from' reads it as steps."""
    rows = "2027-01-04;10\n2027-01-18;9\n2027-02-01;8\n2027-02-15;stop\n"
    result = check_plan(write(tmp_path, "date;night\n" + rows), table, drug="diazepam")
    (missing,) = [p for p in result.problems if p.kind == "missing-days"]
    assert "name the 'date' column 'from' to read the file as a step table" in missing.message
    assert "the totals to dispense count only the days the file lists" in result.notes
    steps = check_plan(write(tmp_path, "from;night\n" + rows), table, drug="diazepam")
    assert [(s.start_day, s.end_day) for s in steps.steps] == [
        (1, 14),
        (15, 28),
        (29, 42),
        (43, 43),
    ]
    assert not [p for p in steps.problems if p.kind == "missing-days"]
    assert sum(entry.quantity for entry in steps.dispensing) > 6


def test_dose_times_were_listed_alphabetically(tmp_path: Path, table: EquivalenceTable) -> None:
    """Regression: the report listed evening, midday, morning, night."""
    text = "day;night;evening;midday;morning\n1;1;1;1;1\n"
    result = check_plan(write(tmp_path, text), table, drug="lorazepam")
    assert [slot for _, slot in result.steps[0].doses] == ["morning", "midday", "evening", "night"]


def test_the_docs_show_the_one_table_of_accepted_headers() -> None:
    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    assert columns_markdown() in page
    assert {slot for slot, _ in DOSE_TIME_NAMES} == {
        "morning",
        "midday",
        "afternoon",
        "evening",
        "night",
    }


def test_check_command_names_an_unplaceable_column(run: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "day;morning;elevenses\n1;1;1\n")
    result = run("check", str(path), "--drug", "clonazepam")
    assert result.exit_status == 1
    assert "cannot place column 'elevenses'" in result.stderr


def test_slot_cells_take_the_same_names(tmp_path: Path, table: EquivalenceTable) -> None:
    text = "day,slot,dose_mg\n1,Breakfast,5\n1,Bedtime,10\n2,AM,5\n2,nocte,10\n"
    result = check_plan(write(tmp_path, text), table, drug="diazepam")
    assert result.steps[0].doses == {("diazepam", "morning"): 5, ("diazepam", "night"): 10}
    assert len(result.steps) == 1


def test_a_naked_decimal_point_is_refused_asking_for_a_leading_zero(tmp_path: Path) -> None:
    """'.5' in a 'Morning (mg)' column was refused for having no unit and the message
    suggested '.5mg', the error-prone form (ISMP: always a leading zero; clinical reference 7)."""
    from taper.check import check_plan
    from taper.errors import TaperError
    from taper.table import load_table

    plan = tmp_path / "plan.csv"
    plan.write_text("day;Morning (mg);Night (mg)\n1;.5;1\n2;0;0\n", encoding="utf-8")
    with pytest.raises(TaperError, match=r"no leading zero: write 0\.5"):
        check_plan(plan, load_table(None), drug="lorazepam")


@pytest.mark.parametrize(
    ("header", "slot"),
    [
        ("Bed time", "night"),
        ("Night time", "night"),
        ("At bedtime", "night"),
        ("Tea time", "evening"),
        ("Morning dose", "morning"),
    ],
)
def test_common_clinic_headers_were_refused(
    tmp_path: Path, table: EquivalenceTable, header: str, slot: str
) -> None:
    """A pharmacist's review: 'Bed time', 'Night time', 'Tea time', 'At bedtime' and
    'Morning dose' were refused (by name, safely) though clinics write them."""
    result = check_plan(write(tmp_path, f"day;{header}\n1;1\n2;0\n"), table, drug="lorazepam")
    assert [s for _, s in result.steps[0].doses] == [slot]
