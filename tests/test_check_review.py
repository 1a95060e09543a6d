"""`taper check` after a fresh user's review: never silently wrong, a report that names the
real problem (rows out of order, a drug given twice, a column dropped, a ``take`` or
``diazepam_eq_mg`` cell that contradicts its dose)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from taper.formatting import format_dose
from taper.products import Formulary, formulary_for
from taper.rational import Fraction
from taper.stated import StatedCell, read_take, take_contradiction
from taper.table import EquivalenceTable

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


def edited(path: Path, line: int, old: str, new: str) -> Path:
    """``path`` with ``old`` replaced by ``new`` on its ``line`` (1-based)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def problems_of(run: Any, path: Path, *options: str) -> list[str]:
    result = run("check", str(path), "--format", "json", *options)
    assert result.exit_status in (0, 1), result.stderr
    return [problem["message"] for problem in result.json["problems"]]


def test_take_that_contradicts_the_dose_passed_silently(run: Any, taper_csv: Path) -> None:
    """Regression: '5 × 0.5 mg tablet' on a 0.5 mg row: "No problems found", exit 0."""
    path = edited(plain(taper_csv), 2, "1 × 0.5 mg tablet", "5 × 0.5 mg tablet")
    result = run("check", str(path))
    assert result.exit_status == 1
    said = " ".join(result.stdout.split())
    assert (
        "Problem: line 2: the 'take' cell says '5 × 0.5 mg tablet', which makes 2.5 mg, but "
        "the dose is 0.5 mg (clonazepam, morning)" in said
    )
    assert "No problems found" not in said


def test_diazepam_equivalent_that_contradicts_the_dose_passed_silently(
    run: Any, taper_csv: Path
) -> None:
    """Regression: diazepam_eq_mg 100 on a 0.5 mg clonazepam row: exit 0."""
    path = edited(plain(taper_csv), 3, ",10,10,10,", ",100,10,10,")
    messages = problems_of(run, path)
    assert messages == [
        "line 3: the 'diazepam_eq_mg' cell says '100', but the dose, clonazepam 0.5 mg (night), "
        "is 5 to 20 mg of diazepam by the table's sources (the file names none)"
    ]
    # a file that names its source (taper's own '#' lines) is checked against that source
    named = edited(taper_csv, 8, ",10,10,10,", ",5,5,5,")
    messages = problems_of(run, named)
    assert any(
        "line 8: the 'diazepam_eq_mg' cell says '5', but the dose, clonazepam 0.5 mg (morning), "
        "is 10 mg of diazepam by ashton" in message
        for message in messages
    )
    assert any("diazepam_eq_mg_low' cell says '5'" in message for message in messages)


def test_take_of_a_product_not_dispensed_or_cut_where_it_cannot_be(
    run: Any, taper_csv: Path
) -> None:
    path = plain(taper_csv)
    edited(path, 2, "1 × 0.5 mg tablet", "1 × 0.5 mg capsule")
    edited(path, 3, "1 × 0.5 mg tablet", "4 halves of a 0.25 mg ODT")
    edited(path, 4, "1 × 0.5 mg tablet", "2 × 0.125 mg ODT + half of a 0.5 mg tablet")
    edited(path, 5, "1 × 0.5 mg tablet", "2 × 0.25 mg ODT")  # another way to make it: fine
    messages = problems_of(run, path)
    assert len(messages) == 2
    assert messages[0].startswith(
        "line 2: the 'take' cell says '1 × 0.5 mg capsule', but that is not among the "
        "clonazepam products checked: "
    )
    assert messages[1] == (
        "line 3: the 'take' cell says '4 halves of a 0.25 mg ODT', but the clonazepam 0.25 mg "
        "orally disintegrating tablet is not scored to be cut in halves"
    )


def test_a_take_not_in_taper_wording_is_said_not_checked(run: Any, taper_csv: Path) -> None:
    path = edited(plain(taper_csv), 5, "1 × 0.5 mg tablet", "one tablet in the morning")
    result = run("check", str(path))
    assert result.exit_status == 0, result.stdout
    said = " ".join(result.stdout.split())
    assert "No problems found." not in said
    assert "No problems found in the columns checked; not checked: 'take' (see the notes)." in said
    assert "the 'take' column was not checked on line 5: its cell 'one tablet in the morning'" in (
        said
    )
    document = run("check", str(path), "--format", "json").json
    assert document["unchecked_columns"] == ["take"]


def test_take_beside_a_column_per_dose_time_is_said_not_checked(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "from,Morning,Night,take\n1,10,10,1 × 10 mg tablet\n15,5,10,\n29,Stop,Stop,\n",
        encoding="utf-8",
    )
    result = run("check", str(path), "--drug", "diazepam", "--format", "json")
    assert result.json["unchecked_columns"] == ["take"]
    assert any("'take' column was not checked" in note for note in result.json["notes"])


PLANS = [
    ("clonazepam", "1mg", "us", 1, ()),
    ("clonazepam", "2mg", "uk", 2, ()),
    ("clonazepam", "1.5mg", "us", 3, ()),
    ("diazepam", "30mg", "uk", 3, ()),
    ("diazepam", "40mg", "us", 4, ()),
    ("lorazepam", "3mg", "uk", 3, ()),
    ("lorazepam", "2mg", "us", 2, ("--switch-to", "diazepam")),
    ("alprazolam", "1.5mg", "us", 3, ("--switch-to", "diazepam")),
    ("alprazolam", "2mg", "us", 4, ("--switch-to", "clonazepam")),
    ("clonazepam", "2mg", "uk", 2, ("--switch-to", "diazepam")),
    ("temazepam", "30mg", "uk", 1, ("--switch-to", "diazepam")),
    ("lorazepam", "3mg", "uk", 4, ("--switch-to", "diazepam")),
    ("clonazepam", "1mg", "us", 2, ("--finish-on", "diazepam")),
    ("diazepam", "25mg", "uk", 2, ("--source", "va-dod-2021")),
    ("lorazepam", "2.5mg", "uk", 3, ()),  # mL of a solution
    ("lorazepam", "4mg", "us", 4, ()),  # mL of a concentrate
    ("clonazepam", "1mg", "uk", 3, ()),  # mL of a 0.5 mg/5 mL solution
]


@pytest.mark.parametrize(("drug", "dose", "region", "times", "more"), PLANS)
def test_every_csv_taper_writes_checks_its_take_and_equivalents_clean(
    run: Any,
    tmp_path: Path,
    drug: str,
    dose: str,
    region: str,
    times: int,
    more: tuple[str, ...],
) -> None:
    """No false positive: the 'take' and 'diazepam_eq_mg' cells of taper's own files agree
    with their doses, with and without the file's '#' lines (then the region is given)."""
    path = tmp_path / "plan.csv"
    written = run(
        "schedule", drug, dose, "--times", str(times), "--region", region, *START, *more,
        "-o", str(path),
    )  # fmt: skip
    if written.exit_status != 0:
        pytest.skip(f"taper makes no such plan: {written.stderr}")
    for checked, options in ((path, ()), (plain(path), ("--region", region))):
        document = run("check", str(checked), "--format", "json", *options).json
        kinds = {problem["kind"] for problem in document["problems"]}
        assert not kinds & {"take", "diazepam-eq"}, document["problems"]
        assert document["unchecked_columns"] == []


def _formularies(table: EquivalenceTable) -> list[Formulary]:
    return [
        formulary_for(drug.name, drug.products_in(region))
        for drug in table.drugs.values()
        for region in ("us", "uk")
        if drug.products_in(region)
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_way_taper_makes_a_dose_reads_back_as_that_dose(
    table: EquivalenceTable, data: st.DataObject
) -> None:
    """Property: the 'take' text of any dose the products make (solids, halves, quarters,
    liquids) reads back as exactly that dose, from products of that formulary."""
    formulary = data.draw(st.sampled_from(_formularies(table)))
    quantum = formulary.quantum
    steps = data.draw(st.integers(min_value=0, max_value=200))
    dose = Decimal(quantum.numerator * steps) / Decimal(quantum.denominator)
    preparation = formulary.preparation(dose)
    assume(preparation is not None)
    assert preparation is not None
    cell = StatedCell("take", "take", formulary.drug, "night", dose, preparation.text())
    assert take_contradiction(cell, formulary, "daily") == (True, ""), cell.text
    parts = read_take(preparation.text())
    assert parts is not None
    assert sum((part.mg for part in parts), Fraction(0)) == Fraction(dose)


@given(
    count=st.integers(min_value=1, max_value=20),
    strength=st.decimals(min_value=Decimal("0.125"), max_value=50, places=3),
    dose=st.decimals(min_value=0, max_value=100, places=3),
)
def test_a_take_that_makes_another_dose_is_always_a_contradiction(
    count: int, strength: Decimal, dose: Decimal
) -> None:
    text = f"{count} × {format_dose(strength)} tablet"
    cell = StatedCell("take", "take", "diazepam", "night", dose, text)
    read, against = take_contradiction(cell, None, "daily")
    assert read
    assert bool(against) == (strength * count != dose)


def test_takes_not_in_taper_wording_are_not_read() -> None:
    for text in ("one tablet", "2 x 0.5 mg tablet", "half a tablet", "2 half of a 1 mg tablet",
                 "1 × 0.5mg tablet", "2 × 1 mg/mL solution", "2.5 mL of 1 mg tablet", ""):  # fmt: skip
        assert read_take(text) is None, text
    assert read_take("3 quarters of a 2 mg tablet") is not None
    assert read_take("2 halves of a 1 mg tablet") is not None


def test_source_asked_for_the_report_does_not_judge_the_files_own_equivalents(
    run: Any, taper_csv: Path
) -> None:
    """The file's equivalents are those of the source its first lines name (ashton), not of
    one asked for the report: no false contradiction under --source va-dod-2021."""
    result = run("check", str(taper_csv), "--source", "va-dod-2021", "--format", "json")
    assert result.json["input"]["source"] == "va-dod-2021"
    assert not [p for p in result.json["problems"] if p["kind"] == "diazepam-eq"]


def _dates_moved_back(path: Path, *, keep_comments: bool) -> Path:
    """``path`` with every date from day 50 on moved back 40 days (its day numbers kept)."""
    out = path.with_name("moved-" + path.name)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("#"):
            if keep_comments:
                lines.append(line)
            continue
        cells = line.split(",")
        if cells[0].isdigit() and int(cells[0]) >= 50:
            cells[1] = (dt.date.fromisoformat(cells[1]) - dt.timedelta(days=40)).isoformat()
        lines.append(",".join(cells))
    out.write_text("".join(lines), encoding="utf-8")
    return out


@pytest.mark.parametrize("keep_comments", [False, True])
def test_date_column_was_ignored_beside_a_day_column(
    run: Any, tmp_path: Path, keep_comments: bool
) -> None:
    """Regression: dates from day 50 on moved back 40 days (dates repeated, 40 missing), the
    'day' column kept: "No problems found", the dates worked out from the day numbers."""
    path = tmp_path / "p.csv"
    written = run(
        "schedule", "clonazepam", "2mg", "--times", "2", "--region", "uk", *START, "-o", str(path)
    )
    assert written.exit_status == 0, written.stderr
    moved = _dates_moved_back(path, keep_comments=keep_comments)
    result = run("check", str(moved), "--region", "uk")
    assert result.exit_status == 1
    assert result.stdout == ""
    line = 104 if keep_comments else 100
    first = 6 if keep_comments else 2
    assert result.stderr == (
        f"taper: error: {moved}, line {line}: day 50 is dated 2027-01-13, but line {first} "
        "dates day 1 2027-01-04, which makes day 50 2027-02-22: the 'day' and 'date' columns "
        "disagree (which one was meant cannot be known); correct the one that is wrong\n"
    )


def test_a_row_with_a_date_and_no_day_was_read_as_day_1(run: Any, tmp_path: Path) -> None:
    """A row giving only its date, beside rows giving both, is placed by their dates."""
    path = tmp_path / "mixed.csv"
    path.write_text(
        "day,date,dose_mg\n1,2027-01-04,10\n2,2027-01-05,10\n,2027-01-06,10\n4,2027-01-07,0\n",
        encoding="utf-8",
    )
    document = run("check", str(path), "--drug", "diazepam", "--format", "json").json
    kinds = {problem["kind"] for problem in document["problems"]}
    assert "repeated-day" not in kinds
    assert "missing-days" not in kinds
    assert document["steps"][0]["start_day"] == 1
    assert document["steps"][0]["end_day"] == 3


def test_overlapping_steps_were_cut_short_silently(run: Any, tmp_path: Path) -> None:
    """Regression: a 'to' of 2027-01-31 on a step followed by one from 2027-01-18 was cut back
    to 2027-01-17 without a word."""
    path = tmp_path / "overlap.csv"
    path.write_text(
        "from,to,morning,night\n2027-01-04,2027-01-31,5,10\n2027-01-18,2027-02-14,4,10\n"
        "2027-02-15,,2,10\n2027-03-01,,Stop,\n",
        encoding="utf-8",
    )
    result = run("check", str(path), "--drug", "diazepam")
    assert result.exit_status == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"taper: error: {path}, line 3: the step from 2027-01-18 starts before the step above "
        "it ends: line 2 runs from 2027-01-04 to 2027-01-31; the steps overlap (which dose was "
        "meant on the days both give cannot be known): correct the 'to' or the 'from'\n"
    )
    days = tmp_path / "days.csv"
    days.write_text("from,to,morning\n1,14,5\n10,20,4\n21,,Stop\n", encoding="utf-8")
    result = run("check", str(days), "--drug", "diazepam")
    assert result.exit_status == 1
    assert "line 3: the step from day 10 starts before" in result.stderr
    assert "line 2 runs from day 1 to day 14" in result.stderr


def test_steps_that_meet_or_leave_a_gap_are_not_an_overlap(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "meet.csv"
    path.write_text("from,to,morning\n1,14,5\n15,20,4\n22,,Stop\n", encoding="utf-8")
    document = run("check", str(path), "--drug", "diazepam", "--format", "json").json
    assert [p["kind"] for p in document["problems"] if p["kind"] == "missing-days"] == [
        "missing-days"
    ]


def test_crossover_stage_making_up_rounding_was_called_an_increase(
    run: Any, tmp_path: Path
) -> None:
    """Regression: clonazepam 0.375 mg to diazepam in stages of 0.125 mg went 7 -> 7.5 -> 7 mg
    diazepam equivalent (0.125 mg clonazepam + diazepam 5 mg making up the first stage's
    rounding, never above the 7.5 mg before the crossover, as the engine builds every
    crossover): '2027-06-14: the dose goes up', exit 1."""
    path = tmp_path / "b12.csv"
    written = run(
        "schedule", "clonazepam", "1mg", "--times", "2", "--finish-on", "diazepam", *START,
        "-o", str(path),
    )  # fmt: skip
    assert written.exit_status == 0, written.stderr
    for checked, options in ((path, ()), (plain(path), ("--region", "us"))):
        document = run("check", str(checked), "--format", "json", *options).json
        assert document["problems"] == []
        assert (
            "2027-06-14: in the crossover, the diazepam equivalent a day goes from 7 mg to 7.5 mg "
            "(+7.1%), making up what rounding to the products lost at an earlier stage: no more "
            "than the 7.5 mg a day before the crossover" in document["notes"]
        )


def _long_plan(tmp_path: Path, steps: list[tuple[int, dict[str, str]]]) -> Path:
    """A file of one row per day and drug: each step (days, {drug: dose}) in turn."""
    rows, day = ["day,drug,dose_mg"], 1
    for days, doses in steps:
        for _ in range(days):
            rows += [f"{day},{drug},{dose}" for drug, dose in doses.items()]
            day += 1
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_crossover_above_the_load_before_it_is_an_increase_with_its_numbers(
    run: Any, tmp_path: Path
) -> None:
    path = _long_plan(
        tmp_path,
        [
            (14, {"clonazepam": "0.5"}),
            (7, {"clonazepam": "0.25", "diazepam": "6"}),
            (14, {"diazepam": "10"}),
            (1, {"diazepam": "0"}),
        ],
    )
    messages = problems_of(run, path, "--region", "us")
    assert (
        "day 15: the dose goes up: the diazepam equivalent a day goes from 10 mg to 11 mg (+10%), "
        "above the 10 mg a day before the crossover" in messages
    )


def test_a_small_rise_after_the_crossover_passed_silently(run: Any, tmp_path: Path) -> None:
    """Regression: once a plan had two drugs, any rise of up to 5% passed, also in its taper
    on one drug after the crossover (diazepam 10 -> 10.5 mg)."""
    path = _long_plan(
        tmp_path,
        [
            (14, {"clonazepam": "0.5"}),
            (7, {"clonazepam": "0.25", "diazepam": "5"}),
            (14, {"diazepam": "10"}),
            (14, {"diazepam": "10.5"}),
        ],
    )
    messages = problems_of(run, path, "--region", "us")
    assert (
        "day 36: the dose goes up: the diazepam equivalent a day goes from 10 mg to 10.5 mg (+5%)"
        in messages
    )


def _sweep() -> list[tuple[str, str, str, int, tuple[str, ...]]]:
    """Plans taper makes: direct tapers, switches to each drug it switches to, a finish on
    diazepam, at 1-4 dose times, for the US and the UK (the dose times and region turn with
    each plan), and the plans a fresh user's review found called wrong."""
    starts = [
        ("clonazepam", "1mg"), ("clonazepam", "2mg"), ("lorazepam", "3mg"),
        ("alprazolam", "2mg"), ("diazepam", "30mg"), ("temazepam", "30mg"),
        ("oxazepam", "60mg"),
    ]  # fmt: skip
    ways: list[tuple[str, ...]] = [
        (), ("--switch-to", "diazepam"), ("--switch-to", "clonazepam"),
        ("--switch-to", "chlordiazepoxide"), ("--finish-on", "diazepam"),
    ]  # fmt: skip
    plans = []
    for index, ((drug, dose), way) in enumerate(itertools.product(starts, ways)):
        if drug not in way:
            region = "us" if drug == "alprazolam" or index % 8 < 4 else "uk"
            plans.append((drug, dose, region, 1 + index % 4, way))
    return [
        *plans,
        ("lorazepam", "3mg", "us", 3, ("--switch-to", "clonazepam")),
        ("clonazepam", "1mg", "us", 2, ("--finish-on", "diazepam")),
        ("clonazepam", "2mg", "us", 3, ("--finish-on", "diazepam")),
    ]


@pytest.mark.parametrize(("drug", "dose", "region", "times", "more"), _sweep())
def test_every_csv_taper_writes_checks_without_a_false_ceiling_or_increase(
    run: Any,
    tmp_path: Path,
    drug: str,
    dose: str,
    region: str,
    times: int,
    more: tuple[str, ...],
) -> None:
    """The checker and the engine agree on what the products make and on how a crossover
    may move: a plan taper writes has a 'ceiling' problem only where its schedule warns of
    the ceiling itself, and never an 'increase' (a switch to clonazepam from lorazepam 3 mg
    was called 'a smaller cut could be made' where the schedule said the products force it;
    a lorazepam dose of none still counted as a way to cut)."""
    path = tmp_path / "plan.csv"
    asked = (drug, dose, "--times", str(times), "--region", region, *START, *more)
    written = run("schedule", *asked, "-o", str(path))
    if written.exit_status != 0:
        pytest.skip(f"taper makes no such plan: {written.stderr}")
    warned = {
        warning["kind"] for warning in run("schedule", *asked, "--format", "json").json["warnings"]
    }
    for checked, options in ((path, ()), (plain(path), ("--region", region))):
        document = run("check", str(checked), "--format", "json", *options).json
        kinds = {problem["kind"] for problem in document["problems"]}
        assert "increase" not in kinds, document["problems"]
        assert "ceiling" not in kinds or "ceiling" in warned, document["problems"]


def test_schedule_said_nothing_of_a_crossover_that_goes_up(run: Any) -> None:
    """Regression: the schedule's crossover went 7 -> 7.5 -> 7 mg diazepam equivalent with
    only 'up 7.1%' in its table; it warns (kind crossover-rise) with the numbers the check's
    note gives."""
    asked = ("clonazepam", "1mg", "--times", "2", "--finish-on", "diazepam", *START)
    warnings = run("schedule", *asked, "--format", "json").json["warnings"]
    assert {
        "kind": "crossover-rise",
        "message": "the diazepam equivalent goes up at stage 2 of 3 of the crossover, from 7 mg "
        "to 7.5 mg a day (+7.1%): the stage makes up what rounding to the diazepam products "
        "lost at an earlier one, and the day's equivalent never goes above the 7.5 mg a day "
        "the switch starts from",
    } in warnings
    plain_switch = run("schedule", "lorazepam", "2mg", "--switch-to", "diazepam", *START)
    assert "goes up" not in plain_switch.stderr


def test_a_rows_equivalents_that_no_one_source_gives_together_passed_silently(
    run: Any, taper_csv: Path
) -> None:
    """The second review: in a file that names no source, a row's diazepam_eq_mg of 5 with a
    low and high of 10 passed, each cell agreeing with some source (5 mg: VA/DoD; 10 mg:
    Ashton) though no source gives them together. The row's cells are judged together."""
    path = edited(plain(taper_csv), 3, ",10,10,10,", ",5,10,10,")
    messages = problems_of(run, path)
    assert messages == [
        "line 3: its diazepam equivalents (diazepam_eq_mg 5, diazepam_eq_mg_low 10, "
        "diazepam_eq_mg_high 10) are not one source's for clonazepam 0.5 mg (night): each "
        "agrees with some source of the table, none gives them together (the file names none)"
    ]
    assert problems_of(run, edited(plain(taper_csv), 3, ",10,10,10,", ",5,5,5,")) == []


def test_a_stop_row_that_gives_a_dose_passed_silently(run: Any, tmp_path: Path) -> None:
    """The second review: a row whose phase says 'stop' but which gives a dose passed."""
    path = tmp_path / "p.csv"
    made = run("schedule", "clonazepam", "0.5mg", *START, "-o", str(path))
    assert made.exit_status == 0, made.stderr
    lines = plain(path).read_text(encoding="utf-8").splitlines(keepends=True)
    last = lines[-1].split(",")
    assert last[3] == "stop"
    lines.insert(-1, ",".join([*last[:3], "stop", *last[4:6], "0.125", *last[7:]]))
    lines[-1] = ",".join([str(int(last[0]) + 1), "2027-06-08", *last[2:]])
    edited_file = tmp_path / "stop.csv"
    edited_file.write_text("".join(lines), encoding="utf-8")
    messages = problems_of(run, edited_file)
    assert any(
        "the 'phase' cell says 'stop', but the row gives 0.125 mg of clonazepam (night)" in m
        for m in messages
    ), messages
    assert problems_of(run, plain(path)) == []
