"""`taper check` after a fresh user's review: never silently wrong, a report that names the
real problem (rows out of order, a drug given twice, a column dropped, a ``take`` or
``diazepam_eq_mg`` cell that contradicts its dose)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

START = ("--start", "2027-01-04")


@pytest.fixture
def taper_csv(run: Any, tmp_path: Path) -> Path:
    """A US clonazepam plan at two dose times, as taper writes it."""
    path = tmp_path / "p.csv"
    result = run(
        "schedule", "clonazepam", "1mg", "--times", "2", "--region", "us", *START, "-o", str(path)
    )
    assert result.exit_status == 0, result.stderr
    return path


def plain(path: Path) -> Path:
    """The file without its ``#`` lines: a clinic's file in taper's columns."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = path.with_name("plain-" + path.name)
    out.write_text("".join(line for line in lines if not line.startswith("#")), encoding="utf-8")
    return out


def test_step_rows_out_of_date_order_were_resorted_and_called_an_increase(
    run: Any, tmp_path: Path
) -> None:
    """Regression: 2027-01-10 after 2027-01-18 was sorted into place and reported as
    '2027-01-18: the dose goes up'."""
    path = tmp_path / "k5.csv"
    path.write_text(
        "from,Morning,Night\n2027-01-04,10,10\n2027-01-18,8,10\n2027-01-10,6,10\n"
        "2027-02-15,Stop,Stop\n",
        encoding="utf-8",
    )
    result = run("check", str(path), "--drug", "diazepam")
    assert result.exit_status == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "line 4" in result.stderr
    assert "2027-01-10" in result.stderr
    assert "2027-01-18" in result.stderr
    assert "(line 3)" in result.stderr
    assert "goes up" not in result.stderr


def test_step_rows_out_of_day_order_are_refused(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "k6.csv"
    path.write_text("from,Morning,Night\n1,10,10\n15,8,10\n8,6,10\n43,Stop,Stop\n", "utf-8")
    result = run("check", str(path), "--drug", "diazepam")
    assert result.exit_status == 1
    assert "line 4: the step from day 8 comes after the step from day 15 (line 3)" in (
        result.stderr
    )


def test_day_rows_out_of_order_are_read_by_their_days(run: Any, tmp_path: Path) -> None:
    """One row per day names its own day: the order of the rows changes nothing."""
    rows = [f"{day},10\n" for day in range(1, 29)] + ["29,0\n"]
    path = tmp_path / "days.csv"
    path.write_text("day,dose_mg\n" + "".join(reversed(rows)), encoding="utf-8")
    result = run("check", str(path), "--drug", "diazepam")
    assert result.stdout.startswith("Checked")
    assert "goes up" not in result.stdout


def test_drug_given_was_ignored_for_the_files_drug_column(run: Any, taper_csv: Path) -> None:
    """Regression: --drug diazepam on a clonazepam file checked 'clonazepam' without a word."""
    result = run("check", str(plain(taper_csv)), "--drug", "diazepam")
    assert result.exit_status == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "'drug' column says clonazepam" in result.stderr
    assert "--drug diazepam" in result.stderr


def test_drug_given_that_agrees_with_the_file_is_fine(run: Any, taper_csv: Path) -> None:
    result = run("check", str(plain(taper_csv)), "--drug", "Clonazepam")
    assert result.exit_status == 0, result.stderr + result.stdout


def test_a_dropped_column_said_key_error(run: Any, taper_csv: Path) -> None:
    """Regression: a taper CSV without its 'take' column was reported '(KeyError: 'take')'."""
    lines = taper_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = []
    for line in lines:
        if line.startswith("#"):
            kept.append(line)
        else:
            kept.append(line.rsplit(",", 1)[0] + "\n")
    taper_csv.write_text("".join(kept), encoding="utf-8")
    for command in (("check", str(taper_csv)), ("revise", str(taper_csv), "--on", "2027-02-01")):
        result = run(*command, "--hold", "7d") if command[0] == "revise" else run(*command)
        said = result.stdout + result.stderr
        assert "KeyError" not in said
        assert "Error:" not in said
        assert "has no 'take' column" in " ".join(said.split())
        assert "p.csv" in said or command[0] == "check"
