"""Researchers: batch scenario files, sweeps, the Python API."""

from __future__ import annotations

import csv
import io
import itertools
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from taper.batch import loads_jsonl, read_scenarios, sweep_scenarios
from taper.errors import ScenarioFileError
from taper.files import csv_records

SCENARIOS = """\
# a comment line
id,drug,dose,times,rate,every,source,switch_to,start
a,clonazepam,1mg,,10%,2w,,,2027-01-04
b,clonazepam,2mg,2,5%,4w,va-dod-2021,diazepam,2027-01-04
c,aspirin,1mg,,,,,,2027-01-04
d,lorazepam;alprazolam,1mg;0.5mg,,,,,clonazepam,2027-01-04
e,clonazepam,1/2mg,,,,,,2027-01-04
f,diazepam,20mg,2,,,,,2027-01-04
"""


def _data_rows(text: str) -> list[list[str]]:
    return list(csv.reader(line for line in io.StringIO(text) if not line.startswith("#")))


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "scenarios.csv"
    path.write_text(SCENARIOS, encoding="utf-8")
    return path


def test_batch_equals_schedule_for_each_scenario(
    run: Any, scenario_file: Path, tmp_path: Path
) -> None:
    result = run(
        "batch",
        str(scenario_file),
        "-o",
        str(tmp_path / "days.csv"),
        "--summary",
        str(tmp_path / "summary.csv"),
        "--jobs",
        "1",
    )
    assert result.exit_status == 1  # two scenarios are bad
    days = _data_rows((tmp_path / "days.csv").read_text(encoding="utf-8"))
    assert days[0][:3] == ["scenario", "day", "date"]
    expected = {
        "a": ["clonazepam", "1mg", "--rate", "10%", "--every", "2w"],
        "b": [
            "clonazepam",
            "2mg",
            "--times",
            "2",
            "--rate",
            "5%",
            "--every",
            "4w",
            "--source",
            "va-dod-2021",
            "--switch-to",
            "diazepam",
        ],
        "d": ["lorazepam", "1mg", "alprazolam", "0.5mg", "--switch-to", "clonazepam"],
        "f": ["diazepam", "20mg", "--times", "2"],
    }
    for scenario, args in expected.items():
        alone = run("schedule", *args, "--start", "2027-01-04", "-f", "csv").stdout
        assert [row[1:] for row in days if row[0] == scenario] == _data_rows(alone)[1:]
    summary = {
        row[0]: row for row in _data_rows((tmp_path / "summary.csv").read_text(encoding="utf-8"))
    }
    assert summary["c"][1:3] == [
        "error",
        "line 5: unknown drug 'aspirin'; run 'taper drugs' to list them",
    ]
    assert summary["e"][1] == "error"
    assert "invalid dose '1/2mg'" in summary["e"][2]
    assert summary["a"][1] == "ok"
    assert summary["a"][3] == "clonazepam"
    assert [row[0] for row in list(summary.values())[1:]] == ["a", "b", "c", "d", "e", "f"]


def test_order_and_bytes_do_not_depend_on_the_number_of_jobs(
    run: Any, scenario_file: Path, tmp_path: Path
) -> None:
    outputs = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"days-{jobs}.jsonl"
        run("batch", str(scenario_file), "-o", str(out), "-f", "jsonl", "--jobs", jobs)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    records = loads_jsonl(outputs[0].decode())
    assert [r["scenario"] for r in records] == ["a", "b", "c", "d", "e", "f"]
    assert records[0]["meta"]["parameters"]["rate_percent"] == 10
    assert records[0]["table"]["sha256"]
    assert "error" in records[2]


def test_toml_scenarios(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[[scenario]]\nid = "x"\ndrug = "clonazepam"\ndose = "1mg"\nholds = ["at:0.5mg:2w"]\n'
        'start = "2027-01-04"\ncautious = true\n'
        '[[scenario]]\nid = "y"\ndrug = "clonazepam"\ndose = "1mg"\ncolour = "red"\n',
        encoding="utf-8",
    )
    scenarios = list(read_scenarios(path))
    assert scenarios[0].options["holds"] == "at:0.5mg:2w"
    assert scenarios[0].options["cautious"] == "true"
    assert scenarios[1].error == "unknown key(s) colour"
    result = run("batch", str(path), "-o", str(tmp_path / "o.jsonl"), "-f", "jsonl")
    assert result.exit_status == 1
    records = loads_jsonl((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert records[0]["meta"]["parameters"]["cautious"] is True
    assert records[1]["error"] == "unknown key(s) colour"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"# only a comment\n", "has no header line"),
        (b"id,drug,dose\n", "has a header but no scenarios"),
        (b"id,drug\nx,clonazepam\n", "needs a 'dose' column"),
        (b"id,drug,dose,colour\nx,clonazepam,1mg,red\n", "unknown column(s) colour"),
        ("id,drug,dose\nx,clonazepam,1mg caf\u00e9\n".encode("latin-1"), "not UTF-8"),
        (b"id,drug,dose\n\x00\x01", "binary"),
        (b"[[scenario]\n", "TOML syntax error"),
    ],
)
def test_bad_scenario_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / ("s.toml" if message == "TOML syntax error" else "s.csv")
    path.write_bytes(content)
    with pytest.raises(ScenarioFileError) as caught:
        list(read_scenarios(path))
    assert message in str(caught.value)


def test_a_bad_file_writes_nothing(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"")
    result = run("batch", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_status == 1
    assert "is empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_a_row_with_missing_cells_is_an_error_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,drug,dose\nx,clonazepam\ny,clonazepam,1mg\n", encoding="utf-8")
    rows = list(read_scenarios(path))
    assert rows[0].error == "the row has a different number of cells"
    assert rows[1].error is None


def test_the_sweep_grid_is_exactly_the_cartesian_product(run: Any, tmp_path: Path) -> None:
    grid = {"rate": "5%,10%,25%", "every": "2w,4w", "source": "ashton,va-dod-2021"}
    scenarios = list(sweep_scenarios("clonazepam", "0.5mg,1mg,2mg", grid, {"start": "2027-01-04"}))
    combos = {
        (s.options["dose"], s.options["rate"], s.options["every"], s.options["source"])
        for s in scenarios
    }
    expected = set(
        itertools.product(
            ["0.5mg", "1mg", "2mg"], ["5%", "10%", "25%"], ["2w", "4w"], ["ashton", "va-dod-2021"]
        )
    )
    assert combos == expected
    assert len(scenarios) == len(expected) == 36
    out = tmp_path / "sweep.csv"
    result = run(
        "sweep",
        "clonazepam",
        "0.5mg,1mg,2mg",
        "--rate",
        "5%,10%,25%",
        "--every",
        "2w,4w",
        "--source",
        "ashton,va-dod-2021",
        "-o",
        str(out),
        "--summary",
        str(tmp_path / "s.csv"),
    )
    assert result.exit_status == 0, result.stderr
    summary = _data_rows((tmp_path / "s.csv").read_text(encoding="utf-8"))
    assert len(summary) == 37
    assert {row[1] for row in summary[1:]} == {"ok"}


def test_sweep_refuses_empty_values(run: Any, tmp_path: Path) -> None:
    result = run("sweep", "clonazepam", "1mg,,2mg", "-o", str(tmp_path / "x.csv"))
    assert result.exit_status == 2
    assert "empty value" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_the_python_api(tmp_path: Path) -> None:
    from taper import convert_dose, load_table, plan_taper

    table = load_table()
    plan = plan_taper(
        "clonazepam",
        "1mg",
        rate="10%",
        every="2w",
        switch_to="diazepam",
        start="2027-01-04",
        table=table,
    )
    text = plan.to_csv(tmp_path / "plan.csv")
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8") == text
    summary = plan.summary
    assert summary["drug"] == "diazepam"
    assert summary["switched_from"] == "clonazepam"
    assert plan.to_dict()["meta"]["parameters"]["switch_to"] == "diazepam"
    assert convert_dose([("clonazepam", "1mg")], "diazepam", table=table).chosen.text() == "20 mg"
    pandas = pytest.importorskip("pandas")
    frame = plan.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns)[:3] == ["day", "date", "step"]


def test_jobs_must_be_positive(run: Any, scenario_file: Path, tmp_path: Path) -> None:
    result = run("batch", str(scenario_file), "-o", str(tmp_path / "x.csv"), "--jobs", "0")
    assert result.exit_status == 2
    assert "--jobs 0 must be at least 1" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_row_the_csv_module_cannot_read_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('id,drug,dose\nx,clonazepam,"' + "1" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(ScenarioFileError) as caught:
        list(read_scenarios(path))
    assert "s.csv, line" in str(caught.value)
    assert "field larger than field limit" in str(caught.value)


def test_summary_has_a_numeric_column_per_parameter_and_a_count_per_warning_kind(
    run: Any, tmp_path: Path
) -> None:
    from taper.csvout import SUMMARY_COLUMNS
    from taper.notices import Kind

    summary, dispensing = tmp_path / "s.csv", tmp_path / "disp.csv"
    result = run(
        "sweep", "clonazepam", "0.5mg,2mg", "--rate", "5%,25%", "--every", "2w,4w",
        "-o", str(tmp_path / "d.csv"), "--summary", str(summary),
        "--dispensing", str(dispensing), "-q", "-j", "1",
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    assert len(set(SUMMARY_COLUMNS)) == len(SUMMARY_COLUMNS)
    rows = list(csv.DictReader(line for line in summary.open() if not line.startswith("#")))
    assert len(rows) == 8
    for kind in Kind:  # every kind, present or not, so that columns never move
        assert f"warnings_{kind.value.replace('-', '_')}" in rows[0]
    fast = next(row for row in rows if row["rate_percent"] == "25" and row["dose_mg"] == "2")
    assert fast["interval_days"] in {"14", "28"}
    assert int(fast["warnings_start_pace"]) == 1
    assert sum(int(fast[c]) for c in rows[0] if c.startswith("warnings_")) == int(fast["warnings"])
    assert int(fast["dispensed_tablets"]) > 0
    assert fast["dispensed_ml"] == "0"
    assert {row["dose_mg"] for row in rows} == {"0.5", "2"}
    assert {row["rate_percent"] for row in rows} == {"5", "25"}
    tidy = list(csv.DictReader(line for line in dispensing.open() if not line.startswith("#")))
    assert list(tidy[0]) == ["scenario", "drug", "product", "quantity", "unit"]
    first = [row for row in tidy if row["scenario"] == rows[0]["scenario"]]
    tablets = sum(int(row["quantity"]) for row in first if row["unit"] == "tablets")
    assert tablets == int(rows[0]["dispensed_tablets"])


def test_dispensing_file_reads_back_with_numeric_quantities(run: Any, tmp_path: Path) -> None:
    import taper

    path = tmp_path / "disp.csv"
    result = run(
        "sweep", "diazepam", "10mg", "--region", "us", "--final", "0.5mg", "-q", "-j", "1",
        "-o", str(tmp_path / "d.csv"), "--dispensing", str(path),
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    frame = taper.read_plans(path)
    assert str(frame["quantity"].dtype) == "float64"
    assert set(frame["unit"]) <= {"tablets", "capsules", "mL"}


# ------------------------------------------------------------------ streaming (issue 28)


def _scenario_rows(count: int) -> str:
    return "id,drug,dose,rate\n" + "".join(
        f"s{n},clonazepam,1mg,{n % 40 + 5}%\n" for n in range(count)
    )


def _peak_while_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        for _ in read_scenarios(path):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


#: What reading keeps of each scenario: the hash of its id, to refuse a second scenario
#: with the same id (``batch._each_id_once``); everything else is flat in their number.
PER_ID_BYTES = 100


def test_batch_file_is_not_held_in_memory_whole(tmp_path: Path) -> None:
    """The whole scenario file was read into memory (about 5x its size): 65 MB at 100k. What
    grows with the number of scenarios is the hash of each id (under 100 bytes an id)."""
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_text(_scenario_rows(20_000), encoding="utf-8")
    large.write_text(_scenario_rows(100_000), encoding="utf-8")
    assert large.stat().st_size > 2_500_000
    small_peak, large_peak = _peak_while_reading(small), _peak_while_reading(large)
    ids = 100_000 * PER_ID_BYTES
    assert large_peak - ids < large.stat().st_size / 4
    assert large_peak - 80_000 * PER_ID_BYTES < 1.1 * small_peak  # the rest is flat


def test_a_streamed_file_is_refused_whole_before_its_first_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(_scenario_rows(20_000).encode() + b"x,clonazepam,1mg caf\xe9,5%\n")
    scenarios = read_scenarios(path)
    with pytest.raises(ScenarioFileError, match="is not UTF-8 text"):
        next(scenarios)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_streamed_rows_keep_their_line_numbers_across_reads(tmp_path: Path, newline: str) -> None:
    """Rows with comments, quoted cells over several lines and a BOM, long enough to span
    many reads of the file: the same scenarios and line numbers as reading it whole."""
    rows = ["\ufeffid,drug,dose,holds"]
    for n in range(6_000):
        if n % 7 == 0:
            rows.append(f"# comment {n}")
        note = f'"two{newline}lines"' if n % 5 == 0 else "caf\u00e9 \u20ac"
        rows.append(f"s{n},clonazepam,{n % 9 + 1}mg,{note}")
    text = newline.join(rows) + newline
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode("utf-8"))
    header, _, records = csv_records(
        text.removeprefix("\ufeff"), lambda line, why: AssertionError(why)
    )
    expected = [(line, record["id"]) for line, record in records]
    got = [(scenario.line, scenario.id) for scenario in read_scenarios(path)]
    assert header == ["id", "drug", "dose", "holds"]
    assert got == expected
    assert got[-1][0] > 6_000


@pytest.mark.parametrize("change", ["grown", "shrunk"])
def test_a_scenario_file_changed_while_read_is_refused_not_read_in_part(
    tmp_path: Path, change: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(_scenario_rows(20_000), encoding="utf-8")  # many reads long
    scenarios = read_scenarios(path)
    next(scenarios)
    if change == "grown":
        with path.open("a", encoding="utf-8") as stream:
            stream.write("late,clonazepam,1mg,10%\n")
    else:
        with path.open("r+", encoding="utf-8") as stream:
            stream.truncate(100_000)
    with pytest.raises(ScenarioFileError, match="changed while it was being read"):
        for _ in scenarios:
            pass


@pytest.mark.parametrize(
    ("name", "text", "line", "first"),
    [
        (
            "s.csv",
            "id,drug,dose\ndup,clonazepam,1mg\nother,clonazepam,2mg\ndup,clonazepam,2mg\n",
            4,
            2,
        ),
        ("s.csv", "id,drug,dose\n,clonazepam,1mg\nrow-1,clonazepam,2mg\n", 3, 2),
        (
            "s.toml",
            '[[scenario]]\nid = "dup"\ndrug = "clonazepam"\ndose = "1mg"\n\n'
            '[[scenario]]\nid = "dup"\ndrug = "clonazepam"\ndose = "2mg"\n',
            None,
            None,
        ),
    ],
    ids=["csv", "csv-given-equals-a-made-id", "toml"],
)
def test_two_scenarios_with_one_id_are_refused(
    run: Any, tmp_path: Path, name: str, text: str, line: int | None, first: int | None
) -> None:
    """A fresh user's review: two rows with the id 'dup' were both planned, their rows and
    summaries written under one id, so a researcher's join merged two scenarios silently.
    The file is refused in one line naming the id (and, in a CSV, both lines)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("batch", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_status == 1, result.stderr  # as any scenario file that cannot be read
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "is also the id of" in result.stderr
    if line is not None:
        assert f"line {line}" in result.stderr
        assert f"line {first}" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_two_scenarios_with_one_id_on_standard_input_are_refused(tmp_path: Path) -> None:
    """Standard input cannot be read again to confirm a repeated id: its ids are kept whole
    (a first version re-read it and said '-: is empty')."""
    import subprocess
    import sys

    text = "id,drug,dose\ndup,clonazepam,1mg\nother,clonazepam,2mg\ndup,clonazepam,2mg\n"
    done = subprocess.run(
        [sys.executable, "-m", "taper", "batch", "-", "-o", str(tmp_path / "out.csv")],
        input=text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "taper: error: -, line 4: id 'dup' is also the id of line 2: each scenario needs its "
        "own id\n"
    )
    assert not (tmp_path / "out.csv").exists()
    unique = text.replace("dup,clonazepam,2mg", "third,clonazepam,2mg")
    done = subprocess.run(
        [sys.executable, "-m", "taper", "batch", "-", "-o", str(tmp_path / "out.csv")],
        input=unique, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
