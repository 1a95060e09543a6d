"""What `taper check` prints (issue 22): supply periods by date, and a step table that
reads at 80 columns and narrower."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

START = ("--start", "2027-01-04")


@pytest.fixture
def dated_plan(run: Any, tmp_path: Path) -> Path:
    """A US clonazepam plan written by taper: dates, one dose time, forced cuts at the end."""
    path = tmp_path / "draft.csv"
    result = run("schedule", "clonazepam", "1mg", *START, "--format", "csv", "-o", str(path))
    assert result.exit_status == 0, result.stderr
    return path


def test_check_gives_supply_periods_as_dates(run: Any, dated_plan: Path) -> None:
    """Regression (issue 22): the periods of a dated file read "Days 1-28"."""
    result = run("check", str(dated_plan), "--supply", "28d")
    assert result.exit_status == 0, result.stderr
    assert "Days 1-28" not in result.stdout
    assert "2027-01-04 to 2027-01-31: 28 × clonazepam 1 mg tablet" in result.stdout
    assert "2027-01-32" not in result.stdout
    assert "2027-08-16 to 2027-09-12: 28 × clonazepam 0.125 mg ODT" in result.stdout


def test_a_count_stays_with_its_product_at_60_columns(run: Any, dated_plan: Path) -> None:
    """A reviewer: at 60 columns a supply line wrapped between "14 ×" and its product."""
    result = run("check", str(dated_plan), "--supply", "28d", env={"COLUMNS": "60"})
    assert result.exit_status == 0, result.stderr
    assert not [line for line in result.stdout.splitlines() if line.rstrip().endswith("×")]


def test_check_of_a_file_of_day_numbers_keeps_day_numbers(run: Any, tmp_path: Path) -> None:
    """A file without dates has no date to give: its periods stay in its own terms."""
    path = tmp_path / "plan.csv"
    path.write_text(
        "day,dose_mg\n" + "".join(f"{day},0.5\n" for day in range(1, 8)) + "8,0\n",
        encoding="utf-8",
    )
    result = run("check", str(path), "--drug", "clonazepam", "--supply", "4d")
    assert "Days 1-4: 4 × clonazepam 0.5 mg tablet" in result.stdout
    assert "Days 5-7: " in result.stdout


def test_schedule_gives_supply_periods_as_dates(run: Any) -> None:
    """The same periods in the plan's own text (the lines are shared with the check)."""
    result = run("schedule", "clonazepam", "1mg", *START, "--supply", "28d")
    assert result.exit_status == 0, result.stderr
    assert "2027-01-04 to 2027-01-31: 28 × clonazepam 1 mg tablet" in result.stdout
    assert "Days 1-28" not in result.stdout


def _table_rows(text: str) -> list[list[str]]:
    """The step table's rows, each as its printed lines (rows start at a line whose first
    cell is not blank)."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    rows: list[list[str]] = []
    for line in lines[top + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith("├"):
            continue
        first = line.split("│")[1]
        if first.strip():
            rows.append([])
        rows[-1].append(line)
    return rows


#: A unit left at the start of a cell's line, away from its number.
ORPHAN_UNIT = re.compile(r"│ +(mg|mL|tablets?|days?|×)(?= )")


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_check_table_reads_at_narrow_widths(run: Any, dated_plan: Path, columns: int) -> None:
    """Regression (issue 22): at 80 columns the "how to make them" column was about 9
    characters wide, 11 lines a step."""
    result = run("check", str(dated_plan), env={"COLUMNS": str(columns)})
    assert result.exit_status == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    rows = _table_rows(result.stdout)
    assert len(rows) == 9  # one per step
    assert max(len(row) for row in rows) <= 3, "\n".join(max(rows, key=len))
    assert not any(ORPHAN_UNIT.search(line) for line in lines)
    # How each step is made is said in full, in its column or on lines of its own.
    made = "1 × 0.5 mg tablet + half of a 0.5 mg tablet + 1 × 0.125 mg ODT"
    if "How to make them" in result.stdout.split("┡")[0]:
        cell = " ".join(line.split("│")[3].strip() for line in rows[1])
        assert cell == f"night: {made}"
    else:
        assert made in " ".join(result.stdout.split("How to make each step's doses:")[1].split())
    # Each source's equivalent of the first step, with its unit.
    assert re.search(r"20 mg", result.stdout)
    assert re.search(r"10 to 40 mg", result.stdout)


def test_the_check_table_at_80_columns_keeps_the_equivalents_in_columns(
    run: Any, dated_plan: Path
) -> None:
    """At 80 columns a step is one row of the table with a column per source; the way to
    make each step's doses follows the table, one line each, under the step's date."""
    result = run("check", str(dated_plan), env={"COLUMNS": "80"})
    header = next(line for line in result.stdout.splitlines() if "From" in line)
    assert "va-dod-2021" in result.stdout.split("┡")[0]
    assert "How to make them" not in header
    assert "2027-02-01: night: 1 × 0.5 mg tablet + half of a 0.5 mg tablet + 1 × 0.125 mg" in (
        result.stdout
    )


def test_the_check_table_at_120_columns_keeps_the_how_to_column(run: Any, dated_plan: Path) -> None:
    result = run("check", str(dated_plan), env={"COLUMNS": "120"})
    assert "How to make them" in result.stdout.split("┡")[0]
