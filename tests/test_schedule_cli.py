"""`taper schedule` through the CLI: outputs, files, golden plans and bad input."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest

START = ["--start", "2027-01-04"]


def test_golden_step_table(run: Any, golden: Any) -> None:
    result = run("schedule", "clonazepam", "1.5mg", "--times", "3", *START, "--supply", "28d")
    assert result.exit_status == 0, result.stderr
    golden("schedule_clonazepam_3_times.txt", result.stdout)


def test_golden_csv(run: Any, golden: Any) -> None:
    result = run(
        "schedule",
        "diazepam",
        "morning=5mg,night=10mg",
        *START,
        "--format",
        "csv",
        "--method",
        "bands",
        "--every",
        "1w",
    )
    assert result.exit_status == 0, result.stderr
    golden("schedule_diazepam_bands.csv", result.stdout)


def test_golden_linear_uk_liquid_json(run: Any, golden: Any) -> None:
    result = run(
        "schedule",
        "clonazepam",
        "0.5mg",
        "--region",
        "uk",
        "--method",
        "linear",
        "--step",
        "0.05mg",
        *START,
        "-f",
        "json",
    )
    assert result.exit_status == 0, result.stderr
    golden("schedule_clonazepam_uk_linear.json", result.stdout)


def test_csv_is_tidy_with_provenance_and_the_required_columns(run: Any) -> None:
    text = run("schedule", "clonazepam", "1mg", *START, "--format", "csv").stdout
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0].startswith("# taper ")
    assert "sha256" in comments[0]
    assert '"method":"percent"' in comments[1]
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(row for row in text.splitlines() if not row.startswith("#")))
        )
    )
    assert list(rows[0])[:8] == [
        "day",
        "date",
        "step",
        "phase",
        "drug",
        "slot",
        "dose_mg",
        "diazepam_eq_mg",
    ]
    assert rows[0]["date"] == "2027-01-04"
    assert rows[0]["dose_mg"] == "1"
    assert rows[0]["diazepam_eq_mg"] == "20"  # Ashton: clonazepam 0.5 mg = diazepam 10 mg
    assert rows[-1]["phase"] == "stop"
    assert rows[-1]["dose_mg"] == "0"


def test_json_has_meta_steps_days_checks_warnings_dispensing(run: Any) -> None:
    document = run(
        "schedule", "clonazepam", "2mg", "--rate", "10%", "--every", "2w", *START, "-f", "json"
    ).json
    assert set(document) >= {
        "schema_version",
        "tool",
        "table",
        "meta",
        "steps",
        "days",
        "checks",
        "warnings",
        "dispensing",
    }
    assert document["meta"]["parameters"]["rate_percent"] == 10
    assert document["meta"]["start_date_is_today"] is False
    assert document["days"][0]["doses"] == [{"drug": "clonazepam", "slot": "night", "dose_mg": 2}]
    assert document["checks"]["duration_days"] == len(document["days"]) - 1


def test_daily_rows(run: Any) -> None:
    result = run(
        "schedule",
        "clonazepam",
        "1mg",
        "--daily",
        *START,
        "--method",
        "linear",
        "--step",
        "0.25mg",
        "--every",
        "1w",
    )
    assert result.exit_status == 0
    assert "2027-01-04" in result.stdout
    assert "2027-02-01" in result.stdout


def test_default_start_is_today_and_says_so(run: Any) -> None:
    result = run("schedule", "clonazepam", "1mg")
    assert "(today: set --start to fix it)" in result.stdout
    assert run("schedule", "clonazepam", "1mg", "-f", "json").json["meta"]["start_date_is_today"]


def test_output_file_is_written_atomically_and_never_overwritten_by_accident(
    run: Any, tmp_path: Path
) -> None:
    target = tmp_path / "plan.csv"
    assert (
        run("schedule", "clonazepam", "1mg", *START, "-f", "csv", "-o", str(target)).exit_status
        == 0
    )
    first = target.read_text(encoding="utf-8")
    assert first.startswith("# taper ")
    again = run("schedule", "clonazepam", "2mg", *START, "-f", "csv", "-o", str(target))
    assert again.exit_status == 1
    assert "--force" in again.stderr
    assert target.read_text(encoding="utf-8") == first
    forced = run("schedule", "clonazepam", "2mg", *START, "-f", "csv", "-o", str(target), "--force")
    assert forced.exit_status == 0
    assert target.read_text(encoding="utf-8") != first
    table_file = tmp_path / "plan.txt"
    assert run("schedule", "clonazepam", "1mg", *START, "-o", str(table_file)).exit_status == 0
    assert "Draft for clinical review" in table_file.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "plan.txt"]  # no temp files


def test_a_failed_write_leaves_nothing(run: Any, tmp_path: Path) -> None:
    result = run("schedule", "clonazepam", "1mg", "-o", str(tmp_path / "missing" / "plan.csv"))
    assert result.exit_status == 1
    assert "does not exist" in result.stderr
    assert run("schedule", "clonazepam", "1mg", "-o", str(tmp_path)).exit_status == 1
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert run("schedule", "clonazepam", "1mg", "-o", str(locked / "p.csv")).exit_status == 1
    assert list(tmp_path.iterdir()) == ([tmp_path / "locked"] if os.geteuid() != 0 else [])


BAD = [
    (["clonazepam", "lunch=1mg"], 2, "unknown dose time 'lunch'"),
    (["clonazepam", "night=1mg,bedtime=0.5mg"], 2, "given twice"),
    (["clonazepam", "0.3mg"], 1, "cannot be made"),
    (["clonazepam", "1mg", "--every", "0d"], 2, "at least one day"),
    (["clonazepam", "1mg", "--every", "fortnight"], 2, "cannot read interval"),
    (["clonazepam", "1mg", "--rate", "0%"], 2, "above 0% and below 100%"),
    (["clonazepam", "1mg", "--rate", "100%"], 2, "above 0% and below 100%"),
    (["clonazepam", "1mg", "--rate", "1e9%"], 2, "cannot read rate"),
    (
        ["clonazepam", "1mg", "--method", "steps", "--steps", "0.5mg,0.75mg"],
        2,
        "steps must go down",
    ),
    (["clonazepam", "1mg", "--start", "2027-02-30"], 2, "not a real date"),
    (["clonazepam", "1mg", "--start", "next monday"], 2, "YYYY-MM-DD"),
    (["clonazepam", "1mg", "--method", "hyperbolic"], 2, "unknown --method hyperbolic"),
    (["clonazepam", "1mg", "--method", "linear"], 2, "needs --step"),
    (["clonazepam", "1mg", "--order", "random"], 2, "unknown --order random; use auto,"),
    (["clonazepam", "1mg", "--region", "fr"], 2, "unknown --region fr; use us, uk"),
    (["clonazepam", "1mg", "--hold", "forever"], 2, "cannot read hold"),
    (["clonazepam", "1mg", "--times", "5"], 2, "--times"),
    (["clonazepam", "morning=1mg", "--times", "2"], 2, "only with a daily total"),
    (["clonazepam", "1mg", "--final", "2mg"], 2, "below the current daily dose"),
    (["clonazepam", "1mg", "--product", "half a pill"], 2, "cannot read product"),
    (["nitrazepam", "5mg"], 2, "give the products dispensed with --product"),
    (["clonazepam", "30mg"], 1, "--allow-high-dose"),
    (["clonazepam", "1mg", "--until", "2020-01-01", "--start", "2027-01-04"], 2, "after the start"),
    (["clonazepam", "1mg", "-f", "xml"], 2, "'xml' is not one of"),
]


@pytest.mark.parametrize(("args", "status", "message"), BAD)
def test_bad_schedule_input(run: Any, args: list[str], status: int, message: str) -> None:
    result = run("schedule", *args)
    assert result.exit_status == status, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("taper: error: ")
    assert message in result.stderr


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("1 × 0.5 mg tablet", "1 × 0.5 mg tablet"),
        ("nothing", "nothing"),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(text: str, safe: str) -> None:
    from taper.csvout import neutralise_cell

    assert neutralise_cell(text) == safe


def test_raw_csv_keeps_text_exactly(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from taper import products

    monkeypatch.setattr(products.Preparation, "text", lambda self: "=1+1")
    neutral = run("schedule", "clonazepam", "1mg", *START, "-f", "csv").stdout
    raw = run("schedule", "clonazepam", "1mg", *START, "-f", "csv", "--raw-csv").stdout
    assert ",'=1+1" in neutral
    assert ",=1+1" not in neutral
    assert ",=1+1" in raw


# Issue 12, finding 8: products in both regions, and a UK plan uses only UK products.


@pytest.mark.parametrize(
    ("args", "products"),
    [
        (
            ["lorazepam", "2mg", "--times", "2", "--region", "uk"],
            ["1 mg tablet", "2.5 mg tablet (scored)", "1 mg/mL oral solution"],
        ),
        (["oxazepam", "30mg", "--times", "2", "--region", "uk"], ["10 mg tablet", "15 mg tablet"]),
        (
            ["oxazepam", "morning=10mg,midday=10mg,night=15mg"],
            ["10 mg capsule", "15 mg capsule", "30 mg capsule"],
        ),
        (
            ["temazepam", "20mg", "--region", "uk"],
            ["10 mg tablet", "20 mg tablet", "10 mg/5 mL oral solution"],
        ),
        (
            ["temazepam", "15mg"],
            ["7.5 mg capsule", "15 mg capsule", "22.5 mg capsule", "30 mg capsule"],
        ),
        (
            ["nitrazepam", "5mg", "--region", "uk"],
            ["5 mg tablet", "2.5 mg/5 mL oral suspension"],
        ),
    ],
)
def test_plans_need_no_product_option_where_products_are_marketed(
    run: Any, args: list[str], products: list[str]
) -> None:
    result = run("schedule", *args, *START, "-f", "json")
    assert result.exit_status == 0, result.stderr
    assert result.json["meta"]["products"] == {args[0]: products}


@pytest.mark.parametrize(
    ("drug", "dose"),
    [
        ("clonazepam", "1mg"),
        ("diazepam", "20mg"),
        ("chlordiazepoxide", "30mg"),
        ("lorazepam", "2mg"),
        ("oxazepam", "30mg"),
        ("temazepam", "20mg"),
        ("nitrazepam", "10mg"),
    ],
)
def test_a_uk_plan_names_only_uk_products(run: Any, table: Any, drug: str, dose: str) -> None:
    result = run("schedule", drug, dose, "--times", "2", "--region", "uk", *START, "-f", "json")
    assert result.exit_status == 0, result.stderr
    uk_labels = {product.label() for product in table.drug(drug).products_in("uk")}
    assert set(result.json["meta"]["products"][drug]) <= uk_labels
    assert not any("marketed in US" in w["message"] for w in result.json["warnings"])


def test_a_plan_that_cuts_a_tablet_says_what_is_known_about_cutting_it(run: Any) -> None:
    """A prescriber's review: the table knew that halving diazepam 2 mg tablets is
    off-licence in the UK, and no plan that halved them said so."""
    result = run("schedule", "diazepam", "10mg", "--times", "2", "--region", "uk")
    assert result.exit_status == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert (
        "Cutting the diazePAM 2 mg tablet: halving 2 mg tablets is common; off-licence in the UK."
        in said
    )
    whole = run("schedule", "diazepam", "20mg", "--times", "2", "--steps", "15,10,5")
    assert "Cutting" not in whole.stdout


def test_a_us_plan_does_not_say_what_holds_only_in_the_uk(run: Any) -> None:
    """The table's note on halving diazepam 2 mg tablets said 'off-licence in the UK' on US
    plans too (a statement about the wrong country); a note that holds in one region is
    said only in that region's plans, and the rest of the note in every region's."""
    result = run("schedule", "diazepam", "10mg", "--times", "2", "--region", "us")
    assert result.exit_status == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert "Cutting the diazePAM 2 mg tablet: halving 2 mg tablets is common" in said
    assert "UK" not in said


def test_a_json_plan_written_to_a_file_shows_its_warnings_at_the_terminal(
    run: Any, tmp_path: Path
) -> None:
    """A reviewer: '-o plan.json' printed only 'wrote plan.json'; '-o plan.csv' printed the
    warnings a prescriber must see (here: products that force cuts)."""
    for name in ("plan.csv", "plan.json"):
        result = run("schedule", "clonazepam", "1mg", "--region", "us", "-o", str(tmp_path / name))
        assert result.exit_status == 0, result.stderr
        assert "taper: warning: the products force cuts" in result.stderr, name
