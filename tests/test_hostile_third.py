"""A hostile world, third pass (#23): outputs that are links or devices, formulas through the
``#`` lines, control characters from tables, handout text, bounded costs, one-line errors,
batch workers that outlive their parent.

Each test is named after the bug it pins.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEDULE_CSV = ["schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv"]


def _taper(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taper", *args],
        text=True,
        timeout=timeout,
        check=False,
        **{"capture_output": True, **kwargs},
    )


# ----------------------------------------------------------------- outputs: links, devices


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_a_link_to_a_file_is_never_written_through(
    run: Any, tmp_path: Path, force: tuple[str, ...]
) -> None:
    """A fresh user's review: '-o lnk.csv --force', lnk.csv a symbolic link to /etc/passwd,
    replaced /etc/passwd (run as root): a link planted in a shared folder turns --force into
    a write to any file the user may write. A link that leads to a regular file is refused,
    with or without --force, naming where it leads; the file and the link are left as they
    were (naming the file itself writes it)."""
    real = tmp_path / "elsewhere" / "real.csv"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = run(*SCHEDULE_CSV, "-o", str(link), *force)
    assert result.exit_status == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "symbolic link" in result.stderr
    assert str(real) in result.stderr
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "link.csv"]
    assert run(*SCHEDULE_CSV, "-o", str(real), "--force").exit_status == 0
    assert real.read_text(encoding="utf-8").startswith("# taper")


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_dev_null_is_an_output_written_through(run: Any, force: tuple[str, ...]) -> None:
    result = run(*SCHEDULE_CSV, "-o", "/dev/null", *force)
    assert result.exit_status == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("force", [(), ("--force",)])
@pytest.mark.parametrize("where", ["file", "appended file", "pipe"])
def test_dev_stdout_force_with_stdout_redirected_keeps_the_link(
    tmp_path: Path, where: str, force: tuple[str, ...]
) -> None:
    """As root, '-o /dev/stdout --force' with stdout redirected replaced the system's
    /dev/stdout link with a regular file. A link made here stands in for /dev/stdout; the
    output goes to what the shell opened (appended to where it appends), never replaced."""
    stand_in = tmp_path / "stdout"
    stand_in.symlink_to("/proc/self/fd/1")
    out = tmp_path / "redirected.csv"
    out.write_text("before\n", encoding="utf-8")
    inode = out.stat().st_ino
    if where == "pipe":
        result = _taper(*SCHEDULE_CSV, "-o", str(stand_in), *force)
        written = result.stdout
    else:
        with out.open("a" if where == "appended file" else "w") as stream:
            result = _taper(*SCHEDULE_CSV, "-o", str(stand_in), *force,
                            capture_output=False, stdout=stream, stderr=subprocess.PIPE)  # fmt: skip
        written = out.read_text(encoding="utf-8")
        assert out.stat().st_ino == inode  # the shell's file, not a new one
    assert result.returncode == 0, result.stderr
    assert stand_in.is_symlink()
    assert os.readlink(stand_in) == "/proc/self/fd/1"
    expected = "before\n# taper" if where == "appended file" else "# taper"
    assert written.startswith(expected)
    assert ",clonazepam," in written


def test_a_named_pipe_nothing_reads_is_refused_without_a_hang(run: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = run(*SCHEDULE_CSV, "-o", str(fifo))
    assert result.exit_status == 1
    assert "a pipe that nothing reads" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_named_pipe_with_a_reader_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    try:
        result = _taper(*SCHEDULE_CSV, "-o", str(fifo))
        received, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    assert result.returncode == 0, result.stderr
    assert received.startswith("# taper")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_no_temporary_file_is_made_beside_a_device(run: Any, tmp_path: Path) -> None:
    """Staging beside /dev/null would create files in /dev as root."""
    import tempfile  # taper.files imports it to stage an output

    seen: list[str] = []
    real = tempfile.mkstemp

    def spy(*args: Any, **kwargs: Any) -> tuple[int, str]:
        handle, name = real(*args, **kwargs)
        seen.append(name)
        return handle, name

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", spy)
        assert run(*SCHEDULE_CSV, "-o", "/dev/null").exit_status == 0
    assert seen
    assert not any(name.startswith("/dev/") for name in seen)


# ----------------------------------------------------------------- messages name the file


def _limited(size: int) -> Any:
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_the_file_size_limit_error_names_the_file_that_outgrew_it(tmp_path: Path) -> None:
    """The error blamed the summary file when the day-level output outgrew RLIMIT_FSIZE."""
    out, summary = tmp_path / "days.csv", tmp_path / "summary.csv"
    result = _taper("sweep", "diazepam", "10mg,20mg,30mg", "-o", str(out), "--summary",
                    str(summary), "-j", "1", "--quiet", preexec_fn=_limited(30_000))  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"taper: error: cannot write {out}: File too large")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_file_size_limit_error_names_the_summary_when_it_outgrows_it(tmp_path: Path) -> None:
    out, summary = tmp_path / "days.jsonl", tmp_path / "summary.csv"
    doses = ",".join(f"{dose}mg" for dose in range(2, 40))
    result = _taper("sweep", "diazepam", doses, "-o", "-", "-f", "jsonl", "--summary",
                    str(summary), "-j", "1", "--quiet", preexec_fn=_limited(4_000),
                    capture_output=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"taper: error: cannot write {summary}: File too large")
    assert not out.exists()


# ----------------------------------------------------------------- formulas through '#' lines

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_cells(text: str) -> list[str]:
    """Every cell of every line (``#`` lines included) that a spreadsheet splitting on commas
    or semicolons would read as a formula."""
    import csv

    found = []
    for delimiter in ",;":
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            found += [cell for cell in row if cell.lstrip(" ").startswith(FORMULA_STARTS)]
    return found


@pytest.mark.parametrize(
    "name", ["t,=1+2,.toml", "t;@SUM(1);.toml", 't, "=1+2",.toml', "t,-2+3,.toml", "t,+A1,.toml"]
)
def test_a_table_name_puts_no_formula_in_the_provenance_lines(
    run: Any, tmp_path: Path, name: str
) -> None:
    from taper.table import bundled_table_path

    table = tmp_path / name
    table.write_bytes(bundled_table_path().read_bytes())
    out = tmp_path / "out.csv"
    result = run(*SCHEDULE_CSV, "--table", str(table), "-o", str(out))
    assert result.exit_status == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# taper")
    assert _formula_cells(text) == []


def test_a_scenario_file_name_puts_no_formula_in_any_batch_file(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s,=1+2,.csv"
    scenarios.write_text("id,drug,dose\na,clonazepam,1mg\n", encoding="utf-8")
    files = [tmp_path / name for name in ("days.csv", "summary.csv", "dispensing.csv")]
    result = run("batch", str(scenarios), "-o", str(files[0]), "--summary", str(files[1]),
                 "--dispensing", str(files[2]), "-j", "1")  # fmt: skip
    assert result.exit_status == 0, result.stderr
    for path in files:
        assert _formula_cells(path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.parametrize("doses", ["1mg,=1+2", "1mg;@SUM(1)", "1mg, -2+3", '1mg,"=1+2"'])
def test_sweep_values_put_no_formula_in_any_file(run: Any, tmp_path: Path, doses: str) -> None:
    files = [tmp_path / name for name in ("days.csv", "summary.csv", "dispensing.csv")]
    run("sweep", "clonazepam", doses, "-o", str(files[0]), "--summary", str(files[1]),
        "--dispensing", str(files[2]), "-j", "1", "--quiet")  # fmt: skip
    assert files[1].exists()
    for path in files:
        assert _formula_cells(path.read_text(encoding="utf-8")) == [], path.name


def test_escaped_provenance_parameters_read_back_as_given(tmp_path: Path) -> None:
    """The JSON escape keeps the parameters' text exact for read_plans."""
    pytest.importorskip("pandas")
    from taper import plan_taper
    from taper.csvout import CSV_COLUMNS, csv_line, plan_csv_text, provenance_lines
    from taper.frames import read_plans
    from taper.table import load_table

    plan = plan_taper(drug="clonazepam", dose="1mg", start="2027-01-04")
    detail = 'source ashton; parameters {"note":"1mg,=1+2;@x, -3","n":[1,2]}'
    text = provenance_lines(load_table(), detail) + csv_line(CSV_COLUMNS) + plan_csv_text(plan)
    assert _formula_cells(text) == []
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    assert read_plans(path).attrs["parameters"] == {"note": "1mg,=1+2;@x, -3", "n": [1, 2]}


# ----------------------------------------------------------------- control characters from tables

#: C0, C1 (CSI), bidi override and isolate, BEL; then a character the handout's font lacks.
EVIL = r"EVIL\u001b[31mred\u009b31m \u202eoverride\u2066 {nb} \u0007bell \u4e2d"
RAW_CONTROLS = ("\x1b", "\x9b", "\u202e", "\u2066", "\x07")


@pytest.fixture
def evil_table(tmp_path: Path) -> Path:
    """The bundled table with control characters in a source's title and a drug's note."""
    from taper.table import bundled_table_path

    text = bundled_table_path().read_text(encoding="utf-8")
    text = text.replace('title = "Benzodiazepines: How', f'title = "{EVIL} Benzodiazepines: How')
    head = text.index("[drugs.clonazepam]")
    end = text.index("\n", head)
    text = f'{text[: end + 1]}notes = ["{EVIL} note"]\n{text[end + 1 :]}'
    path = tmp_path / "evil.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _no_raw_controls(text: str) -> None:
    assert not [char for char in RAW_CONTROLS if char in text], repr(text[:300])


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "clonazepam", "1mg", "--to", "diazepam"],
        ["convert", "clonazepam", "1mg", "--to", "diazepam", "--format", "json"],
        ["convert", "clonazepam", "1mg", "--to", "diazepam", "--all-sources", "--format", "json"],
        ["schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "json"],
        ["schedule", "clonazepam", "1mg", "--start", "2027-01-04"],
        ["sources", "--format", "json"],
        ["drugs", "--format", "json"],
    ],
)
def test_control_characters_of_a_table_never_reach_the_terminal(
    evil_table: Path, args: list[str]
) -> None:
    result = _taper(*args, "--table", str(evil_table), "--source", "ashton")
    if args[0] in {"sources", "drugs"}:
        result = _taper(*args, "--table", str(evil_table))
    assert result.returncode == 0, result.stderr
    assert args[0] == "schedule" or "EVIL" in result.stdout + result.stderr
    _no_raw_controls(result.stdout)
    _no_raw_controls(result.stderr)


def test_control_characters_of_a_table_never_reach_the_warnings_of_a_csv(
    evil_table: Path, tmp_path: Path
) -> None:
    result = _taper("convert", "clonazepam", "1mg", "--to", "diazepam", "--table",
                    str(evil_table), "--source", "ashton", "--format", "json")  # fmt: skip
    assert "EVIL" in result.stdout
    from taper.notices import Kind, Notice, warning_lines

    _no_raw_controls(warning_lines([Notice(Kind.DRUG_NOTE, "a \x1b[31m \x9b \u202e b")]))
    out = tmp_path / "plan.csv"
    result = _taper("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv",
                    "-o", str(out), "--table", str(evil_table), "--source", "ashton")  # fmt: skip
    assert result.returncode == 0, result.stderr
    _no_raw_controls(result.stderr)


def test_control_characters_of_a_table_never_reach_the_handout_or_its_warnings(
    evil_table: Path, tmp_path: Path
) -> None:
    pytest.importorskip("fpdf")
    from pypdf import PdfReader

    handout = tmp_path / "h.pdf"
    result = _taper("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "--handout",
                    str(handout), "--table", str(evil_table), "--source", "ashton",
                    "-o", str(tmp_path / "p.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    _no_raw_controls(result.stderr)
    assert "missing" not in result.stderr.lower()
    text = " ".join(page.extract_text() or "" for page in PdfReader(handout).pages)
    assert "EVIL" in text
    _no_raw_controls(text)
    assert "\\x1b" in text
    assert "{nb}" in text  # the table's '{nb}' stays as written


# ----------------------------------------------------------------- handout text kept as written


@pytest.mark.parametrize(
    ("patient", "note"),
    [("{nb}", "Take {nb} tablets"), ("J. {nb} Smith", "{nb}"), ("{nb}{nb}", "page {nb} of {nb}")],
)
def test_nb_in_a_patient_name_or_note_is_not_the_page_count(patient: str, note: str) -> None:
    """fpdf2 replaced '{nb}' in any text by the number of pages."""
    pytest.importorskip("fpdf")
    import io as _io

    from pypdf import PdfReader

    from taper import plan_taper
    from taper.handout import plan_handout

    plan = plan_taper(drug="clonazepam", dose="1mg", start="2027-01-04")
    pages = PdfReader(_io.BytesIO(plan_handout(plan, patient=patient, note=note))).pages
    text = " ".join(page.extract_text() or "" for page in pages)
    assert patient in text
    assert note in text
    assert f"Page 1 of {len(pages)}" in text


# ----------------------------------------------------------------- one line, never an internal error


def _table_with(tmp_path: Path, value: str, name: str = "t.toml") -> Path:
    """The bundled table with clonazepam's Ashton value written as ``value``."""
    from taper.table import bundled_table_path

    text = bundled_table_path().read_text(encoding="utf-8")
    head = text.index("\n[drugs.clonazepam.equivalents]\n") + 1
    line = text.index("ashton = ", head)
    end = text.index("\n", line)
    path = tmp_path / name
    path.write_text(f"{text[:line]}ashton = {value}{text[end:]}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" + "0" * 5000, "an integer has more than 4,300 digits"),
        ("0.5" + "0" * 1_000_000 + "1", "has more than 15 significant digits"),
        ("0.5" + "0" * 20 + "1", "has more than 15 significant digits"),
        ("[0.25, 0." + "3" * 5000 + "]", "has more than 15 significant digits"),
        ("1e400", "must be from 0.000001 to 1,000,000"),
    ],
    ids=["5000-digit-int", "million-digits", "22-digits", "long-range-end", "1e400"],
)
def test_a_huge_number_in_a_table_is_one_line_and_quick(
    tmp_path: Path, value: str, message: str
) -> None:
    """A million digits hung 'convert'; 5,000 digits exited 70 (Python's int-str limit)."""
    table = _table_with(tmp_path, value)
    result = _taper("convert", "clonazepam", "1mg", "--to", "diazepam", "--table", str(table),
                    timeout=30)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert len(result.stderr) < 400


def test_a_5000_digit_integer_in_a_toml_scenario_file_is_one_line(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(
        f'[[scenario]]\ndrug = "clonazepam"\ndose = "1mg"\nage = {"9" * 5000}\n', encoding="utf-8"
    )
    result = run("batch", str(scenarios), "-o", str(tmp_path / "o.csv"))
    assert result.exit_status == 1
    assert "an integer has more than 4,300 digits" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("column", ["age", "times", "days_per_week"])
def test_a_5000_digit_integer_in_a_csv_cell_is_the_scenario_s_error(
    run: Any, tmp_path: Path, column: str
) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text(f"drug,dose,{column}\nclonazepam,1mg,{'9' * 5000}\n", encoding="utf-8")
    result = run("batch", str(scenarios), "-o", "-", "-f", "jsonl")
    assert result.exit_status == 1
    error = json.loads(result.stdout)["error"]
    assert "internal error" not in error
    assert "is not a plausible whole number" in error
    assert len(error) < 200


@pytest.mark.parametrize(
    "dose", [10**5000, -(10**5000), 2**20000], ids=["10e5000", "negative", "2e20000"]
)
def test_a_5000_digit_dose_in_the_api_is_a_clear_error(dose: int) -> None:
    """The error message itself failed: Python will not write a 5,000-digit int."""
    import taper

    with pytest.raises(taper.ParameterError, match="an integer of about"):
        taper.plan_taper(drug="clonazepam", dose=dose)
    with pytest.raises(taper.ParameterError, match="an integer of about"):
        taper.convert_dose("clonazepam", dose, to="diazepam")
    with pytest.raises(taper.ParameterError, match="an integer of about"):
        taper.plan_taper(drug="clonazepam", dose="1mg", rate=dose)


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"scenario":"a","days":[{"day":1e400,"date":"2027-01-04","step":1,"phase":"taper",'
        '"doses":[{"drug":"clonazepam","slot":"night","dose_mg":1}]}]}',
        '{"scenario":"a","days":[{"day":NaN}]}',
        '{"scenario":"a","days":[{"day":1,"date":"2027-01-04","step":1,"phase":"taper",'
        '"doses":[{"drug":"clonazepam","slot":"night","dose_mg":-Infinity}]}]}',
        '{"scenario":"a","days":[{"day":1,"date":"2027-01-04","step":1,"phase":"taper",'
        '"doses":[{"drug":"clonazepam","slot":"night","dose_mg":1,"dose_mg":9}]}]}',
    ],
    ids=["nested-arrays", "nested-objects", "day-1e400", "nan", "infinity", "key-twice"],
)
def test_a_hostile_json_lines_file_is_a_data_error(tmp_path: Path, line: str) -> None:
    """Deeply nested JSON raised RecursionError from read_plans; a day of 1e400 an
    OverflowError."""
    pytest.importorskip("pandas")
    from taper.errors import DataFileError
    from taper.frames import read_plans

    path = tmp_path / "plans.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_plans(path)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("columns", ["0", "1", "3"])
def test_a_plot_in_no_width_is_drawn_at_the_smallest_width(run: Any, columns: str) -> None:
    pytest.importorskip("plotext")
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "--plot",
                 env={"COLUMNS": columns})  # fmt: skip
    assert result.exit_status == 0, result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("revision", ["2147483648", "99999999999999999999999"])
def test_a_revision_beyond_the_calendar_s_range_is_refused(
    run: Any, tmp_path: Path, revision: str
) -> None:
    pytest.importorskip("icalendar")
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04",
                 "--ics", str(tmp_path / "p.ics"), "--revision", revision)  # fmt: skip
    assert result.exit_status == 2
    assert "must be from 0 to 2,147,483,647" in result.stderr
    assert list(tmp_path.iterdir()) == []
    run("schedule", "clonazepam", "1mg", "--start", "2027-01-04",
        "--ics", str(tmp_path / "p.ics"), "--revision", "2147483647")  # fmt: skip
    assert (tmp_path / "p.ics").exists()


# ----------------------------------------------------------------- small files, bounded costs
# (timeouts here only catch a hang; benchmarks/hostile_inputs.py measures the costs)


def test_a_step_row_from_year_1_to_9999_is_refused_in_one_line(run: Any, tmp_path: Path) -> None:
    """One such row took 20 s and 800 MB in 'check', expanded day by day."""
    for name, text in {
        "steps.csv": "from,to,drug,dose_mg\n0001-01-01,9999-12-31,clonazepam,1\n",
        "open.csv": "from,drug,dose_mg\n0001-01-01,clonazepam,1\n9999-12-31,clonazepam,0\n",
        "days.csv": "day,drug,dose_mg\n1,clonazepam,1\n99999,clonazepam,0\n",
        "dates.csv": "date,drug,dose_mg\n0001-01-01,clonazepam,1\n9999-12-31,clonazepam,0\n",
    }.items():
        plan = tmp_path / name
        plan.write_text(text, encoding="utf-8")
        result = run("check", str(plan))
        assert result.exit_status == 1, name
        assert "a plan checked here lasts at most 7,305 days" in result.stderr, name


def test_a_twenty_year_plan_is_still_checked(run: Any, tmp_path: Path) -> None:
    plan = tmp_path / "long.csv"
    plan.write_text("day,drug,dose_mg\n1,diazepam,10\n7305,diazepam,0\n", encoding="utf-8")
    result = run("check", str(plan))
    assert "lasts at most" not in result.stderr


def _wide(path: Path, columns: int, *, repeated: bool = False, rows: int = 1) -> Path:
    names = ["day", "drug", "dose_mg", *(f"c{i}" for i in range(columns))]
    if repeated:
        names.append("c7")
    row = ["1", "clonazepam", "1", *([""] * (len(names) - 3))]
    path.write_text("\n".join([",".join(names), *([",".join(row)] * rows)]) + "\n", "utf-8")
    return path


@pytest.mark.parametrize("repeated", [False, True])
def test_a_40000_column_header_is_read_in_linear_time(tmp_path: Path, repeated: bool) -> None:
    """The repeated-column check was quadratic: 40,000 columns took 40 s."""
    plan = _wide(tmp_path / "wide.csv", 40_000, repeated=repeated)
    result = _taper("check", str(plan), timeout=30)
    if repeated:
        assert result.returncode == 1
        assert "column(s) c7 appear more than once" in result.stderr
    else:  # every column is read or the file refused naming one (issue 21), in time
        assert result.returncode == 1
        assert "cannot place column 'c0'" in result.stderr


def test_delimiter_sniffing_is_bounded_on_a_wide_header(tmp_path: Path) -> None:
    """csv.Sniffer took a minute on this 140 kB header (its regular expressions backtrack)."""
    plan = tmp_path / "mixed.csv"
    plan.write_text('a,"b";' * 20_000 + "\n" + "x" * 1000 + "\n", encoding="utf-8")
    result = _taper("check", str(plan), timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a;b;c\n", "1;2;3\n"], ";"),
        (["a,b,c\n", "1,2,3\n"], ","),
        (["a\tb\n", "1\t2\n"], "\t"),
        (["a|b|c\n", "1|2|3\n"], "|"),
        (["day;" + ";".join(f"x{i}" for i in range(5000)) + "\n", "1;2\n"], ";"),  # wide
        (["only\n"], ","),
    ],
)
def test_the_delimiter_is_still_found(lines: list[str], expected: str) -> None:
    from taper.files import csv_records

    text = "".join(lines)
    header, _, _ = csv_records(text, lambda line, reason: ValueError(reason))  # type: ignore[arg-type, return-value]
    assert len(header) == len(lines[0].split(expected))


def test_read_plans_refuses_a_40000_column_file_in_one_line(tmp_path: Path) -> None:
    """read_plans ran past 30 s on a 340 kB, 40,000-column file."""
    pytest.importorskip("pandas")
    from taper.errors import DataFileError
    from taper.frames import MAX_COLUMNS, read_plans

    with pytest.raises(DataFileError, match="columns: not a taper output"):
        read_plans(_wide(tmp_path / "wide.csv", 40_000))
    with pytest.raises(DataFileError, match="columns: not a taper output"):
        read_plans(_wide(tmp_path / "just.csv", MAX_COLUMNS - 2))


# ----------------------------------------------------------------- batch workers and their parent


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_batch_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """After 'kill -9' of a batch its workers stayed alive, ignoring SIGTERM."""
    import signal
    import time

    doses = ",".join(f"{dose}mg" for dose in range(2, 80))
    parent = subprocess.Popen(
        [sys.executable, "-m", "taper", "sweep", "diazepam", doses, "--rate", "1%,2%,3%,4%,5%",
         "-o", str(tmp_path / "o.csv"), "-j", "2", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.05)
            workers = _children(parent.pid)
        assert len(workers) >= 2, "the batch started no workers"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        parent.kill()
        for pid in [*workers, *_children(parent.pid)]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_whose_parent_is_gone_ends_at_once() -> None:
    """The race: a parent that died before the worker asked to be told."""
    code = (
        "import os, sys\n"
        "from taper import batch\n"
        "batch._die_with(os.getppid() + 1)\n"
        "print('still here')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "still here" not in result.stdout


# ----------------------------------------------------------------- no 100 kB echo

BIG_VALUES = {"word": "x" * 100_000, "digits": "1" * 100_000, "spaced": "a b " * 25_000}


@pytest.mark.parametrize("value", list(BIG_VALUES.values()), ids=list(BIG_VALUES))
@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "clonazepam", "1mg", "--hold"],
        ["schedule", "clonazepam", "1mg", "--age"],
        ["schedule", "clonazepam", "1mg", "--crossover"],
        ["schedule", "clonazepam", "1mg", "--product"],
        ["schedule", "clonazepam", "1mg", "-o"],
        ["schedule", "clonazepam", "1mg", "--table"],
        ["schedule", "clonazepam", "1mg", "--start"],
        ["schedule", "clonazepam"],
        ["convert", "--to", "diazepam"],
        ["check"],
    ],
    ids=lambda args: args[-1],
)
def test_an_error_line_never_echoes_a_100_kb_value_whole(
    run: Any, args: list[str], value: str
) -> None:
    result = run(*args, value)
    assert result.exit_status in {1, 2}
    assert result.stderr.startswith("taper: error: ")
    assert result.stderr.count("\n") == 1
    assert len(result.stderr) < 1200
    assert "..." in result.stderr


def test_a_scenario_error_never_echoes_a_100_kb_value_whole(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text(
        f"drug,dose,hold,crossover\nclonazepam,1mg,{'a b ' * 25_000},\n"
        f"clonazepam,1mg,,{'x' * 100_000}\n",
        encoding="utf-8",
    )
    result = run("batch", str(scenarios), "-o", "-", "-f", "jsonl", "-j", "1")
    assert result.exit_status == 1
    for line in result.stdout.splitlines():
        assert len(json.loads(line)["error"]) < 1200


# ----------------------------------------------------------------- found by the campaign


@pytest.mark.parametrize("force", [False, True])
def test_an_output_ending_with_a_slash_is_never_written_as_a_file(
    tmp_path: Path, force: bool
) -> None:
    """'out/' wrote (with force, replaced) a file 'out': pathlib drops the slash. (The command
    line's options are pathlib paths already: there typer drops it before taper sees it.)"""
    from taper.errors import OutputFileError
    from taper.files import write_atomic

    existing = tmp_path / "out"
    existing.write_text("keep", encoding="utf-8")
    for name in ("out/", "new/"):
        with pytest.raises(OutputFileError, match=r"it names a folder \(it ends with /\)"):
            write_atomic(f"{tmp_path}/{name}", "plan", force=force)
    assert existing.read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("option", "text"),
    [("--patient", "J" * 61), ("--note", "word " * 401), ("--patient", "ab " * 30_000)],
)
def test_a_patient_name_or_note_too_long_for_the_handout_is_refused(
    run: Any, tmp_path: Path, option: str, text: str
) -> None:
    """A 100,000-character name ran off every page's heading."""
    pytest.importorskip("fpdf")
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "--handout",
                 str(tmp_path / "h.pdf"), option, text)  # fmt: skip
    assert result.exit_status == 2
    assert "the handout takes at most" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_longest_name_in_wide_letters_stays_within_the_heading() -> None:
    pytest.importorskip("fpdf")
    import pypdfium2

    from taper import plan_taper
    from taper.handout import MAX_PATIENT_CHARS, WIDTH_MM, plan_handout

    plan = plan_taper(drug="clonazepam", dose="1mg", start="2027-01-04")
    document = pypdfium2.PdfDocument(plan_handout(plan, patient="W" * MAX_PATIENT_CHARS))
    text = document[0].get_textpage()
    heading = text.get_text_range().split("\n")[0]
    assert heading.startswith("W" * MAX_PATIENT_CHARS)
    right = max(text.get_charbox(index)[2] for index in range(len(heading.rstrip())))
    assert right <= (15 + WIDTH_MM) / 25.4 * 72 + 1  # within the right margin, in points


@pytest.mark.parametrize(
    "parameter", ["every", "duration", "until", "start", "rate", "used_for", "supply", "stage"]
)
def test_a_library_error_never_echoes_a_5000_character_value_whole(parameter: str) -> None:
    import taper

    value = "9" * 5000
    arguments = {"drug": "clonazepam", "dose": "1mg", "start": "2027-01-04", parameter: value}
    with pytest.raises(taper.TaperError) as caught:
        taper.plan_taper(**arguments)
    assert len(str(caught.value)) < 400
    assert "..." in str(caught.value)
