"""Command-line conventions people expect from a shell tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import taper


def test_debug_is_honoured_only_as_the_root_option(run: Any) -> None:
    """`--debug` as another option's value printed a traceback (`--note --debug`)."""
    result = run("convert", "clonazepam", "1mg", "--to", "diazepam", "--source", "--debug")
    assert result.exit_status == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("taper: error: unknown source '--debug'")
    assert len(result.stderr.splitlines()) == 1
    result = run("--debug", "convert", "clonazepam", "2,5mg", "--to", "diazepam")
    assert "Traceback" in result.stderr


START = ("--start", "2027-01-04")


def test_bare_taper_prints_the_help_as_click_formats_it(run: Any) -> None:
    result = run()
    assert result.exit_status == 0
    assert result.stdout.startswith("Usage: taper [OPTIONS] COMMAND [ARGS]...\n")
    assert "\nCommands:\n" in result.stdout
    assert "  schedule " in result.stdout
    assert result.stderr == ""


def test_usage_errors_point_to_the_commands_help(run: Any) -> None:
    result = run("schedule")
    assert result.exit_status == 2
    assert result.stderr == (
        "taper: error: Missing argument 'DRUG DOSE [DRUG DOSE]...'; "
        "try 'taper schedule -h' for help\n"
    )


def test_dash_output_is_standard_output(run: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("schedule", "clonazepam", "1mg", *START, "-f", "csv", "-o", "-")
    assert result.exit_status == 0, result.stderr
    assert result.stdout.startswith("# taper ")
    assert not (tmp_path / "-").exists()
    text = run("schedule", "clonazepam", "1mg", *START, "-o", "-")
    assert "Draft for clinical review" in text.stdout
    assert not (tmp_path / "-").exists()
    batch = run("sweep", "clonazepam", "1mg", "-o", "-", "-q", "-j", "1", "-f", "jsonl")
    assert batch.exit_status == 0, batch.stderr
    assert json.loads(batch.stdout.splitlines()[0])["scenario"] == "sweep-000001"
    assert not (tmp_path / "-").exists()
    both = run("sweep", "clonazepam", "1mg", "-o", "d.csv", "--summary", "-", "-q")
    assert both.exit_status == 2
    assert "only --output can be standard output" in both.stderr
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("name", "starts"), [("plan.csv", "# taper "), ("plan.json", "{"), ("plan.txt", "Draft")]
)
def test_the_output_extension_names_the_format(
    run: Any, tmp_path: Path, name: str, starts: str
) -> None:
    path = tmp_path / name
    result = run("schedule", "clonazepam", "1mg", *START, "-o", str(path))
    assert result.exit_status == 0, result.stderr
    assert path.read_text(encoding="utf-8").startswith(starts)
    days = taper.plan_taper("clonazepam", "1mg", start="2027-01-04").day_count
    assert result.stderr.endswith(f"wrote {path}: {days} days\n")


def test_a_format_that_does_not_match_the_extension_is_refused(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    result = run("schedule", "clonazepam", "1mg", *START, "-f", "json", "-o", str(path))
    assert result.exit_status == 2
    assert "--format json does not match the extension of" in result.stderr
    assert not path.exists()
    result = run("schedule", "clonazepam", "1mg", *START, "-o", str(tmp_path / "p.jsonl"))
    assert result.exit_status == 2
    assert "does not write" in result.stderr
    result = run("schedule", "clonazepam", "1mg", *START, "-o", str(tmp_path / "p.pdf"))
    assert result.exit_status == 2
    assert "with --handout" in result.stderr
    assert not (tmp_path / "p.pdf").exists()
    result = run("sweep", "clonazepam", "1mg", "-q", "-o", str(tmp_path / "s.jsonl"))
    assert result.exit_status == 0, result.stderr
    assert (tmp_path / "s.jsonl").read_text(encoding="utf-8").startswith('{"scenario"')


def test_a_csv_export_prints_its_warnings_and_one_line_for_the_write(
    run: Any, tmp_path: Path
) -> None:
    path = tmp_path / "plan.csv"
    result = run("schedule", "clonazepam", "2mg", *START, "--rate", "25%", "-o", str(path))
    assert result.exit_status == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"wrote {path}: {len(_days(path))} days"
    assert any(line.startswith("taper: warning: ") and "25%" in line for line in lines[:-1])
    assert result.stdout == ""


def _days(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if not line.startswith("#")][1:]  # after the header
    return {row.split(",")[0] for row in rows}


def test_shell_completion_scripts_are_generated_and_complete() -> None:
    script = subprocess.run(
        [sys.executable, "-m", "taper", "--show-completion", "bash"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "_TAPER_COMPLETE=complete_bash" in script
    completed = subprocess.run(
        [sys.executable, "-m", "taper"],
        env={**os.environ, "_TAPER_COMPLETE": "complete_bash", "COMP_WORDS": "taper sch",
             "COMP_CWORD": "1"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.stdout.split() == ["schedule"]


def test_schedule_help_has_panels_placeholders_and_no_broken_example(run: Any) -> None:
    text = subprocess.run(
        [sys.executable, "-m", "taper", "schedule", "--help"],
        env={**os.environ, "COLUMNS": "60"}, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "switching drugs" in text.splitlines()[2] + text.splitlines()[3]
    for panel in ("Regimen", "Pace", "Products", "Switch", "Patient", "Outputs"):
        assert f"\n{panel}:\n" in text
    for placeholder in ("--rate PERCENT", "--every INTERVAL", "--start DATE", "--step DOSE"):
        assert placeholder in text
    for placeholder in ("<str>", "list[str]", "int range"):
        assert placeholder not in text
    words = " ".join(text.split())
    for example in ("'morning=0.5mg,night=1mg'", "'0.75mg,0.5mg,0.25mg'", "'at:0.5mg:4w'",
                    "'0.5mg/5mL solution'", "08:00,22:00"):  # fmt: skip
        assert example in words, example
        assert any(example in line for line in text.splitlines()), f"{example} is broken"
    assert max(len(line) for line in text.splitlines() if "Example:" not in line) <= 60


def test_an_internal_error_exits_70(run: Any, monkeypatch: Any) -> None:
    import taper.convert

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(taper.convert, "convert_dose", broken)
    result = run("convert", "clonazepam", "1mg", "--to", "diazepam")
    assert result.exit_status == 70
    assert result.stderr == (
        "taper: error: internal error (ZeroDivisionError: a bug); rerun with --debug and "
        "report it\n"
    )


def test_sweep_takes_dash_s_for_sources(run: Any, tmp_path: Path) -> None:
    path, summary = tmp_path / "d.csv", tmp_path / "s.csv"
    result = run(
        "sweep", "clonazepam", "1mg", "-s", "ashton,va-dod-2021", "-q", "-o", str(path),
        "--summary", str(summary),
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    assert set(taper.read_plans(summary)["source"]) == {"ashton", "va-dod-2021"}


def test_one_spelling_of_stabilization_in_every_output(run: Any) -> None:
    args = ("schedule", "clonazepam", "1mg", *START, "--switch-to", "diazepam")
    for extra in ((), ("-f", "json"), ("-f", "csv")):
        result = run(*args, *extra)
        assert "stabilis" not in result.stdout.lower()
        assert "stabilization" in result.stdout.lower()


def test_every_schedule_parameter_is_in_a_panel_of_its_declaration(cli_app: Any) -> None:
    """The panels come from the options' declarations: nothing falls back to 'Options'."""
    import typer.main

    command = typer.main.get_command(cli_app).commands["schedule"]  # type: ignore[attr-defined]
    without = [p.name for p in command.params if not getattr(p, "rich_help_panel", None)]
    assert without == []
