"""Shell conventions: - for standard input, one usage error for a comma list of drugs,
progress on a terminal only, completion of names, and tables that keep words whole."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from taper.table import EquivalenceTable


def _invoke(cli_app: Any, *args: str, stdin: str = "", columns: int = 100) -> Any:
    result = CliRunner().invoke(
        cli_app,
        list(args),
        input=stdin,
        prog_name="taper",
        env={"COLUMNS": str(columns), "TAPER_TABLE": None},  # type: ignore[dict-item]
    )
    return result


# ------------------------------------------------------------------ - is standard input


def test_batch_reads_its_scenarios_from_standard_input(cli_app: Any, tmp_path: Path) -> None:
    """`taper batch -` looked for a file named '-'."""
    out = tmp_path / "days.csv"
    scenarios = "id,drug,dose\na,clonazepam,1mg\nb,clonazepam,2mg\n"
    result = _invoke(cli_app, "batch", "-", "-o", str(out), "-q", "-j", "1", stdin=scenarios)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "# scenarios from standard input;" in text
    assert {line.split(",")[0] for line in text.splitlines()[3:]} == {"a", "b"}


def test_check_reads_a_plan_from_standard_input(cli_app: Any, table: EquivalenceTable) -> None:
    """`taper check -` looked for a file named '-'."""
    from taper import plan_taper

    plan = plan_taper("clonazepam", 1, start="2027-01-04", table=table)
    result = _invoke(cli_app, "check", "-", "--drug", "clonazepam", stdin=plan.to_csv())
    assert result.exit_code in {0, 1}, result.stderr  # 1: the check found something to say
    assert "2027-01-04 to 2027-09-13, 9 steps" in result.stdout


def test_empty_standard_input_is_refused_in_one_line(cli_app: Any, tmp_path: Path) -> None:
    result = _invoke(cli_app, "batch", "-", "-o", str(tmp_path / "d.csv"), stdin="")
    assert result.exit_code == 1
    assert result.stderr == "taper: error: -: is empty\n"


# ------------------------------------------------------------------ a comma list of drugs


def test_a_comma_list_of_drugs_in_sweep_is_one_usage_error(cli_app: Any, tmp_path: Path) -> None:
    """`taper sweep clonazepam,lorazepam 1mg` failed every scenario separately."""
    out = tmp_path / "sweep.csv"
    result = _invoke(cli_app, "sweep", "clonazepam,lorazepam", "1mg,2mg", "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("taper: error: sweep one drug at a time")
    assert "taper batch" in result.stderr
    assert not out.exists()


# ------------------------------------------------------------------ progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_total_rate_time_left_and_a_closing_line() -> None:
    """A 10,080-scenario sweep showed a spinner and a count: no total, rate or time left."""
    from taper.render import progress

    screen = _Terminal()
    with progress(True, 3, stream=screen) as advance:
        assert advance is not None
        for _ in range(3):
            advance()
    shown = screen.getvalue()
    assert "3/3" in shown
    assert "/s" in shown
    assert "left" in shown
    assert shown.rstrip().splitlines()[-1].endswith(" a second)") or "scenarios in" in shown
    assert "taper: planned 3 scenarios in " in shown


def test_progress_without_a_total_shows_the_count_and_rate() -> None:
    from taper.render import progress

    screen = _Terminal()
    with progress(True, None, stream=screen) as advance:
        assert advance is not None
        advance()
    assert "1 scenarios" in screen.getvalue()
    assert "taper: planned 1 scenarios in " in screen.getvalue()


def test_nothing_on_a_pipe(cli_app: Any, tmp_path: Path) -> None:
    result = _invoke(cli_app, "sweep", "clonazepam", "1mg,2mg", "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 0
    assert result.stderr == ""


def test_a_sweep_knows_its_total_before_planning() -> None:
    from taper.batch import sweep_scenarios

    grid = sweep_scenarios("clonazepam", "0.5mg,1mg,2mg", {"rate": "5%,10%"}, {})
    assert len(grid) == 6 == len(list(grid))


# ------------------------------------------------------------------ completion


def _complete(cli_app: Any, line: str) -> list[str]:
    words = line.split(" ")
    result = CliRunner().invoke(
        cli_app,
        [],
        prog_name="taper",
        env={
            "_TAPER_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
            "TAPER_TABLE": None,  # type: ignore[dict-item]
        },
    )
    return result.stdout.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("taper drugs Xa", ["Xanax"]),
        ("taper drugs Klon", ["Klonopin"]),
        ("taper schedule clo", ["clobazam", "clonazepam", "clorazepate"]),
        ("taper convert lorazepam 1mg --to dia", ["diazepam"]),
        ("taper schedule clonazepam 1mg --switch-to chlor", ["chlordiazepoxide"]),
        ("taper schedule clonazepam 1mg --method o", ["occupancy"]),
        ("taper schedule clonazepam 1mg --region u", ["us", "uk"]),
        ("taper schedule clonazepam 1mg --source nhs", ["nhs-scotland-2024"]),
        ("taper sweep clonazepam 1mg --source ashton,va", ["ashton,va-dod-2021"]),
        ("taper sweep clonazepam 1mg --method percent,b", ["percent,bands"]),
        ("taper sweep Lib", ["Librium"]),
        ("taper check plan.csv --drug alp", ["alprazolam"]),
    ],
)
def test_the_shell_completes_drugs_brands_sources_regions_and_methods(
    cli_app: Any, line: str, expected: list[str]
) -> None:
    """Completion offered no drug names, regions or sources."""
    assert _complete(cli_app, line) == expected


def test_completion_functions_live_in_the_library_with_help() -> None:
    from taper.completion import complete_drugs, complete_methods, complete_sources

    assert ("Klonopin", "clonazepam") in complete_drugs("KLON")
    assert complete_drugs("nothing") == []
    assert complete_sources("ash")[0][0] == "ashton"
    assert [value for value, _ in complete_methods("")] == [
        "percent", "linear", "bands", "steps", "occupancy"
    ]  # fmt: skip


def test_a_table_that_cannot_be_read_completes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from taper.completion import complete_drugs

    monkeypatch.setenv("TAPER_TABLE", "/nonexistent/table.toml")
    assert complete_drugs("clo") == []


# ------------------------------------------------------------------ tables that keep words whole


def _drug_words(table: EquivalenceTable) -> set[str]:
    words = set()
    for drug in table.drugs.values():
        words |= {drug.tall_man or drug.name, *drug.aliases, drug.drug_class}
        for note in drug.notes:
            words |= set(note.split())
        if drug.max_daily:
            words |= set(drug.max_daily.note.split())
    words |= {f"{source}:" for source in table.sources}
    return {word for word in words if word}


def _source_words(table: EquivalenceTable) -> set[str]:
    words = set()
    for source in table.sources.values():
        words |= {source.id, *(source.url.split())}
        for part in (source.title, source.author, source.note or ""):
            words |= set(part.split())
    return words


@pytest.mark.parametrize("columns", [80, 60])
@pytest.mark.parametrize("command", ["drugs", "sources"])
def test_drugs_and_sources_keep_words_whole(
    cli_app: Any, table: EquivalenceTable, command: str, columns: int
) -> None:
    """At 80 columns `taper drugs` printed "clonazePA/M" and "benzodiazepin/e"."""
    result = _invoke(cli_app, command, columns=columns)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    words = _drug_words(table) if command == "drugs" else _source_words(table)
    broken = sorted(word for word in words if not any(word in line for line in lines))
    assert broken == []
    urls = [source.url for source in table.sources.values() if source.url]
    if command == "sources":
        assert all(any(url in line for line in lines) for url in urls)  # copyable, whole
    wide = [line for line in lines if len(line) > columns]
    assert all("https://" in line for line in wide)  # only an address runs past the edge
    assert "clonazePAM" in result.stdout or command == "sources"
