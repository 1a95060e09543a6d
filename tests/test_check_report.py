"""What `taper check` prints (issue 22): supply periods by date."""

from __future__ import annotations

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
