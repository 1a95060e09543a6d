"""The command line, through typer's CliRunner with prog_name="taper"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import taper
from taper.formatting import ISMP_DOSE_PATTERN


def test_version(run: Any) -> None:
    result = run("--version")
    assert (result.exit_status, result.stdout) == (0, f"taper {taper.__version__}\n")


def test_convert_table_names_the_source_and_other_opinions(run: Any) -> None:
    result = run("convert", "clonazepam", "1.5mg", "--to", "diazepam")
    assert result.exit_status == 0, result.stderr
    assert "clonazepam 1.5 mg → diazepam" in result.stdout
    assert "ashton" in result.stdout
    assert "30 mg" in result.stdout
    assert "va-dod-2021 15 mg (half this)" in result.stdout
    assert "Warning: sources disagree 2-fold" in " ".join(result.stdout.split())
    assert "Draft for clinical review" in result.stdout
    assert f"taper {taper.__version__}" in result.stdout


def test_convert_json_has_schema_results_and_echoed_input(run: Any) -> None:
    result = run(
        "convert",
        "clonazepam",
        "1.5mg",
        "--to",
        "diazepam",
        "--source",
        "va-dod-2021",
        "-f",
        "json",
    )
    assert result.exit_status == 0, result.stderr
    document = result.json
    assert document["schema_version"] == 2
    assert document["input"]["doses"] == [{"drug": "clonazepam", "dose_mg": 1.5, "text": "1.5 mg"}]
    assert document["input"]["source"] == "va-dod-2021"
    assert [r["source"] for r in document["results"]] == ["va-dod-2021"]
    assert document["results"][0]["dose_mg"] == 15
    assert isinstance(document["results"][0]["dose_mg"], int)
    assert document["spread"] == {
        "low_mg": 15,
        "high_mg": 30,
        "fold": 2,
        "sources": 5,
        "sources_without_value": 2,
        "ranges": ["medscape"],
        "range_basis": "nearest",
        "wide": True,
    }
    assert document["table"]["sha256"]
    assert document["tool"]["version"] == taper.__version__


def test_convert_all_sources_json_lists_every_source_with_ranges(run: Any) -> None:
    document = run(
        "convert", "clonazepam", "1.5mg", "--to", "diazepam", "--all-sources", "-f", "json"
    ).json
    results = {r["source"]: r for r in document["results"]}
    assert len(results) == 7
    assert results["medscape"]["dose_mg"] is None
    assert (results["medscape"]["dose_mg_low"], results["medscape"]["dose_mg_high"]) == (15, 60)
    assert results["who-2009"]["missing"] == ["clonazepam"]


def test_convert_several_drugs_and_brand_names(run: Any) -> None:
    result = run(
        "convert", "clonazepam", "1mg", "alprazolam", "0.5mg", "--to", "diazepam", "-f", "json"
    )
    assert result.json["results"][0]["dose_mg"] == 30
    result = run("convert", "Klonopin", "500mcg", "--to", "Librium", "-f", "json")
    assert result.json["input"]["to"] == "chlordiazepoxide"
    assert result.json["results"][0]["text"] == "25 mg"


def test_golden_convert_all_sources_table(run: Any, golden: Any) -> None:
    result = run("convert", "clonazepam", "1.5mg", "--to", "diazepam", "--all-sources")
    assert result.exit_status == 0
    golden("convert_all_sources.txt", result.stdout)


def test_golden_sources_table(run: Any, golden: Any) -> None:
    result = run("sources")
    assert result.exit_status == 0
    golden("sources.txt", result.stdout)


def test_drugs_lists_all_sixteen_and_filters(run: Any) -> None:
    document = run("drugs", "-f", "json").json
    assert len(document["drugs"]) == 16
    clonazepam = next(d for d in document["drugs"] if d["name"] == "clonazepam")
    assert clonazepam["aliases"] == ["Klonopin", "Rivotril"]
    assert clonazepam["equivalents_per_reference"]["nhs-scotland-2024"] == 0.5
    assert clonazepam["published_equivalents"]["nhs-scotland-2024"] == 0.25
    assert clonazepam["equivalents_per_reference"]["medscape"] == [0.25, 0.5]
    table = run("drugs", "Xanax")
    assert table.exit_status == 0
    assert "ALPRAZolam" in table.stdout
    assert "uk-sps: 0.5 *" in table.stdout


def test_sources_json(run: Any) -> None:
    document = run("sources", "--format", "json").json
    assert document["default_source"] == "ashton"
    who = next(s for s in document["sources"] if s["id"] == "who-2009")
    assert (who["reference_dose_mg"], who["rescaled"], who["rescale_factor"]) == (5, True, 2)


def test_user_table_from_option_and_environment(run: Any, tiny_table_path: Path) -> None:
    by_option = run(
        "convert",
        "clonazepam",
        "1mg",
        "--to",
        "diazepam",
        "--table",
        str(tiny_table_path),
        "-f",
        "json",
    ).json
    assert by_option["table"]["path"] == str(tiny_table_path)
    assert by_option["results"][0]["dose_mg"] == 20
    by_env = run("sources", "-f", "json", env={"TAPER_TABLE": str(tiny_table_path)}).json
    assert [s["id"] for s in by_env["sources"]] == ["alpha", "beta"]


BAD_INPUTS = [
    (["convert", "clonazepam", "2,5mg", "--to", "diazepam"], 2, "use '.' as the decimal point"),
    (["convert", "clonazepam", "0mg", "--to", "diazepam"], 2, "greater than zero"),
    (["convert", "--to", "diazepam", "clonazepam", "--", "-1mg"], 2, "greater than zero"),
    (["convert", "clonazepam", "-1mg", "--to", "diazepam"], 2, "greater than zero"),
    (["convert", "clonazepam", "nan mg", "--to", "diazepam"], 2, "finite number"),
    (["convert", "clonazepam", "inf mg", "--to", "diazepam"], 2, "finite number"),
    (["convert", "clonazepam", "2", "--to", "diazepam"], 2, "no unit"),
    (["convert", "clonazepam", "5 gr", "--to", "diazepam"], 2, "unknown unit 'gr'"),
    (["convert", "clonazepam", "2 MG", "--to", "diazepam"], 2, "case-sensitive"),
    (["convert", "clonazepam", "3 units", "--to", "diazepam"], 2, "unknown unit 'units'"),
    (["convert", "clonazepam", "1/2 mg", "--to", "diazepam"], 2, "no fractions"),
    (["convert", "clonazepam", "20g", "--to", "diazepam"], 2, "not a plausible dose"),
    (["convert", "clonazepam", "½mg", "--to", "diazepam"], 2, "digits 0-9"),
    (["convert", "clonazepm", "1mg", "--to", "diazepam"], 2, "did you mean 'clonazepam'"),
    (["convert", "clonazepam", "1mg", "--to", "diazepan"], 2, "did you mean 'diazepam'"),
    (
        ["convert", "clonazepam", "1mg", "--to", "diazepam", "-s", "nice"],
        2,
        "unknown source 'nice'",
    ),
    (["convert", "clonazepam", "--to", "diazepam"], 2, "'clonazepam' has no dose"),
    (["convert", "clonazepam", "1mg"], 2, "Missing option '--to'"),
    (["convert", "clonazepam", "1mg", "--to", "diazepam", "-f", "xml"], 2, "'xml' is not one of"),
    (["convert", "clonazepam", "25mg", "--to", "diazepam"], 1, "--allow-high-dose"),
    (
        ["convert", "clobazam", "10mg", "--to", "diazepam", "-s", "va-dod-2021"],
        1,
        "sources that do: ashton",
    ),
    (
        ["convert", "clonazepam", "1mg", "--to", "diazepam", "--table", "/nonexistent.toml"],
        1,
        "cannot be read",
    ),
    (["drugs", "aspirin"], 2, "unknown drug 'aspirin'"),
    (["frobnicate"], 2, "No such command"),
]


@pytest.mark.parametrize(("args", "status", "message"), BAD_INPUTS)
def test_bad_input_gives_one_line_and_an_exit_status(
    run: Any, args: list[str], status: int, message: str
) -> None:
    result = run(*args)
    assert result.exit_status == status
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("taper: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(run: Any) -> None:
    result = run("--debug", "convert", "clonazepam", "2,5mg", "--to", "diazepam")
    assert result.exit_status == 2
    assert "Traceback" in result.stderr
    assert "DoseSyntaxError" in result.stderr


def test_bad_table_names_the_file_and_key(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\nreference_drug = 3\n", encoding="utf-8")
    result = run("sources", "--table", str(bad))
    assert result.exit_status == 1
    assert result.stderr == f"taper: error: {bad}: reference_drug: expected `str`, got `int`\n"


def test_every_dose_in_convert_output_is_ismp_clean(run: Any) -> None:
    import re

    text = run(
        "convert", "oxazepam", "10mg", "lorazepam", "0.5mg", "--to", "clonazepam", "-a"
    ).stdout
    doses = re.findall(r"(?<![\w.])(\S+ (?:mg|mcg|mL))\b", text)
    assert doses
    for dose in doses:
        assert ISMP_DOSE_PATTERN.match(dose), dose


def test_every_command_is_documented_with_an_example(cli_app: Any) -> None:
    import typer.main

    group = typer.main.get_command(cli_app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert "Example: taper " + name in command.help, name


def test_help_text_is_shown_as_written_not_as_markup(run: Any) -> None:
    help_text = run("schedule", "--help").stdout
    assert "(taper[plot])" in " ".join(help_text.split())
    assert "[[scenario]]" in " ".join(run("batch", "--help").stdout.split())


def test_drugs_shows_duration_of_action_single_dose_and_product_sources(run: Any) -> None:
    document = run("drugs", "diazepam", "lorazepam", "-f", "json").json
    diazepam, lorazepam = document["drugs"]
    assert diazepam["acting"] == "long"
    assert "Specialist Pharmacy Service" in diazepam["acting_source"]
    # The US label's "2 to 10 mg" is a usual range, not a largest single dose (issue 19).
    assert diazepam["max_daily"]["single_mg"] is None
    assert lorazepam["acting"] == "short"
    assert lorazepam["max_daily"]["single_mg"] is None
    uk = [p for p in lorazepam["products"] if "uk" in p["regions"]]
    assert [p["product"] for p in uk] == [
        "1 mg tablet",
        "2.5 mg tablet (scored)",
        "1 mg/mL oral solution",
    ]
    assert all("medicines.org.uk" in p["source"] or "C copy" in p["source"] for p in uk)
    table = run("drugs", "diazepam", "Ativan", env={"COLUMNS": "120"})  # the cell on one line
    assert table.exit_status == 0
    assert "long-acting" in table.stdout
    assert "short-acting" in table.stdout
    assert "at one time" not in table.stdout  # neither label states a largest single dose
    assert "diazePAM" in table.stdout


@pytest.mark.parametrize(
    "args",
    [["check", "\x00"], ["convert", "clonazepam", "1mg", "--to", "diazepam", "--table", "a\x00b"]],
)
def test_a_nul_character_in_an_argument_is_a_usage_error(run: Any, args: list[str]) -> None:
    # typer 0.28 (taper keeps typer below 0.29) stats a path argument and fails on a NUL
    result = run(*args)
    assert result.exit_status == 2
    assert result.stderr.count("\n") == 1
    assert "NUL character" in result.stderr
